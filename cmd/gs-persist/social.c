/*
 * Friends, presence and chat (gs-persist(8), REQUESTS).
 *
 * Friends live in sqlite3 (schema 4), one row per direction of a
 * relation: (account, other, state), state being what account sees of
 * other: a friend, a request account made (requested), a request other
 * made (pending), or a block account made.  A friendship is two rows
 * "friend"; a request is "requested" one way and "pending" the other;
 * a block is one row "blocked" (and the other direction is gone, or
 * a block too).  So every op reads and writes a few rows by primary
 * key, and an account's list is one range of it.  Relations count
 * against GS_PST_FRIENDS_MAX on each side, blocks included, so that
 * friend_list is always whole.
 *
 * Presence is soft state, in memory only: each gateway sends the whole
 * list of its players now and then ("presence"), which replaces the
 * list it sent before and counts until the time to live it states.  A
 * gateway that dies stops counting when its list expires; one that
 * restarts comes back under a new instance.  At most SO_GATEWAYS lists
 * of GS_PST_PRESENCE_MAX accounts are kept: 32 MiB at worst.
 *
 * Chat: messages are stored by (channel, id), ids counting per channel
 * from 1, so a page of history is one range of the primary key; a
 * channel keeps its last SO_CHAT_KEEP messages.  Channels are named
 * room:NAME (open), group:NAME (members), and dm:ID (the caller and
 * ID), stored as dm:LOW:HIGH, the pair's ids in order.  A group is its
 * members: it exists while it has some, and its messages go with its
 * last member.  Text passes a word filter (a list read at start from
 * -F) and a rate limit per account, a token bucket in
 * memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limit.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#include "pst.h"

#define SO_GATEWAYS		64	/* presence lists kept */
#define SO_CHAT_KEEP		10000	/* messages a channel keeps */
#define SO_CHAT_BURST		5.0	/* messages at once, per account */
#define SO_CHAT_RATE		1.0	/* and a second after that */
#define SO_RL_SLOTS		16384	/* accounts the limit tracks */
#define SO_WORD_MAX		64	/* bytes of a filtered word */
#define SO_WORDS_MAX		10000	/* words in the list */
#define SO_WORDS_FILE_MAX	(1 << 20)	/* bytes of its file */

/* A relation's state, as stored. */
enum { SO_FRIEND, SO_REQUESTED, SO_PENDING, SO_BLOCKED, SO_NONE };

static const char *const state_names[] = { "friend", "requested",
	"pending", "blocked" };

enum so_stmt {
	SO_ACCOUNT,
	SO_REL_GET, SO_REL_PUT, SO_REL_DEL, SO_REL_COUNT, SO_REL_LIST,
	SO_MEMBER_GET, SO_MEMBER_ADD, SO_MEMBER_DEL, SO_MEMBERS_COUNT,
	SO_GROUPS_COUNT,
	SO_MSG_LAST, SO_MSG_ADD, SO_MSG_TRIM, SO_MSG_PAGE, SO_MSG_DROP,
	SO_MAX
};

static const char *const so_sql[SO_MAX] = {
	[SO_ACCOUNT] = "SELECT 1 FROM accounts WHERE id = ?1",
	[SO_REL_GET] = "SELECT state FROM friends "
	    "WHERE account = ?1 AND other = ?2",
	[SO_REL_PUT] = "INSERT INTO friends (account, other, state, since) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account, other) DO UPDATE "
	    "SET state = excluded.state, since = excluded.since",
	/* ?3 1: delete the row if it is a block; 0: if it is not. */
	[SO_REL_DEL] = "DELETE FROM friends WHERE account = ?1 AND "
	    "other = ?2 AND (state = 3) = ?3",
	[SO_REL_COUNT] = "SELECT COUNT(*) FROM (SELECT 1 FROM friends "
	    "WHERE account = ?1 LIMIT ?2)",
	[SO_REL_LIST] = "SELECT f.other, COALESCE(a.name, ''), f.state, "
	    "f.since FROM friends f LEFT JOIN accounts a ON a.id = f.other "
	    "WHERE f.account = ?1 ORDER BY f.other LIMIT ?2",
	[SO_MEMBER_GET] = "SELECT 1 FROM group_members "
	    "WHERE name = ?1 AND account = ?2",
	[SO_MEMBER_ADD] = "INSERT INTO group_members (name, account, joined) "
	    "VALUES (?1, ?2, ?3)",
	[SO_MEMBER_DEL] = "DELETE FROM group_members "
	    "WHERE name = ?1 AND account = ?2",
	[SO_MEMBERS_COUNT] = "SELECT COUNT(*) FROM (SELECT 1 FROM "
	    "group_members WHERE name = ?1 LIMIT ?2)",
	[SO_GROUPS_COUNT] = "SELECT COUNT(*) FROM (SELECT 1 FROM "
	    "group_members WHERE account = ?1 LIMIT ?2)",
	[SO_MSG_LAST] = "SELECT id FROM messages WHERE channel = ?1 "
	    "ORDER BY id DESC LIMIT 1",
	[SO_MSG_ADD] = "INSERT INTO messages (channel, id, account, text, "
	    "sent) VALUES (?1, ?2, ?3, ?4, ?5)",
	[SO_MSG_TRIM] = "DELETE FROM messages WHERE channel = ?1 AND "
	    "id <= ?2",
	[SO_MSG_PAGE] = "SELECT m.id, m.account, COALESCE(a.name, ''), "
	    "m.text, m.sent FROM messages m "
	    "LEFT JOIN accounts a ON a.id = m.account "
	    "WHERE m.channel = ?1 AND m.id < ?2 ORDER BY m.id DESC LIMIT ?3",
	[SO_MSG_DROP] = "DELETE FROM messages WHERE channel = ?1",
};

/* One gateway's players, as it last said. */
struct so_gateway {
	uint64_t	 instance;
	uint64_t	 expires_us;	/* gs_now_us(); 0: a free slot */
	uint64_t	*accounts;	/* sorted, distinct; ours */
	uint32_t	 n;
};

struct pst_social {
	sqlite3_stmt	*st[SO_MAX];	/* pst_db_close() finalizes them */
	struct so_gateway gw[SO_GATEWAYS];
	struct gs_limit	*rl;		/* chat messages, per account */
	char		*words_buf;	/* the file's text, cut into words */
	const char	**words;	/* lower case, sorted, in words_buf */
	size_t		 nwords;
};

/* A channel, checked and named as stored. */
struct so_chan {
	enum { SO_ROOM, SO_GROUP, SO_DM } kind;
	char		 name[GS_PST_CHANNEL_MAX + 1];
	const char	*group;		/* SO_GROUP: its name, in name */
	int64_t		 other;		/* SO_DM: the other account */
};

static sqlite3_stmt *
so(struct persist *p, enum so_stmt i)
{
	return pst_reset(p->social->st[i]);
}

/* -------------------------------------------------------------- args */

/* [account, other] and the end, other not account. */
static bool
arg_pair(struct gs_rd *rd, struct pst_req *r, int64_t *account,
    int64_t *other)
{
	if (!pst_arg_account(rd, r, account) ||
	    !pst_arg_account(rd, r, other) || !pst_arg_end(rd, r))
		return false;
	if (*account == *other) {
		pst_fail(r, GS_PST_EARGS, "other: an account other than "
		    "your own");
		return false;
	}
	return true;
}

/* A whole decimal id, digits only (at most 19), 1 and up: 0 or -1. */
static int
parse_id(const char *s, size_t len, int64_t *out)
{
	int64_t	v = 0;
	size_t	i;

	if (len == 0 || len > 19)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    __builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, s[i] - '0', &v))
			return -1;
	}
	if (v == 0)
		return -1;
	*out = v;
	return 0;
}

/* ------------------------------------------------------------- rows */

/* Whether account exists: 1, 0, or -1 with r failed. */
static int
so_account_exists(struct persist *p, struct pst_req *r, int64_t account)
{
	sqlite3_stmt	*st = so(p, SO_ACCOUNT);

	if (sqlite3_bind_int64(st, 1, account) != SQLITE_OK) {
		pst_fail_db(p, r, "account");
		return -1;
	}
	return pst_exists(p, r, st, "account");
}

/* The other account must exist: true, or false with r failed. */
static bool
so_other_exists(struct persist *p, struct pst_req *r, int64_t other)
{
	int	rc = so_account_exists(p, r, other);

	if (rc == 0)
		pst_fail(r, GS_PST_ENOTFOUND, "no such account");
	return rc == 1;
}

/* What account sees of other: SO_FRIEND..SO_BLOCKED, SO_NONE, or -1
 * with r failed. */
static int
so_rel(struct persist *p, struct pst_req *r, int64_t account, int64_t other)
{
	sqlite3_stmt	*st = so(p, SO_REL_GET);
	int		 rc, state = SO_NONE;

	if (sqlite3_bind_int64(st, 1, account) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, other) != SQLITE_OK) {
		pst_fail_db(p, r, "friend");
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		state = sqlite3_column_int(st, 0);
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		pst_fail_db(p, r, "friend");
		return -1;
	}
	return state >= SO_FRIEND && state <= SO_BLOCKED ? state : SO_NONE;
}

static int
so_rel_put(struct persist *p, struct pst_req *r, int64_t account,
    int64_t other, int state, int64_t since)
{
	sqlite3_stmt	*st = so(p, SO_REL_PUT);

	if (sqlite3_bind_int64(st, 1, account) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, other) != SQLITE_OK ||
	    sqlite3_bind_int(st, 3, state) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, since) != SQLITE_OK ||
	    pst_step_done(st) != SQLITE_DONE) {
		pst_fail_db(p, r, "friend");
		return -1;
	}
	return 0;
}

/* Delete account's row of other if it is a block (block) or if it is
 * not: the rows deleted (0 or 1), or -1 with r failed. */
static int
so_rel_del(struct persist *p, struct pst_req *r, int64_t account,
    int64_t other, bool block)
{
	sqlite3_stmt	*st = so(p, SO_REL_DEL);

	if (sqlite3_bind_int64(st, 1, account) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, other) != SQLITE_OK ||
	    sqlite3_bind_int(st, 3, block) != SQLITE_OK ||
	    pst_step_done(st) != SQLITE_DONE) {
		pst_fail_db(p, r, "friend");
		return -1;
	}
	return sqlite3_changes(p->db);
}

/* Rows counted by statement i for key up to max: the count, or -1
 * with r failed. */
static int
so_count(struct persist *p, struct pst_req *r, enum so_stmt i,
    int64_t id, const char *name, int max)
{
	sqlite3_stmt	*st = so(p, i);
	int		 rc, n = 0;

	if ((name != NULL ? sqlite3_bind_text(st, 1, name, -1,
	    SQLITE_STATIC) : sqlite3_bind_int64(st, 1, id)) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, max) != SQLITE_OK) {
		pst_fail_db(p, r, "count");
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		pst_fail_db(p, r, "count");
		return -1;
	}
	return n;
}

/* Room for one more relation of account: true, or false with r failed. */
static bool
so_rel_room(struct persist *p, struct pst_req *r, int64_t account,
    const char *whose)
{
	char	msg[96];
	int	n;

	if ((n = so_count(p, r, SO_REL_COUNT, account, NULL,
	    GS_PST_FRIENDS_MAX)) < 0)
		return false;
	if (n >= GS_PST_FRIENDS_MAX) {
		(void)snprintf(msg, sizeof(msg), "%s list is full (%d "
		    "friends, requests and blocks)", whose,
		    GS_PST_FRIENDS_MAX);
		pst_fail(r, GS_PST_EFORBIDDEN, msg);
		return false;
	}
	return true;
}

/* {"state": name} */
static void
so_answer_state(struct pst_req *r, int state)
{
	struct gs_wr	*w = pst_ok(r);

	gs_wr_map(w, 1);
	gs_wr_str(w, "state");
	gs_wr_str(w, state_names[state]);
}

/* {key: b} */
static void
so_answer_bool(struct pst_req *r, const char *key, bool b)
{
	struct gs_wr	*w = pst_ok(r);

	gs_wr_map(w, 1);
	gs_wr_str(w, key);
	gs_wr_bool(w, b);
}

/* An array32 whose count is patched in by so_array_close(). */
static size_t
so_array_open(struct gs_wr *w)
{
	size_t	at = w->len;

	gs_wr_array(w, UINT32_MAX);
	return at;
}

static void
so_array_close(struct gs_wr *w, size_t at, uint32_t n)
{
	if (w->err != GS_OK)
		return;
	w->buf[at + 1] = (uint8_t)(n >> 24);
	w->buf[at + 2] = (uint8_t)(n >> 16);
	w->buf[at + 3] = (uint8_t)(n >> 8);
	w->buf[at + 4] = (uint8_t)n;
}

/* ----------------------------------------------------------- friends */

/* friend_add [account, other]: a request, or acceptance of other's. */
static void
op_friend_add(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	int64_t	account, other, now = pst_now();
	int	mine, theirs;

	if (!arg_pair(rd, r, &account, &other) ||
	    !so_other_exists(p, r, other) ||
	    (mine = so_rel(p, r, account, other)) < 0 ||
	    (theirs = so_rel(p, r, other, account)) < 0)
		return;
	if (mine == SO_BLOCKED || theirs == SO_BLOCKED) {
		pst_fail(r, GS_PST_EFORBIDDEN, "blocked: one of you has "
		    "blocked the other");
		return;
	}
	switch (mine) {
	case SO_FRIEND:
	case SO_REQUESTED:
		so_answer_state(r, mine);	/* again: not an error */
		return;
	case SO_PENDING:
		if (so_rel_put(p, r, account, other, SO_FRIEND, now) != 0 ||
		    so_rel_put(p, r, other, account, SO_FRIEND, now) != 0)
			return;
		gs_log_debug("friends account=%lld other=%lld",
		    (long long)account, (long long)other);
		so_answer_state(r, SO_FRIEND);
		return;
	}
	if (!so_rel_room(p, r, account, "your") ||
	    !so_rel_room(p, r, other, "their"))
		return;
	if (so_rel_put(p, r, account, other, SO_REQUESTED, now) != 0 ||
	    so_rel_put(p, r, other, account, SO_PENDING, now) != 0)
		return;
	so_answer_state(r, SO_REQUESTED);
}

/* friend_remove [account, other]: a friendship or a request, either
 * way; blocks stay. */
static void
op_friend_remove(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	int64_t	account, other;
	int	a, b;

	if (!arg_pair(rd, r, &account, &other) ||
	    (a = so_rel_del(p, r, account, other, false)) < 0 ||
	    (b = so_rel_del(p, r, other, account, false)) < 0)
		return;
	so_answer_bool(r, "removed", a + b > 0);
}

/* friend_block [account, other] */
static void
op_friend_block(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	int64_t	account, other;
	int	mine;

	if (!arg_pair(rd, r, &account, &other) ||
	    !so_other_exists(p, r, other) ||
	    (mine = so_rel(p, r, account, other)) < 0)
		return;
	if (mine == SO_BLOCKED) {
		so_answer_state(r, SO_BLOCKED);
		return;
	}
	/* A relation turns into the block in place; a new row needs
	 * room.  Other's block of account, if any, stays. */
	if ((mine == SO_NONE && !so_rel_room(p, r, account, "your")) ||
	    so_rel_del(p, r, other, account, false) < 0 ||
	    so_rel_put(p, r, account, other, SO_BLOCKED, pst_now()) != 0)
		return;
	so_answer_state(r, SO_BLOCKED);
}

/* friend_unblock [account, other] */
static void
op_friend_unblock(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	int64_t	account, other;
	int	n;

	if (!arg_pair(rd, r, &account, &other) ||
	    (n = so_rel_del(p, r, account, other, true)) < 0)
		return;
	so_answer_bool(r, "removed", n > 0);
}

/* Whether account is in an unexpired gateway's list. */
static bool
so_online(const struct pst_social *s, uint64_t account, uint64_t now_us)
{
	const struct so_gateway	*g;
	size_t			 lo, hi, mid;
	unsigned		 i;

	for (i = 0; i < SO_GATEWAYS; i++) {
		g = &s->gw[i];
		if (g->expires_us <= now_us)
			continue;
		for (lo = 0, hi = g->n; lo < hi; ) {
			mid = lo + (hi - lo) / 2;
			if (g->accounts[mid] == account)
				return true;
			if (g->accounts[mid] < account)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return false;
}

/*
 * friend_list [account] → [{account, name, state, online, since}...]
 * online is told of friends only: a request or a block shows nobody's
 * comings and goings.
 */
static void
op_friend_list(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	sqlite3_stmt	*st;
	struct gs_wr	*w;
	const char	*name;
	int64_t		 account, other;
	uint64_t	 now_us = gs_now_us();
	uint32_t	 n = 0;
	size_t		 at;
	int		 rc, state;

	if (!pst_arg_account(rd, r, &account) || !pst_arg_end(rd, r))
		return;
	st = so(p, SO_REL_LIST);
	if (sqlite3_bind_int64(st, 1, account) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, GS_PST_FRIENDS_MAX) != SQLITE_OK) {
		pst_fail_db(p, r, "friends");
		return;
	}
	w = pst_ok(r);
	at = so_array_open(w);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		other = sqlite3_column_int64(st, 0);
		name = (const char *)sqlite3_column_text(st, 1);
		state = sqlite3_column_int(st, 2);
		if (state < SO_FRIEND || state > SO_BLOCKED)
			continue;
		gs_wr_map(w, 5);
		gs_wr_str(w, "account");
		gs_wr_uint(w, (uint64_t)other);
		gs_wr_str(w, "name");
		gs_wr_str(w, name != NULL ? name : "");
		gs_wr_str(w, "state");
		gs_wr_str(w, state_names[state]);
		gs_wr_str(w, "online");
		gs_wr_bool(w, state == SO_FRIEND &&
		    so_online(p->social, (uint64_t)other, now_us));
		gs_wr_str(w, "since");
		gs_wr_int(w, sqlite3_column_int64(st, 3));
		n++;
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		pst_fail_db(p, r, "friends");
		return;
	}
	so_array_close(w, at, n);
	if (w->err != GS_OK)
		pst_fail(r, GS_PST_EINTERNAL, "reply too large");
}

/* ---------------------------------------------------------- presence */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * presence [instance, ttl, [account...]]: gateway instance's players
 * now, the whole list, counting for ttl seconds (1 to
 * GS_PST_PRESENCE_TTL_MAX) unless it sends again.  → {accounts,
 * gateways}: its distinct accounts, and the gateways counting.
 */
static void
op_presence(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	struct pst_social	*s = p->social;
	struct so_gateway	*g = NULL, *g2;
	uint64_t		 instance, ttl, *acc = NULL;
	uint64_t		 now_us = gs_now_us();
	uint32_t		 n, i, j;
	unsigned		 live = 0, k;
	struct gs_wr		*w;

	instance = gs_rd_uint(rd, UINT64_MAX);
	ttl = gs_rd_uint(rd, GS_PST_PRESENCE_TTL_MAX);
	n = gs_rd_array(rd, GS_PST_PRESENCE_MAX);
	if (rd->err != GS_OK || ttl == 0) {
		pst_fail(r, GS_PST_EARGS, "presence [instance, ttl 1 to 60, "
		    "[account...] (at most 65536)]");
		return;
	}
	if (n > 0 && (acc = malloc(n * sizeof(*acc))) == NULL) {
		pst_fail(r, GS_PST_EINTERNAL, "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		acc[i] = gs_rd_uint(rd, INT64_MAX);
		if (rd->err == GS_OK && acc[i] == 0)
			(void)gs_rd_fail(rd, GS_ERANGE);
	}
	if (gs_rd_end(rd) != GS_OK) {
		free(acc);
		pst_fail(r, GS_PST_EARGS, "accounts: ids, 1 and up");
		return;
	}
	if (n > 1) {
		qsort(acc, n, sizeof(*acc), cmp_u64);
		for (i = 1, j = 1; i < n; i++)
			if (acc[i] != acc[j - 1])
				acc[j++] = acc[i];
		n = j;
	}
	/* Its own slot, else the first free or expired one (whose list
	 * goes now). */
	for (k = 0; k < SO_GATEWAYS; k++) {
		g2 = &s->gw[k];
		if (g2->expires_us > now_us && g2->instance == instance) {
			g = g2;
			break;
		}
		if (g == NULL && g2->expires_us <= now_us)
			g = g2;
	}
	if (g == NULL) {
		free(acc);
		pst_fail(r, GS_PST_EBUSY, "too many gateways report "
		    "presence; retry later");
		return;
	}
	free(g->accounts);
	g->instance = instance;
	g->expires_us = now_us + ttl * 1000000;
	g->accounts = acc;
	g->n = n;
	for (k = 0; k < SO_GATEWAYS; k++) {
		g2 = &s->gw[k];
		if (g2->expires_us > now_us)
			live++;
		else if (g2->accounts != NULL) {
			free(g2->accounts);	/* expired: forget it */
			g2->accounts = NULL;
			g2->n = 0;
		}
	}
	w = pst_ok(r);
	gs_wr_map(w, 2);
	gs_wr_str(w, "accounts");
	gs_wr_uint(w, n);
	gs_wr_str(w, "gateways");
	gs_wr_uint(w, live);
}

/* -------------------------------------------------------------- text */

/*
 * Whether s[len] is UTF-8 (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF) without control characters other than tab and
 * newline.
 */
static bool
so_text_valid(const uint8_t *s, size_t len)
{
	uint32_t	cp, min;
	size_t		i = 0, n, k;

	while (i < len) {
		if (s[i] < 0x80) {
			if ((s[i] < 0x20 && s[i] != '\t' && s[i] != '\n') ||
			    s[i] == 0x7f)
				return false;
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			n = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			n = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return false;
		if (len - i - 1 < n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* Bytes of words: ASCII letters, digits and '_', and every byte of a
 * character beyond ASCII (so that "class" holds no "ass"). */
static bool
so_word_byte(uint8_t c)
{
	return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' &&
	    c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static char
so_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

static int
cmp_word(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Replace each listed word of t[len], whole words matched with ASCII
 * letters of either case, by one '*' per character, in place.  Returns
 * the new length (a character of several bytes becomes one '*'), and
 * the text stays valid UTF-8.
 */
static size_t
so_filter(const struct pst_social *s, char *t, size_t len)
{
	char		 low[SO_WORD_MAX + 1];
	const char	*key = low;
	size_t		 i = 0, j, k, o = 0, n;

	if (s->nwords == 0)
		return len;
	while (i < len) {
		if (!so_word_byte((uint8_t)t[i])) {
			t[o++] = t[i++];
			continue;
		}
		for (j = i; j < len && so_word_byte((uint8_t)t[j]); j++)
			;
		n = j - i;
		if (n <= SO_WORD_MAX) {
			for (k = 0; k < n; k++)
				low[k] = so_lower(t[i + k]);
			low[n] = '\0';
			if (bsearch(&key, s->words, s->nwords,
			    sizeof(*s->words), cmp_word) != NULL) {
				for (k = i; k < j; k++)
					if (((uint8_t)t[k] & 0xc0) != 0x80)
						t[o++] = '*';
				i = j;
				continue;
			}
		}
		memmove(t + o, t + i, n);	/* o <= i: never ahead */
		o += n;
		i = j;
	}
	return o;
}

/*
 * The word list: one word a line, 1 to SO_WORD_MAX bytes of word
 * bytes (valid UTF-8); blank lines and lines starting with '#' are
 * skipped, spaces around a word ignored.  0, or -1 (logged).
 */
static int
so_words_load(struct pst_social *s, const char *path)
{
	FILE	*f;
	char	*line, *e, *end;
	size_t	 len, n, k, lineno = 0;

	if ((f = fopen(path, "r")) == NULL) {
		gs_log_warn("cannot open the word list file=%s", path);
		return -1;
	}
	if ((s->words_buf = malloc(SO_WORDS_FILE_MAX + 2)) == NULL ||
	    (s->words = calloc(SO_WORDS_MAX, sizeof(*s->words))) == NULL) {
		(void)fclose(f);
		gs_log_warn("out of memory what=words");
		return -1;
	}
	len = fread(s->words_buf, 1, SO_WORDS_FILE_MAX + 1, f);
	if (ferror(f)) {
		(void)fclose(f);
		gs_log_warn("cannot read the word list file=%s", path);
		return -1;
	}
	(void)fclose(f);
	if (len > SO_WORDS_FILE_MAX) {
		gs_log_warnx("word list too large file=%s max_bytes=%d", path,
		    SO_WORDS_FILE_MAX);
		return -1;
	}
	end = s->words_buf + len;
	*end = '\0';
	for (line = s->words_buf; line < end; line = e + 1) {
		lineno++;
		if ((e = memchr(line, '\n', (size_t)(end - line))) == NULL)
			e = end;
		*e = '\0';
		if (strlen(line) != (size_t)(e - line)) {
			gs_log_warnx("NUL byte in the word list file=%s "
			    "line=%zu", path, lineno);
			return -1;
		}
		while (*line == ' ' || *line == '\t')
			line++;
		n = strlen(line);
		while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' ||
		    line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		for (k = 0; k < n && so_word_byte((uint8_t)line[k]); k++)
			line[k] = so_lower(line[k]);
		if (k < n || n > SO_WORD_MAX ||
		    !so_text_valid((uint8_t *)line, n)) {
			gs_log_warnx("bad word in the word list file=%s "
			    "line=%zu want=\"1 to %d bytes of letters, digits "
			    "and _, one a line\"", path, lineno, SO_WORD_MAX);
			return -1;
		}
		if (s->nwords == SO_WORDS_MAX) {
			gs_log_warnx("too many words in the word list "
			    "file=%s max=%d", path, SO_WORDS_MAX);
			return -1;
		}
		s->words[s->nwords++] = line;
	}
	qsort(s->words, s->nwords, sizeof(*s->words), cmp_word);
	gs_log_info("word list loaded file=%s words=%zu", path, s->nwords);
	return 0;
}

/* ---------------------------------------------------------- channels */

/* A group's name: 1 to GS_PST_GROUP_MAX bytes of A-Z a-z 0-9 _ . - */
static bool
arg_group(struct gs_rd *rd, struct pst_req *r, char *name, size_t cap)
{
	(void)gs_rd_str(rd, name, cap);
	if (rd->err != GS_OK || !gs_name_valid(name, GS_PST_GROUP_MAX)) {
		pst_fail(r, GS_PST_EARGS, "group: 1 to 64 bytes of A-Z a-z "
		    "0-9 _ . -");
		return false;
	}
	return true;
}

/* Whether account is in group name: 1, 0, or -1 with r failed. */
static int
so_member(struct persist *p, struct pst_req *r, const char *name,
    int64_t account)
{
	sqlite3_stmt	*st = so(p, SO_MEMBER_GET);

	if (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, account) != SQLITE_OK) {
		pst_fail_db(p, r, "member");
		return -1;
	}
	return pst_exists(p, r, st, "member");
}

/* Read a channel argument for account into c, by name alone: true, or
 * false with r failed.  A dm's stored name holds the caller, so that
 * only its pair can reach it. */
static bool
arg_channel(struct gs_rd *rd, struct pst_req *r, int64_t account,
    struct so_chan *c)
{
	char	in[GS_PST_CHANNEL_MAX + 1];
	bool	ok = false;

	(void)gs_rd_str(rd, in, sizeof(in));
	memset(c, 0, sizeof(*c));
	if (rd->err != GS_OK)
		;
	else if (strncmp(in, "room:", 5) == 0) {
		c->kind = SO_ROOM;
		ok = gs_name_valid(in + 5, GS_ROOM_MAX);
	} else if (strncmp(in, "group:", 6) == 0) {
		c->kind = SO_GROUP;
		c->group = c->name + 6;
		ok = gs_name_valid(in + 6, GS_PST_GROUP_MAX);
	} else if (strncmp(in, "dm:", 3) == 0) {
		c->kind = SO_DM;
		ok = parse_id(in + 3, strlen(in + 3), &c->other) == 0;
		if (ok && c->other == account) {
			pst_fail(r, GS_PST_EARGS, "channel: dm:ID with "
			    "another account's id");
			return false;
		}
	}
	if (!ok) {
		pst_fail(r, GS_PST_EARGS, "channel: room:NAME, group:NAME or "
		    "dm:ID");
		return false;
	}
	if (c->kind == SO_DM)
		(void)snprintf(c->name, sizeof(c->name), "dm:%lld:%lld",
		    (long long)GS_MIN(account, c->other),
		    (long long)GS_MAX(account, c->other));
	else
		(void)gs_strlcpy(c->name, in, sizeof(c->name));
	return true;
}

/*
 * Whether account may read channel c (send false) or write to it (send
 * true): true, or false with r failed.  A group is its members'; a dm
 * needs the other account, and either's block stops sending.
 */
static bool
so_chan_allowed(struct persist *p, struct pst_req *r, int64_t account,
    const struct so_chan *c, bool send)
{
	int	rc, mine, theirs;

	switch (c->kind) {
	case SO_ROOM:
		return true;
	case SO_GROUP:
		if ((rc = so_member(p, r, c->group, account)) < 0)
			return false;
		if (rc == 0) {
			pst_fail(r, GS_PST_EFORBIDDEN, "not a member of the "
			    "group");
			return false;
		}
		return true;
	case SO_DM:
		if (!so_other_exists(p, r, c->other))
			return false;
		if (!send)
			return true;
		if ((mine = so_rel(p, r, account, c->other)) < 0 ||
		    (theirs = so_rel(p, r, c->other, account)) < 0)
			return false;
		if (mine == SO_BLOCKED || theirs == SO_BLOCKED) {
			pst_fail(r, GS_PST_EFORBIDDEN, "blocked: one of you "
			    "has blocked the other");
			return false;
		}
		return true;
	}
	return false;
}

/* -------------------------------------------------------------- chat */

/* chat_send [account, channel, text] → {id, sent} */
static void
op_chat_send(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	struct pst_social	*s = p->social;
	struct so_chan		 c;
	char			 text[GS_PST_CHAT_TEXT_MAX];
	const char		*t;
	sqlite3_stmt		*st;
	size_t			 len;
	int64_t			 account, id = 0, now = pst_now();
	struct gs_wr		*w;
	unsigned		 retry;
	int			 rc;

	if (!pst_arg_account(rd, r, &account) ||
	    !arg_channel(rd, r, account, &c))
		return;
	t = gs_rd_strp(rd, &len, GS_PST_CHAT_TEXT_MAX);
	if (rd->err != GS_OK || len == 0 ||
	    !so_text_valid((const uint8_t *)t, len)) {
		pst_fail(r, GS_PST_EARGS, "text: 1 to 500 bytes of UTF-8, no "
		    "control characters but tab and newline");
		return;
	}
	if (!pst_arg_end(rd, r) || !so_chan_allowed(p, r, account, &c, true))
		return;
	if (!gs_limit_take(s->rl, &account, sizeof(account), gs_now_us(), 1,
	    &retry)) {
		pst_fail(r, GS_PST_EFORBIDDEN, "too many messages; slow down");
		return;
	}
	memcpy(text, t, len);
	len = so_filter(s, text, len);

	st = so(p, SO_MSG_LAST);
	if (sqlite3_bind_text(st, 1, c.name, -1, SQLITE_STATIC) != SQLITE_OK) {
		pst_fail_db(p, r, "message");
		return;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		pst_fail_db(p, r, "message");
		return;
	}
	id++;
	st = so(p, SO_MSG_ADD);
	if (sqlite3_bind_text(st, 1, c.name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, account) != SQLITE_OK ||
	    sqlite3_bind_text(st, 4, text, (int)len, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, now) != SQLITE_OK) {
		pst_fail_db(p, r, "message");
		return;
	}
	if (!pst_step_account(p, r, st, "message"))
		return;
	if (id > SO_CHAT_KEEP) {
		st = so(p, SO_MSG_TRIM);
		if (sqlite3_bind_text(st, 1, c.name, -1, SQLITE_STATIC) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, id - SO_CHAT_KEEP) != SQLITE_OK ||
		    pst_step_done(st) != SQLITE_DONE) {
			pst_fail_db(p, r, "trim");
			return;
		}
	}
	w = pst_ok(r);
	gs_wr_map(w, 2);
	gs_wr_str(w, "id");
	gs_wr_int(w, id);
	gs_wr_str(w, "sent");
	gs_wr_int(w, now);
}

/*
 * chat_history [account, channel, before, limit] → {messages: [{id,
 * account, name, text, sent}...], more}: the limit messages before id
 * before (0: the newest), newest first; more when older ones are left.
 */
static void
op_chat_history(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	struct so_chan	 c;
	sqlite3_stmt	*st;
	struct gs_wr	*w;
	const char	*s;
	int64_t		 account, before;
	uint64_t	 limit;
	uint32_t	 n = 0;
	size_t		 at;
	bool		 more = false;
	int		 rc;

	if (!pst_arg_account(rd, r, &account) ||
	    !arg_channel(rd, r, account, &c))
		return;
	before = (int64_t)gs_rd_uint(rd, INT64_MAX);
	limit = gs_rd_uint(rd, GS_PST_CHAT_PAGE_MAX);
	if (rd->err != GS_OK || limit == 0) {
		pst_fail(r, GS_PST_EARGS, "chat_history [account, channel, "
		    "before (an id, 0: the newest), limit 1 to 100]");
		return;
	}
	if (!pst_arg_end(rd, r))
		return;
	/* Rooms are open to every account, and only to accounts. */
	if ((rc = so_account_exists(p, r, account)) <= 0) {
		if (rc == 0)
			pst_fail(r, GS_PST_ENOTFOUND, "no such account");
		return;
	}
	if (!so_chan_allowed(p, r, account, &c, false))
		return;
	st = so(p, SO_MSG_PAGE);
	if (sqlite3_bind_text(st, 1, c.name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, before == 0 ? INT64_MAX : before) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, (int64_t)limit + 1) != SQLITE_OK) {
		pst_fail_db(p, r, "history");
		return;
	}
	w = pst_ok(r);
	gs_wr_map(w, 2);
	gs_wr_str(w, "messages");
	at = so_array_open(w);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == limit) {
			more = true;	/* the one asked beyond the page */
			continue;
		}
		gs_wr_map(w, 5);
		gs_wr_str(w, "id");
		gs_wr_int(w, sqlite3_column_int64(st, 0));
		gs_wr_str(w, "account");
		gs_wr_int(w, sqlite3_column_int64(st, 1));
		gs_wr_str(w, "name");
		s = (const char *)sqlite3_column_text(st, 2);
		gs_wr_str(w, s != NULL ? s : "");
		gs_wr_str(w, "text");
		s = (const char *)sqlite3_column_text(st, 3);
		gs_wr_strn(w, s != NULL ? s : "", s != NULL ?
		    (size_t)sqlite3_column_bytes(st, 3) : 0);
		gs_wr_str(w, "sent");
		gs_wr_int(w, sqlite3_column_int64(st, 4));
		n++;
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		pst_fail_db(p, r, "history");
		return;
	}
	so_array_close(w, at, n);
	gs_wr_str(w, "more");
	gs_wr_bool(w, more);
	if (w->err != GS_OK)
		pst_fail(r, GS_PST_EINTERNAL, "reply too large");
}

/* group_join [account, name] → {joined}: false when a member already. */
static void
op_group_join(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	char		 name[GS_PST_GROUP_MAX + 1];
	sqlite3_stmt	*st;
	int64_t		 account;
	int		 rc;

	if (!pst_arg_account(rd, r, &account) ||
	    !arg_group(rd, r, name, sizeof(name)) || !pst_arg_end(rd, r))
		return;
	if ((rc = so_member(p, r, name, account)) != 0) {
		if (rc == 1)
			so_answer_bool(r, "joined", false);
		return;
	}
	if ((rc = so_count(p, r, SO_GROUPS_COUNT, account, NULL,
	    GS_PST_GROUPS_MAX)) < 0)
		return;
	if (rc >= GS_PST_GROUPS_MAX) {
		pst_fail(r, GS_PST_EFORBIDDEN, "in too many groups (100)");
		return;
	}
	if ((rc = so_count(p, r, SO_MEMBERS_COUNT, 0, name,
	    GS_PST_MEMBERS_MAX)) < 0)
		return;
	if (rc >= GS_PST_MEMBERS_MAX) {
		pst_fail(r, GS_PST_EFORBIDDEN, "the group is full (1000 "
		    "members)");
		return;
	}
	st = so(p, SO_MEMBER_ADD);
	if (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, account) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, pst_now()) != SQLITE_OK) {
		pst_fail_db(p, r, "member");
		return;
	}
	if (!pst_step_account(p, r, st, "member"))
		return;
	so_answer_bool(r, "joined", true);
}

/* group_leave [account, name] → {left}: false when not a member.  The
 * last member takes the group's messages with it. */
static void
op_group_leave(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	char		 name[GS_PST_GROUP_MAX + 1];
	char		 chan[GS_PST_CHANNEL_MAX + 1];
	sqlite3_stmt	*st;
	int64_t		 account;
	int		 left, rc;

	if (!pst_arg_account(rd, r, &account) ||
	    !arg_group(rd, r, name, sizeof(name)) || !pst_arg_end(rd, r))
		return;
	st = so(p, SO_MEMBER_DEL);
	if (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, account) != SQLITE_OK ||
	    pst_step_done(st) != SQLITE_DONE) {
		pst_fail_db(p, r, "member");
		return;
	}
	left = sqlite3_changes(p->db);
	if (left > 0) {
		if ((rc = so_count(p, r, SO_MEMBERS_COUNT, 0, name, 1)) < 0)
			return;
		(void)snprintf(chan, sizeof(chan), "group:%s", name);
		st = so(p, SO_MSG_DROP);
		if (rc == 0 && (sqlite3_bind_text(st, 1, chan, -1,
		    SQLITE_STATIC) != SQLITE_OK ||
		    pst_step_done(st) != SQLITE_DONE)) {
			pst_fail_db(p, r, "messages");
			return;
		}
	}
	so_answer_bool(r, "left", left > 0);
}

const struct pst_op pst_social_ops[] = {
	{ "friend_add", op_friend_add },
	{ "friend_remove", op_friend_remove },
	{ "friend_block", op_friend_block },
	{ "friend_unblock", op_friend_unblock },
	{ "friend_list", op_friend_list },
	{ "presence", op_presence },
	{ "chat_send", op_chat_send },
	{ "chat_history", op_chat_history },
	{ "group_join", op_group_join },
	{ "group_leave", op_group_leave },
	{ NULL, NULL },
};

int
pst_social_init(struct persist *p)
{
	struct pst_social	*s;
	const char		*path;
	int			 i;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		gs_log_warn("out of memory what=social");
		return -1;
	}
	p->social = s;
	if ((s->rl = gs_limit_new(SO_RL_SLOTS, SO_CHAT_RATE,
	    SO_CHAT_BURST)) == NULL)
		return -1;
	for (i = 0; i < SO_MAX; i++)
		if (pst_prepare(p, so_sql[i], &s->st[i]) != 0)
			return -1;
	if ((path = p->conf.words_path) != NULL && *path != '\0' &&
	    so_words_load(s, path) != 0)
		return -1;
	return 0;
}

/* After pst_db_close(), which finalized the statements. */
void
pst_social_fini(struct persist *p)
{
	struct pst_social	*s = p->social;
	unsigned		 i;

	if (s == NULL)
		return;
	for (i = 0; i < SO_GATEWAYS; i++)
		free(s->gw[i].accounts);
	free(s->words);
	free(s->words_buf);
	gs_limit_free(s->rl);
	free(s);
	p->social = NULL;
}
