/*
 * gs-gateway's client protocol (cmd/gs-gateway/client.c) behind a test
 * transport: hello, welcome, lanes, the close state machine, deadlines
 * and what a closing client owes its sim.  The gateway's own objects
 * (client, queue, route, ops) are linked in; the transport is this
 * file's, which records what client.c asks of it, as the seam allows.
 * The sim outbox dials an ipc:// address nobody listens on: records
 * appended to it are counted, never delivered.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../cmd/gs-gateway/gateway.h"
#include "log.h"
#include "t.h"
#include "util.h"

/* What the transport was asked to do, for one connection. */
struct tconn {
	unsigned	want_writes;
	unsigned	sends[GW_NLANES];
	uint8_t		sent[GW_NLANES][8192];
	size_t		sentlen[GW_NLANES];
	int		closes;
	enum gw_close	why;
	int		aborts;
	int		fail_send;
	int		not_ready;	/* the transport holds data back */
	size_t		headroom;	/* the transport's */
	uint8_t		order[64];	/* lanes of the sends, in order */
	unsigned	norder;
};

static bool
t_ready(void *conn)
{
	return !((struct tconn *)conn)->not_ready;
}

static void
t_want_write(void *conn)
{
	((struct tconn *)conn)->want_writes++;
}

static int
t_send(void *conn, enum gw_lane lane, uint8_t *buf, size_t len)
{
	struct tconn	*t = conn;

	if (t->fail_send)
		return -1;
	/* The headroom promised is writable. */
	memset(buf - t->headroom, 0xee, t->headroom);
	if (t->norder < sizeof(t->order))
		t->order[t->norder++] = (uint8_t)lane;
	T_CHECK(t->sentlen[lane] + len <= sizeof(t->sent[lane]));
	if (t->sentlen[lane] + len <= sizeof(t->sent[lane])) {
		memcpy(t->sent[lane] + t->sentlen[lane], buf, len);
		t->sentlen[lane] += len;
	}
	t->sends[lane]++;
	return 0;
}

static void
t_close(void *conn, enum gw_close why)
{
	struct tconn	*t = conn;

	t->closes++;
	t->why = why;
}

static void
t_abort(void *conn)
{
	((struct tconn *)conn)->aborts++;
}

static const struct gw_transport one_stream = {
	.name = "test", .one_stream = true, .headroom = 16, .ready = t_ready,
	.want_write = t_want_write, .send = t_send, .close = t_close,
	.abort = t_abort
};
static const struct gw_transport two_lanes = {
	.name = "test2", .one_stream = false, .headroom = 0,
	.ready = t_ready, .want_write = t_want_write, .send = t_send,
	.close = t_close, .abort = t_abort
};

static struct gw	G;
static char		sim_url[128];

static void
gw_setup(unsigned queue_frames)
{
	char	*urls[1] = { sim_url };

	memset(&G, 0, sizeof(G));
	G.loop = ev_default_loop(0);
	G.conf.dev = true;
	G.conf.inbox_url = "ipc:///nonexistent/gw.in";
	G.conf.frame_max = 4096;
	G.conf.queue_frames = queue_frames;
	G.conf.queue_bytes = 64 * 1024;
	G.conf.join_timeout = 5;
	G.conf.sim_timeout = 3;
	G.instance = 1;
	gs_wr_init(&G.scratch, 256, 4096);
	T_ASSERT((G.metrics = gs_metrics_new()) != NULL);
	gw_metrics_init(&G);
	gw_clients_init(&G);
	gs_post_init(&G.post, G.loop);
	/* Dialed, never listened on: no file is made. */
	(void)snprintf(sim_url, sizeof(sim_url),
	    "ipc:///tmp/gs-test-gwclient-%ld.sim", (long)getpid());
	gw_sims_open(&G, urls, 1);
}

static void
gw_teardown(void)
{
	gs_post_stop(&G.post);
	gw_sims_close(&G);
	gw_clients_free(&G);
	gs_wr_free(&G.scratch);
	gs_metrics_free(G.metrics);
}

/* Relay records waiting in the sim's outbox. */
static unsigned
sim_records(void)
{
	return G.sims[0].ob.nrec;
}

static void
recv_msg(struct gw_client *c, void (*put)(struct gs_wr *, const void *),
    const void *arg)
{
	struct gs_wr	wr;

	gs_wr_init(&wr, 256, 4096);
	put(&wr, arg);
	gw_client_recv(c, wr.buf, wr.len);
	gs_wr_free(&wr);
}

static void
put_hello(struct gs_wr *wr, const void *arg)
{
	struct gs_hello	h;

	memset(&h, 0, sizeof(h));
	h.version = *(const uint32_t *)arg;
	(void)gs_strlcpy(h.name, "ann", sizeof(h.name));
	(void)gs_strlcpy(h.room, "lobby", sizeof(h.room));
	gs_hello_put(wr, &h);
}

static void
put_bye(struct gs_wr *wr, const void *arg)
{
	gs_bye_put(wr);
}

static void
put_event(struct gs_wr *wr, const void *arg)
{
	struct gs_event	e;

	memset(&e, 0, sizeof(e));
	e.tick = *(const uint64_t *)arg;
	e.code = GS_EV_SCORED;
	e.player = 1;
	e.value = 3;
	gs_event_put(wr, &e);
}

/* Send one message (built by put) to the client on lane. */
static void
send_msg(struct gw_client *c, void (*put)(struct gs_wr *, const void *),
    const void *arg, enum gw_lane lane)
{
	struct gs_wr	wr;

	gs_wr_init(&wr, 256, 4096);
	put(&wr, arg);
	gw_client_send(c, wr.buf, wr.len, lane);
	gs_wr_free(&wr);
}

static void
put_snapshot(struct gs_wr *wr, const void *arg)
{
	struct gs_snaphdr	h = { *(const uint64_t *)arg, 0, 0 };
	static const uint8_t	body[] = { 0, 0 };	/* nothing changed */

	gs_snapshot_put(wr, &h, body, sizeof(body));
}

/* The kinds and, for errors, the codes of the messages in buf. */
static int
kinds(const uint8_t *buf, size_t len, int *out, uint32_t *codes, int max)
{
	struct gs_rd		rd;
	struct gs_perror	e;
	uint32_t		nf;
	int			n = 0, k;

	gs_rd_init(&rd, buf, len);
	while (gs_rd_more(&rd) && n < max) {
		if ((k = gs_msg_begin(&rd, &nf)) == 0)
			return -1;
		codes[n] = 0;
		if (k == GS_MSG_ERROR) {
			if (gs_perror_get(&rd, nf, &e) != GS_OK)
				return -1;
			codes[n] = e.code;
		} else
			gs_msg_skip(&rd, nf);
		out[n++] = k;
	}
	return rd.err == GS_OK ? n : -1;
}

/* A client that said hello and got its welcome. */
static struct gw_client *
playing(const struct gw_transport *tr, struct tconn *t)
{
	struct gw_client	*c;
	struct gs_relay_rec	 r;
	uint32_t		 v = GS_PROTO_VERSION;

	memset(t, 0, sizeof(*t));
	t->headroom = tr->headroom;
	if ((c = gw_client_new(&G, tr, t, "127.0.0.1:1")) == NULL)
		return NULL;
	recv_msg(c, put_hello, &v);
	if (c->state != GW_JOINING)
		return NULL;
	memset(&r, 0, sizeof(r));
	r.kind = GS_REL_JOINED;
	r.conn = c->conn;
	r.player = 7;
	r.tick_rate = r.snapshot_rate = 30;
	gw_client_welcome(c, &r);
	return c->state == GW_PLAYING ? c : NULL;
}

static void
test_hello_welcome(void)
{
	struct gw_client	*c;
	struct tconn		 t;
	int			 k[8];
	uint32_t		 codes[8];
	unsigned		 recs;

	gw_setup(128);
	recs = sim_records();
	T_ASSERT((c = playing(&one_stream, &t)) != NULL);
	T_EQ_INT(sim_records(), recs + 1);	/* JOIN */
	T_EQ_INT(G.nclients, 1);
	T_EQ_INT(G.nstate[GW_PLAYING], 1);
	T_EQ_INT(G.nrooms, 1);
	/* Sent at the loop's end, straight away: no writable round trip. */
	T_EQ_INT(t.sends[GW_LANE_RELIABLE], 0);
	gw_clients_flush(&G);
	T_EQ_INT(t.want_writes, 0);
	T_EQ_INT(t.sends[GW_LANE_RELIABLE], 1);
	T_ASSERT(kinds(t.sent[GW_LANE_RELIABLE], t.sentlen[GW_LANE_RELIABLE],
	    k, codes, 8) == 1);
	T_EQ_INT(k[0], GS_MSG_WELCOME);
	T_EQ_INT(gw_queue_msgs(&c->q), 0);
	T_EQ_INT(t.closes, 0);
	/* A second flush asks nothing of the transport. */
	gw_clients_flush(&G);
	T_EQ_INT(t.sends[GW_LANE_RELIABLE], 1);
	T_EQ_INT(t.want_writes, 0);
	gw_client_closed(c);	/* the peer went away */
	T_EQ_INT(sim_records(), recs + 2);	/* JOIN, LEAVE */
	T_EQ_INT(G.nclients, 0);
	T_EQ_INT(G.nrooms, 0);
	gw_teardown();
}

/* bye: a normal close, the sim told LEAVE, nothing more queued. */
static void
test_bye(void)
{
	struct gw_client	*c;
	struct tconn		 t;
	unsigned		 recs;
	uint64_t		 tick = 1;

	gw_setup(128);
	T_ASSERT((c = playing(&one_stream, &t)) != NULL);
	T_EQ_INT(gw_client_writable(c), 0);
	recs = sim_records();
	recv_msg(c, put_bye, NULL);
	T_EQ_INT(c->state, GW_CLOSING);
	T_EQ_INT(sim_records(), recs + 1);	/* LEAVE, at once */
	/* Frames for a closing client are dropped and counted. */
	send_msg(c, put_event, &tick, GW_LANE_RELIABLE);
	T_EQ_INT(gw_queue_msgs(&c->q), 0);
	T_EQ_INT(G.m.msgs_dropped[GS_MSG_EVENT][GW_DROP_GONE]->v, 1);
	/* A closing client closes from the writable callback. */
	gw_clients_flush(&G);
	T_EQ_INT(t.want_writes, 1);
	T_EQ_INT(t.closes, 0);
	T_EQ_INT(gw_client_writable(c), 0);
	T_EQ_INT(t.closes, 1);
	T_EQ_INT(t.why, GW_CLOSE_NORMAL);
	gw_client_closed(c);
	T_EQ_INT(sim_records(), recs + 1);	/* no second LEAVE */
	gw_teardown();
}

/* A fatal error: the error leaves, then the close, once; the class
 * follows the code. */
static void
test_error_close(void)
{
	struct gw_client	*c;
	struct tconn		 t;
	int			 k[8];
	uint32_t		 codes[8], v = 99;
	unsigned		 recs;

	gw_setup(128);
	memset(&t, 0, sizeof(t));
	recs = sim_records();
	T_ASSERT((c = gw_client_new(&G, &one_stream, &t, "x")) != NULL);
	recv_msg(c, put_hello, &v);		/* unsupported version */
	T_EQ_INT(c->state, GW_CLOSING);
	T_EQ_INT(sim_records(), recs);		/* never joined: no LEAVE */
	gw_client_close(c, GS_PERR_KICKED, "again");	/* no-op */
	T_EQ_INT(gw_client_writable(c), 0);
	T_ASSERT(kinds(t.sent[GW_LANE_RELIABLE], t.sentlen[GW_LANE_RELIABLE],
	    k, codes, 8) == 1);
	T_EQ_INT(k[0], GS_MSG_ERROR);
	T_EQ_INT(codes[0], GS_PERR_VERSION);
	T_EQ_INT(t.closes, 1);
	T_EQ_INT(t.why, GW_CLOSE_POLICY);
	gw_client_closed(c);

	T_ASSERT((c = playing(&one_stream, &t)) != NULL);
	gw_client_close(c, GS_PERR_SHUTDOWN, "bye");
	T_EQ_INT(gw_client_writable(c), 0);
	T_EQ_INT(t.why, GW_CLOSE_AWAY);
	gw_client_closed(c);
	T_ASSERT((c = playing(&one_stream, &t)) != NULL);
	gw_client_close(c, GS_PERR_INTERNAL, "oops");
	T_EQ_INT(gw_client_writable(c), 0);
	T_EQ_INT(t.why, GW_CLOSE_INTERNAL);
	gw_client_closed(c);
	T_EQ_INT(G.nclients, 0);
	gw_teardown();
}

/* A client that does not read: state frames go, reliable ones stay;
 * when a reliable one does not fit the client is closed with slow,
 * and only that error is left to send. */
static void
test_slow(void)
{
	struct gw_client	*c;
	struct tconn		 t;
	int			 k[8];
	uint32_t		 codes[8];
	uint64_t		 i;

	gw_setup(4);
	T_ASSERT((c = playing(&one_stream, &t)) != NULL);
	/* welcome + 3 snapshots fill the 4 places; more snapshots push
	 * out the oldest, never the welcome. */
	for (i = 1; i <= 10; i++)
		send_msg(c, put_snapshot, &i, GW_LANE_STATE);
	T_EQ_INT(gw_queue_msgs(&c->q), 4);
	T_EQ_INT(c->drops, 7);
	T_EQ_INT(G.m.state_drops->v, 7);
	T_EQ_INT(c->state, GW_PLAYING);
	/* Events evict the remaining snapshots, then overflow. */
	for (i = 1; i <= 4; i++)
		send_msg(c, put_event, &i, GW_LANE_RELIABLE);
	T_EQ_INT(c->state, GW_CLOSING);
	T_EQ_INT(G.m.slow_closes->v, 1);
	T_EQ_INT(gw_client_writable(c), 0);
	T_ASSERT(kinds(t.sent[GW_LANE_RELIABLE], t.sentlen[GW_LANE_RELIABLE],
	    k, codes, 8) == 1);
	T_EQ_INT(k[0], GS_MSG_ERROR);
	T_EQ_INT(codes[0], GS_PERR_SLOW);
	T_EQ_INT(t.closes, 1);
	gw_client_closed(c);
	gw_teardown();
}

/* Separate lanes: one message a send, on its lane, in the order queued
 * (a transport with separate lanes frames or places each itself). */
static void
test_two_lanes(void)
{
	struct gw_client	*c;
	struct tconn		 t;
	int			 k[8];
	uint32_t		 codes[8];
	uint64_t		 i;

	gw_setup(128);
	T_ASSERT((c = playing(&two_lanes, &t)) != NULL);
	for (i = 1; i <= 3; i++) {
		send_msg(c, put_snapshot, &i, GW_LANE_STATE);
		send_msg(c, put_event, &i, GW_LANE_RELIABLE);
	}
	T_EQ_INT(gw_client_writable(c), 0);
	T_EQ_INT(t.sends[GW_LANE_RELIABLE], 4);
	T_EQ_INT(t.sends[GW_LANE_STATE], 3);
	T_EQ_INT(t.norder, 7);
	T_CHECK(memcmp(t.order, (uint8_t[]){ GW_LANE_RELIABLE, GW_LANE_STATE,
	    GW_LANE_RELIABLE, GW_LANE_STATE, GW_LANE_RELIABLE, GW_LANE_STATE,
	    GW_LANE_RELIABLE }, 7) == 0);
	T_ASSERT(kinds(t.sent[GW_LANE_RELIABLE], t.sentlen[GW_LANE_RELIABLE],
	    k, codes, 8) == 4);
	T_CHECK(k[0] == GS_MSG_WELCOME && k[1] == GS_MSG_EVENT &&
	    k[3] == GS_MSG_EVENT);
	T_ASSERT(kinds(t.sent[GW_LANE_STATE], t.sentlen[GW_LANE_STATE],
	    k, codes, 8) == 3);
	T_CHECK(k[0] == GS_MSG_SNAPSHOT && k[2] == GS_MSG_SNAPSHOT);
	T_EQ_INT(G.m.msgs_out[GS_MSG_EVENT]->v, 3);
	T_EQ_INT(G.m.msgs_out[GS_MSG_SNAPSHOT]->v, 3);
	gw_client_closed(c);
	gw_teardown();
}

/* A failed send: the transport reports it closed; what was queued is
 * counted as dropped with the connection. */
static void
test_send_fails(void)
{
	struct gw_client	*c;
	struct tconn		 t;
	uint64_t		 i = 1;

	gw_setup(128);
	T_ASSERT((c = playing(&one_stream, &t)) != NULL);
	send_msg(c, put_event, &i, GW_LANE_RELIABLE);
	t.fail_send = 1;
	T_EQ_INT(gw_client_writable(c), -1);
	gw_client_closed(c);
	T_EQ_INT(G.m.msgs_dropped[GS_MSG_EVENT][GW_DROP_CLOSED]->v, 1);
	T_EQ_INT(G.m.msgs_dropped[GS_MSG_WELCOME][GW_DROP_CLOSED]->v, 1);
	T_EQ_INT(G.nclients, 0);
	gw_teardown();
}

/* The one timer: hello deadline, join timeout, close grace. */
static void
test_deadlines(void)
{
	struct gw_client	*c;
	struct tconn		 t;
	int			 k[8];
	uint32_t		 codes[8], v = GS_PROTO_VERSION;

	gw_setup(128);
	memset(&t, 0, sizeof(t));
	T_ASSERT((c = gw_client_new(&G, &one_stream, &t, "x")) != NULL);
	T_CHECK(ev_is_active(&c->timer));
	ev_invoke(G.loop, &c->timer, EV_TIMER);	/* no hello in time */
	T_EQ_INT(c->state, GW_CLOSING);
	T_EQ_INT(G.m.hello_timeouts->v, 1);
	T_CHECK(ev_is_active(&c->timer));	/* now the close grace */
	T_EQ_INT(t.aborts, 0);
	ev_invoke(G.loop, &c->timer, EV_TIMER);	/* never writable */
	T_EQ_INT(t.aborts, 1);
	T_EQ_INT(gw_client_writable(c), 0);
	T_ASSERT(kinds(t.sent[GW_LANE_RELIABLE], t.sentlen[GW_LANE_RELIABLE],
	    k, codes, 8) == 1);
	T_EQ_INT(codes[0], GS_PERR_PROTOCOL);
	gw_client_closed(c);

	memset(&t, 0, sizeof(t));
	T_ASSERT((c = gw_client_new(&G, &one_stream, &t, "x")) != NULL);
	recv_msg(c, put_hello, &v);
	T_EQ_INT(c->state, GW_JOINING);
	ev_invoke(G.loop, &c->timer, EV_TIMER);	/* the sim is silent */
	T_EQ_INT(c->state, GW_CLOSING);
	T_EQ_INT(G.m.join_timeouts->v, 1);
	T_EQ_INT(gw_client_writable(c), 0);
	T_ASSERT(kinds(t.sent[GW_LANE_RELIABLE], t.sentlen[GW_LANE_RELIABLE],
	    k, codes, 8) == 1);
	T_EQ_INT(codes[0], GS_PERR_UNAVAILABLE);
	gw_client_closed(c);
	gw_teardown();
}

/* A transport that holds data back gets a writable callback instead;
 * a send that fails at the flush aborts the connection. */
static void
test_flush(void)
{
	struct gw_client	*c;
	struct tconn		 t;
	uint64_t		 i = 1;

	gw_setup(128);
	T_ASSERT((c = playing(&one_stream, &t)) != NULL);
	t.not_ready = 1;
	gw_clients_flush(&G);
	T_EQ_INT(t.sends[GW_LANE_RELIABLE], 0);
	T_EQ_INT(t.want_writes, 1);
	T_CHECK(G.dirty == NULL);
	t.not_ready = 0;
	T_EQ_INT(gw_client_writable(c), 0);	/* the callback */
	T_EQ_INT(t.sends[GW_LANE_RELIABLE], 1);
	send_msg(c, put_event, &i, GW_LANE_RELIABLE);
	T_CHECK(G.dirty == c);
	t.fail_send = 1;
	gw_clients_flush(&G);
	T_EQ_INT(t.aborts, 1);
	T_CHECK(G.dirty == NULL);
	gw_client_closed(c);	/* as the transport reports the abort */
	T_EQ_INT(G.nclients, 0);
	gw_teardown();
}

static void
test_setup(void)
{
	gs_log_init("test_gwclient", GS_LOG_ERROR);
}

/* One WebSocket message of inputs (seqs first..last, two values each)
 * and, when ack != 0, an ack. */
struct inmsg {
	uint32_t	first, last;
	uint64_t	ack;
	int		garbage;	/* a bad byte after it all */
};

static void
put_inputs(struct gs_wr *wr, const void *arg)
{
	const struct inmsg	*m = arg;
	struct gs_input		 in[GS_INPUTS_MAX];
	uint32_t		 s;
	int			 n = 0;

	memset(in, 0, sizeof(in));
	for (s = m->first; s <= m->last && n < GS_INPUTS_MAX; s++, n++) {
		in[n].seq = s;
		in[n].n = 2;
		in[n].v[0] = 100;
	}
	if (n > 0)
		gs_input_put(wr, in, n);
	if (m->ack != 0)
		gs_ack_put(wr, m->ack);
	if (m->garbage)
		gs_wr_raw(wr, "\xc1", 1);
}

/*
 * Inputs and the ack of one WebSocket message reach the sim as one
 * record a new input, the last carrying the ack (INPUT_ACK); repeats
 * are skipped; an ack alone is an ACK record; a bad message after
 * inputs does not lose them.
 */
static void
test_input_ack(void)
{
	struct gw_client	*c;
	struct tconn		 t;
	struct inmsg		 m;
	unsigned		 recs;

	gw_setup(128);
	T_ASSERT((c = playing(&one_stream, &t)) != NULL);
	recs = sim_records();
	m = (struct inmsg){ 1, 3, 5, 0 };
	recv_msg(c, put_inputs, &m);
	T_EQ_INT(sim_records(), recs + 3);	/* INPUT 1, 2; INPUT_ACK 3 */
	T_EQ_INT(c->in_seq, 3);
	m = (struct inmsg){ 2, 4, 6, 0 };	/* 2, 3 repeated */
	recv_msg(c, put_inputs, &m);
	T_EQ_INT(sim_records(), recs + 4);	/* INPUT_ACK 4 */
	T_EQ_INT(G.m.inputs_skipped->v, 2);
	m = (struct inmsg){ 1, 0, 7, 0 };	/* an ack alone */
	recv_msg(c, put_inputs, &m);
	T_EQ_INT(sim_records(), recs + 5);
	m = (struct inmsg){ 5, 5, 0, 1 };	/* an input, then garbage */
	recv_msg(c, put_inputs, &m);
	T_EQ_INT(sim_records(), recs + 6);
	T_EQ_INT(c->in_seq, 5);
	T_EQ_INT(c->state, GW_PLAYING);
	gw_teardown();
}

T_MAIN(T(test_setup), T(test_hello_welcome), T(test_bye),
    T(test_error_close), T(test_slow), T(test_two_lanes),
    T(test_send_fails), T(test_deadlines), T(test_flush),
    T(test_input_ack))
