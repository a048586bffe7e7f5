/*
 * gs-loadgen's WebSocket client (RFC 6455) on the libev loop: one
 * connection per struct lg_ws, embedded in its client and reused from
 * one connection to the next.
 *
 * Why not libwebsockets' client: libwebsockets 4.1 (Debian 12) parses
 * a client's incoming frames one byte at a time through its state
 * machine, which took 40 % of gs-loadgen's time at 1,000 clients, and
 * a load generator must cost well under the server it measures.  Here
 * a read of up to LG_WS_READ bytes is parsed in place, and a message
 * that arrived whole is handed over where it lies.  The handshake's
 * SHA-1 and base64 still come from libwebsockets.
 *
 * What it does: a non-blocking TCP connect (TCP_NODELAY), the upgrade
 * request with one subprotocol and its checks (status 101, Upgrade,
 * Connection, Sec-WebSocket-Accept, the subprotocol echoed), masked
 * binary frames out, frames in (fragmented messages assembled up to a
 * cap, pings answered, text flagged), the close handshake both ways,
 * and a send buffer for what the socket did not take.  A server frame
 * that breaks the RFC (masked, reserved bits, an unknown opcode, a
 * fragmented or long control frame, a continuation out of place) ends
 * the connection as a protocol error.
 *
 * Callbacks run on the loop, never from inside lg_ws_connect(),
 * lg_ws_send(), lg_ws_close() or lg_ws_abort().  A callback may call
 * any of them (lg_ws_abort() in particular); the connection then stops
 * delivering what remains of the read.
 */
#ifndef LG_WS_H
#define LG_WS_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#define LG_WS_READ	(64 * 1024)	/* one recv() */
#define LG_WS_SEND_MAX	1024		/* largest message lg_ws_send()
					   takes */
#define LG_WS_HEAD_MAX	4096		/* the server's response head */
#define LG_WS_CLOSE_S	2.0		/* our close: the peer's close or
					   EOF within this, or we cut */

/* Why a connection ended (lg_ws_cb.closed). */
enum lg_ws_end {
	LG_WS_END_CONNECT,	/* never opened: connect or handshake */
	LG_WS_END_CLOSED,	/* closed by either side, or reset */
	LG_WS_END_PROTO,	/* the server broke RFC 6455 */
	LG_WS_END_TOOBIG,	/* a message over the cap */
};

struct lg_ws_cb {
	void	(*open)(void *arg);
	/* One whole message; p is valid during the call only. */
	void	(*message)(void *arg, const uint8_t *p, size_t len,
		    bool text);
	/* What lg_ws_send() could not write has now gone. */
	void	(*writable)(void *arg);
	/* Once per connection; the connection is idle again. */
	void	(*closed)(void *arg, enum lg_ws_end end, const char *why);
};

/* Where and how to connect; shared by every connection. */
struct lg_ws_target {
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	const char		*host;		/* Host header */
	const char		*path;
	const char		*subprotocol;
	size_t			 max_msg;	/* largest message accepted */
};

enum lg_ws_state {
	LG_WS_IDLE,
	LG_WS_CONNECTING,	/* TCP connect in progress */
	LG_WS_HANDSHAKE,	/* request sent, waiting for the 101 */
	LG_WS_OPEN,
	LG_WS_CLOSING,		/* our close frame sent */
};

struct lg_ws {
	struct ev_loop			*loop;
	const struct lg_ws_target	*t;
	const struct lg_ws_cb		*cb;
	void				*arg;
	uint64_t			*rng;	/* mask keys */

	enum lg_ws_state	 state;
	int			 fd;
	unsigned		 gen;	/* bumped when a connection ends */
	ev_io			 rd, wr;
	ev_timer		 grace;	/* LG_WS_CLOSING */
	bool			 paused;
	char			 accept[32];	/* the Sec-WebSocket-Accept
						   we expect */

	/* Bytes read but not parsed yet: a partial head or frame. */
	uint8_t			*in;
	size_t			 inlen, incap;
	/* A fragmented message being assembled. */
	uint8_t			*msg;
	size_t			 msglen, msgcap;
	bool			 in_msg, msg_text;
	/* Bytes the socket did not take. */
	uint8_t			*out;
	size_t			 outoff, outlen, outcap;
};

void	lg_ws_init(struct lg_ws *w, struct ev_loop *loop,
	    const struct lg_ws_target *t, const struct lg_ws_cb *cb,
	    void *arg, uint64_t *rng);
/* Free the buffers; the connection must be idle. */
void	lg_ws_free(struct lg_ws *w);
/*
 * Start a connection (the previous one must have ended).  0, or -1 with
 * why[] set when not even the socket could be made; otherwise open()
 * or closed(LG_WS_END_CONNECT) follows.
 */
int	lg_ws_connect(struct lg_ws *w, char *why, size_t whylen);
/*
 * One binary message of at most LG_WS_SEND_MAX bytes.  What the socket
 * does not take now is kept and written when it can (writable() then).
 * 0, or -1 when the connection is not open, the message is too large
 * or the socket failed: the caller aborts.
 */
int	lg_ws_send(struct lg_ws *w, const void *p, size_t len);
/* Bytes are waiting for the socket: a send now would only queue. */
bool	lg_ws_busy(const struct lg_ws *w);
/*
 * The close handshake: 0, and closed() follows.  -1 when there was no
 * handshake to make (the connection is not open, or our close frame
 * could not be written): the connection has ended, with no callback,
 * as by lg_ws_abort().
 */
int	lg_ws_close(struct lg_ws *w, uint16_t code, const char *reason);
/* End the connection now, with no callback. */
void	lg_ws_abort(struct lg_ws *w);
/* Stop or resume reading (a model of a closed receive window). */
void	lg_ws_pause(struct lg_ws *w, bool paused);

/*
 * The frame parser, exposed for tests.  Parses one frame header from
 * p[len]: returns its size and fills *f, 0 when more bytes are needed,
 * -1 on a frame the RFC forbids from a server (*why set).
 */
struct lg_ws_frame {
	bool		fin;
	uint8_t		op;
	uint64_t	len;		/* payload bytes */
};
int	lg_ws_frame_head(const uint8_t *p, size_t len, struct lg_ws_frame *f,
	    const char **why);

#endif
