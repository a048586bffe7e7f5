/*
 * gs-loadgen's WebSocket client (cmd/gs-loadgen/ws.c) against a server
 * played by the test on a loopback socket: the frame header rules, the
 * handshake's checks, messages split across reads and across frames,
 * pings answered, masking, the size cap, the close handshake.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>

#include <poll.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <libwebsockets.h>

#include "../../cmd/gs-loadgen/ws.h"
#include "t.h"

#define GUID	"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* ------------------------------------------------------ frame header */

static void
test_frame_head(void)
{
	static const struct {
		const char	*bytes;
		size_t		 n;
		int		 want;		/* header size, 0, -1 */
		uint8_t		 op;
		uint64_t	 len;
	} c[] = {
		{ "\x82\x05", 2, 2, 2, 5 },
		{ "\x02\x05", 2, 2, 2, 5 },		/* not FIN */
		{ "\x82", 1, 0, 0, 0 },
		{ "\x82\x7e\x01", 3, 0, 0, 0 },
		{ "\x82\x7e\x01\x00", 4, 4, 2, 256 },
		{ "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10, 10, 2, 65536 },
		{ "\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10, -1, 0, 0 },
		{ "\x82\x85", 2, -1, 0, 0 },		/* masked */
		{ "\xc2\x05", 2, -1, 0, 0 },		/* RSV1 */
		{ "\x83\x00", 2, -1, 0, 0 },		/* opcode 3 */
		{ "\x09\x00", 2, -1, 0, 0 },		/* fragmented ping */
		{ "\x88\x7e", 2, -1, 0, 0 },		/* long close */
		{ "\x89\x7d", 2, 2, 9, 125 },
	};
	struct lg_ws_frame	 f;
	const char		*why;
	size_t			 i;
	int			 h;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		why = NULL;
		h = lg_ws_frame_head((const uint8_t *)c[i].bytes, c[i].n, &f,
		    &why);
		T_EQ_INT(h, c[i].want);
		if (h > 0) {
			T_EQ_INT(f.op, c[i].op);
			T_CHECK(f.len == c[i].len);
		}
		if (h < 0)
			T_CHECK(why != NULL);
	}
}

/* ------------------------------------------------------- a session */

struct seen {
	int		 opens, closes, writables;
	enum lg_ws_end	 end;
	char		 msgs[8][64];
	int		 nmsg;
};

static void
open_cb(void *arg)
{
	((struct seen *)arg)->opens++;
}

static void
message_cb(void *arg, const uint8_t *p, size_t len, bool text)
{
	struct seen	*s = arg;

	if (s->nmsg < 8 && len < sizeof(s->msgs[0])) {
		memcpy(s->msgs[s->nmsg], p, len);
		s->msgs[s->nmsg][len] = '\0';
	}
	s->nmsg++;
}

static void
writable_cb(void *arg)
{
	((struct seen *)arg)->writables++;
}

static void
closed_cb(void *arg, enum lg_ws_end end, const char *why)
{
	struct seen	*s = arg;

	s->closes++;
	s->end = end;
}

static const struct lg_ws_cb cbs = { open_cb, message_cb, writable_cb,
	closed_cb };

struct rig {
	struct ev_loop		*loop;
	struct lg_ws_target	 t;
	struct lg_ws		 ws;
	struct seen		 seen;
	uint64_t		 rng;
	int			 lfd, sfd;	/* the server's sockets */
};

static void
rig_open(struct rig *r, size_t max_msg)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&r->t.addr;
	socklen_t		 sl = sizeof(*sin);
	struct timeval		 tv = { 10, 0 };
	char			 why[128];

	memset(r, 0, sizeof(*r));
	r->loop = ev_loop_new(EVFLAG_AUTO);
	T_ASSERT(r->loop != NULL);
	r->lfd = socket(AF_INET, SOCK_STREAM, 0);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_ASSERT(bind(r->lfd, (struct sockaddr *)sin, sizeof(*sin)) == 0);
	T_ASSERT(listen(r->lfd, 1) == 0);
	T_ASSERT(getsockname(r->lfd, (struct sockaddr *)sin, &sl) == 0);
	r->t.addrlen = sl;
	r->t.host = "test";
	r->t.path = "/";
	r->t.subprotocol = "gs.v1";
	r->t.max_msg = max_msg;
	r->rng = 42;
	lg_ws_init(&r->ws, r->loop, &r->t, &cbs, &r->seen, &r->rng);
	T_ASSERT(lg_ws_connect(&r->ws, why, sizeof(why)) == 0);
	r->sfd = accept(r->lfd, NULL, NULL);	/* the kernel completed it */
	T_ASSERT(r->sfd >= 0);
	/* A read the client never answers fails instead of hanging. */
	T_ASSERT(setsockopt(r->sfd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == 0);
}

static void
rig_close(struct rig *r)
{
	lg_ws_free(&r->ws);
	close(r->sfd);
	close(r->lfd);
	ev_loop_destroy(r->loop);
}

/* Run the loop until cond holds; the bound (10 s) only keeps a broken
 * client from hanging the test. */
#define RUN_UNTIL(r, cond) do {						\
	int	_i;							\
	for (_i = 0; _i < 10000 && !(cond); _i++) {			\
		ev_run((r)->loop, EVRUN_NOWAIT);			\
		if (!(cond))						\
			usleep(1000);					\
	}								\
	T_ASSERT(cond);							\
} while (0)

static void
srv_send(struct rig *r, const void *p, size_t n)
{
	T_ASSERT(write(r->sfd, p, n) == (ssize_t)n);
}

/* The request head; its key's accept value into acc. */
static void
srv_request(struct rig *r, char *acc, size_t acclen)
{
	char		 req[2048], *k, *e, cat[128];
	unsigned char	 sha[20];
	size_t		 n = 0;
	ssize_t		 m;

	while (n < 4 || memcmp(req + n - 4, "\r\n\r\n", 4) != 0) {
		ev_run(r->loop, EVRUN_NOWAIT);
		m = read(r->sfd, req + n, 1);
		T_ASSERT(m == 1);
		n++;
		T_ASSERT(n < sizeof(req) - 1);
	}
	req[n] = '\0';
	T_CHECK(strncmp(req, "GET / HTTP/1.1\r\n", 16) == 0);
	T_CHECK(strstr(req, "\r\nSec-WebSocket-Protocol: gs.v1\r\n") != NULL);
	T_CHECK(strstr(req, "\r\nSec-WebSocket-Version: 13\r\n") != NULL);
	T_ASSERT((k = strstr(req, "Sec-WebSocket-Key: ")) != NULL);
	k += 19;
	T_ASSERT((e = strstr(k, "\r\n")) != NULL);
	snprintf(cat, sizeof(cat), "%.*s" GUID, (int)(e - k), k);
	lws_SHA1((unsigned char *)cat, strlen(cat), sha);
	lws_b64_encode_string((char *)sha, 20, acc, (int)acclen);
}

static void
srv_accept(struct rig *r, const char *acc)
{
	char	resp[512];
	int	n;

	n = snprintf(resp, sizeof(resp), "HTTP/1.1 101 Switching Protocols\r\n"
	    "upgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: gs.v1\r\n"
	    "\r\n", acc);
	srv_send(r, resp, (size_t)n);
}

/* A connection through its handshake. */
static void
rig_up(struct rig *r, size_t max_msg)
{
	char	acc[64];

	rig_open(r, max_msg);
	srv_request(r, acc, sizeof(acc));
	srv_accept(r, acc);
}

/* One frame from the client: its op and unmasked payload. */
static void
srv_frame(struct rig *r, uint8_t *op, uint8_t *pl, size_t cap, size_t *n)
{
	uint8_t	h[2], mask[4];
	size_t	len, i;

	*n = 0;
	*op = 0xff;

	T_ASSERT(read(r->sfd, h, 2) == 2);
	T_CHECK(h[0] & 0x80);		/* FIN */
	T_ASSERT(h[1] & 0x80);		/* a client masks */
	len = h[1] & 0x7f;
	T_ASSERT(len < 126 && len <= cap);
	T_ASSERT(read(r->sfd, mask, 4) == 4);
	T_ASSERT(read(r->sfd, pl, len) == (ssize_t)len);
	for (i = 0; i < len; i++)
		pl[i] ^= mask[i & 3];
	*op = h[0] & 0x0f;
	*n = len;
}

static void
test_session(void)
{
	struct rig	r;
	uint8_t		op, pl[128], big[LG_WS_SEND_MAX + 1] = { 0 };
	size_t		n;

	rig_up(&r, 1024);
	/* A message cut across two reads. */
	srv_send(&r, "\x82\x05he", 4);
	RUN_UNTIL(&r, r.seen.opens == 1);
	srv_send(&r, "llo", 3);
	RUN_UNTIL(&r, r.seen.nmsg == 1);
	T_CHECK(strcmp(r.seen.msgs[0], "hello") == 0);
	/* A message in three frames with a ping among them. */
	srv_send(&r, "\x02\x02" "ab" "\x89\x02" "pp" "\x00\x02" "cd"
	    "\x80\x02" "ef", 16);
	RUN_UNTIL(&r, r.seen.nmsg == 2);
	T_CHECK(strcmp(r.seen.msgs[1], "abcdef") == 0);
	srv_frame(&r, &op, pl, sizeof(pl), &n);
	T_EQ_INT(op, 0xa);		/* pong, with the ping's payload */
	T_CHECK(n == 2 && memcmp(pl, "pp", 2) == 0);
	/* Ours: one masked binary frame; none over the cap. */
	T_EQ_INT(lg_ws_send(&r.ws, big, sizeof(big)), -1);
	T_EQ_INT(lg_ws_send(&r.ws, "xyz", 3), 0);
	T_CHECK(!lg_ws_busy(&r.ws));
	srv_frame(&r, &op, pl, sizeof(pl), &n);
	T_EQ_INT(op, 0x2);
	T_CHECK(n == 3 && memcmp(pl, "xyz", 3) == 0);
	/* The server closes: the client echoes the code and is done. */
	srv_send(&r, "\x88\x02\x03\xe8", 4);
	RUN_UNTIL(&r, r.seen.closes == 1);
	T_EQ_INT(r.seen.end, LG_WS_END_CLOSED);
	srv_frame(&r, &op, pl, sizeof(pl), &n);
	T_EQ_INT(op, 0x8);
	T_CHECK(n == 2 && pl[0] == 0x03 && pl[1] == 0xe8);
	T_EQ_INT(lg_ws_send(&r.ws, "x", 1), -1);	/* not open */
	T_EQ_INT(lg_ws_close(&r.ws, 1000, "x"), -1);	/* nothing to close */
	T_EQ_INT(r.seen.closes, 1);			/* and no callback */
	rig_close(&r);
}

/* Our close: a close frame, then the server's close ends it. */
static void
test_our_close(void)
{
	struct rig	r;
	uint8_t		op, pl[128];
	size_t		n;

	rig_up(&r, 1024);
	RUN_UNTIL(&r, r.seen.opens == 1);
	T_EQ_INT(lg_ws_close(&r.ws, 1000, "bye"), 0);
	srv_frame(&r, &op, pl, sizeof(pl), &n);
	T_EQ_INT(op, 0x8);
	T_CHECK(n == 5 && memcmp(pl, "\x03\xe8" "bye", 5) == 0);
	T_EQ_INT(r.seen.closes, 0);
	srv_send(&r, "\x88\x00", 2);
	RUN_UNTIL(&r, r.seen.closes == 1);
	T_EQ_INT(r.seen.end, LG_WS_END_CLOSED);
	rig_close(&r);
}

/* Paused, the connection reads nothing; resumed, it delivers what
 * waited in the socket. */
static void
test_pause(void)
{
	struct rig	r;
	struct pollfd	pfd;

	rig_up(&r, 1024);
	RUN_UNTIL(&r, r.seen.opens == 1);
	lg_ws_pause(&r.ws, true);
	srv_send(&r, "\x82\x02" "hi", 4);
	/* The bytes are there to read (a fact, not a wait); a loop pass
	 * that watched the socket would deliver them. */
	pfd.fd = r.ws.fd;
	pfd.events = POLLIN;
	T_ASSERT(poll(&pfd, 1, 10000) == 1);
	ev_run(r.loop, EVRUN_NOWAIT);
	ev_run(r.loop, EVRUN_NOWAIT);
	T_EQ_INT(r.seen.nmsg, 0);
	lg_ws_pause(&r.ws, false);
	RUN_UNTIL(&r, r.seen.nmsg == 1);
	T_CHECK(strcmp(r.seen.msgs[0], "hi") == 0);
	rig_close(&r);
}

/* A server that answers with the wrong accept value is refused. */
static void
test_bad_accept(void)
{
	struct rig	r;
	char		acc[64];

	rig_open(&r, 1024);
	srv_request(&r, acc, sizeof(acc));
	acc[0] = acc[0] == 'A' ? 'B' : 'A';
	srv_accept(&r, acc);
	RUN_UNTIL(&r, r.seen.closes == 1);
	T_EQ_INT(r.seen.opens, 0);
	T_EQ_INT(r.seen.end, LG_WS_END_CONNECT);
	rig_close(&r);
}

/* Over the cap, whole or in fragments; a masked server frame. */
static void
test_limits(void)
{
	struct rig	r;

	rig_up(&r, 8);
	srv_send(&r, "\x82\x09" "123456789", 11);
	RUN_UNTIL(&r, r.seen.closes == 1);
	T_EQ_INT(r.seen.end, LG_WS_END_TOOBIG);
	T_EQ_INT(r.seen.nmsg, 0);
	rig_close(&r);

	rig_up(&r, 8);
	srv_send(&r, "\x02\x05" "12345" "\x80\x04" "6789", 13);
	RUN_UNTIL(&r, r.seen.closes == 1);
	T_EQ_INT(r.seen.end, LG_WS_END_TOOBIG);
	rig_close(&r);

	rig_up(&r, 8);
	srv_send(&r, "\x82\x81" "abcd" "x", 7);
	RUN_UNTIL(&r, r.seen.closes == 1);
	T_EQ_INT(r.seen.end, LG_WS_END_PROTO);
	rig_close(&r);
}

T_MAIN(T(test_frame_head), T(test_session), T(test_our_close),
    T(test_pause), T(test_bad_accept), T(test_limits))
