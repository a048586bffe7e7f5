/*
 * NNG sockets inside a libev loop.
 *
 * All three run their callbacks on the loop thread only.
 *
 * inbox:  a PULL socket that listens.  An ev_io watches NNG_OPT_RECVFD
 *         (level-triggered, never read) and each wake-up drains at most
 *         `budget` messages with NNG_FLAG_NONBLOCK; the watcher fires
 *         again next iteration if more are queued.  The callback may
 *         take a message in parts, the loop serving other events in
 *         between (gs_inbox_cb).
 *
 * outbox: a PUSH socket dialed to one peer's inbox.  Records appended
 *         during one loop iteration leave as one NNG message, sent from
 *         the post office's ev_prepare watcher.  Each message is
 *         [header][record][record]... concatenated msgpack values; the
 *         header is the bytes given at open.  When NNG cannot take the
 *         message (no peer, send buffer full): a batch of state records
 *         only is dropped and counted; a batch holding a reliable record
 *         is kept and retried (timer back-off) while new records append
 *         to it, up to max_batch bytes.  Appending over that cap fails
 *         with GS_EAGAIN and the caller counts the drop.  Control
 *         records (joins, leaves, closes: what keeps both sides agreeing
 *         on who plays) may go half as far again, so state and events
 *         never take their place.
 *
 * rpc:    REQ with one nng_ctx + nng_aio per outstanding request.  aio
 *         callbacks run on NNG's threads and only move the result to a
 *         locked queue and ev_async_send(); the loop thread then calls
 *         the caller's callback.
 */
#ifndef GS_NNGEV_H
#define GS_NNGEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <nng/nng.h>

#include "link.h"
#include "mp.h"

/* ------------------------------------------------------------ inbox */

/*
 * One message, buf[len], from byte `from` on (0 on the first call).
 * The callback returns how far it got: len (or more) when it is done
 * with the message, which the inbox then frees.  A callback may stop
 * part way, returning an offset past `from`: the inbox holds the
 * message and reads nothing more, lets the loop poll and serve what
 * else is ready, then calls again with the same buf and `from` at that
 * offset (an idle watcher).  So a long message need not keep the loop
 * from other work.  proof is what the connection it came over says of
 * its sender (link.h): whether to believe what the message says of
 * itself is the caller's to decide.
 */
typedef size_t gs_inbox_cb(void *arg, const uint8_t *buf, size_t len,
    size_t from, enum gs_link_proof proof);

struct gs_inbox {
	nng_socket	 sock;
	ev_io		 io;
	struct ev_loop	*loop;
	int		 budget;
	gs_inbox_cb	*cb;
	void		*arg;
	uint64_t	 msgs;		/* messages received */
	uint64_t	 bytes;		/* their bytes */
	uint32_t	 proof_pipe;	/* the pipe proof is for; 0: none */
	enum gs_link_proof proof;
	/* A message the callback stopped part way through. */
	ev_idle		 resume;
	nng_msg		*held;
	size_t		 held_off;
	enum gs_link_proof held_proof;
	uint64_t	 resumes;	/* times a message was held */
};

/* Listen on url with a PULL socket (gs_link_listen: the url must pass
 * gs_link_refuse); recvbuf is NNG_OPT_RECVBUF (msgs). */
int	gs_inbox_listen(struct gs_inbox *in, struct ev_loop *loop,
	    const char *url, int budget, int recvbuf, gs_inbox_cb *cb,
	    void *arg);
/* Stop the watchers, free a held message, then close the socket. */
void	gs_inbox_close(struct gs_inbox *in);

/* ------------------------------------------------------------ outbox */

struct gs_post;

struct gs_outbox {
	struct gs_post	*post;
	nng_socket	 sock;
	char		*url;		/* owned */
	struct gs_wr	 batch;		/* header + records pending */
	size_t		 max_batch;	/* cap but for control records */
	size_t		 hdrlen;	/* bytes of header at batch start */
	size_t		 mark;		/* batch length before gs_outbox_begin */
	uint32_t	 nrec;		/* records in batch */
	int		 reliable;	/* batch holds a reliable record */
	int		 dirty;		/* on the post office's list */
	struct gs_outbox *next_dirty;
	uint64_t	 sent_msgs;
	uint64_t	 sent_recs;
	uint64_t	 sent_bytes;
	uint64_t	 dropped_recs;	/* records dropped: state batches NNG
					 * did not take, discards, close */
	uint64_t	 retries;	/* sends that found NNG full */
	int		 sendbuf;	/* NNG_OPT_SENDBUF, for redial */
	/* Back-off of a held reliable batch; the post office's prepare
	 * watcher skips it, its retry timer sends it at retry_at. */
	int		 held;
	ev_tstamp	 backoff;	/* seconds; doubles up to a cap */
	ev_tstamp	 retry_at;	/* ev_now() time of the next attempt */
	ev_tstamp	 sent_at;	/* ev_now() when a batch last left */
};

/* One per loop: flushes every dirty outbox once per loop iteration,
 * or, with a linger, a batch of state records a linger after the
 * outbox's previous batch.
 * The prepare watcher does not keep ev_run() alive by itself; the
 * retry timer, armed while a reliable batch is held, does. */
struct gs_post {
	struct ev_loop	*loop;
	ev_prepare	 flush;
	ev_timer	 retry;
	ev_timer	 linger_w;
	ev_tstamp	 linger;	/* seconds; 0: every iteration */
	struct gs_outbox *dirty;	/* singly linked by next_dirty */
};

void	gs_post_init(struct gs_post *po, struct ev_loop *loop);
/*
 * Let a batch of state records only (no reliable record in it, and
 * under half its cap) leave no sooner than `seconds` after the outbox's
 * previous batch, so that a sender woken by many peers in turn hands
 * NNG at most one such message per linger, not one per loop iteration:
 * each costs the receiver a wake-up and NNG's threads several.  An
 * outbox that sent nothing for a linger sends at the end of the
 * iteration, so a quiet sender adds no delay.  A reliable record sends
 * its batch at the end of the iteration as before.  0 (the default): no
 * linger.
 */
void	gs_post_set_linger(struct gs_post *po, ev_tstamp seconds);
/* Flush now (at shutdown); then stop the watchers. */
void	gs_post_stop(struct gs_post *po);

/* Dial url with a PUSH socket (gs_link_dial; non-blocking: the peer
 * may come later).  hdr[hdrlen] starts every message.  sendbuf: NNG_OPT_SENDBUF
 * (0..8192 messages; with 0 a send only succeeds while a connected
 * peer is idle).  The outbox must not move in memory while open. */
int	gs_outbox_open(struct gs_outbox *ob, struct gs_post *po,
	    const char *url, const void *hdr, size_t hdrlen,
	    size_t max_batch, int sendbuf);
/* One last non-blocking send of a pending batch (what NNG does not
 * take is counted and logged), then close.  Safe on a closed outbox. */
void	gs_outbox_close(struct gs_outbox *ob);

/* What a record is to its batch. */
enum gs_ob_class {
	GS_OB_STATE = 0,	/* replaced by the next: may be dropped */
	GS_OB_RELIABLE = 1,	/* the batch must not be dropped */
	GS_OB_CONTROL = 2,	/* reliable, and has room past max_batch */
};

/*
 * Append one record: gs_outbox_begin() returns the writer to pack the
 * record into (or NULL when the batch is full even for control
 * records: count the drop); then gs_outbox_commit() keeps it, or
 * gs_outbox_abort() undoes it.  A reliable or control record marks the
 * batch as one that must not be dropped.  Committing an empty record
 * still sends the batch, header only when nothing else is queued (a
 * heartbeat).  gs_outbox_commit() returns GS_OK, or GS_EAGAIN when the
 * record went over max_batch (over max_batch * 3 / 2 for a control
 * record); it is then undone.
 */
struct gs_wr	*gs_outbox_begin(struct gs_outbox *ob);
int		 gs_outbox_commit(struct gs_outbox *ob, enum gs_ob_class cls);
void		 gs_outbox_abort(struct gs_outbox *ob);
/* Forget every record not yet handed to NNG, held ones included (say
 * the peer restarted and they name its old state); they are counted
 * in dropped_recs.  The outbox stays open. */
void		 gs_outbox_discard(struct gs_outbox *ob);
/*
 * Start afresh toward the same url with a new header: discard what is
 * pending (as gs_outbox_discard), close the PUSH socket, which drops
 * whatever NNG still holds for the old peer process, and dial a new
 * one.  The statistics carry on.  On failure (logged) the outbox is
 * closed, as after gs_outbox_close(): begin returns NULL from then on.
 */
int		 gs_outbox_redial(struct gs_outbox *ob, const void *hdr,
		    size_t hdrlen);
/* Start every batch from now on, the pending one included, with a new
 * header; the socket and what NNG holds stay.  Not between begin and
 * commit.  GS_OK, or GS_ETOOBIG/GS_ENOMEM with the header unchanged. */
int		 gs_outbox_set_header(struct gs_outbox *ob, const void *hdr,
		    size_t hdrlen);

/* -------------------------------------------------------------- rpc */

/* err is GS_OK, GS_ETIMEDOUT, GS_ECLOSED or GS_ENNG.  rep is borrowed
 * for the duration of the callback (NULL unless GS_OK). */
typedef void gs_rpc_cb(void *arg, int err, const uint8_t *rep, size_t len);

struct gs_rpc;

/* Open a REQ socket dialed to url (gs_link_dial, non-blocking). */
struct gs_rpc	*gs_rpc_open(struct ev_loop *loop, const char *url,
		    int max_inflight);
/*
 * Send req[len]; cb is called exactly once on the loop thread.  Returns
 * GS_OK, or GS_EAGAIN when max_inflight requests are outstanding (cb
 * is then not called).  timeout_ms covers send and reply.
 * Also GS_EINVAL for timeout_ms <= 0, GS_ECLOSED from a callback run
 * by gs_rpc_close(), GS_ENOMEM/GS_ENNG (logged); cb is then not called.
 * While requests are outstanding the rpc keeps ev_run() alive.
 */
int		 gs_rpc_call(struct gs_rpc *rpc, const void *req, size_t len,
		    int timeout_ms, gs_rpc_cb *cb, void *arg);
unsigned	 gs_rpc_inflight(const struct gs_rpc *rpc);
/* Whether a connection to the server is up now.  A call made while
 * none is waits for one (up to its timeout); a caller that would
 * rather fail fast asks first. */
bool		 gs_rpc_connected(const struct gs_rpc *rpc);
/* Cancel what is pending (their callbacks get GS_ECLOSED, before this
 * returns; a reply that had already arrived is delivered as GS_OK) and
 * free everything.  May be called from an rpc callback. */
void		 gs_rpc_close(struct gs_rpc *rpc);

#endif
