/*
 * HTTP (and optionally WebSocket) on libwebsockets, on a foreign libev
 * loop.  See http.h for the contract.
 *
 * Responses are small and produced whole: headers and body are written
 * in LWS_CALLBACK_HTTP.  lws keeps whatever the socket does not take at
 * once (buflist_out) and defers lws_http_transaction_completed() until
 * it has gone, so no per-request state is kept here.
 */
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "http.h"
#include "log.h"
#include "util.h"

#ifndef GS_VERSION
#define GS_VERSION "unknown"
#endif

struct gs_http {
	struct ev_loop		*loop;
	struct gs_http_conf	 conf;
	struct lws_context	*ctx;
	struct lws_vhost	*vh;
	int			 port;
	struct lws_protocols	 protocols[4];
	lws_retry_bo_t		 retry;
	void			*loops[1];
};

#define HTTP_CT_TEXT	"text/plain; charset=utf-8"
#define HTTP_CT_PROM	"text/plain; version=0.0.4; charset=utf-8"

/* Route lws's own error and warning lines into our log format. */
static void
http_lws_log(int level, const char *line)
{
	size_t	n = strlen(line);

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (n > 400)
		n = 400;
	gs_log(level == LLL_ERR ? GS_LOG_ERROR : GS_LOG_WARN,
	    "lws msg=\"%.*s\"", (int)n, line);
}

/*
 * Write a whole response: status, headers, body[len].  Returns 0 to
 * keep the connection (keep-alive), -1 to close it.
 */
static int
http_reply(struct lws *wsi, unsigned code, const char *ctype,
    const char *body, size_t len)
{
	unsigned char	 hbuf[LWS_PRE + 512];
	unsigned char	*start = hbuf + LWS_PRE, *p = start;
	unsigned char	*end = hbuf + sizeof(hbuf) - 1;
	unsigned char	*bbuf;
	int		 n;

	if (lws_add_http_common_headers(wsi, code, ctype,
	    (lws_filepos_t)len, &p, end) != 0)
		return -1;
	if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
	    (const unsigned char *)"no-store", 8, &p, end) != 0)
		return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end) != 0)
		return -1;
	if (len > 0) {
		/* lws_write wants LWS_PRE bytes of headroom before the data. */
		if ((bbuf = malloc(LWS_PRE + len)) == NULL) {
			gs_log_warn("http: malloc bytes=%zu", LWS_PRE + len);
			return -1;
		}
		memcpy(bbuf + LWS_PRE, body, len);
		n = lws_write(wsi, bbuf + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
		free(bbuf);
		if (n < 0)
			return -1;
	}
	/* Nonzero: close (no keep-alive); lws defers it past a partial. */
	if (lws_http_transaction_completed(wsi) != 0)
		return -1;
	return 0;
}

static int
http_serve(struct gs_http *h, struct lws *wsi, const char *uri)
{
	char	 ver[128];
	char	*text;
	size_t	 len;
	int	 rv, n;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0)
		return http_reply(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED,
		    HTTP_CT_TEXT, "method not allowed\n", 19);
	if (strcmp(uri, "/healthz") == 0)
		return http_reply(wsi, HTTP_STATUS_OK, HTTP_CT_TEXT, "ok\n", 3);
	if (strcmp(uri, "/readyz") == 0) {
		if (h->conf.ready == NULL || h->conf.ready(h->conf.arg))
			return http_reply(wsi, HTTP_STATUS_OK, HTTP_CT_TEXT,
			    "ready\n", 6);
		return http_reply(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE,
		    HTTP_CT_TEXT, "not ready\n", 10);
	}
	if (strcmp(uri, "/version") == 0) {
		n = snprintf(ver, sizeof(ver), "%s %s\n", gs_log_prog(),
		    GS_VERSION);
		if (n < 0 || (size_t)n >= sizeof(ver))
			n = 0;
		return http_reply(wsi, HTTP_STATUS_OK, HTTP_CT_TEXT, ver,
		    (size_t)n);
	}
	if (strcmp(uri, "/metrics") == 0) {
		if (h->conf.metrics == NULL)
			return http_reply(wsi, HTTP_STATUS_OK, HTTP_CT_PROM,
			    "", 0);
		if ((text = gs_metrics_text(h->conf.metrics, &len)) == NULL) {
			gs_log_warnx("http: metrics text failed");
			return http_reply(wsi,
			    HTTP_STATUS_INTERNAL_SERVER_ERROR, HTTP_CT_TEXT,
			    "error\n", 6);
		}
		rv = http_reply(wsi, HTTP_STATUS_OK, HTTP_CT_PROM, text, len);
		free(text);
		return rv;
	}
	return http_reply(wsi, HTTP_STATUS_NOT_FOUND, HTTP_CT_TEXT,
	    "not found\n", 10);
}

static int
http_is_ws_reason(enum lws_callback_reasons reason)
{
	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
	case LWS_CALLBACK_ESTABLISHED:
	case LWS_CALLBACK_RECEIVE:
	case LWS_CALLBACK_SERVER_WRITEABLE:
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
	case LWS_CALLBACK_CLOSED:
		return 1;
	default:
		return 0;
	}
}

/*
 * The one callback of both protocols: protocols[0] ("http", also bound
 * to WebSocket upgrades that name no subprotocol) and the WebSocket
 * subprotocol.
 */
static int
http_lws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct gs_http	*h;

	h = lws_context_user(lws_get_context(wsi));
	if (h == NULL)		/* callbacks during context creation */
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	if (http_is_ws_reason(reason)) {
		if (h->conf.ws_cb == NULL)	/* no WebSocket side: refuse */
			return reason == LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION ?
			    1 : 0;
		return h->conf.ws_cb(h->conf.arg, wsi, reason, user, in, len);
	}
	if (reason == LWS_CALLBACK_HTTP)
		return http_serve(h, wsi, in != NULL ? in : "");
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

struct gs_http *
gs_http_start(struct ev_loop *loop, const struct gs_http_conf *conf)
{
	struct lws_context_creation_info	 info;
	struct gs_http				*h;
	struct in_addr				 a4;
	size_t					 i = 0;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		gs_log_warn("http: calloc");
		return NULL;
	}
	h->loop = loop;
	h->conf = *conf;
	h->loops[0] = loop;

	lws_set_log_level(LLL_ERR | LLL_WARN, http_lws_log);

	h->protocols[i].name = "http";
	h->protocols[i].callback = http_lws_cb;
	h->protocols[i].per_session_data_size = conf->ws_user_size;
	h->protocols[i].rx_buffer_size = conf->ws_rx_buffer;
	h->protocols[i].tx_packet_size = conf->ws_tx_packet;
	i++;
	if (conf->ws_cb != NULL && conf->ws_protocol != NULL) {
		h->protocols[i].name = conf->ws_protocol;
		h->protocols[i].callback = http_lws_cb;
		h->protocols[i].per_session_data_size = conf->ws_user_size;
		h->protocols[i].rx_buffer_size = conf->ws_rx_buffer;
		h->protocols[i].tx_packet_size = conf->ws_tx_packet;
		i++;
		if (conf->ws_protocol_old != NULL) {
			h->protocols[i] = h->protocols[i - 1];
			h->protocols[i].name = conf->ws_protocol_old;
			i++;
		}
	}
	/* protocols[i] stays zeroed: the terminator. */

	h->retry.secs_since_valid_ping = 30;
	h->retry.secs_since_valid_hangup = 60;

	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_LIBEV;
	/*
	 * lws 4.1.6 with IPv6 enabled parses an IPv4 address in iface into
	 * the wrong bytes of its sockaddr_in6 and binds [::], every
	 * address.  An IPv4 literal therefore gets an IPv4-only socket.
	 */
	if (conf->iface != NULL && inet_pton(AF_INET, conf->iface, &a4) == 1)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.foreign_loops = h->loops;
	info.iface = conf->iface;
	info.port = conf->port;
	info.protocols = h->protocols;
	info.vhost_name = "default";
	info.server_string = gs_log_prog();
	info.retry_and_idle_policy = &h->retry;
	info.timeout_secs = 10;
	/* The callback reads h back from here; it is NULL (and handled)
	 * for callbacks made while the context is being created. */
	info.user = h;

	if ((h->ctx = lws_create_context(&info)) == NULL) {
		gs_log_error("http: cannot start libwebsockets "
		    "iface=%s port=%d (is libwebsockets-evlib-ev installed, "
		    "is the port free?)",
		    conf->iface != NULL ? conf->iface : "*", conf->port);
		free(h);
		return NULL;
	}
	if ((h->vh = lws_get_vhost_by_name(h->ctx, "default")) == NULL) {
		gs_log_error("http: no vhost");
		lws_context_destroy(h->ctx);
		free(h);
		return NULL;
	}
	h->port = lws_get_vhost_listen_port(h->vh);
	if (h->port <= 0) {
		gs_log_error("http: not listening iface=%s port=%d",
		    conf->iface != NULL ? conf->iface : "*", conf->port);
		lws_context_destroy(h->ctx);
		free(h);
		return NULL;
	}
	return h;
}

int
gs_http_port(const struct gs_http *h)
{
	return h->port;
}

struct lws_context *
gs_http_context(struct gs_http *h)
{
	return h->ctx;
}

void
gs_http_stop(struct gs_http *h)
{
	if (h == NULL)
		return;
	lws_context_destroy(h->ctx);
	free(h);
}

int
gs_http_parse_addr(const char *s, char *buf, size_t cap, const char **iface,
    int *port)
{
	const char	*colon, *p = s, *ifc = NULL;
	size_t		 n;
	long long	 v;

	if ((colon = strrchr(s, ':')) != NULL) {
		n = (size_t)(colon - s);
		if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
			s++;		/* [::1]:8080 */
			n -= 2;
		}
		if (n == 0 || n >= cap)
			return GS_EINVAL;
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (strcmp(buf, "*") != 0)
			ifc = buf;
		p = colon + 1;
	}
	if (gs_parse_ll(p, 0, 65535, &v) != GS_OK)
		return GS_EINVAL;
	*iface = ifc;
	*port = (int)v;
	return GS_OK;
}
