/*
 * A leaderboard's order in memory: the sort keys of one (board,
 * period), counted so that "rank of a record", "record at a rank" and
 * "the N records from a rank on" cost O(log n) (+ N).  sqlite keeps the
 * rows; this keeps only their keys, so that a rank is not an index scan
 * as long as the rank.  Pure code: no sqlite, no I/O, no clock, no
 * randomness.  Private to cmd/gs-persist.
 *
 * Order.  A key is (score, subscore, account).  An ascending board
 * (lowest time first) orders by score ascending, then subscore
 * ascending; a descending board (highest score first) by score
 * descending, then subscore descending.  The direction applies to
 * score and subscore alike; the account breaks the remaining ties and
 * is always ascending, so equal results list in the same order on
 * every board and the order is total: rank 1 is the first record of
 * the order, "best" on either kind of board.  rank_cmp() is that
 * order; the loader's ORDER BY must be the same (score DESC, subscore
 * DESC, account ASC on a descending board).
 *
 * Structure: a counted B+tree.  Keys live in leaves of up to
 * RANK_NODE_MAX (64) keys, 24 bytes each, linked left to right; inner
 * nodes hold up to 64 children with, for each, a separator key and the
 * number of records under it.  A rank is the sum of the counts to the
 * left along one root-to-leaf path.  Why not a treap, skip list or
 * red-black tree with subtree sizes: those cost a node of 48-64 bytes
 * per record (key, two or more pointers, size, priority) plus the
 * allocator's overhead, and a search at 1,000,000 records takes ~20
 * dependent cache misses, each into a different node.  Here a search
 * reads 4 nodes (height 3 above the leaves at 1,000,000), the upper
 * levels stay in cache (about 1/64 of the bytes), and a record costs
 * its key plus a share of the leaf header.  Iteration walks a leaf's
 * array and then the next leaf.  No randomness, so every test run
 * builds the same tree.
 *
 * Cost, n records, B = 64: rank_of, rank_before, rank_at,
 * rank_iter_at, rank_insert, rank_remove, rank_update: O(B log_B n)
 * (a binary search and a sum of counts on each of ~log_64 n levels);
 * rank_next: O(1); rank_load: O(n).  Nothing is allocated per record:
 * memory moves only when a node splits (one leaf per ~32 inserts at
 * worst) or merges.  An insert into a full leaf first shares keys with
 * a neighbour that has room (as a B*-tree does), which keeps leaves
 * fuller: appending in order, as new accounts with equal scores do,
 * fills leaves instead of leaving them half full.
 *
 * Memory per record: a leaf is 1,552 bytes for 64 keys; inner nodes
 * add under 1 byte a record.  Built by rank_load (leaves full): about
 * 25 bytes a record, 25 MB for 1,000,000; after random inserts and
 * updates leaves are 70-90% full: 28-36 bytes a record.  rank_bytes()
 * reports the nodes' bytes (the allocator adds ~16 bytes a node), and
 * rank_set_limit() caps them.
 *
 * One account, one key: the tree does NOT map accounts to keys (such a
 * map would cost more than the tree: 24+ bytes a record at any load
 * factor, plus rehash pauses).  The database is the authority: its
 * primary key (board, period, account) allows one row per account, and
 * the caller reads the old row before changing it, so it names the
 * exact old key to rank_update() or rank_remove().  rank_insert()
 * therefore refuses only an exact key already present (RANK_EEXIST);
 * the same account with another score is a different key, which the
 * caller must not insert.  A RANK_ENOENT from rank_remove() or
 * rank_update() means the tree and the database disagree (a bug):
 * drop the tree and load the board again.
 *
 * Ownership and threads: a tree is the caller's (rank_new, rank_free);
 * keys are copied in and out, never kept by reference.  No locking:
 * one thread uses a tree at a time.  An iterator borrows the tree and
 * is valid until the tree next changes (insert, remove, update, load)
 * or is freed.
 */
#ifndef PST_RANK_H
#define PST_RANK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RANK_NODE_MAX	64	/* keys a leaf, children an inner node */
#define RANK_NODE_MIN	4	/* smallest node size rank_new_sized takes */

enum {
	RANK_OK = 0,
	RANK_EEXIST,		/* insert: that exact key is present */
	RANK_ENOENT,		/* remove, update: the old key is absent */
	RANK_ENOMEM,		/* out of memory, or over rank_set_limit */
	RANK_EINVAL,		/* load: tree not empty or keys not in
				 * strictly increasing order */
	RANK_RESULT_MAX
};

struct rank_key {
	int64_t		score;
	int64_t		subscore;
	uint64_t	account;
};

struct rank_tree;
struct rank_leaf;

/* Position in a tree for rank_next(); fields are private. */
struct rank_iter {
	const struct rank_tree	*t;
	const struct rank_leaf	*leaf;	/* NULL: at the end */
	unsigned		 i;
	size_t			 rank;
};

/* Short lower-case name of a result ("exist", "noent", ...). */
const char	*rank_result_name(int r);

/* An empty tree, or NULL when out of memory.  descending: see Order. */
struct rank_tree *rank_new(bool descending);
/*
 * The same with nodes of node_max entries (clamped to RANK_NODE_MIN..
 * RANK_NODE_MAX) instead of RANK_NODE_MAX: for tests, where small
 * nodes make deep trees and every split and merge path from a few
 * hundred records.  A node still takes the full node's memory.
 */
struct rank_tree *rank_new_sized(bool descending, unsigned node_max);
/* Free the tree and its nodes; NULL is ignored.  Iterators die. */
void	 rank_free(struct rank_tree *t);

bool	 rank_descending(const struct rank_tree *t);
size_t	 rank_count(const struct rank_tree *t);
/* Bytes held by the tree's nodes and header (not the allocator's
 * overhead): for a memory gauge. */
size_t	 rank_bytes(const struct rank_tree *t);
/*
 * Cap rank_bytes(): an insert, update or load that would need a node
 * beyond it fails with RANK_ENOMEM.  Removing never needs memory, and
 * a tree over a lowered cap stays as it is.  The default is SIZE_MAX.
 */
void	 rank_set_limit(struct rank_tree *t, size_t max_bytes);

/* <0, 0, >0 as a sorts before, equals or after b on this tree's board. */
int	 rank_cmp(const struct rank_tree *t, const struct rank_key *a,
	    const struct rank_key *b);

/*
 * Add a key.  RANK_OK; RANK_EEXIST (that exact key is present) or
 * RANK_ENOMEM, and then the tree is unchanged.
 */
int	 rank_insert(struct rank_tree *t, const struct rank_key *key);
/* Remove the key, which must be present exactly.  RANK_OK, or
 * RANK_ENOENT and the tree is unchanged.  Never allocates. */
int	 rank_remove(struct rank_tree *t, const struct rank_key *key);
/*
 * Replace old by new (a score change: remove + insert, usually for the
 * same account).  RANK_OK (also when new equals old); RANK_EEXIST (new
 * present, and not old), RANK_ENOMEM or RANK_ENOENT (old absent; the
 * first two are reported before this one), and then the tree holds the
 * same keys as before.  One descent when new's place is in old's leaf
 * (the keys between move within the leaf, no count changes), two
 * otherwise, as rank_remove and rank_insert cost.
 */
int	 rank_update(struct rank_tree *t, const struct rank_key *old,
	    const struct rank_key *new);
/*
 * Bulk build an empty tree from keys[n], sorted strictly in the
 * tree's order (rank_cmp() < 0 between neighbours; as sqlite returns
 * them from the board's index).  O(n): leaves are filled completely,
 * with no search and no split.  keys is borrowed.  RANK_OK; RANK_EINVAL
 * (the tree has records, or keys are out of order or repeated) or
 * RANK_ENOMEM, and then the tree is unchanged (still empty).
 */
int	 rank_load(struct rank_tree *t, const struct rank_key *keys,
	    size_t n);

/* The key's 1-based rank, or 0 when the key is absent. */
size_t	 rank_of(const struct rank_tree *t, const struct rank_key *key);
/* How many records sort before key, present or not: the rank a record
 * with this key has, or would have, minus one. */
size_t	 rank_before(const struct rank_tree *t, const struct rank_key *key);
/* The key at a 1-based rank into *out.  false, *out untouched, when
 * rank is 0 or over rank_count(). */
bool	 rank_at(const struct rank_tree *t, size_t rank, struct rank_key *out);

/*
 * Iterate from a 1-based rank on: rank_iter_at() places *it at rank
 * (false, and *it at the end, when rank is 0 or over the count); each
 * rank_next() then writes the next key into *out and returns its rank,
 * or returns 0 at the end, *out untouched.  "Top N" is
 * rank_iter_at(t, 1, &it) and N rank_next(); "N around k" is
 * r = rank_of(t, &k), then rank_iter_at(t, r > N ? r - N : 1, &it) and
 * up to 2N + 1 rank_next().
 */
bool	 rank_iter_at(const struct rank_tree *t, size_t rank,
	    struct rank_iter *it);
size_t	 rank_next(struct rank_iter *it, struct rank_key *out);

/*
 * Check every invariant (order within and across leaves, separators,
 * counts, node sizes, equal leaf depth, the leaf chain, the totals):
 * NULL when all hold, else a constant string naming the first broken.
 * O(n); for tests and for debugging.
 */
const char	*rank_check(const struct rank_tree *t);

#endif
