/*
 * NNG sockets inside a libev loop: inbox (PULL), outbox (PUSH) with
 * per-iteration batching, and REQ rpc with one context per request.
 *
 * Threads: everything here runs on the loop thread except
 * rpc_aio_cb(), which runs on NNG's threads and touches only its own
 * request slot and the locked completion queue.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "err.h"
#include "util.h"
#include "link.h"
#include "log.h"
#include "mp.h"
#include "nngev.h"

#define OUTBOX_BACKOFF_MIN	0.010	/* s: first retry of a held batch */
#define OUTBOX_BACKOFF_MAX	1.0	/* s: retries never wait longer */
#define OUTBOX_INITIAL		4096	/* bytes: first batch buffer */
#define RPC_MAX_INFLIGHT	65536
#define LOG_BURST		5	/* peer-caused lines a second */

/* Peer-caused warnings share one limit: the loop is single-threaded. */
static struct gs_ratelimit	nngev_rl;

/* ------------------------------------------------------------ inbox */

/* What pipe p proves, asked of NNG once per pipe. */
static enum gs_link_proof
inbox_proof(struct gs_inbox *in, nng_pipe p)
{
	uint32_t	id = (uint32_t)nng_pipe_id(p);

	if (id != in->proof_pipe || id == 0) {
		in->proof = gs_link_pipe_proof(p);
		in->proof_pipe = id;
	}
	return in->proof;
}

static int
inbox_closed(const struct gs_inbox *in)
{
	return nng_socket_id(in->sock) <= 0;
}

/*
 * Hand msg to the callback from offset `from`.  Returns 1 when the
 * message is done with (freed), 0 when the callback stopped short: the
 * inbox then holds it, stops reading, and resumes it from an idle
 * watcher, once the loop has polled and served what else is ready.
 */
static int
inbox_deliver(struct gs_inbox *in, nng_msg *msg, size_t from,
    enum gs_link_proof proof)
{
	size_t	len = nng_msg_len(msg), off;

	off = in->cb(in->arg, nng_msg_body(msg), len, from, proof);
	/* Stopping short needs progress, and an inbox still open (the
	 * callback may have closed it). */
	if (off >= len || off <= from || inbox_closed(in)) {
		nng_msg_free(msg);
		return 1;
	}
	in->held = msg;
	in->held_off = off;
	in->held_proof = proof;
	in->resumes++;
	ev_io_stop(in->loop, &in->io);
	ev_idle_start(in->loop, &in->resume);
	return 0;
}

static void
inbox_resume_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct gs_inbox	*in = w->data;
	nng_msg		*msg = in->held;

	ev_idle_stop(loop, w);
	in->held = NULL;
	if (msg == NULL)
		return;
	if (inbox_deliver(in, msg, in->held_off, in->held_proof) &&
	    !inbox_closed(in))
		ev_io_start(loop, &in->io);
}

static void
inbox_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct gs_inbox	*in = w->data;
	nng_msg		*msg;
	int		 i, rv;

	for (i = 0; i < in->budget; i++) {
		rv = nng_recvmsg(in->sock, &msg, NNG_FLAG_NONBLOCK);
		if (rv == NNG_EAGAIN)
			return;
		if (rv != 0) {
			if (gs_ratelimit_ok(&nngev_rl, LOG_BURST))
				gs_log_warnx("inbox recv failed "
				    "call=nng_recvmsg err=\"%s\"",
				    nng_strerror(rv));
			if (rv == NNG_ECLOSED)
				ev_io_stop(loop, w);
			return;
		}
		in->msgs++;
		in->bytes += nng_msg_len(msg);
		if (!inbox_deliver(in, msg, 0,
		    inbox_proof(in, nng_msg_get_pipe(msg))))
			return;		/* held: resumed when idle */
		if (inbox_closed(in) || !ev_is_active(w))
			return;
	}
	/* Budget spent: RECVFD is level-triggered, so the rest is read on
	 * the next iteration, after the other watchers had their turn. */
}

int
gs_inbox_listen(struct gs_inbox *in, struct ev_loop *loop, const char *url,
    int budget, int recvbuf, gs_inbox_cb *cb, void *arg)
{
	const char	*call;
	int		 fd, rv;

	memset(in, 0, sizeof(*in));
	if (budget <= 0 || cb == NULL) {
		gs_log_warnx("inbox listen failed url=%s "
		    "reason=bad_argument", url);
		return GS_EINVAL;
	}
	in->loop = loop;
	in->budget = budget;
	in->cb = cb;
	in->arg = arg;

	call = "nng_pull0_open";
	if ((rv = nng_pull0_open(&in->sock)) != 0)
		goto fail;
	call = "nng_socket_set_int(recv-buffer)";
	if ((rv = nng_socket_set_int(in->sock, NNG_OPT_RECVBUF,
	    recvbuf)) != 0)
		goto fail_close;
	if ((rv = gs_link_listen(in->sock, url, &call)) != 0)
		goto fail_close;
	call = "nng_socket_get_int(recv-fd)";
	if ((rv = nng_socket_get_int(in->sock, NNG_OPT_RECVFD, &fd)) != 0)
		goto fail_close;
	ev_io_init(&in->io, inbox_read_cb, fd, EV_READ);
	in->io.data = in;
	ev_io_start(loop, &in->io);
	ev_idle_init(&in->resume, inbox_resume_cb);
	in->resume.data = in;
	return GS_OK;

 fail_close:
	nng_close(in->sock);
	in->sock = (nng_socket)NNG_SOCKET_INITIALIZER;
 fail:
	gs_log_warnx("inbox listen failed url=%s call=%s err=\"%s\"",
	    url, call, nng_strerror(rv));
	return GS_ENNG;
}

void
gs_inbox_close(struct gs_inbox *in)
{
	if (in->loop != NULL && ev_is_active(&in->io))
		ev_io_stop(in->loop, &in->io);
	if (in->loop != NULL && ev_is_active(&in->resume))
		ev_idle_stop(in->loop, &in->resume);
	if (in->held != NULL) {
		nng_msg_free(in->held);
		in->held = NULL;
	}
	if (nng_socket_id(in->sock) > 0)
		nng_close(in->sock);
	in->sock = (nng_socket)NNG_SOCKET_INITIALIZER;
}

/* ------------------------------------------------------------ outbox */

static void	post_flush_cb(struct ev_loop *, ev_prepare *, int);
static void	post_retry_cb(struct ev_loop *, ev_timer *, int);
static void	post_linger_cb(struct ev_loop *, ev_timer *, int);

static void
post_unlink(struct gs_post *po, struct gs_outbox *ob)
{
	struct gs_outbox	**pp;

	for (pp = &po->dirty; *pp != NULL; pp = &(*pp)->next_dirty)
		if (*pp == ob) {
			*pp = ob->next_dirty;
			break;
		}
	ob->next_dirty = NULL;
	ob->dirty = 0;
}

/* Arm the retry timer for the earliest held batch, or stop it. */
static void
post_arm(struct gs_post *po)
{
	struct gs_outbox	*ob;
	ev_tstamp		 at = 0, delay;
	int			 any = 0;

	if (!ev_is_active(&po->flush)) {	/* stopped post office */
		ev_timer_stop(po->loop, &po->retry);
		return;
	}
	for (ob = po->dirty; ob != NULL; ob = ob->next_dirty)
		if (ob->held && (!any || ob->retry_at < at)) {
			at = ob->retry_at;
			any = 1;
		}
	ev_timer_stop(po->loop, &po->retry);
	if (!any)
		return;
	delay = at - ev_now(po->loop);
	ev_timer_set(&po->retry, delay > 0 ? delay : 0, 0.);
	ev_timer_start(po->loop, &po->retry);
}

static void
outbox_reset(struct gs_outbox *ob)
{
	gs_wr_truncate(&ob->batch, ob->hdrlen);
	ob->mark = ob->hdrlen;
	ob->nrec = 0;
	ob->reliable = 0;
	ob->held = 0;
	ob->backoff = 0;
}

/*
 * Try to hand the batch to NNG without blocking.  Returns 1 when the
 * batch is done with (sent, or dropped because it held state only), 0
 * when it is held for a retry.
 */
static int
outbox_send(struct gs_outbox *ob)
{
	nng_msg		*msg;
	size_t		 len = ob->batch.len;
	int		 rv;

	if ((rv = nng_msg_alloc(&msg, len)) == 0) {
		memcpy(nng_msg_body(msg), ob->batch.buf, len);
		rv = nng_sendmsg(ob->sock, msg, NNG_FLAG_NONBLOCK);
		if (rv != 0)	/* a failed send leaves the message ours */
			nng_msg_free(msg);
	}
	if (rv == 0) {
		ob->sent_at = ev_now(ob->post->loop);
		ob->sent_msgs++;
		ob->sent_recs += ob->nrec;
		ob->sent_bytes += len;
		outbox_reset(ob);
		return 1;
	}
	ob->retries++;
	if (rv != NNG_EAGAIN && gs_ratelimit_ok(&nngev_rl, LOG_BURST))
		gs_log_warnx("outbox send failed url=%s call=nng_sendmsg "
		    "err=\"%s\"", ob->url, nng_strerror(rv));
	if (!ob->reliable) {
		ob->dropped_recs += ob->nrec;
		outbox_reset(ob);
		return 1;
	}
	if (!ob->held) {
		ob->held = 1;
		ob->backoff = OUTBOX_BACKOFF_MIN;
	} else {
		ob->backoff *= 2;
		if (ob->backoff > OUTBOX_BACKOFF_MAX)
			ob->backoff = OUTBOX_BACKOFF_MAX;
	}
	ob->retry_at = ev_now(ob->post->loop) + ob->backoff;
	return 0;
}

/* A batch of state records only, under half its cap, from an outbox that
 * sent one less than the post office's linger ago: it waits for more
 * (gs_post_set_linger). */
static int
outbox_lingers(const struct gs_post *po, const struct gs_outbox *ob,
    ev_tstamp due)
{
	return po->linger > 0 && !ob->held && !ob->reliable &&
	    ob->batch.len < ob->max_batch / 2 &&
	    ob->sent_at + po->linger > due;
}

/* Have the linger timer fire no later than at. */
static void
post_linger_arm(struct gs_post *po, ev_tstamp at)
{
	ev_tstamp	now = ev_now(po->loop);

	if (ev_is_active(&po->linger_w) &&
	    now + ev_timer_remaining(po->loop, &po->linger_w) <= at)
		return;
	ev_timer_stop(po->loop, &po->linger_w);
	ev_timer_set(&po->linger_w, GS_MAX(at - now, 0.), 0.);
	ev_timer_start(po->loop, &po->linger_w);
}

/*
 * Send the dirty outboxes; held ones only when all is set (shutdown)
 * or their retry time has come.  Outboxes done with leave the list.
 */
static void
post_flush(struct gs_post *po, int all)
{
	struct gs_outbox	**pp, *ob;
	/* A timer may fire a hair before ev_now() reaches retry_at. */
	ev_tstamp		 due = ev_now(po->loop) + 0.001;
	ev_tstamp		 wake = 0;

	pp = &po->dirty;
	while ((ob = *pp) != NULL) {
		if (ob->held && !all && ob->retry_at > due) {
			pp = &ob->next_dirty;
			continue;
		}
		if (!all && outbox_lingers(po, ob, due)) {
			if (wake == 0 || ob->sent_at + po->linger < wake)
				wake = ob->sent_at + po->linger;
			pp = &ob->next_dirty;
			continue;
		}
		if (outbox_send(ob)) {
			*pp = ob->next_dirty;
			ob->next_dirty = NULL;
			ob->dirty = 0;
		} else
			pp = &ob->next_dirty;
	}
	post_arm(po);
	ev_timer_stop(po->loop, &po->linger_w);
	if (wake != 0 && ev_is_active(&po->flush))
		post_linger_arm(po, wake);
}

static void
post_flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct gs_post		*po = w->data;
	struct gs_outbox	*ob;
	ev_tstamp		 due = ev_now(loop) + 0.001;

	/* Held and lingering batches wait for their timers; skip the walk
	 * when nothing but those is dirty. */
	for (ob = po->dirty; ob != NULL; ob = ob->next_dirty)
		if (!ob->held && !outbox_lingers(po, ob, due))
			break;
	if (ob != NULL)
		post_flush(po, 0);
}

static void
post_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	post_flush(w->data, 0);
}

static void
post_linger_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	post_flush(w->data, 0);
}

void
gs_post_set_linger(struct gs_post *po, ev_tstamp seconds)
{
	po->linger = seconds > 0 ? seconds : 0;
}

void
gs_post_init(struct gs_post *po, struct ev_loop *loop)
{
	memset(po, 0, sizeof(*po));
	po->loop = loop;
	ev_prepare_init(&po->flush, post_flush_cb);
	po->flush.data = po;
	ev_prepare_start(loop, &po->flush);
	/* Flushing is work for the other watchers; alone it must not
	 * keep the loop running. */
	ev_unref(loop);
	ev_timer_init(&po->retry, post_retry_cb, 0., 0.);
	po->retry.data = po;
	ev_timer_init(&po->linger_w, post_linger_cb, 0., 0.);
	po->linger_w.data = po;
}

void
gs_post_stop(struct gs_post *po)
{
	if (po->loop == NULL)
		return;
	post_flush(po, 1);
	if (ev_is_active(&po->flush)) {
		ev_ref(po->loop);
		ev_prepare_stop(po->loop, &po->flush);
	}
	ev_timer_stop(po->loop, &po->retry);
	ev_timer_stop(po->loop, &po->linger_w);
}

/* Open the PUSH socket and start dialing ob->url.  On failure
 * (logged) the socket is closed and ob->sock is invalid. */
static int
outbox_dial(struct gs_outbox *ob)
{
	const char	*call;
	int		 rv;

	call = "nng_push0_open";
	if ((rv = nng_push0_open(&ob->sock)) != 0)
		goto fail;
	call = "nng_socket_set_int(send-buffer)";
	if ((rv = nng_socket_set_int(ob->sock, NNG_OPT_SENDBUF,
	    ob->sendbuf)) != 0)
		goto fail;
	if ((rv = gs_link_dial(ob->sock, ob->url, NNG_FLAG_NONBLOCK,
	    &call)) != 0)
		goto fail;
	return GS_OK;

 fail:
	gs_log_warnx("outbox open failed url=%s call=%s err=\"%s\"",
	    ob->url, call, nng_strerror(rv));
	if (nng_socket_id(ob->sock) > 0)
		nng_close(ob->sock);
	ob->sock = (nng_socket)NNG_SOCKET_INITIALIZER;
	return GS_ENNG;
}

int
gs_outbox_open(struct gs_outbox *ob, struct gs_post *po, const char *url,
    const void *hdr, size_t hdrlen, size_t max_batch, int sendbuf)
{
	int		 rv;

	memset(ob, 0, sizeof(*ob));
	ob->post = po;
	if (hdrlen > max_batch) {
		gs_log_warnx("outbox open failed url=%s "
		    "reason=header_over_max_batch", url);
		return GS_EINVAL;
	}
	if ((ob->url = strdup(url)) == NULL) {
		gs_log_warn("outbox open failed url=%s call=strdup", url);
		return GS_ENOMEM;
	}
	/* Control records may run past max_batch by half again: the room
	 * they need is never taken by state or events. */
	ob->max_batch = max_batch;
	gs_wr_init(&ob->batch, max_batch < OUTBOX_INITIAL ? max_batch :
	    OUTBOX_INITIAL, max_batch + max_batch / 2);
	gs_wr_raw(&ob->batch, hdr, hdrlen);
	if (ob->batch.err != GS_OK) {
		gs_log_warnx("outbox open failed url=%s reason=%s", url,
		    gs_err_name(ob->batch.err));
		rv = ob->batch.err;
		gs_wr_free(&ob->batch);
		free(ob->url);
		ob->url = NULL;
		return rv;
	}
	ob->hdrlen = ob->mark = hdrlen;
	ob->sendbuf = sendbuf;
	if ((rv = outbox_dial(ob)) != GS_OK) {
		gs_wr_free(&ob->batch);
		free(ob->url);
		ob->url = NULL;
	}
	return rv;
}

int
gs_outbox_redial(struct gs_outbox *ob, const void *hdr, size_t hdrlen)
{
	int	rv;

	if (ob->url == NULL)
		return GS_ECLOSED;
	gs_outbox_discard(ob);
	nng_close(ob->sock);
	ob->sock = (nng_socket)NNG_SOCKET_INITIALIZER;
	gs_wr_truncate(&ob->batch, 0);
	gs_wr_raw(&ob->batch, hdr, hdrlen);
	rv = ob->batch.err;
	if (rv == GS_OK)
		rv = outbox_dial(ob);
	else
		gs_log_warnx("outbox redial failed url=%s reason=%s",
		    ob->url, gs_err_name(rv));
	if (rv != GS_OK) {
		gs_wr_free(&ob->batch);
		free(ob->url);
		ob->url = NULL;
		return rv;
	}
	ob->hdrlen = ob->mark = hdrlen;
	return GS_OK;
}

int
gs_outbox_set_header(struct gs_outbox *ob, const void *hdr, size_t hdrlen)
{
	size_t	 rest;
	uint8_t	*tmp = NULL;

	if (ob->url == NULL)
		return GS_ECLOSED;
	rest = ob->batch.len - ob->hdrlen;
	if (hdrlen > ob->batch.max || rest > ob->batch.max - hdrlen)
		return GS_ETOOBIG;
	if (rest > 0) {
		if ((tmp = malloc(rest)) == NULL) {
			gs_log_warn("outbox set header failed url=%s "
			    "call=malloc", ob->url);
			return GS_ENOMEM;
		}
		memcpy(tmp, ob->batch.buf + ob->hdrlen, rest);
	}
	gs_wr_truncate(&ob->batch, 0);
	gs_wr_raw(&ob->batch, hdr, hdrlen);
	if (rest > 0)
		gs_wr_raw(&ob->batch, tmp, rest);
	free(tmp);
	/* Within max, so only an allocation can have failed: the batch
	 * is lost then, and counted. */
	if (ob->batch.err != GS_OK) {
		gs_wr_truncate(&ob->batch, 0);
		gs_wr_raw(&ob->batch, hdr, hdrlen);
		ob->hdrlen = hdrlen;
		gs_outbox_discard(ob);
		return ob->batch.err != GS_OK ? ob->batch.err : GS_ENOMEM;
	}
	ob->hdrlen = hdrlen;
	ob->mark = ob->batch.len;
	return GS_OK;
}

void
gs_outbox_close(struct gs_outbox *ob)
{
	if (ob->url == NULL)
		return;
	if (ob->dirty) {
		post_unlink(ob->post, ob);
		if (!outbox_send(ob)) {
			gs_log_warnx("outbox closed unsent url=%s "
			    "records=%u", ob->url, ob->nrec);
			ob->dropped_recs += ob->nrec;
		}
		post_arm(ob->post);
	}
	nng_close(ob->sock);
	ob->sock = (nng_socket)NNG_SOCKET_INITIALIZER;
	gs_wr_free(&ob->batch);
	free(ob->url);
	ob->url = NULL;
}

struct gs_wr *
gs_outbox_begin(struct gs_outbox *ob)
{
	if (ob->url == NULL || ob->batch.err != GS_OK ||
	    ob->batch.len >= ob->batch.max)
		return NULL;
	ob->mark = ob->batch.len;
	return &ob->batch;
}

int
gs_outbox_commit(struct gs_outbox *ob, enum gs_ob_class cls)
{
	struct gs_post	*po = ob->post;

	if (ob->batch.err != GS_OK || (cls != GS_OB_CONTROL &&
	    ob->batch.len > ob->max_batch)) {
		gs_wr_truncate(&ob->batch, ob->mark);	/* clears the error */
		return GS_EAGAIN;
	}
	if (ob->batch.len > ob->mark)
		ob->nrec++;
	ob->mark = ob->batch.len;
	if (cls != GS_OB_STATE)
		ob->reliable = 1;
	if (!ob->dirty) {
		ob->dirty = 1;
		ob->next_dirty = po->dirty;
		po->dirty = ob;
	}
	/* The prepare watcher passes lingering batches by: their timer
	 * sends them. */
	if (ev_is_active(&po->flush) &&
	    outbox_lingers(po, ob, ev_now(po->loop)))
		post_linger_arm(po, ob->sent_at + po->linger);
	return GS_OK;
}

void
gs_outbox_abort(struct gs_outbox *ob)
{
	gs_wr_truncate(&ob->batch, ob->mark);
}

void
gs_outbox_discard(struct gs_outbox *ob)
{
	if (ob->url == NULL)
		return;
	if (ob->dirty) {
		post_unlink(ob->post, ob);
		post_arm(ob->post);
	}
	ob->dropped_recs += ob->nrec;
	outbox_reset(ob);
}

/* -------------------------------------------------------------- rpc */

enum { RPC_SEND = 1, RPC_RECV };

/* One outstanding request.  While busy, the fields below `busy` belong
 * to whoever holds the request: NNG's callback until it queues it as
 * done, then the loop. */
struct rpc_req {
	struct gs_rpc	*rpc;
	nng_ctx		 ctx;
	nng_aio		*aio;	/* NULL until first use */
	int		 busy;
	int		 stage;
	nng_time	 deadline;
	gs_rpc_cb	*cb;
	void		*arg;
	int		 rv;	/* NNG result */
	nng_msg		*rep;	/* reply when rv == 0 */
	struct rpc_req	*next;	/* free list, or done queue (locked) */
};

struct gs_rpc {
	struct ev_loop	*loop;
	nng_socket	 sock;
	char		*url;
	ev_async	 async;
	pthread_mutex_t	 lock;		/* guards done, done_tail */
	struct rpc_req	*done;
	struct rpc_req	**done_tail;
	struct rpc_req	*reqs;		/* [max] */
	struct rpc_req	*free;
	unsigned	 max;
	unsigned	 inflight;
	int		 closing;
	int		 dead;		/* closed; free when dispatch unwinds */
	unsigned	 dispatching;	/* user callbacks on the stack */
	atomic_int	 pipes;		/* connected: NNG's pipe events */
};

/* NNG thread: a connection to the server came or went. */
static void
rpc_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct gs_rpc	*rpc = arg;

	if (ev == NNG_PIPE_EV_ADD_POST)
		atomic_fetch_add(&rpc->pipes, 1);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_fetch_sub(&rpc->pipes, 1);
}

bool
gs_rpc_connected(const struct gs_rpc *rpc)
{
	return atomic_load(&rpc->pipes) > 0;
}

/* NNG thread: hand the finished request to the loop. */
static void
rpc_done(struct rpc_req *r, int rv, nng_msg *rep)
{
	struct gs_rpc	*rpc = r->rpc;

	r->rv = rv;
	r->rep = rep;
	pthread_mutex_lock(&rpc->lock);
	r->next = NULL;
	*rpc->done_tail = r;
	rpc->done_tail = &r->next;
	pthread_mutex_unlock(&rpc->lock);
	ev_async_send(rpc->loop, &rpc->async);
}

/* NNG thread.  The send finished: wait for the reply in what is left
 * of the deadline; or the reply finished. */
static void
rpc_aio_cb(void *arg)
{
	struct rpc_req	*r = arg;
	int		 rv = nng_aio_result(r->aio);
	nng_time	 now;

	if (r->stage == RPC_SEND) {
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(r->aio));
			nng_aio_set_msg(r->aio, NULL);
			rpc_done(r, rv, NULL);
			return;
		}
		now = nng_clock();
		if (now >= r->deadline) {
			rpc_done(r, NNG_ETIMEDOUT, NULL);
			return;
		}
		r->stage = RPC_RECV;
		nng_aio_set_timeout(r->aio, (nng_duration)(r->deadline - now));
		/* After nng_aio_stop() this does nothing and no callback
		 * follows; gs_rpc_close() accounts for that. */
		nng_ctx_recv(r->ctx, r->aio);
		return;
	}
	if (rv == 0) {
		nng_msg *rep = nng_aio_get_msg(r->aio);

		nng_aio_set_msg(r->aio, NULL);
		rpc_done(r, 0, rep);
	} else
		rpc_done(r, rv, NULL);
}

static void
rpc_free(struct gs_rpc *rpc)
{
	pthread_mutex_destroy(&rpc->lock);
	free(rpc->reqs);
	free(rpc->url);
	free(rpc);
}

/*
 * Loop thread: release the slot and call the user.  Returns 1 if the
 * rpc was freed on the way (closed from the callback).
 */
static int
rpc_deliver(struct rpc_req *r, int err, nng_msg *rep)
{
	struct gs_rpc	*rpc = r->rpc;
	gs_rpc_cb	*cb = r->cb;
	void		*arg = r->arg;

	r->busy = 0;
	r->cb = NULL;
	r->next = rpc->free;
	rpc->free = r;
	if (--rpc->inflight == 0)
		ev_unref(rpc->loop);	/* idle: don't keep ev_run alive */

	rpc->dispatching++;
	if (rep != NULL)
		cb(arg, err, nng_msg_body(rep), nng_msg_len(rep));
	else
		cb(arg, err, NULL, 0);
	nng_msg_free(rep);		/* accepts NULL */
	if (--rpc->dispatching == 0 && rpc->dead) {
		rpc_free(rpc);
		return 1;
	}
	return 0;
}

static int
rpc_err(struct gs_rpc *rpc, int rv)
{
	switch (rv) {
	case 0:
		return GS_OK;
	case NNG_ETIMEDOUT:
		return GS_ETIMEDOUT;
	case NNG_ECANCELED:
	case NNG_ECLOSED:
		return GS_ECLOSED;
	default:
		if (gs_ratelimit_ok(&nngev_rl, LOG_BURST))
			gs_log_warnx("rpc failed url=%s err=\"%s\"",
			    rpc->url, nng_strerror(rv));
		return GS_ENNG;
	}
}

/* Deliver everything on the done queue.  Returns 1 if rpc was freed. */
static int
rpc_dispatch(struct gs_rpc *rpc)
{
	struct rpc_req	*r;

	for (;;) {
		pthread_mutex_lock(&rpc->lock);
		if ((r = rpc->done) != NULL) {
			if ((rpc->done = r->next) == NULL)
				rpc->done_tail = &rpc->done;
		}
		pthread_mutex_unlock(&rpc->lock);
		if (r == NULL)
			return 0;
		if (rpc_deliver(r, rpc_err(rpc, r->rv), r->rep))
			return 1;
	}
}

static void
rpc_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)rpc_dispatch(w->data);
}

struct gs_rpc *
gs_rpc_open(struct ev_loop *loop, const char *url, int max_inflight)
{
	struct gs_rpc	*rpc;
	const char	*call;
	unsigned	 i;
	int		 rv;

	if (max_inflight <= 0 || max_inflight > RPC_MAX_INFLIGHT) {
		gs_log_warnx("rpc open failed url=%s "
		    "reason=bad_max_inflight max_inflight=%d", url,
		    max_inflight);
		return NULL;
	}
	if ((rpc = calloc(1, sizeof(*rpc))) == NULL ||
	    (rpc->reqs = calloc((size_t)max_inflight,
	    sizeof(*rpc->reqs))) == NULL ||
	    (rpc->url = strdup(url)) == NULL) {
		gs_log_warn("rpc open failed url=%s call=malloc", url);
		if (rpc != NULL) {
			free(rpc->reqs);
			free(rpc);
		}
		return NULL;
	}
	if ((rv = pthread_mutex_init(&rpc->lock, NULL)) != 0) {
		gs_log_warnx("rpc open failed url=%s "
		    "call=pthread_mutex_init err=%d", url, rv);
		free(rpc->url);
		free(rpc->reqs);
		free(rpc);
		return NULL;
	}
	rpc->loop = loop;
	rpc->max = (unsigned)max_inflight;
	rpc->done_tail = &rpc->done;
	for (i = rpc->max; i-- > 0; ) {
		rpc->reqs[i].rpc = rpc;
		rpc->reqs[i].next = rpc->free;
		rpc->free = &rpc->reqs[i];
	}

	call = "nng_req0_open";
	if ((rv = nng_req0_open(&rpc->sock)) != 0)
		goto fail;
	call = "nng_pipe_notify";
	if ((rv = nng_pipe_notify(rpc->sock, NNG_PIPE_EV_ADD_POST, rpc_pipe_cb,
	    rpc)) != 0 ||
	    (rv = nng_pipe_notify(rpc->sock, NNG_PIPE_EV_REM_POST, rpc_pipe_cb,
	    rpc)) != 0)
		goto fail;
	if ((rv = gs_link_dial(rpc->sock, url, NNG_FLAG_NONBLOCK,
	    &call)) != 0)
		goto fail;

	ev_async_init(&rpc->async, rpc_async_cb);
	rpc->async.data = rpc;
	ev_async_start(loop, &rpc->async);
	ev_unref(loop);		/* referenced only while requests are out */
	return rpc;

 fail:
	gs_log_warnx("rpc open failed url=%s call=%s err=\"%s\"",
	    url, call, nng_strerror(rv));
	if (nng_socket_id(rpc->sock) > 0)
		nng_close(rpc->sock);
	rpc_free(rpc);
	return NULL;
}

int
gs_rpc_call(struct gs_rpc *rpc, const void *req, size_t len, int timeout_ms,
    gs_rpc_cb *cb, void *arg)
{
	struct rpc_req	*r;
	nng_msg		*msg;
	int		 rv;

	if (rpc->closing)
		return GS_ECLOSED;
	if (timeout_ms <= 0 || cb == NULL)
		return GS_EINVAL;
	if ((r = rpc->free) == NULL)
		return GS_EAGAIN;
	if (r->aio == NULL) {
		if ((rv = nng_ctx_open(&r->ctx, rpc->sock)) != 0) {
			gs_log_warnx("rpc call failed url=%s "
			    "call=nng_ctx_open err=\"%s\"", rpc->url,
			    nng_strerror(rv));
			return GS_ENNG;
		}
		if ((rv = nng_aio_alloc(&r->aio, rpc_aio_cb, r)) != 0) {
			gs_log_warnx("rpc call failed url=%s "
			    "call=nng_aio_alloc err=\"%s\"", rpc->url,
			    nng_strerror(rv));
			nng_ctx_close(r->ctx);
			r->aio = NULL;
			return GS_ENNG;
		}
	}
	if ((rv = nng_msg_alloc(&msg, len)) != 0) {
		gs_log_warnx("rpc call failed url=%s call=nng_msg_alloc "
		    "err=\"%s\"", rpc->url, nng_strerror(rv));
		return GS_ENOMEM;
	}
	if (len > 0)
		memcpy(nng_msg_body(msg), req, len);

	rpc->free = r->next;
	r->next = NULL;
	r->busy = 1;
	r->cb = cb;
	r->arg = arg;
	r->rv = 0;
	r->rep = NULL;
	r->stage = RPC_SEND;
	r->deadline = nng_clock() + (nng_time)timeout_ms;
	if (rpc->inflight++ == 0)
		ev_ref(rpc->loop);
	nng_aio_set_msg(r->aio, msg);
	nng_aio_set_timeout(r->aio, (nng_duration)timeout_ms);
	nng_ctx_send(r->ctx, r->aio);	/* the rest happens in rpc_aio_cb */
	return GS_OK;
}

unsigned
gs_rpc_inflight(const struct gs_rpc *rpc)
{
	return rpc->inflight;
}

void
gs_rpc_close(struct gs_rpc *rpc)
{
	unsigned	i;

	if (rpc == NULL || rpc->closing)
		return;
	rpc->closing = 1;

	/* After this no NNG thread touches a request again.  A request
	 * whose send was cancelled is on the done queue; one stopped
	 * between send and receive is busy but not queued. */
	for (i = 0; i < rpc->max; i++)
		if (rpc->reqs[i].aio != NULL)
			nng_aio_stop(rpc->reqs[i].aio);

	(void)rpc_dispatch(rpc);	/* cannot free: closing, not dead */
	for (i = 0; i < rpc->max; i++)
		if (rpc->reqs[i].busy)
			(void)rpc_deliver(&rpc->reqs[i], GS_ECLOSED, NULL);

	/* Nothing is in flight now, so the async watcher is unreferenced;
	 * ev_async_stop() takes away a referenced count. */
	ev_ref(rpc->loop);
	ev_async_stop(rpc->loop, &rpc->async);
	for (i = 0; i < rpc->max; i++)
		if (rpc->reqs[i].aio != NULL) {
			nng_msg_free(nng_aio_get_msg(rpc->reqs[i].aio));
			nng_aio_set_msg(rpc->reqs[i].aio, NULL);
			nng_aio_free(rpc->reqs[i].aio);
			nng_ctx_close(rpc->reqs[i].ctx);
			rpc->reqs[i].aio = NULL;
		}
	nng_close(rpc->sock);
	if (rpc->dispatching > 0)
		rpc->dead = 1;	/* rpc_deliver() up the stack frees it */
	else
		rpc_free(rpc);
}
