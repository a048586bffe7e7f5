/*
 * An HTTP server on libwebsockets, running on the caller's libev loop
 * (LWS_SERVER_OPTION_LIBEV with a foreign loop).  It answers
 *   GET /healthz   200 "ok" while the loop runs
 *   GET /readyz    200 "ready" or 503 "not ready" (conf->ready)
 *   GET /version   200 "<prog> <version>"
 *   GET /metrics   200 Prometheus text (conf->metrics)
 *   under conf->api_prefix, when set: the JSON API (below)
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
 * lws logs errors and warnings through gs_log, at most 10 lines a
 * second (a peer can cause them); notice and below stay off: at notice
 * lws 4.1 prints a line per I/O change on libev.
 *
 * Accepting.  This module owns the listening socket: accept4() in an
 * ev_io, then lws_adopt_socket_vhost(), so a connection is judged
 * before lws spends anything on it (lws 4.1's own listener retries a
 * failing accept() at once, in a busy loop that logs each failure).  A
 * connection over one of the conf limits below is closed at once (an
 * RST), counted in gs_http_stats by reason and logged at a limited rate:
 *   addr_conns_max	connections open from one address (IPv6: one
 *			/64); 0: no limit
 *   addr_rate, addr_burst   new connections a second from one address;
 *			0: no limit
 *   conn_rate, conn_burst   new connections a second in all; 0: none
 * With conns_max connections open (0: the soft RLIMIT_NOFILE less
 * GS_HTTP_FD_RESERVE, kept for the program's other sockets: NNG, the
 * control socket) accepting stops: the listening socket is no longer
 * watched and new connections wait in the kernel's backlog.  So it does
 * when accept() fails for want of descriptors or memory (EMFILE,
 * ENFILE, ENOBUFS, ENOMEM).  Either is logged once (again at most once
 * a minute), and accepting starts again when a connection closes, or
 * after a second when descriptors ran out.
 * Accepted sockets get TCP_NODELAY and TCP keepalive (probes after 30 s
 * of silence, 3 of them 10 s apart): the kernel finds dead peers,
 * where lws's WebSocket ping timers would cost a walk of a sorted list
 * per connection.
 *
 * The API side
 * ------------
 * Every request whose path starts with conf->api_prefix ("/v1/") is
 * the API's; the prefix is matched on the decoded path, byte for byte.
 *
 *   GET POST PUT PATCH DELETE   handed to conf->api_cb as a struct
 *		gs_http_req, once its body is whole.
 *   OPTIONS	answered here from the CORS configuration (a preflight),
 *		never handed on: 204, Allow, and for an allowed Origin
 *		the Access-Control-* headers.
 *   HEAD	405 with Allow.
 *
 * Refused here, before the callback, with a JSON error body
 * {"error":{"code":...,"message":...}}:
 *   411 length_required	a Transfer-Encoding header (a chunked body:
 *		lws 4.1 does not decode chunked request bodies, and would
 *		read the chunk framing as the body), or a POST, PUT or
 *		PATCH without Content-Length.  The connection is closed.
 *   400 bad_request	a Content-Length that is not a plain decimal
 *		number (the connection is closed), or a path with a
 *		control character or a "." or ".." segment.
 *   413 too_large	Content-Length over conf->api_body_max.  Nothing
 *		of the body is read and the connection is closed.
 *   415 unsupported_media_type	a body whose Content-Type is not JSON
 *		(application/json or application/<x>+json, parameters
 *		allowed).  A browser cannot send such a body cross-origin
 *		without a preflight, so a page of another site cannot
 *		post to the API behind the CORS check.
 *   405 method_not_allowed	HEAD (and anything lws parses that is
 *		not listed above).
 *
 * Paths.  lws decodes the path before anyone sees it: %xx is decoded
 * (so %2F is a "/"), "+" becomes a space, "//" and "/./" collapse, and
 * "/.." removes the segment before it; a %00 makes lws drop the
 * connection.  gs_http_req_path() is that decoded path, without the
 * query, prefix included.  What lws lets through is checked again:
 * a path with a byte below 0x20 or 0x7f, or a "." or ".." segment,
 * gets a 400.
 *
 * CORS.  conf->cors_origins is a comma-separated allow-list of origins
 * as browsers send them ("https://play.example.com,http://localhost:8080",
 * scheme://host[:port] with no path, or "null"; compared byte for
 * byte), or "*" for any origin; NULL allows none.  A request whose
 * Origin is allowed gets Access-Control-Allow-Origin echoing that
 * Origin and Vary: Origin on every API reply, errors included, with
 * Access-Control-Expose-Headers: Retry-After (a preflight gets
 * -Allow-Methods, -Allow-Headers and -Max-Age instead).  A request
 * with no Origin (curl, another server) or one not allowed gets no
 * CORS header at all, and is otherwise served the same: the browser
 * then withholds the response from the page, and a preflight without
 * the headers makes it not send the request.  No
 * Access-Control-Allow-Credentials is ever sent: the API authenticates
 * with a bearer token the page sets itself, not with cookies.
 *
 * Sizes and time.  A request head (request line and headers) over
 * conf->head_max bytes (default 4096, lws's) cannot get a 431: lws 4.1
 * detects the overflow inside its parser and drops the connection
 * without a response; nothing is called between the two (it logs
 * "Ran out of header data space" through gs_log, rate-limited).  A
 * head must be whole within 10 s of its first byte (lws's
 * timeout_secs_ah_idle, not reset by traffic).  A body must arrive
 * without a 10 s silence (lws's timeout_secs, reset by each read) and
 * whole within conf->api_body_ms of its head (checked here at each
 * read); either breach closes the connection without a response.  While
 * a request is with the program no timer runs: the program's own
 * deadline (its RPC timeout) bounds it.  Expect: 100-continue is not
 * answered (clients send the body after their own wait, 1 s for curl).
 *
 * Keep-alive and order.  A connection carries one request at a time:
 * from the moment a request is handed to api_cb until its reply is
 * being written, nothing more is read from that connection (lws rx flow
 * control), so a pipelining client gets its answers in order.  A client
 * that goes away meanwhile is therefore noticed only when its reply is
 * written.  A reply lws cannot write whole at once (a send is at most
 * ws_tx_packet bytes, else ws_rx_buffer, else 4 KiB) must be taken by
 * the client within conf->api_send_ms, or the connection is cut.
 */
#ifndef GS_HTTP_H
#define GS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <jansson.h>
#include <libwebsockets.h>

#include "metrics.h"

typedef int gs_ws_cb(void *arg, struct lws *wsi,
		enum lws_callback_reasons reason, void *user, void *in,
		size_t len);

enum gs_http_method {
	GS_HTTP_GET,
	GS_HTTP_POST,
	GS_HTTP_PUT,
	GS_HTTP_PATCH,
	GS_HTTP_DELETE,
	GS_HTTP_NMETHODS
};

/* An API request (opaque): see gs_http_api_cb for its lifetime. */
struct gs_http_req;

/*
 * A request under api_prefix, with its whole body.  The program owes
 * exactly one gs_http_reply_json() (or gs_http_reply_error()) on req:
 * during the callback or later, from the loop's thread.  req and
 * everything its accessors return stay valid until that call, even if
 * the client goes away meanwhile (the reply is then dropped) and even
 * after gs_http_stop(); the call frees req.  Called from inside lws:
 * do not call gs_http_stop() from here.
 */
typedef void gs_http_api_cb(void *arg, struct gs_http_req *req);

#define GS_HTTP_BODY_MAX	(16 * 1024)	/* api_body_max default */
#define GS_HTTP_BODY_MS		10000		/* api_body_ms default */
#define GS_HTTP_SEND_MS		10000		/* api_send_ms default */
#define GS_HTTP_CORS_MAX_AGE	600		/* cors_max_age default, s */
#define GS_HTTP_ORIGIN_MAX	256	/* longer Origins are never allowed */

struct gs_http_conf {
	const char		*iface;	/* address to bind; NULL: all */
	int			 port;	/* 0: any free port */
	struct gs_metrics	*metrics;	/* may be NULL */
	int			(*ready)(void *arg);	/* NULL: always */
	void			*arg;	/* for ready, ws_cb and api_cb */
	/* Request head (line and headers) in bytes, for every request,
	 * WebSocket upgrades included; 0: 4096.  At most 65535. */
	size_t			 head_max;
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
	/* With a WebSocket side, GET /negotiate lists it, and QUIC on
	 * this UDP port first when > 0 (gs-protocol(7), QUIC). */
	int			 quic_port;
	/* Optional JSON API: both set, or neither. */
	const char		*api_prefix;	/* "/v1/": starts with '/' */
	gs_http_api_cb		*api_cb;
	size_t			 api_body_max;	/* bytes; 0: GS_HTTP_BODY_MAX */
	unsigned		 api_body_ms;	/* 0: GS_HTTP_BODY_MS */
	/* A reply the socket has not taken whole by then: the connection
	 * is cut.  0: GS_HTTP_SEND_MS. */
	unsigned		 api_send_ms;
	/* "https://a.example,http://localhost:8080", "*"; NULL: none. */
	const char		*cors_origins;
	unsigned		 cors_max_age;	/* s; 0: GS_HTTP_CORS_MAX_AGE */
	/* Accepting (see above); 0: no limit, conns_max: derived. */
	unsigned		 conns_max;
	unsigned		 addr_conns_max;
	double			 addr_rate, addr_burst;	/* burst >= 1 */
	double			 conn_rate, conn_burst;
};

#define GS_HTTP_FD_RESERVE	64	/* descriptors kept from conns_max */

/* Why a connection was closed as it was accepted. */
enum gs_http_refusal {
	GS_HTTP_REFUSE_ADDR_CONNS,	/* addr_conns_max open already */
	GS_HTTP_REFUSE_ADDR_RATE,	/* over addr_rate */
	GS_HTTP_REFUSE_RATE,		/* over conn_rate */
	GS_HTTP_REFUSE_ADOPT,		/* lws could not take it */
	GS_HTTP_NREFUSALS
};

/*
 * What the API side did, for the program's metrics; plain counters
 * updated on the loop thread.  Every response to an API path counts
 * once in api_replies, by status class ([2] for 2xx ... [5] for 5xx),
 * whoever wrote it: the program, or this module for preflights and
 * refusals.
 */
struct gs_http_stats {
	uint64_t	api_requests;	/* handed to api_cb */
	uint64_t	api_replies[6];	/* by class; [0], [1]: unused */
	uint64_t	api_preflights;	/* OPTIONS answered here */
	uint64_t	api_too_large;	/* 413: body over api_body_max */
	uint64_t	api_refused;	/* 400, 405, 411, 415 here */
	uint64_t	api_body_timeouts;	/* body late: closed */
	uint64_t	api_aborted;	/* client gone before its body ended */
	uint64_t	api_dropped;	/* client gone before its reply */
	uint64_t	api_send_timeouts;	/* reply not taken: cut */
	uint64_t	api_pending;	/* now with the program (a gauge) */
	/* Accepting. */
	uint64_t	accepted;	/* handed to lws */
	uint64_t	refused[GS_HTTP_NREFUSALS];
	uint64_t	pauses_full;	/* accepting stopped at conns_max */
	uint64_t	pauses_nofd;	/* accepting stopped: EMFILE, ... */
	unsigned	conns_open;	/* a gauge */
	unsigned	conns_max;	/* the limit in force */
	unsigned	paused;		/* 0, or 1 while not accepting */
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
 * the server (cors_origins is parsed into a copy).  Returns NULL
 * (logged) when the API or CORS configuration is invalid or lws
 * cannot start or listen. */
struct gs_http	*gs_http_start(struct ev_loop *loop,
		    const struct gs_http_conf *conf);
/* The port actually bound (useful with port 0). */
int		 gs_http_port(const struct gs_http *h);
struct lws_context *gs_http_context(struct gs_http *h);
const struct gs_http_stats *gs_http_stats(const struct gs_http *h);
/* Destroy the lws context: open WebSocket connections get their
 * LWS_CALLBACK_CLOSED before this returns.  API requests still with the
 * program stay valid and are freed by their reply, which is dropped.
 * Do not call it from inside an lws callback.  NULL is a no-op. */
void		 gs_http_stop(struct gs_http *h);

/*
 * The same limits per address (addr_conns_max, addr_rate) and in all
 * (conn_rate) for another transport of the same server, QUIC's
 * connections: an address's connections of both kinds count together.
 * Claim when a connection of the address is to be kept: its entry, or
 * NULL with *why.  Release once, when it is gone, before
 * gs_http_stop().
 */
struct gs_http_addr;
struct sockaddr;
struct gs_http_addr *gs_http_addr_claim(struct gs_http *h,
		    const struct sockaddr *sa, size_t salen,
		    enum gs_http_refusal *why);
void		 gs_http_addr_release(struct gs_http *h,
		    struct gs_http_addr *a);

/* ---------------------------------------------------- API requests */

/* "GET", "POST", ...; "?" out of range. */
const char	*gs_http_method_name(enum gs_http_method m);

enum gs_http_method gs_http_req_method(const struct gs_http_req *req);
/* The decoded path without the query (see Paths above). */
const char	*gs_http_req_path(const struct gs_http_req *req);
/* The value of the first query parameter called name, decoded ("+" is a
 * space); "" for "?name" or "?name="; NULL when absent. */
const char	*gs_http_req_query(const struct gs_http_req *req,
		    const char *name);
/* The body, *len bytes (0 with no body); a NUL byte follows it, for
 * convenience: the body may hold NULs of its own. */
const uint8_t	*gs_http_req_body(const struct gs_http_req *req,
		    size_t *len);
/* The token of "Authorization: Bearer <token>" (scheme case-insensitive,
 * token68 characters only); NULL when absent, of another scheme,
 * malformed or repeated. */
const char	*gs_http_req_bearer(const struct gs_http_req *req);
/* The Origin header as sent; NULL when absent. */
const char	*gs_http_req_origin(const struct gs_http_req *req);
/* The peer's address as text: "192.0.2.1", "2001:db8::1" (an IPv4
 * client of a dual-stack socket shows as IPv4). */
const char	*gs_http_req_peer(const struct gs_http_req *req);
/* The same as bytes, a key for rate limits: 4 bytes for IPv4
 * (v4-mapped IPv6 folded), 16 for IPv6, in network order; *len is 0
 * if the address could not be read (logged), and all such share "". */
const uint8_t	*gs_http_req_peer_key(const struct gs_http_req *req,
		    size_t *len);

/*
 * Answer req and free it: status (200..599) with body as compact JSON
 * (body is stolen; NULL: no body), Content-Type application/json,
 * Cache-Control no-store, Retry-After when retry_after_s > 0, and the
 * CORS headers when the Origin is allowed.  204 and 304 carry no body
 * (body is released).  The reply leaves when the connection can take
 * it; if the client is gone it is dropped.  A status out of range or a
 * body jansson cannot write becomes a 500 (logged).
 */
void		 gs_http_reply_json(struct gs_http_req *req, unsigned status,
		    json_t *body, unsigned retry_after_s);
/* gs_http_reply_json() with {"error":{"code":code,"message":message}};
 * message may be NULL (then no "message"). */
void		 gs_http_reply_error(struct gs_http_req *req, unsigned status,
		    const char *code, const char *message,
		    unsigned retry_after_s);

#endif
