/*
 * An HTTP server on libwebsockets, running on the caller's libev loop
 * (LWS_SERVER_OPTION_LIBEV with a foreign loop).  It answers
 *   GET /healthz   200 "ok" while the loop runs
 *   GET /readyz    200 "ready" or 503 "not ready" (conf->ready)
 *   GET /version   200 "<prog> <version>"
 *   GET /metrics   200 Prometheus text (conf->metrics)
 *   anything else  404 (405 for methods other than GET)
 * and, when conf->ws_cb is set, WebSocket upgrades on the same port,
 * whose callbacks it passes to ws_cb.
 *
 * WebSocket upgrades are accepted for the subprotocol conf->ws_protocol
 * (or conf->ws_protocol_old) and for requests that name no subprotocol at all (lws binds those to
 * its protocols[0], the HTTP one; their WebSocket callbacks go to ws_cb
 * just the same).  ws_cb sees these reasons only:
 *   LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION, LWS_CALLBACK_ESTABLISHED,
 *   LWS_CALLBACK_RECEIVE, LWS_CALLBACK_SERVER_WRITEABLE,
 *   LWS_CALLBACK_WS_PEER_INITIATED_CLOSE, LWS_CALLBACK_CLOSED.
 * user is the per-connection area of ws_user_size bytes, zeroed before
 * LWS_CALLBACK_ESTABLISHED and freed by lws after LWS_CALLBACK_CLOSED.
 * Returning nonzero closes the connection, as with any lws callback.
 *
 * lws logs errors and warnings through gs_log (notice and below stay
 * off: at notice lws 4.1 prints a line per I/O change on libev).
 * Connections idle for 30 s get a WebSocket ping; no valid traffic for
 * 60 s hangs up.
 */
#ifndef GS_HTTP_H
#define GS_HTTP_H

#include <stddef.h>

#include <ev.h>
#include <libwebsockets.h>

#include "metrics.h"

typedef int gs_ws_cb(void *arg, struct lws *wsi,
		enum lws_callback_reasons reason, void *user, void *in,
		size_t len);

struct gs_http_conf {
	const char		*iface;	/* address to bind; NULL: all */
	int			 port;	/* 0: any free port */
	struct gs_metrics	*metrics;	/* may be NULL */
	int			(*ready)(void *arg);	/* NULL: always */
	void			*arg;	/* for ready and ws_cb */
	/* Optional WebSocket side. */
	gs_ws_cb		*ws_cb;
	const char		*ws_protocol;	/* subprotocol; NULL: none */
	/* Another name accepted for the same callback (an older version
	 * the server answers with an error); NULL: none. */
	const char		*ws_protocol_old;
	size_t			 ws_user_size;	/* per-connection user data */
	size_t			 ws_rx_buffer;	/* lws rx chunk, bytes; 0: 4096 */
	/* The largest send() lws makes of one message (lws splits a
	 * larger one and sends the rest when writable); 0: ws_rx_buffer,
	 * lws's default. */
	size_t			 ws_tx_packet;
};

struct gs_http;

/*
 * Parse "[addr:]port" (a -H flag): addr is an IPv4 address, an IPv6
 * address in brackets, a host or interface name, or "*" (the same as no
 * addr: every address).  The address is copied into buf[cap] and *iface
 * points at it, or is NULL for every address.  GS_OK or GS_EINVAL.
 */
int		 gs_http_parse_addr(const char *s, char *buf, size_t cap,
		    const char **iface, int *port);

/* conf is copied; its strings and metrics are borrowed for the life of
 * the server.  Returns NULL (logged) when lws cannot start or listen. */
struct gs_http	*gs_http_start(struct ev_loop *loop,
		    const struct gs_http_conf *conf);
/* The port actually bound (useful with port 0). */
int		 gs_http_port(const struct gs_http *h);
struct lws_context *gs_http_context(struct gs_http *h);
/* Destroy the lws context: open WebSocket connections get their
 * LWS_CALLBACK_CLOSED before this returns.  Do not call it from inside
 * an lws callback.  NULL is a no-op. */
void		 gs_http_stop(struct gs_http *h);

#endif
