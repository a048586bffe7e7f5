/*
 * gs-persist's control socket: the operators' commands, status and
 * metrics.
 *
 * account, ban, unban and revoke run the request socket's own ops, in
 * a transaction of their own, on the loop (never during a batch: the
 * control socket's watcher and the batch's prepare watcher are
 * different callbacks).  gs-ctl sends arguments as strings; each
 * command turns them into the op's arguments.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

#include "pst.h"

/* Run op on args[len] (the op's own arguments, msgpack values one
 * after the other) and copy its result into body. */
static int
ctl_run(struct persist *p, pst_op_fn *fn, const char *op,
    const uint8_t *args, size_t len, struct gs_wr *body, const char **msg)
{
	static char	 text[256];
	struct pst_req	 r;
	struct gs_rd	 rd;
	size_t		 mark;
	int		 rc = GS_CTL_OK;

	memset(&r, 0, sizeof(r));
	r.op = op;
	gs_wr_init(&r.body, 256, PST_REPLY_MAX);
	gs_rd_init(&rd, args, len);
	mark = pst_lb_mark(p);
	if (pst_exec(p, ST_BEGIN) != SQLITE_DONE) {
		pst_fail_db(p, &r, "begin");
	} else {
		fn(p, &r, &rd);
		if (r.status == GS_PST_OK || r.keep) {
			if (pst_exec(p, ST_COMMIT) != SQLITE_DONE) {
				pst_fail_db(p, &r, "commit");
				pst_db_rollback(p);
				pst_lb_undo(p, mark);
			}
		} else {
			pst_db_rollback(p);
			pst_lb_undo(p, mark);
		}
		pst_lb_settle(p);
	}
	if (r.status == GS_PST_OK) {
		gs_wr_raw(body, r.body.buf, r.body.len);
	} else {
		struct gs_rd	 m = GS_RD_INIT(r.body.buf, r.body.len);

		(void)gs_rd_str(&m, text, sizeof(text));
		*msg = text;
		rc = r.status == GS_PST_ENOTFOUND ? GS_CTL_ENOTFOUND :
		    r.status == GS_PST_EARGS ? GS_CTL_EARGS : GS_CTL_EFAIL;
	}
	gs_wr_free(&r.body);
	return rc;
}

/* An argument as gs-ctl sends it: a string, copied into dst[cap]. */
static bool
ctl_arg(struct gs_rd *args, char *dst, size_t cap)
{
	(void)gs_rd_str(args, dst, cap);
	return args->err == GS_OK;
}

/* An account named by id or username: packed as the op wants it. */
static bool
ctl_arg_account(struct gs_rd *args, struct gs_wr *w)
{
	char		 s[GS_PST_USER_MAX + 1];
	long long	 id;

	if (!ctl_arg(args, s, sizeof(s)))
		return false;
	if (gs_parse_ll(s, 1, INT64_MAX, &id) == GS_OK)
		gs_wr_uint(w, (uint64_t)id);
	else
		gs_wr_str(w, s);
	return true;
}

static int
ctl_account(void *arg, struct gs_rd *args, struct gs_wr *body,
    const char **msg)
{
	uint8_t		 buf[64];
	struct gs_wr	 w;

	gs_wr_init_fixed(&w, buf, sizeof(buf));
	if (!ctl_arg_account(args, &w) || gs_rd_end(args) != GS_OK) {
		*msg = "usage: account ID|USERNAME";
		return GS_CTL_EARGS;
	}
	return ctl_run(arg, pst_op_account, "account", buf, w.len, body, msg);
}

/* ban, unban and revoke take an id: a username is looked up first. */
static bool
ctl_arg_id(struct persist *p, struct gs_rd *args, struct gs_wr *w)
{
	char		 s[GS_PST_USER_MAX + 1];
	sqlite3_stmt	*st;
	long long	 id;
	int		 rc;

	if (!ctl_arg(args, s, sizeof(s)))
		return false;
	if (gs_parse_ll(s, 1, INT64_MAX, &id) != GS_OK) {
		st = pst_st(p, ST_ACCOUNT_BY_USER);
		id = 0;
		rc = sqlite3_bind_text(st, 1, s, -1, SQLITE_STATIC);
		if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
			id = sqlite3_column_int64(st, 0);
		(void)sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			gs_log_warnx("database error what=username err=\"%s\"",
			    sqlite3_errmsg(p->db));
			return false;
		}
		if (id == 0)
			id = INT64_MAX;		/* not found, by the op */
	}
	gs_wr_uint(w, (uint64_t)id);
	return true;
}

static int
ctl_ban(void *arg, struct gs_rd *args, struct gs_wr *body, const char **msg)
{
	struct persist	*p = arg;
	uint8_t		 buf[512];
	char		 dur[32], reason[GS_PST_REASON_MAX + 1] = "";
	struct gs_wr	 w;
	long long	 ms = 0;

	gs_wr_init_fixed(&w, buf, sizeof(buf));
	if (!ctl_arg_id(p, args, &w) || !ctl_arg(args, dur, sizeof(dur)) ||
	    (strcmp(dur, "forever") != 0 && gs_parse_ms(dur, 1000, 1000,
	    100LL * 365 * 86400 * 1000, &ms) != GS_OK) ||
	    (gs_rd_more(args) && !ctl_arg(args, reason, sizeof(reason))) ||
	    gs_rd_end(args) != GS_OK) {
		*msg = "usage: ban ID|USERNAME DURATION|forever [REASON]";
		return GS_CTL_EARGS;
	}
	gs_wr_int(&w, ms / 1000);
	gs_wr_str(&w, reason);
	return ctl_run(p, pst_op_ban, "ban", buf, w.len, body, msg);
}

static int
ctl_one_id(struct persist *p, struct gs_rd *args, struct gs_wr *body,
    const char **msg, pst_op_fn *fn, const char *op, const char *usage)
{
	uint8_t		 buf[64];
	struct gs_wr	 w;

	gs_wr_init_fixed(&w, buf, sizeof(buf));
	if (!ctl_arg_id(p, args, &w) || gs_rd_end(args) != GS_OK) {
		*msg = usage;
		return GS_CTL_EARGS;
	}
	return ctl_run(p, fn, op, buf, w.len, body, msg);
}

static int
ctl_unban(void *arg, struct gs_rd *args, struct gs_wr *body,
    const char **msg)
{
	return ctl_one_id(arg, args, body, msg, pst_op_unban, "unban",
	    "usage: unban ID|USERNAME");
}

static int
ctl_revoke(void *arg, struct gs_rd *args, struct gs_wr *body,
    const char **msg)
{
	return ctl_one_id(arg, args, body, msg, pst_op_revoke, "revoke",
	    "usage: revoke ID|USERNAME");
}

/*
 * backup PATH: a consistent copy while serving.  A thread writes it
 * from a connection of its own (in WAL mode that never blocks the
 * writer), while the loop goes on serving requests; the control socket
 * answers when it is done (GS_CTL_DEFER) and reads no other command
 * meanwhile.  One backup at a time.
 */
static struct {
	struct persist	*p;
	pthread_t	 th;
	bool		 running;
	ev_async	 done;
	char		 path[4096];
	char		 why[512];
	int		 rc;
	uint64_t	 t0_us, t1_us;
} backup;

static void *
backup_main(void *arg)
{
	backup.rc = pst_db_backup(backup.p->conf.db_path, backup.path,
	    backup.why, sizeof(backup.why));
	backup.t1_us = gs_now_us();
	ev_async_send(backup.p->loop, &backup.done);
	return NULL;
}

static void
backup_done_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct persist	*p = backup.p;
	struct gs_wr	*body;
	double		 ms;

	(void)pthread_join(backup.th, NULL);
	backup.running = false;
	ev_async_stop(loop, &backup.done);
	ms = (double)(backup.t1_us - backup.t0_us) / 1000;
	if (backup.rc != 0) {
		gs_log_warnx("backup failed path=%s why=\"%s\"", backup.path,
		    backup.why);
		if (p->ctl != NULL)
			gs_ctl_defer_done(p->ctl, GS_CTL_EFAIL, backup.why);
		return;
	}
	gs_log_info("backup written path=%s ms=%.1f", backup.path, ms);
	if (p->ctl == NULL)
		return;
	body = gs_ctl_defer_body(p->ctl);
	gs_wr_map(body, 2);
	gs_wr_str(body, "path");
	gs_wr_str(body, backup.path);
	gs_wr_str(body, "ms");
	gs_wr_f64(body, ms);
	gs_ctl_defer_done(p->ctl, GS_CTL_OK, NULL);
}

static int
ctl_backup(void *arg, struct gs_rd *args, struct gs_wr *body,
    const char **msg)
{
	struct persist	*p = arg;
	int		 rv;

	if (backup.running) {
		*msg = "a backup is being written";
		return GS_CTL_EFAIL;
	}
	if (!ctl_arg(args, backup.path, sizeof(backup.path)) ||
	    gs_rd_end(args) != GS_OK || backup.path[0] != '/') {
		*msg = "usage: backup PATH (absolute)";
		return GS_CTL_EARGS;
	}
	backup.p = p;
	backup.t0_us = gs_now_us();
	ev_async_init(&backup.done, backup_done_cb);
	ev_async_start(p->loop, &backup.done);
	if ((rv = pthread_create(&backup.th, NULL, backup_main, NULL)) != 0) {
		ev_async_stop(p->loop, &backup.done);
		gs_log_warnx("backup failed call=pthread_create err=%d", rv);
		*msg = "cannot start the backup";
		return GS_CTL_EFAIL;
	}
	backup.running = true;
	return GS_CTL_DEFER;
}

/* At exit: a backup being written is finished first, and answered
 * (the control socket is still open). */
void
pst_ctl_finish(struct persist *p)
{
	if (!backup.running)
		return;
	backup_done_cb(p->loop, &backup.done, 0);	/* joins it */
}

/* The value of key in the msgpack map buf[len], copied into body. */
static bool
ctl_pick(const uint8_t *buf, size_t len, const char *key, struct gs_wr *body)
{
	struct gs_rd	 rd = GS_RD_INIT(buf, len);
	const char	*k;
	const uint8_t	*v;
	size_t		 klen, vlen;
	uint32_t	 n, i;

	n = gs_rd_map(&rd, 64);
	for (i = 0; i < n && rd.err == GS_OK; i++) {
		k = gs_rd_strp(&rd, &klen, 64);
		v = gs_rd_raw(&rd, &vlen);
		if (rd.err == GS_OK && klen == strlen(key) &&
		    memcmp(k, key, klen) == 0) {
			gs_wr_raw(body, v, vlen);
			return true;
		}
	}
	return false;
}

/*
 * leaderboard list
 * leaderboard create NAME desc|asc best|set|incr never|daily|weekly|monthly
 *     [client]
 * leaderboard top NAME [N]
 * leaderboard around NAME ID|USERNAME [N]
 * leaderboard rank NAME ID|USERNAME
 * top and around answer the records alone, as a table.
 */
static int
ctl_leaderboard(void *arg, struct gs_rd *args, struct gs_wr *body,
    const char **msg)
{
	static const char usage[] = "usage: leaderboard list | create NAME "
	    "desc|asc best|set|incr never|daily|weekly|monthly [client] | "
	    "top NAME [N] | around NAME ID|USERNAME [N] | rank NAME "
	    "ID|USERNAME";
	struct persist	*p = arg;
	char		 sub[16], name[80], a[3][24];
	uint8_t		 buf[512];
	struct gs_wr	 w, out;
	long long	 n = 10;
	pst_op_fn	*fn;
	const char	*op;
	int		 i, na, rc;

	gs_wr_init_fixed(&w, buf, sizeof(buf));
	if (!ctl_arg(args, sub, sizeof(sub))) {
		*msg = usage;
		return GS_CTL_EARGS;
	}
	if (strcmp(sub, "list") == 0) {
		if (gs_rd_end(args) != GS_OK) {
			*msg = usage;
			return GS_CTL_EARGS;
		}
		fn = pst_op_find("lb_list", 7, &op);
		return ctl_run(p, fn, op, buf, 0, body, msg);
	}
	if (!ctl_arg(args, name, sizeof(name))) {
		*msg = usage;
		return GS_CTL_EARGS;
	}
	gs_wr_str(&w, name);
	if (strcmp(sub, "create") == 0) {
		for (na = 0; na < 3 && ctl_arg(args, a[na], sizeof(a[na]));
		    na++)
			gs_wr_str(&w, a[na]);
		i = gs_rd_more(args) && ctl_arg(args, a[0], sizeof(a[0])) &&
		    strcmp(a[0], "client") == 0;
		if (na != 3 || gs_rd_end(args) != GS_OK) {
			*msg = usage;
			return GS_CTL_EARGS;
		}
		gs_wr_bool(&w, i != 0);
		fn = pst_op_find("lb_create", 9, &op);
		return ctl_run(p, fn, op, buf, w.len, body, msg);
	}
	if (strcmp(sub, "around") == 0 || strcmp(sub, "rank") == 0) {
		if (!ctl_arg_id(p, args, &w)) {
			*msg = usage;
			return GS_CTL_EARGS;
		}
	} else if (strcmp(sub, "top") != 0) {
		*msg = usage;
		return GS_CTL_EARGS;
	}
	if (strcmp(sub, "rank") != 0) {
		if (gs_rd_more(args) && (!ctl_arg(args, a[0], sizeof(a[0])) ||
		    gs_parse_ll(a[0], 1, 100, &n) != GS_OK)) {
			*msg = "N: 1 to 100";
			return GS_CTL_EARGS;
		}
		gs_wr_uint(&w, (uint64_t)n);
	}
	if (gs_rd_end(args) != GS_OK) {
		*msg = usage;
		return GS_CTL_EARGS;
	}
	if (strcmp(sub, "rank") == 0) {
		fn = pst_op_find("lb_rank", 7, &op);
		return ctl_run(p, fn, op, buf, w.len, body, msg);
	}
	fn = strcmp(sub, "top") == 0 ? pst_op_find("lb_top", 6, &op) :
	    pst_op_find("lb_around", 9, &op);
	gs_wr_init(&out, 1024, PST_REPLY_MAX);
	rc = ctl_run(p, fn, op, buf, w.len, &out, msg);
	if (rc == GS_CTL_OK && !ctl_pick(out.buf, out.len, "records", body)) {
		*msg = "malformed answer";
		rc = GS_CTL_EFAIL;
	}
	gs_wr_free(&out);
	return rc;
}

const struct gs_ctl_cmd pst_ctl_cmds[] = {
	{ "leaderboard", ctl_leaderboard },
	{ "account", ctl_account },
	{ "ban", ctl_ban },
	{ "unban", ctl_unban },
	{ "revoke", ctl_revoke },
	{ "backup", ctl_backup },
	{ NULL, NULL },
};

unsigned
pst_ctl_status(void *arg, struct gs_wr *body)
{
	struct persist	*p = arg;

	gs_wr_str(body, "db");
	gs_wr_str(body, p->conf.db_path);
	gs_wr_str(body, "schema");
	gs_wr_uint(body, (uint64_t)p->schema);
	gs_wr_str(body, "requests");
	gs_wr_uint(body, p->m_requests->v);
	gs_wr_str(body, "parked");
	gs_wr_uint(body, p->nparked);
	gs_wr_str(body, "in_progress");
	gs_wr_uint(body, p->nbusy);
	return 5;
}

#define M(kind, member, name, help) \
	GS_METRIC_ROW(GS_METRIC_##kind, struct persist, member, name, help)

static const double batch_b[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512 };
static const double secs_b[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1 };

static const struct gs_metric_def pst_metric_defs[] = {
	M(COUNTER, m_requests, "gs_persist_requests_total",
	    "Requests read from the request socket."),
	M(COUNTER, m_errors, "gs_persist_errors_total",
	    "Requests answered with an error."),
	M(COUNTER, m_bad, "gs_persist_bad_requests_total",
	    "Requests that were not [op, args...]."),
	M(COUNTER, m_busy, "gs_persist_busy_total",
	    "Requests refused because the hashing pool was full."),
	M(COUNTER, m_commits, "gs_persist_commits_total",
	    "Transactions committed (one per batch)."),
	M(COUNTER, m_commit_fail, "gs_persist_commit_failures_total",
	    "Batches whose commit failed (every request answered internal)."),
	M(COUNTER, m_reply_lost, "gs_persist_replies_lost_total",
	    "Replies that could not be sent (the caller times out)."),
	M(COUNTER, m_logins, "gs_persist_tokens_issued_total",
	    "Token pairs issued (guest, register, login, refresh)."),
	M(COUNTER, m_login_fail, "gs_persist_login_failures_total",
	    "Logins refused for a wrong username or password."),
	M(COUNTER, m_refresh_reuse, "gs_persist_refresh_reuse_total",
	    "Spent refresh tokens presented again (sessions revoked)."),
	GS_METRIC_HIST_ROW(struct persist, m_batch, "gs_persist_batch_requests",
	    "Requests per committed batch.", batch_b),
	GS_METRIC_HIST_ROW(struct persist, m_commit_s,
	    "gs_persist_batch_seconds", "Time to run and commit a batch.",
	    secs_b),
	GS_METRIC_HIST_ROW(struct persist, m_latency_s,
	    "gs_persist_request_seconds",
	    "Time from a request's arrival to its reply.", secs_b),
	M(UNSIGNED, nparked, "gs_persist_parked",
	    "Requests waiting for a hashing worker."),
	M(UNSIGNED, nbusy, "gs_persist_in_progress",
	    "Requests read and not yet answered."),
};

void
pst_metrics_init(struct persist *p)
{
	p->metrics = gs_metrics_new();
	gs_metrics_table(p->metrics, pst_metric_defs,
	    GS_NELEM(pst_metric_defs), p);
}
