/*
 * WebSocket clients: assembling messages, decoding the client protocol
 * (lib/proto.h), per-client send queues, closing.
 *
 * Batching to clients: frames queued for a client during one loop
 * iteration (from any number of relay records and replies) wait in its
 * queue; the first one asks lws for a writeable callback, which comes
 * in a later iteration and sends everything queued by then as ONE
 * WebSocket binary message of concatenated protocol messages.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "util.h"

#define GW_HELLO_S	10.	/* seconds to send hello after connecting */

static void	gw_client_dispatch(struct gw_client *, const uint8_t *, size_t);
static void	gw_client_detach(struct gw_client *);

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
}

void
gw_clients_free(struct gw *gw)
{
	free(gw->ctab);
	gw->ctab = NULL;
	free(gw->tx);
	gw->tx = NULL;
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

static void
gw_client_want_write(struct gw_client *c)
{
	if (c->want_write || c->wsi == NULL)
		return;
	if (lws_callback_on_writable(c->wsi) < 0) {
		/* lws is tearing the connection down; CLOSED follows. */
		return;
	}
	c->want_write = true;
}

/* Append a copy of msg without looking at the caps.  -1 on malloc
 * failure (logged). */
static int
gw_queue_push(struct gw_client *c, const void *msg, size_t len,
    bool reliable)
{
	struct gw_frame	*f;

	if (len == 0 || len > UINT32_MAX)
		return -1;
	if ((f = malloc(sizeof(*f) + len)) == NULL) {
		gs_log_warn("client conn=%llu: malloc bytes=%zu",
		    (unsigned long long)c->conn, len);
		return -1;
	}
	f->next = NULL;
	f->len = (uint32_t)len;
	f->reliable = reliable;
	f->kind = (uint8_t)gw_msg_kind_of(msg, len);
	memcpy(f->data, msg, len);
	if (c->qtail != NULL)
		c->qtail->next = f;
	else
		c->qhead = f;
	c->qtail = f;
	c->qn++;
	c->qbytes += len;
	gw_client_want_write(c);
	return 0;
}

/* Drop the oldest queued state frame.  Returns 0 if there was none. */
static int
gw_queue_drop_state(struct gw_client *c)
{
	struct gw_frame	*f, *prev = NULL;

	for (f = c->qhead; f != NULL; prev = f, f = f->next)
		if (!f->reliable)
			break;
	if (f == NULL)
		return 0;
	if (prev != NULL)
		prev->next = f->next;
	else
		c->qhead = f->next;
	if (c->qtail == f)
		c->qtail = prev;
	c->qn--;
	c->qbytes -= f->len;
	c->drops++;
	gs_counter_inc(c->gw->m.state_drops);
	gw_count_drop(c->gw, f->kind, GW_DROP_FULL);
	free(f);
	return 1;
}

/* Forget the queue; what was in it is counted as dropped with the
 * connection (it never reaches the client). */
static void
gw_queue_free(struct gw_client *c)
{
	struct gw_frame	*f, *nx;

	for (f = c->qhead; f != NULL; f = nx) {
		nx = f->next;
		gw_count_drop(c->gw, f->kind, GW_DROP_CLOSED);
		free(f);
	}
	c->qhead = c->qtail = NULL;
	c->qn = 0;
	c->qbytes = 0;
}

void
gw_client_send(struct gw_client *c, const void *msg, size_t len,
    bool reliable)
{
	struct gw	*gw = c->gw;

	if (len == 0)
		return;
	if (c->state == GW_CLOSING) {
		gw_count_drop(gw, gw_msg_kind_of(msg, len), GW_DROP_GONE);
		return;
	}
	/* Make room by dropping the oldest state frames: a newer snapshot
	 * supersedes them, and reliable frames may evict them too. */
	while (c->qn + 1 > gw->conf.queue_frames ||
	    c->qbytes + len > gw->conf.queue_bytes)
		if (!gw_queue_drop_state(c))
			break;
	if (c->qn + 1 > gw->conf.queue_frames ||
	    c->qbytes + len > gw->conf.queue_bytes) {
		if (!reliable) {
			c->drops++;
			gs_counter_inc(gw->m.state_drops);
			gw_count_drop(gw, gw_msg_kind_of(msg, len),
			    GW_DROP_FULL);
			return;
		}
		gs_counter_inc(gw->m.slow_closes);
		if (gs_ratelimit_ok(&gw->rl_peer, 10))
			gs_log_info("client conn=%llu peer=%s: slow, closing "
			    "queued=%u bytes=%zu",
			    (unsigned long long)c->conn, c->peer, c->qn,
			    c->qbytes);
		gw_client_close(c, GS_PERR_SLOW, "outbound queue over its "
		    "cap: the connection is too slow");
		return;
	}
	if (gw_queue_push(c, msg, len, reliable) != 0) {
		gw_count_drop(gw, gw_msg_kind_of(msg, len), GW_DROP_FULL);
		if (reliable)
			gw_client_close(c, GS_PERR_INTERNAL, "out of memory");
	}
}

/* Pack one message with fn into the scratch writer and queue it. */
static void
gw_client_send_error(struct gw_client *c, uint32_t code, const char *text)
{
	struct gs_wr	*wr = &c->gw->scratch;

	gs_wr_reset(wr);
	gs_perror_put(wr, code, text);
	if (wr->err == GS_OK)
		gw_client_send(c, wr->buf, wr->len, true);
}

/* Everything queued leaves as one WebSocket message.  Messages are
 * counted as sent only once lws has taken them. */
static int
gw_client_write(struct gw_client *c)
{
	struct gw	*gw = c->gw;
	struct gw_frame	*f;
	uint8_t		*p, *ntx;
	size_t		 need, len = c->qbytes;
	int		 n;

	c->want_write = false;
	/* Once lws runs the close handshake, a stray writeable callback
	 * must not return -1 again: that would cut the connection before
	 * the peer's close (RST, and the peer may lose our last frames). */
	if (c->close_started)
		return 0;
	if (len > 0) {
		need = LWS_PRE + len;
		if (need > gw->txcap) {
			if ((ntx = realloc(gw->tx, need)) == NULL) {
				gs_log_warn("client conn=%llu: realloc bytes=%zu",
				    (unsigned long long)c->conn, need);
				return -1;	/* CLOSED counts the queue */
			}
			gw->tx = ntx;
			gw->txcap = need;
		}
		p = gw->tx + LWS_PRE;
		for (f = c->qhead; f != NULL; f = f->next) {
			memcpy(p, f->data, f->len);
			p += f->len;
		}
		/* lws keeps what the socket does not take now and holds
		 * back the next writeable callback until it has gone. */
		n = lws_write(c->wsi, gw->tx + LWS_PRE, len, LWS_WRITE_BINARY);
		if (n < 0)
			return -1;	/* CLOSED counts the queue */
		while ((f = c->qhead) != NULL) {
			c->qhead = f->next;
			gs_counter_inc(gw->m.msgs_out[f->kind]);
			free(f);
		}
		c->qtail = NULL;
		c->qn = 0;
		c->qbytes = 0;
		gs_counter_inc(gw->m.ws_out);
		gs_counter_add(gw->m.bytes_out, len);
	}
	if (c->state == GW_CLOSING) {
		lws_close_reason(c->wsi, (enum lws_close_status)c->close_status,
		    NULL, 0);
		c->close_started = true;
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------- closing */

/* Undo what the client holds in the room and the sim: LEAVE if the sim
 * knows it, room reference, join timer. */
static void
gw_client_detach(struct gw_client *c)
{
	struct gw	*gw = c->gw;

	ev_timer_stop(gw->loop, &c->join_timer);
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

void
gw_client_close(struct gw_client *c, uint32_t code, const char *text)
{
	if (c->state == GW_CLOSING)
		return;
	gw_client_detach(c);
	if (code == GS_PERR_SLOW)	/* make room for the error itself */
		gw_queue_free(c);
	if (code != 0) {
		struct gs_wr	*wr = &c->gw->scratch;

		gs_wr_reset(wr);
		gs_perror_put(wr, code, text);
		if (wr->err == GS_OK)
			(void)gw_queue_push(c, wr->buf, wr->len, true);
	}
	switch (code) {
	case 0:
		c->close_status = LWS_CLOSE_STATUS_NORMAL;
		break;
	case GS_PERR_SHUTDOWN:
		c->close_status = LWS_CLOSE_STATUS_GOINGAWAY;
		break;
	case GS_PERR_INTERNAL:
		c->close_status = LWS_CLOSE_STATUS_UNEXPECTED_CONDITION;
		break;
	default:
		c->close_status = LWS_CLOSE_STATUS_POLICY_VIOLATION;
		break;
	}
	gw_client_set_state(c, GW_CLOSING);
	if (c->wsi != NULL) {
		/* A peer that never becomes writeable is cut anyway. */
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND,
		    GW_CLOSE_GRACE_S);
		c->want_write = false;	/* ask again even if asked before */
		gw_client_want_write(c);
	}
	gs_log_debug("client conn=%llu: closing code=%s",
	    (unsigned long long)c->conn, code ? gs_perr_name((int)code) :
	    "none");
}

/* LWS_CALLBACK_CLOSED: lws is done with the wsi; free the client. */
static void
gw_client_closed(struct gw_client *c)
{
	struct gw	*gw = c->gw;

	if (c->state != GW_CLOSING)
		gw_client_detach(c);
	gs_log_debug("client conn=%llu peer=%s: closed state=%s",
	    (unsigned long long)c->conn, c->peer, gw_state_name(c->state));
	gw_client_unlink(gw, c);
	gw_queue_free(c);
	free(c->rx);
	free(c);
	if (gw->draining && !gw->finishing && gw->nclients == 0)
		ev_idle_start(gw->loop, &gw->finish);
}

static void
join_timer_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gw_client	*c = w->data;
	char			 text[GS_TEXT_MAX + 1];

	if (c->state == GW_HELLO) {
		gw_client_close(c, GS_PERR_PROTOCOL, "no hello in time");
		return;
	}
	if (c->state != GW_JOINING)
		return;
	gs_counter_inc(c->gw->m.join_timeouts);
	if (gs_ratelimit_ok(&c->gw->rl_sim, 10))
		gs_log_warnx("client conn=%llu: join timeout room=%s sim=%s",
		    (unsigned long long)c->conn, c->room->name,
		    c->room->sim->url);
	(void)snprintf(text, sizeof(text), "no answer from the server of "
	    "room %s", c->room->name);
	gw_client_close(c, GS_PERR_UNAVAILABLE, text);
}

static struct gw_client *
gw_client_new(struct gw *gw, struct lws *wsi)
{
	struct gw_client	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		gs_log_warn("client: calloc");
		return NULL;
	}
	c->gw = gw;
	c->wsi = wsi;
	c->conn = gw->next_conn++;
	c->state = GW_HELLO;
	c->since_us = gs_now_us();
	if (lws_get_peer_simple(wsi, c->peer, sizeof(c->peer)) == NULL)
		(void)gs_strlcpy(c->peer, "?", sizeof(c->peer));
	ev_timer_init(&c->join_timer, join_timer_timeout_cb, GW_HELLO_S, 0.);
	c->join_timer.data = c;
	ev_timer_start(gw->loop, &c->join_timer);
	gw_client_link(gw, c);
	gs_counter_inc(gw->m.conns);
	gs_log_debug("client conn=%llu peer=%s: connected",
	    (unsigned long long)c->conn, c->peer);
	return c;
}

/* ------------------------------------------------------------ receive */

/* A bad message from the client: counted, answered with an error, and
 * after GW_BAD_MAX of them the connection is closed. */
static void
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
		gs_log_info("client conn=%llu peer=%s: bad message code=%s "
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
	if (!gw->conf.dev) {
		gw_client_close(c, GS_PERR_NOAUTH, h.token == NULL ?
		    "a token is required, and accounts are not available "
		    "yet; gs-gateway -D (development mode) accepts a name "
		    "without one" :
		    "tokens cannot be verified yet (no accounts); "
		    "gs-gateway -D (development mode) accepts a name "
		    "without one");
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
	if (gw_relay_join(gw, sim, c->conn, h.room, h.name) != GS_OK) {
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
	ev_timer_stop(gw->loop, &c->join_timer);
	ev_timer_set(&c->join_timer, gw->conf.join_timeout, 0.);
	ev_timer_start(gw->loop, &c->join_timer);
	gs_log_debug("client conn=%llu: hello name=%s room=%s sim=%s",
	    (unsigned long long)c->conn, c->name, rm->name, sim->url);
	return 0;
}

void
gw_client_welcome(struct gw_client *c, const struct gs_relay_rec *r)
{
	struct gw		*gw = c->gw;
	struct gs_welcome	 w;
	struct gs_wr		*wr = &gw->scratch;

	ev_timer_stop(gw->loop, &c->join_timer);
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
	c->room->sim->nplaying++;
	gs_hist_observe(gw->m.join_seconds,
	    (double)(gs_now_us() - c->hello_us) / 1e6);
	gw_client_send(c, wr->buf, wr->len, true);
	gs_log_debug("client conn=%llu: playing player=%llu room=%s",
	    (unsigned long long)c->conn, (unsigned long long)r->player,
	    c->room != NULL ? c->room->name : "-");
}

static void
gw_client_dispatch(struct gw_client *c, const uint8_t *buf, size_t len)
{
	struct gw		*gw = c->gw;
	struct gs_rd		 rd;
	struct gs_input		 in[GS_INPUTS_MAX];
	struct gs_wr		*wr = &gw->scratch;
	uint64_t		 t;
	uint32_t		 nf;
	int			 kind, n, i;

	gs_rd_init(&rd, buf, len);
	if (len == 0) {
		gw_client_bad(c, GS_PERR_BADFRAME, "empty message");
		return;
	}
	/* One error answers the whole WebSocket message (gs-protocol(7)):
	 * after it the rest is discarded.  A decoding error leaves the
	 * reader inside a message anyway. */
	while (gs_rd_more(&rd) && c->state != GW_CLOSING) {
		kind = gs_msg_begin(&rd, &nf);
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
			for (i = 0; i < n; i++)
				if (gw_relay_input(gw, c->room->sim, c->conn,
				    &in[i]) != GS_OK)
					break;
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
				gw_client_send(c, wr->buf, wr->len, false);
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
			    kind == GS_MSG_ERROR)
				gw_client_bad(c, GS_PERR_PROTOCOL,
				    "server message kind sent to the server");
			else
				gw_client_bad(c, GS_PERR_BADFRAME,
				    "unknown message kind");
			return;
		}
	}
}

/* One chunk of a WebSocket message; dispatch when it is complete. */
static void
gw_client_rx(struct gw_client *c, const uint8_t *in, size_t len)
{
	struct gw	*gw = c->gw;
	char		 text[GS_TEXT_MAX + 1];
	struct lws	*wsi = c->wsi;

	gs_counter_add(gw->m.bytes_in, len);
	if (lws_is_first_fragment(wsi)) {
		c->rxlen = 0;
		c->rxskip = lws_frame_is_binary(wsi) ? GW_RX_OK : GW_RX_TEXT;
	}
	if (c->rxskip == GW_RX_OK && len > 0) {
		if (len > gw->conf.frame_max - c->rxlen)
			c->rxskip = GW_RX_TOOBIG;
		else if (c->rx == NULL &&
		    (c->rx = malloc(gw->conf.frame_max)) == NULL) {
			gs_log_warn("client conn=%llu: malloc",
			    (unsigned long long)c->conn);
			c->rxskip = GW_RX_TOOBIG;
		} else {
			memcpy(c->rx + c->rxlen, in, len);
			c->rxlen += len;
		}
	}
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return;

	gs_counter_inc(gw->m.ws_in);
	if (c->state == GW_CLOSING)
		;	/* no longer listening */
	else if (c->rxskip == GW_RX_TOOBIG) {
		(void)snprintf(text, sizeof(text), "message over %zu bytes",
		    gw->conf.frame_max);
		gw_client_bad(c, GS_PERR_TOOBIG, text);
	} else if (c->rxskip == GW_RX_TEXT)
		gw_client_bad(c, GS_PERR_BADFRAME, "text message: the "
		    "protocol uses binary messages");
	else
		gw_client_dispatch(c, c->rx, c->rxlen);
	c->rxlen = 0;
	c->rxskip = GW_RX_OK;
}

/* ------------------------------------------------------ lws callback */

int
gw_ws_cb(void *arg, struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	struct gw	*gw = arg;
	struct gw_pss	*pss = user;
	struct gw_client *c = pss != NULL ? pss->c : NULL;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* Refuse new connections while draining. */
		return gw->draining ? 1 : 0;
	case LWS_CALLBACK_ESTABLISHED:
		if (pss == NULL || (pss->c = gw_client_new(gw, wsi)) == NULL)
			return -1;
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (c == NULL)
			return -1;
		gw_client_rx(c, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (c == NULL)
			return -1;
		return gw_client_write(c);
	case LWS_CALLBACK_CLOSED:
		if (c != NULL) {
			c->wsi = NULL;
			pss->c = NULL;
			gw_client_closed(c);
		}
		return 0;
	default:
		return 0;
	}
}
