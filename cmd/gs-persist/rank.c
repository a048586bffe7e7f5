/*
 * The counted B+tree of rank.h.
 *
 * Keys are stored encoded (struct nkey) so that one comparison, three
 * unsigned words in turn, serves both directions: score and subscore
 * are offset into unsigned order and, on a descending board, also
 * inverted; both are one xor with the tree's mask.
 *
 * Invariants (rank_check() tests each):
 *   - every leaf is at depth t->height; leaves hold 1..max keys, at
 *     least t->min unless the leaf is the root (which may be empty);
 *   - inner nodes hold t->min..max children, the root 2..max;
 *   - sep[i] (i >= 1) of an inner node is above every key under child
 *     i - 1 and at most every key under child i; sep[0] is unused;
 *   - cnt[i] is the number of keys under child i;
 *   - keys increase strictly along each leaf and along the leaf chain,
 *     which links every leaf in order and ends with NULL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rank.h"

/*
 * Inner levels at most.  A non-root node holds at least min >= 2
 * entries and the root at least 2 children, so a tree of height h has
 * at least 2^(h+1) keys; size_t cannot count 2^64.
 */
#define DEPTH_MAX	64

#define SCORE_ASC	UINT64_C(0x8000000000000000)	/* offset */
#define SCORE_DESC	UINT64_C(0x7fffffffffffffff)	/* offset, inverted */

struct nkey {
	uint64_t	s, ss, acct;
};

struct rank_leaf {
	struct rank_leaf	*next;		/* in order; NULL: the last */
	unsigned		 n;
	struct nkey		 k[RANK_NODE_MAX];
};

struct inner {
	unsigned	 n;			/* children */
	struct nkey	 sep[RANK_NODE_MAX];
	size_t		 cnt[RANK_NODE_MAX];
	void		*child[RANK_NODE_MAX];	/* struct inner or, on the
						 * last inner level,
						 * struct rank_leaf */
};

struct rank_tree {
	void		*root;		/* a leaf when height is 0 */
	unsigned	 height;	/* inner levels */
	unsigned	 max, min;	/* entries in a node */
	uint64_t	 mask;		/* SCORE_ASC or SCORE_DESC */
	size_t		 n;
	size_t		 nleaf, ninner;
	size_t		 limit;		/* rank_bytes() at most */
};

/* A root-to-leaf path: path[d] is the inner node at depth d, idx[d]
 * the child taken. */
struct path {
	struct inner	*in[DEPTH_MAX];
	unsigned	 idx[DEPTH_MAX];
};

const char *
rank_result_name(int r)
{
	static const char *const names[RANK_RESULT_MAX] = {
		[RANK_OK] = "ok",
		[RANK_EEXIST] = "exist",
		[RANK_ENOENT] = "noent",
		[RANK_ENOMEM] = "nomem",
		[RANK_EINVAL] = "inval",
	};

	if (r < 0 || r >= RANK_RESULT_MAX || names[r] == NULL)
		return "unknown";
	return names[r];
}

/* ------------------------------------------------------------ keys */

static struct nkey
enc(const struct rank_tree *t, const struct rank_key *k)
{
	struct nkey	nk;

	nk.s = (uint64_t)k->score ^ t->mask;
	nk.ss = (uint64_t)k->subscore ^ t->mask;
	nk.acct = k->account;
	return nk;
}

/* The int64_t whose two's complement bits are u, without relying on
 * an implementation-defined conversion. */
static int64_t
i64(uint64_t u)
{
	if (u <= INT64_MAX)
		return (int64_t)u;
	return -(int64_t)(UINT64_MAX - u) - 1;
}

static void
dec(const struct rank_tree *t, const struct nkey *nk, struct rank_key *k)
{
	k->score = i64(nk->s ^ t->mask);
	k->subscore = i64(nk->ss ^ t->mask);
	k->account = nk->acct;
}

static int
ncmp(const struct nkey *a, const struct nkey *b)
{
	if (a->s != b->s)
		return a->s < b->s ? -1 : 1;
	if (a->ss != b->ss)
		return a->ss < b->ss ? -1 : 1;
	if (a->acct != b->acct)
		return a->acct < b->acct ? -1 : 1;
	return 0;
}

static int
nless(const struct nkey *a, const struct nkey *b)
{
	return ncmp(a, b) < 0;
}

int
rank_cmp(const struct rank_tree *t, const struct rank_key *a,
    const struct rank_key *b)
{
	struct nkey	x = enc(t, a), y = enc(t, b);

	return ncmp(&x, &y);
}

/* ------------------------------------------------------------ nodes */

static size_t
bytes(size_t nleaf, size_t ninner)
{
	return sizeof(struct rank_tree) + nleaf * sizeof(struct rank_leaf) +
	    ninner * sizeof(struct inner);
}

/*
 * Whether size bytes more would stay under the limit.  The node
 * allocators check it, so that the limit fails an allocation exactly
 * where malloc could: the tests drive every failure path with it.
 */
static int
room_for(const struct rank_tree *t, size_t size)
{
	size_t	now = bytes(t->nleaf, t->ninner);

	return now <= t->limit && size <= t->limit - now;
}

static struct rank_leaf *
leaf_new(struct rank_tree *t)
{
	struct rank_leaf	*l;

	if (!room_for(t, sizeof(*l)) || (l = malloc(sizeof(*l))) == NULL)
		return NULL;
	l->next = NULL;
	l->n = 0;
	t->nleaf++;
	return l;
}

static void
leaf_free(struct rank_tree *t, struct rank_leaf *l)
{
	free(l);
	t->nleaf--;
}

static struct inner *
inner_new(struct rank_tree *t)
{
	struct inner	*in;

	if (!room_for(t, sizeof(*in)) || (in = malloc(sizeof(*in))) == NULL)
		return NULL;
	in->n = 0;
	t->ninner++;
	return in;
}

static void
inner_free(struct rank_tree *t, struct inner *in)
{
	free(in);
	t->ninner--;
}

/* Free a subtree of h inner levels (0: a leaf), except the leaf
 * keep (NULL: none). */
static void
node_free(struct rank_tree *t, void *node, unsigned h,
    const struct rank_leaf *keep)
{
	struct inner	*in = node;
	unsigned	 i;

	if (h == 0) {
		if (node != keep)
			leaf_free(t, node);
		return;
	}
	for (i = 0; i < in->n; i++)
		node_free(t, in->child[i], h - 1, keep);
	inner_free(t, in);
}

/* First index whose key is not below k (l->n: none). */
static unsigned
leaf_lb(const struct rank_leaf *l, const struct nkey *k)
{
	unsigned	lo = 0, hi = l->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (nless(&l->k[mid], k))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The child whose range holds k: the last i with sep[i] <= k, or 0. */
static unsigned
inner_pick(const struct inner *in, const struct nkey *k)
{
	unsigned	lo = 1, hi = in->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (nless(k, &in->sep[mid]))
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo - 1;
}

static size_t
cnt_sum(const struct inner *in, unsigned from, unsigned to)
{
	size_t	s = 0;

	while (from < to)
		s += in->cnt[from++];
	return s;
}

/* The first leaf of a subtree of h inner levels. */
static const struct rank_leaf *
leftmost(const void *node, unsigned h)
{
	while (h-- > 0)
		node = ((const struct inner *)node)->child[0];
	return node;
}

/* The number of keys in a subtree of h inner levels. */
static size_t
node_count(const void *node, unsigned h)
{
	const struct inner	*in = node;

	if (h == 0)
		return ((const struct rank_leaf *)node)->n;
	return cnt_sum(in, 0, in->n);
}

/*
 * Walk from the root to the leaf whose range holds k, recording the
 * path when p is not NULL.  Returns the number of keys before k; *leaf
 * and *pos are where k is or would go.
 */
static size_t
descend(const struct rank_tree *t, const struct nkey *k, struct path *p,
    struct rank_leaf **leaf, unsigned *pos)
{
	struct inner	*in;
	void		*node = t->root;
	size_t		 before = 0, total = t->n;
	unsigned	 d, i;

	for (d = 0; d < t->height; d++) {
		in = node;
		i = inner_pick(in, k);
		/* Sum the shorter side: the subtree's total is known. */
		if (i <= in->n / 2)
			before += cnt_sum(in, 0, i);
		else
			before += total - cnt_sum(in, i, in->n);
		total = in->cnt[i];
		if (p != NULL) {
			p->in[d] = in;
			p->idx[d] = i;
		}
		node = in->child[i];
	}
	*leaf = node;
	*pos = leaf_lb(*leaf, k);
	return before + *pos;
}

/* The leaf and index of a 0-based position < t->n. */
static struct rank_leaf *
locate(const struct rank_tree *t, size_t off, unsigned *pos)
{
	const struct inner	*in;
	void			*node = t->root;
	unsigned		 d, i;

	for (d = 0; d < t->height; d++) {
		in = node;
		for (i = 0; off >= in->cnt[i]; i++)
			off -= in->cnt[i];
		node = in->child[i];
	}
	*pos = (unsigned)off;
	return node;
}

/* Open a gap at pos in an inner node with room and fill it. */
static void
inner_put(struct inner *in, unsigned pos, const struct nkey *sep,
    size_t cnt, void *child)
{
	unsigned	m = in->n - pos;

	memmove(&in->sep[pos + 1], &in->sep[pos], m * sizeof(in->sep[0]));
	memmove(&in->cnt[pos + 1], &in->cnt[pos], m * sizeof(in->cnt[0]));
	memmove(&in->child[pos + 1], &in->child[pos],
	    m * sizeof(in->child[0]));
	in->sep[pos] = *sep;
	in->cnt[pos] = cnt;
	in->child[pos] = child;
	in->n++;
}

static void
inner_del(struct inner *in, unsigned pos)
{
	unsigned	m = in->n - pos - 1;

	memmove(&in->sep[pos], &in->sep[pos + 1], m * sizeof(in->sep[0]));
	memmove(&in->cnt[pos], &in->cnt[pos + 1], m * sizeof(in->cnt[0]));
	memmove(&in->child[pos], &in->child[pos + 1],
	    m * sizeof(in->child[0]));
	in->n--;
}

/* Copy m entries of one inner node to another (or within one). */
static void
inner_move(struct inner *dst, unsigned at, const struct inner *src,
    unsigned from, unsigned m)
{
	memmove(&dst->sep[at], &src->sep[from], m * sizeof(dst->sep[0]));
	memmove(&dst->cnt[at], &src->cnt[from], m * sizeof(dst->cnt[0]));
	memmove(&dst->child[at], &src->child[from],
	    m * sizeof(dst->child[0]));
}

/*
 * Split a full leaf into l and r (new, empty) while inserting k at
 * pos: max + 1 keys, floor(max / 2) or one more on the left.
 */
static void
leaf_split_put(struct rank_tree *t, struct rank_leaf *l,
    struct rank_leaf *r, unsigned pos, const struct nkey *k)
{
	unsigned	h = t->max / 2;

	memcpy(r->k, &l->k[h], (l->n - h) * sizeof(l->k[0]));
	r->n = l->n - h;
	l->n = h;
	if (pos <= h) {
		memmove(&l->k[pos + 1], &l->k[pos], (h - pos) * sizeof(l->k[0]));
		l->k[pos] = *k;
		l->n++;
	} else {
		pos -= h;
		memmove(&r->k[pos + 1], &r->k[pos],
		    (r->n - pos) * sizeof(r->k[0]));
		r->k[pos] = *k;
		r->n++;
	}
	r->next = l->next;
	l->next = r;
}

/*
 * Split a full inner node into in and r (new, empty) while putting an
 * entry at pos.  Returns the separator for r in the parent.
 */
static struct nkey
inner_split_put(struct rank_tree *t, struct inner *in, struct inner *r,
    unsigned pos, const struct nkey *sep, size_t cnt, void *child)
{
	unsigned	h = t->max / 2;

	inner_move(r, 0, in, h, in->n - h);
	r->n = in->n - h;
	in->n = h;
	if (pos <= h)
		inner_put(in, pos, sep, cnt, child);
	else
		inner_put(r, pos - h, sep, cnt, child);
	return r->sep[0];
}

/* Even out the keys of leaves j and j + 1 of in. */
static void
leaf_balance(struct inner *in, unsigned j)
{
	struct rank_leaf	*l = in->child[j], *r = in->child[j + 1];
	unsigned		 total = l->n + r->n, nl = total / 2, m;

	if (l->n > nl) {
		m = l->n - nl;
		memmove(&r->k[m], &r->k[0], r->n * sizeof(r->k[0]));
		memcpy(&r->k[0], &l->k[nl], m * sizeof(r->k[0]));
	} else {
		m = nl - l->n;
		memcpy(&l->k[l->n], &r->k[0], m * sizeof(r->k[0]));
		memmove(&r->k[0], &r->k[m], (r->n - m) * sizeof(r->k[0]));
	}
	l->n = nl;
	r->n = total - nl;
	in->cnt[j] = nl;
	in->cnt[j + 1] = total - nl;
	in->sep[j + 1] = r->k[0];
}

/* Even out the children of inner nodes j and j + 1 of in. */
static void
inner_balance(struct inner *in, unsigned j)
{
	struct inner	*l = in->child[j], *r = in->child[j + 1];
	unsigned	 total = l->n + r->n, nl = total / 2, m;
	size_t		 moved;

	if (l->n > nl) {
		m = l->n - nl;
		moved = cnt_sum(l, nl, l->n);
		inner_move(r, m, r, 0, r->n);
		r->sep[m] = in->sep[j + 1];
		inner_move(r, 0, l, nl, m);
		in->sep[j + 1] = l->sep[nl];
		in->cnt[j] -= moved;
		in->cnt[j + 1] += moved;
	} else {
		m = nl - l->n;
		moved = cnt_sum(r, 0, m);
		inner_move(l, l->n, r, 0, m);
		l->sep[l->n] = in->sep[j + 1];
		in->sep[j + 1] = r->sep[m];
		inner_move(r, 0, r, m, r->n - m);
		in->cnt[j] += moved;
		in->cnt[j + 1] -= moved;
	}
	l->n = nl;
	r->n = total - nl;
}

/* Merge leaf j + 1 of in into leaf j (their keys fit in one). */
static void
leaf_merge(struct rank_tree *t, struct inner *in, unsigned j)
{
	struct rank_leaf	*l = in->child[j], *r = in->child[j + 1];

	memcpy(&l->k[l->n], r->k, r->n * sizeof(r->k[0]));
	l->n += r->n;
	l->next = r->next;
	in->cnt[j] += in->cnt[j + 1];
	inner_del(in, j + 1);
	leaf_free(t, r);
}

/* Merge inner node j + 1 of in into node j (their children fit). */
static void
inner_merge(struct rank_tree *t, struct inner *in, unsigned j)
{
	struct inner	*l = in->child[j], *r = in->child[j + 1];

	inner_move(l, l->n, r, 0, r->n);
	l->sep[l->n] = in->sep[j + 1];
	l->n += r->n;
	in->cnt[j] += in->cnt[j + 1];
	inner_del(in, j + 1);
	inner_free(t, r);
}

/*
 * A full leaf, child i of in: share its keys with a neighbour that has
 * two free slots or more, so that the key to insert then finds room
 * in one of the two.  Whether it did.
 */
static int
leaf_share(const struct rank_tree *t, struct inner *in, unsigned i)
{
	const struct rank_leaf	*l, *r;
	unsigned		 rooml = 0, roomr = 0;

	if (i > 0) {
		l = in->child[i - 1];
		rooml = t->max - l->n;
	}
	if (i + 1 < in->n) {
		r = in->child[i + 1];
		roomr = t->max - r->n;
	}
	if (rooml < 2 && roomr < 2)
		return 0;
	leaf_balance(in, rooml >= roomr ? i - 1 : i);
	return 1;
}

/* ------------------------------------------------------------ the tree */

struct rank_tree *
rank_new_sized(bool descending, unsigned node_max)
{
	struct rank_tree	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if (node_max < RANK_NODE_MIN)
		node_max = RANK_NODE_MIN;
	if (node_max > RANK_NODE_MAX)
		node_max = RANK_NODE_MAX;
	t->max = node_max;
	t->min = node_max / 2;
	t->mask = descending ? SCORE_DESC : SCORE_ASC;
	t->limit = SIZE_MAX;
	if ((t->root = leaf_new(t)) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

struct rank_tree *
rank_new(bool descending)
{
	return rank_new_sized(descending, RANK_NODE_MAX);
}

void
rank_free(struct rank_tree *t)
{
	if (t == NULL)
		return;
	node_free(t, t->root, t->height, NULL);
	free(t);
}

bool
rank_descending(const struct rank_tree *t)
{
	return t->mask == SCORE_DESC;
}

size_t
rank_count(const struct rank_tree *t)
{
	return t->n;
}

size_t
rank_bytes(const struct rank_tree *t)
{
	return bytes(t->nleaf, t->ninner);
}

void
rank_set_limit(struct rank_tree *t, size_t max_bytes)
{
	t->limit = max_bytes;
}

/* ins() moved old to k's place, within their leaf. */
#define MOVED	(-1)

/*
 * In leaf l, take out the key at from and put k at to, its lower
 * bound among the keys before the move.  No count changes.
 */
static void
leaf_move(struct rank_leaf *l, unsigned from, unsigned to,
    const struct nkey *k)
{
	if (to > from) {
		memmove(&l->k[from], &l->k[from + 1],
		    (to - 1 - from) * sizeof(l->k[0]));
		l->k[to - 1] = *k;
	} else {
		memmove(&l->k[to + 1], &l->k[to], (from - to) * sizeof(l->k[0]));
		l->k[to] = *k;
	}
}

/*
 * Insert k: RANK_OK, RANK_EEXIST or RANK_ENOMEM, and on error nothing
 * changed.  The nodes a split needs are all allocated before anything
 * changes.  When old is not NULL and sits in the leaf k goes to, old
 * is replaced by k there instead (MOVED).
 */
static int
ins(struct rank_tree *t, const struct nkey *k, const struct nkey *old)
{
	struct path		 p;
	struct rank_leaf	*leaf, *nleaf;
	struct inner		*nin[DEPTH_MAX + 1], *in, *root;
	struct nkey		 sep;
	size_t			 ccnt;
	void			*cchild;
	unsigned		 pos, need, used, i;
	int			 d, shared = 0;

again:
	(void)descend(t, k, &p, &leaf, &pos);
	if (pos < leaf->n && ncmp(&leaf->k[pos], k) == 0)
		return RANK_EEXIST;
	if (old != NULL && (i = leaf_lb(leaf, old)) < leaf->n &&
	    ncmp(&leaf->k[i], old) == 0) {
		leaf_move(leaf, i, pos, k);
		return MOVED;
	}
	if (leaf->n == t->max && !shared && t->height > 0 &&
	    leaf_share(t, p.in[t->height - 1], p.idx[t->height - 1])) {
		shared = 1;	/* now it fits; the key's leaf may differ */
		goto again;
	}

	if (leaf->n < t->max) {
		memmove(&leaf->k[pos + 1], &leaf->k[pos],
		    (leaf->n - pos) * sizeof(leaf->k[0]));
		leaf->k[pos] = *k;
		leaf->n++;
		for (d = 0; d < (int)t->height; d++)
			p.in[d]->cnt[p.idx[d]]++;
		t->n++;
		return RANK_OK;
	}

	/* Split: the leaf, each full inner node above it, and the root
	 * when all are full (then a new root). */
	need = 0;
	for (d = (int)t->height - 1; d >= 0 && p.in[d]->n == t->max; d--)
		need++;
	if (d < 0)
		need++;
	if ((nleaf = leaf_new(t)) == NULL)
		return RANK_ENOMEM;
	for (used = 0; used < need; used++)
		if ((nin[used] = inner_new(t)) == NULL) {
			while (used > 0)
				inner_free(t, nin[--used]);
			leaf_free(t, nleaf);
			return RANK_ENOMEM;
		}

	for (d = 0; d < (int)t->height; d++)
		p.in[d]->cnt[p.idx[d]]++;
	t->n++;
	leaf_split_put(t, leaf, nleaf, pos, k);
	sep = nleaf->k[0];
	ccnt = nleaf->n;
	cchild = nleaf;
	used = 0;
	for (d = (int)t->height - 1; d >= 0; d--) {
		in = p.in[d];
		i = p.idx[d];
		in->cnt[i] -= ccnt;	/* it holds the split child's total */
		if (in->n < t->max) {
			inner_put(in, i + 1, &sep, ccnt, cchild);
			return RANK_OK;
		}
		sep = inner_split_put(t, in, nin[used], i + 1, &sep, ccnt,
		    cchild);
		cchild = nin[used++];
		ccnt = cnt_sum(cchild, 0, ((struct inner *)cchild)->n);
	}
	root = nin[used];
	root->n = 2;
	root->child[0] = t->root;
	root->cnt[0] = t->n - ccnt;
	root->child[1] = cchild;
	root->cnt[1] = ccnt;
	root->sep[1] = sep;
	t->root = root;
	t->height++;
	return RANK_OK;
}

/* Remove k: RANK_OK or RANK_ENOENT (nothing changed). */
static int
del(struct rank_tree *t, const struct nkey *k)
{
	struct path		 p;
	struct rank_leaf	*leaf;
	struct inner		*in, *root;
	unsigned		 pos, n, j, nl, nr;
	int			 d, isleaf;

	(void)descend(t, k, &p, &leaf, &pos);
	if (pos == leaf->n || ncmp(&leaf->k[pos], k) != 0)
		return RANK_ENOENT;
	memmove(&leaf->k[pos], &leaf->k[pos + 1],
	    (leaf->n - pos - 1) * sizeof(leaf->k[0]));
	leaf->n--;
	for (d = 0; d < (int)t->height; d++)
		p.in[d]->cnt[p.idx[d]]--;
	t->n--;

	/* Refill an underfull node from a neighbour, or merge the two;
	 * a merge takes an entry from the parent, which may underflow
	 * in turn. */
	n = leaf->n;
	isleaf = 1;
	for (d = (int)t->height - 1; d >= 0 && n < t->min; d--) {
		in = p.in[d];
		j = p.idx[d] > 0 ? p.idx[d] - 1 : 0;
		if (isleaf) {
			nl = ((struct rank_leaf *)in->child[j])->n;
			nr = ((struct rank_leaf *)in->child[j + 1])->n;
		} else {
			nl = ((struct inner *)in->child[j])->n;
			nr = ((struct inner *)in->child[j + 1])->n;
		}
		if (nl + nr > t->max) {
			if (isleaf)
				leaf_balance(in, j);
			else
				inner_balance(in, j);
			break;
		}
		if (isleaf)
			leaf_merge(t, in, j);
		else
			inner_merge(t, in, j);
		n = in->n;
		isleaf = 0;
	}
	if (t->height > 0 && (root = t->root)->n == 1) {
		t->root = root->child[0];
		t->height--;
		inner_free(t, root);
	}
	return RANK_OK;
}

int
rank_insert(struct rank_tree *t, const struct rank_key *key)
{
	struct nkey	k = enc(t, key);

	return ins(t, &k, NULL);
}

int
rank_remove(struct rank_tree *t, const struct rank_key *key)
{
	struct nkey	k = enc(t, key);

	return del(t, &k);
}

int
rank_update(struct rank_tree *t, const struct rank_key *old,
    const struct rank_key *new)
{
	struct rank_leaf	*leaf;
	struct nkey		 o = enc(t, old), nw = enc(t, new);
	unsigned		 pos;
	int			 r;

	if (ncmp(&o, &nw) == 0) {
		(void)descend(t, &o, NULL, &leaf, &pos);
		if (pos == leaf->n || ncmp(&leaf->k[pos], &o) != 0)
			return RANK_ENOENT;
		return RANK_OK;
	}
	/* One descent when the new key's leaf holds the old one; else
	 * insert (the step that can fail), then remove, and if the old
	 * key was absent after all, take the new one out again. */
	if ((r = ins(t, &nw, &o)) == MOVED)
		return RANK_OK;
	if (r != RANK_OK)
		return r;
	if (del(t, &o) != RANK_OK) {
		(void)del(t, &nw);
		return RANK_ENOENT;
	}
	return RANK_OK;
}

int
rank_load(struct rank_tree *t, const struct rank_key *keys, size_t n)
{
	struct rank_leaf	*l;
	struct inner		*in;
	struct nkey		 a, b;
	void			**lvl;
	size_t			 nleaves, m, g, i, c, at, sz;
	unsigned		 h;

	if (t->n != 0)
		return RANK_EINVAL;
	if (n == 0)
		return RANK_OK;
	for (i = 1, a = enc(t, &keys[0]); i < n; i++, a = b) {
		b = enc(t, &keys[i]);
		if (!nless(&a, &b))
			return RANK_EINVAL;
	}
	nleaves = n / t->max + (n % t->max != 0);
	if ((lvl = calloc(nleaves, sizeof(*lvl))) == NULL)
		return RANK_ENOMEM;

	/* Leaves: n keys spread evenly, so each holds at least min
	 * (n > (nleaves - 1) max); likewise the children on each level.
	 * The empty root leaf is the first. */
	lvl[0] = t->root;
	for (i = 1; i < nleaves; i++)
		if ((lvl[i] = leaf_new(t)) == NULL)
			goto fail_leaf;
	for (i = 0, at = 0; i < nleaves; i++, at += sz) {
		l = lvl[i];
		sz = n / nleaves + (i < n % nleaves);
		for (c = 0; c < sz; c++)
			l->k[c] = enc(t, &keys[at + c]);
		l->n = (unsigned)sz;
		l->next = i + 1 < nleaves ? lvl[i + 1] : NULL;
	}
	/* Inner levels bottom up, each written over the one below in
	 * lvl: node i is stored after its children are taken. */
	for (h = 0, m = nleaves; m > 1; h++, m = g) {
		g = m / t->max + (m % t->max != 0);
		for (i = 0, at = 0; i < g; i++, at += sz) {
			if ((in = inner_new(t)) == NULL)
				goto fail_inner;
			sz = m / g + (i < m % g);
			for (c = 0; c < sz; c++) {
				in->child[c] = lvl[at + c];
				in->cnt[c] = node_count(lvl[at + c], h);
				if (c > 0)
					in->sep[c] = leftmost(lvl[at + c],
					    h)->k[0];
			}
			in->n = (unsigned)sz;
			lvl[i] = in;
		}
	}
	t->root = lvl[0];
	t->height = h;
	t->n = n;
	free(lvl);
	return RANK_OK;

fail_inner:
	/* Free all but the first leaf, the empty root again: lvl[0..i)
	 * are the subtrees of h + 1 levels built, lvl[at..m) those of h
	 * levels not taken yet. */
	for (c = 0; c < i; c++)
		node_free(t, lvl[c], h + 1, t->root);
	for (c = at; c < m; c++)
		node_free(t, lvl[c], h, t->root);
	goto fail;
fail_leaf:
	while (i > 1)
		leaf_free(t, lvl[--i]);
fail:
	l = t->root;
	l->n = 0;
	l->next = NULL;
	free(lvl);
	return RANK_ENOMEM;
}

/* ------------------------------------------------------------ queries */

size_t
rank_before(const struct rank_tree *t, const struct rank_key *key)
{
	struct rank_leaf	*leaf;
	struct nkey		 k = enc(t, key);
	unsigned		 pos;

	return descend(t, &k, NULL, &leaf, &pos);
}

size_t
rank_of(const struct rank_tree *t, const struct rank_key *key)
{
	struct rank_leaf	*leaf;
	struct nkey		 k = enc(t, key);
	size_t			 before;
	unsigned		 pos;

	before = descend(t, &k, NULL, &leaf, &pos);
	if (pos == leaf->n || ncmp(&leaf->k[pos], &k) != 0)
		return 0;
	return before + 1;
}

bool
rank_at(const struct rank_tree *t, size_t rank, struct rank_key *out)
{
	const struct rank_leaf	*leaf;
	unsigned		 pos;

	if (rank == 0 || rank > t->n)
		return false;
	leaf = locate(t, rank - 1, &pos);
	dec(t, &leaf->k[pos], out);
	return true;
}

bool
rank_iter_at(const struct rank_tree *t, size_t rank, struct rank_iter *it)
{
	it->t = t;
	it->leaf = NULL;
	it->i = 0;
	it->rank = 0;
	if (rank == 0 || rank > t->n)
		return false;
	it->leaf = locate(t, rank - 1, &it->i);
	it->rank = rank;
	return true;
}

size_t
rank_next(struct rank_iter *it, struct rank_key *out)
{
	if (it->leaf == NULL)
		return 0;
	dec(it->t, &it->leaf->k[it->i], out);
	if (++it->i == it->leaf->n) {
		it->leaf = it->leaf->next;
		it->i = 0;
	}
	return it->rank++;
}

/* ------------------------------------------------------------ checks */

struct chk {
	const struct rank_tree	*t;
	const struct rank_leaf	*next;	/* the leaf the chain says is next */
	const struct nkey	*last;	/* the last key seen, in order */
	size_t			 nleaf, ninner;
	const char		*err;
};

static size_t
chk_fail(struct chk *c, const char *why)
{
	c->err = why;
	return 0;
}

/* Check a subtree of h levels; its key count, or 0 after an error. */
static size_t
chk_node(struct chk *c, const void *node, unsigned h, int isroot,
    const struct nkey *lo, const struct nkey *hi)
{
	const struct rank_leaf	*l = node;
	const struct inner	*in = node;
	size_t			 n, sum = 0;
	unsigned		 i;

	if (c->err != NULL)
		return 0;
	if (h == 0) {
		c->nleaf++;
		if (l != c->next)
			return chk_fail(c, "leaf chain out of order");
		c->next = l->next;
		if (l->n > c->t->max || (!isroot && l->n < c->t->min))
			return chk_fail(c, "leaf size");
		for (i = 0; i < l->n; i++) {
			if (c->last != NULL && !nless(c->last, &l->k[i]))
				return chk_fail(c, "keys not increasing");
			if ((lo != NULL && nless(&l->k[i], lo)) ||
			    (hi != NULL && !nless(&l->k[i], hi)))
				return chk_fail(c, "key outside separators");
			c->last = &l->k[i];
		}
		return l->n;
	}
	c->ninner++;
	if (in->n > c->t->max || in->n < (isroot ? 2 : c->t->min))
		return chk_fail(c, "inner size");
	for (i = 0; i < in->n; i++) {
		if (i > 1 && !nless(&in->sep[i - 1], &in->sep[i]))
			return chk_fail(c, "separators not increasing");
		n = chk_node(c, in->child[i], h - 1, 0,
		    i > 0 ? &in->sep[i] : lo,
		    i + 1 < in->n ? &in->sep[i + 1] : hi);
		if (c->err != NULL)
			return 0;
		if (n != in->cnt[i])
			return chk_fail(c, "count");
		sum += n;
	}
	return sum;
}

const char *
rank_check(const struct rank_tree *t)
{
	struct chk	c;
	size_t		n;

	memset(&c, 0, sizeof(c));
	c.t = t;
	c.next = leftmost(t->root, t->height);	/* the chain's start */
	n = chk_node(&c, t->root, t->height, 1, NULL, NULL);
	if (c.err != NULL)
		return c.err;
	if (c.next != NULL)
		return "leaf chain goes on past the last leaf";
	if (n != t->n)
		return "total count";
	if (c.nleaf != t->nleaf || c.ninner != t->ninner)
		return "node count";
	return NULL;
}
