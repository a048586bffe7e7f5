/*
 * gs-loadgen's WebSocket client.  See ws.h.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libwebsockets.h>	/* lws_SHA1, lws_b64_encode_string */

#include "util.h"
#include "ws.h"

#define WS_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_OP_CONT	0x0
#define WS_OP_TEXT	0x1
#define WS_OP_BINARY	0x2
#define WS_OP_CLOSE	0x8
#define WS_OP_PING	0x9
#define WS_OP_PONG	0xa
#define WS_FRAME_MAX	(14 + LG_WS_SEND_MAX)	/* ours: header + payload */

static uint8_t	ws_rbuf[LG_WS_READ];	/* one loop, one read at a time */

static void	ws_read_cb(struct ev_loop *, ev_io *, int);
static void	ws_write_cb(struct ev_loop *, ev_io *, int);
static void	ws_grace_cb(struct ev_loop *, ev_timer *, int);

void
lg_ws_init(struct lg_ws *w, struct ev_loop *loop, const struct lg_ws_target *t,
    const struct lg_ws_cb *cb, void *arg, uint64_t *rng)
{
	memset(w, 0, sizeof(*w));
	w->loop = loop;
	w->t = t;
	w->cb = cb;
	w->arg = arg;
	w->rng = rng;
	w->fd = -1;
	ev_init(&w->rd, ws_read_cb);
	w->rd.data = w;
	ev_init(&w->wr, ws_write_cb);
	w->wr.data = w;
	ev_init(&w->grace, ws_grace_cb);
	w->grace.data = w;
}

static void
ws_drop_buffers(struct lg_ws *w)
{
	free(w->in);
	free(w->msg);
	free(w->out);
	w->in = w->msg = w->out = NULL;
	w->inlen = w->incap = w->msglen = w->msgcap = 0;
	w->outoff = w->outlen = w->outcap = 0;
	w->in_msg = false;
}

void
lg_ws_free(struct lg_ws *w)
{
	lg_ws_abort(w);
	ws_drop_buffers(w);
}

/* Append p[len] to a growable buffer. */
static int
ws_append(uint8_t **buf, size_t *blen, size_t *cap, const void *p,
    size_t len)
{
	uint8_t	*nb;
	size_t	 ncap;

	if (len > *cap - *blen) {
		ncap = *cap == 0 ? 256 : *cap;
		while (ncap - *blen < len)
			ncap *= 2;
		if ((nb = realloc(*buf, ncap)) == NULL)
			return -1;
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *blen, p, len);
	*blen += len;
	return 0;
}

/* The connection is over: stop everything, keep no bytes of it. */
static void
ws_end(struct lg_ws *w)
{
	if (w->state == LG_WS_IDLE)
		return;
	ev_io_stop(w->loop, &w->rd);
	ev_io_stop(w->loop, &w->wr);
	ev_timer_stop(w->loop, &w->grace);
	if (w->fd >= 0)
		(void)close(w->fd);
	w->fd = -1;
	w->state = LG_WS_IDLE;
	w->paused = false;
	w->gen++;
	w->inlen = w->msglen = 0;
	w->outoff = w->outlen = 0;
	w->in_msg = false;
	/* Buffers a busy connection grew go; small ones are kept for the
	 * next connection of this client. */
	if (w->incap > LG_WS_HEAD_MAX || w->msgcap > LG_WS_HEAD_MAX ||
	    w->outcap > LG_WS_HEAD_MAX)
		ws_drop_buffers(w);
}

static void
ws_fail(struct lg_ws *w, enum lg_ws_end end, const char *why)
{
	bool	opened = w->state >= LG_WS_OPEN;

	ws_end(w);
	if (!opened && end == LG_WS_END_CLOSED)
		end = LG_WS_END_CONNECT;
	w->cb->closed(w->arg, end, why);
}

void
lg_ws_abort(struct lg_ws *w)
{
	ws_end(w);
}

bool
lg_ws_busy(const struct lg_ws *w)
{
	return w->state != LG_WS_OPEN || w->outlen > w->outoff;
}

void
lg_ws_pause(struct lg_ws *w, bool paused)
{
	if (w->paused == paused)
		return;
	w->paused = paused;
	if (w->state < LG_WS_HANDSHAKE)
		return;
	if (paused)
		ev_io_stop(w->loop, &w->rd);
	else
		ev_io_start(w->loop, &w->rd);
}

/* ------------------------------------------------------------ writing */

/* Write p[len] after what waits, or keep it.  -1 on a socket error. */
static int
ws_write(struct lg_ws *w, const uint8_t *p, size_t len)
{
	ssize_t	n = 0;

	if (w->outlen == w->outoff) {
		w->outoff = w->outlen = 0;
		n = send(w->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return -1;
		if (n < 0)
			n = 0;
		if ((size_t)n == len)
			return 0;
	}
	if (ws_append(&w->out, &w->outlen, &w->outcap, p + n,
	    len - (size_t)n) != 0)
		return -1;
	ev_io_start(w->loop, &w->wr);
	return 0;
}

/* One frame of ours: FIN, op, masked payload. */
static int
ws_frame(struct lg_ws *w, uint8_t op, const void *payload, size_t len)
{
	uint8_t		 f[WS_FRAME_MAX], mask[4];
	const uint8_t	*src = payload;
	uint64_t	 r = gs_rand_next(w->rng);
	size_t		 h = 0, i;

	if (len > WS_FRAME_MAX - 14)
		return -1;
	f[h++] = 0x80 | op;
	if (len < 126)
		f[h++] = 0x80 | (uint8_t)len;
	else {
		f[h++] = 0x80 | 126;
		f[h++] = (uint8_t)(len >> 8);
		f[h++] = (uint8_t)len;
	}
	memcpy(mask, &r, 4);
	memcpy(f + h, mask, 4);
	h += 4;
	for (i = 0; i < len; i++)
		f[h + i] = src[i] ^ mask[i & 3];
	return ws_write(w, f, h + len);
}

int
lg_ws_send(struct lg_ws *w, const void *p, size_t len)
{
	if (w->state != LG_WS_OPEN)
		return -1;
	return ws_frame(w, WS_OP_BINARY, p, len);
}

int
lg_ws_close(struct lg_ws *w, uint16_t code, const char *reason)
{
	uint8_t	pl[125];
	size_t	n = strlen(reason);

	if (w->state == LG_WS_CLOSING)
		return 0;		/* already on its way */
	if (w->state != LG_WS_OPEN) {
		ws_end(w);		/* nothing to hand-shake yet */
		return -1;
	}
	if (n > sizeof(pl) - 2)
		n = sizeof(pl) - 2;
	pl[0] = (uint8_t)(code >> 8);
	pl[1] = (uint8_t)code;
	memcpy(pl + 2, reason, n);
	if (ws_frame(w, WS_OP_CLOSE, pl, n + 2) != 0) {
		ws_end(w);
		return -1;
	}
	w->state = LG_WS_CLOSING;
	ev_timer_set(&w->grace, LG_WS_CLOSE_S, 0.);
	ev_timer_start(w->loop, &w->grace);
	return 0;
}

static void
ws_grace_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	ws_fail(t->data, LG_WS_END_CLOSED, "close handshake timed out");
}

/* ---------------------------------------------------------- handshake */

static void
ws_request(struct lg_ws *w)
{
	char		req[1024], key[32], raw[16], acc[128];
	unsigned char	sha[20];
	uint64_t	r[2];
	int		n;

	r[0] = gs_rand_next(w->rng);
	r[1] = gs_rand_next(w->rng);
	memcpy(raw, r, sizeof(raw));
	(void)lws_b64_encode_string(raw, (int)sizeof(raw), key, sizeof(key));
	n = snprintf(acc, sizeof(acc), "%s" WS_GUID, key);
	(void)lws_SHA1((const unsigned char *)acc, (size_t)n, sha);
	(void)lws_b64_encode_string((const char *)sha, (int)sizeof(sha),
	    w->accept, sizeof(w->accept));
	n = snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Protocol: %s\r\n"
	    "\r\n", w->t->path, w->t->host, key, w->t->subprotocol);
	if (n < 0 || (size_t)n >= sizeof(req) ||
	    ws_write(w, (const uint8_t *)req, (size_t)n) != 0) {
		ws_fail(w, LG_WS_END_CONNECT, "cannot send the upgrade request");
		return;
	}
	w->state = LG_WS_HANDSHAKE;
	if (!w->paused)
		ev_io_start(w->loop, &w->rd);
}

/* The value of header name in head[len] (lines end in CRLF), trimmed;
 * false when absent. */
static bool
ws_header(const char *head, size_t len, const char *name, char *val,
    size_t vlen)
{
	const char	*p = head, *end = head + len, *eol, *v, *ve;
	size_t		 nl = strlen(name);

	while (p < end && (eol = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if ((size_t)(eol - p) > nl && p[nl] == ':' &&
		    strncasecmp(p, name, nl) == 0) {
			for (v = p + nl + 1; v < eol && (*v == ' ' || *v == '\t');
			    v++)
				;
			for (ve = eol; ve > v && (ve[-1] == '\r' ||
			    ve[-1] == ' ' || ve[-1] == '\t'); ve--)
				;
			if ((size_t)(ve - v) >= vlen)
				return false;
			memcpy(val, v, (size_t)(ve - v));
			val[ve - v] = '\0';
			return true;
		}
		p = eol + 1;
	}
	return false;
}

/* The comma-separated list v holds token (any case). */
static bool
ws_token(const char *v, const char *token)
{
	size_t	tl = strlen(token), n;

	while (*v != '\0') {
		v += strspn(v, " \t,");
		n = strcspn(v, " \t,");
		if (n == tl && strncasecmp(v, token, tl) == 0)
			return true;
		v += n;
	}
	return false;
}

/* The end of the response head in p[len]: the offset after its
 * CRLFCRLF, or 0. */
static size_t
ws_head_end(const uint8_t *p, size_t len)
{
	size_t	i;

	for (i = 3; i < len; i++)
		if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' &&
		    p[i - 3] == '\r')
			return i + 1;
	return 0;
}

/* The response head is head[len], CRLFCRLF included.  0 when it opens
 * the connection. */
static int
ws_response(struct lg_ws *w, const char *head, size_t len)
{
	char	v[128], why[192];
	size_t	sl = strcspn(head, "\r\n");

	if (len < 12 || memcmp(head, "HTTP/1.1 101", 12) != 0) {
		snprintf(why, sizeof(why), "handshake: status \"%.*s\"",
		    (int)(sl < 64 ? sl : 64), head);
		ws_fail(w, LG_WS_END_CONNECT, why);
		return -1;
	}
	if (!ws_header(head, len, "Upgrade", v, sizeof(v)) ||
	    strcasecmp(v, "websocket") != 0 ||
	    !ws_header(head, len, "Connection", v, sizeof(v)) ||
	    !ws_token(v, "upgrade")) {
		ws_fail(w, LG_WS_END_CONNECT, "handshake: not an upgrade");
		return -1;
	}
	if (!ws_header(head, len, "Sec-WebSocket-Accept", v, sizeof(v)) ||
	    strcmp(v, w->accept) != 0) {
		ws_fail(w, LG_WS_END_CONNECT,
		    "handshake: wrong Sec-WebSocket-Accept");
		return -1;
	}
	if (!ws_header(head, len, "Sec-WebSocket-Protocol", v, sizeof(v)) ||
	    strcmp(v, w->t->subprotocol) != 0) {
		ws_fail(w, LG_WS_END_CONNECT,
		    "handshake: subprotocol not accepted");
		return -1;
	}
	w->state = LG_WS_OPEN;
	w->cb->open(w->arg);
	return 0;
}

/* -------------------------------------------------------------- frames */

int
lg_ws_frame_head(const uint8_t *p, size_t len, struct lg_ws_frame *f,
    const char **why)
{
	size_t	h = 2;
	int	i;

	if (len < 2)
		return 0;
	f->fin = (p[0] & 0x80) != 0;
	f->op = p[0] & 0x0f;
	if (p[0] & 0x70) {
		*why = "reserved bits set";
		return -1;
	}
	if (p[1] & 0x80) {
		*why = "masked frame from the server";
		return -1;
	}
	switch (f->op) {
	case WS_OP_CONT: case WS_OP_TEXT: case WS_OP_BINARY:
		break;
	case WS_OP_CLOSE: case WS_OP_PING: case WS_OP_PONG:
		if (!f->fin || (p[1] & 0x7f) > 125) {
			*why = "fragmented or long control frame";
			return -1;
		}
		break;
	default:
		*why = "unknown opcode";
		return -1;
	}
	f->len = p[1] & 0x7f;
	if (f->len == 126) {
		if (len < 4)
			return 0;
		f->len = (uint64_t)p[2] << 8 | p[3];
		h = 4;
	} else if (f->len == 127) {
		if (len < 10)
			return 0;
		if (p[2] & 0x80) {
			*why = "length with the top bit set";
			return -1;
		}
		f->len = 0;
		for (i = 2; i < 10; i++)
			f->len = f->len << 8 | p[i];
		h = 10;
	}
	return (int)h;
}

/* A whole frame's payload. */
static int
ws_frame_in(struct lg_ws *w, const struct lg_ws_frame *f, const uint8_t *p)
{
	size_t		len = (size_t)f->len;
	uint8_t		code[2] = { 0, 0 };

	switch (f->op) {
	case WS_OP_PING:
		return ws_frame(w, WS_OP_PONG, p, len) == 0 ? 0 : -1;
	case WS_OP_PONG:
		return 0;
	case WS_OP_CLOSE:
		if (w->state == LG_WS_OPEN) {
			/* Echo the code; the server closes the TCP side. */
			if (len >= 2)
				memcpy(code, p, 2);
			(void)ws_frame(w, WS_OP_CLOSE, code, len >= 2 ? 2 : 0);
		}
		ws_fail(w, LG_WS_END_CLOSED, "connection closed");
		return -1;
	case WS_OP_CONT:
		if (!w->in_msg) {
			ws_fail(w, LG_WS_END_PROTO, "continuation out of place");
			return -1;
		}
		break;
	default:		/* text, binary */
		if (w->in_msg) {
			ws_fail(w, LG_WS_END_PROTO,
			    "new message inside a fragmented one");
			return -1;
		}
		if (f->fin) {
			w->cb->message(w->arg, p, len, f->op == WS_OP_TEXT);
			return 0;
		}
		w->in_msg = true;
		w->msg_text = f->op == WS_OP_TEXT;
		w->msglen = 0;
		break;
	}
	if (len > w->t->max_msg - w->msglen) {
		ws_fail(w, LG_WS_END_TOOBIG, "server message over the size "
		    "limit");
		return -1;
	}
	if (ws_append(&w->msg, &w->msglen, &w->msgcap, p, len) != 0) {
		ws_fail(w, LG_WS_END_CLOSED, "out of memory");
		return -1;
	}
	if (f->fin) {
		w->in_msg = false;
		w->cb->message(w->arg, w->msg, w->msglen, w->msg_text);
	}
	return 0;
}

/*
 * Parse p[len]: the response head, then whole frames.  Returns how
 * many bytes were used, or -1 when the connection ended (or was ended
 * by a callback) and nothing more may be touched.
 */
static ssize_t
ws_parse(struct lg_ws *w, const uint8_t *p, size_t len)
{
	struct lg_ws_frame	 f;
	const char		*why = "";
	size_t			 used = 0, hl;
	unsigned		 gen = w->gen;
	int			 h;

	if (w->state == LG_WS_HANDSHAKE) {
		if ((hl = ws_head_end(p, len)) == 0) {
			if (len >= LG_WS_HEAD_MAX) {
				ws_fail(w, LG_WS_END_CONNECT,
				    "handshake: response head too long");
				return -1;
			}
			return 0;
		}
		if (ws_response(w, (const char *)p, hl) != 0 || w->gen != gen)
			return -1;
		used = hl;
	}
	while (used < len) {
		if ((h = lg_ws_frame_head(p + used, len - used, &f, &why)) < 0) {
			ws_fail(w, LG_WS_END_PROTO, why);
			return -1;
		}
		if (h == 0)
			break;
		if (f.len > w->t->max_msg && f.op <= WS_OP_BINARY) {
			ws_fail(w, LG_WS_END_TOOBIG, "server message over the "
			    "size limit");
			return -1;
		}
		if (f.len > len - used - (size_t)h)
			break;		/* the rest of the frame is to come */
		if (ws_frame_in(w, &f, p + used + h) != 0 || w->gen != gen)
			return -1;
		used += (size_t)h + (size_t)f.len;
	}
	return (ssize_t)used;
}

/* Parse what was read: in place when nothing waits from before, else
 * after it; keep the unparsed rest. */
static void
ws_feed(struct lg_ws *w, const uint8_t *p, size_t len)
{
	ssize_t	used;

	if (w->inlen > 0) {
		if (ws_append(&w->in, &w->inlen, &w->incap, p, len) != 0) {
			ws_fail(w, LG_WS_END_CLOSED, "out of memory");
			return;
		}
		if ((used = ws_parse(w, w->in, w->inlen)) < 0)
			return;
		memmove(w->in, w->in + used, w->inlen - (size_t)used);
		w->inlen -= (size_t)used;
		return;
	}
	if ((used = ws_parse(w, p, len)) < 0)
		return;
	if ((size_t)used < len &&
	    ws_append(&w->in, &w->inlen, &w->incap, p + used,
	    len - (size_t)used) != 0)
		ws_fail(w, LG_WS_END_CLOSED, "out of memory");
}

static void
ws_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct lg_ws	*w = io->data;
	char		 why[128];
	ssize_t		 n;

	n = recv(w->fd, ws_rbuf, sizeof(ws_rbuf), MSG_DONTWAIT);
	if (n > 0) {
		ws_feed(w, ws_rbuf, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n == 0)
		snprintf(why, sizeof(why), "connection closed");
	else
		snprintf(why, sizeof(why), "recv: %s", strerror(errno));
	ws_fail(w, LG_WS_END_CLOSED, why);
}

/* --------------------------------------------------------- connecting */

int
lg_ws_connect(struct lg_ws *w, char *why, size_t whylen)
{
	int	fd, one = 1;

	ws_end(w);
	fd = socket(w->t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&w->t->addr,
	    w->t->addrlen) != 0 && errno != EINPROGRESS) {
		snprintf(why, whylen, "connect: %s", strerror(errno));
		(void)close(fd);
		return -1;
	}
	w->fd = fd;
	w->state = LG_WS_CONNECTING;
	ev_io_set(&w->rd, fd, EV_READ);
	ev_io_set(&w->wr, fd, EV_WRITE);
	ev_io_start(w->loop, &w->wr);	/* the connect's outcome */
	return 0;
}

static void
ws_write_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct lg_ws	*w = io->data;
	char		 why[128];
	socklen_t	 sl = sizeof(int);
	ssize_t		 n;
	int		 err = 0;

	if (w->state == LG_WS_CONNECTING) {
		ev_io_stop(loop, &w->wr);
		if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0)
			err = errno;
		if (err != 0) {
			snprintf(why, sizeof(why), "connect: %s",
			    strerror(err));
			ws_fail(w, LG_WS_END_CONNECT, why);
			return;
		}
		ws_request(w);
		return;
	}
	while (w->outoff < w->outlen) {
		n = send(w->fd, w->out + w->outoff, w->outlen - w->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, sizeof(why), "send: %s", strerror(errno));
			ws_fail(w, LG_WS_END_CLOSED, why);
			return;
		}
		w->outoff += (size_t)n;
	}
	w->outoff = w->outlen = 0;
	ev_io_stop(loop, &w->wr);
	if (w->state == LG_WS_OPEN)
		w->cb->writable(w->arg);
}
