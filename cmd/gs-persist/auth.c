/*
 * Accounts, devices, sessions and tokens.
 *
 * A session is one login: a chain of refresh tokens, each spent by the
 * refresh that makes its successor.  A refresh token is 32 random
 * bytes (base64url on the wire); the database keeps only their
 * SHA-256.  Presenting a spent token again means two parties hold the
 * chain: the whole session is revoked (RFC 9700 §4.14.2), unless it
 * was spent within PST_REUSE_GRACE_S, which is what a client's own
 * retry after a lost reply looks like; that one is refused without
 * revoking anything.
 *
 * Access tokens are JWTs (lib/jwt.h) that gateways verify alone.  What
 * must end before they expire (a ban, a logout, a reuse, gs-ctl
 * revoke) goes into the revocations table, which gateways poll.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "b64.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#include "pst.h"

#define PST_REFRESH_BYTES	32
#define PST_REUSE_GRACE_S	10
#define PST_BAN_FOREVER		INT64_MAX
#define PST_REVOKED_LIST_MAX	1000

/* Hashed when a username is unknown, so that a login takes as long
 * whether or not the account exists. */
static char	dummy_hash[256];

int64_t
pst_now(void)
{
	return (int64_t)(gs_wall_us() / 1000000);
}

/* ------------------------------------------------------------ checks */

static bool
device_valid(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || n > GS_PST_DEVICE_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

/* Read a str argument into dst[cap]; false (and r failed) if absent,
 * not a string, or too long. */
static bool
arg_str(struct gs_rd *rd, struct pst_req *r, char *dst, size_t cap,
    const char *what)
{
	char	msg[96];

	(void)gs_rd_str(rd, dst, cap);
	if (rd->err != GS_OK) {
		(void)snprintf(msg, sizeof(msg), "%s: a string of at most "
		    "%zu bytes", what, cap - 1);
		pst_fail(r, GS_PST_EARGS, msg);
		return false;
	}
	return true;
}

/* The arguments end here: trailing values are an error (a newer
 * caller's argument this version does not know). */
/* ---------------------------------------------------------- accounts */

/* Load account id (or username when user != NULL) into r->a.
 * 1 found, 0 not found, -1 database error (r failed). */
static int
account_load(struct persist *p, struct pst_req *r, int64_t id,
    const char *user, char *hash, size_t hashcap)
{
	sqlite3_stmt	*st;
	const char	*s;
	int		 rc;

	if (user != NULL) {
		st = pst_st(p, ST_ACCOUNT_BY_USER);
		rc = sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	} else {
		st = pst_st(p, ST_ACCOUNT_GET);
		rc = sqlite3_bind_int64(st, 1, id);
	}
	if (rc != SQLITE_OK || (rc = sqlite3_step(st)) == SQLITE_DONE ||
	    rc != SQLITE_ROW) {
		(void)sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return 0;
		pst_fail_db(p, r, "account");
		return -1;
	}
	r->a.account = sqlite3_column_int64(st, 0);
	s = (const char *)sqlite3_column_text(st, 1);
	(void)gs_strlcpy(r->a.user, s != NULL ? s : "", sizeof(r->a.user));
	s = (const char *)sqlite3_column_text(st, 2);
	(void)gs_strlcpy(r->a.name, s != NULL ? s : "", sizeof(r->a.name));
	r->a.banned_until = sqlite3_column_int64(st, 5);
	r->a.banned = r->a.banned_until != 0 &&
	    r->a.banned_until > pst_now();
	if (hash != NULL) {
		s = (const char *)sqlite3_column_text(st, 7);
		if (s == NULL || gs_strlcpy(hash, s, hashcap) != GS_OK)
			hash[0] = '\0';
	}
	(void)sqlite3_reset(st);
	return 1;
}

static void
fail_banned(struct pst_req *r)
{
	char	msg[128];

	if (r->a.banned_until == PST_BAN_FOREVER)
		(void)snprintf(msg, sizeof(msg), "the account is banned");
	else
		(void)snprintf(msg, sizeof(msg), "the account is banned "
		    "until %lld", (long long)r->a.banned_until);
	pst_fail(r, GS_PST_EBANNED, msg);
}

static int
revocation_add(struct persist *p, int64_t account, int64_t session)
{
	sqlite3_stmt	*st = pst_st(p, ST_REVOKED_ADD);
	int64_t		 now = pst_now();

	if (sqlite3_bind_int64(st, 1, account) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, session) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, now) != SQLITE_OK)
		return -1;
	return pst_exec(p, ST_REVOKED_ADD) == SQLITE_DONE ? 0 : -1;
}

/* Revoke one session (session != 0) or all of the account's: how many
 * were live, or -1. */
static int
sessions_revoke(struct persist *p, int64_t account, int64_t session,
    const char *why)
{
	enum pst_stmt	 which = session != 0 ? ST_SESSION_REVOKE :
			    ST_SESSION_REVOKE_ALL;
	sqlite3_stmt	*st = pst_st(p, which);
	int		 n;

	if (sqlite3_bind_int64(st, 1, session != 0 ? session : account) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, pst_now()) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, why, -1, SQLITE_STATIC) != SQLITE_OK ||
	    pst_exec(p, which) != SQLITE_DONE)
		return -1;
	n = sqlite3_changes(p->db);
	return revocation_add(p, account, session) != 0 ? -1 : n;
}

/* ------------------------------------------------------------ tokens */

static void
sha256(const void *buf, size_t len, uint8_t out[WC_SHA256_DIGEST_SIZE])
{
	if (wc_Sha256Hash(buf, (word32)len, out) != 0)
		gs_fatalx(GS_EXIT_RUNTIME, "sha256 failed");	/* never */
}

/*
 * Issue a refresh token in session (0: a new session) and an access
 * token for r->a, and answer with them.  created: whether the account
 * is new (guest).
 */
static void
tokens_issue(struct persist *p, struct pst_req *r, int64_t session,
    bool created)
{
	uint8_t			 raw[PST_REFRESH_BYTES];
	uint8_t			 hash[WC_SHA256_DIGEST_SIZE];
	char			 refresh[64], access[PST_TOKEN_MAX];
	struct gs_jwt_claims	 c;
	struct gs_wr		*w;
	sqlite3_stmt		*st;
	int64_t			 now = pst_now();
	int64_t			 rexp, aexp;
	size_t			 alen;

	rexp = now + p->conf.refresh_ttl_ms / 1000;
	aexp = now + p->conf.access_ttl_ms / 1000;
	if (session == 0) {
		st = pst_st(p, ST_SESSION_NEW);
		if (sqlite3_bind_int64(st, 1, r->a.account) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, now) != SQLITE_OK ||
		    pst_exec(p, ST_SESSION_NEW) != SQLITE_DONE) {
			pst_fail_db(p, r, "session");
			return;
		}
		session = sqlite3_last_insert_rowid(p->db);
	}
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		gs_fatal(GS_EXIT_SYSTEM, "getrandom failed");
	sha256(raw, sizeof(raw), hash);
	if (gs_b64_encode(GS_B64_URL, raw, sizeof(raw), refresh,
	    sizeof(refresh), NULL) != GS_OK)
		gs_fatalx(GS_EXIT_RUNTIME, "refresh token encoding failed");
	explicit_bzero(raw, sizeof(raw));
	st = pst_st(p, ST_REFRESH_NEW);
	if (sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, session) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, rexp) != SQLITE_OK ||
	    pst_exec(p, ST_REFRESH_NEW) != SQLITE_DONE) {
		pst_fail_db(p, r, "refresh");
		return;
	}
	st = pst_st(p, ST_ACCOUNT_SET_LOGIN);
	if (sqlite3_bind_int64(st, 1, r->a.account) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, now) != SQLITE_OK ||
	    pst_exec(p, ST_ACCOUNT_SET_LOGIN) != SQLITE_DONE) {
		pst_fail_db(p, r, "last login");
		return;
	}
	memset(&c, 0, sizeof(c));
	c.sub = (uint64_t)r->a.account;
	c.sid = (uint64_t)session;
	c.iat = now;
	c.exp = aexp;
	(void)gs_strlcpy(c.name, r->a.name, sizeof(c.name));
	if (gs_jwt_sign(p->signer, &c, access, sizeof(access), &alen) !=
	    GS_JWT_OK) {
		gs_log_warnx("token signing failed op=%s account=%lld", r->op,
		    (long long)r->a.account);
		pst_fail(r, GS_PST_EINTERNAL, "cannot sign the token");
		return;
	}
	gs_counter_inc(p->m_logins);
	w = pst_ok(r);
	gs_wr_map(w, 7);
	gs_wr_str(w, "account");
	gs_wr_uint(w, (uint64_t)r->a.account);
	gs_wr_str(w, "name");
	gs_wr_str(w, r->a.name);
	gs_wr_str(w, "access");
	gs_wr_strn(w, access, alen);
	gs_wr_str(w, "access_expires");
	gs_wr_int(w, aexp);
	gs_wr_str(w, "refresh");
	gs_wr_str(w, refresh);
	gs_wr_str(w, "refresh_expires");
	gs_wr_int(w, rexp);
	gs_wr_str(w, "created");
	gs_wr_bool(w, created);
	explicit_bzero(refresh, sizeof(refresh));
}

/* -------------------------------------------------------------- ops */

/* The account r->a.device is linked to, 0 for none, -1 (r failed). */
static int64_t
device_owner(struct persist *p, struct pst_req *r)
{
	sqlite3_stmt	*st = pst_st(p, ST_DEVICE_GET);
	int64_t		 owner = 0;
	int		 rc;

	if (sqlite3_bind_text(st, 1, r->a.device, -1, SQLITE_STATIC) !=
	    SQLITE_OK) {
		pst_fail_db(p, r, "device");
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		owner = sqlite3_column_int64(st, 0);
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		pst_fail_db(p, r, "device");
		return -1;
	}
	return owner;
}

/* guest [device, name|nil]: the device's account, made if new. */
static void
pst_op_guest(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	char		 name[GS_NAME_MAX + 1] = "";
	sqlite3_stmt	*st;
	int64_t		 now = pst_now(), owner;

	if (!arg_str(rd, r, r->a.device, sizeof(r->a.device), "device"))
		return;
	if (gs_rd_more(rd) && !gs_rd_nil(rd) &&
	    !arg_str(rd, r, name, sizeof(name), "name"))
		return;
	if (!pst_arg_end(rd, r))
		return;
	if (!device_valid(r->a.device, strlen(r->a.device))) {
		pst_fail(r, GS_PST_EARGS, "device: 1 to 128 printable ASCII "
		    "characters, no spaces");
		return;
	}
	if (name[0] != '\0' && !gs_name_valid(name, GS_NAME_MAX)) {
		pst_fail(r, GS_PST_EARGS, "name: 1 to 32 bytes of A-Z a-z "
		    "0-9 _ . -");
		return;
	}
	if ((owner = device_owner(p, r)) < 0)
		return;
	if (owner > 0) {
		if (account_load(p, r, owner, NULL, NULL, 0) != 1) {
			if (r->status == GS_PST_OK)
				pst_fail(r, GS_PST_EINTERNAL, "the device's "
				    "account is missing");
			return;
		}
		if (r->a.banned) {
			fail_banned(r);
			return;
		}
		tokens_issue(p, r, 0, false);
		return;
	}
	/* A new guest: the account, then its name, then the device. */
	st = pst_st(p, ST_ACCOUNT_NEW);
	if (sqlite3_bind_null(st, 1) != SQLITE_OK ||
	    sqlite3_bind_null(st, 2) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, name[0] != '\0' ? name : "guest", -1,
	    SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, now) != SQLITE_OK ||
	    pst_exec(p, ST_ACCOUNT_NEW) != SQLITE_DONE) {
		pst_fail_db(p, r, "account");
		return;
	}
	memset(&r->a.user, 0, sizeof(r->a.user));
	r->a.account = sqlite3_last_insert_rowid(p->db);
	r->a.banned = false;
	if (name[0] != '\0')
		(void)gs_strlcpy(r->a.name, name, sizeof(r->a.name));
	else {
		(void)snprintf(r->a.name, sizeof(r->a.name), "guest-%lld",
		    (long long)r->a.account);
		st = pst_st(p, ST_ACCOUNT_SET_NAME);
		if (sqlite3_bind_int64(st, 1, r->a.account) != SQLITE_OK ||
		    sqlite3_bind_text(st, 2, r->a.name, -1, SQLITE_STATIC) !=
		    SQLITE_OK || pst_exec(p, ST_ACCOUNT_SET_NAME) !=
		    SQLITE_DONE) {
			pst_fail_db(p, r, "account name");
			return;
		}
	}
	st = pst_st(p, ST_DEVICE_ADD);
	if (sqlite3_bind_text(st, 1, r->a.device, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, r->a.account) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, now) != SQLITE_OK ||
	    pst_exec(p, ST_DEVICE_ADD) != SQLITE_DONE) {
		pst_fail_db(p, r, "device");
		return;
	}
	tokens_issue(p, r, 0, true);
}

/* Read [username, password] into r->a.user and r->job.pass. */
static bool
arg_login(struct gs_rd *rd, struct pst_req *r)
{
	const char	*pw;
	size_t		 len;

	if (!arg_str(rd, r, r->a.user, sizeof(r->a.user), "username"))
		return false;
	pw = gs_rd_strp(rd, &len, GS_PST_PASS_MAX);
	if (rd->err != GS_OK || len < GS_PST_PASS_MIN) {
		pst_fail(r, GS_PST_EARGS, "password: 8 to 1024 bytes");
		return false;
	}
	memcpy(r->job.pass, pw, len);
	r->job.passlen = len;
	return true;
}

static void
job_make(struct pool_job *j)
{
	struct pst_req	*r = j->arg;

	j->result = pwhash_make(&r->pwparams, j->pass, j->passlen, j->stored,
	    sizeof(j->stored));
	explicit_bzero(j->pass, sizeof(j->pass));
}

static void
job_check(struct pool_job *j)
{
	j->result = pwhash_check(j->stored, j->pass, j->passlen);
	explicit_bzero(j->pass, sizeof(j->pass));
}

static void
register_done(struct persist *p, struct pst_req *r)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (r->job.result != PWHASH_OK) {
		pst_fail(r, GS_PST_EINTERNAL, "cannot hash the password");
		return;
	}
	st = pst_st(p, ST_ACCOUNT_NEW);
	if (sqlite3_bind_text(st, 1, r->a.user, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_text(st, 2, r->job.stored, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_text(st, 3, r->a.name, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, pst_now()) != SQLITE_OK) {
		pst_fail_db(p, r, "account");
		return;
	}
	rc = pst_exec(p, ST_ACCOUNT_NEW);
	if (rc == SQLITE_CONSTRAINT) {
		/* Taken while the password was hashed. */
		pst_fail(r, GS_PST_ECONFLICT, "the username is taken");
		return;
	}
	if (rc != SQLITE_DONE) {
		pst_fail_db(p, r, "account");
		return;
	}
	r->a.account = sqlite3_last_insert_rowid(p->db);
	tokens_issue(p, r, 0, true);
}

/* register [username, password, name|nil]: a new account. */
static void
pst_op_register(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	r->a.name[0] = '\0';
	if (!arg_login(rd, r))
		return;
	if (gs_rd_more(rd) && !gs_rd_nil(rd) &&
	    !arg_str(rd, r, r->a.name, sizeof(r->a.name), "name"))
		return;
	if (!pst_arg_end(rd, r))
		return;
	if (!gs_pst_username_valid(r->a.user, strlen(r->a.user))) {
		pst_fail(r, GS_PST_EARGS, "username: 3 to 32 bytes of a-z 0-9 "
		    "_ . -");
		return;
	}
	if (r->a.name[0] == '\0')
		(void)gs_strlcpy(r->a.name, r->a.user, sizeof(r->a.name));
	else if (!gs_name_valid(r->a.name, GS_NAME_MAX)) {
		pst_fail(r, GS_PST_EARGS, "name: 1 to 32 bytes of A-Z a-z "
		    "0-9 _ . -");
		return;
	}
	/* Taken already: say so before paying for a hash. */
	switch (account_load(p, r, 0, r->a.user, NULL, 0)) {
	case 1:
		pst_fail(r, GS_PST_ECONFLICT, "the username is taken");
		return;
	case -1:
		return;
	}
	r->pwparams = p->conf.pw;
	r->job.fn = job_make;
	pst_park(p, r, register_done);
}

static void
login_done(struct persist *p, struct pst_req *r)
{
	if (r->job.result != PWHASH_OK || r->a.account == 0) {
		gs_counter_inc(p->m_login_fail);
		pst_fail(r, GS_PST_EAUTH, "wrong username or password");
		return;
	}
	/* Read again: a ban may have come while the hash was checked. */
	if (account_load(p, r, r->a.account, NULL, NULL, 0) != 1) {
		if (r->status == GS_PST_OK)
			pst_fail(r, GS_PST_EAUTH, "wrong username or password");
		return;
	}
	if (r->a.banned) {
		fail_banned(r);
		return;
	}
	tokens_issue(p, r, 0, false);
}

/* login [username, password] */
static void
pst_op_login(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	if (!arg_login(rd, r) || !pst_arg_end(rd, r))
		return;
	r->a.account = 0;
	switch (account_load(p, r, 0, r->a.user, r->job.stored,
	    sizeof(r->job.stored))) {
	case -1:
		return;
	case 0:
		/* Same work as for a real account: no timing oracle. */
		(void)gs_strlcpy(r->job.stored, dummy_hash,
		    sizeof(r->job.stored));
		r->a.account = 0;
		break;
	default:
		if (r->job.stored[0] == '\0') {	/* a guest: no password */
			(void)gs_strlcpy(r->job.stored, dummy_hash,
			    sizeof(r->job.stored));
			r->a.account = 0;
		}
		break;
	}
	r->job.fn = job_check;
	pst_park(p, r, login_done);
}

/* A refresh token's row and its session's. */
struct refresh_row {
	uint8_t		 hash[WC_SHA256_DIGEST_SIZE];
	int64_t		 session, expires, spent;
	int64_t		 account, revoked;
};

/*
 * Read the [refresh] argument and find the token and its session:
 * true, or false with r failed (args, unauthorized for an unknown or
 * malformed token, internal).
 */
static bool
refresh_arg(struct persist *p, struct pst_req *r, struct gs_rd *rd,
    struct refresh_row *f)
{
	uint8_t		 raw[PST_REFRESH_BYTES + 4];
	sqlite3_stmt	*st;
	const char	*tok;
	size_t		 len, n;
	int		 rc;

	tok = gs_rd_strp(rd, &len, GS_PST_REFRESH_MAX);
	if (rd->err != GS_OK) {
		pst_fail(r, GS_PST_EARGS, "refresh: a string");
		return false;
	}
	if (!pst_arg_end(rd, r))
		return false;
	if (gs_b64_decode(GS_B64_URL, tok, len, raw, sizeof(raw), &n) !=
	    GS_OK || n != PST_REFRESH_BYTES) {
		pst_fail(r, GS_PST_EAUTH, "unknown refresh token");
		return false;
	}
	sha256(raw, n, f->hash);
	explicit_bzero(raw, sizeof(raw));
	st = pst_st(p, ST_REFRESH_GET);
	if (sqlite3_bind_blob(st, 1, f->hash, sizeof(f->hash),
	    SQLITE_STATIC) != SQLITE_OK) {
		pst_fail_db(p, r, "refresh");
		return false;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		f->session = sqlite3_column_int64(st, 0);
		f->expires = sqlite3_column_int64(st, 1);
		f->spent = sqlite3_column_int64(st, 2);
		f->account = sqlite3_column_int64(st, 3);
		f->revoked = sqlite3_column_int64(st, 4);
	}
	(void)sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		pst_fail(r, GS_PST_EAUTH, "unknown refresh token");
	else if (rc != SQLITE_ROW)
		pst_fail_db(p, r, "refresh");
	return rc == SQLITE_ROW;
}

/* refresh [token]: spend it, answer with its successor. */
static void
pst_op_refresh(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	struct refresh_row f;
	int64_t		 now = pst_now();
	sqlite3_stmt	*st;

	if (!refresh_arg(p, r, rd, &f))
		return;
	if (f.revoked != 0) {
		pst_fail(r, GS_PST_EAUTH, "the session was revoked");
		return;
	}
	if (f.spent != 0) {
		if (now - f.spent <= PST_REUSE_GRACE_S) {
			pst_fail(r, GS_PST_EAUTH, "the refresh token was "
			    "used already");
			return;
		}
		gs_counter_inc(p->m_refresh_reuse);
		gs_log_info("refresh token reused account=%lld "
		    "session=%lld", (long long)f.account,
		    (long long)f.session);
		if (sessions_revoke(p, f.account, f.session,
		    "refresh token reused") < 0) {
			pst_fail_db(p, r, "revoke");
			return;
		}
		pst_fail(r, GS_PST_EAUTH, "the refresh token was used "
		    "already; the session is revoked");
		r->keep = true;		/* the revocation must commit */
		return;
	}
	if (f.expires <= now) {
		pst_fail(r, GS_PST_EAUTH, "the refresh token has expired");
		return;
	}
	if (account_load(p, r, f.account, NULL, NULL, 0) != 1) {
		if (r->status == GS_PST_OK)
			pst_fail(r, GS_PST_EAUTH, "unknown account");
		return;
	}
	if (r->a.banned) {
		fail_banned(r);
		return;
	}
	st = pst_st(p, ST_REFRESH_SPEND);
	if (sqlite3_bind_blob(st, 1, f.hash, sizeof(f.hash), SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, now) != SQLITE_OK ||
	    pst_exec(p, ST_REFRESH_SPEND) != SQLITE_DONE) {
		pst_fail_db(p, r, "refresh");
		return;
	}
	tokens_issue(p, r, f.session, false);
}

/* logout [refresh]: revoke its session.  Again: ok. */
static void
pst_op_logout(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	struct refresh_row f;

	if (!refresh_arg(p, r, rd, &f))
		return;
	if (f.revoked == 0 && sessions_revoke(p, f.account, f.session,
	    "logout") < 0) {
		pst_fail_db(p, r, "revoke");
		return;
	}
	gs_wr_map(pst_ok(r), 0);
}

/* link [account, device]: the device logs into the account from now
 * on.  Linked to it already: ok; to another account: conflict. */
static void
pst_op_link(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	sqlite3_stmt	*st;
	int64_t		 id, owner;
	int		 rc;

	if (!pst_arg_account(rd, r, &id) ||
	    !arg_str(rd, r, r->a.device, sizeof(r->a.device), "device") ||
	    !pst_arg_end(rd, r))
		return;
	if (!device_valid(r->a.device, strlen(r->a.device))) {
		pst_fail(r, GS_PST_EARGS, "device: 1 to 128 printable ASCII "
		    "characters, no spaces");
		return;
	}
	if ((rc = account_load(p, r, id, NULL, NULL, 0)) != 1) {
		if (rc == 0)
			pst_fail(r, GS_PST_ENOTFOUND, "no such account");
		return;
	}
	if ((owner = device_owner(p, r)) < 0)
		return;
	if (owner != 0 && owner != id) {
		pst_fail(r, GS_PST_ECONFLICT, "the device is linked to "
		    "another account");
		return;
	}
	if (owner == 0) {
		st = pst_st(p, ST_DEVICE_ADD);
		if (sqlite3_bind_text(st, 1, r->a.device, -1, SQLITE_STATIC) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, id) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 3, pst_now()) != SQLITE_OK ||
		    pst_exec(p, ST_DEVICE_ADD) != SQLITE_DONE) {
			pst_fail_db(p, r, "device");
			return;
		}
	}
	gs_wr_map(pst_ok(r), 0);
}

/* account [id | username]: what an operator or the player sees. */
void
pst_op_account(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	sqlite3_stmt	*st;
	struct gs_wr	*w;
	char		 user[GS_PST_USER_MAX + 1];
	int64_t		 id = 0, created, last;
	const char	*reason;
	bool		 list;
	int		 rc, n;

	if (gs_rd_type(rd) == GS_MP_STR) {
		if (!arg_str(rd, r, user, sizeof(user), "username"))
			return;
	} else if (!pst_arg_account(rd, r, &id))
		return;
	/* The device ids log into the account: listed for operators,
	 * only counted for the player (the gateway asks so). */
	list = !gs_rd_more(rd) || gs_rd_bool(rd);
	if (!pst_arg_end(rd, r))
		return;
	st = id != 0 ? pst_st(p, ST_ACCOUNT_GET) :
	    pst_st(p, ST_ACCOUNT_BY_USER);
	rc = id != 0 ? sqlite3_bind_int64(st, 1, id) :
	    sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK || ((rc = sqlite3_step(st)) != SQLITE_ROW &&
	    rc != SQLITE_DONE)) {
		(void)sqlite3_reset(st);
		pst_fail_db(p, r, "account");
		return;
	}
	if (rc == SQLITE_DONE) {
		(void)sqlite3_reset(st);
		pst_fail(r, GS_PST_ENOTFOUND, "no such account");
		return;
	}
	id = sqlite3_column_int64(st, 0);
	w = pst_ok(r);
	gs_wr_map(w, 9);
	gs_wr_str(w, "account");
	gs_wr_uint(w, (uint64_t)id);
	gs_wr_str(w, "username");
	if (sqlite3_column_type(st, 1) == SQLITE_NULL)
		gs_wr_nil(w);
	else
		gs_wr_str(w, (const char *)sqlite3_column_text(st, 1));
	gs_wr_str(w, "name");
	gs_wr_str(w, (const char *)sqlite3_column_text(st, 2));
	created = sqlite3_column_int64(st, 3);
	last = sqlite3_column_int64(st, 4);
	gs_wr_str(w, "created");
	gs_wr_int(w, created);
	gs_wr_str(w, "last_login");
	gs_wr_int(w, last);
	gs_wr_str(w, "banned_until");
	gs_wr_int(w, sqlite3_column_int64(st, 5));
	gs_wr_str(w, "ban_reason");
	reason = (const char *)sqlite3_column_text(st, 6);
	gs_wr_str(w, reason != NULL ? reason : "");
	gs_wr_str(w, "password");
	gs_wr_bool(w, sqlite3_column_type(st, 7) != SQLITE_NULL);
	(void)sqlite3_reset(st);
	gs_wr_str(w, list ? "devices" : "linked_devices");
	/* Devices: count first (the array header comes first). */
	st = pst_st(p, ST_ACCOUNT_DEVICES);
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK) {
		pst_fail_db(p, r, "devices");
		return;
	}
	for (n = 0; (rc = sqlite3_step(st)) == SQLITE_ROW; n++)
		;
	if (rc != SQLITE_DONE) {
		pst_fail_db(p, r, "devices");
		return;
	}
	(void)sqlite3_reset(st);
	if (!list)
		gs_wr_uint(w, (uint64_t)n);
	else {
		gs_wr_array(w, (uint32_t)n);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW && n-- > 0)
			gs_wr_str(w, (const char *)sqlite3_column_text(st,
			    0));
		(void)sqlite3_reset(st);
	}
	if (w->err != GS_OK)
		pst_fail(r, GS_PST_EINTERNAL, "reply too large");
}

/* ban [account, seconds (0: for good), reason] */
void
pst_op_ban(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	char		 reason[GS_PST_REASON_MAX + 1];
	sqlite3_stmt	*st;
	int64_t		 id, secs, until;
	int		 rc;

	if (!pst_arg_account(rd, r, &id))
		return;
	secs = gs_rd_int(rd, 0, 100LL * 365 * 86400);
	if (rd->err != GS_OK) {
		pst_fail(r, GS_PST_EARGS, "seconds: 0 (for good) to 100 years");
		return;
	}
	if (!arg_str(rd, r, reason, sizeof(reason), "reason") ||
	    !pst_arg_end(rd, r))
		return;
	if ((rc = account_load(p, r, id, NULL, NULL, 0)) != 1) {
		if (rc == 0)
			pst_fail(r, GS_PST_ENOTFOUND, "no such account");
		return;
	}
	until = secs == 0 ? PST_BAN_FOREVER : pst_now() + secs;
	st = pst_st(p, ST_ACCOUNT_BAN);
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, until) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC) != SQLITE_OK ||
	    pst_exec(p, ST_ACCOUNT_BAN) != SQLITE_DONE ||
	    sessions_revoke(p, id, 0, "banned") < 0) {
		pst_fail_db(p, r, "ban");
		return;
	}
	gs_log_info("account banned account=%lld until=%lld reason=\"%s\"",
	    (long long)id, (long long)until, reason);
	gs_wr_map(pst_ok(r), 1);
	gs_wr_str(&r->body, "banned_until");
	gs_wr_int(&r->body, until);
}

/* unban [account] */
void
pst_op_unban(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	sqlite3_stmt	*st;
	int64_t		 id;
	int		 rc;

	if (!pst_arg_account(rd, r, &id) || !pst_arg_end(rd, r))
		return;
	if ((rc = account_load(p, r, id, NULL, NULL, 0)) != 1) {
		if (rc == 0)
			pst_fail(r, GS_PST_ENOTFOUND, "no such account");
		return;
	}
	st = pst_st(p, ST_ACCOUNT_BAN);
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, 0) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, "", -1, SQLITE_STATIC) != SQLITE_OK ||
	    pst_exec(p, ST_ACCOUNT_BAN) != SQLITE_DONE) {
		pst_fail_db(p, r, "unban");
		return;
	}
	gs_log_info("account unbanned account=%lld", (long long)id);
	gs_wr_map(pst_ok(r), 0);
}

/* revoke [account]: end every session and live access token. */
void
pst_op_revoke(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	int64_t	id;
	int	rc, n;

	if (!pst_arg_account(rd, r, &id) || !pst_arg_end(rd, r))
		return;
	if ((rc = account_load(p, r, id, NULL, NULL, 0)) != 1) {
		if (rc == 0)
			pst_fail(r, GS_PST_ENOTFOUND, "no such account");
		return;
	}
	if ((n = sessions_revoke(p, id, 0, "revoked by an operator")) < 0) {
		pst_fail_db(p, r, "revoke");
		return;
	}
	gs_log_info("sessions revoked account=%lld", (long long)id);
	gs_wr_map(pst_ok(r), 1);
	gs_wr_str(&r->body, "sessions");
	gs_wr_uint(&r->body, (uint64_t)n);
}

/*
 * revoked [since]: the revocations after seq since that can still
 * matter (made within the access-token lifetime), oldest first:
 *   {"seq": last seq (since when none), "more": bool,
 *    "list": [[seq, account, session (0: all), not_before]...],
 *    "access_ttl": s}
 */
static void
pst_op_revoked(struct persist *p, struct pst_req *r, struct gs_rd *rd)
{
	sqlite3_stmt	*st;
	struct gs_wr	*w;
	int64_t		 since, last, ttl = p->conf.access_ttl_ms / 1000;
	uint32_t	 n = 0;
	int		 rc;
	size_t		 mark;

	since = gs_rd_int(rd, 0, INT64_MAX);
	if (rd->err != GS_OK) {
		pst_fail(r, GS_PST_EARGS, "since: a seq, 0 and up");
		return;
	}
	if (!pst_arg_end(rd, r))
		return;
	w = pst_ok(r);
	gs_wr_map(w, 4);
	gs_wr_str(w, "list");
	st = pst_st(p, ST_REVOKED_SINCE);
	if (sqlite3_bind_int64(st, 1, since) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, pst_now() - ttl - 1) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, PST_REVOKED_LIST_MAX + 1) != SQLITE_OK) {
		pst_fail_db(p, r, "revoked");
		return;
	}
	mark = gs_wr_count_begin(w, false);
	last = since;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    n < PST_REVOKED_LIST_MAX) {
		last = sqlite3_column_int64(st, 0);
		gs_wr_array(w, 4);
		gs_wr_int(w, last);
		gs_wr_int(w, sqlite3_column_int64(st, 1));
		gs_wr_int(w, sqlite3_column_int64(st, 2));
		gs_wr_int(w, sqlite3_column_int64(st, 3));
		n++;
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		pst_fail_db(p, r, "revoked");
		return;
	}
	gs_wr_count_end(w, mark, n);
	if (n == 0) {
		/* Nothing new: the caller may skip to the newest seq. */
		st = pst_st(p, ST_REVOKED_LAST);
		if (sqlite3_step(st) == SQLITE_ROW)
			last = GS_MAX(since, sqlite3_column_int64(st, 0));
		(void)sqlite3_reset(st);
	}
	gs_wr_str(w, "seq");
	gs_wr_int(w, last);
	gs_wr_str(w, "more");
	gs_wr_bool(w, rc == SQLITE_ROW);
	gs_wr_str(w, "access_ttl");
	gs_wr_int(w, ttl);
	if (w->err != GS_OK)
		pst_fail(r, GS_PST_EINTERNAL, "reply too large");
}

const struct pst_op pst_auth_ops[] = {
	{ "guest", pst_op_guest },
	{ "register", pst_op_register },
	{ "login", pst_op_login },
	{ "refresh", pst_op_refresh },
	{ "logout", pst_op_logout },
	{ "link", pst_op_link },
	{ "account", pst_op_account },
	{ "ban", pst_op_ban },
	{ "unban", pst_op_unban },
	{ "revoke", pst_op_revoke },
	{ "revoked", pst_op_revoked },
	{ NULL, NULL },
};

/* The dummy hash for unknown usernames: made once, at start. */
int
pst_auth_init(struct persist *p)
{
	static const char	pw[] = "not a password of anyone";

	return pwhash_make(&p->conf.pw, pw, sizeof(pw) - 1, dummy_hash,
	    sizeof(dummy_hash)) == PWHASH_OK ? 0 : -1;
}
