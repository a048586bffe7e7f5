/*
 * The database: one sqlite3 connection, owned by the loop thread.
 *
 * Migrations are a list of SQL scripts; PRAGMA user_version counts the
 * ones applied.  Each runs in its own transaction together with the
 * user_version bump, so a crash leaves either all of it or none, and
 * running gs-persist again on a migrated file changes nothing.  A file
 * from a newer gs-persist (user_version past the list) is refused.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "util.h"

#include "pst.h"

static const char *const migrations[] = {
	/* 1: accounts, devices, sessions, refresh tokens, revocations. */
	"CREATE TABLE accounts ("
	"  id INTEGER PRIMARY KEY,"
	"  username TEXT UNIQUE,"		/* NULL: a guest */
	"  password TEXT,"			/* pwhash string, or NULL */
	"  name TEXT NOT NULL,"			/* display name */
	"  created INTEGER NOT NULL,"
	"  last_login INTEGER NOT NULL DEFAULT 0,"
	"  banned_until INTEGER NOT NULL DEFAULT 0,"	/* 0: not banned */
	"  ban_reason TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE devices ("
	"  device TEXT PRIMARY KEY,"
	"  account INTEGER NOT NULL REFERENCES accounts(id),"
	"  created INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX devices_account ON devices(account);"
	/* A session is one chain of refresh tokens, from one login. */
	"CREATE TABLE sessions ("
	"  id INTEGER PRIMARY KEY,"
	"  account INTEGER NOT NULL REFERENCES accounts(id),"
	"  created INTEGER NOT NULL,"
	"  revoked INTEGER NOT NULL DEFAULT 0,"	/* 0: live; else when */
	"  revoked_why TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX sessions_account ON sessions(account);"
	/* Refresh tokens by the SHA-256 of their bytes: the database
	 * never holds one that could be used. */
	"CREATE TABLE refresh ("
	"  hash BLOB PRIMARY KEY,"
	"  session INTEGER NOT NULL REFERENCES sessions(id),"
	"  created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  spent INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"CREATE INDEX refresh_session ON refresh(session);"
	/* Access tokens of an account (of one session, or of all when
	 * session is 0) issued at or before not_before are refused by
	 * the gateways, which poll this list by seq. */
	"CREATE TABLE revocations ("
	"  seq INTEGER PRIMARY KEY,"
	"  account INTEGER NOT NULL,"
	"  session INTEGER NOT NULL,"		/* 0: every session */
	"  not_before INTEGER NOT NULL,"
	"  created INTEGER NOT NULL);",

	/* 2: leaderboards.  A board's records are kept per period (the
	 * start of its day, week or month; 0 for a board never reset),
	 * so a reset is the next period starting, and old periods stay
	 * readable.  records_order serves top N and the neighbours of a
	 * record; ranks come from lb.c's memory. */
	"CREATE TABLE boards ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  descending INTEGER NOT NULL,"	/* 1: high scores first */
	"  operator INTEGER NOT NULL,"		/* 0 best, 1 set, 2 incr */
	"  reset INTEGER NOT NULL,"		/* 0 never, 1 day, 2 week,
						 * 3 month */
	"  client_write INTEGER NOT NULL,"	/* players submit */
	"  created INTEGER NOT NULL);"
	/* Keyed by the board's integer id: a key compares as three
	 * integers, the cost of most of a write. */
	"CREATE TABLE records ("
	"  board INTEGER NOT NULL REFERENCES boards(id),"
	"  period INTEGER NOT NULL,"
	"  account INTEGER NOT NULL REFERENCES accounts(id),"
	"  score INTEGER NOT NULL,"
	"  subscore INTEGER NOT NULL,"
	"  meta TEXT NOT NULL DEFAULT '',"
	"  updated INTEGER NOT NULL,"
	/* An incr that overflows 64 bits would make sqlite store a
	 * real: refused instead. */
	"  CHECK (typeof(score) = 'integer' AND"
	"    typeof(subscore) = 'integer'),"
	"  PRIMARY KEY (board, period, account)) WITHOUT ROWID;"
	"CREATE INDEX records_order ON records(board, period, score, subscore,"
	"  account);",

	/* 3: profiles, stats, match results, room checkpoints. */
	"ALTER TABLE accounts ADD COLUMN avatar TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE accounts ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';"
	"CREATE TABLE stats ("
	"  account INTEGER NOT NULL REFERENCES accounts(id),"
	"  key TEXT NOT NULL,"
	"  value INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  PRIMARY KEY (account, key)) WITHOUT ROWID;"
	/* One row per match, by the room's name and the match's id
	 * within it: a retried write finds it there. */
	"CREATE TABLE matches ("
	"  room TEXT NOT NULL,"
	"  match TEXT NOT NULL,"
	"  ended INTEGER NOT NULL,"
	"  result TEXT NOT NULL,"			/* JSON object */
	"  PRIMARY KEY (room, match)) WITHOUT ROWID;"
	"CREATE TABLE match_players ("
	"  account INTEGER NOT NULL REFERENCES accounts(id),"
	"  ended INTEGER NOT NULL,"
	"  room TEXT NOT NULL,"
	"  match TEXT NOT NULL,"
	"  PRIMARY KEY (account, ended, room, match)) WITHOUT ROWID;"
	/* A match's players, for a retried write to compare with. */
	"CREATE INDEX match_players_match ON match_players(room, match);"
	"CREATE TABLE checkpoints ("
	"  room TEXT PRIMARY KEY,"
	"  tick INTEGER NOT NULL,"
	"  data BLOB NOT NULL,"
	"  updated INTEGER NOT NULL) WITHOUT ROWID;",

	/* 4: friends, group members, chat messages (social.c).  One row
	 * per direction of a relation, so that each op and an account's
	 * list are one range of the primary key. */
	"CREATE TABLE friends ("
	"  account INTEGER NOT NULL REFERENCES accounts(id),"
	"  other INTEGER NOT NULL REFERENCES accounts(id),"
	"  state INTEGER NOT NULL,"		/* 0 friend, 1 requested,
						 * 2 pending, 3 blocked */
	"  since INTEGER NOT NULL,"
	"  PRIMARY KEY (account, other)) WITHOUT ROWID;"
	"CREATE TABLE group_members ("
	"  name TEXT NOT NULL,"
	"  account INTEGER NOT NULL REFERENCES accounts(id),"
	"  joined INTEGER NOT NULL,"
	"  PRIMARY KEY (name, account)) WITHOUT ROWID;"
	"CREATE INDEX group_members_account ON group_members(account);"
	/* ids count per channel from 1; history pages by (channel, id). */
	"CREATE TABLE messages ("
	"  channel TEXT NOT NULL,"
	"  id INTEGER NOT NULL,"
	"  account INTEGER NOT NULL REFERENCES accounts(id),"
	"  text TEXT NOT NULL,"
	"  sent INTEGER NOT NULL,"
	"  PRIMARY KEY (channel, id)) WITHOUT ROWID;",
};

static const char *const stmt_sql[ST_MAX] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SAVEPOINT] = "SAVEPOINT r",
	[ST_RELEASE] = "RELEASE r",
	[ST_ROLLBACK_TO] = "ROLLBACK TO r",
	[ST_DEVICE_GET] = "SELECT account FROM devices WHERE device = ?1",
	[ST_DEVICE_ADD] = "INSERT INTO devices (device, account, created) "
	    "VALUES (?1, ?2, ?3)",
	[ST_ACCOUNT_NEW] = "INSERT INTO accounts (username, password, name, "
	    "created) VALUES (?1, ?2, ?3, ?4)",
	[ST_ACCOUNT_GET] = "SELECT id, username, name, created, last_login, "
	    "banned_until, ban_reason, password FROM accounts WHERE id = ?1",
	[ST_ACCOUNT_BY_USER] = "SELECT id, username, name, created, "
	    "last_login, banned_until, ban_reason, password FROM accounts "
	    "WHERE username = ?1",
	[ST_ACCOUNT_SET_LOGIN] = "UPDATE accounts SET last_login = ?2 "
	    "WHERE id = ?1",
	[ST_ACCOUNT_SET_NAME] = "UPDATE accounts SET name = ?2 WHERE id = ?1",
	[ST_ACCOUNT_BAN] = "UPDATE accounts SET banned_until = ?2, "
	    "ban_reason = ?3 WHERE id = ?1",
	[ST_ACCOUNT_DEVICES] = "SELECT device FROM devices WHERE account = ?1 "
	    "ORDER BY created, device LIMIT 64",
	[ST_SESSION_NEW] = "INSERT INTO sessions (account, created) "
	    "VALUES (?1, ?2)",
	[ST_SESSION_REVOKE] = "UPDATE sessions SET revoked = ?2, "
	    "revoked_why = ?3 WHERE id = ?1 AND revoked = 0",
	[ST_SESSION_REVOKE_ALL] = "UPDATE sessions SET revoked = ?2, "
	    "revoked_why = ?3 WHERE account = ?1 AND revoked = 0",
	[ST_REFRESH_NEW] = "INSERT INTO refresh (hash, session, created, "
	    "expires) VALUES (?1, ?2, ?3, ?4)",
	[ST_REFRESH_GET] = "SELECT f.session, f.expires, f.spent, s.account, "
	    "s.revoked FROM refresh f JOIN sessions s ON s.id = f.session "
	    "WHERE f.hash = ?1",
	[ST_REFRESH_SPEND] = "UPDATE refresh SET spent = ?2 WHERE hash = ?1",
	[ST_REVOKED_ADD] = "INSERT INTO revocations (account, session, "
	    "not_before, created) VALUES (?1, ?2, ?3, ?4)",
	[ST_REVOKED_SINCE] = "SELECT seq, account, session, not_before "
	    "FROM revocations "
	    "WHERE seq > ?1 AND created >= ?2 ORDER BY seq LIMIT ?3",
	[ST_REVOKED_LAST] = "SELECT COALESCE(MAX(seq), 0) FROM revocations",
};

#define PST_CACHE_KIB	"131072"	/* sqlite's page cache: 128 MiB */
#define PST_MMAP_BYTES	"1073741824"	/* reads mapped: up to 1 GiB */

/* Modules' statements (pst_prepare), finalized at close. */
#define DB_EXTRA_MAX	128
static sqlite3_stmt	**extra[DB_EXTRA_MAX];
static size_t		  nextra;

static int
db_exec(sqlite3 *db, const char *sql, char *why, size_t whylen)
{
	char	*err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		(void)snprintf(why, whylen, "%s", err != NULL ? err :
		    sqlite3_errmsg(db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static int
db_user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int
db_migrate(struct persist *p, char *why, size_t whylen)
{
	const int	 want = (int)GS_NELEM(migrations);
	char		 sql[64], err[512];
	int		 v;

	if (db_user_version(p->db, &v) != 0) {
		(void)snprintf(why, whylen, "cannot read user_version: %s",
		    sqlite3_errmsg(p->db));
		return -1;
	}
	if (v > want) {
		(void)snprintf(why, whylen, "the database is at schema %d, "
		    "newer than this gs-persist knows (%d)", v, want);
		return -1;
	}
	for (; v < want; v++) {
		(void)snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		    v + 1);
		if (db_exec(p->db, "BEGIN IMMEDIATE", err, sizeof(err)) != 0 ||
		    db_exec(p->db, migrations[v], err, sizeof(err)) != 0 ||
		    db_exec(p->db, sql, err, sizeof(err)) != 0 ||
		    db_exec(p->db, "COMMIT", err, sizeof(err)) != 0) {
			(void)sqlite3_exec(p->db, "ROLLBACK", NULL, NULL,
			    NULL);
			(void)snprintf(why, whylen, "migration %d: %s", v + 1,
			    err);
			return -1;
		}
		gs_log_info("schema migrated version=%d", v + 1);
	}
	p->schema = want;
	return 0;
}

int
pst_db_open(struct persist *p, char *why, size_t whylen)
{
	char	 err[512];
	int	 i, rc;

	rc = sqlite3_open_v2(p->conf.db_path, &p->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		(void)snprintf(why, whylen, "%s: %s", p->conf.db_path,
		    p->db != NULL ? sqlite3_errmsg(p->db) :
		    sqlite3_errstr(rc));
		return -1;
	}
	/*
	 * WAL: readers (a backup) never block the writer.  synchronous
	 * FULL syncs the log at every commit, so an acknowledged write
	 * survives power loss as well as a crash; group commit pays for
	 * it once per batch.  The busy timeout covers a backup's
	 * checkpoint; no other process writes.  A large page cache and
	 * memory-mapped reads: the hot pages of a database of a million
	 * players' records stay in memory instead of costing a pread(2)
	 * each (measured: see doc/decisions.md).
	 */
	if (db_exec(p->db, "PRAGMA journal_mode = WAL", err,
	    sizeof(err)) != 0 ||
	    db_exec(p->db, p->conf.sync_full ? "PRAGMA synchronous = FULL" :
	    "PRAGMA synchronous = NORMAL", err, sizeof(err)) != 0 ||
	    db_exec(p->db, "PRAGMA foreign_keys = ON", err, sizeof(err)) != 0 ||
	    db_exec(p->db, "PRAGMA cache_size = -" PST_CACHE_KIB, err,
	    sizeof(err)) != 0 ||
	    db_exec(p->db, "PRAGMA mmap_size = " PST_MMAP_BYTES, err,
	    sizeof(err)) != 0) {
		(void)snprintf(why, whylen, "%s: %s", p->conf.db_path, err);
		return -1;
	}
	(void)sqlite3_busy_timeout(p->db, 5000);
	if (db_migrate(p, why, whylen) != 0)
		return -1;
	for (i = 0; i < ST_MAX; i++) {
		if (sqlite3_prepare_v3(p->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &p->st[i], NULL) != SQLITE_OK) {
			(void)snprintf(why, whylen, "prepare %d: %s", i,
			    sqlite3_errmsg(p->db));
			return -1;
		}
	}
	return 0;
}

void
pst_db_close(struct persist *p)
{
	int	i;

	for (i = 0; i < ST_MAX; i++) {
		sqlite3_finalize(p->st[i]);
		p->st[i] = NULL;
	}
	while (nextra > 0) {
		nextra--;
		sqlite3_finalize(*extra[nextra]);
		*extra[nextra] = NULL;
	}
	if (p->db != NULL && sqlite3_close(p->db) != SQLITE_OK)
		gs_log_warnx("database close failed err=\"%s\"",
		    sqlite3_errmsg(p->db));
	p->db = NULL;
}

void
pst_db_rollback(struct persist *p)
{
	int	i;

	for (i = 0; i < 3 && !sqlite3_get_autocommit(p->db); i++)
		if (pst_exec(p, ST_ROLLBACK) != SQLITE_DONE)
			gs_log_warnx("database error what=rollback "
			    "err=\"%s\"", sqlite3_errmsg(p->db));
	if (!sqlite3_get_autocommit(p->db))
		gs_fatalx(GS_EXIT_RUNTIME, "the database connection is stuck "
		    "in a transaction; exiting (nothing unwritten was "
		    "acknowledged)");
}

sqlite3_stmt *
pst_st(struct persist *p, enum pst_stmt i)
{
	sqlite3_stmt	*st = p->st[i];

	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	return st;
}

int
pst_prepare(struct persist *p, const char *sql, sqlite3_stmt **out)
{
	if (nextra == DB_EXTRA_MAX) {
		gs_log_warnx("too many statements max=%d", DB_EXTRA_MAX);
		return -1;
	}
	if (sqlite3_prepare_v3(p->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out,
	    NULL) != SQLITE_OK) {
		gs_log_warnx("prepare failed sql=\"%.60s\" err=\"%s\"", sql,
		    sqlite3_errmsg(p->db));
		return -1;
	}
	extra[nextra++] = out;
	return 0;
}

sqlite3_stmt *
pst_reset(sqlite3_stmt *st)
{
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	return st;
}

int
pst_step_done(sqlite3_stmt *st)
{
	int	rc = sqlite3_step(st);

	(void)sqlite3_reset(st);
	return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

int
pst_exec(struct persist *p, enum pst_stmt i)
{
	int	rc = sqlite3_step(p->st[i]);

	(void)sqlite3_reset(p->st[i]);
	return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

/*
 * A consistent copy of the database at dest, made from a connection of
 * its own (so call it from any thread): VACUUM INTO reads one snapshot
 * in one read transaction, which in WAL mode never blocks the writer,
 * and writes a compact file.  dest must not exist.
 */
int
pst_db_backup(const char *db_path, const char *dest, char *why,
    size_t whylen)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*st = NULL;
	int		 rc;

	rc = sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		(void)sqlite3_busy_timeout(db, 5000);
		rc = sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &st, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, dest, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_DONE)
		rc = SQLITE_OK;
	if (rc != SQLITE_OK)
		(void)snprintf(why, whylen, "%s", db != NULL ?
		    sqlite3_errmsg(db) : sqlite3_errstr(rc));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}
