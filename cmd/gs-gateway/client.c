/*
 * The client protocol, whatever the transport: decoding what a client
 * sends (lib/proto.h), hello and welcome, per-client send queues and
 * their lanes, deadlines, closing.  Transports reach it through the
 * functions in gateway.h and are reached through struct gw_transport.
 *
 * Batching to clients: frames queued for a client during one loop
 * iteration (from any number of relay records and replies) wait in its
 * queue; the first one asks the transport for a write, which comes in
 * a later iteration and sends everything queued by then as one batch
 * (one WebSocket message of concatenated protocol messages).
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "util.h"

#define GW_HELLO_S	10.	/* seconds to send hello after connecting */

static void	gw_client_detach(struct gw_client *);
static void	flush_prepare_cb(struct ev_loop *, ev_prepare *, int);

const char *
gw_state_name(enum gw_state s)
{
	switch (s) {
	case GW_HELLO:		return "hello";
	case GW_JOINING:	return "joining";
	case GW_PLAYING:	return "playing";
	case GW_CLOSING:	return "closing";
	default:		return "unknown";
	}
}

static void
gw_client_set_state(struct gw_client *c, enum gw_state s)
{
	c->gw->nstate[c->state]--;
	c->state = s;
	c->gw->nstate[s]++;
}

/* ------------------------------------------------------- conn table */

void
gw_clients_init(struct gw *gw)
{
	gw->ctabsz = 256;
	if ((gw->ctab = calloc(gw->ctabsz, sizeof(*gw->ctab))) == NULL)
		gs_fatal(GS_EXIT_SYSTEM, "calloc");
	gw->next_conn = 1;
	gw_qpool_init(&gw->qpool);
	ev_prepare_init(&gw->flush, flush_prepare_cb);
	gw->flush.data = gw;
}

void
gw_clients_free(struct gw *gw)
{
	ev_prepare_stop(gw->loop, &gw->flush);
	free(gw->ctab);
	gw->ctab = NULL;
	gw_qpool_free(&gw->qpool);
}

static size_t
gw_conn_slot(uint64_t conn, size_t sz)
{
	/* conns are sequential: the low bits spread them evenly. */
	return (size_t)(conn & (sz - 1));
}

/* Double the table when it gets crowded.  On malloc failure keep the
 * old one: longer chains, still correct. */
static void
gw_ctab_grow(struct gw *gw)
{
	struct gw_client	**nt, *c, *nx;
	size_t			  nsz = gw->ctabsz * 2, i, j;

	if ((nt = calloc(nsz, sizeof(*nt))) == NULL)
		return;
	for (i = 0; i < gw->ctabsz; i++) {
		for (c = gw->ctab[i]; c != NULL; c = nx) {
			nx = c->hnext;
			j = gw_conn_slot(c->conn, nsz);
			c->hnext = nt[j];
			nt[j] = c;
		}
	}
	free(gw->ctab);
	gw->ctab = nt;
	gw->ctabsz = nsz;
}

struct gw_client *
gw_client_find(struct gw *gw, uint64_t conn)
{
	struct gw_client	*c;

	for (c = gw->ctab[gw_conn_slot(conn, gw->ctabsz)]; c != NULL;
	    c = c->hnext)
		if (c->conn == conn)
			return c;
	return NULL;
}

static void
gw_client_link(struct gw *gw, struct gw_client *c)
{
	size_t	 i;

	if (gw->nclients >= gw->ctabsz)
		gw_ctab_grow(gw);
	i = gw_conn_slot(c->conn, gw->ctabsz);
	c->hnext = gw->ctab[i];
	gw->ctab[i] = c;
	c->prev = NULL;
	c->next = gw->clients;
	if (gw->clients != NULL)
		gw->clients->prev = c;
	gw->clients = c;
	gw->nclients++;
	gw->nstate[c->state]++;
}

static void
gw_client_unlink(struct gw *gw, struct gw_client *c)
{
	struct gw_client	**pp;

	for (pp = &gw->ctab[gw_conn_slot(c->conn, gw->ctabsz)]; *pp != NULL;
	    pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		gw->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	gw->nclients--;
	gw->nstate[c->state]--;
}

/* ------------------------------------------------------- send queue */

/* Something to send: flushed at the end of this loop iteration. */
static void
gw_client_dirty(struct gw_client *c)
{
	struct gw	*gw = c->gw;

	if (c->dirty)
		return;
	c->dirty = true;
	c->dprev = NULL;
	c->dnext = gw->dirty;
	if (gw->dirty != NULL)
		gw->dirty->dprev = c;
	else
		ev_prepare_start(gw->loop, &gw->flush);
	gw->dirty = c;
}

static void
gw_client_clean(struct gw_client *c)
{
	struct gw	*gw = c->gw;

	if (!c->dirty)
		return;
	c->dirty = false;
	if (c->dprev != NULL)
		c->dprev->dnext = c->dnext;
	else
		gw->dirty = c->dnext;
	if (c->dnext != NULL)
		c->dnext->dprev = c->dprev;
	c->dprev = c->dnext = NULL;
}

void
gw_clients_flush(struct gw *gw)
{
	struct gw_client	*c;

	while ((c = gw->dirty) != NULL) {
		gw_client_clean(c);
		/* A closing client closes from the writable callback (a
		 * WebSocket close is a callback's return value). */
		if (c->state != GW_CLOSING && c->t->ready(c->tconn)) {
			if (gw_client_writable(c) != 0)
				c->t->abort(c->tconn);
		} else
			c->t->want_write(c->tconn);
	}
	ev_prepare_stop(gw->loop, &gw->flush);
}

static void
flush_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	gw_clients_flush(w->data);
}

/* gw_queue_drop_fn: a state frame dropped to make room. */
static void
gw_client_drop_full(void *arg, unsigned kind)
{
	struct gw_client	*c = arg;

	c->drops++;
	gs_counter_inc(c->gw->m.state_drops);
	gw_count_drop(c->gw, kind, GW_DROP_FULL);
}

/* gw_queue_drop_fn: a frame still queued when the connection went. */
static void
gw_client_drop_closed(void *arg, unsigned kind)
{
	gw_count_drop(arg, kind, GW_DROP_CLOSED);
}

void
gw_client_send(struct gw_client *c, const void *msg, size_t len,
    enum gw_lane lane)
{
	struct gw	*gw = c->gw;
	unsigned	 kind;

	if (len == 0)
		return;
	kind = gw_msg_kind_of(msg, len);
	if (c->state == GW_CLOSING) {
		gw_count_drop(gw, kind, GW_DROP_GONE);
		return;
	}
	switch (gw_queue_put(&c->q, msg, len, lane, kind, gw_client_drop_full,
	    c)) {
	case GW_Q_OK:
		gw_client_dirty(c);
		break;
	case GW_Q_DROPPED:
		gw_client_drop_full(c, kind);
		break;
	case GW_Q_FULL:
		gs_counter_inc(gw->m.slow_closes);
		if (gs_ratelimit_ok(&gw->rl_peer, 10))
			gs_log_info("client slow, closing conn=%llu peer=%s "
			    "queued=%u bytes=%zu", (unsigned long long)c->conn,
			    c->peer, gw_queue_msgs(&c->q),
			    gw_queue_bytes(&c->q));
		gw_client_close(c, GS_PERR_SLOW, "outbound queue over its "
		    "cap: the connection is too slow");
		break;
	default:
		if (gs_ratelimit_ok(&gw->rl_peer, 10))
			gs_log_warnx("client queue out of memory conn=%llu "
			    "bytes=%zu", (unsigned long long)c->conn, len);
		gw_count_drop(gw, kind, GW_DROP_FULL);
		if (lane == GW_LANE_RELIABLE)
			gw_client_close(c, GS_PERR_INTERNAL, "out of memory");
		break;
	}
}

/* Queue an error message (not closing: see gw_client_close). */
static void
gw_client_send_error(struct gw_client *c, uint32_t code, const char *text)
{
	struct gs_wr	*wr = &c->gw->scratch;

	gs_wr_reset(wr);
	gs_perror_put(wr, code, text);
	if (wr->err == GS_OK)
		gw_client_send(c, wr->buf, wr->len, GW_LANE_RELIABLE);
}

/* Send the queue one message at a time, each on its lane (a transport
 * whose lanes are apart frames or places each itself).  -1 when a
 * send failed. */
static int
gw_client_send_each(struct gw_client *c)
{
	const struct gw_qent	*e;
	uint8_t			*p = gw_queue_data(&c->q);
	unsigned		 i, n = gw_queue_msgs(&c->q);

	for (i = 0; i < n; i++, p += e->len) {
		e = gw_queue_entry(&c->q, i);
		if (c->t->send(c->tconn, e->lane, p, e->len) != 0)
			return -1;
	}
	return 0;
}

/* gw_queue_drop_fn for a queue that has left: count what was sent. */
static void
gw_client_count_sent(void *arg, unsigned kind)
{
	struct gw	*gw = arg;

	gs_counter_inc(gw->m.msgs_out[kind < GW_KINDS ? kind : 0]);
}

/*
 * Everything queued leaves now: as one batch when the transport's
 * lanes share a stream, else one message at a time (no copy either
 * way).  Messages
 * are counted as sent once the transport has taken them.  A closing
 * client is then closed.
 */
int
gw_client_writable(struct gw_client *c)
{
	struct gw	*gw = c->gw;

	gw_client_clean(c);
	if (gw_queue_msgs(&c->q) > 0) {
		if (c->t->one_stream) {
			if (c->t->send(c->tconn, GW_LANE_RELIABLE,
			    gw_queue_data(&c->q), gw_queue_bytes(&c->q)) != 0)
				return -1;	/* closed counts the queue */
		} else if (gw_client_send_each(c) != 0)
			return -1;
		gw_queue_clear(&c->q, gw_client_count_sent, gw);
	}
	if (c->state == GW_CLOSING)
		c->t->close(c->tconn, c->close_why);
	return 0;
}

/* ---------------------------------------------------------- closing */

/* Undo what the client holds in the room and the sim: LEAVE if the sim
 * knows it, room reference, its deadline. */
static void
gw_client_detach(struct gw_client *c)
{
	struct gw	*gw = c->gw;

	ev_timer_stop(gw->loop, &c->timer);
	if (c->room != NULL) {
		if (c->state == GW_PLAYING)
			c->room->sim->nplaying--;
		if (c->joined)
			(void)gw_relay_leave(gw, c->room->sim, c->conn);
		c->room->sim->nclients--;
		gw_room_unref(gw, c->room);
		c->room = NULL;
	}
	c->joined = false;
}

void
gw_client_unjoin(struct gw_client *c)
{
	c->joined = false;
}

static enum gw_close
gw_close_class(uint32_t code)
{
	switch (code) {
	case 0:
		return GW_CLOSE_NORMAL;
	case GS_PERR_SHUTDOWN:
		return GW_CLOSE_AWAY;
	case GS_PERR_INTERNAL:
		return GW_CLOSE_INTERNAL;
	default:
		return GW_CLOSE_POLICY;
	}
}

void
gw_client_close(struct gw_client *c, uint32_t code, const char *text)
{
	struct gw	*gw = c->gw;
	struct gs_wr	*wr = &gw->scratch;

	if (c->state == GW_CLOSING)
		return;
	gw_client_detach(c);
	if (code == GS_PERR_SLOW)	/* make room for the error itself */
		gw_queue_clear(&c->q, gw_client_drop_closed, gw);
	if (code != 0) {
		gs_wr_reset(wr);
		gs_perror_put(wr, code, text);
		/* Over the caps if it must: the error is promised. */
		if (wr->err == GS_OK &&
		    gw_queue_put_last(&c->q, wr->buf, wr->len,
		    gw_msg_kind_index(GS_MSG_ERROR), gw_client_drop_full, c) !=
		    GW_Q_OK && gs_ratelimit_ok(&gw->rl_peer, 10))
			gs_log_warnx("client error lost, out of memory "
			    "conn=%llu", (unsigned long long)c->conn);
	}
	c->close_why = gw_close_class(code);
	gw_client_set_state(c, GW_CLOSING);
	/* A peer that never becomes writable is cut anyway. */
	ev_timer_set(&c->timer, GW_CLOSE_GRACE_S, 0.);
	ev_timer_start(gw->loop, &c->timer);
	gw_client_dirty(c);
	gs_log_debug("client closing conn=%llu code=%s",
	    (unsigned long long)c->conn, code ? gs_perr_name((int)code) :
	    "none");
}

void
gw_client_closed(struct gw_client *c)
{
	struct gw	*gw = c->gw;

	if (c->state != GW_CLOSING)
		gw_client_detach(c);
	ev_timer_stop(gw->loop, &c->timer);
	gs_log_debug("client closed conn=%llu peer=%s state=%s",
	    (unsigned long long)c->conn, c->peer, gw_state_name(c->state));
	gw_client_unlink(gw, c);
	gw_client_clean(c);
	gw_queue_clear(&c->q, gw_client_drop_closed, gw);
	gw_queue_free(&c->q);
	free(c);
	if (gw->draining && !gw->finishing && gw->nclients == 0)
		ev_idle_start(gw->loop, &gw->finish);
}

/* The client's one deadline: hello, join or close grace, by state. */
static void
client_timer_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gw_client	*c = w->data;
	char			 text[GS_TEXT_MAX + 1];

	switch (c->state) {
	case GW_HELLO:
		gs_counter_inc(c->gw->m.hello_timeouts);
		(void)snprintf(text, sizeof(text), "no hello within %g "
		    "seconds", GW_HELLO_S);
		gw_client_close(c, GS_PERR_PROTOCOL, text);
		break;
	case GW_JOINING:
		gs_counter_inc(c->gw->m.join_timeouts);
		if (gs_ratelimit_ok(&c->gw->rl_sim, 10))
			gs_log_warnx("client join timeout conn=%llu room=%s "
			    "sim=%s", (unsigned long long)c->conn,
			    c->room->name, c->room->sim->url);
		(void)snprintf(text, sizeof(text), "no answer from the "
		    "server of room %s", c->room->name);
		gw_client_close(c, GS_PERR_UNAVAILABLE, text);
		break;
	case GW_CLOSING:
		gs_log_debug("client close grace over conn=%llu",
		    (unsigned long long)c->conn);
		c->t->abort(c->tconn);
		break;
	default:
		break;
	}
}

/* A peer's address as a limit key (rooms per address): IPv4 as it is,
 * an IPv4-mapped IPv6 address as IPv4, other IPv6 cut to its /64 (a
 * client usually holds a whole /64). */
static void
gw_addr_key(const char *peer, char *out, size_t cap)
{
	struct in6_addr	a;

	if (strchr(peer, ':') != NULL && inet_pton(AF_INET6, peer, &a) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a)) {
			if (inet_ntop(AF_INET, a.s6_addr + 12, out, cap) !=
			    NULL)
				return;
		} else {
			memset(a.s6_addr + 8, 0, 8);
			if (inet_ntop(AF_INET6, &a, out, cap) != NULL)
				return;
		}
	}
	(void)gs_strlcpy(out, peer, cap);
}

bool
gw_accepting(const struct gw *gw)
{
	return !gw->draining;
}

struct gw_client *
gw_client_new(struct gw *gw, const struct gw_transport *t, void *conn,
    const char *peer)
{
	struct gw_client	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		if (gs_ratelimit_ok(&gw->rl_peer, 10))
			gs_log_warn("client calloc");
		return NULL;
	}
	c->gw = gw;
	c->t = t;
	c->tconn = conn;
	c->conn = gw->next_conn++;
	c->state = GW_HELLO;
	c->since_us = gs_now_us();
	(void)gs_strlcpy(c->peer, peer != NULL ? peer : "?", sizeof(c->peer));
	gw_addr_key(c->peer, c->addr, sizeof(c->addr));
	c->rl_msgs.tokens = gw->conf.msg_burst;
	c->rl_bytes.tokens = gw->conf.byte_burst;
	c->rl_msgs.last = c->rl_bytes.last = ev_now(gw->loop);
	gw_queue_init(&c->q, &gw->qpool, t->headroom, gw->conf.queue_frames,
	    gw->conf.queue_bytes);
	ev_timer_init(&c->timer, client_timer_timeout_cb, GW_HELLO_S, 0.);
	c->timer.data = c;
	ev_timer_start(gw->loop, &c->timer);
	gw_client_link(gw, c);
	gs_counter_inc(gw->m.conns);
	gs_log_debug("client connected conn=%llu peer=%s transport=%s",
	    (unsigned long long)c->conn, c->peer, t->name);
	return c;
}

/* ------------------------------------------------------------ receive */

/*
 * Per-client rate limits (-m, -y), in the protocol, not the transport:
 * every transport's clients get them.  Take cost from b (rate a
 * second, up to burst) at now (ev_now): whether there was enough.  A
 * cost over the burst takes a full bucket, so no message is refused
 * for ever.  rate 0: no limit.
 */
static bool
gw_bucket_take(struct gw_bucket *b, double rate, double burst, double now,
    double cost)
{
	if (rate <= 0)
		return true;
	if (now > b->last) {
		b->tokens += (now - b->last) * rate;
		if (b->tokens > burst)
			b->tokens = burst;
		b->last = now;
	}
	if (cost > burst)
		cost = burst;
	if (b->tokens < cost)
		return false;
	b->tokens -= cost;
	return true;
}

/* A WebSocket message, or its rest, dropped over the client's limits:
 * counted, told (ratelimit, at most every GW_RL_TELL_S), and the
 * GW_RL_STRIKES-th within GW_RL_WINDOW_S closes the client. */
static void
gw_client_limited(struct gw_client *c, bool bytes, double now)
{
	struct gw	*gw = c->gw;
	char		 text[GS_TEXT_MAX + 1];

	gs_counter_inc(bytes ? gw->m.lim_bytes : gw->m.lim_msgs);
	if (now - c->rl_window > GW_RL_WINDOW_S) {
		c->rl_window = now;
		c->rl_strikes = 0;
	}
	if (++c->rl_strikes >= GW_RL_STRIKES) {
		gs_counter_inc(gw->m.lim_closes);
		if (gs_ratelimit_ok(&gw->rl_peer, 10))
			gs_log_info("client over its rate limit, closing "
			    "conn=%llu peer=%s limit=%s",
			    (unsigned long long)c->conn, c->peer,
			    bytes ? "bytes" : "messages");
		gw_client_close(c, GS_PERR_RATELIMIT, "over the rate limit "
		    "again and again");
		return;
	}
	if (now - c->rl_told < GW_RL_TELL_S)
		return;
	c->rl_told = now;
	(void)snprintf(text, sizeof(text), "over %g %s a second: dropped",
	    bytes ? gw->conf.byte_rate : gw->conf.msg_rate,
	    bytes ? "bytes" : "messages");
	gw_client_send_error(c, GS_PERR_RATELIMIT, text);
}

/* A bad message from the client: counted, answered with an error, and
 * after GW_BAD_MAX of them the connection is closed. */
void
gw_client_bad(struct gw_client *c, uint32_t code, const char *text)
{
	struct gw	*gw = c->gw;

	switch (code) {
	case GS_PERR_BADFRAME:
		gs_counter_inc(gw->m.badframe);
		break;
	case GS_PERR_TOOBIG:
		gs_counter_inc(gw->m.toobig);
		break;
	default:
		gs_counter_inc(gw->m.protoerr);
		break;
	}
	if (gs_ratelimit_ok(&gw->rl_peer, 10))
		gs_log_info("client bad message conn=%llu peer=%s code=%s "
		    "text=\"%s\"", (unsigned long long)c->conn, c->peer,
		    gs_perr_name((int)code), text);
	gw_client_send_error(c, code, text);
	if (++c->nbad >= GW_BAD_MAX) {
		gs_counter_inc(gw->m.toomany);
		gw_client_close(c, GS_PERR_TOOMANY, "too many bad messages");
	}
}

static void
gw_client_badf(struct gw_client *c, uint32_t code, const char *what,
    int err)
{
	char	text[GS_TEXT_MAX + 1];

	(void)snprintf(text, sizeof(text), "%s: %s", what, gs_err_name(err));
	gw_client_bad(c, code, text);
}

/* Returns -1 when the rest of the WebSocket message must be ignored. */
static int
gw_client_hello(struct gw_client *c, struct gs_rd *rd, uint32_t nf)
{
	struct gw	*gw = c->gw;
	struct gs_hello	 h;
	struct gs_rd	 vr = *rd;
	struct gw_room	*rm;
	struct gw_sim	*sim;
	char		 text[GS_TEXT_MAX + 1];
	uint64_t	 v;

	if (c->state != GW_HELLO) {
		gs_msg_skip(rd, nf);
		if (rd->err != GS_OK) {
			gw_client_badf(c, GS_PERR_BADFRAME, "hello", rd->err);
			return -1;
		}
		gw_client_bad(c, GS_PERR_PROTOCOL, "hello already received");
		return -1;
	}
	/* The version first: a later version's hello may not parse. */
	if (nf >= 1) {
		v = gs_rd_uint(&vr, UINT64_MAX);
		if (vr.err == GS_OK && v != GS_PROTO_VERSION) {
			(void)snprintf(text, sizeof(text), "protocol version "
			    "%llu is not supported; this server speaks %d",
			    (unsigned long long)v, GS_PROTO_VERSION);
			gw_client_close(c, GS_PERR_VERSION, text);
			return -1;
		}
	}
	memset(&h, 0, sizeof(h));
	if (gs_hello_get(rd, nf, &h) != GS_OK) {
		if (rd->err == GS_ETOOBIG) {
			gw_client_close(c, GS_PERR_BADNAME, "name, room or "
			    "token too long");
			return -1;
		}
		gw_client_badf(c, GS_PERR_BADFRAME, "hello", rd->err);
		return -1;
	}
	/* A token names the player; only development mode takes the
	 * hello's name without one. */
	if (h.token != NULL) {
		struct gw_token	 tok;
		const char	*why;

		if (gw_token_check(gw, h.token, h.tokenlen, &tok, &why) != 0) {
			gw_client_close(c, GS_PERR_NOAUTH, why);
			return -1;
		}
		(void)gs_strlcpy(h.name, tok.name, sizeof(h.name));
		c->account = tok.account;
		c->sid = tok.sid;
		c->iat = tok.iat;
	} else if (!gw->conf.dev) {
		gw_client_close(c, GS_PERR_NOAUTH, "an access token is "
		    "required (POST /v1/auth/guest gives one)");
		return -1;
	}
	if (!gs_name_valid(h.name, GS_NAME_MAX)) {
		gw_client_close(c, GS_PERR_BADNAME, "name must be 1 to 32 "
		    "bytes of A-Z a-z 0-9 _ . -");
		return -1;
	}
	if (!gs_name_valid(h.room, GS_ROOM_MAX)) {
		gw_client_close(c, GS_PERR_BADNAME, "room must be 1 to 64 "
		    "bytes of A-Z a-z 0-9 _ . -");
		return -1;
	}
	if (gw->draining) {
		gw_client_close(c, GS_PERR_SHUTDOWN, "server shutting down");
		return -1;
	}
	sim = gw_route(gw, h.room);
	if ((rm = gw_room_ref(gw, h.room)) == NULL) {
		gw_client_close(c, GS_PERR_INTERNAL, "out of memory");
		return -1;
	}
	if (rm->nclients == 1 && gw_room_claim(gw, rm, c->addr) != 0) {
		gw_room_unref(gw, rm);
		gs_counter_inc(gw->m.room_limited);
		if (gs_ratelimit_ok(&gw->rl_peer, 10))
			gs_log_info("client room refused conn=%llu peer=%s "
			    "room=%s limit=%u", (unsigned long long)c->conn,
			    c->peer, h.room, gw->conf.addr_rooms);
		(void)snprintf(text, sizeof(text), "your address holds %u "
		    "rooms already, the most it may; join a room that "
		    "exists", gw->conf.addr_rooms);
		gw_client_close(c, GS_PERR_ROOMLIMIT, text);
		return -1;
	}
	if (gw_relay_join(gw, sim, c->conn, h.room, h.name, h.watch,
	    c->account) != GS_OK) {
		gw_room_unref(gw, rm);
		gw_client_close(c, GS_PERR_UNAVAILABLE, "the room's server "
		    "is not keeping up; try again later");
		return -1;
	}
	(void)gs_strlcpy(c->name, h.name, sizeof(c->name));
	c->room = rm;
	sim->nclients++;
	c->joined = true;
	c->hello_us = gs_now_us();
	gw_client_set_state(c, GW_JOINING);
	ev_timer_stop(gw->loop, &c->timer);
	ev_timer_set(&c->timer, gw->conf.join_timeout, 0.);
	ev_timer_start(gw->loop, &c->timer);
	gs_log_debug("client hello conn=%llu name=%s room=%s sim=%s",
	    (unsigned long long)c->conn, c->name, rm->name, sim->url);
	return 0;
}

void
gw_client_welcome(struct gw_client *c, const struct gs_relay_rec *r)
{
	struct gw		*gw = c->gw;
	struct gs_welcome	 w;
	struct gs_wr		*wr = &gw->scratch;

	ev_timer_stop(gw->loop, &c->timer);
	memset(&w, 0, sizeof(w));
	w.version = GS_PROTO_VERSION;
	w.player = r->player;
	(void)gs_strlcpy(w.room, c->room->name, sizeof(w.room));
	w.tick_rate = r->tick_rate;
	w.snapshot_rate = r->snapshot_rate;
	w.tick = r->tick;
	w.server_us = gs_wall_us();
	gs_wr_reset(wr);
	gs_welcome_put(wr, &w);
	if (wr->err != GS_OK) {
		gw_client_close(c, GS_PERR_INTERNAL, "cannot encode welcome");
		return;
	}
	gw_client_set_state(c, GW_PLAYING);
	c->in_seq = 0;			/* a session counts from 1 */
	c->room->sim->nplaying++;
	gs_hist_observe(gw->m.join_seconds,
	    (double)(gs_now_us() - c->hello_us) / 1e6);
	gw_client_send(c, wr->buf, wr->len, GW_LANE_RELIABLE);
	gs_log_debug("client playing conn=%llu player=%llu room=%s",
	    (unsigned long long)c->conn, (unsigned long long)r->player,
	    c->room != NULL ? c->room->name : "-");
}

/*
 * The new inputs and the newest ack of one WebSocket message, relayed
 * when the message ends or before anything else happens: a client sends
 * its input and the ack of its newest snapshot together each tick, and
 * they go to the sim as one INPUT_ACK record instead of two.
 */
struct gw_pending {
	struct gs_input	 in[GS_INPUTS_MAX];
	int		 n;
	uint64_t	 ack;
	bool		 have_ack;
};

/* Repeats carry inputs over a lossy path to here; the sim gets each
 * input once.  A record the outbox refuses is not counted as
 * forwarded, so its repeat in the next message may still go. */
static void
gw_client_flush(struct gw_client *c, struct gw_pending *p)
{
	struct gw	*gw = c->gw;
	int		 i;

	for (i = 0; i < p->n; i++) {
		if (i == p->n - 1 && p->have_ack) {
			if (gw_relay_input_ack(gw, c->room->sim, c->conn,
			    &p->in[i], p->ack) != GS_OK)
				break;
			p->have_ack = false;
		} else if (gw_relay_input(gw, c->room->sim, c->conn,
		    &p->in[i]) != GS_OK)
			break;
		c->in_seq = p->in[i].seq;
	}
	/* The sim judges acks; a full batch drops one, and the next one
	 * replaces it. */
	if (p->have_ack)
		(void)gw_relay_ack(gw, c->room->sim, c->conn, p->ack);
	p->n = 0;
	p->have_ack = false;
}

void
gw_client_recv(struct gw_client *c, const uint8_t *buf, size_t len)
{
	struct gw		*gw = c->gw;
	struct gs_rd		 rd;
	struct gs_input		 in[GS_INPUTS_MAX];
	struct gw_pending	 pend;
	struct gs_wr		*wr = &gw->scratch;
	uint64_t		 t;
	double			 x, y, now;
	uint32_t		 nf;
	int			 kind, n, i;

	gs_rd_init(&rd, buf, len);
	if (len == 0) {
		gw_client_bad(c, GS_PERR_BADFRAME, "empty message");
		return;
	}
	now = ev_now(gw->loop);
	if (!gw_bucket_take(&c->rl_bytes, gw->conf.byte_rate,
	    gw->conf.byte_burst, now, (double)len)) {
		gw_client_limited(c, true, now);
		return;
	}
	pend.n = 0;
	pend.have_ack = false;
	/* One error answers the whole WebSocket message (gs-protocol(7)):
	 * after it the rest is discarded.  A decoding error leaves the
	 * reader inside a message anyway.  The inputs and the ack before
	 * it are relayed first: whatever comes next may end the
	 * client's stay. */
	while (gs_rd_more(&rd) && c->state != GW_CLOSING) {
		if (!gw_bucket_take(&c->rl_msgs, gw->conf.msg_rate,
		    gw->conf.msg_burst, now, 1.)) {
			if (pend.n > 0 || pend.have_ack)
				gw_client_flush(c, &pend);
			gw_client_limited(c, false, now);
			return;
		}
		kind = gs_msg_begin(&rd, &nf);
		if (kind != GS_MSG_INPUT && kind != GS_MSG_ACK &&
		    (pend.n > 0 || pend.have_ack))
			gw_client_flush(c, &pend);
		if (kind == 0) {
			gw_client_badf(c, GS_PERR_BADFRAME, "message", rd.err);
			return;
		}
		gs_counter_inc(gw->m.msgs_in[gw_msg_kind_index(kind)]);
		switch (kind) {
		case GS_MSG_HELLO:
			if (gw_client_hello(c, &rd, nf) != 0)
				return;
			break;
		case GS_MSG_INPUT:
			n = gs_input_get(&rd, nf, in);
			if (rd.err != GS_OK || c->state != GW_PLAYING)
				gw_client_flush(c, &pend);
			if (rd.err != GS_OK) {
				gw_client_badf(c, GS_PERR_BADFRAME, "input",
				    rd.err);
				return;
			}
			if (c->state != GW_PLAYING) {
				gw_client_bad(c, GS_PERR_PROTOCOL,
				    "input before welcome");
				return;
			}
			for (i = 0; i < n; i++) {
				if (in[i].seq <= c->in_seq || (pend.n > 0 &&
				    in[i].seq <= pend.in[pend.n - 1].seq)) {
					gs_counter_inc(gw->m.inputs_skipped);
					continue;
				}
				if (pend.n == GS_INPUTS_MAX)
					gw_client_flush(c, &pend);
				pend.in[pend.n++] = in[i];
			}
			break;
		case GS_MSG_ACK:
		case GS_MSG_LOOK:
			if ((kind == GS_MSG_ACK ? gs_ack_get(&rd, nf, &t) :
			    gs_look_get(&rd, nf, &x, &y)) != GS_OK ||
			    c->state != GW_PLAYING)
				gw_client_flush(c, &pend);
			if (rd.err != GS_OK) {
				gw_client_badf(c, GS_PERR_BADFRAME,
				    gs_msg_name(kind), rd.err);
				return;
			}
			if (c->state != GW_PLAYING) {
				gw_client_bad(c, GS_PERR_PROTOCOL, kind ==
				    GS_MSG_ACK ? "ack before welcome" :
				    "look before welcome");
				return;
			}
			if (kind == GS_MSG_ACK) {
				pend.ack = t;
				pend.have_ack = true;
			} else
				(void)gw_relay_look(gw, c->room->sim, c->conn,
				    x, y);
			break;
		case GS_MSG_PING:
			if (gs_ping_get(&rd, nf, &t) != GS_OK) {
				gw_client_badf(c, GS_PERR_BADFRAME, "ping",
				    rd.err);
				return;
			}
			if (c->state == GW_HELLO) {	/* after hello: ok */
				gw_client_bad(c, GS_PERR_PROTOCOL,
				    "ping before hello");
				return;
			}
			gs_wr_reset(wr);
			gs_pong_put(wr, t, gs_wall_us());
			/* A pong is as droppable as a snapshot: the next
			 * ping measures again. */
			if (wr->err == GS_OK)
				gw_client_send(c, wr->buf, wr->len, GW_LANE_STATE);
			break;
		case GS_MSG_BYE:
			if (gs_bye_get(&rd, nf) != GS_OK) {
				gw_client_badf(c, GS_PERR_BADFRAME, "bye",
				    rd.err);
				return;
			}
			gw_client_close(c, 0, NULL);
			return;
		default:
			gs_msg_skip(&rd, nf);
			if (rd.err != GS_OK) {
				gw_client_badf(c, GS_PERR_BADFRAME, "message",
				    rd.err);
				return;
			}
			if (kind == GS_MSG_WELCOME || kind == GS_MSG_SNAPSHOT ||
			    kind == GS_MSG_PONG || kind == GS_MSG_EVENT ||
			    kind == GS_MSG_ERROR || kind == GS_MSG_GAME)
				gw_client_bad(c, GS_PERR_PROTOCOL,
				    "server message kind sent to the server");
			else
				gw_client_bad(c, GS_PERR_BADFRAME,
				    "unknown message kind");
			return;
		}
	}
	if (pend.n > 0 || pend.have_ack)
		gw_client_flush(c, &pend);
}
