/*
 * Leaderboards (gs-persist(8), REQUESTS).
 *
 * The records live in sqlite3 (schema 2), one row per (board, period,
 * account).  Ranks need more than an index gives: how many records
 * sort before one costs sqlite a scan as long as the rank.  So each
 * (board, period) in use has an order-statistic tree in memory
 * (rank.c) of its records' keys, built from the table on first use and
 * kept in step with every write; rank, top N and around a player are
 * O(log n) in it, and the rows' other columns come from sqlite by
 * primary key.  At most LB_TREES trees are kept; the least recently
 * used goes first.
 *
 * Writes change a tree at once, inside the batch's transaction; each
 * change is logged, so that a request whose savepoint rolls back, or a
 * batch whose commit fails, takes its changes back out of the trees
 * (srv.c calls pst_lb_mark, pst_lb_undo, pst_lb_forget and
 * pst_lb_settle).  The trees therefore always hold what the database
 * holds.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

#include "pst.h"
#include "rank.h"

#define LB_TREES	64	/* (board, period) trees kept */
#define LB_SUBMIT_MAX	1000	/* records in one lb_submit */
#define LB_LIMIT_MAX	100	/* records in one answer */
#define LB_META_MAX	256	/* bytes of a record's meta */
#define LB_NAME_MAX	64	/* bytes of a board's name */

enum { LB_BEST, LB_SET, LB_INCR, LB_BEST_ASC };
enum { LB_NEVER, LB_DAILY, LB_WEEKLY, LB_MONTHLY };

static const char *const op_names[] = { "best", "set", "incr", NULL };
static const char *const reset_names[] = { "never", "daily", "weekly",
	"monthly", NULL };

struct lb_board {
	int64_t	 id;
	char	 name[LB_NAME_MAX + 1];
	bool	 descending;
	int	 op;
	int	 reset;
	bool	 client_write;
};

struct lb_tree {
	char			 board[LB_NAME_MAX + 1];
	int64_t			 period;
	bool			 descending;
	bool			 current;	/* its board's current period */
	struct rank_tree	*t;
	uint64_t		 used;		/* LRU clock */
};

/* One change to a tree, for undo: the key removed and the key put. */
struct lb_change {
	struct lb_tree	*tree;
	bool		 had_old, had_new;
	struct rank_key	 old, new;
};

struct pst_lb {
	sqlite3_stmt	*board_get, *board_new, *boards;
	sqlite3_stmt	*rec_get, *rec_put, *rec_row, *load_asc, *load_desc;
	sqlite3_stmt	*rec_update;
	/* Without a tree to tell the old key to: one statement a record
	 * when the row is there, by operator (lb_write_blind). */
	sqlite3_stmt	*blind[4], *rec_put_new;
	struct lb_tree	 trees[LB_TREES];
	unsigned	 ntrees;
	uint64_t	 clock;
	struct lb_change *log;
	size_t		 nlog, caplog;
	struct gs_ratelimit rl_log;	/* "loaded" lines: callers cause them */
};

/* ------------------------------------------------------------ periods */

/* The start of the period now falls in (UTC). */
static int64_t
lb_period(int reset, int64_t now)
{
	struct tm	 tm;
	time_t		 t = (time_t)now;
	int64_t		 day = now - now % 86400;

	switch (reset) {
	case LB_DAILY:
		return day;
	case LB_WEEKLY:
		/* 1970-01-01 was a Thursday; weeks start on Monday. */
		return day - ((now / 86400 + 3) % 7) * 86400;
	case LB_MONTHLY:
		if (gmtime_r(&t, &tm) == NULL)
			return day;
		tm.tm_mday = 1;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		return (int64_t)timegm(&tm);
	default:
		return 0;
	}
}

/* -------------------------------------------------------------- args */

static int
lb_name_valid(const char *s)
{
	size_t	n = strlen(s), i;

	if (n == 0 || n > LB_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

static int
lb_enum(const char *s, const char *const *names)
{
	int	i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* Load board name into b: 1, or 0 with r failed (not_found when there
 * is no such board). */
static int
lb_board_load(struct persist *p, struct pst_req *r, const char *name,
    struct lb_board *b)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (b->name != name)
		(void)gs_strlcpy(b->name, name, sizeof(b->name));
	st = pst_reset(p->lb->board_get);
	if (sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC) !=
	    SQLITE_OK) {
		pst_fail_db(p, r, "board");
		return 0;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		b->descending = sqlite3_column_int(st, 0) != 0;
		b->op = sqlite3_column_int(st, 1);
		b->reset = sqlite3_column_int(st, 2);
		b->client_write = sqlite3_column_int(st, 3) != 0;
		b->id = sqlite3_column_int64(st, 4);
	}
	(void)sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		pst_fail(r, GS_PST_ENOTFOUND, "no such leaderboard");
		return 0;
	}
	if (rc != SQLITE_ROW) {
		pst_fail_db(p, r, "board");
		return 0;
	}
	return 1;
}

/* Read a board name and load the board: 1, or 0 with r failed. */
static int
lb_board_arg(struct persist *p, struct pst_req *r, struct gs_rd *rd,
    struct lb_board *b)
{
	(void)gs_rd_str(rd, b->name, sizeof(b->name));
	if (rd->err != GS_OK || !lb_name_valid(b->name)) {
		pst_fail(r, GS_PST_EARGS, "board: 1 to 64 bytes of a-z 0-9 "
		    "_ . -");
		return 0;
	}
	return lb_board_load(p, r, b->name, b);
}

/* An optional period argument (nil or absent: the current one). */
static int
lb_period_arg(struct pst_req *r, struct gs_rd *rd, const struct lb_board *b,
    int64_t *period)
{
	int64_t	cur;

	*period = lb_period(b->reset, pst_now());
	if (!gs_rd_more(rd) || gs_rd_nil(rd))
		return 1;
	cur = *period;
	*period = gs_rd_int(rd, 0, INT64_MAX);
	/* Only a period the board has had: a start of its reset, not
	 * in the future (anything else would build trees of nothing
	 * and push out the ones in use). */
	if (rd->err != GS_OK || *period > cur ||
	    lb_period(b->reset, *period) != *period) {
		pst_fail(r, GS_PST_EARGS, "period: the start of one of the "
		    "board's periods, in seconds, not in the future");
		return 0;
	}
	return 1;
}

/* ------------------------------------------------------------- trees */

static void
lb_tree_drop(struct lb_tree *lt)
{
	rank_free(lt->t);
	memset(lt, 0, sizeof(*lt));
}

/*
 * The tree of (board, period), built from the table if it is not in
 * memory; NULL with r failed.  Building evicts the least recently used
 * tree when all are taken; the change log holds no pointer to it then
 * (it is empty between batches, and a batch builds before it changes).
 */
static struct lb_tree *
lb_tree(struct persist *p, struct pst_req *r, const struct lb_board *b,
    int64_t period)
{
	struct pst_lb	*lb = p->lb;
	struct lb_tree	*lt, *lru = NULL;
	struct rank_key	*keys = NULL, *nk;
	sqlite3_stmt	*st;
	int64_t		 cur;
	size_t		 n = 0, cap = 0;
	unsigned	 i;
	int		 rc;

	cur = lb_period(b->reset, pst_now());
	for (i = 0; i < lb->ntrees; i++) {
		lt = &lb->trees[i];
		if (lt->period == period && strcmp(lt->board, b->name) == 0) {
			lt->used = ++lb->clock;
			return lt;
		}
		/* The victim: a past period's tree before a current one's,
		 * the least recently used among them. */
		if (lru == NULL || (!lt->current && lru->current) ||
		    (lt->current == lru->current && lt->used < lru->used))
			lru = lt;
	}
	if (lb->ntrees == LB_TREES && period != cur && lru->current) {
		pst_fail(r, GS_PST_EBUSY, "too many leaderboards in use; "
		    "past periods wait");
		return NULL;
	}
	if (lb->ntrees < LB_TREES)
		lt = &lb->trees[lb->ntrees];
	else {
		/* A tree changed in this batch must stay for its undo. */
		for (i = 0; i < lb->nlog; i++)
			if (lb->log[i].tree == lru) {
				pst_fail(r, GS_PST_EBUSY, "too many "
				    "leaderboards in use at once; retry");
				return NULL;
			}
		lt = lru;
		lb_tree_drop(lt);
	}
	st = pst_reset(b->descending ? lb->load_desc : lb->load_asc);
	if (sqlite3_bind_int64(st, 1, b->id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, period) != SQLITE_OK) {
		pst_fail_db(p, r, "load");
		return NULL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 1024 : cap * 2;
			if ((nk = realloc(keys, cap * sizeof(*keys))) == NULL) {
				(void)sqlite3_reset(st);
				free(keys);
				pst_fail(r, GS_PST_EINTERNAL, "out of memory");
				return NULL;
			}
			keys = nk;
		}
		keys[n].score = sqlite3_column_int64(st, 0);
		keys[n].subscore = sqlite3_column_int64(st, 1);
		keys[n].account = (uint64_t)sqlite3_column_int64(st, 2);
		n++;
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(keys);
		pst_fail_db(p, r, "load");
		return NULL;
	}
	if ((lt->t = rank_new(b->descending)) == NULL ||
	    rank_load(lt->t, keys, n) != RANK_OK) {
		free(keys);
		rank_free(lt->t);
		lt->t = NULL;
		pst_fail(r, GS_PST_EINTERNAL, "out of memory");
		return NULL;
	}
	free(keys);
	(void)gs_strlcpy(lt->board, b->name, sizeof(lt->board));
	lt->period = period;
	lt->current = period == cur;
	lt->descending = b->descending;
	lt->used = ++lb->clock;
	if (lt == &lb->trees[lb->ntrees])
		lb->ntrees++;
	if (gs_ratelimit_ok(&lb->rl_log, 5))
		gs_log_info("leaderboard loaded board=%s period=%lld "
		    "records=%zu", b->name, (long long)period, n);
	return lt;
}

/* Apply a change to a tree and log it for undo. */
static int
lb_change(struct pst_lb *lb, struct lb_tree *lt, const struct rank_key *old,
    const struct rank_key *new)
{
	struct lb_change	*c, *nl;
	size_t			 cap;

	if (lb->nlog == lb->caplog) {
		cap = lb->caplog == 0 ? 256 : lb->caplog * 2;
		if ((nl = realloc(lb->log, cap * sizeof(*nl))) == NULL)
			return -1;
		lb->log = nl;
		lb->caplog = cap;
	}
	/* On any error the tree keeps the keys it had. */
	if (old != NULL && new != NULL) {
		if (rank_update(lt->t, old, new) != RANK_OK)
			return -1;
	} else if (old != NULL) {
		if (rank_remove(lt->t, old) != RANK_OK)
			return -1;
	} else if (new != NULL && rank_insert(lt->t, new) != RANK_OK)
		return -1;
	c = &lb->log[lb->nlog++];
	c->tree = lt;
	c->had_old = old != NULL;
	c->had_new = new != NULL;
	if (old != NULL)
		c->old = *old;
	if (new != NULL)
		c->new = *new;
	return 0;
}

size_t
pst_lb_mark(struct persist *p)
{
	return p->lb->nlog;
}

/* Take the changes after mark back out, newest first. */
void
pst_lb_undo(struct persist *p, size_t mark)
{
	struct pst_lb		*lb = p->lb;
	struct lb_change	*c;

	while (lb->nlog > mark) {
		c = &lb->log[--lb->nlog];
		if (c->tree->t == NULL)
			continue;	/* dropped by a failed step below */
		if (c->had_new && c->had_old ?
		    rank_update(c->tree->t, &c->new, &c->old) != RANK_OK :
		    ((c->had_new && rank_remove(c->tree->t, &c->new) !=
		    RANK_OK) ||
		    (c->had_old && rank_insert(c->tree->t, &c->old) !=
		    RANK_OK))) {
			/* Out of step: forget the tree, the table is right
			 * and it is built again on next use. */
			gs_log_warnx("leaderboard undo failed board=%s",
			    c->tree->board);
			lb_tree_drop(c->tree);
		}
	}
}

/*
 * The commit failed: every tree may hold writes of the batch, some of
 * them made before the tree was built from the uncommitted table, so
 * the log cannot take them all out.  Drop every tree; each is built
 * again from the table on its next use.
 */
void
pst_lb_forget(struct persist *p)
{
	struct pst_lb	*lb = p->lb;
	unsigned	 i;

	for (i = 0; i < lb->ntrees; i++)
		lb_tree_drop(&lb->trees[i]);
	lb->ntrees = 0;
	lb->nlog = 0;
}

/* The batch is over (committed or undone): forget the log. */
void
pst_lb_settle(struct persist *p)
{
	struct pst_lb	*lb = p->lb;
	unsigned	 i, j;

	lb->nlog = 0;
	/* Trees dropped by a failed undo leave a hole: close it. */
	for (i = j = 0; i < lb->ntrees; i++)
		if (lb->trees[i].t != NULL)
			lb->trees[j++] = lb->trees[i];
	for (i = j; i < lb->ntrees; i++)
		memset(&lb->trees[i], 0, sizeof(lb->trees[i]));
	lb->ntrees = j;
}

/* --------------------------------------------------------------- ops */

/* lb_create [name, "desc"|"asc", operator, reset, client_write] */
static void
op_lb_create(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	struct lb_board	 b, old;
	char		 dir[8], opn[8], rst[8];
	sqlite3_stmt	*st;

	memset(&b, 0, sizeof(b));
	(void)gs_rd_str(rd, b.name, sizeof(b.name));
	(void)gs_rd_str(rd, dir, sizeof(dir));
	(void)gs_rd_str(rd, opn, sizeof(opn));
	(void)gs_rd_str(rd, rst, sizeof(rst));
	b.client_write = gs_rd_bool(rd);
	if (!pst_arg_end(rd, r))
		return;
	b.op = lb_enum(opn, op_names);
	b.reset = lb_enum(rst, reset_names);
	if (!lb_name_valid(b.name) || (strcmp(dir, "desc") != 0 &&
	    strcmp(dir, "asc") != 0) || b.op < 0 || b.reset < 0) {
		pst_fail(r, GS_PST_EARGS, "lb_create [name, desc|asc, "
		    "best|set|incr, never|daily|weekly|monthly, client_write]");
		return;
	}
	b.descending = strcmp(dir, "desc") == 0;
	if (lb_board_load(p, r, b.name, &old) == 1) {
		if (old.descending != b.descending || old.op != b.op ||
		    old.reset != b.reset || old.client_write != b.client_write) {
			pst_fail(r, GS_PST_ECONFLICT, "a leaderboard of that "
			    "name exists with other settings");
			return;
		}
		gs_wr_map(pst_ok(r), 1);
		gs_wr_str(&r->body, "created");
		gs_wr_bool(&r->body, false);
		return;
	}
	if (r->status != GS_PST_ENOTFOUND)
		return;
	r->status = GS_PST_OK;
	st = pst_reset(p->lb->board_new);
	if (sqlite3_bind_text(st, 1, b.name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, b.descending) != SQLITE_OK ||
	    sqlite3_bind_int(st, 3, b.op) != SQLITE_OK ||
	    sqlite3_bind_int(st, 4, b.reset) != SQLITE_OK ||
	    sqlite3_bind_int(st, 5, b.client_write) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 6, pst_now()) != SQLITE_OK ||
	    pst_step_done(st) != SQLITE_DONE) {
		pst_fail_db(p, r, "board");
		return;
	}
	gs_log_info("leaderboard created board=%s order=%s operator=%s "
	    "reset=%s client_write=%d", b.name, dir, opn, rst,
	    b.client_write);
	gs_wr_map(pst_ok(r), 1);
	gs_wr_str(&r->body, "created");
	gs_wr_bool(&r->body, true);
}

/* Whether key a is better than b on a board of this direction. */
static bool
lb_better(bool descending, int64_t as, int64_t ass, int64_t bs, int64_t bss)
{
	if (as != bs)
		return descending ? as > bs : as < bs;
	return descending ? ass > bss : ass < bss;
}

/* Bind a record statement's ?1 to ?7: board, period, account, score,
 * subscore, meta, updated.  0, or -1. */
static int
lb_bind_record(sqlite3_stmt *st, const struct lb_board *b, int64_t period,
    uint64_t account, int64_t score, int64_t subscore, const char *meta,
    size_t metalen)
{
	return sqlite3_bind_int64(st, 1, b->id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, period) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, (int64_t)account) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, score) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, subscore) != SQLITE_OK ||
	    sqlite3_bind_text(st, 6, meta != NULL ? meta : "", (int)metalen,
	    SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 7, pst_now()) != SQLITE_OK ? -1 : 0;
}

/*
 * lb_write when no tree is in memory, so nothing needs the old key:
 * the operator is an UPDATE of the row (for best, only where the new
 * key is better), and only when it changed nothing an INSERT OR IGNORE
 * of a new row, which ignores a row that is there (best kept it).
 * One statement a record for a player seen before.
 */
static int
lb_write_blind(struct persist *p, struct pst_req *r, const struct lb_board *b,
    int64_t period, uint64_t account, int64_t score, int64_t subscore,
    const char *meta, size_t metalen)
{
	struct pst_lb	*lb = p->lb;
	sqlite3_stmt	*st;
	int		 which, rc, pass;

	which = b->op == LB_BEST && !b->descending ? LB_BEST_ASC : b->op;
	for (pass = 0; pass < 2; pass++) {
		st = pst_reset(pass == 0 ? lb->blind[which] : lb->rec_put_new);
		if (lb_bind_record(st, b, period, account, score, subscore,
		    meta, metalen) != 0) {
			pst_fail_db(p, r, "record");
			return -1;
		}
		rc = pst_step_done(st);
		if (rc == SQLITE_CONSTRAINT) {
			/* The update: the CHECK on an overflowing sum; the
			 * insert: a foreign key, the account. */
			pst_fail(r, pass == 0 ? GS_PST_EARGS :
			    GS_PST_ENOTFOUND, pass == 0 ? "score: the sum "
			    "overflows" : "no such account");
			return -1;
		}
		if (rc != SQLITE_DONE) {
			pst_fail_db(p, r, "record");
			return -1;
		}
		if (sqlite3_changes(p->db) > 0)
			return 1;
	}
	return 0;	/* there, and best kept it */
}

/*
 * Write one record by the board's operator.  1 written, 0 unchanged,
 * -1 r failed.
 */
static int
lb_write(struct persist *p, struct pst_req *r, const struct lb_board *b,
    struct lb_tree *lt, int64_t period, uint64_t account, int64_t score,
    int64_t subscore, const char *meta, size_t metalen)
{
	struct pst_lb	*lb = p->lb;
	struct rank_key	 ok, nk;
	sqlite3_stmt	*st;
	int64_t		 os = 0, oss = 0;
	bool		 had;
	int		 rc;

	if (lt == NULL)
		return lb_write_blind(p, r, b, period, account, score,
		    subscore, meta, metalen);
	st = pst_reset(lb->rec_get);
	if (sqlite3_bind_int64(st, 1, b->id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, period) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, (int64_t)account) != SQLITE_OK) {
		pst_fail_db(p, r, "record");
		return -1;
	}
	rc = sqlite3_step(st);
	if ((had = rc == SQLITE_ROW)) {
		os = sqlite3_column_int64(st, 0);
		oss = sqlite3_column_int64(st, 1);
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		pst_fail_db(p, r, "record");
		return -1;
	}
	if (had) {
		switch (b->op) {
		case LB_BEST:
			if (!lb_better(b->descending, score, subscore, os,
			    oss))
				return 0;
			break;
		case LB_INCR:
			if (__builtin_add_overflow(os, score, &score) ||
			    __builtin_add_overflow(oss, subscore, &subscore)) {
				pst_fail(r, GS_PST_EARGS, "score: the sum "
				    "overflows");
				return -1;
			}
			break;
		}
	}
	/* The row is there (update) or not (insert): no conflict
	 * clause, which costs sqlite a second search. */
	st = pst_reset(had ? lb->rec_update : lb->rec_put);
	if (lb_bind_record(st, b, period, account, score, subscore, meta,
	    metalen) != 0) {
		pst_fail_db(p, r, "record");
		return -1;
	}
	if (!pst_step_account(p, r, st, "record"))
		return -1;
	if (lt != NULL) {
		ok.score = os;
		ok.subscore = oss;
		ok.account = account;
		nk.score = score;
		nk.subscore = subscore;
		nk.account = account;
		if (lb_change(lb, lt, had ? &ok : NULL, &nk) != 0) {
			pst_fail(r, GS_PST_EINTERNAL, "out of memory");
			return -1;
		}
	}
	return 1;
}

/* The tree of (board, period) if it is in memory, else NULL: a write
 * to a board nobody reads need not build one. */
static struct lb_tree *
lb_tree_loaded(struct pst_lb *lb, const char *board, int64_t period)
{
	unsigned	i;

	for (i = 0; i < lb->ntrees; i++)
		if (lb->trees[i].period == period &&
		    strcmp(lb->trees[i].board, board) == 0)
			return &lb->trees[i];
	return NULL;
}

/*
 * lb_submit [name, [[account, score, subscore, meta|nil]...], client]
 * client: the records come from a player (the gateway), allowed only
 * on a board with client_write.
 */
static void
op_lb_submit(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	struct lb_board	 b;
	struct lb_tree	*lt;
	const char	*meta;
	size_t		 metalen;
	uint32_t	 n, i, written = 0;
	uint64_t	 account;
	int64_t		 period, score, subscore;
	bool		 client;
	int		 rc;

	if (!lb_board_arg(p, r, rd, &b))
		return;
	n = gs_rd_array(rd, LB_SUBMIT_MAX);
	if (rd->err != GS_OK) {
		pst_fail(r, GS_PST_EARGS, "records: an array of at most 1000");
		return;
	}
	period = lb_period(b.reset, pst_now());
	lt = lb_tree_loaded(p->lb, b.name, period);
	for (i = 0; i < n; i++) {
		(void)gs_rd_array_n(rd, 3, 4);
		account = gs_rd_uint(rd, INT64_MAX);
		score = gs_rd_int(rd, INT64_MIN, INT64_MAX);
		subscore = gs_rd_int(rd, INT64_MIN, INT64_MAX);
		meta = NULL;
		metalen = 0;
		if (gs_rd_type(rd) == GS_MP_STR)
			meta = gs_rd_strp(rd, &metalen, LB_META_MAX);
		else if (gs_rd_type(rd) == GS_MP_NIL)
			(void)gs_rd_nil(rd);
		if (rd->err != GS_OK || account == 0) {
			pst_fail(r, GS_PST_EARGS, "a record is [account, "
			    "score, subscore, meta (256 bytes) or nil]");
			return;
		}
		if ((rc = lb_write(p, r, &b, lt, period, account, score,
		    subscore, meta, metalen)) < 0)
			return;
		written += (uint32_t)rc;
	}
	client = gs_rd_more(rd) && gs_rd_bool(rd);
	if (!pst_arg_end(rd, r))
		return;
	if (client && !b.client_write) {
		pst_fail(r, GS_PST_EFORBIDDEN, "this leaderboard takes scores "
		    "from servers only");
		return;
	}
	gs_wr_map(pst_ok(r), 2);
	gs_wr_str(&r->body, "records");
	gs_wr_uint(&r->body, n);
	gs_wr_str(&r->body, "written");
	gs_wr_uint(&r->body, written);
}

/* Write one ranked record: {rank, account, name, score, subscore,
 * meta}.  -1 with r failed. */
static int
lb_put_record(struct persist *p, struct pst_req *r, struct gs_wr *w,
    const struct lb_board *b, int64_t period, size_t rank,
    const struct rank_key *k)
{
	sqlite3_stmt	*st = pst_reset(p->lb->rec_row);
	const char	*s;
	int		 rc;

	if (sqlite3_bind_int64(st, 1, b->id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, period) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, (int64_t)k->account) != SQLITE_OK) {
		pst_fail_db(p, r, "record");
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		(void)sqlite3_reset(st);
		pst_fail_db(p, r, "record");
		return -1;
	}
	gs_wr_map(w, 6);
	gs_wr_str(w, "rank");
	gs_wr_uint(w, rank);
	gs_wr_str(w, "account");
	gs_wr_uint(w, k->account);
	gs_wr_str(w, "name");
	s = (const char *)sqlite3_column_text(st, 1);
	gs_wr_str(w, s != NULL ? s : "");
	gs_wr_str(w, "score");
	gs_wr_int(w, k->score);
	gs_wr_str(w, "subscore");
	gs_wr_int(w, k->subscore);
	gs_wr_str(w, "meta");
	s = (const char *)sqlite3_column_text(st, 0);
	gs_wr_str(w, s != NULL ? s : "");
	(void)sqlite3_reset(st);
	return 0;
}

/* {board, period, count, records: [ranks first..last]} */
static void
lb_answer(struct persist *p, struct pst_req *r, const struct lb_board *b,
    struct lb_tree *lt, int64_t period, size_t first, size_t last)
{
	struct gs_wr	*w = pst_ok(r);
	struct rank_iter it;
	struct rank_key	 k;
	size_t		 i, count = rank_count(lt->t);

	if (last > count)
		last = count;
	if (first > 0 && first <= last && !rank_iter_at(lt->t, first, &it)) {
		pst_fail(r, GS_PST_EINTERNAL, "rank out of step");
		return;
	}
	gs_wr_map(w, 4);
	gs_wr_str(w, "board");
	gs_wr_str(w, b->name);
	gs_wr_str(w, "period");
	gs_wr_int(w, period);
	gs_wr_str(w, "count");
	gs_wr_uint(w, count);
	gs_wr_str(w, "records");
	gs_wr_array(w, first <= last && first > 0 ?
	    (uint32_t)(last - first + 1) : 0);
	for (i = first; i > 0 && i <= last; i++) {
		if (rank_next(&it, &k) != i) {
			pst_fail(r, GS_PST_EINTERNAL, "rank out of step");
			return;
		}
		if (lb_put_record(p, r, w, b, period, i, &k) != 0)
			return;
	}
	if (w->err != GS_OK)
		pst_fail(r, GS_PST_EINTERNAL, "reply too large");
}

/* lb_top [name, limit, period|nil] */
static void
op_lb_top(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	struct lb_board	 b;
	struct lb_tree	*lt;
	int64_t		 period;
	uint64_t	 limit;

	if (!lb_board_arg(p, r, rd, &b))
		return;
	limit = gs_rd_uint(rd, LB_LIMIT_MAX);
	if (rd->err != GS_OK || limit == 0) {
		pst_fail(r, GS_PST_EARGS, "limit: 1 to 100");
		return;
	}
	if (!lb_period_arg(r, rd, &b, &period) || !pst_arg_end(rd, r))
		return;
	if ((lt = lb_tree(p, r, &b, period)) == NULL)
		return;
	lb_answer(p, r, &b, lt, period, 1, limit);
}

/* The key of account's record, from the table: 1, 0 none, -1 failed. */
static int
lb_key_of(struct persist *p, struct pst_req *r, const struct lb_board *b,
    int64_t period, uint64_t account, struct rank_key *k)
{
	sqlite3_stmt	*st = pst_reset(p->lb->rec_get);
	int		 rc;

	if (sqlite3_bind_int64(st, 1, b->id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, period) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, (int64_t)account) != SQLITE_OK) {
		pst_fail_db(p, r, "record");
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		k->score = sqlite3_column_int64(st, 0);
		k->subscore = sqlite3_column_int64(st, 1);
		k->account = account;
	}
	(void)sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE) {
		pst_fail(r, GS_PST_ENOTFOUND, "no record of that account on "
		    "the leaderboard");
		return 0;
	}
	pst_fail_db(p, r, "record");
	return -1;
}

/* account's record on (board, period): its tree, key and rank, or 0
 * with r failed (not_found when it has none). */
static size_t
lb_locate(struct persist *p, struct pst_req *r, const struct lb_board *b,
    int64_t period, uint64_t account, struct lb_tree **lt,
    struct rank_key *k)
{
	size_t	rank;

	if ((*lt = lb_tree(p, r, b, period)) == NULL ||
	    lb_key_of(p, r, b, period, account, k) != 1)
		return 0;
	if ((rank = rank_of((*lt)->t, k)) == 0)
		pst_fail(r, GS_PST_EINTERNAL, "rank out of step");
	return rank;
}

/* lb_around [name, account, limit, period|nil]: limit records centred
 * on the account's. */
static void
op_lb_around(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	struct lb_board	 b;
	struct lb_tree	*lt;
	struct rank_key	 k;
	int64_t		 period;
	uint64_t	 account, limit;
	size_t		 rank, first, count;

	if (!lb_board_arg(p, r, rd, &b))
		return;
	account = gs_rd_uint(rd, INT64_MAX);
	limit = gs_rd_uint(rd, LB_LIMIT_MAX);
	if (rd->err != GS_OK || account == 0 || limit == 0) {
		pst_fail(r, GS_PST_EARGS, "lb_around [board, account, limit "
		    "1 to 100, period]");
		return;
	}
	if (!lb_period_arg(r, rd, &b, &period) || !pst_arg_end(rd, r))
		return;
	if ((rank = lb_locate(p, r, &b, period, account, &lt, &k)) == 0)
		return;
	count = rank_count(lt->t);
	first = rank > limit / 2 ? rank - limit / 2 : 1;
	if (first + limit - 1 > count)
		first = count >= limit ? count - limit + 1 : 1;
	lb_answer(p, r, &b, lt, period, first, first + limit - 1);
}

/* lb_rank [name, account, period|nil] → {rank, score, subscore, count} */
static void
op_lb_rank(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	struct lb_board	 b;
	struct lb_tree	*lt;
	struct rank_key	 k;
	struct gs_wr	*w;
	int64_t		 period;
	uint64_t	 account;
	size_t		 rank;

	if (!lb_board_arg(p, r, rd, &b))
		return;
	account = gs_rd_uint(rd, INT64_MAX);
	if (rd->err != GS_OK || account == 0) {
		pst_fail(r, GS_PST_EARGS, "account: an id");
		return;
	}
	if (!lb_period_arg(r, rd, &b, &period) || !pst_arg_end(rd, r))
		return;
	if ((rank = lb_locate(p, r, &b, period, account, &lt, &k)) == 0)
		return;
	w = pst_ok(r);
	gs_wr_map(w, 5);
	gs_wr_str(w, "rank");
	gs_wr_uint(w, rank);
	gs_wr_str(w, "score");
	gs_wr_int(w, k.score);
	gs_wr_str(w, "subscore");
	gs_wr_int(w, k.subscore);
	gs_wr_str(w, "count");
	gs_wr_uint(w, rank_count(lt->t));
	gs_wr_str(w, "period");
	gs_wr_int(w, period);
}

/* lb_list []: the boards and their settings. */
static void
op_lb_list(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	sqlite3_stmt	*st;
	struct gs_wr	*w;
	uint32_t	 n = 0;
	size_t		 mark;
	int		 rc;

	if (!pst_arg_end(rd, r))
		return;
	w = pst_ok(r);
	mark = gs_wr_count_begin(w, false);
	st = pst_reset(p->lb->boards);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 10000) {
		gs_wr_map(w, 5);
		gs_wr_str(w, "board");
		gs_wr_str(w, (const char *)sqlite3_column_text(st, 0));
		gs_wr_str(w, "order");
		gs_wr_str(w, sqlite3_column_int(st, 1) ? "desc" : "asc");
		gs_wr_str(w, "operator");
		gs_wr_str(w, op_names[sqlite3_column_int(st, 2) % 3]);
		gs_wr_str(w, "reset");
		gs_wr_str(w, reset_names[sqlite3_column_int(st, 3) % 4]);
		gs_wr_str(w, "client_write");
		gs_wr_bool(w, sqlite3_column_int(st, 4) != 0);
		n++;
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		pst_fail_db(p, r, "boards");
		return;
	}
	if (w->err != GS_OK) {
		pst_fail(r, GS_PST_EINTERNAL, "reply too large");
		return;
	}
	gs_wr_count_end(w, mark, n);
}

const struct pst_op pst_lb_ops[] = {
	{ "lb_create", op_lb_create },
	{ "lb_submit", op_lb_submit },
	{ "lb_top", op_lb_top },
	{ "lb_around", op_lb_around },
	{ "lb_rank", op_lb_rank },
	{ "lb_list", op_lb_list },
	{ NULL, NULL },
};

static int
lb_prepare_blind(struct persist *p)
{
#define BLIND_WHERE " WHERE board = ?1 AND period = ?2 AND account = ?3"
#define BLIND_REST ", meta = ?6, updated = ?7" BLIND_WHERE
	struct pst_lb	*lb = p->lb;

	return pst_prepare(p, "UPDATE records SET score = ?4, subscore = ?5"
	    BLIND_REST " AND (?4 > score OR (?4 = score AND ?5 > subscore))",
	    &lb->blind[LB_BEST]) != 0 ||
	    pst_prepare(p, "UPDATE records SET score = ?4, subscore = ?5"
	    BLIND_REST " AND (?4 < score OR (?4 = score AND ?5 < subscore))",
	    &lb->blind[LB_BEST_ASC]) != 0 ||
	    pst_prepare(p, "UPDATE records SET score = ?4, subscore = ?5"
	    BLIND_REST, &lb->blind[LB_SET]) != 0 ||
	    pst_prepare(p, "UPDATE records SET score = score + ?4, "
	    "subscore = subscore + ?5" BLIND_REST, &lb->blind[LB_INCR]) != 0 ||
	    pst_prepare(p, "INSERT OR IGNORE INTO records (board, period, "
	    "account, score, subscore, meta, updated) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6, ?7)", &lb->rec_put_new) != 0 ? -1 : 0;
#undef BLIND_WHERE
#undef BLIND_REST
}

int
pst_lb_init(struct persist *p)
{
	struct pst_lb	*lb;

	if ((lb = calloc(1, sizeof(*lb))) == NULL)
		return -1;
	p->lb = lb;
	if (pst_prepare(p, "SELECT descending, operator, reset, client_write, "
	    "id FROM boards WHERE name = ?1", &lb->board_get) != 0 ||
	    pst_prepare(p, "INSERT INTO boards (name, descending, operator, "
	    "reset, client_write, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	    &lb->board_new) != 0 ||
	    pst_prepare(p, "SELECT name, descending, operator, reset, "
	    "client_write FROM boards ORDER BY name", &lb->boards) != 0 ||
	    pst_prepare(p, "SELECT score, subscore FROM records WHERE "
	    "board = ?1 AND period = ?2 AND account = ?3", &lb->rec_get) != 0 ||
	    pst_prepare(p, "INSERT INTO records (board, period, account, "
	    "score, subscore, meta, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	    "?7)", &lb->rec_put) != 0 ||
	    pst_prepare(p, "UPDATE records SET score = ?4, subscore = ?5, "
	    "meta = ?6, updated = ?7 WHERE board = ?1 AND period = ?2 AND "
	    "account = ?3", &lb->rec_update) != 0 ||
	    lb_prepare_blind(p) != 0 ||
	    pst_prepare(p, "SELECT r.meta, a.name FROM records r JOIN "
	    "accounts a ON a.id = r.account WHERE r.board = ?1 AND "
	    "r.period = ?2 AND r.account = ?3", &lb->rec_row) != 0 ||
	    pst_prepare(p, "SELECT score, subscore, account FROM records "
	    "WHERE board = ?1 AND period = ?2 ORDER BY score, subscore, "
	    "account", &lb->load_asc) != 0 ||
	    pst_prepare(p, "SELECT score, subscore, account FROM records "
	    "WHERE board = ?1 AND period = ?2 ORDER BY score DESC, "
	    "subscore DESC, account", &lb->load_desc) != 0)
		return -1;
	return 0;
}

void
pst_lb_fini(struct persist *p)
{
	struct pst_lb	*lb = p->lb;
	unsigned	 i;

	if (lb == NULL)
		return;
	for (i = 0; i < lb->ntrees; i++)
		rank_free(lb->trees[i].t);
	free(lb->log);
	free(lb);
	p->lb = NULL;
}
