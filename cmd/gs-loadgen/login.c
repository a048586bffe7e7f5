/*
 * HTTP before the run.  -u http://: GET /negotiate, for the transports
 * (lg_negotiate, at the end).  -A: every client logs in as a guest, so
 * that the load joins a gateway that wants access tokens (no -D).
 *
 * Blocking HTTP/1.1 on one keep-alive connection to the gateway's own
 * address, before the event loop starts: POST /v1/auth/guest with the
 * device "gs-loadgen-<k>" (the same accounts run after run) and the
 * access token read from the JSON answer with jansson.  A 429 waits the
 * Retry-After it names and tries again; any other failure ends the run
 * before it starts (exit 1), with the gateway's error.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "util.h"

#include "loadgen.h"

#define LOGIN_IO_MS	10000	/* one request, at most */
#define LOGIN_HEAD_MAX	4096
#define LOGIN_BODY_MAX	8192
#define LOGIN_TRIES	20	/* 429s in a row for one client */

struct login_conn {
	int	 fd;
	char	 buf[LOGIN_HEAD_MAX + LOGIN_BODY_MAX];
	size_t	 len;		/* bytes in buf */
};

static int
login_connect(struct lg *lg, struct login_conn *lc)
{
	const struct lg_ws_target *t = &lg->target;

	lc->len = 0;
	if ((lc->fd = socket(t->addr.ss_family, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(lc->fd, (const struct sockaddr *)&t->addr, t->addrlen) ==
	    -1) {
		close(lc->fd);
		lc->fd = -1;
		return -1;
	}
	return 0;
}

/* Wait until fd is ready for events, up to LOGIN_IO_MS. */
static int
login_wait(int fd, short events)
{
	struct pollfd	pfd = { .fd = fd, .events = events };
	int		rc;

	while ((rc = poll(&pfd, 1, LOGIN_IO_MS)) == -1 && errno == EINTR)
		;
	return rc == 1 ? 0 : -1;
}

static int
login_send(struct login_conn *lc, const char *p, size_t n)
{
	ssize_t	k;

	while (n > 0) {
		if (login_wait(lc->fd, POLLOUT) != 0)
			return -1;
		if ((k = send(lc->fd, p, n, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * Read one response: status, Retry-After, and the body (NUL-ended) at
 * *body.  The body must have a Content-Length (the gateway's always
 * do).  0, or -1 with why set.
 */
static int
login_read(struct login_conn *lc, int *status, unsigned *retry,
    const char **body, const char **why)
{
	char		*end, *h, *v;
	long long	 clen = -1, x;
	size_t		 hlen;
	ssize_t		 k;

	lc->len = 0;
	for (;;) {
		lc->buf[lc->len] = '\0';
		if ((end = strstr(lc->buf, "\r\n\r\n")) != NULL)
			break;
		if (lc->len >= LOGIN_HEAD_MAX) {
			*why = "response head too large";
			return -1;
		}
		if (login_wait(lc->fd, POLLIN) != 0 ||
		    (k = recv(lc->fd, lc->buf + lc->len,
		    sizeof(lc->buf) - 1 - lc->len, 0)) <= 0) {
			*why = "no response";
			return -1;
		}
		lc->len += (size_t)k;
	}
	hlen = (size_t)(end - lc->buf) + 4;
	*end = '\0';
	if (strncmp(lc->buf, "HTTP/1.1 ", 9) != 0 ||
	    gs_parse_ll((char[4]){ lc->buf[9], lc->buf[10], lc->buf[11],
	    '\0' }, 100, 599, &x) != GS_OK) {
		*why = "not an HTTP/1.1 response";
		return -1;
	}
	*status = (int)x;
	*retry = 1;
	for (h = strstr(lc->buf, "\r\n"); h != NULL; h = strstr(h, "\r\n")) {
		h += 2;
		if ((v = strchr(h, ':')) == NULL)
			break;
		if ((end = strstr(v, "\r\n")) != NULL)
			*end = '\0';
		while (*++v == ' ')
			;
		if (strncasecmp(h, "content-length:", 15) == 0 &&
		    gs_parse_ll(v, 0, LOGIN_BODY_MAX - 1, &x) == GS_OK)
			clen = x;
		else if (strncasecmp(h, "retry-after:", 12) == 0 &&
		    gs_parse_ll(v, 1, 3600, &x) == GS_OK)
			*retry = (unsigned)x;
		if (end == NULL)
			break;
		*end = '\r';
		h = end;
	}
	if (clen < 0) {
		*why = "response without Content-Length";
		return -1;
	}
	while (lc->len < hlen + (size_t)clen) {
		if (login_wait(lc->fd, POLLIN) != 0 ||
		    (k = recv(lc->fd, lc->buf + lc->len,
		    sizeof(lc->buf) - 1 - lc->len, 0)) <= 0) {
			*why = "response cut short";
			return -1;
		}
		lc->len += (size_t)k;
	}
	lc->buf[hlen + (size_t)clen] = '\0';
	*body = lc->buf + hlen;
	return 0;
}

/* The gateway's message in an error body, or what is wrong with it. */
static const char *
login_error(json_t *j)
{
	const char	*m;

	if (j == NULL)
		return "not JSON";
	m = json_string_value(json_object_get(json_object_get(j, "error"),
	    "message"));
	return m != NULL ? m : "no access token";
}

/* One client's guest login: its token in c->token (malloc'd). */
static int
login_one(struct lg *lg, struct login_conn *lc, struct lg_client *c)
{
	char		 req[1024], body[64];
	const char	*rbody, *why = NULL, *tok;
	json_t		*j;
	json_error_t	 jerr;
	unsigned	 retry;
	int		 n, blen, status, tries;

	blen = snprintf(body, sizeof(body), "{\"device\":\"gs-loadgen-%d\"}",
	    c->idx);
	n = snprintf(req, sizeof(req), "POST /v1/auth/guest HTTP/1.1\r\n"
	    "Host: %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %d\r\n\r\n%s", lg->conf.hosthdr, blen, body);
	if (blen < 0 || (size_t)blen >= sizeof(body) || n < 0 ||
	    (size_t)n >= sizeof(req))
		gs_fatalx(GS_EXIT_RUNTIME, "login request too long");
	for (tries = 0; tries < LOGIN_TRIES; tries++) {
		if (lc->fd == -1 && login_connect(lg, lc) != 0) {
			gs_log_warn("login failed client=%s call=connect",
			    c->name);
			return -1;
		}
		if (login_send(lc, req, (size_t)n) != 0 ||
		    login_read(lc, &status, &retry, &rbody, &why) != 0) {
			gs_log_warnx("login failed client=%s why=\"%s\"",
			    c->name, why != NULL ? why : "send failed");
			return -1;
		}
		if (status == 429) {
			(void)sleep(retry);
			continue;
		}
		j = json_loads(rbody, 0, &jerr);
		if (status == 200 && (tok = json_string_value(json_object_get(j,
		    "access"))) != NULL) {
			if ((c->token = strdup(tok)) == NULL)
				gs_fatal(GS_EXIT_SYSTEM, "out of memory");
			json_decref(j);
			return 0;
		}
		gs_log_warnx("login failed client=%s status=%d why=\"%s\"",
		    c->name, status, login_error(j));
		json_decref(j);
		return -1;
	}
	gs_log_warnx("login failed client=%s why=\"rate limited %d times\"",
	    c->name, LOGIN_TRIES);
	return -1;
}

int
lg_login_all(struct lg *lg)
{
	struct login_conn	*lc;
	int			 i, rc = 0;

	if ((lc = malloc(sizeof(*lc))) == NULL)
		gs_fatal(GS_EXIT_SYSTEM, "out of memory");
	lc->fd = -1;
	for (i = 0; i < lg->conf.nclients && rc == 0; i++)
		rc = login_one(lg, lc, &lg->clients[i]);
	if (lc->fd != -1)
		close(lc->fd);
	free(lc);
	if (rc == 0 && !lg->conf.quiet)
		gs_log_info("logged in clients=%d as=guests",
		    lg->conf.nclients);
	return rc;
}

/*
 * http:// (-u): GET /negotiate before the run (gs-protocol(7), QUIC;
 * gs-gateway(8), HTTP).  The QUIC address it names becomes the QUIC
 * target and the WebSocket one the WebSocket target; every client tries
 * QUIC first when it is offered and falls back to WebSocket, for the
 * rest of the run, when its handshake fails (client.c).
 */
void
lg_negotiate(struct lg *lg)
{
	struct login_conn	*lc;
	struct lg_conf		*qc = &lg->neg[0], *wc = &lg->neg[1], tmp;
	char			 req[512], why2[256];
	const char		*body, *why = NULL, *tr, *url;
	json_t			*j, *list, *e;
	json_error_t		 jerr;
	unsigned		 retry;
	size_t			 i;
	int			 n, status;

	if ((lc = malloc(sizeof(*lc))) == NULL)
		gs_fatal(GS_EXIT_SYSTEM, "out of memory");
	n = snprintf(req, sizeof(req), "GET /negotiate HTTP/1.1\r\n"
	    "Host: %s\r\nConnection: close\r\n\r\n", lg->conf.hosthdr);
	if (n < 0 || (size_t)n >= sizeof(req))
		gs_fatalx(GS_EXIT_RUNTIME, "negotiate request too long");
	if (login_connect(lg, lc) != 0)
		gs_fatal(GS_EXIT_RUNTIME, "cannot connect for /negotiate "
		    "url=%s", lg->conf.url);
	if (login_send(lc, req, (size_t)n) != 0 ||
	    login_read(lc, &status, &retry, &body, &why) != 0)
		gs_fatalx(GS_EXIT_RUNTIME, "/negotiate failed url=%s why=\"%s\"",
		    lg->conf.url, why != NULL ? why : "send failed");
	close(lc->fd);
	if (status != 200)
		gs_fatalx(GS_EXIT_RUNTIME, "/negotiate failed url=%s status=%d",
		    lg->conf.url, status);
	j = json_loads(body, 0, &jerr);
	free(lc);
	list = json_object_get(j, "transports");
	json_array_foreach(list, i, e) {
		tr = json_string_value(json_object_get(e, "transport"));
		url = json_string_value(json_object_get(e, "url"));
		if (tr == NULL || url == NULL)
			continue;
		memset(&tmp, 0, sizeof(tmp));
		if (lg_parse_url(&tmp, url, why2, sizeof(why2)) != 0) {
			gs_log_warnx("/negotiate: skipped url=%s", url);
			continue;
		}
		if (strcmp(tr, "quic") == 0 && tmp.transport == LG_TP_QUIC &&
		    !lg->offer_quic) {
			*qc = tmp;
			lg->offer_quic = true;
		} else if (strcmp(tr, "websocket") == 0 &&
		    tmp.transport == LG_TP_WS && !lg->offer_ws) {
			*wc = tmp;
			lg->offer_ws = true;
		}
	}
	json_decref(j);
	if (!lg->offer_quic && !lg->offer_ws)
		gs_fatalx(GS_EXIT_RUNTIME, "/negotiate offered no transport "
		    "gs-loadgen speaks url=%s", lg->conf.url);
	if (lg->offer_quic) {
		lg_resolve_addr(qc->host, qc->port, SOCK_DGRAM,
		    &lg->qtarget.addr, &lg->qtarget.addrlen);
		lg->qtarget.host = qc->host;
	}
	if (lg->offer_ws) {
		lg_resolve_addr(wc->host, wc->port, SOCK_STREAM,
		    &lg->target.addr, &lg->target.addrlen);
		lg->target.host = wc->hosthdr;
		lg->target.path = wc->path;
	}
	if (!lg->conf.quiet)
		gs_log_info("negotiated quic=%s websocket=%s",
		    lg->offer_quic ? qc->url : "-",
		    lg->offer_ws ? wc->url : "-");
}
