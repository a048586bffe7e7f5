/*
 * What both ends of gs over QUIC share (gs-protocol(7), QUIC): the
 * ALPN, the framing of the reliable stream, the close codes, and the
 * glue between ngtcp2 0.12 and GnuTLS that does not depend on the
 * role.  gs-gateway's cmd/gs-gateway/quic.c is the server,
 * gs-loadgen's cmd/gs-loadgen/quic.c a client.
 *
 * The stream carries protocol messages each preceded by its length as
 * a QUIC variable-length integer (RFC 9000 section 16); a DATAGRAM
 * frame carries exactly one protocol message.
 */
#ifndef GS_QUIC_H
#define GS_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#define GS_QUIC_ALPN		"gs.v2"
/* Application error codes of CONNECTION_CLOSE: the WebSocket close
 * codes of the same close (gs-protocol(7), Close codes). */
#define GS_QUIC_CLOSE_NORMAL	1000
#define GS_QUIC_CLOSE_AWAY	1001
#define GS_QUIC_CLOSE_POLICY	1008
#define GS_QUIC_CLOSE_INTERNAL	1011
/* The largest varint: 2^62 - 1. */
#define GS_QUIC_VARINT_MAX	((1ULL << 62) - 1)

/* len random bytes (getrandom(2)): connection IDs, tokens' secrets,
 * stateless resets.  Aborts when the kernel has none to give. */
void	gs_quic_random(void *p, size_t len);

/* ngtcp2's clock: nanoseconds, CLOCK_MONOTONIC. */
uint64_t gs_quic_ts(void);

/* Bytes v takes as a varint (1, 2, 4 or 8); v <= GS_QUIC_VARINT_MAX. */
size_t	gs_quic_varint_len(uint64_t v);
/* Write v at p (gs_quic_varint_len(v) bytes); returns that length. */
size_t	gs_quic_varint_put(uint8_t *p, uint64_t v);
/* Read a varint from p[len]: the bytes it took, or 0 when p holds only
 * part of one. */
size_t	gs_quic_varint_get(const uint8_t *p, size_t len, uint64_t *v);

/*
 * The receiving side of a framed stream.  Whole messages are handed on
 * where they lie in the data given when they can be; only a message
 * cut across two receives is copied, into a buffer held until it is
 * whole.  A message over max bytes is skipped to its end and reported
 * with msg NULL and its length, as is a length of 0.
 */
enum gs_quic_rx_status { GS_QUIC_RX_OK, GS_QUIC_RX_TOOBIG,
	GS_QUIC_RX_EMPTY };
typedef void gs_quic_msg_fn(void *arg, enum gs_quic_rx_status st,
	    const uint8_t *msg, size_t len);
struct gs_quic_rx {
	size_t		 max;		/* largest message taken */
	uint8_t		*buf;		/* a message being completed */
	size_t		 have, want;	/* bytes of it in buf, and in all */
	uint8_t		 hdr[8];	/* a length cut across receives */
	size_t		 nhdr;
	uint64_t	 skip;		/* bytes of a too-big message left */
};
void	gs_quic_rx_init(struct gs_quic_rx *rx, size_t max);
/* Feed received stream bytes; fn is called for each message they
 * complete.  -1 when out of memory (nothing more can be read). */
int	gs_quic_rx_feed(struct gs_quic_rx *rx, const uint8_t *data,
	    size_t len, gs_quic_msg_fn *fn, void *arg);
void	gs_quic_rx_free(struct gs_quic_rx *rx);

/*
 * The callbacks of either role that ngtcp2's crypto helpers provide,
 * plus rand (getrandom).  The caller adds its own: stream data,
 * datagrams, connection IDs, handshake completion.
 */
void	gs_quic_callbacks(ngtcp2_callbacks *cb, bool server);

/*
 * A GnuTLS session for a QUIC connection: TLS 1.3 only, ALPN
 * GS_QUIC_ALPN required, cred's certificates.  A client checks the
 * server's certificate against host (a name or an address).  ref must
 * outlive the session: GnuTLS's callbacks find the ngtcp2_conn through
 * it.  0, or -1 with a message in err.
 */
int	gs_quic_tls_new(gnutls_session_t *out, bool server,
	    gnutls_certificate_credentials_t cred, const char *host,
	    ngtcp2_crypto_conn_ref *ref, char *err, size_t errlen);

#endif
