/*
 * The leaderboard order's figures (cmd/gs-persist/rank.c; never
 * pass/fail).  A descending board of N records (default 1,000,000):
 * scores uniform in [0, 100,000) (about 10 records share each score),
 * subscores in [0, 100), accounts 1..N.
 *
 *   build   one by one in random order (rank_insert, the accounts'
 *           keys in account order), then from the keys sorted
 *           (rank_load, as gs-persist loads a board from its index;
 *           the sorted keys are read from the first tree): time, and
 *           per record the growth of the resident set
 *           (/proc/self/statm) and rank_bytes().
 *   ops     on each tree, SAMPLES operations of each kind, each timed
 *           alone (CLOCK_MONOTONIC; the timer's own cost is printed):
 *             rank_of     a random present record's rank;
 *             top25       rank_at(a random rank) then 25 rank_next
 *                         from that rank (rank_iter_at + rank_next);
 *             around      rank_of + rank_iter_at(rank - 12) + 25
 *                         rank_next: a player and 12 either side;
 *             update      a random account's score up by 1..1,000
 *                         (rank_update: finds the old key, then
 *                         inserts the new and removes the old);
 *             rm+ins      the same as rank_remove then rank_insert;
 *             nudge       rank_update of a score up by 1, which mostly
 *                         stays in its leaf (rank.h).
 *           p50, p99 and max in ns and µs.
 *
 * The keys live in arrays by account besides the trees; the RSS growth
 * of each build is measured around the build alone, both trees kept,
 * and nothing is freed before the builds (no qsort buffer either), so
 * that freed heap reused does not hide a tree's growth.
 *
 * usage: bench_rank [records]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../cmd/gs-persist/rank.h"
#include "err.h"
#include "util.h"

#define SAMPLES		200000
#define SCORES		100000
#define SEED		0x5eed

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Resident bytes, from /proc/self/statm; 0 when unreadable. */
static size_t
rss_bytes(void)
{
	FILE		*f;
	unsigned long	 size, resident;
	long		 page = sysconf(_SC_PAGESIZE);
	int		 n;

	if (page <= 0 || (f = fopen("/proc/self/statm", "r")) == NULL)
		return 0;
	n = fscanf(f, "%lu %lu", &size, &resident);
	fclose(f);
	return n == 2 ? (size_t)resident * (size_t)page : 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
pct(const uint64_t *v, size_t n, double p)
{
	return v[(size_t)(p * (double)(n - 1) + 0.5)];
}

/* Sort the samples and print one line. */
static void
report(const char *what, uint64_t *ns, size_t n, uint64_t timer)
{
	qsort(ns, n, sizeof(ns[0]), cmp_u64);
	printf("  %-8s p50 %6llu ns  p99 %6llu ns  max %8llu ns   "
	    "(p50 %.2f us, p99 %.2f us; timer %llu ns included)\n", what,
	    (unsigned long long)pct(ns, n, 0.50),
	    (unsigned long long)pct(ns, n, 0.99),
	    (unsigned long long)ns[n - 1],
	    (double)pct(ns, n, 0.50) / 1e3, (double)pct(ns, n, 0.99) / 1e3,
	    (unsigned long long)timer);
}

/* The cost of reading the clock twice, median of many. */
static uint64_t
timer_cost(uint64_t *ns)
{
	size_t		i;
	uint64_t	t0;

	for (i = 0; i < SAMPLES; i++) {
		t0 = now_ns();
		ns[i] = now_ns() - t0;
	}
	qsort(ns, SAMPLES, sizeof(ns[0]), cmp_u64);
	return ns[SAMPLES / 2];
}

static int
fail(const char *what, int r)
{
	fprintf(stderr, "bench_rank: %s: %s\n", what, rank_result_name(r));
	return 0;
}

/* Time the operations on t, whose records are by_acct[1..n]. */
static int
bench_ops(struct rank_tree *t, struct rank_key *by_acct, size_t n,
    uint64_t *ns, uint64_t timer, uint64_t *rng)
{
	struct rank_iter	it;
	struct rank_key		k, nk;
	uint64_t		t0, a, sink = 0;
	size_t			i, j, r;
	int			e;

	for (i = 0; i < SAMPLES; i++) {
		k = by_acct[1 + gs_rand_next(rng) % n];
		t0 = now_ns();
		r = rank_of(t, &k);
		ns[i] = now_ns() - t0;
		if (r == 0)
			return fail("rank_of", RANK_ENOENT);
		sink += r;
	}
	report("rank_of", ns, SAMPLES, timer);

	for (i = 0; i < SAMPLES; i++) {
		r = 1 + gs_rand_next(rng) % n;
		t0 = now_ns();
		if (!rank_at(t, r, &k) || !rank_iter_at(t, r, &it))
			return fail("rank_at", RANK_ENOENT);
		for (j = 0; j < 25 && rank_next(&it, &k) != 0; j++)
			sink += k.account;
		ns[i] = now_ns() - t0;
	}
	report("top25", ns, SAMPLES, timer);

	for (i = 0; i < SAMPLES; i++) {
		k = by_acct[1 + gs_rand_next(rng) % n];
		t0 = now_ns();
		r = rank_of(t, &k);
		(void)rank_iter_at(t, r > 12 ? r - 12 : 1, &it);
		for (j = 0; j < 25 && rank_next(&it, &k) != 0; j++)
			sink += k.account;
		ns[i] = now_ns() - t0;
	}
	report("around", ns, SAMPLES, timer);

	for (i = 0; i < SAMPLES; i++) {
		a = 1 + gs_rand_next(rng) % n;
		nk = by_acct[a];
		nk.score += (int64_t)(1 + gs_rand_next(rng) % 1000);
		t0 = now_ns();
		e = rank_update(t, &by_acct[a], &nk);
		ns[i] = now_ns() - t0;
		if (e != RANK_OK)
			return fail("rank_update", e);
		by_acct[a] = nk;
	}
	report("update", ns, SAMPLES, timer);

	for (i = 0; i < SAMPLES; i++) {
		a = 1 + gs_rand_next(rng) % n;
		nk = by_acct[a];
		nk.score += (int64_t)(1 + gs_rand_next(rng) % 1000);
		t0 = now_ns();
		if ((e = rank_remove(t, &by_acct[a])) == RANK_OK)
			e = rank_insert(t, &nk);
		ns[i] = now_ns() - t0;
		if (e != RANK_OK)
			return fail("rm+ins", e);
		by_acct[a] = nk;
	}
	report("rm+ins", ns, SAMPLES, timer);

	for (i = 0; i < SAMPLES; i++) {
		a = 1 + gs_rand_next(rng) % n;
		nk = by_acct[a];
		nk.score++;
		t0 = now_ns();
		e = rank_update(t, &by_acct[a], &nk);
		ns[i] = now_ns() - t0;
		if (e != RANK_OK)
			return fail("nudge", e);
		by_acct[a] = nk;
	}
	report("nudge", ns, SAMPLES, timer);
	if (sink == 42)
		printf("\n");	/* keeps the reads */
	return 1;
}

static void
build_line(const char *what, uint64_t ns, size_t rss0, size_t rss1,
    const struct rank_tree *t, size_t n)
{
	printf("  %-10s %7.1f ms (%5.1f ns a record)  RSS +%6.1f MB "
	    "(%5.1f B a record)  rank_bytes %5.1f B a record\n", what,
	    (double)ns / 1e6, (double)ns / (double)n,
	    (double)(rss1 - rss0) / 1048576.0,
	    (double)(rss1 - rss0) / (double)n,
	    (double)rank_bytes(t) / (double)n);
}

int
main(int argc, char **argv)
{
	struct rank_tree	*bulk, *one;
	struct rank_iter	 it;
	struct rank_key		*sorted, *by_acct, *by_acct2;
	uint64_t		*ns, rng = SEED, t0, timer;
	size_t			 n = 1000000, i, rss0, rss1;
	long long		 v;
	int			 e;

	if (argc > 2 || (argc == 2 && gs_parse_ll(argv[1], 1, 100000000,
	    &v) != GS_OK)) {
		fprintf(stderr, "usage: bench_rank [records]\n");
		return GS_EXIT_USAGE;
	}
	if (argc == 2)
		n = (size_t)v;
	sorted = calloc(n, sizeof(*sorted));
	by_acct = calloc(n + 1, sizeof(*by_acct));
	by_acct2 = calloc(n + 1, sizeof(*by_acct2));
	ns = calloc(SAMPLES, sizeof(*ns));
	bulk = rank_new(true);
	one = rank_new(true);
	if (sorted == NULL || by_acct == NULL || by_acct2 == NULL ||
	    ns == NULL || bulk == NULL || one == NULL) {
		fprintf(stderr, "bench_rank: out of memory\n");
		return GS_EXIT_SYSTEM;
	}
	for (i = 1; i <= n; i++) {
		by_acct[i].score = (int64_t)(gs_rand_next(&rng) % SCORES);
		by_acct[i].subscore = (int64_t)(gs_rand_next(&rng) % 100);
		by_acct[i].account = i;
		by_acct2[i] = by_acct[i];
	}
	timer = timer_cost(ns);
	printf("bench_rank: %zu records, descending, %d keys a node, "
	    "%d samples an op\n", n, RANK_NODE_MAX, SAMPLES);

	printf("build:\n");
	rss0 = rss_bytes();
	t0 = now_ns();
	for (i = 1; i <= n; i++)
		if ((e = rank_insert(one, &by_acct[i])) != RANK_OK) {
			fail("rank_insert", e);
			return GS_EXIT_RUNTIME;
		}
	t0 = now_ns() - t0;
	rss1 = rss_bytes();
	build_line("one by one", t0, rss0, rss1, one, n);

	if (!rank_iter_at(one, 1, &it))
		return GS_EXIT_RUNTIME;
	for (i = 0; i < n; i++)
		if (rank_next(&it, &sorted[i]) != i + 1)
			return GS_EXIT_RUNTIME;
	rss0 = rss_bytes();
	t0 = now_ns();
	if ((e = rank_load(bulk, sorted, n)) != RANK_OK) {
		fail("rank_load", e);
		return GS_EXIT_RUNTIME;
	}
	t0 = now_ns() - t0;
	rss1 = rss_bytes();
	build_line("bulk", t0, rss0, rss1, bulk, n);
	free(sorted);

	printf("ops on the bulk-built tree:\n");
	if (!bench_ops(bulk, by_acct, n, ns, timer, &rng))
		return GS_EXIT_RUNTIME;
	printf("  after the updates: rank_bytes %.1f B a record\n",
	    (double)rank_bytes(bulk) / (double)n);
	printf("ops on the tree built one by one:\n");
	if (!bench_ops(one, by_acct2, n, ns, timer, &rng))
		return GS_EXIT_RUNTIME;
	if (rank_check(bulk) != NULL || rank_check(one) != NULL) {
		fprintf(stderr, "bench_rank: rank_check: %s\n",
		    rank_check(bulk) ? rank_check(bulk) : rank_check(one));
		return GS_EXIT_RUNTIME;
	}
	rank_free(bulk);
	rank_free(one);
	free(by_acct);
	free(by_acct2);
	free(ns);
	return GS_EXIT_OK;
}
