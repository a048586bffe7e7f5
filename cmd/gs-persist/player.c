/*
 * Profiles, stats, match results and room checkpoints (gs-persist(8),
 * REQUESTS).
 *
 * JSON values (a profile's metadata, a match's result) are stored as
 * compact JSON text made by jansson and answered as msgpack maps, which
 * gs-gateway's API shows as JSON objects again.  Metadata arrives as a
 * msgpack map (read by the rules of json.h), a result as JSON text (what
 * a game's end() returns).  Each is refused past its cap in JSON bytes
 * or GS_PST_JSON_DEPTH levels of nesting, and its text is loaded once
 * by jansson before it is stored, so that what is stored always loads.
 *
 * Reply sizes: a page of GS_PST_MATCHES_MAX results is the largest.  A
 * result's msgpack is at most 2.25 times its JSON text (a float, 9
 * bytes, from "1e5," at the least), so a page is below 100 * (9216 +
 * the match's names) bytes, inside PST_REPLY_MAX.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#include "pst.h"

/* What a metadata map may take in msgpack before it is converted: far
 * above what GS_PST_META_MAX bytes of JSON need in any encoding, and a
 * bound on the memory the conversion takes. */
#define PS_META_WIRE_MAX	(16 * GS_PST_META_MAX)

enum ps_stmt {
	PS_ACCOUNT,
	PS_PROFILE_GET, PS_PROFILE_SET,
	PS_STATS_ALL, PS_STATS_COUNT, PS_STAT_GET, PS_STAT_PUT,
	PS_MATCH_GET, PS_MATCH_ADD, PS_MATCH_PLAYERS, PS_MATCH_PLAYER_ADD,
	PS_MATCHES,
	PS_CKPT_PUT, PS_CKPT_GET, PS_CKPT_DEL,
	PS_MAX
};

static const char *const ps_sql[PS_MAX] = {
	[PS_ACCOUNT] = "SELECT 1 FROM accounts WHERE id = ?1",
	[PS_PROFILE_GET] = "SELECT name, avatar, metadata, created "
	    "FROM accounts WHERE id = ?1",
	/* NULL: unchanged. */
	[PS_PROFILE_SET] = "UPDATE accounts SET name = COALESCE(?2, name), "
	    "avatar = COALESCE(?3, avatar), "
	    "metadata = COALESCE(?4, metadata) WHERE id = ?1",
	[PS_STATS_ALL] = "SELECT key, value FROM stats WHERE account = ?1 "
	    "ORDER BY key LIMIT ?2",
	[PS_STATS_COUNT] = "SELECT COUNT(*) FROM stats WHERE account = ?1",
	[PS_STAT_GET] = "SELECT value FROM stats WHERE account = ?1 AND "
	    "key = ?2",
	[PS_STAT_PUT] = "INSERT INTO stats (account, key, value, updated) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account, key) DO UPDATE "
	    "SET value = excluded.value, updated = excluded.updated",
	[PS_MATCH_GET] = "SELECT ended, result FROM matches "
	    "WHERE room = ?1 AND match = ?2",
	[PS_MATCH_ADD] = "INSERT INTO matches (room, match, ended, result) "
	    "VALUES (?1, ?2, ?3, ?4)",
	[PS_MATCH_PLAYERS] = "SELECT account FROM match_players "
	    "WHERE room = ?1 AND match = ?2 ORDER BY account LIMIT ?3",
	[PS_MATCH_PLAYER_ADD] = "INSERT INTO match_players (account, ended, "
	    "room, match) VALUES (?1, ?2, ?3, ?4)",
	[PS_MATCHES] = "SELECT mp.ended, mp.room, mp.match, m.result "
	    "FROM match_players mp JOIN matches m "
	    "ON m.room = mp.room AND m.match = mp.match "
	    "WHERE mp.account = ?1 AND mp.ended < ?2 "
	    "ORDER BY mp.ended DESC, mp.room DESC, mp.match DESC LIMIT ?3",
	/* An older tick changes nothing: sqlite3_changes() says 0. */
	[PS_CKPT_PUT] = "INSERT INTO checkpoints (room, tick, data, updated) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (room) DO UPDATE "
	    "SET tick = excluded.tick, data = excluded.data, "
	    "updated = excluded.updated "
	    "WHERE excluded.tick >= checkpoints.tick",
	[PS_CKPT_GET] = "SELECT tick, data, updated FROM checkpoints "
	    "WHERE room = ?1",
	[PS_CKPT_DEL] = "DELETE FROM checkpoints WHERE room = ?1",
};

struct pst_player {
	sqlite3_stmt	*st[PS_MAX];	/* pst_db_close() finalizes them */
	/* Scratch of one request (the loop thread runs one at a time). */
	struct ps_stat {
		char	 key[GS_PST_KEY_MAX + 1];
		int64_t	 arg;		/* the delta or value asked */
		int64_t	 value;		/* the new value */
		bool	 found;		/* the account had the key */
	} stats[GS_PST_STATS_REQ_MAX];
	int64_t		 players[GS_PST_PLAYERS_MAX];
	int64_t		 stored[GS_PST_PLAYERS_MAX];
};

static sqlite3_stmt *
ps(struct persist *p, enum ps_stmt i)
{
	return pst_reset(p->player->st[i]);
}

/* Column i as text; "" for NULL (or sqlite out of memory). */
static const char *
col_text(sqlite3_stmt *st, int i)
{
	const char	*s = (const char *)sqlite3_column_text(st, i);

	return s != NULL ? s : "";
}

/* --------------------------------------------------------- writing */

/* A map or array counted as it is written: a 32-bit header now, its
 * count patched in by cnt_close(). */
struct cnt {
	size_t		at;
	uint32_t	n;
};

static void
cnt_open(struct gs_wr *w, struct cnt *c, bool map)
{
	c->at = gs_wr_count_begin(w, map);
	c->n = 0;
}

static void
cnt_close(struct gs_wr *w, const struct cnt *c)
{
	gs_wr_count_end(w, c->at, c->n);
}

/* A key of map m; its value is written next. */
static void
kv(struct gs_wr *w, struct cnt *m, const char *key)
{
	gs_wr_str(w, key);
	m->n++;
}

/* -------------------------------------------------------------- JSON */

/* Whether j has at most levels levels of containers (j's own
 * included). */
static bool
json_depth_ok(json_t *j, int levels)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	if (!json_is_object(j) && !json_is_array(j))
		return true;
	if (levels == 0)
		return false;
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (!json_depth_ok(v, levels - 1))
				return false;
		return true;
	}
	json_object_foreach(j, k, v)
		if (!json_depth_ok(v, levels - 1))
			return false;
	return true;
}

static int
json_text_to_mp(struct pst_req *r, struct gs_wr *w, const char *text,
    const char *what)
{
	json_t		*j;
	json_error_t	 jerr;

	if ((j = json_loads(text, 0, &jerr)) == NULL || !json_is_object(j)) {
		json_decref(j);
		gs_log_warnx("bad stored JSON op=%s what=%s err=\"%s\"", r->op,
		    what, jerr.text);
		pst_fail(r, GS_PST_EINTERNAL, "a stored value is damaged");
		return -1;
	}
	/* Stored within the depth (json_depth_ok), so never refused. */
	if (gs_json_to_mp(j, w, GS_PST_JSON_DEPTH) != 0) {
		json_decref(j);
		pst_fail(r, GS_PST_EINTERNAL, "a stored value is damaged");
		return -1;
	}
	json_decref(j);
	return 0;
}

/*
 * The text to store for JSON object j (borrowed), at most max bytes:
 * compact, keys sorted when sort (so that equal objects have equal
 * text).  Caller frees.  NULL with r failed when j is too deep, too
 * large, or does not load again (a NUL in a key or string).
 */
static char *
json_store_text(struct pst_req *r, json_t *j, size_t max, bool sort,
    const char *what)
{
	char		 msg[256];
	char		*text;
	json_t		*again;
	json_error_t	 jerr;

	if (!json_depth_ok(j, GS_PST_JSON_DEPTH)) {
		(void)snprintf(msg, sizeof(msg), "%s: nested deeper than %d",
		    what, GS_PST_JSON_DEPTH);
		pst_fail(r, GS_PST_EARGS, msg);
		return NULL;
	}
	if ((text = json_dumps(j, JSON_COMPACT |
	    (sort ? JSON_SORT_KEYS : 0))) == NULL) {
		pst_fail(r, GS_PST_EINTERNAL, "out of memory");
		return NULL;
	}
	if (strlen(text) > max) {
		(void)snprintf(msg, sizeof(msg), "%s: at most %zu bytes of "
		    "JSON", what, max);
		pst_fail(r, GS_PST_EARGS, msg);
		free(text);
		return NULL;
	}
	if ((again = json_loads(text, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		(void)snprintf(msg, sizeof(msg), "%s: %s", what, jerr.text);
		pst_fail(r, GS_PST_EARGS, msg);
		free(text);
		return NULL;
	}
	json_decref(again);
	return text;
}

/* ------------------------------------------------------------ checks */

/* A room's or a match's name into dst[cap]: 1 to cap - 1 bytes of
 * A-Z a-z 0-9 _ . - (gs_name_valid). */
static bool
arg_name(struct gs_rd *rd, struct pst_req *r, char *dst, size_t cap,
    const char *what)
{
	char	msg[96];

	(void)gs_rd_str(rd, dst, cap);
	if (rd->err != GS_OK || !gs_name_valid(dst, cap - 1)) {
		(void)snprintf(msg, sizeof(msg), "%s: 1 to %zu bytes of "
		    "A-Z a-z 0-9 _ . -", what, cap - 1);
		pst_fail(r, GS_PST_EARGS, msg);
		return false;
	}
	return true;
}

/* An avatar: up to GS_PST_AVATAR_MAX bytes of printable ASCII without
 * spaces, as a URL is; empty clears it. */
static bool
avatar_valid(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

/* A stat's key: 1 to GS_PST_KEY_MAX bytes of a-z 0-9 _ . - */
static bool
stat_key_valid(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || n > GS_PST_KEY_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

/* 1 the account exists, 0 not (r failed not_found), -1 (r failed). */
static int
account_exists(struct persist *p, struct pst_req *r, int64_t id)
{
	sqlite3_stmt	*st = ps(p, PS_ACCOUNT);
	int		 rc;

	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE)) {
		(void)sqlite3_reset(st);
		pst_fail_db(p, r, "account");
		return -1;
	}
	(void)sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		pst_fail(r, GS_PST_ENOTFOUND, "no such account");
		return 0;
	}
	return 1;
}

/* ---------------------------------------------------------- profiles */

/* Answer r with the profile of account id. */
static void
profile_reply(struct persist *p, struct pst_req *r, int64_t id)
{
	sqlite3_stmt	*st = ps(p, PS_PROFILE_GET);
	struct gs_wr	*w;
	struct cnt	 m;
	int		 rc;

	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE)) {
		(void)sqlite3_reset(st);
		pst_fail_db(p, r, "profile");
		return;
	}
	if (rc == SQLITE_DONE) {
		(void)sqlite3_reset(st);
		pst_fail(r, GS_PST_ENOTFOUND, "no such account");
		return;
	}
	w = pst_ok(r);
	cnt_open(w, &m, true);
	kv(w, &m, "account");
	gs_wr_uint(w, (uint64_t)id);
	kv(w, &m, "name");
	gs_wr_str(w, col_text(st, 0));
	kv(w, &m, "avatar");
	gs_wr_str(w, col_text(st, 1));
	kv(w, &m, "metadata");
	if (json_text_to_mp(r, w, col_text(st, 2), "metadata") != 0) {
		(void)sqlite3_reset(st);
		return;
	}
	kv(w, &m, "created");
	gs_wr_int(w, sqlite3_column_int64(st, 3));
	(void)sqlite3_reset(st);
	cnt_close(w, &m);
	if (w->err != GS_OK)
		pst_fail(r, GS_PST_EINTERNAL, "reply too large");
}

/* profile [account] */
static void
pst_op_profile(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	int64_t	id;

	if (!pst_arg_account(rd, r, &id) || !pst_arg_end(rd, r))
		return;
	profile_reply(p, r, id);
}

/*
 * Read profile_set's metadata value (a msgpack map) into *text, the
 * JSON to store (caller frees).  false: r failed.
 */
static bool
arg_metadata(struct gs_rd *rd, struct pst_req *r, char **text)
{
	struct gs_rd	 peek = *rd;
	json_t		*j;
	size_t		 n;

	if (gs_rd_type(rd) != GS_MP_MAP) {
		pst_fail(r, GS_PST_EARGS, "metadata: a map");
		return false;
	}
	(void)gs_rd_raw(&peek, &n);
	if (peek.err != GS_OK || n > PS_META_WIRE_MAX) {
		pst_fail(r, GS_PST_EARGS, peek.err != GS_OK ?
		    "metadata: malformed" : "metadata: too large");
		return false;
	}
	if ((j = gs_json_from_mp(rd)) == NULL) {
		if (rd->err == GS_ENOMEM)
			pst_fail(r, GS_PST_EINTERNAL, "out of memory");
		else
			pst_fail(r, GS_PST_EARGS, "metadata: malformed");
		return false;
	}
	*text = json_store_text(r, j, GS_PST_META_MAX, false, "metadata");
	json_decref(j);
	return *text != NULL;
}

/* profile_set [account, {"name"?, "avatar"?, "metadata"?}] */
static void
pst_op_profile_set(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	char		 name[GS_NAME_MAX + 1], avatar[GS_PST_AVATAR_MAX + 1];
	char		*meta = NULL;
	bool		 has_name = false, has_avatar = false;
	sqlite3_stmt	*st;
	const char	*k;
	size_t		 klen;
	uint32_t	 n, i;
	int64_t		 id;

	if (!pst_arg_account(rd, r, &id))
		return;
	n = gs_rd_map(rd, 3);
	if (rd->err != GS_OK) {
		pst_fail(r, GS_PST_EARGS, "fields: a map of name, avatar, "
		    "metadata");
		return;
	}
	for (i = 0; i < n; i++) {
		k = gs_rd_strp(rd, &klen, 16);
		if (rd->err != GS_OK)
			goto bad;
		if (klen == 4 && memcmp(k, "name", 4) == 0 && !has_name) {
			(void)gs_rd_str(rd, name, sizeof(name));
			if (rd->err != GS_OK || !gs_name_valid(name,
			    GS_NAME_MAX)) {
				pst_fail(r, GS_PST_EARGS, "name: 1 to 32 bytes "
				    "of A-Z a-z 0-9 _ . -");
				goto out;
			}
			has_name = true;
		} else if (klen == 6 && memcmp(k, "avatar", 6) == 0 &&
		    !has_avatar) {
			(void)gs_rd_str(rd, avatar, sizeof(avatar));
			if (rd->err != GS_OK || !avatar_valid(avatar)) {
				pst_fail(r, GS_PST_EARGS, "avatar: up to 256 "
				    "bytes of printable ASCII, no spaces");
				goto out;
			}
			has_avatar = true;
		} else if (klen == 8 && memcmp(k, "metadata", 8) == 0 &&
		    meta == NULL) {
			if (!arg_metadata(rd, r, &meta))
				goto out;
		} else
			goto bad;
	}
	if (!pst_arg_end(rd, r))
		goto out;
	st = ps(p, PS_PROFILE_SET);
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
	    (has_name ? sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC) :
	    sqlite3_bind_null(st, 2)) != SQLITE_OK ||
	    (has_avatar ? sqlite3_bind_text(st, 3, avatar, -1,
	    SQLITE_STATIC) : sqlite3_bind_null(st, 3)) != SQLITE_OK ||
	    (meta != NULL ? sqlite3_bind_text(st, 4, meta, -1,
	    SQLITE_STATIC) : sqlite3_bind_null(st, 4)) != SQLITE_OK ||
	    pst_step_done(st) != SQLITE_DONE) {
		pst_fail_db(p, r, "profile");
		goto out;
	}
	if (sqlite3_changes(p->db) == 0) {
		pst_fail(r, GS_PST_ENOTFOUND, "no such account");
		goto out;
	}
	profile_reply(p, r, id);
	goto out;
bad:
	pst_fail(r, GS_PST_EARGS, "fields: name, avatar and metadata, each "
	    "at most once");
out:
	free(meta);
}

/* ------------------------------------------------------------- stats */

/* stats [account]: every stat of the account. */
static void
pst_op_stats(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	sqlite3_stmt	*st;
	struct gs_wr	*w;
	struct cnt	 m;
	int64_t		 id;
	int		 rc;

	if (!pst_arg_account(rd, r, &id) || !pst_arg_end(rd, r) ||
	    account_exists(p, r, id) != 1)
		return;
	st = ps(p, PS_STATS_ALL);
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, GS_PST_STATS_MAX) != SQLITE_OK) {
		pst_fail_db(p, r, "stats");
		return;
	}
	w = pst_ok(r);
	cnt_open(w, &m, true);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		kv(w, &m, col_text(st, 0));
		gs_wr_int(w, sqlite3_column_int64(st, 1));
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		pst_fail_db(p, r, "stats");
		return;
	}
	cnt_close(w, &m);
	if (w->err != GS_OK)
		pst_fail(r, GS_PST_EINTERNAL, "reply too large");
}

/*
 * stats_incr and stats_set [account, {key: int, ...}]: add each delta
 * (incr) or set each value, creating keys at 0; answer the new values.
 * One request is one change: any bad key, overflow or a key past
 * GS_PST_STATS_MAX refuses all of it.
 */
static void
stats_write(struct persist *p, struct pst_req *r, struct gs_rd *rd,
    bool incr)
{
	struct ps_stat	*s = p->player->stats;
	sqlite3_stmt	*st;
	struct gs_wr	*w;
	struct cnt	 m;
	const char	*k;
	char		 msg[128];
	size_t		 klen;
	uint32_t	 n, i, j, fresh = 0;
	int64_t		 id, have, now = pst_now();
	int		 rc;

	if (!pst_arg_account(rd, r, &id))
		return;
	n = gs_rd_map(rd, GS_PST_STATS_REQ_MAX);
	if (rd->err != GS_OK || n == 0) {
		pst_fail(r, GS_PST_EARGS, "stats: a map of 1 to 64 keys");
		return;
	}
	for (i = 0; i < n; i++) {
		k = gs_rd_strp(rd, &klen, GS_PST_KEY_MAX);
		if (rd->err != GS_OK || !stat_key_valid(k, klen)) {
			pst_fail(r, GS_PST_EARGS, "key: 1 to 64 bytes of "
			    "a-z 0-9 _ . -");
			return;
		}
		memcpy(s[i].key, k, klen);
		s[i].key[klen] = '\0';
		for (j = 0; j < i; j++)
			if (strcmp(s[j].key, s[i].key) == 0) {
				pst_fail(r, GS_PST_EARGS, "key: repeated");
				return;
			}
		s[i].arg = gs_rd_int(rd, INT64_MIN, INT64_MAX);
		if (rd->err != GS_OK) {
			pst_fail(r, GS_PST_EARGS, "value: a signed 64-bit "
			    "integer");
			return;
		}
	}
	if (!pst_arg_end(rd, r) || account_exists(p, r, id) != 1)
		return;
	for (i = 0; i < n; i++) {
		st = ps(p, PS_STAT_GET);
		if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
		    sqlite3_bind_text(st, 2, s[i].key, -1, SQLITE_STATIC) !=
		    SQLITE_OK ||
		    ((rc = sqlite3_step(st)) != SQLITE_ROW &&
		    rc != SQLITE_DONE)) {
			(void)sqlite3_reset(st);
			pst_fail_db(p, r, "stat");
			return;
		}
		s[i].found = rc == SQLITE_ROW;
		have = s[i].found ? sqlite3_column_int64(st, 0) : 0;
		(void)sqlite3_reset(st);
		fresh += !s[i].found;
		if (!incr)
			s[i].value = s[i].arg;
		else if (__builtin_add_overflow(have, s[i].arg,
		    &s[i].value)) {
			(void)snprintf(msg, sizeof(msg), "%s: %lld + %lld "
			    "overflows", s[i].key, (long long)have,
			    (long long)s[i].arg);
			pst_fail(r, GS_PST_EARGS, msg);
			return;
		}
	}
	if (fresh > 0) {
		st = ps(p, PS_STATS_COUNT);
		if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_ROW) {
			(void)sqlite3_reset(st);
			pst_fail_db(p, r, "stats");
			return;
		}
		have = sqlite3_column_int64(st, 0);
		(void)sqlite3_reset(st);
		if (have + fresh > GS_PST_STATS_MAX) {
			(void)snprintf(msg, sizeof(msg), "the account would "
			    "have more than %d stats", GS_PST_STATS_MAX);
			pst_fail(r, GS_PST_EARGS, msg);
			return;
		}
	}
	for (i = 0; i < n; i++) {
		st = ps(p, PS_STAT_PUT);
		if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
		    sqlite3_bind_text(st, 2, s[i].key, -1, SQLITE_STATIC) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(st, 3, s[i].value) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 4, now) != SQLITE_OK ||
		    pst_step_done(st) != SQLITE_DONE) {
			pst_fail_db(p, r, "stat");
			return;
		}
	}
	w = pst_ok(r);
	cnt_open(w, &m, true);
	for (i = 0; i < n; i++) {
		kv(w, &m, s[i].key);
		gs_wr_int(w, s[i].value);
	}
	cnt_close(w, &m);
}

static void
pst_op_stats_incr(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	stats_write(p, r, rd, true);
}

static void
pst_op_stats_set(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	stats_write(p, r, rd, false);
}

/* ----------------------------------------------------------- matches */

static int
id_cmp(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Whether the stored match (room, match) has these ended, result text
 * and players (sorted): 1 the same, 0 not, -1 (r failed).
 */
static int
match_same(struct persist *p, struct pst_req *r, sqlite3_stmt *got,
    const char *room, const char *match, int64_t ended, const char *text,
    const int64_t *players, uint32_t n)
{
	int64_t		*stored = p->player->stored;
	sqlite3_stmt	*st;
	uint32_t	 m = 0;
	int		 rc;

	if (sqlite3_column_int64(got, 0) != ended ||
	    strcmp(col_text(got, 1), text) != 0)
		return 0;
	st = ps(p, PS_MATCH_PLAYERS);
	if (sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, match, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int(st, 3, GS_PST_PLAYERS_MAX + 1) != SQLITE_OK) {
		pst_fail_db(p, r, "match players");
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (m == GS_PST_PLAYERS_MAX) {
			(void)sqlite3_reset(st);
			return 0;	/* more than any request lists */
		}
		stored[m++] = sqlite3_column_int64(st, 0);
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		pst_fail_db(p, r, "match players");
		return -1;
	}
	return m == n && (n == 0 || memcmp(stored, players, n *
	    sizeof(*players)) == 0);
}

/*
 * Write a new match and its players (who must exist: r failed
 * not_found otherwise, and the savepoint undoes the rest).  0, or -1
 * (r failed).
 */
static int
match_add(struct persist *p, struct pst_req *r, const char *room,
    const char *match, int64_t ended, const char *text,
    const int64_t *players, uint32_t n)
{
	sqlite3_stmt	*st;
	char		 msg[64];
	uint32_t	 i;
	int		 rc;

	for (i = 0; i < n; i++) {
		if ((rc = account_exists(p, r, players[i])) != 1) {
			if (rc == 0) {
				(void)snprintf(msg, sizeof(msg), "no such "
				    "account: %lld", (long long)players[i]);
				pst_fail(r, GS_PST_ENOTFOUND, msg);
			}
			return -1;
		}
	}
	st = ps(p, PS_MATCH_ADD);
	if (sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, match, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, ended) != SQLITE_OK ||
	    sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC) != SQLITE_OK ||
	    pst_step_done(st) != SQLITE_DONE) {
		pst_fail_db(p, r, "match");
		return -1;
	}
	for (i = 0; i < n; i++) {
		st = ps(p, PS_MATCH_PLAYER_ADD);
		if (sqlite3_bind_int64(st, 1, players[i]) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, ended) != SQLITE_OK ||
		    sqlite3_bind_text(st, 3, room, -1, SQLITE_STATIC) !=
		    SQLITE_OK ||
		    sqlite3_bind_text(st, 4, match, -1, SQLITE_STATIC) !=
		    SQLITE_OK ||
		    pst_step_done(st) != SQLITE_DONE) {
			pst_fail_db(p, r, "match player");
			return -1;
		}
	}
	return 0;
}

/*
 * result [room, match, ended, result (JSON text), [account, ...]]:
 * written once per (room, match); a retry with the same arguments
 * changes nothing and answers created false, different ones conflict.
 */
static void
pst_op_result(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	char		 room[GS_ROOM_MAX + 1], match[GS_PST_MATCH_MAX + 1];
	char		 msg[256];
	int64_t		*players = p->player->players;
	int64_t		 ended;
	const char	*res;
	char		*text = NULL;
	json_t		*j;
	json_error_t	 jerr;
	sqlite3_stmt	*st;
	struct cnt	 m;
	struct gs_wr	*w;
	size_t		 len;
	uint32_t	 n, i;
	int		 rc;

	if (!arg_name(rd, r, room, sizeof(room), "room") ||
	    !arg_name(rd, r, match, sizeof(match), "match"))
		return;
	ended = gs_rd_int(rd, 1, INT64_MAX - 1);
	if (rd->err != GS_OK) {
		pst_fail(r, GS_PST_EARGS, "ended: a time, 1 and up");
		return;
	}
	res = gs_rd_strp(rd, &len, GS_PST_RESULT_MAX);
	if (rd->err != GS_OK) {
		pst_fail(r, GS_PST_EARGS, "result: JSON text of at most 4096 "
		    "bytes");
		return;
	}
	n = gs_rd_array(rd, GS_PST_PLAYERS_MAX);
	for (i = 0; i < n && rd->err == GS_OK; i++) {
		players[i] = (int64_t)gs_rd_uint(rd, INT64_MAX);
		if (players[i] == 0)
			(void)gs_rd_fail(rd, GS_ERANGE);
	}
	if (rd->err != GS_OK) {
		pst_fail(r, GS_PST_EARGS, "players: at most 4096 account ids");
		return;
	}
	if (!pst_arg_end(rd, r))
		return;
	qsort(players, n, sizeof(*players), id_cmp);
	for (i = 1; i < n; i++)
		if (players[i] == players[i - 1]) {
			pst_fail(r, GS_PST_EARGS, "players: an account "
			    "repeated");
			return;
		}
	j = json_loadb(res, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL || !json_is_object(j)) {
		(void)snprintf(msg, sizeof(msg), "result: not a JSON "
		    "object%s%s", j == NULL ? ": " : "", j == NULL ?
		    jerr.text : "");
		json_decref(j);
		pst_fail(r, GS_PST_EARGS, msg);
		return;
	}
	/* Keys sorted: a retry's text compares equal however the game
	 * ordered them.  Text past the cap can come only of reals printed
	 * with 17 digits: no cap on the stored form. */
	text = json_store_text(r, j, SIZE_MAX, true, "result");
	json_decref(j);
	if (text == NULL)
		return;
	st = ps(p, PS_MATCH_GET);
	if (sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, match, -1, SQLITE_STATIC) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE)) {
		(void)sqlite3_reset(st);
		pst_fail_db(p, r, "match");
		goto out;
	}
	if (rc == SQLITE_ROW) {
		rc = match_same(p, r, st, room, match, ended, text, players,
		    n);
		(void)sqlite3_reset(st);
		if (rc == 0)
			pst_fail(r, GS_PST_ECONFLICT, "the match has another "
			    "result already");
		if (rc != 1)
			goto out;
	} else {
		(void)sqlite3_reset(st);
		if (match_add(p, r, room, match, ended, text, players, n) != 0)
			goto out;
		rc = 0;
	}
	w = pst_ok(r);
	cnt_open(w, &m, true);
	kv(w, &m, "created");
	gs_wr_bool(w, rc == 0);
	cnt_close(w, &m);
out:
	free(text);
}

/*
 * matches [account, limit, before]: the account's matches that ended
 * before before (0: all), newest first.  A page holds limit matches,
 * and more when those that ended in the same second as its last are
 * left (up to GS_PST_MATCHES_MAX in all), so that "next" as the next
 * page's before skips none.
 */
static void
pst_op_matches(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	sqlite3_stmt	*st;
	struct gs_wr	*w;
	struct cnt	 top, list, m;
	int64_t		 id, limit, before, ended, last = 0;
	bool		 more = false;
	int		 rc;

	if (!pst_arg_account(rd, r, &id))
		return;
	limit = gs_rd_int(rd, 1, GS_PST_MATCHES_MAX);
	if (rd->err != GS_OK) {
		pst_fail(r, GS_PST_EARGS, "limit: 1 to 100");
		return;
	}
	before = gs_rd_int(rd, 0, INT64_MAX);
	if (rd->err != GS_OK) {
		pst_fail(r, GS_PST_EARGS, "before: a time, or 0");
		return;
	}
	if (!pst_arg_end(rd, r) || account_exists(p, r, id) != 1)
		return;
	st = ps(p, PS_MATCHES);
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, before == 0 ? INT64_MAX : before) !=
	    SQLITE_OK ||
	    sqlite3_bind_int(st, 3, GS_PST_MATCHES_MAX + 1) != SQLITE_OK) {
		pst_fail_db(p, r, "matches");
		return;
	}
	w = pst_ok(r);
	cnt_open(w, &top, true);
	kv(w, &top, "matches");
	cnt_open(w, &list, false);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ended = sqlite3_column_int64(st, 0);
		if (list.n >= limit && (ended != last ||
		    list.n == GS_PST_MATCHES_MAX)) {
			more = true;
			break;
		}
		cnt_open(w, &m, true);
		kv(w, &m, "room");
		gs_wr_str(w, col_text(st, 1));
		kv(w, &m, "match");
		gs_wr_str(w, col_text(st, 2));
		kv(w, &m, "ended");
		gs_wr_int(w, ended);
		kv(w, &m, "result");
		if (json_text_to_mp(r, w, col_text(st, 3), "result") != 0) {
			(void)sqlite3_reset(st);
			return;
		}
		cnt_close(w, &m);
		list.n++;
		last = ended;
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		pst_fail_db(p, r, "matches");
		return;
	}
	cnt_close(w, &list);
	kv(w, &top, "more");
	gs_wr_bool(w, more);
	kv(w, &top, "next");
	gs_wr_int(w, list.n > 0 ? last : before);
	cnt_close(w, &top);
	if (w->err != GS_OK)
		pst_fail(r, GS_PST_EINTERNAL, "reply too large");
}

/* ------------------------------------------------------- checkpoints */

/* checkpoint_put [room, tick, data]: kept unless a later tick is. */
static void
pst_op_checkpoint_put(struct persist *p, struct pst_req *r,
    struct gs_rd *rd)
{
	char		 room[GS_ROOM_MAX + 1], msg[96];
	sqlite3_stmt	*st;
	const uint8_t	*data;
	size_t		 len;
	int64_t		 tick;

	if (!arg_name(rd, r, room, sizeof(room), "room"))
		return;
	tick = gs_rd_int(rd, 0, INT64_MAX);
	if (rd->err != GS_OK) {
		pst_fail(r, GS_PST_EARGS, "tick: 0 and up");
		return;
	}
	data = gs_rd_binp(rd, &len, GS_PST_CHECKPOINT_MAX);
	if (rd->err != GS_OK || len == 0) {
		(void)snprintf(msg, sizeof(msg), "data: bin of 1 to %u bytes",
		    GS_PST_CHECKPOINT_MAX);
		pst_fail(r, GS_PST_EARGS, msg);
		return;
	}
	if (!pst_arg_end(rd, r))
		return;
	st = ps(p, PS_CKPT_PUT);
	if (sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, tick) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 3, data, (int)len, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, pst_now()) != SQLITE_OK ||
	    pst_step_done(st) != SQLITE_DONE) {
		pst_fail_db(p, r, "checkpoint");
		return;
	}
	if (sqlite3_changes(p->db) == 0) {
		pst_fail(r, GS_PST_ECONFLICT, "a checkpoint of a later tick "
		    "is stored");
		return;
	}
	gs_wr_map(pst_ok(r), 0);
}

/* checkpoint_get [room] */
static void
pst_op_checkpoint_get(struct persist *p, struct pst_req *r,
    struct gs_rd *rd)
{
	char		 room[GS_ROOM_MAX + 1];
	sqlite3_stmt	*st;
	struct gs_wr	*w;
	struct cnt	 m;
	int		 rc;

	if (!arg_name(rd, r, room, sizeof(room), "room") || !pst_arg_end(rd, r))
		return;
	st = ps(p, PS_CKPT_GET);
	if (sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE)) {
		(void)sqlite3_reset(st);
		pst_fail_db(p, r, "checkpoint");
		return;
	}
	if (rc == SQLITE_DONE) {
		(void)sqlite3_reset(st);
		pst_fail(r, GS_PST_ENOTFOUND, "no checkpoint of the room");
		return;
	}
	w = pst_ok(r);
	cnt_open(w, &m, true);
	kv(w, &m, "room");
	gs_wr_str(w, room);
	kv(w, &m, "tick");
	gs_wr_int(w, sqlite3_column_int64(st, 0));
	kv(w, &m, "data");
	gs_wr_bin(w, sqlite3_column_blob(st, 1),
	    (size_t)sqlite3_column_bytes(st, 1));
	kv(w, &m, "updated");
	gs_wr_int(w, sqlite3_column_int64(st, 2));
	(void)sqlite3_reset(st);
	cnt_close(w, &m);
	if (w->err != GS_OK)
		pst_fail(r, GS_PST_EINTERNAL, "reply too large");
}

/* checkpoint_del [room]: none stored is not an error. */
static void
pst_op_checkpoint_del(struct persist *p, struct pst_req *r,
    struct gs_rd *rd)
{
	char		 room[GS_ROOM_MAX + 1];
	sqlite3_stmt	*st;

	if (!arg_name(rd, r, room, sizeof(room), "room") || !pst_arg_end(rd, r))
		return;
	st = ps(p, PS_CKPT_DEL);
	if (sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC) != SQLITE_OK ||
	    pst_step_done(st) != SQLITE_DONE) {
		pst_fail_db(p, r, "checkpoint");
		return;
	}
	gs_wr_map(pst_ok(r), 0);
}

const struct pst_op pst_player_ops[] = {
	{ "profile", pst_op_profile },
	{ "profile_set", pst_op_profile_set },
	{ "stats", pst_op_stats },
	{ "stats_incr", pst_op_stats_incr },
	{ "stats_set", pst_op_stats_set },
	{ "result", pst_op_result },
	{ "matches", pst_op_matches },
	{ "checkpoint_put", pst_op_checkpoint_put },
	{ "checkpoint_get", pst_op_checkpoint_get },
	{ "checkpoint_del", pst_op_checkpoint_del },
	{ NULL, NULL },
};

int
pst_player_init(struct persist *p)
{
	int	i;

	if ((p->player = calloc(1, sizeof(*p->player))) == NULL) {
		gs_log_warn("out of memory call=calloc what=player");
		return -1;
	}
	for (i = 0; i < PS_MAX; i++)
		if (pst_prepare(p, ps_sql[i], &p->player->st[i]) != 0)
			return -1;
	return 0;
}

/* After pst_db_close(), which finalized the statements. */
void
pst_player_fini(struct persist *p)
{
	free(p->player);
	p->player = NULL;
}
