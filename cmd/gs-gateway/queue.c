/*
 * A client's outgoing queue.  See queue.h for the rules.
 */
#include <stdlib.h>
#include <string.h>

#include "queue.h"
#include "util.h"

/* A pooled buffer is poisoned for AddressSanitizer, its link aside, so
 * a queue that touched a buffer it gave back is caught as if freed. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define GW_POISON(b, k)	ASAN_POISON_MEMORY_REGION((uint8_t *)(b) + \
	sizeof(void *), (GW_QUEUE_MIN_BYTES << (k)) - sizeof(void *))
#define GW_UNPOISON(b, k) ASAN_UNPOISON_MEMORY_REGION((b), \
	GW_QUEUE_MIN_BYTES << (k))
#else
#define GW_POISON(b, k)		((void)0)
#define GW_UNPOISON(b, k)	((void)0)
#endif

#define GW_QUEUE_MIN_ENTS	8
#define GW_QUEUE_KEEP_ENTS	64	/* entry arrays larger are freed too */

/* ------------------------------------------------------------ the pool */

void
gw_qpool_init(struct gw_qpool *p)
{
	memset(p, 0, sizeof(*p));
}

/* The class of a buffer of cap bytes; -1 when it has none. */
static int
gw_qpool_class(size_t cap)
{
	size_t	sz = GW_QUEUE_MIN_BYTES;
	int	k;

	for (k = 0; k < GW_QPOOL_CLASSES; k++, sz *= 2)
		if (cap == sz)
			return k;
	return -1;
}

static void *
gw_qpool_pop(struct gw_qpool *p, int k)
{
	void	*b = p->head[k];

	memcpy(&p->head[k], b, sizeof(void *));
	p->n[k]--;
	p->nfree--;
	GW_UNPOISON(b, k);
	return b;
}

/* A free buffer of class k, or NULL. */
static void *
gw_qpool_take(struct gw_qpool *p, int k)
{
	if (p->n[k] == 0)
		return NULL;
	p->takes++;
	if (p->n[k] - 1 < p->low[k])
		p->low[k] = p->n[k] - 1;
	return gw_qpool_pop(p, k);
}

static void
gw_qpool_give(struct gw_qpool *p, int k, void *b)
{
	memcpy(b, &p->head[k], sizeof(void *));
	p->head[k] = b;
	p->n[k]++;
	p->nfree++;
	GW_POISON(b, k);
}

void
gw_qpool_trim(struct gw_qpool *p)
{
	int	k;

	for (k = 0; k < GW_QPOOL_CLASSES; k++) {
		for (; p->low[k] > 0; p->low[k]--)
			free(gw_qpool_pop(p, k));
		p->low[k] = p->n[k];
	}
}

void
gw_qpool_free(struct gw_qpool *p)
{
	int	k;

	for (k = 0; k < GW_QPOOL_CLASSES; k++)
		p->low[k] = p->n[k];
	gw_qpool_trim(p);
}

/* ----------------------------------------------------------- the queue */

void
gw_queue_init(struct gw_queue *q, struct gw_qpool *pool, size_t headroom,
    unsigned max_msgs, size_t max_bytes)
{
	memset(q, 0, sizeof(*q));
	q->pool = pool;
	q->headroom = headroom;
	q->off = q->end = headroom;
	q->max_msgs = max_msgs;
	q->max_bytes = max_bytes;
}

/* The byte buffer goes back to the pool, or is freed. */
static void
gw_queue_release(struct gw_queue *q)
{
	int	k;

	if (q->buf == NULL)
		return;
	if (q->pool != NULL && (k = gw_qpool_class(q->cap)) >= 0)
		gw_qpool_give(q->pool, k, q->buf);
	else
		free(q->buf);
	q->buf = NULL;
	q->cap = 0;
}

void
gw_queue_free(struct gw_queue *q)
{
	gw_queue_release(q);
	free(q->ent);
	gw_queue_init(q, q->pool, q->headroom, q->max_msgs, q->max_bytes);
}

static void
gw_queue_reset(struct gw_queue *q)
{
	q->off = q->end = q->headroom;
	q->e0 = q->e1 = 0;
	/* Without a pool the queue keeps its buffer, unless it grew. */
	if (q->pool != NULL || q->cap > GW_QUEUE_KEEP)
		gw_queue_release(q);
	if (q->ecap > GW_QUEUE_KEEP_ENTS) {
		free(q->ent);
		q->ent = NULL;
		q->ecap = 0;
	}
}

static bool
gw_queue_over(const struct gw_queue *q, size_t len)
{
	return gw_queue_msgs(q) + 1 > q->max_msgs ||
	    gw_queue_bytes(q) + len > q->max_bytes;
}

/* Drop the oldest state message.  false when there is none. */
static bool
gw_queue_drop_state(struct gw_queue *q, gw_queue_drop_fn *drop, void *arg)
{
	size_t		 at = q->off;
	unsigned	 i;
	struct gw_qent	 e;

	for (i = q->e0; i < q->e1; i++) {
		if (q->ent[i].lane == GW_LANE_STATE)
			break;
		at += q->ent[i].len;
	}
	if (i == q->e1)
		return false;
	e = q->ent[i];
	if (i == q->e0) {	/* the common case: no copy */
		q->off += e.len;
		q->e0++;
	} else {
		memmove(q->buf + at, q->buf + at + e.len, q->end - at - e.len);
		q->end -= e.len;
		memmove(&q->ent[i], &q->ent[i + 1],
		    (q->e1 - i - 1) * sizeof(q->ent[0]));
		q->e1--;
	}
	if (q->e0 == q->e1)
		q->off = q->end = q->headroom, q->e0 = q->e1 = 0;
	if (drop != NULL)
		drop(arg, e.kind);
	return true;
}

/* Room for one more entry and len more bytes at the ends.  Compacts
 * before it grows; grows by doubling, to the caps unless a message
 * over them (gw_queue_put_last) needs more.  false on allocation
 * failure (nothing changed). */
static bool
gw_queue_reserve(struct gw_queue *q, size_t len)
{
	struct gw_qent	*ne;
	uint8_t		*nb;
	size_t		 used = gw_queue_bytes(q), need, ncap;
	unsigned	 n = gw_queue_msgs(q), necap;
	int		 k;

	if (q->e1 == q->ecap) {
		if (q->e0 > 0) {
			memmove(q->ent, &q->ent[q->e0], n * sizeof(q->ent[0]));
			q->e0 = 0;
			q->e1 = n;
		} else {
			necap = q->ecap == 0 ? GW_QUEUE_MIN_ENTS : q->ecap * 2;
			necap = GS_MIN(necap, GS_MAX(q->max_msgs, n + 1));
			if ((ne = realloc(q->ent, necap * sizeof(*ne))) == NULL)
				return false;
			q->ent = ne;
			q->ecap = necap;
		}
	}
	if (q->end + len <= q->cap)
		return true;
	need = q->headroom + used + len;
	if (need <= q->cap) {
		memmove(q->buf + q->headroom, q->buf + q->off, used);
	} else {
		ncap = q->cap == 0 ? GW_QUEUE_MIN_BYTES : q->cap * 2;
		while (ncap < need)
			ncap *= 2;
		ncap = GS_MIN(ncap, GS_MAX(q->headroom + q->max_bytes, need));
		if (q->pool != NULL && (k = gw_qpool_class(ncap)) >= 0 &&
		    (nb = gw_qpool_take(q->pool, k)) != NULL) {
			/* A pooled buffer of the class; the old one goes
			 * back to the pool in its place. */
			if (used > 0)
				memcpy(nb + q->headroom, q->buf + q->off, used);
			gw_queue_release(q);
		} else {
			if ((nb = realloc(q->buf, ncap)) == NULL)
				return false;
			memmove(nb + q->headroom, nb + q->off, used);
			if (q->pool != NULL)
				q->pool->allocs++;
		}
		q->buf = nb;
		q->cap = ncap;
	}
	q->off = q->headroom;
	q->end = q->headroom + used;
	return true;
}

/* Drop the oldest state messages until len more bytes fit the caps,
 * or none is left to drop. */
static void
gw_queue_make_room(struct gw_queue *q, size_t len, gw_queue_drop_fn *drop,
    void *arg)
{
	/* Evicting cannot make room for what is over the cap by itself. */
	if (len > q->max_bytes)
		return;
	while (gw_queue_over(q, len))
		if (!gw_queue_drop_state(q, drop, arg))
			break;
}

/* Append msg[len], whatever the caps. */
static int
gw_queue_append(struct gw_queue *q, const void *msg, size_t len,
    enum gw_lane lane, unsigned kind)
{
	if (!gw_queue_reserve(q, len))
		return GW_Q_NOMEM;
	memcpy(q->buf + q->end, msg, len);
	q->end += len;
	q->ent[q->e1].len = (uint32_t)len;
	q->ent[q->e1].lane = (uint8_t)lane;
	q->ent[q->e1].kind = (uint8_t)kind;
	q->e1++;
	return GW_Q_OK;
}

int
gw_queue_put(struct gw_queue *q, const void *msg, size_t len,
    enum gw_lane lane, unsigned kind, gw_queue_drop_fn *drop, void *arg)
{
	gw_queue_make_room(q, len, drop, arg);
	if (len > q->max_bytes || gw_queue_over(q, len))
		return lane == GW_LANE_RELIABLE ? GW_Q_FULL : GW_Q_DROPPED;
	return gw_queue_append(q, msg, len, lane, kind);
}

int
gw_queue_put_last(struct gw_queue *q, const void *msg, size_t len,
    unsigned kind, gw_queue_drop_fn *drop, void *arg)
{
	gw_queue_make_room(q, len, drop, arg);
	return gw_queue_append(q, msg, len, GW_LANE_RELIABLE, kind);
}

void
gw_queue_clear(struct gw_queue *q, gw_queue_drop_fn *fn, void *arg)
{
	unsigned	i;

	if (fn != NULL)
		for (i = q->e0; i < q->e1; i++)
			fn(arg, q->ent[i].kind);
	gw_queue_reset(q);
}
