/*
 * gs-gateway's client queue (cmd/gs-gateway/queue.c): the lane rules,
 * the caps, contiguous storage with headroom, and no growth past the
 * caps.  Pure code, linked in from the program's object.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cmd/gs-gateway/queue.h"
#include "t.h"

#define HR	16	/* headroom, like LWS_PRE */

struct drops {
	unsigned	n;
	unsigned	kinds[64];
};

static void
drop_cb(void *arg, unsigned kind)
{
	struct drops	*d = arg;

	if (d == NULL)
		return;
	if (d->n < 64)
		d->kinds[d->n] = kind;
	d->n++;
}

/* Put a message of len bytes, each byte = tag. */
static int
put(struct gw_queue *q, size_t len, enum gw_lane lane, unsigned tag,
    struct drops *d)
{
	uint8_t	buf[4096];

	memset(buf, (int)tag, len);
	return gw_queue_put(q, buf, len, lane, tag, drop_cb, d);
}

/* The tags of the queued messages, in order, checked against the
 * bytes (each message's bytes carry its tag). */
static int
tags(struct gw_queue *q, unsigned *out, unsigned max)
{
	const uint8_t	*p = gw_queue_data(q);
	unsigned	 i, n = gw_queue_msgs(q), k;
	size_t		 total = 0;

	for (i = 0; i < n && i < max; i++) {
		const struct gw_qent *e = gw_queue_entry(q, i);

		for (k = 0; k < e->len; k++)
			if (p[k] != e->kind)
				return -1;	/* bytes and entry disagree */
		out[i] = e->kind;
		p += e->len;
		total += e->len;
	}
	return total == gw_queue_bytes(q) ? (int)n : -1;
}

static void
test_order_and_headroom(void)
{
	struct gw_queue	q;
	struct drops	d = { 0 };
	unsigned	t[8];

	gw_queue_init(&q, NULL, HR, 8, 4096);
	T_CHECK(gw_queue_data(&q) == NULL);
	T_EQ_INT(put(&q, 10, GW_LANE_RELIABLE, 1, &d), GW_Q_OK);
	T_EQ_INT(put(&q, 20, GW_LANE_STATE, 2, &d), GW_Q_OK);
	T_EQ_INT(put(&q, 30, GW_LANE_RELIABLE, 3, &d), GW_Q_OK);
	T_EQ_INT(gw_queue_msgs(&q), 3);
	T_EQ_INT(gw_queue_bytes(&q), 60);
	T_ASSERT(tags(&q, t, 8) == 3);
	T_CHECK(t[0] == 1 && t[1] == 2 && t[2] == 3);
	/* The headroom is there for the transport to write into. */
	T_CHECK(gw_queue_data(&q) - q.buf >= HR);
	memset(gw_queue_data(&q) - HR, 0xee, HR);
	T_ASSERT(tags(&q, t, 8) == 3);
	T_EQ_INT(d.n, 0);
	gw_queue_clear(&q, drop_cb, &d);
	T_EQ_INT(d.n, 3);	/* clear reports each */
	T_EQ_INT(gw_queue_msgs(&q), 0);
	T_CHECK(gw_queue_data(&q) == NULL);
	gw_queue_free(&q);
}

/* A full queue drops its oldest state frame for a newcomer, never a
 * reliable one. */
static void
test_full_drops_oldest_state(void)
{
	struct gw_queue	q;
	struct drops	d = { 0 };
	unsigned	t[8];

	gw_queue_init(&q, NULL, HR, 4, 4096);
	T_EQ_INT(put(&q, 5, GW_LANE_RELIABLE, 1, &d), GW_Q_OK);
	T_EQ_INT(put(&q, 5, GW_LANE_STATE, 2, &d), GW_Q_OK);
	T_EQ_INT(put(&q, 5, GW_LANE_RELIABLE, 3, &d), GW_Q_OK);
	T_EQ_INT(put(&q, 5, GW_LANE_STATE, 4, &d), GW_Q_OK);
	/* Full by count: a new state frame evicts the oldest (2, which
	 * sits behind a reliable one: removed from the middle). */
	T_EQ_INT(put(&q, 5, GW_LANE_STATE, 5, &d), GW_Q_OK);
	T_EQ_INT(d.n, 1);
	T_EQ_INT(d.kinds[0], 2);
	T_ASSERT(tags(&q, t, 8) == 4);
	T_CHECK(t[0] == 1 && t[1] == 3 && t[2] == 4 && t[3] == 5);
	/* A reliable newcomer evicts state frames too. */
	T_EQ_INT(put(&q, 5, GW_LANE_RELIABLE, 6, &d), GW_Q_OK);
	T_EQ_INT(d.n, 2);
	T_EQ_INT(d.kinds[1], 4);
	T_ASSERT(tags(&q, t, 8) == 4);
	T_CHECK(t[0] == 1 && t[1] == 3 && t[2] == 5 && t[3] == 6);
	T_EQ_INT(put(&q, 5, GW_LANE_RELIABLE, 7, &d), GW_Q_OK);
	T_ASSERT(tags(&q, t, 8) == 4);
	T_CHECK(t[0] == 1 && t[1] == 3 && t[2] == 6 && t[3] == 7);
	/* Only reliable frames left: a state newcomer is refused
	 * (DROPPED) and a reliable one too (FULL); nothing is evicted. */
	T_EQ_INT(put(&q, 5, GW_LANE_STATE, 8, &d), GW_Q_DROPPED);
	T_EQ_INT(put(&q, 5, GW_LANE_RELIABLE, 9, &d), GW_Q_FULL);
	T_EQ_INT(d.n, 3);
	T_ASSERT(tags(&q, t, 8) == 4);
	T_CHECK(t[0] == 1 && t[1] == 3 && t[2] == 6 && t[3] == 7);
	gw_queue_free(&q);
}

/* The byte cap works the same way, and the oldest go first. */
static void
test_byte_cap(void)
{
	struct gw_queue	q;
	struct drops	d = { 0 };
	unsigned	t[64], i;

	gw_queue_init(&q, NULL, HR, 64, 1000);
	for (i = 1; i <= 10; i++)
		T_EQ_INT(put(&q, 100, GW_LANE_STATE, i, &d), GW_Q_OK);
	T_EQ_INT(gw_queue_bytes(&q), 1000);
	T_EQ_INT(put(&q, 250, GW_LANE_STATE, 11, &d), GW_Q_OK);
	T_EQ_INT(d.n, 3);	/* 1, 2 and 3 made room */
	T_CHECK(d.kinds[0] == 1 && d.kinds[1] == 2 && d.kinds[2] == 3);
	T_ASSERT(tags(&q, t, 64) == 8);
	T_CHECK(t[0] == 4 && t[7] == 11);
	T_CHECK(gw_queue_bytes(&q) <= 1000);
	/* Larger than the cap by itself: refused without evicting. */
	T_EQ_INT(put(&q, 1001, GW_LANE_STATE, 12, &d), GW_Q_DROPPED);
	T_EQ_INT(put(&q, 1001, GW_LANE_RELIABLE, 13, &d), GW_Q_FULL);
	T_EQ_INT(d.n, 3);
	T_EQ_INT(gw_queue_msgs(&q), 8);
	/* Never more storage than the caps. */
	T_CHECK(q.cap <= HR + 1000);
	T_CHECK(q.ecap <= 64);
	gw_queue_free(&q);
}

/* Many rounds of put, evict and clear keep bytes and entries in step
 * (a random workload against a simple model). */
static void
test_model(void)
{
	struct gw_queue	q;
	struct drops	d = { 0 };
	unsigned	model[64], nm = 0, t[64], i, j, round;
	unsigned	tag = 1, r;
	int		rv;

	srand(7);
	gw_queue_init(&q, NULL, HR, 16, 2000);
	for (round = 0; round < 20000; round++) {
		r = (unsigned)rand();
		if (r % 13 == 0) {
			gw_queue_clear(&q, NULL, NULL);
			nm = 0;
			continue;
		}
		tag = tag % 250 + 1;
		{
			enum gw_lane	lane = r % 3 == 0 ? GW_LANE_RELIABLE :
			    GW_LANE_STATE;
			size_t		len = 1 + (r >> 8) % 300;
			size_t		bytes = 0;
			unsigned	nd = d.n;

			rv = put(&q, len, lane, tag, &d);
			/* The model: evicted tags were the oldest state
			 * frames, in order. */
			for (i = nd; i < d.n && i < 64; i++) {
				for (j = 0; j < nm; j++)
					if (model[j] == d.kinds[i])
						break;
				T_ASSERT(j < nm);
				memmove(&model[j], &model[j + 1],
				    (nm - j - 1) * sizeof(model[0]));
				nm--;
			}
			d.n = 0;
			if (rv == GW_Q_OK)
				model[nm++] = tag;
			else
				T_CHECK(rv == (lane == GW_LANE_RELIABLE ?
				    GW_Q_FULL : GW_Q_DROPPED));
			for (i = 0; i < gw_queue_msgs(&q); i++)
				bytes += gw_queue_entry(&q, i)->len;
			T_ASSERT(bytes == gw_queue_bytes(&q));
			T_ASSERT(bytes <= 2000);
		}
		T_ASSERT(tags(&q, t, 64) == (int)nm);
		for (i = 0; i < nm; i++)
			T_ASSERT(t[i] == model[i]);
	}
	gw_queue_free(&q);
}

/* A flush that empties a big buffer gives the memory back, to the
 * allocator: the pool keeps only buffers up to GW_QUEUE_KEEP. */
static void
test_shrinks(void)
{
	struct gw_qpool	pool;
	struct gw_queue	q;
	unsigned	i;

	gw_qpool_init(&pool);
	gw_queue_init(&q, &pool, HR, 1024, 1 << 20);
	for (i = 0; i < 100; i++)
		T_EQ_INT(put(&q, 1000, GW_LANE_STATE, 1, NULL), GW_Q_OK);
	T_CHECK(q.cap >= 100000);
	gw_queue_clear(&q, NULL, NULL);
	T_EQ_INT(q.cap, 0);
	T_EQ_INT(pool.nfree, 0);
	T_EQ_INT(put(&q, 100, GW_LANE_STATE, 1, NULL), GW_Q_OK);
	T_EQ_INT(q.cap, GW_QUEUE_MIN_BYTES);
	gw_queue_free(&q);
	T_EQ_INT(pool.nfree, 1);
	gw_qpool_free(&pool);
	T_EQ_INT(pool.nfree, 0);
}

/*
 * A queue holds a buffer only while bytes wait: emptied, it gives the
 * buffer to the pool and the next queue takes that same buffer, of the
 * size class it needs, with no allocation.  A trim frees only what no
 * queue took since the last trim.
 */
static void
test_pool(void)
{
	struct gw_qpool	pool;
	struct gw_queue	q[4];
	uint8_t		*b0, *b1;
	unsigned	i, t[4];

	gw_qpool_init(&pool);
	for (i = 0; i < 4; i++)
		gw_queue_init(&q[i], &pool, HR, 64, 1 << 16);
	T_EQ_INT(put(&q[0], 500, GW_LANE_STATE, 1, NULL), GW_Q_OK);
	T_EQ_INT(q[0].cap, 4 * GW_QUEUE_MIN_BYTES);	/* 516 bytes needed */
	b0 = q[0].buf;
	gw_queue_clear(&q[0], NULL, NULL);
	T_CHECK(q[0].buf == NULL);
	T_EQ_INT(pool.nfree, 1);

	/* Same class: the same buffer, no allocation. */
	T_EQ_INT(put(&q[1], 600, GW_LANE_STATE, 2, NULL), GW_Q_OK);
	T_CHECK(q[1].buf == b0);
	T_EQ_INT(pool.allocs, 1);
	T_EQ_INT(pool.takes, 1);
	T_ASSERT(tags(&q[1], t, 4) == 1);
	T_EQ_INT(t[0], 2);
	T_CHECK(gw_queue_data(&q[1]) - q[1].buf == HR);

	/* Another class: not that buffer. */
	T_EQ_INT(put(&q[2], 100, GW_LANE_STATE, 3, NULL), GW_Q_OK);
	T_EQ_INT(q[2].cap, GW_QUEUE_MIN_BYTES);
	T_EQ_INT(pool.allocs, 2);
	b1 = q[2].buf;
	gw_queue_clear(&q[1], NULL, NULL);
	gw_queue_clear(&q[2], NULL, NULL);
	T_EQ_INT(pool.nfree, 2);
	T_EQ_INT(put(&q[3], 10, GW_LANE_RELIABLE, 4, NULL), GW_Q_OK);
	T_CHECK(q[3].buf == b1);

	/* Period 1: both classes were taken from, and the first trim
	 * knows no history: nothing is freed. */
	gw_qpool_trim(&pool);
	T_EQ_INT(pool.nfree, 1);
	/* Period 2: the 1 KiB buffer stays free throughout: freed.  The
	 * 256 B one was in use when the period began: kept. */
	gw_queue_clear(&q[3], NULL, NULL);
	gw_qpool_trim(&pool);
	T_EQ_INT(pool.nfree, 1);
	T_EQ_INT(pool.n[0], 1);
	/* Period 3: nobody took anything: all freed. */
	gw_qpool_trim(&pool);
	T_EQ_INT(pool.nfree, 0);
	T_EQ_INT(put(&q[0], 10, GW_LANE_STATE, 5, NULL), GW_Q_OK);
	T_EQ_INT(pool.allocs, 3);

	/* Growing takes a pooled buffer of the larger class and gives
	 * the smaller one back, the queued bytes carried over. */
	T_EQ_INT(put(&q[1], 600, GW_LANE_STATE, 6, NULL), GW_Q_OK);
	b0 = q[1].buf;
	gw_queue_clear(&q[1], NULL, NULL);
	T_EQ_INT(put(&q[0], 600, GW_LANE_STATE, 7, NULL), GW_Q_OK);
	T_CHECK(q[0].buf == b0);
	T_EQ_INT(pool.allocs, 4);
	T_EQ_INT(pool.nfree, 1);
	T_EQ_INT(pool.n[0], 1);
	T_ASSERT(tags(&q[0], t, 4) == 2);
	T_CHECK(t[0] == 5 && t[1] == 7);
	for (i = 0; i < 4; i++)
		gw_queue_free(&q[i]);
	gw_qpool_free(&pool);
}

/* The error before a close goes in whatever the caps. */
static void
test_put_last(void)
{
	struct gw_queue	q;
	struct drops	d = { 0 };
	unsigned	t[8];

	gw_queue_init(&q, NULL, HR, 3, 4096);
	T_EQ_INT(put(&q, 5, GW_LANE_STATE, 1, &d), GW_Q_OK);
	T_EQ_INT(put(&q, 5, GW_LANE_RELIABLE, 2, &d), GW_Q_OK);
	T_EQ_INT(put(&q, 5, GW_LANE_RELIABLE, 3, &d), GW_Q_OK);
	/* A state frame makes room, as for any message. */
	T_EQ_INT(gw_queue_put_last(&q, "\x09\x09", 2, 9, drop_cb, &d),
	    GW_Q_OK);
	T_EQ_INT(d.n, 1);
	T_ASSERT(tags(&q, t, 8) == 3);
	T_CHECK(t[0] == 2 && t[1] == 3 && t[2] == 9);
	/* Reliable frames only: it goes in over the cap, once. */
	T_EQ_INT(gw_queue_put_last(&q, "\x0a", 1, 10, drop_cb, &d), GW_Q_OK);
	T_ASSERT(tags(&q, t, 8) == 4);
	T_EQ_INT(t[3], 10);
	T_EQ_INT(q.max_msgs, 3);	/* the caps are back */
	T_EQ_INT(put(&q, 5, GW_LANE_RELIABLE, 11, &d), GW_Q_FULL);
	gw_queue_free(&q);
}

T_MAIN(T(test_put_last), T(test_order_and_headroom), T(test_full_drops_oldest_state),
    T(test_byte_cap), T(test_model), T(test_shrinks), T(test_pool))
