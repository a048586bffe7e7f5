/*
 * One headless client: connect, hello, wait for welcome, then input at
 * the room's tick rate and a ping every second, reading whatever the
 * server sends.  A session lost during the run (connection closed or
 * failed, a fatal error, a storm) is a loss: the client connects again
 * with exponential backoff and says hello to the same room.  All of it
 * runs in the connection's callbacks (ws.h or lgquic.h) and in the
 * timers of main.c, on the one loop thread.  Each client has one
 * connection object, reused from one connection to the next; the
 * lg_conn_* functions below pick the transport's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"
#include "log.h"
#include "mp.h"
#include "proto.h"
#include "util.h"

#define LG_GOLDEN_ANGLE	2.399963229728653	/* pi * (3 - sqrt(5)) */
#define LG_IQ_SLACK_US	500	/* due this soon counts as due now */

static void	lg_client_recv(struct lg_client *c, const uint8_t *buf,
		    size_t len, bool one);
static void	lg_client_kick(struct lg_client *c);
static const struct lg_ws_cb lg_ws_callbacks;
static const struct lg_quic_cb lg_quic_callbacks;

static void
lg_client_fail(struct lg_client *c, const char *why)
{
	if (c->fail[0] == '\0')
		(void)gs_strlcpy(c->fail, why, sizeof(c->fail));
}

/* --------------------------------------------------------- transport */

static bool
lg_quic(const struct lg_client *c)
{
	return c->tp == LG_TP_QUIC;
}

static int
lg_conn_connect(struct lg_client *c, char *why, size_t whylen)
{
	return lg_quic(c) ? lg_quic_connect(&c->quic, why, whylen) :
	    lg_ws_connect(&c->ws, why, whylen);
}

/* One message (QUIC) or several (one WebSocket message) on lane; QUIC
 * writes at lg_conn_flush().  0, or -1: the caller aborts. */
static int
lg_conn_send(struct lg_client *c, enum lg_lane lane, const uint8_t *p,
    size_t len)
{
	return lg_quic(c) ? lg_quic_send(&c->quic, lane, p, len) :
	    lg_ws_send(&c->ws, p, len);
}

static int
lg_conn_flush(struct lg_client *c)
{
	return lg_quic(c) ? lg_quic_flush(&c->quic) : 0;
}

static bool
lg_conn_busy(const struct lg_client *c)
{
	return lg_quic(c) ? lg_quic_busy(&c->quic) : lg_ws_busy(&c->ws);
}

/* After bye: 0 and closed() follows, or -1 and it has ended. */
static int
lg_conn_close(struct lg_client *c)
{
	return lg_quic(c) ? lg_quic_close(&c->quic, GS_QUIC_CLOSE_NORMAL) :
	    lg_ws_close(&c->ws, 1000, "bye");
}

static void
lg_conn_abort(struct lg_client *c)
{
	if (lg_quic(c))
		lg_quic_abort(&c->quic);
	else
		lg_ws_abort(&c->ws);
}

static bool
lg_conn_paused(const struct lg_client *c)
{
	return lg_quic(c) ? c->quic.paused : c->ws.paused;
}

static void
lg_conn_pause(struct lg_client *c, bool paused)
{
	if (lg_quic(c))
		lg_quic_pause(&c->quic, paused);
	else
		lg_ws_pause(&c->ws, paused);
}

/* ---------------------------------------------------- impairment glue */

/* The lane whose queue of direction d releases first (the reliable one
 * on a tie), or -1 when both are empty. */
static int
lg_iq_first(const struct lg_client *c, int d)
{
	uint64_t	r = lg_iq_next(&c->iq[d][LG_LANE_RELIABLE]);
	uint64_t	u = lg_iq_next(&c->iq[d][LG_LANE_UNRELIABLE]);

	if (r == UINT64_MAX && u == UINT64_MAX)
		return -1;
	return u < r ? LG_LANE_UNRELIABLE : LG_LANE_RELIABLE;
}

/* The next message of direction d due at now (any time when now is
 * UINT64_MAX), taken from its queue: the caller frees it.  NULL when
 * none is due. */
static uint8_t *
lg_iq_take(struct lg_client *c, int d, uint64_t now, enum lg_lane *lane,
    size_t *len)
{
	int	l = lg_iq_first(c, d);

	if (l < 0 || lg_iq_due(&c->iq[d][l], now) == NULL)
		return NULL;
	*lane = (enum lg_lane)l;
	return lg_iq_pop(&c->iq[d][l], len);
}

/* Arm the direction's timer at its next release, or stop it. */
static void
lg_iq_arm(struct lg_client *c, int d)
{
	struct ev_loop	*loop = c->lg->loop;
	uint64_t	 next = GS_MIN(lg_iq_next(&c->iq[d][0]),
			    lg_iq_next(&c->iq[d][1])), now;

	if (next == c->iq_armed[d])
		return;
	ev_timer_stop(loop, &c->iqw[d]);
	c->iq_armed[d] = 0;
	if (next == UINT64_MAX)
		return;
	now = gs_now_us();
	ev_timer_set(&c->iqw[d], next > now ? (double)(next - now) / 1e6 : 0.,
	    0.);
	ev_timer_start(loop, &c->iqw[d]);
	c->iq_armed[d] = next;
}

/* Up: messages are due; they leave now, or when the socket can take
 * them. */
static void
lg_iq_up_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct lg_client	*c = w->data;

	c->iq_armed[LG_UP] = 0;
	if (c->state >= LG_OPEN && c->state <= LG_WELCOMED)
		lg_client_kick(c);
	else
		lg_iq_arm(c, LG_UP);
}

/* Down: hand every due message to the protocol, in release order. */
static void
lg_iq_down_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct lg_client	*c = w->data;
	uint64_t		 now = gs_now_us();
	enum lg_lane		 lane;
	uint8_t			*buf;
	size_t			 len;

	c->iq_armed[LG_DOWN] = 0;
	/* lg_client_recv() never ends a connection: the queues stay. */
	while ((buf = lg_iq_take(c, LG_DOWN, now + LG_IQ_SLACK_US, &lane,
	    &len)) != NULL) {
		lg_client_recv(c, buf, len, lg_quic(c));
		free(buf);
	}
	if (lg_conn_paused(c) &&
	    c->iq[LG_DOWN][LG_LANE_RELIABLE].bytes < LG_RWND / 2)
		lg_conn_pause(c, false);
	lg_iq_arm(c, LG_DOWN);
}

/* Everything the transport had delivered before the close is read
 * first. */
static void
lg_iq_flush_down(struct lg_client *c)
{
	enum lg_lane	 lane;
	uint8_t		*buf;
	size_t		 len;

	while ((buf = lg_iq_take(c, LG_DOWN, UINT64_MAX, &lane, &len)) !=
	    NULL) {
		lg_client_recv(c, buf, len, lg_quic(c));
		free(buf);
	}
}

static void
lg_iq_reset(struct lg_client *c)
{
	int	d, l;

	for (d = 0; d < LG_NDIR; d++) {
		for (l = 0; l < LG_NLANES; l++)
			lg_iq_clear(&c->iq[d][l]);
		ev_timer_stop(c->lg->loop, &c->iqw[d]);
		c->iq_armed[d] = 0;
	}
}

/* ------------------------------------------------------------- life */

void
lg_client_init(struct lg *lg, struct lg_client *c, int idx)
{
	double	a = idx * LG_GOLDEN_ANGLE;
	int	d, l;

	memset(c, 0, sizeof(*c));
	c->lg = lg;
	c->idx = idx;
	c->loss = -1;
	c->rng = gs_rand_next(&lg->rng);
	/* http:// (lg_negotiate): QUIC first when offered. */
	c->tp = lg->conf.transport != LG_TP_NEGOTIATE ? lg->conf.transport :
	    lg->offer_quic ? LG_TP_QUIC : LG_TP_WS;
	snprintf(c->name, sizeof(c->name), "lg%d", idx);
	if (lg->conf.room != NULL)
		(void)gs_strlcpy(c->room, lg->conf.room, sizeof(c->room));
	else
		snprintf(c->room, sizeof(c->room), "lg-%d",
		    idx / lg->conf.per_room);
	c->mx = (int8_t)lround(LG_AXIS * cos(a));
	c->my = (int8_t)lround(LG_AXIS * sin(a));
	lg_impair_draw(lg->conf.impair, &c->rng, c->imp);
	for (d = 0; d < LG_NDIR; d++) {
		/* The reliable lane (WebSocket's TCP, QUIC's stream) is
		 * repaired and ordered; QUIC's datagrams are not. */
		for (l = 0; l < LG_NLANES; l++)
			lg_iq_init(&c->iq[d][l], l == LG_LANE_RELIABLE ?
			    LG_IQ_RELIABLE_ORDERED : LG_IQ_DATAGRAM,
			    &c->imp[d], lg_impair_rtt_us(c->imp), &c->rng,
			    &lg->iqst[l][d]);
		ev_timer_init(&c->iqw[d], d == LG_UP ? lg_iq_up_cb :
		    lg_iq_down_cb, 0., 0.);
		c->iqw[d].data = c;
	}
	lg_ws_init(&c->ws, lg->loop, &lg->target, &lg_ws_callbacks, c,
	    &c->rng);
	lg_quic_init(&c->quic, lg->loop, &lg->qtarget, &lg_quic_callbacks, c);
}

void
lg_client_free(struct lg_client *c)
{
	unsigned	i;

	free(c->token);
	c->token = NULL;
	lg_iq_reset(c);
	lg_ws_free(&c->ws);
	lg_quic_free(&c->quic);
	for (i = 0; i < LG_SNAPS; i++)
		gs_snap_free(&c->snaps[i]);
}

/* The stick as the game's input values: mx and my in the first two
 * fields, 0 in the others, each clamped to its declared range. */
static void
lg_client_values(const struct lg_client *c, struct gs_input *in)
{
	const struct gs_gameinfo	*g = &c->game;
	int32_t				 v;
	uint32_t			 i;

	in->n = g->ninputs;
	for (i = 0; i < g->ninputs; i++) {
		v = i == 0 ? c->mx : i == 1 ? c->my : 0;
		if (v < g->input_min[i])
			v = g->input_min[i];
		if (v > g->input_max[i])
			v = g->input_max[i];
		in->v[i] = v;
	}
}

/* Backoff before the next connect: 100 ms doubling up to 2 s, each
 * wait drawn uniformly from its upper half. */
static uint64_t
lg_client_backoff(struct lg_client *c)
{
	uint64_t	b = LG_BACKOFF_MIN_US;
	int		i;

	for (i = 0; i < c->nretry && b < LG_BACKOFF_MAX_US; i++)
		b *= 2;
	if (b > LG_BACKOFF_MAX_US)
		b = LG_BACKOFF_MAX_US;
	c->nretry++;
	return b / 2 + (uint64_t)(gs_rand01(&c->rng) * (double)(b / 2));
}

static void
lg_client_loss(struct lg_client *c, uint64_t now)
{
	struct lg	*lg = c->lg;
	struct lg_loss	*p;
	size_t		 cap;

	c->losses++;
	c->loss = -1;
	if (lg->nlosses == lg->losscap) {
		cap = lg->losscap == 0 ? 256 : lg->losscap * 2;
		if (cap > LG_LOSS_MAX || (p = realloc(lg->losses,
		    cap * sizeof(*p))) == NULL) {
			lg->losses_dropped++;
			return;
		}
		lg->losses = p;
		lg->losscap = cap;
	}
	lg->losses[lg->nlosses] = (struct lg_loss){ .t = now, .t_rec = 0 };
	c->loss = (int64_t)lg->nlosses++;
}

/* Errors after which the same hello would fail again (gs-protocol(7),
 * "Reconnecting"): the client ends instead of retrying it. */
static bool
lg_perr_final(uint32_t code)
{
	return code == GS_PERR_VERSION || code == GS_PERR_NOAUTH ||
	    code == GS_PERR_BADNAME || code == GS_PERR_ROOMFULL ||
	    code == GS_PERR_TOOMANY || code == GS_PERR_ROOMLIMIT;
}

/* The end of a session: its time and its motion verdict. */
static void
lg_client_session_end(struct lg_client *c, uint64_t now)
{
	struct lg	*lg = c->lg;
	uint64_t	 end = now;
	int		 v;

	if (lg->t_end != 0 && lg->t_end < end)
		end = lg->t_end;
	if (end > c->t_welcome && (lg->t_end == 0 ||
	    c->t_welcome < lg->t_end))
		c->welcomed_us += end - c->t_welcome;
	if (!c->judged) {
		v = lg_session_moved(c);
		c->moves_ok += v > 0;
		c->moves_bad += v < 0;
		c->judged = true;
	}
}

/*
 * The current connection is over, for why.  kill: we end it (close the
 * socket without a bye); otherwise it has ended.  Decides what
 * comes next: nothing (end of the run, or an error no retry cures), a
 * rejoin (churn), or a reconnect with backoff (anything else; a lost
 * session counts as a loss).  Idempotent.
 */
static void
lg_client_end(struct lg_client *c, const char *why, bool kill)
{
	struct lg	*lg = c->lg;
	uint64_t	 now = gs_now_us();
	bool		 was_welcomed;

	if (c->state != LG_CONNECTING && c->state != LG_OPEN &&
	    c->state != LG_WELCOMED)
		return;
	lg_conn_abort(c);
	if (!kill)
		lg_iq_flush_down(c);	/* may welcome: read state after */
	lg_iq_reset(c);
	c->want = 0;
	was_welcomed = c->state == LG_WELCOMED;
	if (was_welcomed)
		lg_client_session_end(c, now);
	gs_log_debug("client=%s msg=gone why=\"%s\"", c->name, why);

	if (lg->phase != LG_RUN) {
		c->state = LG_GONE;
	} else if (c->leaving) {
		c->leaving = false;
		c->rejoin = true;
		c->nretry = 0;
		c->state = LG_WAIT;
		c->t_retry = now;
	} else {
		(void)gs_strlcpy(c->last_why, why, sizeof(c->last_why));
		if (was_welcomed)
			lg_client_loss(c, now);
		if (c->perr != 0 && lg_perr_final(c->perr)) {
			lg_client_fail(c, why);
			c->state = LG_GONE;
		} else {
			c->state = LG_WAIT;
			c->t_retry = now + lg_client_backoff(c);
		}
	}
	if (c->live) {
		c->live = false;
		lg_gone(lg);
	}
}

static void
lg_client_connect(struct lg_client *c, uint64_t now)
{
	struct lg	*lg = c->lg;
	char		 why[128];

	c->state = LG_CONNECTING;
	c->t_start = now;
	c->perr = 0;
	c->want = 0;
	c->live = true;
	lg->nlive++;
	if (lg_conn_connect(c, why, sizeof(why)) != 0) {
		lg->connfail++;
		lg_client_end(c, why, false);
	}
}

void
lg_client_start(struct lg_client *c, uint64_t now)
{
	lg_client_connect(c, now);
}

static int	lg_client_writable(struct lg_client *c);

/*
 * Send what is wanted, and what the up queues have released, now: one
 * WebSocket message, or QUIC datagrams and stream bytes, written at
 * once.  When the connection still holds earlier bytes, its writable()
 * callback comes back here once they have gone.
 */
static void
lg_client_kick(struct lg_client *c)
{
	if (c->state < LG_OPEN || c->state > LG_WELCOMED || lg_conn_busy(c))
		return;
	if (lg_client_writable(c) != 0)
		lg_client_end(c, "send failed", true);
}

static void
lg_client_want(struct lg_client *c, unsigned bits)
{
	c->want |= bits;
	lg_client_kick(c);
}

bool
lg_client_tick(struct lg_client *c, uint64_t now, uint64_t slack)
{
	struct lg	*lg = c->lg;
	unsigned	 bits = 0;

	switch (c->state) {
	case LG_CONNECTING:
	case LG_OPEN:
		if (now - c->t_start < (uint64_t)lg->conf.welcome_ms * 1000)
			return false;
		lg->timeouts++;
		lg_client_end(c, "no welcome in time", true);
		return false;
	case LG_WAIT:
		if (now < c->t_retry)
			return false;
		if (c->loss >= 0)
			lg->attempts++;
		lg_client_connect(c, now);
		return false;
	case LG_WELCOMED:
		break;
	default:
		return false;
	}
	/* slack: due within half a timer period counts as due now, so a
	 * client on the timer's own rate sends on every expiry. */
	if (now + slack >= c->next_input) {
		bits |= LG_W_INPUT;
		c->next_input += c->input_period;
		if (c->next_input + slack < now)	/* no bursts after a stall */
			c->next_input = now + c->input_period;
	}
	if (now + slack >= c->next_ping) {
		bits |= LG_W_PING;
		c->next_ping += 1000000;
		if (c->next_ping < now)
			c->next_ping = now + 1000000;
	}
	if (bits != 0)
		lg_client_want(c, bits);
	return true;
}

void
lg_client_leave(struct lg_client *c)
{
	if (c->state != LG_WELCOMED || c->leaving)
		return;
	c->leaving = true;
	c->lg->churn_leaves++;
	c->want = LG_W_BYE;
	lg_client_want(c, 0);
}

void
lg_client_drop(struct lg_client *c, uint64_t now)
{
	if (c->state != LG_WELCOMED || c->leaving)
		return;
	c->lg->storm_drops++;
	lg_client_end(c, "dropped by the storm", true);
}

void
lg_client_finish(struct lg_client *c)
{
	switch (c->state) {
	case LG_OPEN:
	case LG_WELCOMED:
		/* Bye, then close: see the WRITEABLE callback. */
		c->want = LG_W_BYE;
		lg_client_want(c, 0);
		break;
	case LG_CONNECTING:
		lg_client_end(c, "run over", true);
		break;
	case LG_WAIT:
		c->state = LG_GONE;
		break;
	default:
		break;
	}
}

void
lg_client_kill(struct lg_client *c)
{
	if (c->state == LG_WAIT)
		c->state = LG_GONE;
	lg_client_end(c, "run over", true);
}

/* ------------------------------------------------------------ sending */

/*
 * The application sends msg[len] on lane: straight out, or into the up
 * queue of lane when the client's up direction is impaired.  Returns 0,
 * or -1 if the connection must close.  A full queue loses the message
 * (counted): a real client whose socket buffer is full skips an input
 * too.
 */
static int
lg_client_send(struct lg_client *c, enum lg_lane lane, const uint8_t *msg,
    size_t len)
{
	if (c->lg->phase == LG_RUN)
		c->bytes_out += len;
	if (!c->imp[LG_UP].on)
		return lg_conn_send(c, lane, msg, len);
	(void)lg_iq_push(&c->iq[LG_UP][lane], gs_now_us(), msg, len);
	return 0;
}

/*
 * Send what the up queues have released, in release order: on QUIC
 * each message on its lane, on WebSocket concatenated into messages of
 * at most LG_TX_MAX bytes (the protocol allows several messages per
 * WebSocket message).  bye: everything queued goes now, then
 * bye[byelen] on the reliable lane: the connection closes, so there is
 * nothing left to pace.
 */
static int
lg_client_drain_up(struct lg_client *c, const uint8_t *bye, size_t byelen)
{
	const struct lg_iq	*q = &c->iq[LG_UP][LG_LANE_RELIABLE];
	const struct lg_iq_ent	*e;
	enum lg_lane		 lane;
	uint8_t			 out[LG_TX_MAX], *buf;
	uint64_t		 now = bye != NULL ? UINT64_MAX :
				    gs_now_us() + LG_IQ_SLACK_US;
	size_t			 n, len;
	int			 rv;

	if (lg_quic(c)) {
		while ((buf = lg_iq_take(c, LG_UP, now, &lane, &len)) !=
		    NULL) {
			rv = lg_conn_send(c, lane, buf, len);
			free(buf);
			if (rv != 0)
				return -1;
		}
	} else {
		do {
			n = 0;
			while ((e = lg_iq_due(q, now)) != NULL &&
			    n + e->len <= LG_TX_MAX) {
				buf = lg_iq_take(c, LG_UP, now, &lane, &len);
				memcpy(out + n, buf, len);
				n += len;
				free(buf);
			}
			if (n > 0 && lg_conn_send(c, LG_LANE_RELIABLE, out,
			    n) != 0)
				return -1;
		} while (n > 0);
	}
	lg_iq_arm(c, LG_UP);
	return bye != NULL ? lg_conn_send(c, LG_LANE_RELIABLE, bye, byelen) :
	    0;
}

/* Where each message of an outgoing batch starts, and its lane. */
struct lg_batch {
	size_t		off[6];
	enum lg_lane	lane[6];
	int		n;
};

static void
lg_batch_add(struct lg_batch *b, const struct gs_wr *wr, enum lg_lane lane)
{
	b->off[b->n] = wr->len;
	b->lane[b->n] = lane;
	b->n++;
}

/*
 * Hand over messages [from, to) of a batch whose bytes are buf: on
 * WebSocket as one message, on QUIC each on its lane.
 */
static int
lg_client_send_batch(struct lg_client *c, const struct lg_batch *b,
    const uint8_t *buf, size_t end, int from, int to)
{
	size_t	s, e;
	int	i;

	if (from >= to)
		return 0;
	if (!lg_quic(c)) {
		e = to < b->n ? b->off[to] : end;
		return lg_client_send(c, LG_LANE_RELIABLE, buf + b->off[from],
		    e - b->off[from]);
	}
	for (i = from; i < to; i++) {
		s = b->off[i];
		e = i + 1 < b->n ? b->off[i + 1] : end;
		if (lg_client_send(c, b->lane[i], buf + s, e - s) != 0)
			return -1;
	}
	return 0;
}

/* Pack everything wanted into one batch and send it. */
static int
lg_client_writable(struct lg_client *c)
{
	struct gs_wr	 wr;
	struct gs_hello	 h;
	struct gs_input	 in[LG_REDUNDANCY];
	struct lg_batch	 b = { .n = 0 };
	uint8_t		 msg[LG_TX_MAX];
	uint64_t	 now = gs_now_us();
	int		 i, n, first, nmsg;
	unsigned	 want = c->want;
	bool		 run = c->lg->phase == LG_RUN;

	c->want = 0;
	gs_wr_init_fixed(&wr, msg, sizeof(msg));
	if (want & LG_W_HELLO) {
		memset(&h, 0, sizeof(h));
		h.version = GS_PROTO_VERSION;
		(void)gs_strlcpy(h.name, c->name, sizeof(h.name));
		(void)gs_strlcpy(h.room, c->room, sizeof(h.room));
		h.token = c->token;	/* NULL: development mode */
		h.tokenlen = c->token != NULL ? strlen(c->token) : 0;
		lg_batch_add(&b, &wr, LG_LANE_RELIABLE);
		gs_hello_put(&wr, &h);
	}
	if ((want & LG_W_INPUT) && c->state == LG_WELCOMED && c->have_game) {
		c->seq++;
		memset(&c->hist[c->seq % LG_REDUNDANCY], 0, sizeof(in[0]));
		c->hist[c->seq % LG_REDUNDANCY].seq = c->seq;
		lg_client_values(c, &c->hist[c->seq % LG_REDUNDANCY]);
		c->sent[c->seq % LG_E2E_RING] = now;
		if (c->nhist < LG_REDUNDANCY)
			c->nhist++;
		/* Oldest first: seq increases along the array. */
		n = c->nhist;
		first = (int)(c->seq - (uint32_t)n + 1);
		for (i = 0; i < n; i++)
			in[i] = c->hist[(uint32_t)(first + i) % LG_REDUNDANCY];
		lg_batch_add(&b, &wr, LG_LANE_UNRELIABLE);
		gs_input_put(&wr, in, n);
		/* The newest snapshot decoded goes with the input. */
		if (c->ack_due) {
			lg_batch_add(&b, &wr, LG_LANE_UNRELIABLE);
			gs_ack_put(&wr, c->ack_tick);
			c->ack_due = false;
		}
	}
	if (want & LG_W_PING) {
		lg_batch_add(&b, &wr, LG_LANE_UNRELIABLE);
		gs_ping_put(&wr, now);
	}
	nmsg = b.n;
	if (want & LG_W_BYE) {
		lg_batch_add(&b, &wr, LG_LANE_RELIABLE);
		gs_bye_put(&wr);
	}
	if (wr.err != GS_OK) {		/* LG_TX_MAX is far above all that */
		gs_log_warnx("client=%s msg=encode err=%s", c->name,
		    gs_err_name(wr.err));
		return -1;
	}
	if (run) {
		c->msgs_out += (uint64_t)nmsg;
		c->lg->msgs_out += (uint64_t)nmsg;
	}
	if (!(want & LG_W_BYE)) {
		if (lg_client_send_batch(c, &b, wr.buf, wr.len, 0, nmsg) != 0)
			return -1;
		if (c->imp[LG_UP].on && lg_client_drain_up(c, NULL, 0) != 0)
			return -1;
		return lg_conn_flush(c);
	}
	/* Bye: the rest goes with it, then the connection closes. */
	if (c->imp[LG_UP].on) {
		(void)lg_client_send_batch(c, &b, wr.buf, wr.len, 0, nmsg);
		if (lg_client_drain_up(c, wr.buf + b.off[nmsg],
		    wr.len - b.off[nmsg]) != 0)
			return -1;
	} else if (lg_client_send_batch(c, &b, wr.buf, wr.len, 0, b.n) != 0)
		return -1;
	/* closed() follows, or the connection has already ended. */
	return lg_conn_close(c);
}

/* ---------------------------------------------------------- receiving */

static void
lg_client_welcome(struct lg_client *c, const struct gs_welcome *w)
{
	struct lg	*lg = c->lg;
	uint64_t	 now = gs_now_us();
	uint32_t	 hz;
	unsigned	 i;

	if (c->state != LG_OPEN) {
		gs_log_debug("client=%s msg=\"welcome again\"", c->name);
		return;
	}
	c->welcome = *w;
	c->state = LG_WELCOMED;
	c->t_welcome = now;
	c->nretry = 0;
	if (lg->phase == LG_RUN) {
		c->welcomed = true;
		c->sessions++;
		if (c->t_first == 0)
			c->t_first = now;
		if (c->loss >= 0) {
			lg->losses[c->loss].t_rec = now;
			lg_lat_add(&lg->rec, now - lg->losses[c->loss].t);
			c->recovered++;
		}
		if (c->rejoin)
			lg->churn_rejoins++;
	}
	c->loss = -1;
	c->rejoin = false;
	hz = w->tick_rate != 0 ? w->tick_rate : 30;
	c->input_period = 1000000 / hz;
	/* Each client sends at its own phase of the tick, as real clients
	 * do; in step with each other they would all meet the sim's tick
	 * at the same point and skew the end-to-end latency. */
	c->next_input = now + (uint64_t)(gs_rand01(&c->rng) *
	    (double)c->input_period);
	/* Pings spread over the second by index, not all at once. */
	c->next_ping = now + (uint64_t)((c->idx * 7919) % 1000) * 1000;
	/* Every session starts its own counts: input sequence, acks,
	 * snapshot ticks, the player's position. */
	c->seq = 0;
	c->nhist = 0;
	c->e2e_next = 1;
	c->last_ack = 0;
	c->have_tick = false;
	c->snap_every = w->snapshot_rate != 0 && w->snapshot_rate < hz ?
	    (double)hz / w->snapshot_rate : 1;
	c->have_pos = c->in_cone = c->in_cone_left = false;
	c->judged = false;
	c->possnaps = 0;
	/* The game message follows the welcome; snapshots of the last
	 * session are no baseline for this one. */
	c->have_game = false;
	for (i = 0; i < LG_SNAPS; i++)
		c->snaps[i].tick = 0;
	c->ack_tick = 0;
	c->ack_due = false;
	lg_tick_rate(lg, hz);
	gs_log_debug("client=%s msg=welcome player=%llu room=%s tick_rate=%u",
	    c->name, (unsigned long long)w->player, w->room, hz);
}

/*
 * The own player's position from a snapshot.  (x0, y0) is the first
 * seen; (x1, y1) follows the player while its displacement from there
 * stays in the cone of the stick (or is still zero), and stays at the
 * last such point once the player leaves the cone after having been
 * in it: a wall stops or deflects a player that runs long enough, and
 * that is the game, not a server that ignores input.  A player that
 * never enters the cone keeps being followed, so the check fails.
 */
static void
lg_client_pos(struct lg_client *c, int32_t x, int32_t y)
{
	bool	in;

	if (!c->have_pos) {
		c->x0 = c->x1 = x;
		c->y0 = c->y1 = y;
		c->have_pos = true;
		return;
	}
	if (c->in_cone_left)
		return;
	in = lg_dir_ok(x - c->x0, y - c->y0, c->mx, c->my);
	if (in || (x == c->x0 && y == c->y0)) {
		c->x1 = x;
		c->y1 = y;
		c->in_cone |= in;
	} else if (c->in_cone)
		c->in_cone_left = true;
	else {
		c->x1 = x;
		c->y1 = y;
	}
}

/* Snapshot gaps: each one counts the snapshots it should have had. */
static void
lg_client_ticks(struct lg_client *c, uint64_t tick)
{
	struct lg	*lg = c->lg;
	long		 k;

	if (!c->have_tick) {
		c->have_tick = true;
		c->last_tick = tick;
		lg->snap_expected++;
		return;
	}
	if (tick <= c->last_tick)
		return;			/* not newer: nothing expected */
	k = lround((double)(tick - c->last_tick) / c->snap_every);
	if (k < 1)
		k = 1;
	lg->snap_expected += (uint64_t)k;
	lg->snap_missed += (uint64_t)k - 1;
	c->last_tick = tick;
}

/* End-to-end: every input up to the ack has now had its effect seen. */
static void
lg_client_acked(struct lg_client *c, uint32_t ack, uint64_t now)
{
	struct lg	*lg = c->lg;
	uint64_t	 us;

	while (c->e2e_next != 0 && c->e2e_next <= ack &&
	    c->e2e_next <= c->seq) {
		if (c->seq - c->e2e_next < LG_E2E_RING) {
			us = now - c->sent[c->e2e_next % LG_E2E_RING];
			lg_lat_add(&lg->e2e, us);
			lg_hist_add(lg->win_e2e, us);
		}
		c->e2e_next++;
	}
}

static struct gs_snap *
lg_client_snap(struct lg_client *c, uint64_t tick)
{
	unsigned	i;

	for (i = 0; i < LG_SNAPS; i++)
		if (c->snaps[i].tick == tick && tick != 0)
			return &c->snaps[i];
	return NULL;
}

/*
 * A snapshot: decoded against the baseline it names into the ring (the
 * slot after the newest, unless that is the baseline), acknowledged
 * with the next input.  One that cannot be decoded (its baseline is
 * not kept, or it is malformed) is counted, and the client acks 0 so
 * that the next one comes whole.
 */
static int
lg_client_snapshot(struct lg_client *c, struct gs_rd *rd, uint32_t nf)
{
	struct lg		*lg = c->lg;
	struct gs_snaphdr	 h;
	struct gs_snap		*base = NULL, *out;
	const struct gs_snap_ent *e;
	const uint8_t		*body;
	size_t			 len;
	unsigned		 slot;
	bool			 seen = false, run = lg->phase == LG_RUN;

	if (gs_snapshot_get(rd, nf, &h, &body, &len) != GS_OK)
		return rd->err;
	if (c->state != LG_WELCOMED)
		return GS_OK;
	if (!c->have_game && lg_quic(c)) {
		/* The game message comes on the stream, the snapshot as a
		 * datagram: it may overtake a game message held back by a
		 * loss.  Not the server's fault; the next one is whole. */
		c->ack_tick = 0;
		c->ack_due = true;
		return GS_OK;
	}
	if (!c->have_game || (h.base != 0 &&
	    (base = lg_client_snap(c, h.base)) == NULL))
		goto undecodable;
	slot = (c->snap_head + 1) % LG_SNAPS;
	if (&c->snaps[slot] == base)
		slot = (slot + 1) % LG_SNAPS;
	out = &c->snaps[slot];
	if (gs_snap_apply(&c->game.schema, base, body, len, out,
	    &lg->snap_scratch) != GS_OK)
		goto undecodable;
	out->tick = h.tick;
	c->snap_head = slot;
	c->ack_tick = h.tick;
	c->ack_due = true;
	if (run && (e = gs_snap_find(out, c->welcome.player)) != NULL) {
		seen = true;
		lg_client_pos(c, (int32_t)lround(gs_snap_unquantize(e->qx,
		    c->game.schema.cell)), (int32_t)lround(
		    gs_snap_unquantize(e->qy, c->game.schema.cell)));
	}
	if (run) {
		c->snapshots++;
		c->last_ack = h.ack;
		if (seen)
			c->possnaps++;
		lg_client_ticks(c, h.tick);
		lg_client_acked(c, h.ack, gs_now_us());
	}
	return GS_OK;

undecodable:
	if (run)
		lg->badmsgs++;
	c->ack_tick = 0;
	c->ack_due = true;
	gs_log_debug("client=%s msg=snapshot tick=%llu base=%llu "
	    "err=undecodable", c->name, (unsigned long long)h.tick,
	    (unsigned long long)h.base);
	return GS_OK;
}

static bool
lg_perr_fatal(uint32_t code)
{
	return code != GS_PERR_BADFRAME && code != GS_PERR_TOOBIG &&
	    code != GS_PERR_PROTOCOL && code != GS_PERR_RATELIMIT;
}

/*
 * One WebSocket message from the server, as the application sees it
 * (after the down queue): one or more protocol messages; or with one,
 * a QUIC stream message or datagram, which holds exactly one (bytes
 * after it are a bad message).  A message that does not decode ends
 * the walk (the rest cannot be framed) and is counted.  Never ends the
 * connection.
 */
static void
lg_client_recv(struct lg_client *c, const uint8_t *buf, size_t len,
    bool one)
{
	struct lg		*lg = c->lg;
	struct gs_rd		 rd = GS_RD_INIT(buf, len);
	struct gs_welcome	 w;
	struct gs_event		 ev;
	struct gs_perror	 pe;
	uint64_t		 t, server_us, now;
	uint32_t		 nf;
	int			 kind, err;
	bool			 run = lg->phase == LG_RUN;

	if (run)
		c->bytes_in += len;
	while (gs_rd_more(&rd)) {
		kind = gs_msg_begin(&rd, &nf);
		if (run) {
			c->msgs_in++;
			lg->msgs_in++;
		}
		switch (kind) {
		case GS_MSG_WELCOME:
			if (gs_welcome_get(&rd, nf, &w) == GS_OK)
				lg_client_welcome(c, &w);
			break;
		case GS_MSG_SNAPSHOT:
			(void)lg_client_snapshot(c, &rd, nf);
			break;
		case GS_MSG_GAME:
			if (gs_gameinfo_get(&rd, nf, &c->game) == GS_OK)
				c->have_game = true;
			break;
		case GS_MSG_PONG:
			if (gs_pong_get(&rd, nf, &t, &server_us) != GS_OK)
				break;
			now = gs_now_us();
			if (run && t != 0 && t <= now) {
				c->pongs++;
				lg_lat_add(&lg->rtt, now - t);
				lg_hist_add(lg->win_rtt, now - t);
			}
			break;
		case GS_MSG_EVENT:
			if (gs_event_get(&rd, nf, &ev) == GS_OK && run)
				c->events++;
			break;
		case GS_MSG_ERROR:
			if (gs_perror_get(&rd, nf, &pe) != GS_OK)
				break;
			if (lg_perr_fatal(pe.code))
				c->perr = pe.code;
			if (run)
				lg->perrs[pe.code < LG_PERR_MAX ? pe.code : 0]++;
			gs_log_debug("client=%s msg=error code=%s text=\"%s\"",
			    c->name, gs_perr_name((int)pe.code), pe.text);
			if (lg_perr_final(pe.code)) {
				char	why[sizeof(c->fail)];

				snprintf(why, sizeof(why), "error %s: %s",
				    gs_perr_name((int)pe.code), pe.text);
				lg_client_fail(c, why);
			}
			break;
		case 0:
			break;		/* rd.err is set */
		default:
			gs_msg_skip(&rd, nf);
			break;
		}
		if (one && rd.err == GS_OK && gs_rd_more(&rd)) {
			rd.err = GS_ETRAIL;
			break;
		}
	}
	if ((err = rd.err) != GS_OK) {
		lg->badmsgs++;
		gs_log_debug("client=%s msg=\"bad server message\" err=%s",
		    c->name, gs_err_name(err));
	}
}

/*
 * A whole WebSocket message, or a QUIC message of lane, arrived from
 * the network: to the application now, or into the lane's down queue.
 * With the reliable queue over the receive window, reading (WebSocket)
 * or granting stream credit (QUIC) stops, so the server sees the back
 * pressure of a slow client.  Datagrams have no flow control: their
 * queue overflows (counted).
 */
static void
lg_client_deliver(struct lg_client *c, enum lg_lane lane,
    const uint8_t *buf, size_t len)
{
	struct lg_iq	*q = &c->iq[LG_DOWN][lane];

	if (!c->imp[LG_DOWN].on) {
		lg_client_recv(c, buf, len, lg_quic(c));
		return;
	}
	(void)lg_iq_push(q, gs_now_us(), buf, len);
	if (lane == LG_LANE_RELIABLE && q->bytes > LG_RWND &&
	    !lg_conn_paused(c))
		lg_conn_pause(c, true);
	lg_iq_arm(c, LG_DOWN);
}

/* ------------------------------------------------ connection callbacks */

static void
lg_ws_open_cb(void *arg)
{
	struct lg_client	*c = arg;

	c->state = LG_OPEN;
	if (c->lg->phase == LG_RUN)
		c->connected = true;
	lg_client_want(c, LG_W_HELLO);
}

/* A whole WebSocket message: a text one is no message of gs-protocol(7)
 * and is counted bad by the decoder. */
static void
lg_ws_message_cb(void *arg, const uint8_t *p, size_t len, bool text)
{
	lg_client_deliver(arg, LG_LANE_RELIABLE, p, len);
}

static void
lg_ws_writable_cb(void *arg)
{
	lg_client_kick(arg);
}

/* A connection that closed after a fatal error is told by the error
 * (gs-protocol(7), Close codes): its close code is in the log only. */
static void
lg_client_closed(struct lg_client *c, const char *why)
{
	char	buf[sizeof(c->fail)];

	if (c->perr != 0) {
		gs_log_debug("client=%s msg=closed why=\"%s\"", c->name, why);
		snprintf(buf, sizeof(buf), "closed after error %s",
		    gs_perr_name((int)c->perr));
		why = buf;
	}
	lg_client_end(c, why, false);
}

static void
lg_ws_closed_cb(void *arg, enum lg_ws_end end, const char *why)
{
	struct lg_client	*c = arg;

	switch (end) {
	case LG_WS_END_CONNECT:
		c->lg->connfail++;
		break;
	case LG_WS_END_PROTO:
	case LG_WS_END_TOOBIG:
		c->lg->badmsgs++;
		break;
	case LG_WS_END_CLOSED:
		lg_client_closed(c, why);
		return;
	}
	lg_client_end(c, why, false);
}

static const struct lg_ws_cb lg_ws_callbacks = {
	.open = lg_ws_open_cb,
	.message = lg_ws_message_cb,
	.writable = lg_ws_writable_cb,
	.closed = lg_ws_closed_cb,
};

/* The QUIC handshake is over: hello goes on the stream. */
static void
lg_quic_open_cb(void *arg)
{
	lg_ws_open_cb(arg);
}

static void
lg_quic_message_cb(void *arg, enum lg_lane lane, const uint8_t *p,
    size_t len)
{
	lg_client_deliver(arg, lane, p, len);
}

/* A stream message the connection skipped; the stream goes on. */
static void
lg_quic_bad_cb(void *arg, const char *why)
{
	struct lg_client	*c = arg;

	c->lg->badmsgs++;
	gs_log_debug("client=%s msg=\"bad server message\" why=\"%s\"",
	    c->name, why);
}

static void
lg_quic_closed_cb(void *arg, enum lg_quic_end end, const char *why)
{
	struct lg_client	*c = arg;

	/* Negotiated: a QUIC handshake that never completed (UDP blocked,
	 * nothing listening, a refused certificate) sends this client to
	 * WebSocket for the rest of the run, at once and not as a loss
	 * (gs-protocol(7), QUIC). */
	if (c->lg->conf.transport == LG_TP_NEGOTIATE && c->lg->offer_ws &&
	    c->state == LG_CONNECTING) {
		c->lg->fallbacks++;
		gs_log_info("client=%s msg=\"falls back to websocket\" "
		    "why=\"%s\"", c->name, why);
		lg_client_end(c, why, false);
		c->tp = LG_TP_WS;
		if (c->state == LG_WAIT)
			c->t_retry = gs_now_us();
		return;
	}
	switch (end) {
	case LG_QUIC_END_CONNECT:
		c->lg->connfail++;
		break;
	case LG_QUIC_END_PROTO:
		c->lg->badmsgs++;
		break;
	case LG_QUIC_END_CLOSED:
		lg_client_closed(c, why);
		return;
	}
	lg_client_end(c, why, false);
}

static const struct lg_quic_cb lg_quic_callbacks = {
	.open = lg_quic_open_cb,
	.message = lg_quic_message_cb,
	.bad = lg_quic_bad_cb,
	.writable = lg_ws_writable_cb,
	.closed = lg_quic_closed_cb,
};
