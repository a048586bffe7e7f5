/*
 * gs-persist's leaderboard order (cmd/gs-persist/rank.c), a pure
 * module: the test links it and checks it against a model, a plain
 * sorted array with its own comparison written from rank.h's words
 * (not from the tree's key encoding).  Small nodes (rank_new_sized 4,
 * 5 and 7) give trees of many levels from a few hundred records, so
 * splits, shares, merges and root changes happen at every level;
 * RANK_NODE_MAX is the size used in production.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cmd/gs-persist/rank.h"
#include "t.h"
#include "util.h"

/* ------------------------------------------------------------ the model */

/* Print why a comparison failed; returns 0 (a failed comparison). */
static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
bad(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	return 0;
}

struct model {
	bool		 desc;
	struct rank_key	*k;	/* sorted by mcmp */
	size_t		 n, cap;
};

/* rank.h's order: score, then subscore, both descending on a
 * descending board; then account, ascending on every board. */
static int
mcmp(bool desc, const struct rank_key *a, const struct rank_key *b)
{
	int	c;

	if (a->score != b->score) {
		c = a->score < b->score ? -1 : 1;
		return desc ? -c : c;
	}
	if (a->subscore != b->subscore) {
		c = a->subscore < b->subscore ? -1 : 1;
		return desc ? -c : c;
	}
	if (a->account != b->account)
		return a->account < b->account ? -1 : 1;
	return 0;
}

static int
keq(const struct rank_key *a, const struct rank_key *b)
{
	return a->score == b->score && a->subscore == b->subscore &&
	    a->account == b->account;
}

/* Records sorting before k. */
static size_t
m_lb(const struct model *m, const struct rank_key *k)
{
	size_t	lo = 0, hi = m->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (mcmp(m->desc, &m->k[mid], k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* 1-based rank, 0 when absent. */
static size_t
m_rank(const struct model *m, const struct rank_key *k)
{
	size_t	i = m_lb(m, k);

	return i < m->n && keq(&m->k[i], k) ? i + 1 : 0;
}

static void
m_insert(struct model *m, const struct rank_key *k)
{
	size_t	i = m_lb(m, k);

	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		if ((m->k = realloc(m->k, m->cap * sizeof(*m->k))) == NULL)
			abort();
	}
	memmove(&m->k[i + 1], &m->k[i], (m->n - i) * sizeof(*m->k));
	m->k[i] = *k;
	m->n++;
}

static void
m_remove(struct model *m, const struct rank_key *k)
{
	size_t	i = m_rank(m, k) - 1;

	memmove(&m->k[i], &m->k[i + 1], (m->n - i - 1) * sizeof(*m->k));
	m->n--;
}

static struct rank_key
K(int64_t score, int64_t subscore, uint64_t account)
{
	struct rank_key	k;

	k.score = score;
	k.subscore = subscore;
	k.account = account;
	return k;
}

/*
 * The tree holds exactly the model: rank_check, count, the whole
 * iteration from rank 1, rank_at and rank_of of every record.  Prints
 * the first difference; returns whether there was none.
 */
static int
same(const struct rank_tree *t, const struct model *m)
{
	struct rank_iter	it;
	struct rank_key		k;
	const char		*why;
	size_t			 i, r;

	if ((why = rank_check(t)) != NULL) {
		fprintf(stderr, "rank_check: %s\n", why);
		return 0;
	}
	if (rank_count(t) != m->n) {
		fprintf(stderr, "count %zu, model %zu\n", rank_count(t), m->n);
		return 0;
	}
	if (rank_iter_at(t, 1, &it) != (m->n > 0))
		return 0;
	for (i = 0; i < m->n; i++) {
		if ((r = rank_next(&it, &k)) != i + 1 || !keq(&k, &m->k[i])) {
			fprintf(stderr, "iteration: rank %zu (want %zu) key "
			    "%lld/%lld/%llu\n", r, i + 1, (long long)k.score,
			    (long long)k.subscore,
			    (unsigned long long)k.account);
			return 0;
		}
		if (!rank_at(t, i + 1, &k) || !keq(&k, &m->k[i])) {
			fprintf(stderr, "rank_at %zu\n", i + 1);
			return 0;
		}
		if (rank_of(t, &m->k[i]) != i + 1) {
			fprintf(stderr, "rank_of: %zu, want %zu\n",
			    rank_of(t, &m->k[i]), i + 1);
			return 0;
		}
	}
	if (rank_next(&it, &k) != 0 || rank_at(t, m->n + 1, &k))
		return 0;
	return 1;
}

/* ------------------------------------------------------------ random keys */

static const int64_t	extremes[] = {
	INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX - 1, INT64_MAX
};

/* Scores and subscores from small ranges, so that ties are common,
 * and now and then the extremes of int64_t. */
static int64_t
rnd_score(uint64_t *rng, int64_t span)
{
	uint64_t	r = gs_rand_next(rng);

	if (r % 16 == 0)
		return extremes[(r >> 8) % GS_NELEM(extremes)];
	return (int64_t)((r >> 8) % (uint64_t)(2 * span + 1)) - span;
}

static struct rank_key
rnd_key(uint64_t *rng, uint64_t account)
{
	return K(rnd_score(rng, 8), rnd_score(rng, 1), account);
}

/* perm[0..n) := a random permutation of 0..n-1. */
static void
shuffle(size_t *perm, size_t n, uint64_t *rng)
{
	size_t	i, j, x;

	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = n; i > 1; i--) {
		j = gs_rand_next(rng) % i;
		x = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = x;
	}
}

/* ------------------------------------------------------------ edges */

static void
test_names(void)
{
	T_CHECK(strcmp(rank_result_name(RANK_OK), "ok") == 0);
	T_CHECK(strcmp(rank_result_name(RANK_EEXIST), "exist") == 0);
	T_CHECK(strcmp(rank_result_name(RANK_ENOENT), "noent") == 0);
	T_CHECK(strcmp(rank_result_name(RANK_ENOMEM), "nomem") == 0);
	T_CHECK(strcmp(rank_result_name(RANK_EINVAL), "inval") == 0);
	T_CHECK(strcmp(rank_result_name(RANK_RESULT_MAX), "unknown") == 0);
	T_CHECK(strcmp(rank_result_name(-1), "unknown") == 0);
}

static void
test_empty(void)
{
	struct rank_tree	*t;
	struct rank_iter	 it;
	struct rank_key		 k = K(5, 5, 5), out = K(1, 2, 3);

	T_ASSERT((t = rank_new(true)) != NULL);
	T_CHECK(rank_descending(t));
	T_EQ_INT(rank_count(t), 0);
	T_EQ_INT(rank_of(t, &k), 0);
	T_EQ_INT(rank_before(t, &k), 0);
	T_CHECK(!rank_at(t, 0, &out));
	T_CHECK(!rank_at(t, 1, &out));
	T_CHECK(keq(&out, &(struct rank_key){ 1, 2, 3 }));
	T_CHECK(!rank_iter_at(t, 1, &it));
	T_EQ_INT(rank_next(&it, &out), 0);
	T_CHECK(keq(&out, &(struct rank_key){ 1, 2, 3 }));
	T_EQ_INT(rank_remove(t, &k), RANK_ENOENT);
	T_EQ_INT(rank_update(t, &k, &out), RANK_ENOENT);
	T_EQ_INT(rank_count(t), 0);
	T_CHECK(rank_check(t) == NULL);
	T_CHECK(rank_bytes(t) > 0);
	rank_free(t);
	rank_free(NULL);
}

static void
test_one(void)
{
	struct rank_tree	*t;
	struct rank_iter	 it;
	struct rank_key		 k = K(-7, 3, 42), out;

	T_ASSERT((t = rank_new(false)) != NULL);
	T_CHECK(!rank_descending(t));
	T_EQ_INT(rank_insert(t, &k), RANK_OK);
	T_EQ_INT(rank_count(t), 1);
	T_EQ_INT(rank_of(t, &k), 1);
	T_EQ_INT(rank_before(t, &k), 0);
	T_EQ_INT(rank_before(t, &(struct rank_key){ -7, 3, 43 }), 1);
	T_EQ_INT(rank_before(t, &(struct rank_key){ -8, 3, 43 }), 0);
	T_EQ_INT(rank_of(t, &(struct rank_key){ -7, 3, 43 }), 0);
	T_CHECK(!rank_at(t, 0, &out));
	T_CHECK(rank_at(t, 1, &out) && keq(&out, &k));
	T_CHECK(!rank_at(t, 2, &out));
	T_CHECK(!rank_at(t, SIZE_MAX, &out));
	T_CHECK(!rank_iter_at(t, 0, &it));
	T_EQ_INT(rank_next(&it, &out), 0);
	T_CHECK(!rank_iter_at(t, 2, &it));
	T_EQ_INT(rank_next(&it, &out), 0);
	T_CHECK(rank_iter_at(t, 1, &it));
	T_EQ_INT(rank_next(&it, &out), 1);
	T_CHECK(keq(&out, &k));
	T_EQ_INT(rank_next(&it, &out), 0);
	T_EQ_INT(rank_next(&it, &out), 0);
	/* Removing needs the exact key. */
	T_EQ_INT(rank_remove(t, &(struct rank_key){ -7, 4, 42 }), RANK_ENOENT);
	T_EQ_INT(rank_remove(t, &(struct rank_key){ -6, 3, 42 }), RANK_ENOENT);
	T_EQ_INT(rank_count(t), 1);
	T_EQ_INT(rank_remove(t, &k), RANK_OK);
	T_EQ_INT(rank_count(t), 0);
	T_EQ_INT(rank_of(t, &k), 0);
	T_EQ_INT(rank_remove(t, &k), RANK_ENOENT);
	T_CHECK(rank_check(t) == NULL);
	rank_free(t);
}

/*
 * The same account twice: the exact key is refused; the same account
 * with another score is another key, which the tree cannot tell from
 * a new record (rank.h: the caller's database keeps one per account).
 */
static void
test_duplicates(void)
{
	struct rank_tree	*t;
	struct rank_key		 a = K(10, 0, 7), b = K(10, 0, 8), out;

	T_ASSERT((t = rank_new(true)) != NULL);
	T_EQ_INT(rank_insert(t, &a), RANK_OK);
	T_EQ_INT(rank_insert(t, &a), RANK_EEXIST);
	T_EQ_INT(rank_count(t), 1);
	T_EQ_INT(rank_insert(t, &b), RANK_OK);
	/* update onto another record's key: refused, nothing moves */
	T_EQ_INT(rank_update(t, &a, &b), RANK_EEXIST);
	T_EQ_INT(rank_of(t, &a), 1);
	T_EQ_INT(rank_of(t, &b), 2);
	/* update onto itself: nothing to do */
	T_EQ_INT(rank_update(t, &a, &a), RANK_OK);
	T_EQ_INT(rank_count(t), 2);
	/* update of an absent key, even to a free one */
	T_EQ_INT(rank_update(t, &(struct rank_key){ 11, 0, 7 },
	    &(struct rank_key){ 12, 0, 7 }), RANK_ENOENT);
	T_EQ_INT(rank_count(t), 2);
	T_EQ_INT(rank_insert(t, &(struct rank_key){ 11, 0, 7 }), RANK_OK);
	T_EQ_INT(rank_count(t), 3);
	T_CHECK(rank_at(t, 1, &out) && keq(&out, &(struct rank_key){ 11, 0, 7 }));
	T_CHECK(rank_check(t) == NULL);
	rank_free(t);
}

/* The order of rank.h spelled out on both kinds of board, the int64_t
 * extremes included, each direction given the keys shuffled. */
static void
test_order(void)
{
	static const struct rank_key	desc[] = {
		{ INT64_MAX, INT64_MIN, 1 },
		{ 100, 5, 7 }, { 100, 5, 9 }, { 100, 3, 1 }, { 100, -3, 0 },
		{ 90, 9, 2 }, { 0, 0, 0 }, { 0, 0, UINT64_MAX },
		{ -1, INT64_MAX, 5 }, { -1, INT64_MAX, 6 }, { -1, 0, 4 },
		{ INT64_MIN, INT64_MAX, 3 }, { INT64_MIN, INT64_MIN, 2 },
	};
	static const struct rank_key	asc[] = {
		{ INT64_MIN, INT64_MIN, 2 }, { INT64_MIN, INT64_MAX, 3 },
		{ -1, 0, 4 }, { -1, INT64_MAX, 5 }, { -1, INT64_MAX, 6 },
		{ 0, 0, 0 }, { 0, 0, UINT64_MAX }, { 90, 9, 2 },
		{ 100, -3, 0 }, { 100, 3, 1 }, { 100, 5, 7 }, { 100, 5, 9 },
		{ INT64_MAX, INT64_MIN, 1 },
	};
	const struct rank_key	*want;
	struct rank_tree	*t;
	struct rank_key		 out;
	size_t			 n = GS_NELEM(desc), i, perm[GS_NELEM(desc)];
	uint64_t		 rng = 11;
	int			 d;

	for (d = 0; d < 2; d++) {
		want = d ? desc : asc;
		T_ASSERT((t = rank_new(d)) != NULL);
		shuffle(perm, n, &rng);
		for (i = 0; i < n; i++)
			T_EQ_INT(rank_insert(t, &want[perm[i]]), RANK_OK);
		for (i = 0; i < n; i++) {
			T_CHECK(rank_at(t, i + 1, &out) && keq(&out, &want[i]));
			T_EQ_INT(rank_of(t, &want[i]), i + 1);
			if (i > 0) {
				T_CHECK(rank_cmp(t, &want[i - 1], &want[i]) < 0);
				T_CHECK(rank_cmp(t, &want[i], &want[i - 1]) > 0);
			}
			T_EQ_INT(rank_cmp(t, &want[i], &want[i]), 0);
		}
		rank_free(t);
	}
}

/* ------------------------------------------------------------ property */

#define NACCT	700

/*
 * One random session against the model: accounts come, change score
 * (by a little, staying in their leaf, or by a lot) and go; every
 * query is compared as it is made and the whole tree every 256 steps.
 * Phases alternate growth and shrinkage, down to empty and back, so
 * that every level splits and merges and the root comes and goes.
 * The tree may come pre-loaded (rank_load): the model then holds the
 * same keys, and cur[] says which account holds which.
 */
struct session {
	struct rank_tree	*t;
	struct model		 m;
	struct rank_key		 cur[NACCT];
	bool			 in[NACCT];
	uint64_t		 rng;
};

/* A key that is not in the tree: a present account's key moved, or
 * an absent account's. */
static struct rank_key
absent_key(struct session *s)
{
	struct rank_key	k;

	do
		k = rnd_key(&s->rng, gs_rand_next(&s->rng) % (NACCT + 5));
	while (m_rank(&s->m, &k) != 0);
	return k;
}

/* A present account, chosen at random (the model is not empty). */
static uint64_t
present(struct session *s)
{
	return s->m.k[gs_rand_next(&s->rng) % s->m.n].account;
}

/* One step; false (after printing why) at the first difference. */
static int
step(struct session *s, unsigned grow_pct)
{
	struct rank_iter	it;
	struct rank_key		k, nk, out;
	size_t			r, want, i;
	uint64_t		a, op = gs_rand_next(&s->rng) % 100;

	if (op < 35) {				/* insert, or update */
		a = gs_rand_next(&s->rng) % NACCT;
		if (!s->in[a] && gs_rand_next(&s->rng) % 100 < grow_pct) {
			k = rnd_key(&s->rng, a);	/* a is out: k too */
			if (rank_insert(s->t, &k) != RANK_OK)
				return bad("insert\n");
			m_insert(&s->m, &k);
			s->cur[a] = k;
			s->in[a] = true;
		} else if (s->in[a]) {
			/* A nudge (mostly within the leaf) or a jump. */
			nk = s->cur[a];
			if (gs_rand_next(&s->rng) % 2 == 0)
				nk = rnd_key(&s->rng, a);
			else if (nk.subscore == INT64_MIN ||
			    nk.subscore == INT64_MAX)
				nk.subscore = 0;
			else
				nk.subscore += gs_rand_next(&s->rng) % 2 ? 1 : -1;
			if (rank_update(s->t, &s->cur[a], &nk) != RANK_OK)
				return bad("update\n");
			m_remove(&s->m, &s->cur[a]);
			m_insert(&s->m, &nk);
			s->cur[a] = nk;
		}
	} else if (op < 60) {			/* remove */
		if (s->m.n == 0 || gs_rand_next(&s->rng) % 100 < grow_pct)
			return 1;
		a = present(s);
		if (rank_remove(s->t, &s->cur[a]) != RANK_OK)
			return bad("remove\n");
		m_remove(&s->m, &s->cur[a]);
		s->in[a] = false;
	} else if (op < 66) {			/* refusals: nothing changes */
		k = absent_key(s);
		nk = absent_key(s);
		if (rank_remove(s->t, &k) != RANK_ENOENT ||
		    rank_update(s->t, &k, &k) != RANK_ENOENT ||
		    (!keq(&k, &nk) &&
		    rank_update(s->t, &k, &nk) != RANK_ENOENT))
			return bad("absent key accepted\n");
		if (s->m.n > 0) {
			a = present(s);
			if (rank_insert(s->t, &s->cur[a]) != RANK_EEXIST)
				return bad("duplicate\n");
			k = s->m.k[gs_rand_next(&s->rng) % s->m.n];
			if (k.account != a && rank_update(s->t, &s->cur[a],
			    &k) != RANK_EEXIST)
				return bad("update onto\n");
		}
		if (rank_count(s->t) != s->m.n)
			return bad("refusal changed count\n");
	} else if (op < 78) {			/* rank_of, rank_before */
		if (s->m.n > 0 && gs_rand_next(&s->rng) % 2) {
			k = s->cur[present(s)];
			want = m_rank(&s->m, &k);
		} else {
			k = absent_key(s);
			want = 0;
		}
		if ((r = rank_of(s->t, &k)) != want)
			return bad("rank_of %zu, want %zu\n", r,
			    want);
		k = rnd_key(&s->rng, gs_rand_next(&s->rng) % (NACCT + 5));
		if ((r = rank_before(s->t, &k)) != m_lb(&s->m, &k))
			return bad("rank_before %zu, want %zu\n",
			    r, m_lb(&s->m, &k));
	} else if (op < 88) {			/* rank_at, 0 to n + 1 */
		r = gs_rand_next(&s->rng) % (s->m.n + 2);
		out = K(1, 2, 3);
		if (rank_at(s->t, r, &out) != (r >= 1 && r <= s->m.n))
			return bad("rank_at %zu\n", r);
		if (r >= 1 && r <= s->m.n ? !keq(&out, &s->m.k[r - 1]) :
		    !keq(&out, &(struct rank_key){ 1, 2, 3 }))
			return bad("rank_at %zu key\n", r);
	} else {				/* up to 25 from a rank */
		r = gs_rand_next(&s->rng) % (s->m.n + 2);
		if (rank_iter_at(s->t, r, &it) != (r >= 1 && r <= s->m.n))
			return bad("iter_at %zu\n", r);
		for (i = 0; i < 25; i++) {
			want = r >= 1 && r + i <= s->m.n ? r + i : 0;
			if (rank_next(&it, &out) != want ||
			    (want != 0 && !keq(&out, &s->m.k[want - 1])))
				return bad("next from %zu +%zu\n",
				    r, i);
		}
	}
	if (rank_count(s->t) != s->m.n)
		return bad("count\n");
	return 1;
}

/* Run steps phases of growth and shrinkage; false on a difference. */
static int
session_run(struct session *s, unsigned steps)
{
	unsigned	i;

	for (i = 0; i < steps; i++) {
		if (!step(s, (i / 4000) % 2 ? 10 : 90)) {
			fprintf(stderr, "step %u, %zu records\n", i, s->m.n);
			return 0;
		}
		if (i % 256 == 0 && !same(s->t, &s->m)) {
			fprintf(stderr, "step %u, %zu records\n", i, s->m.n);
			return 0;
		}
	}
	return same(s->t, &s->m);
}

static void
session_init(struct session *s, bool desc, unsigned node, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->m.desc = desc;
	s->rng = seed;
	s->t = rank_new_sized(desc, node);
}

static void
session_end(struct session *s)
{
	rank_free(s->t);
	free(s->m.k);
}

static void
test_random(void)
{
	static const unsigned	nodes[] = { 4, 5, 7, RANK_NODE_MAX };
	struct session		s;
	size_t			i;
	int			d;

	for (i = 0; i < GS_NELEM(nodes); i++)
		for (d = 0; d < 2; d++) {
			session_init(&s, d, nodes[i], 1000 + 2 * i + d);
			T_ASSERT(s.t != NULL);
			if (!session_run(&s, 24000)) {
				fprintf(stderr, "node %u, %s\n", nodes[i],
				    d ? "descending" : "ascending");
				T_CHECK(0);
			}
			session_end(&s);
		}
}

/*
 * rank_new_sized clamps the node size: 0 makes nodes of 4 (1,000 keys
 * take 250 leaves or more, each the size of a full one), 1000 makes
 * nodes of 64 (40 leaves at most).
 */
static void
test_sized(void)
{
	struct rank_tree	*t;
	struct rank_key		 k;
	uint64_t		 i;
	int			 d;

	for (d = 0; d < 2; d++) {
		T_ASSERT((t = rank_new_sized(d, d ? 1000 : 0)) != NULL);
		for (i = 0; i < 1000; i++) {
			k = K((int64_t)(i * 7919 % 1000), 0, i);
			T_EQ_INT(rank_insert(t, &k), RANK_OK);
		}
		T_CHECK(rank_check(t) == NULL);
		T_EQ_INT(rank_count(t), 1000);
		if (d)
			T_CHECK(rank_bytes(t) < 40 * 64 * 24 * 2);
		else
			T_CHECK(rank_bytes(t) > 250 * 64 * 24);
		rank_free(t);
	}
}

/* ------------------------------------------------------------ bulk load */

/* n distinct keys with many ties, sorted in the board's order. */
static struct rank_key *
sorted_keys(bool desc, size_t n, uint64_t *rng)
{
	struct rank_key	*k;
	struct model	 m;
	size_t		 i;

	memset(&m, 0, sizeof(m));
	m.desc = desc;
	for (i = 0; i < n; i++) {
		struct rank_key	x = K(rnd_score(rng, 50), rnd_score(rng, 2),
		    i);

		m_insert(&m, &x);
	}
	k = m.k;
	return k;
}

/* Loads of every size around the node boundaries, then a session of
 * mutations on the loaded tree. */
static void
test_load(void)
{
	static const size_t	sizes[] = { 0, 1, 2, 3, 4, 5, 8, 9, 16, 17,
	    63, 64, 65, 127, 128, 129, 300, NACCT };
	static const unsigned	nodes[] = { 4, 5, RANK_NODE_MAX };
	struct session		s;
	struct rank_key		*keys;
	size_t			 i, j, n;
	int			 d;

	for (d = 0; d < 2; d++)
		for (i = 0; i < GS_NELEM(nodes); i++)
			for (j = 0; j < GS_NELEM(sizes); j++) {
				n = sizes[j];
				session_init(&s, d, nodes[i], 77 + j);
				T_ASSERT(s.t != NULL);
				keys = sorted_keys(d, n, &s.rng);
				T_EQ_INT(rank_load(s.t, keys, n), RANK_OK);
				s.m.k = keys;		/* the model's now */
				s.m.n = s.m.cap = n;
				for (n = 0; n < s.m.n; n++) {
					s.cur[keys[n].account] = keys[n];
					s.in[keys[n].account] = true;
				}
				if (!same(s.t, &s.m) ||
				    !session_run(&s, j + 1 == GS_NELEM(sizes) ?
				    12000 : 600)) {
					fprintf(stderr, "load %zu node %u %s\n",
					    sizes[j], nodes[i],
					    d ? "descending" : "ascending");
					T_CHECK(0);
				}
				session_end(&s);
			}
}

/* A load that is refused leaves the tree as it was. */
static void
test_load_refused(void)
{
	struct rank_tree	*t;
	struct rank_key		 k[3], out;

	T_ASSERT((t = rank_new_sized(true, 4)) != NULL);
	/* A descending board: scores 1, 2, 3 are out of order. */
	k[0] = K(1, 0, 1);
	k[1] = K(2, 0, 2);
	k[2] = K(3, 0, 3);
	T_EQ_INT(rank_load(t, k, 3), RANK_EINVAL);
	T_EQ_INT(rank_count(t), 0);
	/* A tie broken by account descending: out of order too. */
	k[0] = K(3, 0, 2);
	k[1] = K(3, 0, 1);
	k[2] = K(1, 0, 3);
	T_EQ_INT(rank_load(t, k, 3), RANK_EINVAL);
	/* A repeated key. */
	k[1] = k[0];
	T_EQ_INT(rank_load(t, k, 3), RANK_EINVAL);
	T_EQ_INT(rank_count(t), 0);
	T_CHECK(rank_check(t) == NULL);
	/* In order: 3 (accounts 1, 2), then 1. */
	k[0] = K(3, 0, 1);
	k[1] = K(3, 0, 2);
	T_EQ_INT(rank_load(t, k, 3), RANK_OK);
	T_EQ_INT(rank_count(t), 3);
	T_EQ_INT(rank_load(t, k, 0), RANK_EINVAL);	/* not empty */
	T_EQ_INT(rank_load(t, k, 3), RANK_EINVAL);
	T_EQ_INT(rank_count(t), 3);
	T_CHECK(rank_at(t, 2, &out) && keq(&out, &(struct rank_key){ 3, 0, 2 }));
	T_CHECK(rank_check(t) == NULL);
	rank_free(t);
}

/* Loaded leaves are full: 24.25 bytes a key in leaves with 64-key
 * nodes, under 1 in inner nodes. */
static void
test_load_memory(void)
{
	struct rank_tree	*t;
	struct rank_key		*keys;
	uint64_t		 rng = 5;
	size_t			 n = 20000;

	T_ASSERT((t = rank_new(true)) != NULL);
	keys = sorted_keys(true, n, &rng);
	T_EQ_INT(rank_load(t, keys, n), RANK_OK);
	T_CHECK(rank_bytes(t) < n * 26);
	T_CHECK(rank_check(t) == NULL);
	free(keys);
	rank_free(t);
}

/*
 * Keys inserted one by one in order (new accounts at the bottom of a
 * descending board, all with score 0) fill leaves by sharing with the
 * full leaf's neighbour instead of leaving every leaf half full.
 */
static void
test_append_memory(void)
{
	struct rank_tree	*t;
	struct rank_key		 k;
	uint64_t		 i, n = 20000;

	T_ASSERT((t = rank_new(true)) != NULL);
	for (i = 1; i <= n; i++) {
		k = K(0, 0, i);
		T_EQ_INT(rank_insert(t, &k), RANK_OK);
	}
	T_CHECK(rank_bytes(t) < n * 28);
	T_CHECK(rank_check(t) == NULL);
	rank_free(t);
}

/* ------------------------------------------------------------ the limit */

/*
 * Random inserts and updates under a limit: each either works or fails
 * with RANK_ENOMEM and changes nothing; the tree grows only within the
 * limit.  The limit starts at limit and grows by step_limit bytes
 * every 16 tries, so that a split finds room for its leaf and not for
 * the inner nodes above it, or for some of them.  Counts the outcomes.
 */
static void
churn_limited(struct session *s, size_t limit, size_t step_limit,
    unsigned tries, size_t *ok, size_t *refused)
{
	struct rank_key	nk;
	size_t		before;
	uint64_t	a;
	unsigned	i;
	int		r;

	for (i = 0; i < tries; i++) {
		if (i > 0 && i % 16 == 0)
			limit += step_limit;
		rank_set_limit(s->t, limit);
		a = gs_rand_next(&s->rng) % NACCT;
		nk = rnd_key(&s->rng, a);
		if (m_rank(&s->m, &nk) != 0)
			continue;
		before = rank_bytes(s->t);
		if (s->in[a])
			r = rank_update(s->t, &s->cur[a], &nk);
		else
			r = rank_insert(s->t, &nk);
		if (r == RANK_ENOMEM) {
			(*refused)++;
			T_ASSERT(rank_bytes(s->t) == before);
			continue;
		}
		T_ASSERT(r == RANK_OK);
		T_ASSERT(rank_bytes(s->t) <= before ||
		    rank_bytes(s->t) <= limit);
		(*ok)++;
		if (s->in[a])
			m_remove(&s->m, &s->cur[a]);
		m_insert(&s->m, &nk);
		s->cur[a] = nk;
		s->in[a] = true;
	}
}

static void
test_limit(void)
{
	struct session	s;
	struct rank_key	k;
	size_t		ok = 0, refused = 0, i;
	int		d;

	for (d = 0; d < 2; d++) {
		session_init(&s, d, 4, 900 + d);
		T_ASSERT(s.t != NULL);
		ok = refused = 0;
		churn_limited(&s, SIZE_MAX, 0, 300, &ok, &refused);
		T_CHECK(ok > 0 && refused == 0);

		/* A limit below the tree's size: no node may be added,
		 * what fits in a leaf still goes. */
		ok = refused = 0;
		churn_limited(&s, 0, 0, 300, &ok, &refused);
		T_CHECK(ok > 0 && refused > 0);
		T_ASSERT(same(s.t, &s.m));
		/* The limit at the tree's size: the same, until every
		 * leaf is full. */
		ok = refused = 0;
		churn_limited(&s, rank_bytes(s.t), 0, 3000, &ok, &refused);
		T_CHECK(ok > 0 && refused > 0);
		T_ASSERT(same(s.t, &s.m));
		/* A limit that rises slowly: splits fail part way. */
		ok = refused = 0;
		churn_limited(&s, rank_bytes(s.t), 512, 8000, &ok, &refused);
		T_CHECK(ok > 0 && refused > 0);
		T_ASSERT(same(s.t, &s.m));

		/* Removing needs no memory. */
		rank_set_limit(s.t, 0);
		while (s.m.n > 0) {
			k = s.m.k[gs_rand_next(&s.rng) % s.m.n];
			T_EQ_INT(rank_remove(s.t, &k), RANK_OK);
			m_remove(&s.m, &k);
			s.in[k.account] = false;
		}
		T_ASSERT(same(s.t, &s.m));

		/* Loads under every limit from the empty tree's size up,
		 * in steps of 256 bytes: refused (leaving the tree empty)
		 * until the whole tree fits, then done. */
		free(s.m.k);
		s.m.k = sorted_keys(d, NACCT, &s.rng);
		s.m.cap = NACCT;
		for (i = rank_bytes(s.t);; i += 256) {
			rank_set_limit(s.t, i);
			if (rank_load(s.t, s.m.k, NACCT) == RANK_OK)
				break;
			T_ASSERT(same(s.t, &s.m));	/* empty */
			T_ASSERT(i < 100u << 20);
		}
		T_CHECK(rank_bytes(s.t) <= i && rank_bytes(s.t) + 256 > i);
		s.m.n = NACCT;
		T_CHECK(same(s.t, &s.m));
		session_end(&s);
	}
}

T_MAIN(T(test_names), T(test_empty), T(test_one), T(test_duplicates),
    T(test_order), T(test_random), T(test_sized), T(test_load),
    T(test_load_refused), T(test_load_memory), T(test_append_memory),
    T(test_limit))
