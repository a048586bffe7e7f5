/*
 * gs-loadgen's QUIC client (gs-protocol(7), QUIC) on the libev loop:
 * one connection per struct lg_quic, embedded in its client and reused
 * from one connection to the next, as struct lg_ws is (ws.h), whose
 * contract it follows where the transports agree.  (The header is not
 * called quic.h: that name is lib/quic.h, which quic.c includes.)
 *
 * What it does: a connected UDP socket, ngtcp2's client with GnuTLS
 * (TLS 1.3, ALPN "gs.v2", the server's certificate checked against the
 * URL's host, Retry followed), one timer for ngtcp2's expiry, and the
 * two lanes of gs-protocol(7): the client's first bidirectional stream
 * carries reliable messages, each behind its length as a varint, and
 * DATAGRAM frames carry unreliable ones, one message each.  An
 * unreliable message too big for one datagram goes on the stream.
 * Stream bytes are kept until the server acknowledges them (ngtcp2
 * retransmits from them); datagrams that find the congestion window
 * closed wait in a short queue, and past it are dropped and counted,
 * as a real client's would be.
 *
 * Moving (--quic-migrate): every target's migrate_ms, from a random
 * phase so that clients do not move together, an open connection moves
 * to a new UDP socket, so a new local port, as after a NAT rebinding or
 * a switch of network, and to the next spare connection ID the server
 * issued: ngtcp2's immediate migration, which sends on the new path at
 * once and validates it.  The old socket is read until that validation
 * ends, then closed: a connection holds two descriptors only while a
 * move is being validated.
 *
 * Closing: lg_quic_close() after bye waits until the stream's bytes are
 * acknowledged, then sends CONNECTION_CLOSE with the given code, unless
 * the server's own close comes first; after LG_QUIC_CLOSE_S it closes
 * anyway.  The server's CONNECTION_CLOSE ends the connection with its
 * code in the reason; an error message that explains it has come on
 * the stream before it.
 *
 * Callbacks run on the loop, never from inside lg_quic_connect(),
 * lg_quic_send(), lg_quic_flush(), lg_quic_close() or lg_quic_abort().
 * open(), writable() and closed() run outside ngtcp2 and may call any
 * of them.  message() and bad() run inside ngtcp2's reading of a
 * packet, so that a message is handed over where it lies: they must
 * not send, flush, close or abort (ngtcp2 forbids writing from its
 * callbacks); lg_quic_pause() is allowed.
 */
#ifndef LG_LGQUIC_H
#define LG_LGQUIC_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include "quic.h"

#define LG_QUIC_RWND	(256 * 1024)	/* the stream's receive window,
					   the TCP model's (loadgen.h) */
#define LG_QUIC_TX_MAX	(64 * 1024)	/* stream bytes not acknowledged */
#define LG_QUIC_DQ	64		/* datagrams waiting for the
					   congestion window */
#define LG_QUIC_DGRAM_MAX 65535		/* max_datagram_frame_size */
#define LG_QUIC_CLOSE_S	2.0		/* our close: acknowledged bye or
					   the server's close within this */
#define LG_QUIC_FIN_S	6.0		/* the server ended the stream: its
					   close within this (it says 5) */
#define LG_QUIC_HANDSHAKE_S 5		/* handshake timeout */
#define LG_QUIC_IDLE_S	30		/* max_idle_timeout */
/* Acknowledgements wait up to 50 ms or 8 packets, so that they ride on
 * the next input (30 a second) rather than leave alone, as the
 * gateway's ride on its snapshots. */
#define LG_QUIC_ACK_DELAY_MS 50
#define LG_QUIC_ACK_RIDE_MS 35		/* see qc_arm() */
#define LG_QUIC_ACK_THRESH 8

/* The lanes of gs-protocol(7): the stream and DATAGRAM frames. */
enum lg_lane { LG_LANE_RELIABLE = 0, LG_LANE_UNRELIABLE = 1, LG_NLANES = 2 };

/* Why a connection ended (lg_quic_cb.closed). */
enum lg_quic_end {
	LG_QUIC_END_CONNECT,	/* never opened: socket or handshake */
	LG_QUIC_END_CLOSED,	/* closed by either side, or idle */
	LG_QUIC_END_PROTO,	/* a QUIC error after the handshake */
};

struct lg_quic_cb {
	void	(*open)(void *arg);
	/* One whole message of lane; p is valid during the call only. */
	void	(*message)(void *arg, enum lg_lane lane, const uint8_t *p,
		    size_t len);
	/* A stream message that could not be taken (over the size limit,
	 * or of length 0): skipped, the stream goes on. */
	void	(*bad)(void *arg, const char *why);
	/* The datagrams that waited for the congestion window have gone. */
	void	(*writable)(void *arg);
	/* Once per connection; the connection is idle again. */
	void	(*closed)(void *arg, enum lg_quic_end end, const char *why);
};

/* Counters of every connection of a run. */
struct lg_quic_stats {
	uint64_t	handshakes;	/* completed */
	uint64_t	retries;	/* of which after a Retry */
	uint64_t	dgrams_in, dgrams_out;	/* messages as datagrams */
	uint64_t	stream_in, stream_out;	/* messages on the stream */
	uint64_t	to_stream;	/* unreliable, too big for a datagram */
	uint64_t	dgrams_dropped;	/* the congestion window's queue full */
	uint64_t	pkts_in, pkts_out;	/* UDP datagrams */
	uint64_t	send_drops;	/* the socket's buffer was full */
	uint64_t	migrations;	/* moves whose new path was validated */
	uint64_t	migration_failures;	/* moves refused by ngtcp2 (no
					   spare connection ID), or whose
					   path was not validated */
};

/* Where and how to connect; shared by every connection. */
struct lg_quic_target {
	struct sockaddr_storage		 addr;
	socklen_t			 addrlen;
	const char			*host;	/* the certificate's name */
	gnutls_certificate_credentials_t cred;	/* the trusted CAs */
	size_t				 max_msg;	/* largest accepted */
	/* max_datagram_frame_size announced (--quic-datagrams); 0: the
	 * gateway sends the unreliable lane on the stream. */
	uint64_t			 dgram_max;
	long long			 migrate_ms;	/* --quic-migrate;
							   0: never */
	struct lg_quic_stats		*st;
};

enum lg_quic_state {
	LG_QUIC_IDLE,
	LG_QUIC_HANDSHAKE,
	LG_QUIC_OPEN,
	LG_QUIC_CLOSING,	/* bye sent: its ack or the server's close */
};

/* Stream bytes sent or to send, kept until acknowledged: ngtcp2 holds
 * pointers into them, so a chunk never moves. */
struct lg_quic_chunk {
	struct lg_quic_chunk	*next;
	uint64_t		 off;		/* stream offset of data[0] */
	size_t			 len, cap;
	uint8_t			 data[];
};

struct lg_quic_dgram {
	uint8_t		*p;		/* owned */
	size_t		 len;
};

struct lg_quic {
	struct ev_loop			*loop;
	const struct lg_quic_target	*t;
	const struct lg_quic_cb		*cb;
	void				*arg;

	enum lg_quic_state	 state;
	int			 fd;
	unsigned		 gen;	/* bumped when a connection ends */
	ev_io			 rd;
	ev_timer		 expiry;	/* ngtcp2's timers */
	ev_timer		 grace;		/* closing; the server's FIN */
	ev_timer		 migrate;	/* the next move */
	ngtcp2_tstamp		 armed;		/* expiry set for; 0: none */
	ngtcp2_tstamp		 last_tx;	/* last packet sent */
	ngtcp2_conn		*conn;
	gnutls_session_t	 tls;
	ngtcp2_crypto_conn_ref	 ref;
	struct sockaddr_storage	 local;
	socklen_t		 locallen;
	/* The socket moved from, until the new path's validation ends;
	 * -1 when none. */
	int			 ofd;
	ev_io			 ord;
	struct sockaddr_storage	 olocal;
	socklen_t		 olocallen;
	uint64_t		 migrations;	/* validated moves, of every
						   connection of this client */
	uint64_t		 close_code;
	bool			 paused;
	bool			 blocked;	/* writable() owed */

	/* Set inside ngtcp2's callbacks, acted on once it returns. */
	bool			 handshake_done;
	bool			 confirmed;	/* the handshake: may move */
	bool			 moved;		/* a move's validation ended,
						   or the old path failed:
						   ofd may go (qc_settle) */
	bool			 fin;		/* the server ended the stream */
	bool			 reset;		/* a stateless reset came */
	char			 err[128];	/* a callback failed: why */

	int64_t			 sid;		/* -1 until opened */
	struct gs_quic_rx	 rx;
	uint64_t		 owed;		/* read while paused: window
						   credit owed */
	struct lg_quic_chunk	*tx, *txlast;
	uint64_t		 tx_acked, tx_sent, tx_end;	/* offsets */
	struct lg_quic_dgram	 dq[LG_QUIC_DQ];	/* ring */
	unsigned		 dq_head, dq_n;
};

void	lg_quic_init(struct lg_quic *q, struct ev_loop *loop,
	    const struct lg_quic_target *t, const struct lg_quic_cb *cb,
	    void *arg);
/* End the connection if any and free what it kept. */
void	lg_quic_free(struct lg_quic *q);
/*
 * Start a connection (the previous one must have ended).  0, or -1 with
 * why[] set when not even the first packet could be made or sent;
 * otherwise open() or closed(LG_QUIC_END_CONNECT) follows.
 */
int	lg_quic_connect(struct lg_quic *q, char *why, size_t whylen);
/*
 * Queue one message on lane; lg_quic_flush() writes what is queued, so
 * that messages sent together share packets.  An unreliable message
 * that does not fit one datagram, or a server that takes none, puts it
 * on the stream.  A datagram finding the queue full is dropped and
 * counted (0).  -1 when the connection is not open, or the stream holds
 * LG_QUIC_TX_MAX unacknowledged bytes: the caller aborts.
 */
int	lg_quic_send(struct lg_quic *q, enum lg_lane lane, const void *p,
	    size_t len);
/* Write what the congestion window lets go now.  0, or -1 when the
 * connection failed: the caller aborts. */
int	lg_quic_flush(struct lg_quic *q);
/* Datagrams wait for the congestion window: writable() follows. */
bool	lg_quic_busy(const struct lg_quic *q);
/*
 * After bye: flush, and close with code once the stream is
 * acknowledged.  0, and closed() follows.  -1 when the connection was
 * not open, or the flush failed: it has ended, with no callback, as by
 * lg_quic_abort().
 */
int	lg_quic_close(struct lg_quic *q, uint64_t code);
/* End the connection now (CONNECTION_CLOSE 1001), with no callback. */
void	lg_quic_abort(struct lg_quic *q);
/* Stop or resume granting the server stream credit (a model of a
 * receive window that the application does not empty). */
void	lg_quic_pause(struct lg_quic *q, bool paused);

/* The server's CONNECTION_CLOSE as text, for reports and tests. */
void	lg_quic_close_text(const ngtcp2_connection_close_error *ce,
	    char *buf, size_t len);

#endif
