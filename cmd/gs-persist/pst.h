/*
 * gs-persist internals shared by its files.
 *
 *   main.c     flags, set-up, signals, shutdown
 *   db.c       the sqlite3 connection: pragmas, migrations, statements
 *   srv.c      the request socket, group commit, the op table, replies
 *   pool.c     worker threads for password hashing (off the loop)
 *   auth.c     accounts, devices, sessions, tokens, bans
 *   lb.c       leaderboards (rank.c: their in-memory order)
 *   player.c   profiles, stats, match results, room checkpoints
 *   social.c   friends, presence, chat
 *   control.c  control-socket commands, status, metrics
 *   pwhash.c   password hashes (scrypt), thread-safe
 *
 * Everything but pool.c's workers and pwhash.c runs on the loop thread,
 * which alone touches the database connection.  A request lives in a
 * struct pst_req from its arrival to its reply; while a worker hashes
 * its password it is parked (neither in a batch nor replied).
 */
#ifndef PST_H
#define PST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <ev.h>
#include <nng/nng.h>
#include <sqlite3.h>

#include "ctl.h"
#include "http.h"
#include "jwt.h"
#include "metrics.h"
#include "mp.h"
#include "persist.h"

#include "pool.h"
#include "pwhash.h"

#define PST_CONTEXTS		1024	/* requests in progress at most */
#define PST_REPLY_MAX		(1u << 20)	/* bytes of one reply */
#define PST_BAD_BURST		5	/* bad-request log lines a second */
#define PST_TOKEN_MAX		GS_JWT_MAXLEN
#define PST_SEND_TIMEOUT_MS	5000	/* a reply not taken by then: lost */

struct persist_conf {
	const char	*db_path;
	const char	*url;		/* -r: the request socket */
	const char	*ctl_url;
	const char	*http;
	const char	*key_path;	/* -k: Ed25519 private key (PEM) */
	const char	*words_path;	/* -F: chat's word filter; NULL none */
	int		 log_level;
	int		 notify_fd;
	int		 threads;	/* -j: hashing workers */
	int		 queue;		/* -q: hashing jobs queued at most */
	long long	 access_ttl_ms;	/* -a */
	long long	 refresh_ttl_ms;	/* -f */
	int		 sync_full;	/* -s full|normal */
	struct gs_pwhash_params pw;	/* -w ln,r,p */
	long		 commit_delay_ms;	/* GS_PERSIST_COMMIT_DELAY_MS */
};

/* Statements prepared once, by index (db.c holds their text). */
enum pst_stmt {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_SAVEPOINT, ST_RELEASE, ST_ROLLBACK_TO,
	ST_DEVICE_GET, ST_DEVICE_ADD,
	ST_ACCOUNT_NEW, ST_ACCOUNT_GET, ST_ACCOUNT_BY_USER,
	ST_ACCOUNT_SET_LOGIN, ST_ACCOUNT_SET_NAME, ST_ACCOUNT_BAN, ST_ACCOUNT_DEVICES,
	ST_SESSION_NEW, ST_SESSION_REVOKE,
	ST_SESSION_REVOKE_ALL,
	ST_REFRESH_NEW, ST_REFRESH_GET, ST_REFRESH_SPEND,
	ST_REVOKED_ADD, ST_REVOKED_SINCE, ST_REVOKED_LAST,
	ST_MAX
};

struct persist;
struct pst_req;

/*
 * An op's handler, run inside the batch's transaction under the
 * request's own savepoint.  It reads its arguments from args and
 * answers with pst_ok() (then packs one value into the returned
 * writer) or pst_fail(); or it parks the request with pst_park() for a
 * worker, naming the continuation that will run, inside a later
 * batch's transaction, when the worker is done.  A request answered
 * with an error has its savepoint rolled back.
 */
typedef void pst_op_fn(struct persist *, struct pst_req *, struct gs_rd *);
typedef void pst_cont_fn(struct persist *, struct pst_req *);

/* An op's name and handler; each module's table ends with a NULL
 * name (srv.c lists the tables). */
struct pst_op {
	const char	*name;
	pst_op_fn	*fn;
};

/* Per-op state that must survive a park. */
struct pst_auth {
	int64_t		 account;
	char		 user[GS_PST_USER_MAX + 1];
	char		 name[GS_PST_USER_MAX + 1];
	char		 device[GS_PST_DEVICE_MAX + 1];
	bool		 banned;
	int64_t		 banned_until;
};

struct pst_req {
	struct pst_req	*next;
	nng_msg		*msg;		/* the request; its header routes
					 * the reply, its body is reused */
	struct pst_ctx	*ctx;		/* the REP context to reply on */
	const char	*op;		/* static name, for logs */
	unsigned	 status;	/* GS_PST_* */
	struct gs_wr	 body;		/* reply body (fixed over buf) */
	pst_cont_fn	*cont;		/* parked: run when the job is done */
	bool		 keep;		/* failed, but commit its writes */
	struct pool_job	 job;
	struct gs_pwhash_params pwparams;	/* for job_make */
	struct pst_auth	 a;
	uint64_t	 t0_us;		/* arrival */
};

struct persist {
	struct persist_conf conf;
	struct ev_loop	*loop;
	sqlite3		*db;
	sqlite3_stmt	*st[ST_MAX];
	int		 schema;	/* user_version after migrations */

	/* The request socket: PST_CONTEXTS REP contexts; those with a
	 * request are handed to the loop on the arrived list. */
	nng_socket	 sock;
	struct pst_ctx	*ctxs;
	pthread_mutex_t	 mu;		/* guards arrived */
	struct pst_ctx	*arrived, **arrived_tail;
	ev_async	 arrive_w;
	ev_prepare	 commit_w;	/* runs the batch */
	struct pst_req	*batch, **batch_tail;	/* to run this iteration */
	unsigned	 nparked;
	unsigned	 nbusy;		/* contexts with a request */
	atomic_int	 closing;	/* shutting down: contexts stop */
	struct pool	 pool;
	ev_async	 pool_w;

	struct gs_jwt_signer *signer;
	struct pst_lb	*lb;		/* lb.c's state */
	struct pst_player *player;	/* player.c's state */
	struct pst_social *social;	/* social.c's state */
	struct gs_ctl	*ctl;
	struct gs_http	*http;
	struct gs_metrics *metrics;
	ev_signal	 sigterm, sigint, sighup;
	int		 stopping;
	uint64_t	 start_us;

	/* Metrics (control.c registers them from a table). */
	struct gs_counter *m_requests;
	struct gs_counter *m_errors;
	struct gs_counter *m_bad;
	struct gs_counter *m_busy;
	struct gs_counter *m_commits;
	struct gs_counter *m_commit_fail;
	struct gs_counter *m_reply_lost;
	struct gs_counter *m_logins;
	struct gs_counter *m_login_fail;
	struct gs_counter *m_refresh_reuse;
	struct gs_hist	  *m_batch;
	struct gs_hist	  *m_commit_s;
	struct gs_hist	  *m_latency_s;
	unsigned	   g_parked;
};

/* db.c */
int	pst_db_open(struct persist *, char *why, size_t whylen);
void	pst_db_close(struct persist *);
/* The statement, reset and unbound, ready to bind. */
sqlite3_stmt *pst_st(struct persist *, enum pst_stmt);
/* End the open transaction.  A connection a ROLLBACK cannot bring out
 * of its transaction would fail every request from then on: fatal. */
void	pst_db_rollback(struct persist *);
/* Step a statement that returns no row; SQLITE_DONE or the error. */
int	pst_exec(struct persist *, enum pst_stmt);
int	pst_db_backup(const char *db_path, const char *dest, char *why,
	    size_t whylen);
/*
 * A module's own statement, prepared once after the migrations and
 * finalized by pst_db_close(), which sets *out to NULL: out must stay
 * valid until then (a module frees its state after pst_db_close()).
 * 0, or -1 (logged).  Use it through pst_reset() and pst_step_done().
 */
int	pst_prepare(struct persist *, const char *sql, sqlite3_stmt **out);
/* st reset and unbound, ready to bind. */
sqlite3_stmt *pst_reset(sqlite3_stmt *st);
/* Step a statement that returns no row, then reset it: SQLITE_DONE or
 * the error. */
int	pst_step_done(sqlite3_stmt *st);

/* srv.c */
int	pst_srv_open(struct persist *);
void	pst_srv_close(struct persist *);
struct gs_wr *pst_ok(struct pst_req *);
void	pst_fail(struct pst_req *, unsigned status, const char *msg);
void	pst_fail_db(struct persist *, struct pst_req *, const char *what);
/* Step st (bound by the caller) once and reset it: 1 it found a row, 0
 * none, -1 a database error (r failed, naming what). */
int	pst_exists(struct persist *, struct pst_req *, sqlite3_stmt *st,
	    const char *what);
/* Step st (bound by the caller), a write that names an account by a
 * foreign key, and reset it: true when done; else r failed, not_found
 * "no such account" for a constraint, a database error naming what
 * otherwise. */
bool	pst_step_account(struct persist *, struct pst_req *, sqlite3_stmt *st,
	    const char *what);
/* The arguments end here (trailing values are a newer caller's this
 * version does not know): true, or false with r failed "args". */
bool	pst_arg_end(struct gs_rd *rd, struct pst_req *r);
/* An account id argument, 1 and up: true, or false with r failed. */
bool	pst_arg_account(struct gs_rd *rd, struct pst_req *r, int64_t *id);
/* Hand the request's job to a worker; cont runs when it is done.
 * When the pool is full, the request fails with GS_PST_EBUSY. */
void	pst_park(struct persist *, struct pst_req *, pst_cont_fn *cont);
pst_op_fn *pst_op_find(const char *name, size_t len, const char **canon);

/* The ops (see gs-persist(8)), by module. */
extern const struct pst_op pst_auth_ops[];
extern const struct pst_op pst_lb_ops[];
extern const struct pst_op pst_player_ops[];
extern const struct pst_op pst_social_ops[];
/* auth.c's, run by control.c too. */
pst_op_fn pst_op_account, pst_op_ban, pst_op_unban, pst_op_revoke;
/* lb.c: state kept in memory, and leaderboard commands for control.c. */
int	pst_lb_init(struct persist *);
void	pst_lb_fini(struct persist *);
/* The trees follow the transaction: a mark before each request, undo
 * to it when the request's savepoint rolls back, forget them all when
 * the transaction rolls back, settle when it is over. */
size_t	pst_lb_mark(struct persist *);
void	pst_lb_undo(struct persist *, size_t mark);
void	pst_lb_forget(struct persist *);
void	pst_lb_settle(struct persist *);
/* player.c */
int	pst_player_init(struct persist *);
void	pst_player_fini(struct persist *);
/* social.c */
int	pst_social_init(struct persist *);
void	pst_social_fini(struct persist *);
int64_t	pst_now(void);
int	pst_auth_init(struct persist *);

/* control.c */
extern const struct gs_ctl_cmd pst_ctl_cmds[];
unsigned pst_ctl_status(void *, struct gs_wr *);
void	pst_metrics_init(struct persist *);
/* Wait for a backup being written (at exit, before the control socket
 * closes). */
void	pst_ctl_finish(struct persist *);

#endif
