/*
 * The gateway's rate limits (cmd/gs-gateway/limit.c): token buckets by
 * key on injected time, and the fixed table under more keys than it
 * holds.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "limit.h"
#include "t.h"

#define S	1000000ULL	/* µs */

static bool
take(struct gs_limit *l, const char *key, uint64_t now, unsigned cost,
    unsigned *retry)
{
	return gs_limit_take(l, key, strlen(key), now, cost, retry);
}

static void
test_burst(void)
{
	struct gs_limit	*l = gs_limit_new(64, 1.0, 3);
	unsigned	 retry = 0;

	T_ASSERT(l != NULL);
	T_CHECK(take(l, "a", 0, 1, &retry));
	T_CHECK(take(l, "a", 0, 1, &retry));
	T_CHECK(take(l, "a", 0, 1, &retry));
	T_CHECK(!take(l, "a", 0, 1, &retry));
	T_EQ_INT(retry, 1);
	T_CHECK(!take(l, "a", 0, 1, NULL));
	T_EQ_INT(gs_limit_stats(l)->allowed, 3);
	T_EQ_INT(gs_limit_stats(l)->limited, 2);
	T_EQ_INT(gs_limit_used(l), 1);
	gs_limit_free(l);
	gs_limit_free(NULL);
}

/* Tokens come back at the rate, up to the burst and no more. */
static void
test_refill(void)
{
	struct gs_limit	*l = gs_limit_new(64, 2.0, 4);
	unsigned	 retry = 0;
	int		 i, n;

	T_ASSERT(l != NULL);
	for (i = 0; i < 4; i++)
		T_CHECK(take(l, "k", 10 * S, 1, &retry));
	T_CHECK(!take(l, "k", 10 * S, 1, &retry));
	T_CHECK(!take(l, "k", 10 * S + S / 4, 1, &retry));	/* 0.5 */
	T_CHECK(take(l, "k", 10 * S + S / 2, 1, &retry));	/* 1 */
	T_CHECK(!take(l, "k", 10 * S + S / 2, 1, &retry));
	/* A long idle refills to the burst, not beyond. */
	for (n = 0; take(l, "k", 1000 * S, 1, &retry); n++)
		;
	T_EQ_INT(n, 4);
	/* Time going back adds nothing. */
	T_CHECK(!take(l, "k", 999 * S, 1, &retry));
	T_CHECK(!take(l, "k", 1000 * S, 1, &retry));
	gs_limit_free(l);
}

static void
test_retry_after(void)
{
	struct gs_limit	*l = gs_limit_new(64, 0.25, 2);	/* 4 s a token */
	unsigned	 retry = 0;

	T_ASSERT(l != NULL);
	T_CHECK(take(l, "r", 0, 2, &retry));
	T_CHECK(!take(l, "r", 0, 1, &retry));
	T_EQ_INT(retry, 4);
	T_CHECK(!take(l, "r", 0, 2, &retry));
	T_EQ_INT(retry, 8);
	T_CHECK(!take(l, "r", 3 * S, 1, &retry));	/* 0.75 there */
	T_EQ_INT(retry, 1);
	T_CHECK(!take(l, "r", 3 * S, 2, &retry));
	T_EQ_INT(retry, 5);				/* 1.25 more */
	T_CHECK(!take(l, "r", 2 * S + 4 * S, 2, &retry));	/* 1.5 */
	T_EQ_INT(retry, 2);
	T_CHECK(take(l, "r", 8 * S, 2, &retry));
	gs_limit_free(l);

	/* Not a whole number of seconds: rounded up. */
	T_ASSERT((l = gs_limit_new(64, 0.4, 1)) != NULL);	/* 2.5 s a token */
	T_CHECK(take(l, "h", 0, 1, &retry));
	T_CHECK(!take(l, "h", 0, 1, &retry));
	T_EQ_INT(retry, 3);
	T_CHECK(!take(l, "h", 2 * S, 1, &retry));	/* 0.8 there */
	T_EQ_INT(retry, 1);
	gs_limit_free(l);

	/* Fast refill: never less than 1 s. */
	T_ASSERT((l = gs_limit_new(64, 1000, 1)) != NULL);
	T_CHECK(take(l, "f", 0, 1, &retry));
	T_CHECK(!take(l, "f", 0, 1, &retry));
	T_EQ_INT(retry, 1);
	gs_limit_free(l);
}

/* A cost over the burst takes a full bucket; a cost of 0 is free. */
static void
test_cost(void)
{
	struct gs_limit	*l = gs_limit_new(64, 1.0, 3);
	unsigned	 retry = 0;

	T_ASSERT(l != NULL);
	T_CHECK(take(l, "c", 0, 5, &retry));
	T_CHECK(!take(l, "c", 0, 5, &retry));
	T_EQ_INT(retry, 3);
	T_CHECK(!take(l, "c", 2 * S, 5, &retry));
	T_EQ_INT(retry, 1);
	T_CHECK(take(l, "c", 2 * S, 0, &retry));
	T_CHECK(take(l, "c", 3 * S, 5, &retry));
	T_CHECK(take(l, "never", 0, 0, NULL));
	T_EQ_INT(gs_limit_used(l), 1);
	gs_limit_free(l);
}

/* Keys of different bytes or lengths are different buckets, long
 * ones (digested) included. */
static void
test_keys(void)
{
	static const uint8_t	v4[4] = { 192, 0, 2, 1 };
	static const uint8_t	v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 192, 0, 2,
				    1 };
	struct gs_limit		*l = gs_limit_new(64, 1.0, 1);
	char			 long1[40], long2[40];

	T_ASSERT(l != NULL);
	T_CHECK(take(l, "a", 0, 1, NULL));
	T_CHECK(!take(l, "a", 0, 1, NULL));
	T_CHECK(take(l, "b", 0, 1, NULL));
	T_CHECK(take(l, "ab", 0, 1, NULL));
	T_CHECK(take(l, "", 0, 1, NULL));
	T_CHECK(!take(l, "", 0, 1, NULL));
	T_CHECK(gs_limit_take(l, v4, 4, 0, 1, NULL));
	T_CHECK(gs_limit_take(l, v6, 16, 0, 1, NULL));
	T_CHECK(gs_limit_take(l, v6, 8, 0, 1, NULL));	/* its /64 */
	T_CHECK(!gs_limit_take(l, v6, 16, 0, 1, NULL));
	T_CHECK(!gs_limit_take(l, v4, 4, 0, 1, NULL));
	memset(long1, 'x', sizeof(long1) - 1);
	long1[sizeof(long1) - 1] = '\0';
	memcpy(long2, long1, sizeof(long1));
	long2[sizeof(long2) - 2] = 'y';
	T_CHECK(take(l, long1, 0, 1, NULL));
	T_CHECK(take(l, long2, 0, 1, NULL));
	T_CHECK(!take(l, long1, 0, 1, NULL));
	T_CHECK(!take(l, long2, 0, 1, NULL));
	/* A 16-byte key equal to a long key's first bytes is its own. */
	T_CHECK(gs_limit_take(l, long1, GS_LIMIT_KEY_MAX, 0, 1, NULL));
	gs_limit_free(l);
}

/*
 * The same with every key in one window (8 slots, the whole table), so
 * that keys meet: a key that is a prefix of another, the empty key, and
 * long keys that differ past GS_LIMIT_KEY_MAX bytes are all apart.
 */
static void
test_keys_collide(void)
{
	struct gs_limit	*l = gs_limit_new(8, 1.0, 1);
	char		 long1[40], long2[40];

	T_ASSERT(l != NULL);
	T_CHECK(take(l, "ab", 0, 1, NULL));
	T_CHECK(take(l, "a", 0, 1, NULL));
	T_CHECK(take(l, "", 0, 1, NULL));
	memset(long1, 'x', sizeof(long1) - 1);
	long1[sizeof(long1) - 1] = '\0';
	memcpy(long2, long1, sizeof(long1));
	long2[sizeof(long2) - 2] = 'y';
	T_CHECK(take(l, long1, 0, 1, NULL));
	T_CHECK(take(l, long2, 0, 1, NULL));
	T_CHECK(gs_limit_take(l, long1, GS_LIMIT_KEY_MAX, 0, 1, NULL));
	T_CHECK(!take(l, "ab", 0, 1, NULL));
	T_CHECK(!take(l, "a", 0, 1, NULL));
	T_CHECK(!take(l, "", 0, 1, NULL));
	T_CHECK(!take(l, long1, 0, 1, NULL));
	T_CHECK(!take(l, long2, 0, 1, NULL));
	T_EQ_INT(gs_limit_used(l), 6);
	T_EQ_INT(gs_limit_stats(l)->evicted, 0);
	gs_limit_free(l);
}

/*
 * Far more keys than slots: every new key gets its full burst, the
 * table stays at its size, evictions are counted, and a key in use
 * keeps its (empty) bucket throughout.  Between two of its calls fewer
 * than GS_LIMIT_PROBE - 1 new keys come, so in any window it is never the
 * oldest of the buckets that are not full.
 */
static void
test_full_table(void)
{
	struct gs_limit	*l = gs_limit_new(64, 0.01, 3);	/* no refill here */
	unsigned	 retry = 0;
	uint64_t	 now = S, fresh = 0;
	int		 round, i, refused = 0, hot_allowed = 0;

	T_ASSERT(l != NULL);
	while (take(l, "hot", now, 1, &retry))
		;
	for (round = 0; round < 3000; round++) {
		for (i = 0; i < GS_LIMIT_PROBE - 2; i++) {
			now += 1000;
			fresh++;
			if (!gs_limit_take(l, &fresh, sizeof(fresh), now, 1,
			    &retry))
				refused++;
		}
		now += 1000;
		if (take(l, "hot", now, 1, &retry))
			hot_allowed++;
	}
	T_EQ_INT(refused, 0);
	T_EQ_INT(hot_allowed, 0);
	T_EQ_INT(gs_limit_used(l), 64);
	T_CHECK(gs_limit_stats(l)->evicted > 0);
	T_EQ_INT(gs_limit_stats(l)->evicted + gs_limit_used(l) - 1, fresh);
	T_EQ_INT(gs_limit_stats(l)->recycled, 0);
	gs_limit_free(l);
}

/* Buckets that have refilled are taken first, and nothing is lost. */
static void
test_recycle(void)
{
	struct gs_limit	*l = gs_limit_new(8, 1.0, 2);
	uint64_t	 k, now = 0;

	T_ASSERT(l != NULL);
	for (k = 0; k < 8; k++)
		T_CHECK(gs_limit_take(l, &k, sizeof(k), now, 1, NULL));
	T_EQ_INT(gs_limit_used(l), 8);
	now += 10 * S;			/* all full again */
	for (k = 100; k < 200; k++)
		T_CHECK(gs_limit_take(l, &k, sizeof(k), now, 1, NULL));
	T_EQ_INT(gs_limit_stats(l)->evicted, 92);	/* after the first 8 */
	T_EQ_INT(gs_limit_stats(l)->recycled, 8);
	gs_limit_free(l);
}

static void
test_new_args(void)
{
	T_CHECK(gs_limit_new(0, 1, 1) == NULL);
	T_CHECK(gs_limit_new((size_t)GS_LIMIT_CAP_MAX + 1, 1, 1) == NULL);
	T_CHECK(gs_limit_new(8, 0, 1) == NULL);
	T_CHECK(gs_limit_new(8, -1, 1) == NULL);
	T_CHECK(gs_limit_new(8, NAN, 1) == NULL);
	T_CHECK(gs_limit_new(8, 1, 0.5) == NULL);
	T_CHECK(gs_limit_new(8, 1, INFINITY) == NULL);
}

int
main(void)
{
	static const struct t_case cases[] = {
		T(test_burst), T(test_refill), T(test_retry_after),
		T(test_cost), T(test_keys), T(test_keys_collide),
		T(test_full_table),
		T(test_recycle), T(test_new_args),
	};

	gs_log_init("test_limit", GS_LOG_ERROR);
	return t_run(__FILE__, cases, GS_NELEM(cases));
}
