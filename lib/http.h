/*
 * An HTTP server on libwebsockets, running on the caller's libev loop
 * (LWS_SERVER_OPTION_LIBEV with a foreign loop).  It answers
 *   GET /healthz   200 "ok" while the loop runs
 *   GET /readyz    200 "ready" or 503 "not ready" (conf->ready)
 *   GET /version   200 "<prog> <version>"
 *   GET /metrics   200 Prometheus text (conf->metrics)
 *   anything else  404
 * and, when conf->ws_cb is set, WebSocket upgrades on the same port,
 * whose callbacks it passes to ws_cb.
 */
#ifndef GS_HTTP_H
#define GS_HTTP_H

#include <stddef.h>

#include <ev.h>
#include <libwebsockets.h>

#include "metrics.h"

typedef int gs_ws_cb(struct lws *wsi, enum lws_callback_reasons reason,
		void *user, void *in, size_t len);

struct gs_http_conf {
	const char		*iface;	/* address to bind; NULL: all */
	int			 port;	/* 0: any free port */
	struct gs_metrics	*metrics;	/* may be NULL */
	int			(*ready)(void *arg);	/* NULL: always */
	void			*arg;
	/* Optional WebSocket side. */
	gs_ws_cb		*ws_cb;
	size_t			 ws_user_size;	/* per-connection user data */
	size_t			 ws_rx_buffer;	/* lws rx buffer, bytes */
};

struct gs_http;

struct gs_http	*gs_http_start(struct ev_loop *loop,
		    const struct gs_http_conf *conf);
/* The port actually bound (useful with port 0). */
int		 gs_http_port(const struct gs_http *h);
struct lws_context *gs_http_context(struct gs_http *h);
void		 gs_http_stop(struct gs_http *h);

#endif
