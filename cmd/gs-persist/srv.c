/*
 * The request socket and group commit.
 *
 * A REP socket with PST_CONTEXTS contexts, each receiving one request
 * at a time (NNG's documented way to serve many requests at once).  A
 * context's aio callback runs on an NNG thread: it only puts the
 * context on the arrived list and wakes the loop (ev_async, so one
 * wake-up covers every request that came meanwhile).  A context's
 * reply goes out with nng_ctx_send(), which queues behind the pipe's
 * earlier replies inside NNG; when it is sent the context receives
 * again.  The contexts bound the requests in progress: more wait in
 * NNG.
 *
 * Each loop iteration: the arrive watcher moves what arrived onto the
 * batch, the pool watcher adds the requests whose worker is done, and
 * the prepare watcher, last before the loop sleeps, runs the whole
 * batch in one transaction, each request under its own savepoint,
 * commits once, and only then sends the replies.  When the commit
 * fails, every request of the batch is answered GS_PST_EINTERNAL:
 * nothing unwritten is ever acknowledged.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "link.h"
#include "log.h"
#include "util.h"

#include "pst.h"

static struct gs_ratelimit	bad_rl;

static const struct pst_op *const op_tables[] = {
	pst_auth_ops,
	pst_lb_ops,
	pst_player_ops,
	pst_social_ops,
};

pst_op_fn *
pst_op_find(const char *name, size_t len, const char **canon)
{
	const struct pst_op	*op;
	size_t			 i;

	for (i = 0; i < GS_NELEM(op_tables); i++)
		for (op = op_tables[i]; op->name != NULL; op++)
			if (strlen(op->name) == len &&
			    memcmp(op->name, name, len) == 0) {
				*canon = op->name;
				return op->fn;
			}
	return NULL;
}

struct gs_wr *
pst_ok(struct pst_req *r)
{
	r->status = GS_PST_OK;
	gs_wr_reset(&r->body);
	return &r->body;
}

void
pst_fail(struct pst_req *r, unsigned status, const char *msg)
{
	r->status = status;
	gs_wr_reset(&r->body);
	gs_wr_str(&r->body, msg);
}

int
pst_exists(struct persist *p, struct pst_req *r, sqlite3_stmt *st,
    const char *what)
{
	int	rc = sqlite3_step(st);

	(void)sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	pst_fail_db(p, r, what);
	return -1;
}

bool
pst_step_account(struct persist *p, struct pst_req *r, sqlite3_stmt *st,
    const char *what)
{
	int	rc = pst_step_done(st);

	if (rc == SQLITE_DONE)
		return true;
	if (rc == SQLITE_CONSTRAINT)
		pst_fail(r, GS_PST_ENOTFOUND, "no such account");
	else
		pst_fail_db(p, r, what);
	return false;
}

bool
pst_arg_end(struct gs_rd *rd, struct pst_req *r)
{
	if (gs_rd_end(rd) != GS_OK) {
		pst_fail(r, GS_PST_EARGS, "malformed or extra arguments");
		return false;
	}
	return true;
}

bool
pst_arg_account(struct gs_rd *rd, struct pst_req *r, int64_t *id)
{
	*id = (int64_t)gs_rd_uint(rd, INT64_MAX);
	if (rd->err != GS_OK || *id == 0) {
		pst_fail(r, GS_PST_EARGS, "account: an id, 1 and up");
		return false;
	}
	return true;
}

void
pst_fail_db(struct persist *p, struct pst_req *r, const char *what)
{
	gs_log_warnx("database error op=%s what=%s err=\"%s\"", r->op, what,
	    sqlite3_errmsg(p->db));
	pst_fail(r, GS_PST_EINTERNAL, "database error; retry later");
}

static void
req_free(struct pst_req *r)
{
	if (r->msg != NULL)
		nng_msg_free(r->msg);
	gs_wr_free(&r->body);
	explicit_bzero(&r->job, sizeof(r->job));
	free(r);
}

static void
batch_add(struct persist *p, struct pst_req *r)
{
	r->next = NULL;
	*p->batch_tail = r;
	p->batch_tail = &r->next;
}

void
pst_park(struct persist *p, struct pst_req *r, pst_cont_fn *cont)
{
	r->job.arg = r;
	if (!pool_submit(&p->pool, &r->job)) {
		gs_counter_inc(p->m_busy);
		pst_fail(r, GS_PST_EBUSY, "password hashing is at capacity; "
		    "retry later");
		return;
	}
	r->cont = cont;
	p->nparked++;
}

enum { CTX_RECV, CTX_SEND, CTX_IDLE };

/* A REP context and its one aio.  state is written by the loop (before
 * a send) and by NNG's threads (in ctx_cb), hence atomic. */
struct pst_ctx {
	struct persist	*p;
	nng_ctx		 ctx;
	nng_aio		*aio;
	atomic_int	 state;
	struct pst_ctx	*next;		/* arrived list */
};

static void
ctx_recv(struct pst_ctx *c)
{
	c->state = CTX_RECV;
	nng_aio_set_timeout(c->aio, NNG_DURATION_INFINITE);
	nng_ctx_recv(c->ctx, c->aio);
}

/* NNG thread. */
static void
ctx_cb(void *arg)
{
	struct pst_ctx	*c = arg;
	struct persist	*p = c->p;
	int		 rv = nng_aio_result(c->aio);

	if (c->state == CTX_SEND) {
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(c->aio));
			nng_aio_set_msg(c->aio, NULL);
		}
		/* Closing: no new receive, which nothing would end
		 * before nng_close() (pst_srv_close waits for sends). */
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED ||
		    atomic_load(&p->closing)) {
			c->state = CTX_IDLE;
			return;
		}
		ctx_recv(c);
		return;
	}
	if (rv != 0) {
		/* Closed (shutdown), or a failure NNG already logged
		 * nothing for: receive again unless closed. */
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
			c->state = CTX_IDLE;
			return;
		}
		ctx_recv(c);
		return;
	}
	if (atomic_load(&p->closing)) {
		/* Too late to be answered: the caller times out. */
		nng_msg_free(nng_aio_get_msg(c->aio));
		nng_aio_set_msg(c->aio, NULL);
		c->state = CTX_IDLE;
		return;
	}
	pthread_mutex_lock(&p->mu);
	c->next = NULL;
	*p->arrived_tail = c;
	p->arrived_tail = &c->next;
	pthread_mutex_unlock(&p->mu);
	ev_async_send(p->loop, &p->arrive_w);
}

/* Send r's reply on its context, then free r. */
static void
reply_send(struct persist *p, struct pst_req *r)
{
	struct pst_ctx	*c = r->ctx;
	uint8_t		 hd[16];
	struct gs_wr	 w;
	nng_msg		*m = r->msg;

	gs_wr_init_fixed(&w, hd, sizeof(hd));
	gs_wr_array(&w, 2);
	gs_wr_uint(&w, r->status);
	nng_msg_clear(m);
	if (nng_msg_append(m, hd, w.len) != 0 ||
	    nng_msg_append(m, r->body.buf, r->body.len) != 0) {
		gs_counter_inc(p->m_reply_lost);
		if (gs_ratelimit_ok(&bad_rl, PST_BAD_BURST))
			gs_log_warnx("reply lost op=%s why=\"out of memory\"",
			    r->op);
		req_free(r);
		p->nbusy--;
		ctx_recv(c);		/* the caller times out */
		return;
	}
	gs_hist_observe(p->m_latency_s, (double)(gs_now_us() - r->t0_us) /
	    1e6);
	r->msg = NULL;		/* the aio's now */
	req_free(r);
	p->nbusy--;
	c->state = CTX_SEND;
	/* A peer that reads no replies does not hold a context forever. */
	nng_aio_set_timeout(c->aio, PST_SEND_TIMEOUT_MS);
	nng_aio_set_msg(c->aio, m);
	nng_ctx_send(c->ctx, c->aio);
}

/* Decode [op, args...] and run the op (inside the transaction). */
static void
req_run(struct persist *p, struct pst_req *r)
{
	struct gs_rd	 rd;
	const char	*name;
	pst_op_fn	*fn;
	size_t		 len;
	uint32_t	 n;

	if (r->cont != NULL) {
		pst_cont_fn	*cont = r->cont;

		r->cont = NULL;
		cont(p, r);
		return;
	}
	gs_rd_init(&rd, nng_msg_body(r->msg), nng_msg_len(r->msg));
	n = gs_rd_array(&rd, 64);
	name = gs_rd_strp(&rd, &len, 32);
	if (rd.err != GS_OK || n == 0) {
		gs_counter_inc(p->m_bad);
		if (gs_ratelimit_ok(&bad_rl, PST_BAD_BURST))
			gs_log_warnx("bad request err=%s bytes=%zu",
			    gs_err_name(rd.err != GS_OK ? rd.err : GS_EINVAL),
			    nng_msg_len(r->msg));
		pst_fail(r, GS_PST_EARGS, "a request is [op, args...]");
		return;
	}
	if ((fn = pst_op_find(name, len, &r->op)) == NULL) {
		pst_fail(r, GS_PST_EUNKNOWN, "no such op");
		return;
	}
	/* The handler reads the n - 1 arguments and checks the end. */
	fn(p, r, &rd);
}

/*
 * Run the batch: one transaction, a savepoint per request, one commit,
 * then the replies.  Parked requests leave the batch unanswered.
 */
static void
srv_commit_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct persist	*p = w->data;
	struct pst_req	*r, *next, *done = NULL, **done_tail = &done;
	uint64_t	 t0;
	unsigned	 n = 0;
	bool		 ok;

	if (p->batch == NULL)
		return;
	t0 = gs_now_us();
	ok = pst_exec(p, ST_BEGIN) == SQLITE_DONE;
	if (!ok)
		gs_log_warnx("database error what=begin err=\"%s\"",
		    sqlite3_errmsg(p->db));
	for (r = p->batch; r != NULL; r = next) {
		next = r->next;
		r->next = NULL;
		n++;
		if (!ok) {
			r->cont = NULL;		/* back from a worker: ends */
			pst_fail(r, GS_PST_EINTERNAL, "database error; retry "
			    "later");
		} else if (pst_exec(p, ST_SAVEPOINT) != SQLITE_DONE) {
			r->cont = NULL;
			pst_fail_db(p, r, "savepoint");
		} else {
			size_t	mark = pst_lb_mark(p);

			r->status = GS_PST_OK;
			req_run(p, r);
			if (r->status != GS_PST_OK && r->cont == NULL &&
			    !r->keep) {
				/* Its writes must go, or the whole batch. */
				if (pst_exec(p, ST_ROLLBACK_TO) != SQLITE_DONE) {
					gs_log_warnx("database error "
					    "what=rollback_to err=\"%s\"",
					    sqlite3_errmsg(p->db));
					ok = false;
				}
				pst_lb_undo(p, mark);
			}
			if (pst_exec(p, ST_RELEASE) != SQLITE_DONE)
				pst_fail_db(p, r, "release");
		}
		if (r->cont != NULL)
			continue;	/* parked: a worker has it */
		*done_tail = r;
		done_tail = &r->next;
	}
	p->batch = NULL;
	p->batch_tail = &p->batch;
	if (ok && p->conf.commit_delay_ms > 0) {
		/* Tests: hold the batch between its writes and its commit,
		 * so that a kill lands there (see gs-persist(8)). */
		struct timespec	ts = { 0, p->conf.commit_delay_ms * 1000000L };

		(void)nanosleep(&ts, NULL);
	}
	if (ok && pst_exec(p, ST_COMMIT) == SQLITE_DONE)
		gs_counter_inc(p->m_commits);
	else if (!sqlite3_get_autocommit(p->db)) {
		/* The batch's transaction is still open (a failed commit
		 * or rollback to a savepoint): undo all of it. */
		gs_log_warnx("database error what=commit err=\"%s\"",
		    sqlite3_errmsg(p->db));
		gs_counter_inc(p->m_commit_fail);
		pst_db_rollback(p);
		pst_lb_forget(p);
		ok = false;
	} else
		ok = false;	/* BEGIN failed: nothing to undo */
	pst_lb_settle(p);
	gs_hist_observe(p->m_batch, n);
	gs_hist_observe(p->m_commit_s, (double)(gs_now_us() - t0) / 1e6);
	for (r = done; r != NULL; r = next) {
		next = r->next;
		if (!ok && r->status == GS_PST_OK)
			pst_fail(r, GS_PST_EINTERNAL, "commit failed; retry "
			    "later");
		if (r->status != GS_PST_OK)
			gs_counter_inc(p->m_errors);
		reply_send(p, r);
	}
}

/* Requests arrived: each becomes a pst_req on the batch. */
static void
srv_arrive_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct persist	*p = w->data;
	struct pst_ctx	*c, *next;
	struct pst_req	*r;

	pthread_mutex_lock(&p->mu);
	c = p->arrived;
	p->arrived = NULL;
	p->arrived_tail = &p->arrived;
	pthread_mutex_unlock(&p->mu);
	for (; c != NULL; c = next) {
		next = c->next;
		gs_counter_inc(p->m_requests);
		if ((r = calloc(1, sizeof(*r))) == NULL) {
			/* No reply: the caller times out and retries. */
			gs_log_warn("out of memory call=calloc what=request");
			nng_msg_free(nng_aio_get_msg(c->aio));
			nng_aio_set_msg(c->aio, NULL);
			ctx_recv(c);
			continue;
		}
		r->msg = nng_aio_get_msg(c->aio);
		nng_aio_set_msg(c->aio, NULL);
		r->ctx = c;
		r->op = "?";
		r->t0_us = gs_now_us();
		gs_wr_init(&r->body, 256, PST_REPLY_MAX);
		p->nbusy++;
		if (p->stopping) {
			pst_fail(r, GS_PST_EBUSY, "shutting down");
			reply_send(p, r);
			continue;
		}
		batch_add(p, r);
	}
}

/* Workers done: their requests join this iteration's batch. */
static void
srv_pool_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct persist	*p = w->data;
	struct pool_job	*j;

	while ((j = pool_done(&p->pool)) != NULL) {
		p->nparked--;
		batch_add(p, j->arg);
	}
}

int
pst_srv_open(struct persist *p)
{
	struct pst_ctx	*c;
	const char	*call;
	int		 i, rv;

	p->batch_tail = &p->batch;
	p->arrived_tail = &p->arrived;
	if ((rv = pthread_mutex_init(&p->mu, NULL)) != 0) {
		gs_log_warnx("request socket failed call=pthread_mutex_init "
		    "err=%d", rv);
		return -1;
	}
	if ((rv = nng_rep0_open(&p->sock)) != 0) {
		gs_log_warnx("request socket failed call=nng_rep0_open "
		    "err=\"%s\"", nng_strerror(rv));
		return -1;
	}
	/* Whoever can connect can ban, revoke and read accounts: an ipc
	 * socket is the daemons' user's only, tls wants a certificate. */
	call = "nng_socket_set_size(recv-size-max)";
	if ((rv = nng_socket_set_size(p->sock, NNG_OPT_RECVMAXSZ,
	    GS_PST_REQ_MAX)) != 0 ||
	    (rv = gs_link_listen(p->sock, p->conf.url, &call)) != 0) {
		gs_log_warnx("request socket failed url=%s call=%s "
		    "err=\"%s\"", p->conf.url, call, nng_strerror(rv));
		return -1;
	}
	ev_async_init(&p->arrive_w, srv_arrive_cb);
	p->arrive_w.data = p;
	ev_async_start(p->loop, &p->arrive_w);
	ev_prepare_init(&p->commit_w, srv_commit_cb);
	p->commit_w.data = p;
	ev_prepare_start(p->loop, &p->commit_w);
	ev_async_init(&p->pool_w, srv_pool_cb);
	p->pool_w.data = p;
	ev_async_start(p->loop, &p->pool_w);
	if ((rv = pool_start(&p->pool, p->conf.threads, (unsigned)p->conf.queue,
	    p->loop, &p->pool_w)) != 0) {
		gs_log_warnx("worker threads failed err=\"%s\"", strerror(rv));
		return -1;
	}
	if ((p->ctxs = calloc(PST_CONTEXTS, sizeof(*p->ctxs))) == NULL) {
		gs_log_warn("out of memory call=calloc what=contexts");
		return -1;
	}
	for (i = 0; i < PST_CONTEXTS; i++) {
		c = &p->ctxs[i];
		c->p = p;
		c->state = CTX_IDLE;
		if ((rv = nng_ctx_open(&c->ctx, p->sock)) != 0 ||
		    (rv = nng_aio_alloc(&c->aio, ctx_cb, c)) != 0) {
			gs_log_warnx("request socket failed call=nng_ctx_open "
			    "err=\"%s\"", nng_strerror(rv));
			return -1;
		}
		ctx_recv(c);
	}
	return 0;
}

/*
 * At shutdown: stop taking requests, let the workers finish, run what
 * is left (parked requests included) to its reply, and give the
 * replies up to PST_SEND_TIMEOUT_MS to leave before the socket closes.
 */
void
pst_srv_close(struct persist *p)
{
	struct pst_req	*r;
	struct pool_job	*j;
	int		 i;

	p->stopping = 1;
	/* What arrived but was not yet taken is answered "busy". */
	srv_arrive_cb(p->loop, &p->arrive_w, 0);
	pool_stop(&p->pool);
	while ((j = pool_done(&p->pool)) != NULL) {
		r = j->arg;
		p->nparked--;
		if (r->job.result == POOL_NOT_RUN) {
			r->cont = NULL;
			pst_fail(r, GS_PST_EBUSY, "shutting down");
			reply_send(p, r);
			continue;
		}
		batch_add(p, r);
	}
	pool_free(&p->pool);
	/* From here no context receives again once its reply is sent,
	 * so the waits below end. */
	atomic_store(&p->closing, 1);
	srv_commit_cb(p->loop, &p->commit_w, 0);
	ev_prepare_stop(p->loop, &p->commit_w);
	ev_async_stop(p->loop, &p->pool_w);
	ev_async_stop(p->loop, &p->arrive_w);
	if (p->ctxs != NULL) {
		for (i = 0; i < PST_CONTEXTS; i++)
			if (p->ctxs[i].aio != NULL &&
			    p->ctxs[i].state == CTX_SEND)
				nng_aio_wait(p->ctxs[i].aio);
	}
	nng_close(p->sock);
	/* Requests that arrived after the last look: their messages are
	 * ours to free; none is owed a reply. */
	while (p->arrived != NULL) {
		struct pst_ctx	*c = p->arrived;

		p->arrived = c->next;
		nng_msg_free(nng_aio_get_msg(c->aio));
		nng_aio_set_msg(c->aio, NULL);
	}
	if (p->ctxs != NULL) {
		for (i = 0; i < PST_CONTEXTS; i++)
			if (p->ctxs[i].aio != NULL)
				nng_aio_free(p->ctxs[i].aio);
		free(p->ctxs);
		p->ctxs = NULL;
	}
	(void)pthread_mutex_destroy(&p->mu);
}
