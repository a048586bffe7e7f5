/*
 * HTTP (and optionally WebSocket) on libwebsockets, on a foreign libev
 * loop.  See http.h for the contract.
 *
 * The fixed endpoints' responses are small and produced whole: headers
 * and body are written in LWS_CALLBACK_HTTP.  lws keeps whatever the
 * socket does not take at once (buflist_out) and defers
 * lws_http_transaction_completed() until it has gone, so no
 * per-request state is kept for them.
 *
 * An API request is a struct gs_http_req hung on its wsi (lws's opaque
 * user data) from LWS_CALLBACK_HTTP until its reply has left:
 *
 *   REQ_BODY	 its body arrives (LWS_CALLBACK_HTTP_BODY); freed if the
 *		 wsi goes (LWS_CALLBACK_WSI_DESTROY, which lws makes for
 *		 every wsi, whatever ended it)
 *   REQ_CALLED	 with the program, on h->reqs; if the wsi goes it is
 *		 only detached (wsi NULL) and the reply frees it
 *   REQ_REPLIED the reply is encoded, waiting for HTTP_WRITEABLE, where
 *		 it is written: inside lws's callback, where an error
 *		 can close the connection by returning -1
 *   REQ_SENDING written; lws holds part of it until the socket takes it
 *
 * What lws 4.1.6 does on a foreign libev loop, and what follows (each
 * seen here, with the loop's calls traced):
 *
 *   - While a request is open (state DOING_TRANSACTION, or BODY once the
 *     body is in), lws reads nothing more from its connection (a
 *     pipelined request waits in the kernel or in lws's buffer) but
 *     keeps POLLIN on: anything more from the client (a pipelined
 *     request, its FIN) makes the loop spin (and would starve lws's
 *     idle watcher, which arms lws's timeouts).  So rx flow control is
 *     off from the call until the reply.
 *   - lws gives a flow-controlled h1 wsi no POLLOUT service at all, so
 *     rx flow control is back on before asking for HTTP_WRITEABLE.
 *   - When lws holds part of a reply (REQ_SENDING: lws writes at most
 *     protocols[0]'s tx_packet_size, 4 KiB by default, a time), the
 *     spin can come back until it has gone; if it has not within
 *     api_send_ms the socket is shut down under lws, which then fails
 *     its next write and closes: lws's own timeouts may not be
 *     serviced during the spin.
 */
#define _GNU_SOURCE		/* accept4 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "err.h"
#include "http.h"
#include "json.h"
#include "limit.h"
#include "log.h"
#include "util.h"

#ifndef GS_VERSION
#define GS_VERSION "unknown"
#endif

#define HTTP_CT_TEXT	"text/plain; charset=utf-8"
#define HTTP_CT_PROM	"text/plain; version=0.0.4; charset=utf-8"
#define HTTP_CT_JSON	"application/json"
#define HTTP_API_ALLOW	"GET, POST, PUT, PATCH, DELETE, OPTIONS"
#define HTTP_CORS_METHODS "GET, POST, PUT, PATCH, DELETE"
#define HTTP_CORS_HEADERS "Authorization, Content-Type"
/* Our response headers, an echoed Origin (GS_HTTP_ORIGIN_MAX) included. */
#define HTTP_HEAD_MAX	1024
#define HTTP_OPTIONS	GS_HTTP_NMETHODS	/* beside enum gs_http_method */

enum http_req_state { REQ_BODY, REQ_CALLED, REQ_REPLIED, REQ_SENDING };

struct gs_http_req {
	struct gs_http		*h;	/* NULL after gs_http_stop() */
	struct lws		*wsi;	/* NULL once the connection is gone */
	struct gs_http_req	*prev, *next;	/* on h->reqs while CALLED */
	enum http_req_state	 state;
	enum gs_http_method	 method;
	bool			 cors;	/* origin is allowed: CORS headers */
	bool			 late;	/* body over its time: closed */
	ev_tstamp		 body_deadline;
	uint8_t			*body;	/* body_want + 1 bytes; NULL: none */
	size_t			 body_len, body_want;
	uint8_t			*resp;	/* LWS_PRE, then resp_len bytes */
	size_t			 resp_len;
	unsigned		 status, retry_after;
	ev_timer		 drain;	/* REQ_SENDING: cut when it fires */
	const char		*path;	/* the strings live in strs[] */
	const char		*args;	/* nargs "name=value" strings */
	unsigned		 nargs;
	const char		*bearer;	/* NULL: none */
	const char		*origin;	/* NULL: none */
	char			 peer[INET6_ADDRSTRLEN];
	uint8_t			 peer_key[16];
	size_t			 peer_keylen;
	char			 strs[];
};

struct gs_http {
	struct ev_loop		*loop;
	struct gs_http_conf	 conf;
	struct lws_context	*ctx;
	struct lws_vhost	*vh;
	int			 port;
	struct lws_protocols	 protocols[4];
	lws_retry_bo_t		 retry;		/* zeros: no validity timer */
	void			*loops[1];
	size_t			 prefix_len;
	char			*cors_buf;	/* conf.cors_origins, split */
	char			**cors;		/* ncors entries in cors_buf */
	size_t			 ncors;
	bool			 cors_any;	/* "*" */
	struct gs_http_req	*reqs;		/* CALLED, with the program */
	struct gs_http_stats	 stats;
	struct gs_ratelimit	 rl;		/* peer-caused lines */

	/* Accepting (see http.h): our listening socket. */
	int			 lfd;
	ev_io			 accept_w;
	ev_timer		 retry_w;	/* descriptors ran out */
	bool			 stopping;	/* in gs_http_stop() */
	struct http_addr	**atab;		/* addresses with connections */
	size_t			 atabsz;	/* power of two */
	size_t			 naddr;
	uint64_t		 aseed;
	struct gs_limit		*addr_rl, *conn_rl;
	uint64_t		 paused_log_us[2];	/* full, nofd */
};

/* An address (IPv6: a /64) with connections open; each of their wsis
 * points at it (lws's opaque parent data) until WSI_DESTROY. */
struct http_addr {
	struct http_addr	*next;
	unsigned		 open;
	uint8_t			 keylen;
	uint8_t			 key[16];
};

/* One response, API or not. */
struct http_out {
	unsigned	 code;
	const char	*ctype;		/* NULL: none */
	uint8_t		*buf;		/* LWS_PRE bytes, then len of body */
	size_t		 len;
	const char	*origin;	/* echoed with the CORS headers; NULL */
	unsigned	 retry_after;	/* s; 0: no Retry-After */
	bool		 preflight;	/* Access-Control-Allow-Methods... */
	bool		 allow;		/* Allow: */
	bool		 close;		/* Connection: close */
};

static struct gs_ratelimit	http_lws_rl;

static void	http_conn_gone(struct gs_http *, struct lws *);

/* Route lws's own error and warning lines into our log format: a peer
 * can cause them (a head over head_max is one), hence the limit. */
static void
http_lws_log(int level, const char *line)
{
	size_t	n = strlen(line);

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (n > 400)
		n = 400;
	if (!gs_ratelimit_ok(&http_lws_rl, 10))
		return;
	gs_log(level == LLL_ERR ? GS_LOG_ERROR : GS_LOG_WARN,
	    "lws msg=\"%.*s\"", (int)n, line);
}

static int
http_hdr(struct lws *wsi, const char *name, const char *value,
    unsigned char **p, unsigned char *end)
{
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
	    (const unsigned char *)value, (int)strlen(value), p, end) == 0 ?
	    0 : -1;
}

/*
 * Write a whole response: status, headers, body.  Does not end the
 * transaction.  0, or -1 when lws failed (close the connection).
 */
static int
http_write(struct gs_http *h, struct lws *wsi, const struct http_out *o)
{
	unsigned char	 hbuf[LWS_PRE + HTTP_HEAD_MAX];
	unsigned char	*start = hbuf + LWS_PRE, *p = start;
	unsigned char	*end = hbuf + sizeof(hbuf) - 1;
	char		 num[24];
	int		 bad = 0;

	/* No Content-Length on a 204 or 304 (RFC 9110 8.6). */
	if (o->code == HTTP_STATUS_NO_CONTENT || o->code == 304)
		bad |= lws_add_http_header_status(wsi, o->code, &p, end) != 0;
	else
		bad |= lws_add_http_common_headers(wsi, o->code, o->ctype,
		    (lws_filepos_t)o->len, &p, end) != 0;
	bad |= http_hdr(wsi, "cache-control:", "no-store", &p, end);
	if (o->retry_after > 0) {
		(void)snprintf(num, sizeof(num), "%u", o->retry_after);
		bad |= http_hdr(wsi, "retry-after:", num, &p, end);
	}
	if (o->allow)
		bad |= http_hdr(wsi, "allow:", HTTP_API_ALLOW, &p, end);
	if (o->origin != NULL) {
		bad |= http_hdr(wsi, "access-control-allow-origin:",
		    o->origin, &p, end);
		bad |= http_hdr(wsi, "vary:", "Origin", &p, end);
		if (o->preflight) {
			bad |= http_hdr(wsi, "access-control-allow-methods:",
			    HTTP_CORS_METHODS, &p, end);
			bad |= http_hdr(wsi, "access-control-allow-headers:",
			    HTTP_CORS_HEADERS, &p, end);
			(void)snprintf(num, sizeof(num), "%u",
			    h->conf.cors_max_age);
			bad |= http_hdr(wsi, "access-control-max-age:", num,
			    &p, end);
		} else
			/* Not CORS-safelisted: a page could not read it. */
			bad |= http_hdr(wsi, "access-control-expose-headers:",
			    "Retry-After", &p, end);
	}
	if (o->close)
		bad |= http_hdr(wsi, "connection:", "close", &p, end);
	if (bad)
		return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end) != 0)
		return -1;
	if (o->len > 0 && lws_write(wsi, o->buf + LWS_PRE, o->len,
	    LWS_WRITE_HTTP_FINAL) < 0)
		return -1;
	return 0;
}

/*
 * A whole text response, then the end of the transaction.  Returns 0
 * to keep the connection (keep-alive), -1 to close it.
 */
static int
http_reply(struct gs_http *h, struct lws *wsi, unsigned code,
    const char *ctype, const char *body, size_t len)
{
	struct http_out	 o;
	int		 rv;

	memset(&o, 0, sizeof(o));
	o.code = code;
	o.ctype = ctype;
	o.len = len;
	/* lws_write wants LWS_PRE bytes of headroom before the data. */
	if ((o.buf = malloc(LWS_PRE + len)) == NULL) {
		gs_log_warn("http: malloc bytes=%zu", LWS_PRE + len);
		return -1;
	}
	memcpy(o.buf + LWS_PRE, body, len);
	rv = http_write(h, wsi, &o);
	free(o.buf);
	if (rv != 0)
		return -1;
	/* Nonzero: close (no keep-alive); lws defers it past a partial. */
	if (lws_http_transaction_completed(wsi) != 0)
		return -1;
	return 0;
}

/*
 * GET /negotiate (gs-protocol(7), QUIC): the transports, QUIC first,
 * at the host the client asked for (the Host header: a gateway on a
 * wildcard address does not know its public name).  A Host that is not
 * a plain name or address is answered 400.
 */
static int
http_negotiate(struct gs_http *h, struct lws *wsi)
{
	char	 host[256], url[300];
	char	*p, *text;
	json_t	*o, *list;
	int	 n, rv;

	n = lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST);
	if (n <= 0 || strspn(host, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") != (size_t)n)
		return http_reply(h, wsi, HTTP_STATUS_BAD_REQUEST,
		    HTTP_CT_TEXT, "bad Host\n", 9);
	/* The port goes: "name:port", "[v6]:port"; a bare v6 stays. */
	if ((p = strrchr(host, ':')) != NULL &&
	    (host[0] != '[' || (p > host && p[-1] == ']')) &&
	    (host[0] == '[' || strchr(host, ':') == p))
		*p = '\0';
	if ((o = json_object()) == NULL || (list = json_array()) == NULL) {
		json_decref(o);
		return http_reply(h, wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR,
		    HTTP_CT_TEXT, "error\n", 6);
	}
	(void)json_object_set_new(o, "version", json_integer(2));
	(void)json_object_set_new(o, "transports", list);
	if (h->conf.quic_port > 0) {
		(void)snprintf(url, sizeof(url), "quic://%s:%d", host,
		    h->conf.quic_port);
		(void)json_array_append_new(list, json_pack("{s:s,s:s,s:s}",
		    "transport", "quic", "url", url, "alpn",
		    h->conf.ws_protocol != NULL ? h->conf.ws_protocol : ""));
	}
	(void)snprintf(url, sizeof(url), "ws://%s:%d/", host, gs_http_port(h));
	(void)json_array_append_new(list, json_pack("{s:s,s:s,s:s}",
	    "transport", "websocket", "url", url, "subprotocol",
	    h->conf.ws_protocol != NULL ? h->conf.ws_protocol : ""));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return http_reply(h, wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR,
		    HTTP_CT_TEXT, "error\n", 6);
	rv = http_reply(h, wsi, HTTP_STATUS_OK, HTTP_CT_JSON, text,
	    strlen(text));
	free(text);
	return rv;
}

static int
http_serve(struct gs_http *h, struct lws *wsi, const char *uri)
{
	char	 ver[128];
	char	*text;
	size_t	 len;
	int	 rv, n;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0)
		return http_reply(h, wsi, HTTP_STATUS_METHOD_NOT_ALLOWED,
		    HTTP_CT_TEXT, "method not allowed\n", 19);
	if (strcmp(uri, "/healthz") == 0)
		return http_reply(h, wsi, HTTP_STATUS_OK, HTTP_CT_TEXT, "ok\n",
		    3);
	if (strcmp(uri, "/readyz") == 0) {
		if (h->conf.ready == NULL || h->conf.ready(h->conf.arg))
			return http_reply(h, wsi, HTTP_STATUS_OK, HTTP_CT_TEXT,
			    "ready\n", 6);
		return http_reply(h, wsi, HTTP_STATUS_SERVICE_UNAVAILABLE,
		    HTTP_CT_TEXT, "not ready\n", 10);
	}
	if (strcmp(uri, "/version") == 0) {
		n = snprintf(ver, sizeof(ver), "%s %s\n", gs_log_prog(),
		    GS_VERSION);
		if (n < 0 || (size_t)n >= sizeof(ver))
			n = 0;
		return http_reply(h, wsi, HTTP_STATUS_OK, HTTP_CT_TEXT, ver,
		    (size_t)n);
	}
	if (strcmp(uri, "/negotiate") == 0 && h->conf.ws_cb != NULL)
		return http_negotiate(h, wsi);
	if (strcmp(uri, "/metrics") == 0) {
		if (h->conf.metrics == NULL)
			return http_reply(h, wsi, HTTP_STATUS_OK, HTTP_CT_PROM,
			    "", 0);
		if ((text = gs_metrics_text(h->conf.metrics, &len)) == NULL) {
			gs_log_warnx("http: metrics text failed");
			return http_reply(h, wsi,
			    HTTP_STATUS_INTERNAL_SERVER_ERROR, HTTP_CT_TEXT,
			    "error\n", 6);
		}
		rv = http_reply(h, wsi, HTTP_STATUS_OK, HTTP_CT_PROM, text,
		    len);
		free(text);
		return rv;
	}
	return http_reply(h, wsi, HTTP_STATUS_NOT_FOUND, HTTP_CT_TEXT,
	    "not found\n", 10);
}

/* ------------------------------------------------------------ the API */

static void
http_count(struct gs_http *h, unsigned code)
{
	unsigned	c = code / 100;

	h->stats.api_replies[c >= 2 && c <= 5 ? c : 0]++;
}

/* {"error":{"code":code,"message":message}}; NULL when out of memory. */
static json_t *
http_error_body(const char *code, const char *message)
{
	json_t	*e, *j;
	int	 bad = 0;

	if ((e = json_object()) == NULL)
		return NULL;
	bad |= gs_json_set(e, "code", gs_json_str(code));
	if (message != NULL)
		bad |= gs_json_set(e, "message", gs_json_str(message));
	if ((e = gs_json_built(e, bad)) == NULL)
		return NULL;
	if ((j = json_object()) == NULL) {
		json_decref(e);
		return NULL;
	}
	return gs_json_built(j, gs_json_set(j, "error", e));
}

/* j (borrowed; NULL: no body) as compact JSON after LWS_PRE bytes of
 * headroom, in a new buffer *buf of *len bytes.  0, or -1 when out of
 * memory or jansson cannot write j. */
static int
http_json_buf(const json_t *j, uint8_t **buf, size_t *len)
{
	const size_t	 flags = JSON_COMPACT | JSON_ENCODE_ANY;
	size_t		 n = 0;

	if (j != NULL && (n = json_dumpb(j, NULL, 0, flags)) == 0)
		return -1;
	if ((*buf = malloc(LWS_PRE + n)) == NULL)
		return -1;
	if (n > 0 && json_dumpb(j, (char *)*buf + LWS_PRE, n, flags) != n) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	*len = n;
	return 0;
}

/*
 * A JSON error answered here, before (or instead of) the callback:
 * written at once, then the transaction ends, or the connection closes
 * when close is set (or lws fails).  0 or -1 as for an lws callback.
 */
static int
http_api_refuse(struct gs_http *h, struct lws *wsi, const char *origin,
    unsigned code, const char *ecode, const char *message, bool close)
{
	struct http_out	 o;
	json_t		*j;
	int		 rv;

	memset(&o, 0, sizeof(o));
	o.code = code;
	o.ctype = HTTP_CT_JSON;
	o.origin = origin;
	o.allow = code == HTTP_STATUS_METHOD_NOT_ALLOWED;
	o.close = close;
	j = http_error_body(ecode, message);
	if (j == NULL || http_json_buf(j, &o.buf, &o.len) != 0) {
		json_decref(j);
		gs_log_warnx("http: out of memory for an error reply");
		return -1;
	}
	json_decref(j);
	http_count(h, code);
	rv = http_write(h, wsi, &o);
	free(o.buf);
	if (rv != 0 || close)
		return -1;
	return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
}

static int
http_api_preflight(struct gs_http *h, struct lws *wsi, const char *origin)
{
	struct http_out	o;

	memset(&o, 0, sizeof(o));
	o.code = HTTP_STATUS_NO_CONTENT;
	o.origin = origin;
	o.preflight = true;
	o.allow = true;
	h->stats.api_preflights++;
	http_count(h, o.code);
	if (http_write(h, wsi, &o) != 0)
		return -1;
	return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
}

/* The method of the request on wsi: enum gs_http_method, HTTP_OPTIONS,
 * or -1 (HEAD and whatever else lws parses). */
static int
http_method(struct lws *wsi)
{
	static const struct {
		enum lws_token_indexes	tok;
		int			m;
	} t[] = {
		{ WSI_TOKEN_GET_URI, GS_HTTP_GET },
		{ WSI_TOKEN_POST_URI, GS_HTTP_POST },
		{ WSI_TOKEN_PUT_URI, GS_HTTP_PUT },
		{ WSI_TOKEN_PATCH_URI, GS_HTTP_PATCH },
		{ WSI_TOKEN_DELETE_URI, GS_HTTP_DELETE },
		{ WSI_TOKEN_OPTIONS_URI, HTTP_OPTIONS },
	};
	size_t	i;

	for (i = 0; i < GS_NELEM(t); i++)
		if (lws_hdr_total_length(wsi, t[i].tok) > 0)
			return t[i].m;
	return -1;
}

/* Whether origin (a NUL-terminated Origin header) is on the list.  Only
 * visible ASCII is ever echoed back, whatever the list says. */
static bool
http_origin_allowed(const struct gs_http *h, const char *origin)
{
	size_t	i, n = strlen(origin);

	if (n == 0 || n > GS_HTTP_ORIGIN_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (origin[i] < 0x21 || origin[i] > 0x7e)
			return false;
	if (h->cors_any)
		return true;
	for (i = 0; i < h->ncors; i++)
		if (strcmp(h->cors[i], origin) == 0)
			return true;
	return false;
}

/* Content-Length: digits only (lws joins a repeated header with ","),
 * at most 18 of them.  0 and *out, or -1. */
static int
http_content_length(struct lws *wsi, long long *out)
{
	char		buf[24];
	long long	v;
	size_t		n;

	if (lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_CONTENT_LENGTH)
	    <= 0)
		return -1;
	n = strlen(buf);
	if (n == 0 || n > 18 || strspn(buf, "0123456789") != n)
		return -1;
	if (gs_parse_ll(buf, 0, 999999999999999999LL, &v) != GS_OK)
		return -1;
	*out = v;
	return 0;
}

/* application/json or application/<x>+json, parameters allowed. */
static bool
http_ctype_json(struct lws *wsi)
{
	char	 buf[128];
	char	*s = buf;
	size_t	 n;

	if (lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_CONTENT_TYPE)
	    <= 0)
		return false;
	n = strcspn(s, "; \t");
	if (n < 12 || strncasecmp(s, "application/", 12) != 0)
		return false;
	s += 12;
	n -= 12;
	return (n == 4 && strncasecmp(s, "json", 4) == 0) ||
	    (n > 5 && strncasecmp(s + n - 5, "+json", 5) == 0);
}

/* A decoded path lws let through: no control byte, no "." or ".."
 * segment (lws removes them; this holds if it ever does not). */
static bool
http_path_ok(const char *p, size_t len)
{
	size_t	i, seg = 1, n;

	if (len == 0 || p[0] != '/' || strlen(p) != len)
		return false;
	for (i = 1; i <= len; i++) {
		if (i < len && ((unsigned char)p[i] < 0x20 || p[i] == 0x7f))
			return false;
		if (i < len && p[i] != '/')
			continue;
		n = i - seg;
		if ((n == 1 && p[seg] == '.') ||
		    (n == 2 && p[seg] == '.' && p[seg + 1] == '.'))
			return false;
		seg = i + 1;
	}
	return true;
}

/* The token of "Bearer <token>" in s (modified), or NULL.  token68:
 * 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". */
static char *
http_bearer(char *s)
{
	static const char	tok68[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-._~+/";
	char			*t;
	size_t			 n, m;

	if (strncasecmp(s, "bearer", 6) != 0 || s[6] != ' ')
		return NULL;
	for (t = s + 7; *t == ' '; t++)
		;
	n = strlen(t);
	while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
		t[--n] = '\0';
	m = strspn(t, tok68);
	if (m == 0)
		return NULL;
	m += strspn(t + m, "=");
	return m == n ? t : NULL;
}

/* The peer's address as text and as a key (http.h).  The socket is the
 * network connection's (an h2 stream has none of its own). */
static void
http_peer(struct gs_http *h, struct gs_http_req *req, struct lws *wsi)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 sl = sizeof(ss);
	int			 fd;

	(void)gs_strlcpy(req->peer, "?", sizeof(req->peer));
	req->peer_keylen = 0;
	fd = lws_get_socket_fd(lws_get_network_wsi(wsi));
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) == -1) {
		if (gs_ratelimit_ok(&h->rl, 10))
			gs_log_warn("http: getpeername fd=%d", fd);
		return;
	}
	if (ss.ss_family == AF_INET) {
		memcpy(req->peer_key, &sin->sin_addr, 4);
		req->peer_keylen = 4;
	} else if (ss.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		memcpy(req->peer_key, &sin6->sin6_addr.s6_addr[12], 4);
		req->peer_keylen = 4;
	} else if (ss.ss_family == AF_INET6) {
		memcpy(req->peer_key, &sin6->sin6_addr, 16);
		req->peer_keylen = 16;
	} else
		return;
	if (inet_ntop(req->peer_keylen == 4 ? AF_INET : AF_INET6,
	    req->peer_key, req->peer, sizeof(req->peer)) == NULL)
		(void)gs_strlcpy(req->peer, "?", sizeof(req->peer));
}

/* The header h of wsi into *p (advanced), NUL-terminated, or NULL if
 * absent or it does not fit in *left bytes. */
static char *
http_hdr_take(struct lws *wsi, enum lws_token_indexes tok, char **p,
    size_t *left)
{
	char	*s = *p;
	int	 n;

	if (lws_hdr_total_length(wsi, tok) <= 0)
		return NULL;
	if ((n = lws_hdr_copy(wsi, s, (int)*left, tok)) <= 0)
		return NULL;
	*p += (size_t)n + 1;
	*left -= (size_t)n + 1;
	return s;
}

/* A reply lws still holds after api_send_ms: shut the socket down under
 * lws, whose next write then fails and closes the wsi.  (Closing it from
 * here is not possible: lws would flush first.) */
static void
http_drain_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gs_http_req	*req = w->data;
	int			 fd;

	if (req->wsi == NULL)
		return;
	fd = lws_get_socket_fd(lws_get_network_wsi(req->wsi));
	req->h->stats.api_send_timeouts++;
	if (gs_ratelimit_ok(&req->h->rl, 10))
		gs_log_warnx("http: reply not taken in time: closing peer=%s "
		    "ms=%u", req->peer, req->h->conf.api_send_ms);
	if (fd >= 0 && shutdown(fd, SHUT_RDWR) == -1)
		gs_log_warn("http: shutdown fd=%d", fd);
}

/*
 * A request, its strings copied out of lws's header table (which lws
 * reuses for the next request).  NULL when out of memory.
 */
static struct gs_http_req *
http_req_new(struct gs_http *h, struct lws *wsi, enum gs_http_method m,
    const char *uri, size_t urilen, size_t body_len)
{
	struct gs_http_req	*req;
	char			*p, *bearer;
	size_t			 cap, left;
	int			 n, i;

	/* Each string with its NUL; the arguments' total counts one
	 * separator between two of them, so + 1 makes room for all. */
	cap = urilen + 1;
	cap += (size_t)lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS) + 1;
	cap += (size_t)lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION)
	    + 1;
	cap += (size_t)lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) + 1;
	if ((req = calloc(1, sizeof(*req) + cap)) == NULL)
		return NULL;
	if (body_len > 0 && (req->body = malloc(body_len + 1)) == NULL) {
		free(req);
		return NULL;
	}
	req->h = h;
	req->wsi = wsi;
	req->state = REQ_BODY;
	ev_timer_init(&req->drain, http_drain_timeout_cb,
	    h->conf.api_send_ms / 1000., 0.);
	req->drain.data = req;
	req->method = m;
	req->body_want = body_len;
	p = req->strs;
	left = cap;
	memcpy(p, uri, urilen);
	p[urilen] = '\0';
	req->path = p;
	p += urilen + 1;
	left -= urilen + 1;
	req->args = p;
	for (i = 0; (n = lws_hdr_copy_fragment(wsi, p, (int)left,
	    WSI_TOKEN_HTTP_URI_ARGS, i)) >= 0; i++) {
		p += (size_t)n + 1;
		left -= (size_t)n + 1;
		req->nargs++;
	}
	if ((bearer = http_hdr_take(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, &p,
	    &left)) != NULL)
		req->bearer = http_bearer(bearer);
	req->origin = http_hdr_take(wsi, WSI_TOKEN_ORIGIN, &p, &left);
	req->cors = req->origin != NULL && http_origin_allowed(h, req->origin);
	http_peer(h, req, wsi);
	return req;
}

static void
http_req_free(struct gs_http_req *req)
{
	if (req->h != NULL)
		ev_timer_stop(req->h->loop, &req->drain);
	free(req->body);
	free(req->resp);
	free(req);
}

static void
http_req_link(struct gs_http *h, struct gs_http_req *req)
{
	req->prev = NULL;
	req->next = h->reqs;
	if (h->reqs != NULL)
		h->reqs->prev = req;
	h->reqs = req;
	h->stats.api_pending++;
}

static void
http_req_unlink(struct gs_http *h, struct gs_http_req *req)
{
	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		h->reqs = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
	req->prev = req->next = NULL;
	h->stats.api_pending--;
}

/* Hand a whole request to the program.  0, or -1 to close (req is then
 * still REQ_BODY, and freed with the wsi). */
static int
http_api_call(struct gs_http *h, struct lws *wsi, struct gs_http_req *req)
{
	/* Nothing more is read until the reply has left (see the top); no
	 * lws timeout runs while the program works on it. */
	if (lws_rx_flow_control(wsi, 0) < 0)
		return -1;
	lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
	if (req->body != NULL)
		req->body[req->body_len] = '\0';
	req->state = REQ_CALLED;
	http_req_link(h, req);
	h->stats.api_requests++;
	h->conf.api_cb(h->conf.arg, req);	/* may free req */
	return 0;
}

/* LWS_CALLBACK_HTTP for a path under the prefix. */
static int
http_api(struct gs_http *h, struct lws *wsi, const char *uri, size_t urilen)
{
	struct gs_http_req	*req;
	char			 obuf[GS_HTTP_ORIGIN_MAX + 1];
	const char		*origin = NULL;
	long long		 clen = 0;
	bool			 has_clen;
	int			 m, n;

	if (lws_get_opaque_user_data(wsi) != NULL) {
		/* Cannot happen with rx flow control; never mix two. */
		gs_log_warnx("http: a request while one is open: closing");
		return -1;
	}
	n = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
	if (n > 0 && n <= GS_HTTP_ORIGIN_MAX &&
	    lws_hdr_copy(wsi, obuf, sizeof(obuf), WSI_TOKEN_ORIGIN) == n &&
	    http_origin_allowed(h, obuf))
		origin = obuf;
	m = http_method(wsi);

	/* The body's framing first: nothing else is sure without it. */
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
		h->stats.api_refused++;
		return http_api_refuse(h, wsi, origin, 411, "length_required",
		    "a body needs Content-Length; Transfer-Encoding is not "
		    "supported", true);
	}
	has_clen = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
	if (has_clen && http_content_length(wsi, &clen) != 0) {
		h->stats.api_refused++;
		return http_api_refuse(h, wsi, origin, 400, "bad_request",
		    "bad Content-Length", true);
	}
	if ((unsigned long long)clen > h->conf.api_body_max) {
		h->stats.api_too_large++;
		return http_api_refuse(h, wsi, origin, 413, "too_large",
		    "the body is too large", true);
	}
	/* lws would wait for 100 MB of body until the connection ends. */
	if (!has_clen && (m == GS_HTTP_POST || m == GS_HTTP_PUT ||
	    m == GS_HTTP_PATCH)) {
		h->stats.api_refused++;
		return http_api_refuse(h, wsi, origin, 411, "length_required",
		    "a body needs Content-Length", true);
	}

	if (m == HTTP_OPTIONS)
		return http_api_preflight(h, wsi, origin);
	if (m < 0) {
		h->stats.api_refused++;
		return http_api_refuse(h, wsi, origin, 405,
		    "method_not_allowed", "method not allowed", false);
	}
	if (!http_path_ok(uri, urilen)) {
		h->stats.api_refused++;
		return http_api_refuse(h, wsi, origin, 400, "bad_request",
		    "bad path", false);
	}
	if (clen > 0 && !http_ctype_json(wsi)) {
		h->stats.api_refused++;
		return http_api_refuse(h, wsi, origin, 415,
		    "unsupported_media_type", "the body must be JSON "
		    "(Content-Type: application/json)", false);
	}

	if ((req = http_req_new(h, wsi, (enum gs_http_method)m, uri, urilen,
	    (size_t)clen)) == NULL) {
		gs_log_warnx("http: out of memory for a request");
		return http_api_refuse(h, wsi, origin, 500, "internal",
		    "out of memory", true);
	}
	lws_set_opaque_user_data(wsi, req);
	if (clen == 0)
		return http_api_call(h, wsi, req);
	req->body_deadline = ev_now(h->loop) + h->conf.api_body_ms / 1000.;
	return 0;
}

/* LWS_CALLBACK_HTTP_BODY: a piece of req's body. */
static int
http_api_body(struct gs_http *h, struct gs_http_req *req, const void *in,
    size_t len)
{
	if (len > req->body_want - req->body_len)	/* lws counts */
		return -1;
	if (ev_now(h->loop) > req->body_deadline) {
		h->stats.api_body_timeouts++;
		req->late = true;
		if (gs_ratelimit_ok(&h->rl, 10))
			gs_log_warnx("http: body too slow: closing peer=%s "
			    "bytes=%zu of=%zu", req->peer, req->body_len,
			    req->body_want);
		return -1;
	}
	memcpy(req->body + req->body_len, in, len);
	req->body_len += len;
	return 0;
}

/* req's reply has left: free it and end the transaction.  0, or -1 when
 * the connection is to close (HTTP/1.0, Connection: close). */
static int
http_api_done(struct lws *wsi, struct gs_http_req *req)
{
	lws_set_opaque_user_data(wsi, NULL);
	http_req_free(req);
	return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
}

/* LWS_CALLBACK_HTTP_WRITEABLE with req on wsi: write its reply, and
 * once lws holds none of it, end the transaction. */
static int
http_api_writeable(struct gs_http *h, struct lws *wsi,
    struct gs_http_req *req)
{
	struct http_out	o;
	int		rv;

	switch (req->state) {
	case REQ_REPLIED:
		memset(&o, 0, sizeof(o));
		o.code = req->status;
		o.ctype = HTTP_CT_JSON;
		o.buf = req->resp;
		o.len = req->resp_len;
		o.origin = req->cors ? req->origin : NULL;
		o.retry_after = req->retry_after;
		http_count(h, req->status);
		rv = http_write(h, wsi, &o);
		free(req->resp);
		req->resp = NULL;
		req->state = REQ_SENDING;
		if (rv != 0)
			return -1;		/* WSI_DESTROY frees req */
		if (lws_partial_buffered(wsi)) {
			/* lws calls again once it has gone. */
			ev_timer_start(h->loop, &req->drain);
			return 0;
		}
		break;
	case REQ_SENDING:
		if (lws_partial_buffered(wsi))
			return 0;
		break;
	default:
		return 0;
	}
	return http_api_done(wsi, req);
}

/* LWS_CALLBACK_WSI_DESTROY with req on it. */
static void
http_api_gone(struct gs_http *h, struct gs_http_req *req)
{
	req->wsi = NULL;
	switch (req->state) {
	case REQ_BODY:
		if (!req->late)
			h->stats.api_aborted++;
		http_req_free(req);
		break;
	case REQ_CALLED:
		break;			/* the program's reply frees it */
	case REQ_REPLIED:
		h->stats.api_dropped++;
		http_req_free(req);
		break;
	case REQ_SENDING:
		http_req_free(req);
		break;
	}
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
	struct gs_http		*h;
	struct gs_http_req	*req;
	const char		*uri;

	h = lws_context_user(lws_get_context(wsi));
	if (h == NULL)		/* callbacks during context creation */
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	if (http_is_ws_reason(reason)) {
		if (h->conf.ws_cb == NULL)	/* no WebSocket side: refuse */
			return reason == LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION ?
			    1 : 0;
		return h->conf.ws_cb(h->conf.arg, wsi, reason, user, in, len);
	}
	req = lws_get_opaque_user_data(wsi);
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		uri = in != NULL ? in : "";
		if (h->conf.api_cb != NULL &&
		    strncmp(uri, h->conf.api_prefix, h->prefix_len) == 0)
			return http_api(h, wsi, uri, in != NULL ? len : 0);
		return http_serve(h, wsi, uri);
	/*
	 * With a request on the wsi these are ours alone: lws's dummy
	 * would end the transaction at BODY_COMPLETION, which lws also
	 * makes for a POST with Content-Length: 0 after the request was
	 * called.
	 */
	case LWS_CALLBACK_HTTP_BODY:
		if (req == NULL)
			break;
		return req->state == REQ_BODY ?
		    http_api_body(h, req, in, len) : 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (req == NULL)
			break;
		if (req->state != REQ_BODY)
			return 0;
		if (req->body_len != req->body_want)
			return -1;
		return http_api_call(h, wsi, req);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (req == NULL)
			break;
		return http_api_writeable(h, wsi, req);
	case LWS_CALLBACK_WSI_DESTROY:
		http_conn_gone(h, wsi);
		if (req != NULL) {
			lws_set_opaque_user_data(wsi, NULL);
			http_api_gone(h, req);
		}
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/*
 * conf->cors_origins into h->cors: entries split at commas, blanks
 * around them dropped; each "*", "null" or scheme://host[:port] of
 * visible ASCII.  GS_OK or GS_EINVAL (logged).
 */
static int
http_cors_parse(struct gs_http *h, const char *list)
{
	char	*s, *e, *c;
	size_t	 n = 1;

	for (c = (char *)list; *c != '\0'; c++)
		n += *c == ',';
	if ((h->cors_buf = strdup(list)) == NULL ||
	    (h->cors = calloc(n, sizeof(*h->cors))) == NULL) {
		gs_log_warn("http: cors: malloc");
		return GS_ENOMEM;
	}
	for (s = h->cors_buf; s != NULL; s = e) {
		if ((e = strchr(s, ',')) != NULL)
			*e++ = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		n = strlen(s);
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			s[--n] = '\0';
		if (strcmp(s, "*") == 0) {
			h->cors_any = true;
			continue;
		}
		c = strstr(s, "://");
		if (n == 0 || n > GS_HTTP_ORIGIN_MAX ||
		    (strcmp(s, "null") != 0 && (c == NULL || c == s ||
		    c[3] == '\0' || strchr(c + 3, '/') != NULL))) {
			gs_log_error("http: bad CORS origin origin=\"%s\" "
			    "(want scheme://host[:port], null or *)", s);
			return GS_EINVAL;
		}
		for (c = s; *c != '\0'; c++)
			if (*c < 0x21 || *c > 0x7e) {
				gs_log_error("http: bad CORS origin "
				    "origin=\"%s\"", s);
				return GS_EINVAL;
			}
		h->cors[h->ncors++] = s;
	}
	return GS_OK;
}

/* The API side of conf into h: defaults and checks.  GS_OK or
 * GS_EINVAL (logged). */
static int
http_api_conf(struct gs_http *h)
{
	struct gs_http_conf	*c = &h->conf;

	if (c->head_max != 0 && (c->head_max < 512 || c->head_max > 65535)) {
		gs_log_error("http: head_max=%zu not in 512..65535",
		    c->head_max);
		return GS_EINVAL;
	}
	if ((c->api_cb == NULL) != (c->api_prefix == NULL) ||
	    (c->api_prefix != NULL && c->api_prefix[0] != '/')) {
		gs_log_error("http: api_prefix and api_cb go together; the "
		    "prefix starts with /");
		return GS_EINVAL;
	}
	if (c->api_prefix != NULL)
		h->prefix_len = strlen(c->api_prefix);
	if (c->api_body_max == 0)
		c->api_body_max = GS_HTTP_BODY_MAX;
	if (c->api_body_ms == 0)
		c->api_body_ms = GS_HTTP_BODY_MS;
	if (c->api_send_ms == 0)
		c->api_send_ms = GS_HTTP_SEND_MS;
	if (c->cors_max_age == 0)
		c->cors_max_age = GS_HTTP_CORS_MAX_AGE;
	if (c->cors_origins != NULL)
		return http_cors_parse(h, c->cors_origins);
	return GS_OK;
}

/* ------------------------------------------------------- accepting */

#define HTTP_ACCEPT_BUDGET	64	/* accepts per wake-up */
#define HTTP_PAUSE_LOG_US	60000000ULL	/* a pause is logged this
					 * seldom at most */
#define HTTP_RETRY_S		1.	/* after EMFILE: try again */
#define HTTP_KEEPIDLE_S		30	/* TCP keepalive: first probe */
#define HTTP_KEEPINTVL_S	10
#define HTTP_KEEPCNT		3

static const char *const http_refusal_names[GS_HTTP_NREFUSALS] = {
	[GS_HTTP_REFUSE_ADDR_CONNS] = "address_connections",
	[GS_HTTP_REFUSE_ADDR_RATE] = "address_rate",
	[GS_HTTP_REFUSE_RATE] = "rate",
	[GS_HTTP_REFUSE_ADOPT] = "adopt",
};

/* The limit key of an address: 4 bytes for IPv4 (v4-mapped folded), the
 * first 8 (its /64) for IPv6.  0, or -1 for another family. */
static int
http_addr_key(const struct sockaddr_storage *ss, uint8_t *key, uint8_t *len)
{
	const struct sockaddr_in	*sin = (const void *)ss;
	const struct sockaddr_in6	*sin6 = (const void *)ss;

	if (ss->ss_family == AF_INET) {
		memcpy(key, &sin->sin_addr, 4);
		*len = 4;
	} else if (ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		memcpy(key, &sin6->sin6_addr.s6_addr[12], 4);
		*len = 4;
	} else if (ss->ss_family == AF_INET6) {
		memcpy(key, &sin6->sin6_addr, 8);
		*len = 8;
	} else
		return -1;
	return 0;
}

/* FNV-1a over the key, from a random basis: a peer cannot aim at a
 * chain it does not know. */
static size_t
http_addr_slot(const struct gs_http *h, const uint8_t *key, uint8_t len)
{
	uint64_t	v = h->aseed;
	uint8_t		i;

	for (i = 0; i < len; i++) {
		v ^= key[i];
		v *= 0x100000001b3ULL;
	}
	return (size_t)(v ^ (v >> 29)) & (h->atabsz - 1);
}

static struct http_addr *
http_addr_find(struct gs_http *h, const uint8_t *key, uint8_t len)
{
	struct http_addr	*a;

	for (a = h->atab[http_addr_slot(h, key, len)]; a != NULL; a = a->next)
		if (a->keylen == len && memcmp(a->key, key, len) == 0)
			return a;
	return NULL;
}

/* Double the table when crowded; on malloc failure keep the old one. */
static void
http_atab_grow(struct gs_http *h)
{
	struct http_addr	**nt, **ot = h->atab, *a, *nx;
	size_t			  osz = h->atabsz, i;

	if ((nt = calloc(osz * 2, sizeof(*nt))) == NULL)
		return;
	h->atab = nt;
	h->atabsz = osz * 2;
	for (i = 0; i < osz; i++) {
		for (a = ot[i]; a != NULL; a = nx) {
			nx = a->next;
			a->next = nt[http_addr_slot(h, a->key, a->keylen)];
			nt[http_addr_slot(h, a->key, a->keylen)] = a;
		}
	}
	free(ot);
}

static struct http_addr *
http_addr_get(struct gs_http *h, const uint8_t *key, uint8_t len)
{
	struct http_addr	*a;
	size_t			 i;

	if ((a = http_addr_find(h, key, len)) != NULL)
		return a;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	memcpy(a->key, key, len);
	a->keylen = len;
	i = http_addr_slot(h, key, len);
	a->next = h->atab[i];
	h->atab[i] = a;
	if (++h->naddr > h->atabsz)
		http_atab_grow(h);
	return a;
}

static void
http_addr_put(struct gs_http *h, struct http_addr *a)
{
	struct http_addr	**pp;

	if (a->open > 0)
		return;
	for (pp = &h->atab[http_addr_slot(h, a->key, a->keylen)];
	    *pp != NULL; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	}
	h->naddr--;
	free(a);
}

/* Stop watching the listening socket: at conns_max (nofd false) or for
 * want of descriptors.  Logged once, then at most once a minute. */
static void
http_accept_pause(struct gs_http *h, bool nofd, int err)
{
	uint64_t	now = gs_now_us();

	ev_io_stop(h->loop, &h->accept_w);
	if (nofd && !ev_is_active(&h->retry_w)) {
		/* Set again: a timer that fired is due at once. */
		ev_timer_set(&h->retry_w, HTTP_RETRY_S, 0.);
		ev_timer_start(h->loop, &h->retry_w);
	}
	if (h->stats.paused)
		return;
	h->stats.paused = 1;
	if (nofd)
		h->stats.pauses_nofd++;
	else
		h->stats.pauses_full++;
	if (h->paused_log_us[nofd] != 0 &&
	    now - h->paused_log_us[nofd] < HTTP_PAUSE_LOG_US)
		return;
	h->paused_log_us[nofd] = now;
	if (nofd)
		gs_log_warnx("http: descriptor limit reached, not accepting "
		    "until a connection closes open=%u err=\"%s\"",
		    h->stats.conns_open, strerror(err));
	else
		gs_log_warnx("http: connection limit reached, not accepting "
		    "until a connection closes open=%u max=%u",
		    h->stats.conns_open, h->stats.conns_max);
}

static void
http_accept_resume(struct gs_http *h)
{
	if (!h->stats.paused || h->stopping)
		return;
	h->stats.paused = 0;
	ev_timer_stop(h->loop, &h->retry_w);
	ev_io_start(h->loop, &h->accept_w);
}

static void
http_refuse(struct gs_http *h, int fd, enum gs_http_refusal why,
    const struct sockaddr_storage *ss)
{
	struct linger	lg = { 1, 0 };
	char		peer[INET6_ADDRSTRLEN];
	const void	*a;

	/* An RST: no FIN_WAIT or TIME_WAIT kept for a refused peer. */
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	(void)close(fd);
	h->stats.refused[why]++;
	if (!gs_ratelimit_ok(&h->rl, 10))
		return;
	a = ss->ss_family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)ss)->sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
	if (inet_ntop(ss->ss_family, a, peer, sizeof(peer)) == NULL)
		(void)gs_strlcpy(peer, "?", sizeof(peer));
	gs_log_info("http: connection refused peer=%s reason=%s", peer,
	    http_refusal_names[why]);
}

/* A new connection: judged, then handed to lws, or closed. */
static void
http_admit(struct gs_http *h, int fd, const struct sockaddr_storage *ss)
{
	struct http_addr	*a;
	struct lws		*wsi;
	uint8_t			 key[16], len;
	uint64_t		 now = gs_now_us();
	int			 one = 1, v;

	if (http_addr_key(ss, key, &len) != 0) {
		(void)close(fd);
		return;
	}
	a = http_addr_find(h, key, len);
	if (h->conf.addr_conns_max > 0 && a != NULL &&
	    a->open >= h->conf.addr_conns_max) {
		http_refuse(h, fd, GS_HTTP_REFUSE_ADDR_CONNS, ss);
		return;
	}
	if (h->addr_rl != NULL &&
	    !gs_limit_take(h->addr_rl, key, len, now, 1, NULL)) {
		http_refuse(h, fd, GS_HTTP_REFUSE_ADDR_RATE, ss);
		return;
	}
	if (h->conn_rl != NULL &&
	    !gs_limit_take(h->conn_rl, "", 0, now, 1, NULL)) {
		http_refuse(h, fd, GS_HTTP_REFUSE_RATE, ss);
		return;
	}
	/* What lws's listener would set, and keepalive (see http.h).
	 * Failures only cost the option. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	v = HTTP_KEEPIDLE_S;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v));
	v = HTTP_KEEPINTVL_S;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof(v));
	v = HTTP_KEEPCNT;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v));
	if ((a = http_addr_get(h, key, len)) == NULL) {
		http_refuse(h, fd, GS_HTTP_REFUSE_ADOPT, ss);
		return;
	}
	/* lws closes fd itself when it fails. */
	if ((wsi = lws_adopt_socket_vhost(h->vh, fd)) == NULL) {
		h->stats.refused[GS_HTTP_REFUSE_ADOPT]++;
		http_addr_put(h, a);
		if (gs_ratelimit_ok(&h->rl, 10))
			gs_log_warnx("http: lws cannot adopt a connection");
		return;
	}
	a->open++;
	h->stats.conns_open++;
	h->stats.accepted++;
	lws_set_opaque_parent_data(wsi, a);
}

/* LWS_CALLBACK_WSI_DESTROY: an adopted connection is gone. */
static void
http_conn_gone(struct gs_http *h, struct lws *wsi)
{
	struct http_addr	*a;

	if ((a = lws_get_opaque_parent_data(wsi)) == NULL)
		return;
	lws_set_opaque_parent_data(wsi, NULL);
	a->open--;
	h->stats.conns_open--;
	http_addr_put(h, a);
	http_accept_resume(h);
}

struct gs_http_addr *
gs_http_addr_claim(struct gs_http *h, const struct sockaddr *sa,
    size_t salen, enum gs_http_refusal *why)
{
	struct sockaddr_storage	 ss;
	struct http_addr	*a;
	uint8_t			 key[16], len;
	uint64_t		 now = gs_now_us();

	*why = GS_HTTP_REFUSE_ADOPT;
	if (salen > sizeof(ss))
		return NULL;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, sa, salen);
	if (http_addr_key(&ss, key, &len) != 0)
		return NULL;
	a = http_addr_find(h, key, len);
	if (h->conf.addr_conns_max > 0 && a != NULL &&
	    a->open >= h->conf.addr_conns_max) {
		*why = GS_HTTP_REFUSE_ADDR_CONNS;
		return NULL;
	}
	if (h->addr_rl != NULL &&
	    !gs_limit_take(h->addr_rl, key, len, now, 1, NULL)) {
		*why = GS_HTTP_REFUSE_ADDR_RATE;
		return NULL;
	}
	if (h->conn_rl != NULL &&
	    !gs_limit_take(h->conn_rl, "", 0, now, 1, NULL)) {
		*why = GS_HTTP_REFUSE_RATE;
		return NULL;
	}
	if ((a = http_addr_get(h, key, len)) == NULL)
		return NULL;
	a->open++;
	return (struct gs_http_addr *)a;
}

void
gs_http_addr_release(struct gs_http *h, struct gs_http_addr *ga)
{
	struct http_addr	*a = (struct http_addr *)ga;

	if (a == NULL)
		return;
	a->open--;
	http_addr_put(h, a);
}

static void
http_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct gs_http		*h = w->data;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	int			 fd, n;

	for (n = 0; n < HTTP_ACCEPT_BUDGET; n++) {
		if (h->stats.conns_open >= h->stats.conns_max) {
			http_accept_pause(h, false, 0);
			return;
		}
		sl = sizeof(ss);
		fd = accept4(h->lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1) {
			http_admit(h, fd, &ss);
			continue;
		}
		switch (errno) {
		case EAGAIN:
#if EWOULDBLOCK != EAGAIN
		case EWOULDBLOCK:
#endif
			return;
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
			continue;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			http_accept_pause(h, true, errno);
			return;
		default:
			if (gs_ratelimit_ok(&h->rl, 10))
				gs_log_warn("http: accept");
			return;
		}
	}
}

static void
http_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	http_accept_resume(w->data);
}

/* The socket address to listen on for iface (NULL: every address, IPv6
 * and IPv4 when the host has IPv6): an IPv4 or IPv6 literal, a
 * network interface's name (its first IPv4 address, else IPv6), or a
 * host name.  0, or -1 (logged). */
static int
http_listen_addr(const char *iface, int port, struct sockaddr_storage *ss,
    socklen_t *sl)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	struct ifaddrs		*ifs, *i;
	struct addrinfo		 hints, *res;
	int			 rv = -1;

	memset(ss, 0, sizeof(*ss));
	if (iface == NULL) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		goto v6;
	}
	if (inet_pton(AF_INET, iface, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		goto v4;
	}
	if (inet_pton(AF_INET6, iface, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		goto v6;
	}
	if (getifaddrs(&ifs) == 0) {
		for (i = ifs; i != NULL; i = i->ifa_next)
			if (i->ifa_addr != NULL && strcmp(i->ifa_name,
			    iface) == 0 && i->ifa_addr->sa_family == AF_INET)
				break;
		for (i = i != NULL ? i : ifs; i != NULL; i = i->ifa_next)
			if (i->ifa_addr != NULL && strcmp(i->ifa_name,
			    iface) == 0 && (i->ifa_addr->sa_family == AF_INET ||
			    i->ifa_addr->sa_family == AF_INET6))
				break;
		if (i != NULL) {
			memcpy(ss, i->ifa_addr, i->ifa_addr->sa_family ==
			    AF_INET ? sizeof(*sin) : sizeof(*sin6));
			rv = 0;
		}
		freeifaddrs(ifs);
	}
	if (rv != 0) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE;
		if (getaddrinfo(iface, NULL, &hints, &res) != 0) {
			gs_log_error("http: no such address or interface "
			    "iface=%s", iface);
			return -1;
		}
		memcpy(ss, res->ai_addr, res->ai_addrlen);
		freeaddrinfo(res);
	}
	if (ss->ss_family == AF_INET6)
		goto v6;
v4:
	sin->sin_port = htons((uint16_t)port);
	*sl = sizeof(*sin);
	return 0;
v6:
	sin6->sin6_port = htons((uint16_t)port);
	*sl = sizeof(*sin6);
	return 0;
}

/* Our listening socket, bound and listening, watched by accept_w.
 * GS_OK or an error (logged). */
static int
http_listen(struct gs_http *h)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	int			 one = 1, zero = 0;

	if (http_listen_addr(h->conf.iface, h->conf.port, &ss, &sl) != 0)
		return GS_EINVAL;
	h->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (h->lfd == -1 && h->conf.iface == NULL) {
		/* No IPv6 here: every IPv4 address then. */
		memset(&ss, 0, sizeof(ss));
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port =
		    htons((uint16_t)h->conf.port);
		sl = sizeof(struct sockaddr_in);
		h->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
	}
	if (h->lfd == -1) {
		gs_log_warn("http: socket");
		return GS_ESYS;
	}
	(void)setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6 && h->conf.iface == NULL)
		(void)setsockopt(h->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
		    sizeof(zero));
	if (bind(h->lfd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(h->lfd, SOMAXCONN) == -1) {
		gs_log_warn("http: bind iface=%s port=%d",
		    h->conf.iface != NULL ? h->conf.iface : "*", h->conf.port);
		return GS_ESYS;
	}
	sl = sizeof(ss);
	if (getsockname(h->lfd, (struct sockaddr *)&ss, &sl) == -1) {
		gs_log_warn("http: getsockname");
		return GS_ESYS;
	}
	h->port = ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	ev_io_init(&h->accept_w, http_accept_cb, h->lfd, EV_READ);
	h->accept_w.data = h;
	ev_timer_init(&h->retry_w, http_retry_cb, HTTP_RETRY_S, 0.);
	h->retry_w.data = h;
	ev_io_start(h->loop, &h->accept_w);
	return GS_OK;
}

/* The accepting side of conf into h.  GS_OK or GS_EINVAL (logged). */
static int
http_accept_conf(struct gs_http *h)
{
	struct gs_http_conf	*c = &h->conf;
	struct rlimit		 rl;
	uint64_t		 max = UINT32_MAX;

	h->lfd = -1;
	h->atabsz = 256;
	h->aseed = gs_random_u64() | 1;
	if ((h->atab = calloc(h->atabsz, sizeof(*h->atab))) == NULL) {
		gs_log_warn("http: calloc");
		return GS_ENOMEM;
	}
	if (c->conns_max == 0) {
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < max)
			max = rl.rlim_cur;
		max = max > GS_HTTP_FD_RESERVE * 2 ? max - GS_HTTP_FD_RESERVE :
		    max / 2;
		h->stats.conns_max = (unsigned)max;
	} else
		h->stats.conns_max = c->conns_max;
	if (c->addr_rate > 0 && (h->addr_rl = gs_limit_new(65536, c->addr_rate,
	    c->addr_burst >= 1 ? c->addr_burst : 1)) == NULL) {
		gs_log_error("http: bad address rate=%g burst=%g", c->addr_rate,
		    c->addr_burst);
		return GS_EINVAL;
	}
	if (c->conn_rate > 0 && (h->conn_rl = gs_limit_new(1, c->conn_rate,
	    c->conn_burst >= 1 ? c->conn_burst : 1)) == NULL) {
		gs_log_error("http: bad connection rate=%g burst=%g",
		    c->conn_rate, c->conn_burst);
		return GS_EINVAL;
	}
	return GS_OK;
}

static void
http_free(struct gs_http *h)
{
	struct http_addr	*a, *nx;
	size_t			 i;

	if (h->lfd != -1) {
		ev_io_stop(h->loop, &h->accept_w);
		ev_timer_stop(h->loop, &h->retry_w);
		(void)close(h->lfd);
	}
	for (i = 0; h->atab != NULL && i < h->atabsz; i++)
		for (a = h->atab[i]; a != NULL; a = nx) {
			nx = a->next;
			free(a);
		}
	free(h->atab);
	gs_limit_free(h->addr_rl);
	gs_limit_free(h->conn_rl);
	free(h->cors);
	free(h->cors_buf);
	free(h);
}

struct gs_http *
gs_http_start(struct ev_loop *loop, const struct gs_http_conf *conf)
{
	struct lws_context_creation_info	 info;
	struct gs_http				*h;
	size_t					 i = 0;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		gs_log_warn("http: calloc");
		return NULL;
	}
	h->loop = loop;
	h->conf = *conf;
	h->loops[0] = loop;
	if (http_accept_conf(h) != GS_OK || http_api_conf(h) != GS_OK) {
		http_free(h);
		return NULL;
	}

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

	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_LIBEV;
	info.foreign_loops = h->loops;
	/* A server vhost without lws's listener: ours adopts (Accepting,
	 * http.h).  A retry_and_idle_policy of zeros: no WebSocket ping
	 * timer, which would sit in lws's sorted timer list, a walk of it
	 * per connection (without a policy lws uses its default one,
	 * pinging after 300 s); TCP keepalive finds dead peers instead. */
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.retry_and_idle_policy = &h->retry;
	info.protocols = h->protocols;
	info.vhost_name = "default";
	info.server_string = gs_log_prog();
	info.timeout_secs = 10;
	info.max_http_header_data = (unsigned short)h->conf.head_max;
	/* The callback reads h back from here; it is NULL (and handled)
	 * for callbacks made while the context is being created. */
	info.user = h;

	if ((h->ctx = lws_create_context(&info)) == NULL) {
		gs_log_error("http: cannot start libwebsockets "
		    "iface=%s port=%d (is libwebsockets-evlib-ev installed, "
		    "is the port free?)",
		    conf->iface != NULL ? conf->iface : "*", conf->port);
		http_free(h);
		return NULL;
	}
	if ((h->vh = lws_get_vhost_by_name(h->ctx, "default")) == NULL) {
		gs_log_error("http: no vhost");
		lws_context_destroy(h->ctx);
		http_free(h);
		return NULL;
	}
	if (http_listen(h) != GS_OK) {
		lws_context_destroy(h->ctx);
		http_free(h);
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

const struct gs_http_stats *
gs_http_stats(const struct gs_http *h)
{
	return &h->stats;
}

void
gs_http_stop(struct gs_http *h)
{
	struct gs_http_req	*req;

	if (h == NULL)
		return;
	h->stopping = true;
	ev_io_stop(h->loop, &h->accept_w);
	ev_timer_stop(h->loop, &h->retry_w);
	lws_context_destroy(h->ctx);	/* every wsi: WSI_DESTROY */
	/* What the program still holds outlives h: its reply frees it. */
	while ((req = h->reqs) != NULL) {
		http_req_unlink(h, req);
		req->h = NULL;
		req->wsi = NULL;
	}
	http_free(h);
}

/* ------------------------------------------------- requests, replies */

const char *
gs_http_method_name(enum gs_http_method m)
{
	static const char *const names[] = {
		[GS_HTTP_GET] = "GET", [GS_HTTP_POST] = "POST",
		[GS_HTTP_PUT] = "PUT", [GS_HTTP_PATCH] = "PATCH",
		[GS_HTTP_DELETE] = "DELETE",
	};

	return (unsigned)m < GS_NELEM(names) ? names[m] : "?";
}

enum gs_http_method
gs_http_req_method(const struct gs_http_req *req)
{
	return req->method;
}

const char *
gs_http_req_path(const struct gs_http_req *req)
{
	return req->path;
}

const char *
gs_http_req_query(const struct gs_http_req *req, const char *name)
{
	const char	*a = req->args;
	size_t		 n = strlen(name);
	unsigned	 i;

	for (i = 0; i < req->nargs; i++, a += strlen(a) + 1)
		if (strncmp(a, name, n) == 0 && (a[n] == '=' || a[n] == '\0'))
			return a[n] == '=' ? a + n + 1 : a + n;
	return NULL;
}

const uint8_t *
gs_http_req_body(const struct gs_http_req *req, size_t *len)
{
	*len = req->body_len;
	return req->body != NULL ? req->body : (const uint8_t *)"";
}

const char *
gs_http_req_bearer(const struct gs_http_req *req)
{
	return req->bearer;
}

const char *
gs_http_req_origin(const struct gs_http_req *req)
{
	return req->origin;
}

const char *
gs_http_req_peer(const struct gs_http_req *req)
{
	return req->peer;
}

const uint8_t *
gs_http_req_peer_key(const struct gs_http_req *req, size_t *len)
{
	*len = req->peer_keylen;
	return req->peer_key;
}

void
gs_http_reply_json(struct gs_http_req *req, unsigned status, json_t *body,
    unsigned retry_after_s)
{
	static const char	oops[] = "{\"error\":{\"code\":\"internal\","
	    "\"message\":\"the reply could not be written\"}}";
	struct gs_http		*h = req->h;

	if (req->state != REQ_CALLED)
		gs_fatalx(GS_EXIT_RUNTIME, "http: a second reply path=%s",
		    req->path);
	if (h != NULL)
		http_req_unlink(h, req);
	if (h == NULL || req->wsi == NULL) {
		json_decref(body);
		if (h != NULL)
			h->stats.api_dropped++;
		http_req_free(req);
		return;
	}
	if (status < 200 || status > 599) {
		gs_log_warnx("http: reply status=%u out of range path=%s",
		    status, req->path);
		json_decref(body);
		body = NULL;
		status = HTTP_STATUS_INTERNAL_SERVER_ERROR;
	}
	if (status == HTTP_STATUS_NO_CONTENT || status == 304) {
		json_decref(body);
		body = NULL;
	}
	if (http_json_buf(body, &req->resp, &req->resp_len) != 0) {
		gs_log_warnx("http: cannot write a reply status=%u path=%s",
		    status, req->path);
		status = HTTP_STATUS_INTERNAL_SERVER_ERROR;
		req->resp_len = 0;
		if ((req->resp = malloc(LWS_PRE + sizeof(oops) - 1)) != NULL) {
			memcpy(req->resp + LWS_PRE, oops, sizeof(oops) - 1);
			req->resp_len = sizeof(oops) - 1;
		}
	}
	json_decref(body);
	req->status = status;
	req->retry_after = retry_after_s;
	req->state = REQ_REPLIED;
	/* POLLOUT needs reading back on (see the top).  Either failing
	 * means lws is losing the connection: WSI_DESTROY frees req. */
	if (lws_rx_flow_control(req->wsi, 1) < 0 ||
	    lws_callback_on_writable(req->wsi) < 0)
		gs_log_warnx("http: cannot ask to write path=%s", req->path);
}

void
gs_http_reply_error(struct gs_http_req *req, unsigned status,
    const char *code, const char *message, unsigned retry_after_s)
{
	gs_http_reply_json(req, status, http_error_body(code, message),
	    retry_after_s);
}

/* --------------------------------------------------------------- flags */

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
