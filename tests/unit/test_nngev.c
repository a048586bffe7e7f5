/*
 * NNG in the loop: inbox/outbox over ipc:// in a temporary directory,
 * and rpc against a REP socket served in the same loop.  Every loop
 * run has a watchdog timer; a test that would hang fails instead.
 */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <ev.h>
#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/reqrep0/rep.h>

#include "err.h"
#include "mp.h"
#include "nngev.h"
#include "util.h"
#include "t.h"
#include "tloop.h"


/* ipc://<the test's temporary directory>/name */
static void
url_for(char *buf, size_t cap, const char *name)
{
	(void)snprintf(buf, cap, "ipc://%s/%s", t_tmpdir(), name);
}

/* ------------------------------------------------------------ sink */

#define HDR	"\xa6hdr-v1"	/* msgpack str "hdr-v1" */
#define HDRLEN	7

struct sink {
	int		 msgs;
	int		 want;		/* stop after this many messages */
	int		 done;
	int		 bad;		/* malformed or out of order */
	uint64_t	 next;		/* next record value expected */
	int		 recs_last;	/* records in the last message */
	int		 with_hdr;	/* messages carry HDR */
	void		(*after)(struct sink *);
	struct gs_outbox *ob;
};

static size_t
sink_cb(void *arg, const uint8_t *buf, size_t len,
    size_t from, enum gs_link_proof proof)
{
	struct sink	*s = arg;
	struct gs_rd	 rd = GS_RD_INIT(buf, len);
	size_t		 n;
	const char	*h;

	s->msgs++;
	s->recs_last = 0;
	if (s->with_hdr) {
		h = gs_rd_strp(&rd, &n, 64);
		if (h == NULL || n != HDRLEN - 1 ||
		    memcmp(h, HDR + 1, n) != 0)
			s->bad++;
	}
	while (gs_rd_more(&rd)) {
		if (gs_rd_uint(&rd, UINT64_MAX) != s->next++)
			s->bad++;
		s->recs_last++;
	}
	if (gs_rd_end(&rd) != GS_OK)
		s->bad++;
	if (s->after != NULL)
		s->after(s);
	if (s->msgs >= s->want)
		s->done = 1;
	return len;
}

static int
append(struct gs_outbox *ob, uint64_t v, int reliable)
{
	struct gs_wr	*wr = gs_outbox_begin(ob);

	if (wr == NULL)
		return GS_EAGAIN;
	gs_wr_uint(wr, v);
	return gs_outbox_commit(ob, reliable);
}

/* ----------------------------------------------------------- tests */

/* After the first batch: 50 state records appended in one callback. */
static void
batch_second_round(struct sink *s)
{
	uint64_t	i;

	if (s->msgs != 1)
		return;
	for (i = 100; i < 150; i++)
		T_EQ_INT(append(s->ob, i, 0), GS_OK);
}

static void
test_batching(void)
{
	struct ev_loop		*loop = ev_loop_new(EVFLAG_AUTO);
	struct gs_inbox		 in;
	struct gs_post		 po;
	struct gs_outbox	 ob;
	struct sink		 s = { .want = 2, .with_hdr = 1 };
	char			 url[128];
	uint64_t		 i;

	url_for(url, sizeof(url), "batch.sock");
	T_ASSERT(gs_inbox_listen(&in, loop, url, 64, 64, sink_cb, &s) ==
	    GS_OK);
	gs_post_init(&po, loop);
	T_ASSERT(gs_outbox_open(&ob, &po, url, HDR, HDRLEN, 64 * 1024, 16) ==
	    GS_OK);
	s.ob = &ob;
	s.after = batch_second_round;

	/* Reliable, so that a first attempt before the dial completes is
	 * retried rather than dropped. */
	for (i = 0; i < 100; i++)
		T_EQ_INT(append(&ob, i, 1), GS_OK);
	T_EQ_INT(ob.nrec, 100);
	T_CHECK(run_until(loop, &s.done, 1));

	T_EQ_INT(s.msgs, 2);
	T_EQ_INT(s.recs_last, 50);
	T_EQ_INT(s.next, 150);
	T_EQ_INT(s.bad, 0);
	T_EQ_INT(ob.sent_msgs, 2);
	T_EQ_INT(ob.sent_recs, 150);
	T_EQ_INT(ob.dropped_recs, 0);
	T_EQ_INT(in.msgs, 2);
	T_CHECK(!ob.dirty && ob.nrec == 0 && ob.batch.len == HDRLEN);

	gs_outbox_close(&ob);
	gs_post_stop(&po);
	gs_inbox_close(&in);
	ev_loop_destroy(loop);
}

/* With a linger, state records wait for more when a batch left less
 * than a linger ago; a reliable record, a batch half full, or the
 * linger's end sends them, and an outbox quiet for a linger sends at
 * once.  Checked on what the outbox hands NNG in each loop iteration. */
static void
test_linger(void)
{
	struct ev_loop		*loop = ev_loop_new(EVFLAG_AUTO);
	struct gs_inbox		 in;
	struct gs_post		 po;
	struct gs_outbox	 ob;
	struct sink		 s = { .want = 1000, .with_hdr = 1 };
	char			 url[128];
	uint64_t		 sent, v = 0;

	url_for(url, sizeof(url), "linger.sock");
	T_ASSERT(gs_inbox_listen(&in, loop, url, 64, 64, sink_cb, &s) ==
	    GS_OK);
	gs_post_init(&po, loop);
	gs_post_set_linger(&po, 1.0);
	T_ASSERT(gs_outbox_open(&ob, &po, url, HDR, HDRLEN, 1024, 16) ==
	    GS_OK);
	/* Connected: a reliable record is retried until it is through. */
	T_EQ_INT(append(&ob, v++, 1), GS_OK);
	T_ASSERT(run_until(loop, &s.msgs, 1));

	sent = ob.sent_msgs;
	T_EQ_INT(append(&ob, v++, 0), GS_OK);
	ev_run(loop, EVRUN_NOWAIT);
	T_EQ_INT(append(&ob, v++, 0), GS_OK);
	ev_run(loop, EVRUN_NOWAIT);
	T_EQ_INT(ob.sent_msgs, sent);		/* lingering */
	T_EQ_INT(ob.nrec, 2);
	T_EQ_INT(append(&ob, v++, 1), GS_OK);
	ev_run(loop, EVRUN_NOWAIT);
	T_EQ_INT(ob.sent_msgs, sent + 1);	/* a reliable one: at once */
	T_EQ_INT(ob.nrec, 0);
	T_ASSERT(run_until(loop, &s.msgs, 2));
	T_EQ_INT(s.recs_last, 3);

	/* The linger's end sends a lone state record. */
	T_EQ_INT(append(&ob, v++, 0), GS_OK);
	ev_run(loop, EVRUN_NOWAIT);
	T_EQ_INT(ob.sent_msgs, sent + 1);
	T_ASSERT(run_until(loop, &s.msgs, 3));
	T_EQ_INT(s.recs_last, 1);

	/* Half the batch's cap: sent without waiting. */
	while (ob.batch.len < 1024 / 2)
		T_ASSERT(append(&ob, v++, 0) == GS_OK);
	ev_run(loop, EVRUN_NOWAIT);
	T_EQ_INT(ob.sent_msgs, sent + 3);
	T_ASSERT(run_until(loop, &s.msgs, 4));

	/* An outbox quiet for a linger sends a state record at once: the
	 * linger bounds the batches a second, it delays no lone sender.
	 * The wait is for the fact the rule reads, the clock past the
	 * previous batch plus the linger. */
	gs_post_set_linger(&po, 0.05);
	while (ev_now(loop) < ob.sent_at + 0.05 + 0.002) {
		ev_sleep(0.01);
		ev_now_update(loop);
	}
	T_EQ_INT(append(&ob, v++, 0), GS_OK);
	ev_run(loop, EVRUN_NOWAIT);
	T_EQ_INT(ob.sent_msgs, sent + 4);
	T_ASSERT(run_until(loop, &s.msgs, 5));
	T_EQ_INT(s.recs_last, 1);
	/* The next one, right after, waits for the linger. */
	T_EQ_INT(append(&ob, v++, 0), GS_OK);
	ev_run(loop, EVRUN_NOWAIT);
	T_EQ_INT(ob.sent_msgs, sent + 4);
	T_ASSERT(run_until(loop, &s.msgs, 6));
	T_EQ_INT(s.next, v);
	T_EQ_INT(s.bad, 0);

	gs_outbox_close(&ob);
	gs_post_stop(&po);
	gs_inbox_close(&in);
	ev_loop_destroy(loop);
}

/*
 * A callback that stops part way: one record per call.  The inbox must
 * hold the message, let the loop serve other events (a timer started
 * by the first call fires before the second), resume at the offset the
 * callback returned, and read the next message only after the first is
 * done.  Closing the inbox while it holds a message frees it (the leak
 * checker watches).
 */
struct parts {
	char		 log[128];
	size_t		 want_from;	/* what the next call's from must be */
	int		 bad;
	int		 recs;
	int		 hold_forever;	/* never finish (the close case) */
	struct ev_loop	*loop;
	ev_timer	 t;
};

static void
parts_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct parts	*p = w->data;

	strcat(p->log, "T ");
}

static size_t
parts_cb(void *arg, const uint8_t *buf, size_t len, size_t from,
    enum gs_link_proof proof)
{
	struct parts	*p = arg;
	struct gs_rd	 rd = GS_RD_INIT(buf + from, len - from);
	char		 one[16];
	uint64_t	 v;

	if (from != p->want_from)
		p->bad++;
	v = gs_rd_uint(&rd, UINT64_MAX);
	if (rd.err != GS_OK)
		p->bad++;
	(void)snprintf(one, sizeof(one), "r%llu ", (unsigned long long)v);
	if (strlen(p->log) + strlen(one) < sizeof(p->log))
		strcat(p->log, one);
	p->recs++;
	if (v == 1)
		ev_timer_start(p->loop, &p->t);
	if (!gs_rd_more(&rd) && !p->hold_forever) {
		p->want_from = 0;
		return len;
	}
	p->want_from = len - (size_t)(rd.end - rd.p);
	return p->want_from;
}

static void
parts_send(nng_socket push, uint64_t first, int n)
{
	uint8_t		 buf[64];
	struct gs_wr	 wr;
	nng_msg		*msg;
	int		 i;

	gs_wr_init_fixed(&wr, buf, sizeof(buf));
	for (i = 0; i < n; i++)
		gs_wr_uint(&wr, first + (uint64_t)i);
	T_ASSERT(nng_msg_alloc(&msg, wr.len) == 0);
	memcpy(nng_msg_body(msg), buf, wr.len);
	T_ASSERT(nng_sendmsg(push, msg, 0) == 0);
}

static void
test_inbox_parts(void)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct gs_inbox	 in;
	struct parts	 p;
	nng_socket	 push;
	char		 url[128];

	memset(&p, 0, sizeof(p));
	p.loop = loop;
	ev_timer_init(&p.t, parts_timer_cb, 0., 0.);
	p.t.data = &p;
	url_for(url, sizeof(url), "parts.sock");
	T_ASSERT(gs_inbox_listen(&in, loop, url, 64, 16, parts_cb, &p) ==
	    GS_OK);
	T_ASSERT(nng_push0_open(&push) == 0);
	T_ASSERT(nng_dial(push, url, NULL, 0) == 0);
	parts_send(push, 1, 4);
	parts_send(push, 5, 1);
	T_ASSERT(run_until(loop, &p.recs, 5));
	if (strcmp(p.log, "r1 T r2 r3 r4 r5 ") != 0)
		fprintf(stderr, "parts: calls were \"%s\"\n", p.log);
	T_CHECK(strcmp(p.log, "r1 T r2 r3 r4 r5 ") == 0);
	T_EQ_INT(p.bad, 0);
	T_EQ_INT(in.msgs, 2);
	T_EQ_INT(in.resumes, 3);

	/* Closed while it holds a message: freed, no more calls. */
	p.hold_forever = 1;
	parts_send(push, 6, 3);
	T_ASSERT(run_until(loop, &p.recs, 6));
	T_ASSERT(in.held != NULL);
	gs_inbox_close(&in);
	T_ASSERT(in.held == NULL);
	ev_run(loop, EVRUN_NOWAIT);
	T_EQ_INT(p.recs, 6);

	nng_close(push);
	ev_loop_destroy(loop);
}

/*
 * A burst of 5000 messages all arrive, in order per sender, at most
 * budget per loop iteration.  NNG 1.5's PULL holds one message per
 * pipe, so the burst comes from 50 PUSH sockets for a wake-up to find
 * more than the budget waiting.
 */
#define NSEND	50
#define PERSEND	100

struct burst {
	int	msgs;
	int	bad;
	int	next[NSEND];
	int	cur;
	int	max_iter;
};

static size_t
burst_cb(void *arg, const uint8_t *buf, size_t len,
    size_t from, enum gs_link_proof proof)
{
	struct burst	*b = arg;
	struct gs_rd	 rd = GS_RD_INIT(buf, len);
	uint64_t	 who, seq;

	b->msgs++;
	b->cur++;
	(void)gs_rd_array_n(&rd, 2, 2);
	who = gs_rd_uint(&rd, NSEND - 1);
	seq = gs_rd_uint(&rd, PERSEND - 1);
	if (gs_rd_end(&rd) != GS_OK || seq != (uint64_t)b->next[who]++)
		b->bad++;
	return len;
}

static void
burst_iter_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct burst	*b = w->data;

	if (b->cur > b->max_iter)
		b->max_iter = b->cur;
	b->cur = 0;
}

static void
test_budget_burst(void)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct gs_inbox	 in;
	struct burst	 b;
	ev_prepare	 iter;
	nng_socket	 push[NSEND];
	nng_msg		*msg;
	uint8_t		 buf[16];
	struct gs_wr	 wr;
	char		 url[128];
	int		 i, j, rv;

	memset(&b, 0, sizeof(b));
	url_for(url, sizeof(url), "burst.sock");
	T_ASSERT(gs_inbox_listen(&in, loop, url, 32, 128, burst_cb, &b) ==
	    GS_OK);
	ev_prepare_init(&iter, burst_iter_cb);
	iter.data = &b;
	ev_prepare_start(loop, &iter);

	for (i = 0; i < NSEND; i++) {
		T_ASSERT(nng_push0_open(&push[i]) == 0);
		T_ASSERT(nng_socket_set_int(push[i], NNG_OPT_SENDBUF,
		    PERSEND) == 0);
		T_ASSERT(nng_dial(push[i], url, NULL, 0) == 0);
	}
	for (j = 0; j < PERSEND; j++)
		for (i = 0; i < NSEND; i++) {
			gs_wr_init_fixed(&wr, buf, sizeof(buf));
			gs_wr_array(&wr, 2);
			gs_wr_uint(&wr, (uint64_t)i);
			gs_wr_uint(&wr, (uint64_t)j);
			T_ASSERT(nng_msg_alloc(&msg, wr.len) == 0);
			memcpy(nng_msg_body(msg), buf, wr.len);
			rv = nng_sendmsg(push[i], msg, NNG_FLAG_NONBLOCK);
			if (rv != 0) {
				nng_msg_free(msg);
				T_ASSERT(rv == 0);
			}
		}
	/* Let every pipe get a message ready, so that a wake-up finds
	 * more than the budget (no assertion depends on this timing). */
	usleep(200 * 1000);
	T_CHECK(run_until(loop, &b.msgs, NSEND * PERSEND));
	burst_iter_cb(loop, &iter, 0);
	T_EQ_INT(b.msgs, NSEND * PERSEND);
	T_EQ_INT(b.bad, 0);
	for (i = 0; i < NSEND; i++)
		T_EQ_INT(b.next[i], PERSEND);
	T_EQ_INT(in.msgs, NSEND * PERSEND);
	T_CHECK(b.max_iter >= 1 && b.max_iter <= 32);

	for (i = 0; i < NSEND; i++)
		nng_close(push[i]);
	ev_prepare_stop(loop, &iter);
	gs_inbox_close(&in);
	ev_loop_destroy(loop);
}

/* No peer and no send buffer: a state-only batch is dropped, counted. */
static void
test_state_drop(void)
{
	struct ev_loop		*loop = ev_loop_new(EVFLAG_AUTO);
	struct gs_post		 po;
	struct gs_outbox	 ob;
	char			 url[128];

	url_for(url, sizeof(url), "nobody.sock");
	gs_post_init(&po, loop);
	T_ASSERT(gs_outbox_open(&ob, &po, url, HDR, HDRLEN, 4096, 0) ==
	    GS_OK);
	T_EQ_INT(append(&ob, 1, 0), GS_OK);
	T_EQ_INT(append(&ob, 2, 0), GS_OK);
	T_EQ_INT(append(&ob, 3, 0), GS_OK);
	T_CHECK(ob.dirty);
	ev_run(loop, EVRUN_NOWAIT);	/* one iteration: the flush */
	T_EQ_INT(ob.dropped_recs, 3);
	T_EQ_INT(ob.retries, 1);
	T_EQ_INT(ob.sent_msgs, 0);
	T_CHECK(!ob.dirty && !ob.held);
	T_EQ_INT(ob.batch.len, HDRLEN);
	T_CHECK(!ev_is_active(&po.retry));

	gs_outbox_close(&ob);
	gs_post_stop(&po);
	ev_loop_destroy(loop);
}

/* The batch cap: a record that does not fit is refused and undone;
 * abort undoes a record; an empty commit is a header-only batch. */
static void
test_cap_abort(void)
{
	struct ev_loop		*loop = ev_loop_new(EVFLAG_AUTO);
	struct gs_post		 po;
	struct gs_outbox	 ob;
	struct gs_wr		*wr;
	char			 url[128], big[64];
	size_t			 len;

	memset(big, 'x', sizeof(big));
	url_for(url, sizeof(url), "cap.sock");
	gs_post_init(&po, loop);
	T_ASSERT(gs_outbox_open(&ob, &po, url, HDR, HDRLEN, 40, 0) == GS_OK);
	T_EQ_INT(append(&ob, 1, 0), GS_OK);
	len = ob.batch.len;
	T_ASSERT((wr = gs_outbox_begin(&ob)) != NULL);
	gs_wr_bin(wr, big, sizeof(big));
	T_EQ_INT(gs_outbox_commit(&ob, 1), GS_EAGAIN);
	T_EQ_INT(ob.batch.len, len);
	T_EQ_INT(ob.nrec, 1);
	T_CHECK(!ob.reliable);		/* the refused record left no mark */
	T_ASSERT((wr = gs_outbox_begin(&ob)) != NULL);
	gs_wr_uint(wr, 7);
	gs_outbox_abort(&ob);
	T_EQ_INT(ob.batch.len, len);
	T_EQ_INT(append(&ob, 2, 0), GS_OK);
	T_EQ_INT(ob.nrec, 2);
	gs_outbox_close(&ob);		/* no peer: counted as dropped */
	T_EQ_INT(ob.dropped_recs, 2);
	T_CHECK(gs_outbox_open(&ob, &po, url, HDR, HDRLEN, 4, 0) ==
	    GS_EINVAL);			/* header over the cap */
	gs_post_stop(&po);
	ev_loop_destroy(loop);
}

/* Control records keep room of their own: when state has filled the
 * batch to its cap, state and events are refused and control records
 * still go in, up to half the cap again. */
static void
test_control_room(void)
{
	struct ev_loop		*loop = ev_loop_new(EVFLAG_AUTO);
	struct gs_post		 po;
	struct gs_outbox	 ob;
	unsigned		 n;
	char			 url[128];

	url_for(url, sizeof(url), "control.sock");
	gs_post_init(&po, loop);
	T_ASSERT(gs_outbox_open(&ob, &po, url, HDR, HDRLEN, 200, 0) ==
	    GS_OK);
	for (n = 0; append(&ob, 1000, GS_OB_STATE) == GS_OK; n++)
		;
	T_CHECK(n > 0 && ob.batch.len <= 200);
	T_EQ_INT(append(&ob, 1000, GS_OB_RELIABLE), GS_EAGAIN);
	for (n = 0; append(&ob, 1000, GS_OB_CONTROL) == GS_OK; n++)
		;
	T_CHECK(n >= 100 / 3 - 1);	/* 3 bytes each in 100 more */
	T_CHECK(ob.batch.len > 200 && ob.batch.len <= 300);
	T_CHECK(ob.reliable);
	T_EQ_INT(append(&ob, 1000, GS_OB_STATE), GS_EAGAIN);
	gs_outbox_close(&ob);
	gs_post_stop(&po);
	ev_loop_destroy(loop);
}

/* Discarding a held batch: off the list, timer stopped, counted. */
static void
test_discard(void)
{
	struct ev_loop		*loop = ev_loop_new(EVFLAG_AUTO);
	struct gs_post		 po;
	struct gs_outbox	 ob;
	char			 url[128];

	url_for(url, sizeof(url), "discard.sock");
	gs_post_init(&po, loop);
	T_ASSERT(gs_outbox_open(&ob, &po, url, HDR, HDRLEN, 4096, 0) ==
	    GS_OK);
	T_EQ_INT(append(&ob, 1, 1), GS_OK);
	T_EQ_INT(append(&ob, 2, 0), GS_OK);
	ev_run(loop, EVRUN_NOWAIT);
	T_CHECK(ob.held && ob.dirty && ev_is_active(&po.retry));
	gs_outbox_discard(&ob);
	T_CHECK(!ob.held && !ob.dirty && !ob.reliable);
	T_CHECK(!ev_is_active(&po.retry));
	T_CHECK(po.dirty == NULL);
	T_EQ_INT(ob.dropped_recs, 2);
	T_EQ_INT(ob.nrec, 0);
	T_EQ_INT(ob.batch.len, HDRLEN);
	T_EQ_INT(append(&ob, 3, 0), GS_OK);	/* still usable */
	T_CHECK(ob.dirty && po.dirty == &ob);
	gs_outbox_close(&ob);
	T_CHECK(po.dirty == NULL);
	gs_post_stop(&po);
	ev_loop_destroy(loop);
}

/* A reliable batch is held while nobody listens, keeps taking records,
 * and arrives whole once the peer listens. */
static void
test_reliable_held(void)
{
	struct ev_loop		*loop = ev_loop_new(EVFLAG_AUTO);
	struct gs_inbox		 in;
	struct gs_post		 po;
	struct gs_outbox	 ob;
	struct sink		 s = { .want = 1, .with_hdr = 1 };
	char			 url[128];

	url_for(url, sizeof(url), "late.sock");
	gs_post_init(&po, loop);
	T_ASSERT(gs_outbox_open(&ob, &po, url, HDR, HDRLEN, 4096, 0) ==
	    GS_OK);
	T_EQ_INT(append(&ob, 0, 1), GS_OK);
	T_EQ_INT(append(&ob, 1, 0), GS_OK);
	ev_run(loop, EVRUN_NOWAIT);
	T_CHECK(ob.held && ob.dirty);
	T_CHECK(ev_is_active(&po.retry));
	T_CHECK(ob.retries >= 1);
	T_EQ_INT(ob.dropped_recs, 0);
	T_EQ_INT(append(&ob, 2, 0), GS_OK);	/* joins the held batch */
	T_EQ_INT(ob.nrec, 3);

	T_ASSERT(gs_inbox_listen(&in, loop, url, 64, 16, sink_cb, &s) ==
	    GS_OK);
	T_CHECK(run_until(loop, &s.done, 1));
	T_EQ_INT(s.msgs, 1);
	T_EQ_INT(s.recs_last, 3);
	T_EQ_INT(s.bad, 0);
	T_EQ_INT(ob.sent_msgs, 1);
	T_EQ_INT(ob.sent_recs, 3);
	T_EQ_INT(ob.dropped_recs, 0);
	T_CHECK(!ob.held && !ob.dirty);
	T_CHECK(!ev_is_active(&po.retry));

	gs_outbox_close(&ob);
	gs_post_stop(&po);
	gs_inbox_close(&in);
	ev_loop_destroy(loop);
}

/* A sink that keeps the header string and the records of the last
 * message. */
struct hsink {
	int		msgs;
	char		hdr[16];
	uint64_t	rec[8];
	int		nrec;
};

static size_t
hsink_cb(void *arg, const uint8_t *buf, size_t len,
    size_t from, enum gs_link_proof proof)
{
	struct hsink	*s = arg;
	struct gs_rd	 rd = GS_RD_INIT(buf, len);

	s->msgs++;
	gs_rd_str(&rd, s->hdr, sizeof(s->hdr));
	for (s->nrec = 0; gs_rd_more(&rd) && s->nrec < 8; s->nrec++)
		s->rec[s->nrec] = gs_rd_uint(&rd, UINT64_MAX);
	if (gs_rd_end(&rd) != GS_OK)
		s->nrec = -1;
	return len;
}

/* set_header re-heads the pending batch; redial starts afresh with a
 * new header and the statistics carry on. */
static void
test_header_redial(void)
{
	struct ev_loop		*loop = ev_loop_new(EVFLAG_AUTO);
	struct gs_inbox		 in;
	struct gs_post		 po;
	struct gs_outbox	 ob;
	struct hsink		 s = { 0 };
	char			 url[128];

	url_for(url, sizeof(url), "rehead.sock");
	gs_post_init(&po, loop);
	T_ASSERT(gs_outbox_open(&ob, &po, url, HDR, HDRLEN, 4096, 0) ==
	    GS_OK);
	T_EQ_INT(append(&ob, 7, 1), GS_OK);
	ev_run(loop, EVRUN_NOWAIT);		/* nobody listens: held */
	T_CHECK(ob.held);
	T_EQ_INT(gs_outbox_set_header(&ob, "\xa6hdr-v2", 7), GS_OK);
	T_ASSERT(gs_inbox_listen(&in, loop, url, 64, 16, hsink_cb, &s) ==
	    GS_OK);
	T_CHECK(run_until(loop, &s.msgs, 1));
	T_CHECK(strcmp(s.hdr, "hdr-v2") == 0);
	T_CHECK(s.nrec == 1 && s.rec[0] == 7);

	T_EQ_INT(gs_outbox_redial(&ob, "\xa7hdr-v33", 8), GS_OK);
	T_EQ_INT(append(&ob, 8, 1), GS_OK);
	T_EQ_INT(append(&ob, 9, 0), GS_OK);
	T_CHECK(run_until(loop, &s.msgs, 2));
	T_CHECK(strcmp(s.hdr, "hdr-v33") == 0);
	T_CHECK(s.nrec == 2 && s.rec[0] == 8 && s.rec[1] == 9);
	T_EQ_INT(ob.sent_msgs, 2);
	T_EQ_INT(ob.sent_recs, 3);
	T_EQ_INT(ob.dropped_recs, 0);

	gs_outbox_close(&ob);
	gs_post_stop(&po);
	gs_inbox_close(&in);
	ev_loop_destroy(loop);
}

/* ------------------------------------------------------------- rpc */

/* An in-loop REP server answering "re:" + request.  Its blocking send
 * only waits for a pipe still writing the previous reply: fine here. */
struct echo {
	nng_socket	sock;
	ev_io		io;
	int		served;
};

static void
echo_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct echo	*e = w->data;
	nng_msg		*msg;

	while (nng_recvmsg(e->sock, &msg, NNG_FLAG_NONBLOCK) == 0) {
		if (nng_msg_insert(msg, "re:", 3) != 0 ||
		    nng_sendmsg(e->sock, msg, 0) != 0)
			nng_msg_free(msg);
		e->served++;
	}
}

static int
echo_start(struct echo *e, struct ev_loop *loop, const char *url)
{
	int	fd;

	memset(e, 0, sizeof(*e));
	if (nng_rep0_open(&e->sock) != 0)
		return -1;
	if (nng_listen(e->sock, url, NULL, 0) != 0 ||
	    nng_socket_get_int(e->sock, NNG_OPT_RECVFD, &fd) != 0) {
		nng_close(e->sock);
		return -1;
	}
	ev_io_init(&e->io, echo_cb, fd, EV_READ);
	e->io.data = e;
	ev_io_start(loop, &e->io);
	return 0;
}

static void
echo_stop(struct echo *e, struct ev_loop *loop)
{
	ev_io_stop(loop, &e->io);
	nng_close(e->sock);
}

struct reply {
	int		 calls;
	int		 err;
	char		 rep[64];
	size_t		 len;
	int		*ndone;		/* shared count of callbacks */
	struct gs_rpc	*close_me;	/* close the rpc from the callback */
	int		 call_err;	/* gs_rpc_call from within it */
};

static void
reply_cb(void *arg, int err, const uint8_t *rep, size_t len)
{
	struct reply	*r = arg;

	r->calls++;
	r->err = err;
	r->len = len;
	if (rep != NULL && len < sizeof(r->rep))
		memcpy(r->rep, rep, len);
	if (rep == NULL && len != 0)
		r->len = (size_t)-1;
	(*r->ndone)++;
	if (r->close_me != NULL) {
		struct gs_rpc *rpc = r->close_me;

		r->close_me = NULL;
		gs_rpc_close(rpc);
	}
}

/* Records what gs_rpc_call() says when called from a callback. */
static struct gs_rpc	*reentry_rpc;

static void
reentry_cb(void *arg, int err, const uint8_t *rep, size_t len)
{
	struct reply	*r = arg;

	reply_cb(arg, err, rep, len);
	r->call_err = gs_rpc_call(reentry_rpc, "x", 1, 1000, reply_cb, r);
}

static void
test_rpc_roundtrip(void)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct echo	 e;
	struct gs_rpc	*rpc;
	struct reply	 r[3];
	char		 url[128], req[32], want[32];
	int		 i, ndone = 0;

	memset(r, 0, sizeof(r));
	url_for(url, sizeof(url), "rpc.sock");
	T_ASSERT(echo_start(&e, loop, url) == 0);
	T_ASSERT((rpc = gs_rpc_open(loop, url, 4)) != NULL);
	for (i = 0; i < 3; i++) {
		r[i].ndone = &ndone;
		(void)snprintf(req, sizeof(req), "ping%d", i);
		T_EQ_INT(gs_rpc_call(rpc, req, strlen(req), 10000, reply_cb,
		    &r[i]), GS_OK);
	}
	T_EQ_INT(gs_rpc_inflight(rpc), 3);
	T_CHECK(run_until(loop, &ndone, 3));
	for (i = 0; i < 3; i++) {
		(void)snprintf(want, sizeof(want), "re:ping%d", i);
		T_EQ_INT(r[i].calls, 1);
		T_EQ_INT(r[i].err, GS_OK);
		T_CHECK(r[i].len == strlen(want) &&
		    memcmp(r[i].rep, want, r[i].len) == 0);
	}
	T_EQ_INT(gs_rpc_inflight(rpc), 0);
	T_EQ_INT(e.served, 3);

	/* The slots are reused. */
	for (i = 0; i < 3; i++)
		T_EQ_INT(gs_rpc_call(rpc, "again", 5, 10000, reply_cb, &r[0]),
		    GS_OK);
	T_CHECK(run_until(loop, &ndone, 6));
	T_EQ_INT(r[0].calls, 4);
	T_EQ_INT(r[0].err, GS_OK);
	T_CHECK(r[0].len == 8 && memcmp(r[0].rep, "re:again", 8) == 0);

	T_EQ_INT(gs_rpc_call(rpc, "x", 1, 0, reply_cb, &r[0]), GS_EINVAL);
	gs_rpc_close(rpc);
	T_EQ_INT(ndone, 6);
	echo_stop(&e, loop);
	ev_loop_destroy(loop);
}

/* Nobody answers: the callback says GS_ETIMEDOUT, once. */
static void
test_rpc_timeout(void)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct gs_rpc	*rpc;
	struct reply	 r = { 0 };
	char		 url[128];
	int		 ndone = 0;

	r.ndone = &ndone;
	url_for(url, sizeof(url), "silent.sock");
	T_ASSERT((rpc = gs_rpc_open(loop, url, 2)) != NULL);
	T_EQ_INT(gs_rpc_call(rpc, "hello", 5, 100, reply_cb, &r), GS_OK);
	T_CHECK(run_until(loop, &ndone, 1));
	T_EQ_INT(r.calls, 1);
	T_EQ_INT(r.err, GS_ETIMEDOUT);
	T_EQ_INT(r.len, 0);
	T_EQ_INT(gs_rpc_inflight(rpc), 0);
	gs_rpc_close(rpc);
	T_EQ_INT(r.calls, 1);
	ev_loop_destroy(loop);
}

/* max_inflight, then close: every pending callback runs, with
 * GS_ECLOSED, before gs_rpc_close() returns. */
static void
test_rpc_inflight_close(void)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct gs_rpc	*rpc;
	struct reply	 r[3];
	char		 url[128];
	int		 i, ndone = 0;

	memset(r, 0, sizeof(r));
	url_for(url, sizeof(url), "closing.sock");
	T_ASSERT((rpc = gs_rpc_open(loop, url, 2)) != NULL);
	for (i = 0; i < 3; i++)
		r[i].ndone = &ndone;
	T_EQ_INT(gs_rpc_call(rpc, "a", 1, 60000, reply_cb, &r[0]), GS_OK);
	T_EQ_INT(gs_rpc_call(rpc, "b", 1, 60000, reply_cb, &r[1]), GS_OK);
	T_EQ_INT(gs_rpc_call(rpc, "c", 1, 60000, reply_cb, &r[2]), GS_EAGAIN);
	T_EQ_INT(gs_rpc_inflight(rpc), 2);
	ev_run(loop, EVRUN_NOWAIT);	/* let the sends complete */
	T_EQ_INT(ndone, 0);
	gs_rpc_close(rpc);
	T_EQ_INT(ndone, 2);
	T_EQ_INT(r[0].calls, 1);
	T_EQ_INT(r[0].err, GS_ECLOSED);
	T_EQ_INT(r[1].calls, 1);
	T_EQ_INT(r[1].err, GS_ECLOSED);
	T_EQ_INT(r[2].calls, 0);
	ev_loop_destroy(loop);
}

/* Closing from a callback: the other request gets GS_ECLOSED, calls
 * made from those callbacks are refused, nothing is used after free. */
static void
test_rpc_close_in_cb(void)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct gs_rpc	*rpc;
	struct reply	 quick = { 0 }, slow = { 0 };
	char		 url[128];
	int		 ndone = 0;

	url_for(url, sizeof(url), "closecb.sock");
	T_ASSERT((rpc = gs_rpc_open(loop, url, 4)) != NULL);
	quick.ndone = slow.ndone = &ndone;
	quick.close_me = rpc;
	reentry_rpc = rpc;
	slow.call_err = -1;
	T_EQ_INT(gs_rpc_call(rpc, "q", 1, 50, reply_cb, &quick), GS_OK);
	T_EQ_INT(gs_rpc_call(rpc, "s", 1, 60000, reentry_cb, &slow), GS_OK);
	T_CHECK(run_until(loop, &ndone, 2));
	T_EQ_INT(ndone, 2);
	T_EQ_INT(quick.err, GS_ETIMEDOUT);
	T_EQ_INT(slow.err, GS_ECLOSED);
	T_EQ_INT(slow.call_err, GS_ECLOSED);
	T_EQ_INT(slow.calls, 1);
	ev_loop_destroy(loop);
}

/* An idle rpc and post office do not keep ev_run() alive; a request in
 * flight does, until its callback.  alarm() ends a hang. */
static void
test_loop_refs(void)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct gs_rpc	*rpc;
	struct gs_post	 po;
	struct reply	 r = { 0 };
	char		 url[128];
	int		 ndone = 0;

	r.ndone = &ndone;
	url_for(url, sizeof(url), "refs.sock");
	T_ASSERT((rpc = gs_rpc_open(loop, url, 2)) != NULL);
	gs_post_init(&po, loop);
	alarm(30);
	ev_run(loop, 0);		/* returns at once */
	T_EQ_INT(gs_rpc_call(rpc, "x", 1, 100, reply_cb, &r), GS_OK);
	ev_run(loop, 0);		/* returns after the callback */
	alarm(0);
	T_EQ_INT(r.calls, 1);
	T_EQ_INT(r.err, GS_ETIMEDOUT);
	gs_post_stop(&po);
	gs_rpc_close(rpc);
	ev_loop_destroy(loop);
}

T_MAIN(T(test_batching), T(test_linger), T(test_inbox_parts),
    T(test_header_redial), T(test_budget_burst), T(test_state_drop),
    T(test_cap_abort), T(test_control_room), T(test_discard), T(test_reliable_held), T(test_rpc_roundtrip),
    T(test_rpc_timeout), T(test_rpc_inflight_close),
    T(test_rpc_close_in_cb), T(test_loop_refs))
