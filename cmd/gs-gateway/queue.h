/*
 * A client's outgoing queue: whole protocol messages waiting for the
 * transport to be writable, with the two lanes' rules.
 *
 *   - A reliable message is never dropped.  When it does not fit, the
 *     queue refuses it (GW_Q_FULL) and the caller closes the client.
 *   - An unreliable (state) message may be dropped: to make room for
 *     any newcomer, the oldest unreliable messages go first; a state
 *     newcomer that still does not fit is dropped itself.
 *
 * Storage: the bytes of all queued messages lie back to back in one
 * buffer, after `headroom` spare bytes that the transport may write
 * into (a WebSocket frame header), so a transport whose lanes share
 * one stream sends the whole queue with no copy: gw_queue_data().
 * Entries (length, lane, kind) are an array beside it.  Both grow by
 * doubling up to the caps.  Nothing is allocated per message.  Pure
 * code: no loop, no clock, no I/O.
 *
 * A queue that empties gives its byte buffer back to a pool shared by
 * all queues (struct gw_qpool), from which the next queue to need one
 * takes it.  The gateway writes every queue out at the end of the loop
 * iteration that filled it, so a client holds a buffer only while
 * bytes wait for it: the buffers in use are about as many as the
 * clients of the largest fan-out in one iteration, not one per client.
 * Buffer sizes, headroom included, are size classes: GW_QUEUE_MIN_BYTES
 * times a power of two up to GW_QUEUE_KEEP; a larger buffer is freed
 * when its queue empties.  The pool frees what stayed unused for a
 * whole trim period (gw_qpool_trim).
 */
#ifndef GW_QUEUE_H
#define GW_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gw_lane {
	GW_LANE_RELIABLE,	/* ordered, never dropped */
	GW_LANE_STATE,		/* latest wins: may be dropped */
	GW_NLANES
};

#define GW_QUEUE_MIN_BYTES	256	/* smallest buffer */
/* Buffers larger than this are freed when a flush empties them. */
#define GW_QUEUE_KEEP		(16 * 1024)
#define GW_QPOOL_CLASSES	7	/* 256 B .. GW_QUEUE_KEEP */
_Static_assert(GW_QUEUE_MIN_BYTES << (GW_QPOOL_CLASSES - 1) == GW_QUEUE_KEEP,
    "the largest class is GW_QUEUE_KEEP");

struct gw_qpool {
	void		*head[GW_QPOOL_CLASSES];	/* free buffers, linked
							   through their first
							   bytes */
	unsigned	 n[GW_QPOOL_CLASSES];		/* free buffers */
	unsigned	 low[GW_QPOOL_CLASSES];		/* fewest free since
							   the last trim */
	unsigned	 nfree;				/* sum of n[] */
	uint64_t	 takes, allocs;			/* for tests */
};

struct gw_qent {
	uint32_t	len;
	uint8_t		lane;	/* enum gw_lane */
	uint8_t		kind;	/* the caller's tag (a message kind index) */
};

struct gw_queue {
	struct gw_qpool	*pool;		/* NULL: the queue keeps its buffer
					   up to GW_QUEUE_KEEP */
	uint8_t		*buf;
	size_t		 cap;		/* bytes of buf */
	size_t		 off, end;	/* queued bytes: buf[off..end) */
	size_t		 headroom;	/* off >= headroom, always */
	struct gw_qent	*ent;
	unsigned	 ecap;		/* entries of ent */
	unsigned	 e0, e1;	/* queued entries: ent[e0..e1) */
	unsigned	 max_msgs;
	size_t		 max_bytes;
};

enum {
	GW_Q_OK,
	GW_Q_DROPPED,	/* a state message did not fit: not queued */
	GW_Q_FULL,	/* a reliable message did not fit: not queued */
	GW_Q_NOMEM	/* allocation failed: not queued */
};

/* Called for each message dropped to make room, with its kind tag. */
typedef void gw_queue_drop_fn(void *arg, unsigned kind);

void	gw_qpool_init(struct gw_qpool *p);
/* Free the buffers no queue took since the last trim. */
void	gw_qpool_trim(struct gw_qpool *p);
/* Free every pooled buffer. */
void	gw_qpool_free(struct gw_qpool *p);

/* pool may be NULL. */
void	gw_queue_init(struct gw_queue *q, struct gw_qpool *pool,
	    size_t headroom, unsigned max_msgs, size_t max_bytes);
/* Free the storage; the queue is empty and usable again. */
void	gw_queue_free(struct gw_queue *q);
/*
 * Queue a copy of msg[len] on lane, after making room by the rules
 * above.  Messages dropped to make room are reported through drop
 * (may be NULL); a state newcomer that does not fit is not (the
 * caller sees GW_Q_DROPPED and counts it).  len must be > 0.
 */
int	gw_queue_put(struct gw_queue *q, const void *msg, size_t len,
	    enum gw_lane lane, unsigned kind, gw_queue_drop_fn *drop,
	    void *arg);

/*
 * The last message before a close (its error), on the reliable lane:
 * state messages are dropped to make room as by gw_queue_put(), and
 * when reliable ones fill the queue it goes in anyway, one message and
 * len bytes over the caps, because gs-protocol(7) promises that error.
 * GW_Q_OK or GW_Q_NOMEM.
 */
int	gw_queue_put_last(struct gw_queue *q, const void *msg, size_t len,
	    unsigned kind, gw_queue_drop_fn *drop, void *arg);

static inline unsigned
gw_queue_msgs(const struct gw_queue *q)
{
	return q->e1 - q->e0;
}

static inline size_t
gw_queue_bytes(const struct gw_queue *q)
{
	return q->end - q->off;
}

/* The queued bytes, contiguous, with at least q->headroom writable
 * bytes before the returned pointer.  NULL when empty. */
static inline uint8_t *
gw_queue_data(struct gw_queue *q)
{
	return q->end > q->off ? q->buf + q->off : NULL;
}

/* Entry i (0: oldest) of the queued messages. */
static inline const struct gw_qent *
gw_queue_entry(const struct gw_queue *q, unsigned i)
{
	return &q->ent[q->e0 + i];
}

/* Forget every queued message (sent, or abandoned); each is reported
 * through fn when fn is not NULL.  The byte buffer goes to the pool,
 * or is freed when it grew past GW_QUEUE_KEEP. */
void	gw_queue_clear(struct gw_queue *q, gw_queue_drop_fn *fn, void *arg);

#endif
