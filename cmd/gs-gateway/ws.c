/*
 * The WebSocket transport: libwebsockets, through lib/http.c, whose
 * WebSocket callbacks land in gw_ws_cb().  Both lanes share the one
 * connection, so a client's whole queue leaves as one binary message.
 *
 * Receive: a client's WebSocket message that lws delivers in one piece
 * (the usual case: lws's buffer, GW_WS_RX_CHUNK, holds a client's
 * inputs and pings) is handed to client.c where it lies.  A larger one
 * is assembled from its pieces into a buffer of frame_max bytes,
 * allocated for it and freed after it, so an idle client holds none.
 * A message over frame_max, or a text message, is skipped to its end
 * and answered as a bad message.
 *
 * Send: straight from client.c's flush when lws holds nothing back,
 * else from the writeable callback (see gateway.h, Writing).
 *
 * Close: client.c's close() only notes the class; the writeable
 * callback that called gw_client_writable() then writes the close
 * frame with its code itself, once lws holds nothing back, and the
 * connection stays until the peer answers with its own close frame
 * (then WS_PEER_INITIATED_CLOSE returns -1 and lws closes at once) or
 * closes TCP; client.c aborts it GW_CLOSE_GRACE_S later otherwise.
 * lws's own close handshake (lws_close_reason() and a -1) would put
 * two timeouts a connection in lws 4.1's sorted timer list, each
 * insertion a walk past every earlier one: 10,000 clients closed
 * together (hello deadlines, a sim lost) cost seconds of the loop.
 * abort() shuts the socket down (SO_LINGER 0: an RST at close); lws
 * reads the end on its next pass and closes, never synchronously (the
 * client must outlive the call), and without a timer either.
 */
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "util.h"

enum { WS_RX_OK, WS_RX_TOOBIG, WS_RX_TEXT };

static enum lws_close_status ws_close_status(enum gw_close);

static bool
ws_ready(void *conn)
{
	struct gw_pss	*p = conn;

	/* What lws holds of an earlier write must go first. */
	return !lws_partial_buffered(p->wsi);
}

static void
ws_want_write(void *conn)
{
	struct gw_pss	*p = conn;

	/* < 0: lws is tearing the connection down; CLOSED follows. */
	(void)lws_callback_on_writable(p->wsi);
}

static int
ws_send(void *conn, enum gw_lane lane, uint8_t *buf, size_t len)
{
	struct gw_pss	*p = conn;
	struct gw	*gw = p->c->gw;

	/* buf has LWS_PRE bytes before it (the transport's headroom).
	 * Called from the flush at the end of a loop iteration, outside
	 * any lws callback, when nothing is held back (ws_ready), or from
	 * the writeable callback.  lws keeps what the socket does not take
	 * now, asks for writeable itself, and ws_ready() is false until
	 * it has gone. */
	if (lws_write(p->wsi, buf, len, LWS_WRITE_BINARY) < 0)
		return -1;
	if (lws_partial_buffered(p->wsi))
		gs_counter_inc(gw->m.write_waits);
	gs_counter_inc(gw->m.ws_out);
	gs_counter_add(gw->m.bytes_out, len);
	return 0;
}

static void
ws_close(void *conn, enum gw_close why)
{
	struct gw_pss	*p = conn;

	p->close_pending = true;
	p->close_why = why;
}

static void
ws_abort(void *conn)
{
	struct gw_pss	*p = conn;
	struct linger	 lg = { 1, 0 };
	int		 fd = lws_get_socket_fd(p->wsi);

	if (fd >= 0) {
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		if (shutdown(fd, SHUT_RDWR) == 0)
			return;
	}
	lws_set_timeout(p->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

/* Our close frame, once lws holds nothing back.  0, or -1 when the
 * write failed (close now). */
static int
ws_close_frame(struct gw_pss *p)
{
	uint8_t			 buf[LWS_PRE + 4];
	enum lws_close_status	 st = ws_close_status(p->close_why);

	if (lws_partial_buffered(p->wsi)) {
		(void)lws_callback_on_writable(p->wsi);
		return 0;
	}
	/* The whole frame by hand (RFC 6455 5.5.1: FIN and opcode 8, an
	 * unmasked 2-byte payload, the code): lws 4.1's public API writes
	 * close frames only through lws_close_reason() and its handshake. */
	buf[LWS_PRE] = 0x88;
	buf[LWS_PRE + 1] = 2;
	buf[LWS_PRE + 2] = (uint8_t)((unsigned)st >> 8);
	buf[LWS_PRE + 3] = (uint8_t)st;
	if (lws_write(p->wsi, buf + LWS_PRE, 4, LWS_WRITE_RAW) < 0)
		return -1;
	p->close_started = true;
	return 0;
}

static const struct gw_transport gw_ws_transport = {
	.name = "ws",
	.one_stream = true,
	.headroom = LWS_PRE,
	.ready = ws_ready,
	.want_write = ws_want_write,
	.send = ws_send,
	.close = ws_close,
	.abort = ws_abort,
};

/* gs-protocol(7), Close codes. */
static enum lws_close_status
ws_close_status(enum gw_close why)
{
	switch (why) {
	case GW_CLOSE_NORMAL:
		return LWS_CLOSE_STATUS_NORMAL;
	case GW_CLOSE_AWAY:
		return LWS_CLOSE_STATUS_GOINGAWAY;
	case GW_CLOSE_INTERNAL:
		return LWS_CLOSE_STATUS_UNEXPECTED_CONDITION;
	case GW_CLOSE_POLICY:
	default:
		return LWS_CLOSE_STATUS_POLICY_VIOLATION;
	}
}

/* A bounded kernel send buffer: the memory a client that stops
 * reading can tie up, and how soon its queue fills (then `slow`).
 * Left to the kernel's autotuning (up to megabytes) when 0. */
static void
ws_sndbuf(struct gw *gw, struct lws *wsi)
{
	int	fd, v = gw->conf.sndbuf;

	if (v <= 0 || (fd = lws_get_socket_fd(wsi)) < 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) == -1 &&
	    gs_ratelimit_ok(&gw->rl_peer, 10))
		gs_log_warn("ws setsockopt SO_SNDBUF bytes=%d", v);
}

/* One chunk of a WebSocket message; hand it on when it is complete. */
static void
ws_rx(struct gw_pss *p, const uint8_t *in, size_t len)
{
	struct gw_client	*c = p->c;
	struct gw		*gw = c->gw;
	struct lws		*wsi = p->wsi;
	char			 text[GS_TEXT_MAX + 1];

	gs_counter_add(gw->m.bytes_in, len);
	if (lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi) &&
	    !lws_remaining_packet_payload(wsi) && lws_frame_is_binary(wsi) &&
	    len <= gw->conf.frame_max) {
		gs_counter_inc(gw->m.ws_in);
		if (c->state != GW_CLOSING)
			gw_client_recv(c, in, len);
		return;
	}
	if (lws_is_first_fragment(wsi)) {
		p->rxlen = 0;
		p->rxskip = lws_frame_is_binary(wsi) ? WS_RX_OK : WS_RX_TEXT;
	}
	if (p->rxskip == WS_RX_OK && len > 0) {
		if (len > gw->conf.frame_max - p->rxlen)
			p->rxskip = WS_RX_TOOBIG;
		else if (p->rx == NULL &&
		    (p->rx = malloc(gw->conf.frame_max)) == NULL) {
			gs_log_warn("ws malloc conn=%llu",
			    (unsigned long long)c->conn);
			p->rxskip = WS_RX_TOOBIG;
		} else {
			memcpy(p->rx + p->rxlen, in, len);
			p->rxlen += len;
		}
	}
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return;

	gs_counter_inc(gw->m.ws_in);
	if (c->state == GW_CLOSING)
		;	/* no longer listening */
	else if (p->rxskip == WS_RX_TOOBIG) {
		(void)snprintf(text, sizeof(text), "message over %zu bytes",
		    gw->conf.frame_max);
		gw_client_bad(c, GS_PERR_TOOBIG, text);
	} else if (p->rxskip == WS_RX_TEXT)
		gw_client_bad(c, GS_PERR_BADFRAME, "text message: the "
		    "protocol uses binary messages");
	else
		gw_client_recv(c, p->rx, p->rxlen);
	free(p->rx);
	p->rx = NULL;
	p->rxlen = 0;
	p->rxskip = WS_RX_OK;
}

int
gw_ws_cb(void *arg, struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	struct gw		*gw = arg;
	struct gw_pss		*p = user;
	struct gw_client	*c = p != NULL ? p->c : NULL;
	char			 peer[64];

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return gw_accepting(gw) ? 0 : 1;
	case LWS_CALLBACK_ESTABLISHED:
		if (p == NULL)
			return -1;
		if (lws_get_peer_simple(wsi, peer, sizeof(peer)) == NULL)
			(void)gs_strlcpy(peer, "?", sizeof(peer));
		p->wsi = wsi;
		ws_sndbuf(gw, wsi);
		if ((p->c = gw_client_new(gw, &gw_ws_transport, p, peer)) ==
		    NULL)
			return -1;
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (c == NULL)
			return -1;
		ws_rx(p, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (c == NULL)
			return -1;
		/* Once our close frame is out, a stray writeable callback
		 * must not return -1: that would cut the connection before
		 * the peer's close (RST, and the peer may lose our last
		 * frames). */
		if (p->close_started)
			return 0;
		if (!p->close_pending && gw_client_writable(c) != 0)
			return -1;	/* CLOSED counts the queue */
		return p->close_pending ? ws_close_frame(p) : 0;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		/* The answer to our close frame: done.  A close the peer
		 * starts is answered by lws. */
		return p != NULL && p->close_started ? -1 : 0;
	case LWS_CALLBACK_CLOSED:
		if (c != NULL) {
			p->c = NULL;
			free(p->rx);
			p->rx = NULL;
			gw_client_closed(c);
		}
		return 0;
	default:
		return 0;
	}
}
