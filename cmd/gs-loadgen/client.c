/*
 * One headless client: connect, hello, wait for welcome, then input at
 * the room's tick rate and a ping every second, reading whatever the
 * server sends.  All of it runs in lws callbacks and in the tick timer
 * of main.c, on the one loop thread.
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

static int	lg_ws_cb(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len);

const struct lws_protocols lg_protocols[] = {
	{ GS_WS_SUBPROTOCOL, lg_ws_cb, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void
lg_client_fail(struct lg_client *c, const char *why)
{
	if (c->fail[0] == '\0')
		(void)gs_strlcpy(c->fail, why, sizeof(c->fail));
}

void
lg_client_init(struct lg *lg, struct lg_client *c, int idx)
{
	double	a = idx * LG_GOLDEN_ANGLE;

	memset(c, 0, sizeof(*c));
	c->lg = lg;
	c->idx = idx;
	snprintf(c->name, sizeof(c->name), "lg%d", idx);
	if (lg->conf.room != NULL)
		(void)gs_strlcpy(c->room, lg->conf.room, sizeof(c->room));
	else
		snprintf(c->room, sizeof(c->room), "lg-%d",
		    idx / lg->conf.per_room);
	c->mx = (int8_t)lround(GS_AXIS_MAX * cos(a));
	c->my = (int8_t)lround(GS_AXIS_MAX * sin(a));
}

void
lg_client_free(struct lg_client *c)
{
	free(c->rx);
	c->rx = NULL;
}

/* The connection is over; called from whichever callback comes first. */
static void
lg_client_gone(struct lg_client *c, const char *why)
{
	struct lg	*lg = c->lg;

	c->wsi = NULL;
	if (c->state == LG_GONE)
		return;		/* CLIENT_CLOSED, then WSI_DESTROY */
	gs_log_debug("client=%s msg=gone why=\"%s\"", c->name, why);
	/* Closing after the run is the plan; anything else is a failure. */
	if (c->state != LG_WELCOMED || lg->phase == LG_RUN)
		lg_client_fail(c, why);
	c->state = LG_GONE;
	if (c->t_gone == 0)
		c->t_gone = gs_now_us();
	c->rxlen = 0;
	if (c->live) {
		c->live = false;
		lg_gone(lg);
	}
}

void
lg_client_start(struct lg_client *c, uint64_t now)
{
	struct lg			*lg = c->lg;
	struct lws_client_connect_info	 ci;
	struct lws			*wsi;

	memset(&ci, 0, sizeof(ci));
	ci.context = lg->ctx;
	ci.address = lg->conf.host;
	ci.port = lg->conf.port;
	ci.path = lg->conf.path;
	ci.host = lg->conf.hosthdr;
	ci.origin = lg->conf.hosthdr;
	ci.protocol = GS_WS_SUBPROTOCOL;
	ci.opaque_user_data = c;
	ci.pwsi = &c->wsi;

	c->state = LG_CONNECTING;
	c->t_start = now;
	c->live = true;
	lg->nlive++;
	/* May call CLIENT_CONNECTION_ERROR before it returns. */
	wsi = lws_client_connect_via_info(&ci);
	if (wsi == NULL && c->state != LG_GONE) {	/* not counted yet */
		lg->connfail++;
		lg_client_gone(c, "connect failed");
	}
}

static void
lg_client_want(struct lg_client *c, unsigned bits)
{
	c->want |= bits;
	if (c->wsi != NULL && c->state >= LG_OPEN && c->state < LG_GONE)
		lws_callback_on_writable(c->wsi);
}

bool
lg_client_tick(struct lg_client *c, uint64_t now, uint64_t slack)
{
	struct lg	*lg = c->lg;
	unsigned	 bits = 0;

	switch (c->state) {
	case LG_CONNECTING:
	case LG_OPEN:
		if (c->timed_out ||
		    now - c->t_start < (uint64_t)lg->conf.welcome_ms * 1000)
			return false;
		c->timed_out = true;
		lg->timeouts++;
		lg_client_fail(c, "no welcome in time");
		/* Closed asynchronously: CLIENT_CONNECTION_ERROR or
		 * CLIENT_CLOSED follows and calls lg_client_gone(). */
		if (c->wsi != NULL)
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
			    LWS_TO_KILL_ASYNC);
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
		if (c->wsi != NULL)
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
			    LWS_TO_KILL_ASYNC);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------ sending */

/*
 * Send one WebSocket message of buf[len], which sits after LWS_PRE
 * bytes of room in c->tx.  The impairment layer will sit here.
 * Returns 0, or -1 if the connection must close.
 */
static int
lg_client_send(struct lg_client *c, uint8_t *buf, size_t len)
{
	int	n;

	n = lws_write(c->wsi, buf, len, LWS_WRITE_BINARY);
	if (n < 0 || (size_t)n < len) {
		lg_client_fail(c, "write failed");
		return -1;
	}
	if (c->lg->phase == LG_RUN)
		c->bytes_out += len;
	return 0;
}

/* Pack everything wanted into one message and send it. */
static int
lg_client_writable(struct lg_client *c)
{
	struct gs_wr	 wr;
	struct gs_hello	 h;
	struct gs_input	 in[LG_REDUNDANCY];
	int		 i, n, first;
	unsigned	 want = c->want;

	c->want = 0;
	if (want == 0)
		return 0;
	gs_wr_init_fixed(&wr, c->tx + LWS_PRE, LG_TX_MAX);
	if (want & LG_W_HELLO) {
		memset(&h, 0, sizeof(h));
		h.version = GS_PROTO_VERSION;
		(void)gs_strlcpy(h.name, c->name, sizeof(h.name));
		(void)gs_strlcpy(h.room, c->room, sizeof(h.room));
		h.token = NULL;		/* dev mode */
		gs_hello_put(&wr, &h);
	}
	if ((want & LG_W_INPUT) && c->state == LG_WELCOMED) {
		c->seq++;
		c->hist[c->seq % LG_REDUNDANCY] = (struct gs_input){
			.seq = c->seq, .mx = c->mx, .my = c->my, .buttons = 0
		};
		if (c->nhist < LG_REDUNDANCY)
			c->nhist++;
		/* Oldest first: seq increases along the array. */
		n = c->nhist;
		first = (int)(c->seq - (uint32_t)n + 1);
		for (i = 0; i < n; i++)
			in[i] = c->hist[(uint32_t)(first + i) % LG_REDUNDANCY];
		gs_input_put(&wr, in, n);
	}
	if (want & LG_W_PING)
		gs_ping_put(&wr, gs_now_us());
	if (want & LG_W_BYE)
		gs_bye_put(&wr);
	if (wr.err != GS_OK) {		/* LG_TX_MAX is far above all that */
		gs_log_warnx("client=%s msg=encode err=%s", c->name,
		    gs_err_name(wr.err));
		return -1;
	}
	if (wr.len > 0 && lg_client_send(c, wr.buf, wr.len) != 0)
		return -1;
	if (want & LG_W_BYE) {
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_NORMAL,
		    (unsigned char *)"bye", 3);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------- receiving */

static void
lg_client_rtt(struct lg *lg, uint64_t rtt)
{
	uint32_t	*p;
	size_t		 cap;

	if (lg->nrtt == lg->rttcap) {
		if (lg->rttcap == LG_RTT_MAX) {
			lg->rtt_dropped++;
			return;
		}
		cap = lg->rttcap == 0 ? 4096 : lg->rttcap * 2;
		if (cap > LG_RTT_MAX)
			cap = LG_RTT_MAX;
		if ((p = realloc(lg->rtt, cap * sizeof(*p))) == NULL) {
			lg->rtt_dropped++;
			return;
		}
		lg->rtt = p;
		lg->rttcap = cap;
	}
	lg->rtt[lg->nrtt++] = rtt > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt;
}

static void
lg_client_welcome(struct lg_client *c, const struct gs_welcome *w)
{
	struct lg	*lg = c->lg;
	uint64_t	 now = gs_now_us();
	uint32_t	 hz;

	if (c->state != LG_OPEN) {
		gs_log_debug("client=%s msg=\"welcome again\"", c->name);
		return;
	}
	c->welcome = *w;
	c->state = LG_WELCOMED;
	c->t_welcome = now;
	if (lg->phase == LG_RUN)
		c->welcomed = true;
	hz = w->tick_rate != 0 ? w->tick_rate : 30;
	c->input_period = 1000000 / hz;
	c->next_input = now;
	/* Pings spread over the second by index, not all at once. */
	c->next_ping = now + (uint64_t)((c->idx * 7919) % 1000) * 1000;
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

static int
lg_client_snapshot(struct lg_client *c, struct gs_rd *rd, uint32_t nf)
{
	struct gs_snaphdr	h;
	struct gs_entity	e;
	uint32_t		i;
	bool			seen = false;

	if (gs_snaphdr_get(rd, nf, &h) != GS_OK)
		return rd->err;
	for (i = 0; i < h.nent && rd->err == GS_OK; i++) {
		if (gs_entity_get(rd, &e) != GS_OK)
			break;
		if (c->state != LG_WELCOMED || e.id != c->welcome.player ||
		    c->lg->phase != LG_RUN)
			continue;
		seen = true;
		lg_client_pos(c, e.x, e.y);
	}
	if (gs_snapshot_end(rd, nf) != GS_OK)
		return rd->err;
	if (c->lg->phase == LG_RUN) {
		c->snapshots++;
		c->last_ack = h.ack;
		if (seen)
			c->possnaps++;
	}
	return GS_OK;
}

/*
 * One WebSocket message from the server: one or more protocol
 * messages.  A message that does not decode ends the walk (the rest of
 * the frame cannot be framed) and is counted.  The impairment layer
 * will sit here too.
 */
static void
lg_client_recv(struct lg_client *c, const uint8_t *buf, size_t len)
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
		if (run)
			c->msgs_in++;
		switch (kind) {
		case GS_MSG_WELCOME:
			if (gs_welcome_get(&rd, nf, &w) == GS_OK)
				lg_client_welcome(c, &w);
			break;
		case GS_MSG_SNAPSHOT:
			(void)lg_client_snapshot(c, &rd, nf);
			break;
		case GS_MSG_PONG:
			if (gs_pong_get(&rd, nf, &t, &server_us) != GS_OK)
				break;
			now = gs_now_us();
			if (run && t != 0 && t <= now) {
				c->pongs++;
				lg_client_rtt(lg, now - t);
			}
			break;
		case GS_MSG_EVENT:
			if (gs_event_get(&rd, nf, &ev) == GS_OK && run)
				c->events++;
			break;
		case GS_MSG_ERROR:
			if (gs_perror_get(&rd, nf, &pe) != GS_OK)
				break;
			c->perr = pe.code;
			if (run || c->state != LG_WELCOMED)
				lg->perrs[pe.code < LG_PERR_MAX ? pe.code : 0]++;
			if (c->state != LG_WELCOMED) {
				char	why[sizeof(c->fail)];

				snprintf(why, sizeof(why), "error %s: %s",
				    gs_perr_name((int)pe.code), pe.text);
				lg_client_fail(c, why);
			}
			gs_log_debug("client=%s msg=error code=%s text=\"%s\"",
			    c->name, gs_perr_name((int)pe.code), pe.text);
			break;
		case 0:
			break;		/* rd.err is set */
		default:
			gs_msg_skip(&rd, nf);
			break;
		}
	}
	if ((err = rd.err) != GS_OK) {
		lg->badmsgs++;
		gs_log_debug("client=%s msg=\"bad server message\" err=%s",
		    c->name, gs_err_name(err));
	}
}

/* Collect fragments until the message is whole. */
static int
lg_client_rx(struct lg_client *c, struct lws *wsi, const void *in, size_t len)
{
	bool	whole;

	whole = lws_is_final_fragment(wsi) &&
	    lws_remaining_packet_payload(wsi) == 0;
	if (c->rxlen == 0 && whole) {
		lg_client_recv(c, in, len);
		return 0;
	}
	if (c->rx == NULL && (c->rx = malloc(LG_RX_MAX)) == NULL) {
		gs_log_warn("client=%s msg=malloc", c->name);
		return -1;
	}
	if (len > LG_RX_MAX - c->rxlen) {
		c->lg->badmsgs++;
		lg_client_fail(c, "server message over the size limit");
		return -1;
	}
	memcpy(c->rx + c->rxlen, in, len);
	c->rxlen += len;
	if (whole) {
		lg_client_recv(c, c->rx, c->rxlen);
		c->rxlen = 0;
	}
	return 0;
}

static int
lg_ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct lg_client	*c = lws_get_opaque_user_data(wsi);
	char			 why[sizeof(c->fail)];

	if (c == NULL)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->wsi = wsi;
		c->state = LG_OPEN;
		if (c->lg->phase == LG_RUN)
			c->connected = true;
		lg_client_want(c, LG_W_HELLO);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return lg_client_rx(c, wsi, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return lg_client_writable(c);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		c->lg->connfail++;
		snprintf(why, sizeof(why), "connect: %s",
		    in != NULL ? (const char *)in : "failed");
		gs_log_debug("client=%s msg=\"%s\"", c->name, why);
		lg_client_gone(c, why);
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c->perr != 0) {
			snprintf(why, sizeof(why), "closed after error %s",
			    gs_perr_name((int)c->perr));
			lg_client_gone(c, why);
		} else
			lg_client_gone(c, "connection closed");
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		lg_client_gone(c, "connection destroyed");
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}
