/*
 * quicflood: an abuser of a QUIC UDP port, for the tests of gs-gateway's
 * QUIC listener (tests/integration/quic_abuse.sh).
 *
 *	quicflood [-R] [-c count] [-d duration] [-k keep] [-p ports]
 *	    [-r rate] [-s seed] [-w wait] garbage|initial host:port
 *
 * garbage sends rate datagrams a second, each of one of four kinds
 * drawn at random:
 *   random   1 to 1500 random bytes (30%);
 *   initial  an Initial lookalike (30%): first byte 0xc0 | random low
 *            bits, version 1, random DCID (8-20 bytes) and SCID (0-20),
 *            no token or a random one, a length, random bytes up to
 *            1200 in all; its protection does not open;
 *   short    a short header (0x40 | random bits) and 21 to 1499 random
 *            bytes (30%): a random DCID, which a server may answer
 *            with a stateless reset, at a limited rate;
 *   version  a long header of a version no one speaks, 1200 bytes
 *            (10%): Version Negotiation.
 * initial sends rate genuine client Initials a second, each the first
 * flight of a new connection (ngtcp2 and GnuTLS, ALPN gs.v2, a random
 * DCID each), and abandons the connection.  With -R a Retry is
 * answered: the connection is fed the Retry and sends its second
 * Initial, with the token, then says nothing more, so that it holds a
 * handshake slot of the server.  The server's answers to that Initial
 * are read, never answered, to learn whether the server went on with
 * the handshake (accepted) or closed the connection (closed).
 *
 *   -c count     stop after count datagrams (garbage) or connections
 *                (initial); with -d, whichever comes first
 *   -d duration  stop after duration; default 5s without -c
 *   -k keep      connections kept for their answers with -R (default
 *                4096); one is forgotten 5 s after its first Initial,
 *                or when a newer one needs its place
 *   -p ports     source ports, one socket each, used in turn by batch
 *                (default 1)
 *   -r rate      datagrams or connections a second (default 1000)
 *   -s seed      seed of the random bytes (default: from getrandom)
 *   -w wait      keep reading answers for wait after the last send
 *                (default 1s)
 *
 * Datagrams leave in batches (sendmmsg); rate is kept on average over
 * the run.  SIGINT or SIGTERM ends the sending early.  At the end, one
 * line on stdout of key=value pairs:
 *
 *   mode sent bytes_out sent_random sent_initial sent_short sent_version
 *   conns retry_answered accepted closed blocked unreachable errors
 *   recv bytes_in retry vn handshake short other elapsed_ms
 *
 * sent and bytes_out count every datagram sent, second Initials
 * included; conns the connections begun; blocked datagrams a full
 * socket buffer refused; unreachable ICMP port-unreachable reports.
 * Of the datagrams received from the target (recv, bytes_in), retry
 * were Retry packets, vn Version Negotiation, handshake other long
 * headers (Initial, Handshake), short short headers (stateless resets
 * look like them) and other anything else.
 *
 * Exit 0 when something was sent, 1 when nothing could be, 100 on bad
 * usage, 111 on a system failure.
 */
#define _GNU_SOURCE		/* sendmmsg, recvmmsg */
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "quic.h"
#include "util.h"

#define QF_BATCH	64		/* datagrams per sendmmsg/recvmmsg */
#define QF_DGRAM	1500		/* the largest datagram sent */
#define QF_INITIAL	1200		/* an Initial's datagram, padded */
#define QF_KEEP_MS	5000		/* a kept connection's life (-R) */
#define QF_SCIDLEN	8		/* slot (4 bytes) and random (4) */

enum qf_mode { QF_M_GARBAGE, QF_M_INITIAL };

/* A connection kept for its Retry and what follows (-R). */
struct qf_conn {
	ngtcp2_conn		*conn;		/* NULL: the slot is free */
	gnutls_session_t	 tls;
	ngtcp2_crypto_conn_ref	 ref;		/* tls's way back to conn */
	ngtcp2_cid		 scid;
	int			 sock;		/* index in qf.socks */
	uint64_t		 born_ms;
	int			 retried;	/* second Initial sent */
};

struct qf_sock {
	int			 fd;
	struct sockaddr_storage	 local;
	socklen_t		 locallen;
};

struct qf_count {
	unsigned long long	 sent, bytes_out, kind[4], conns;
	unsigned long long	 retry_answered, accepted, closed;
	unsigned long long	 blocked, unreachable, errors;
	unsigned long long	 recv, bytes_in, retry, vn, handshake, shrt;
	unsigned long long	 other;
};

struct qf {
	enum qf_mode		 mode;
	int			 answer_retry;	/* -R */
	const char		*host;		/* for TLS: SNI, name check */
	struct sockaddr_storage	 remote;
	socklen_t		 remotelen;
	struct qf_sock		*socks;
	int			 nsock;
	gnutls_certificate_credentials_t cred;
	ngtcp2_callbacks	 cb;
	struct qf_conn		*conns;		/* -R: a ring of keep slots */
	size_t			 nconn, next;
	uint64_t		 rng;
	struct qf_count		 n;
};

enum { QF_K_RANDOM, QF_K_INITIAL, QF_K_SHORT, QF_K_VERSION };
static const char *const qf_kind_name[] = { "random", "initial", "short",
	"version" };

static volatile sig_atomic_t	qf_stop;

static void __attribute__((noreturn))
usage(void)
{
	(void)fprintf(stderr, "usage: quicflood [-R] [-c count] "
	    "[-d duration] [-k keep] [-p ports] [-r rate] [-s seed] "
	    "[-w wait] garbage|initial host:port\n");
	exit(GS_EXIT_USAGE);
}

static void
qf_signal(int sig)
{
	(void)sig;
	qf_stop = 1;
}

static long long
qf_num(const char *flag, const char *s, long long min, long long max)
{
	long long	v;

	if (gs_parse_ll(s, min, max, &v) != GS_OK) {
		(void)fprintf(stderr, "quicflood: %s: want a number from "
		    "%lld to %lld, not \"%s\"\n", flag, min, max, s);
		usage();
	}
	return v;
}

static long long
qf_ms(const char *flag, const char *s)
{
	long long	v;

	if (gs_parse_ms(s, 1000, 0, 24LL * 3600 * 1000, &v) != GS_OK) {
		(void)fprintf(stderr, "quicflood: %s: want a duration such "
		    "as 500ms or 3s, not \"%s\"\n", flag, s);
		usage();
	}
	return v;
}

static void
qf_rand_fill(struct qf *qf, uint8_t *p, size_t len)
{
	uint64_t	v;
	size_t		i;

	for (i = 0; i < len; i += 8) {
		v = gs_rand_next(&qf->rng);
		memcpy(p + i, &v, len - i < 8 ? len - i : 8);
	}
}

/* A uniform draw in [lo, hi]. */
static size_t
qf_rand_in(struct qf *qf, size_t lo, size_t hi)
{
	return lo + (size_t)(gs_rand_next(&qf->rng) % (hi - lo + 1));
}

/* ---- garbage ------------------------------------------------------ */

/* A long header's first bytes: first byte, version, DCID, SCID.
 * Returns the bytes written (at most 47). */
static size_t
qf_long_hdr(struct qf *qf, uint8_t *p, uint8_t first, uint32_t version)
{
	size_t	n = 0, cidlen;

	p[n++] = first;
	p[n++] = (uint8_t)(version >> 24);
	p[n++] = (uint8_t)(version >> 16);
	p[n++] = (uint8_t)(version >> 8);
	p[n++] = (uint8_t)version;
	cidlen = qf_rand_in(qf, NGTCP2_MIN_INITIAL_DCIDLEN, NGTCP2_MAX_CIDLEN);
	p[n++] = (uint8_t)cidlen;
	qf_rand_fill(qf, p + n, cidlen);
	n += cidlen;
	cidlen = qf_rand_in(qf, 0, NGTCP2_MAX_CIDLEN);
	p[n++] = (uint8_t)cidlen;
	qf_rand_fill(qf, p + n, cidlen);
	return n + cidlen;
}

/* One garbage datagram into p (QF_DGRAM bytes); returns its length and
 * the kind in *kind. */
static size_t
qf_garbage(struct qf *qf, uint8_t *p, int *kind)
{
	size_t		n, tlen, len;
	unsigned	draw = (unsigned)(gs_rand_next(&qf->rng) % 10);
	uint32_t	v;

	if (draw < 3) {
		*kind = QF_K_RANDOM;
		len = qf_rand_in(qf, 1, QF_DGRAM);
		qf_rand_fill(qf, p, len);
		return len;
	}
	if (draw < 6) {
		*kind = QF_K_INITIAL;
		qf_rand_fill(qf, p, QF_INITIAL);
		/* Long header, fixed bit, type Initial (0): 0xc0. */
		n = qf_long_hdr(qf, p, (uint8_t)(0xc0 | (p[0] & 0x0f)),
		    NGTCP2_PROTO_VER_V1);
		/* Half with no token, half with a random one. */
		tlen = gs_rand_next(&qf->rng) & 1 ? qf_rand_in(qf, 1, 100) : 0;
		n += gs_quic_varint_put(p + n, tlen);
		n += tlen;		/* the token: random already */
		/* The length of the rest (2-byte varint), to 1200. */
		len = QF_INITIAL - n - 2;
		p[n++] = (uint8_t)(0x40 | (len >> 8));
		p[n++] = (uint8_t)len;
		return QF_INITIAL;
	}
	if (draw < 9) {
		*kind = QF_K_SHORT;
		len = qf_rand_in(qf, 22, QF_DGRAM);
		qf_rand_fill(qf, p, len);
		p[0] = (uint8_t)(0x40 | (p[0] & 0x3f));
		return len;
	}
	*kind = QF_K_VERSION;
	qf_rand_fill(qf, p, QF_INITIAL);
	/* 0x?a?a?a?a: reserved for forcing Version Negotiation (RFC 9000
	 * section 15). */
	v = (uint32_t)gs_rand_next(&qf->rng);
	v = (v & 0xf0f0f0f0u) | 0x0a0a0a0au;
	(void)qf_long_hdr(qf, p, (uint8_t)(0xc0 | (p[0] & 0x3f)), v);
	return QF_INITIAL;
}

/* ---- genuine Initials -------------------------------------------- */

static ngtcp2_conn *
qf_get_conn(ngtcp2_crypto_conn_ref *ref)
{
	return ((struct qf_conn *)ref->user_data)->conn;
}

static int
qf_new_cid_cb(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token,
    size_t cidlen, void *user_data)
{
	uint64_t	 seed = gs_random_u64();

	(void)conn;
	(void)user_data;
	cid->datalen = cidlen;
	for (size_t i = 0; i < cidlen; i++)
		cid->data[i] = (uint8_t)gs_rand_next(&seed);
	for (size_t i = 0; i < NGTCP2_STATELESS_RESET_TOKENLEN; i++)
		token[i] = (uint8_t)gs_rand_next(&seed);
	return 0;
}

static void
qf_conn_free(struct qf_conn *c)
{
	if (c->conn == NULL)
		return;
	ngtcp2_conn_del(c->conn);
	gnutls_deinit(c->tls);
	c->conn = NULL;
	c->tls = NULL;
}

static ngtcp2_path
qf_path(struct qf *qf, int si)
{
	ngtcp2_path	path;

	memset(&path, 0, sizeof(path));
	path.local.addr = (ngtcp2_sockaddr *)&qf->socks[si].local;
	path.local.addrlen = qf->socks[si].locallen;
	path.remote.addr = (ngtcp2_sockaddr *)&qf->remote;
	path.remote.addrlen = qf->remotelen;
	return path;
}

/*
 * Begin a connection from socket si and write its first datagram into
 * p (QF_DGRAM bytes).  The connection stays in a slot with -R and is
 * freed at once without.  The datagram's length, or 0 on failure
 * (reported).
 */
static size_t
qf_first_flight(struct qf *qf, int si, uint8_t *p)
{
	struct qf_conn		*c;
	ngtcp2_settings		 settings;
	ngtcp2_transport_params	 params;
	ngtcp2_path		 path = qf_path(qf, si);
	ngtcp2_path_storage	 ps;
	ngtcp2_pkt_info		 pi;
	ngtcp2_cid		 dcid;
	ngtcp2_ssize		 n;
	uint64_t		 ts = gs_quic_ts();
	uint32_t		 slot;
	char			 err[256];
	int			 rv;

	slot = (uint32_t)(qf->next++ % qf->nconn);
	c = &qf->conns[slot];
	qf_conn_free(c);		/* the oldest, if still kept */
	memset(c, 0, sizeof(*c));
	c->sock = si;
	c->born_ms = gs_now_ms();
	c->ref.get_conn = qf_get_conn;
	c->ref.user_data = c;
	/* The SCID names the slot, so that an answer finds it. */
	c->scid.datalen = QF_SCIDLEN;
	c->scid.data[0] = (uint8_t)(slot >> 24);
	c->scid.data[1] = (uint8_t)(slot >> 16);
	c->scid.data[2] = (uint8_t)(slot >> 8);
	c->scid.data[3] = (uint8_t)slot;
	qf_rand_fill(qf, c->scid.data + 4, QF_SCIDLEN - 4);
	dcid.datalen = qf_rand_in(qf, NGTCP2_MIN_INITIAL_DCIDLEN,
	    NGTCP2_MAX_CIDLEN);
	qf_rand_fill(qf, dcid.data, dcid.datalen);

	ngtcp2_settings_default(&settings);
	settings.initial_ts = ts;
	ngtcp2_transport_params_default(&params);
	/* What a gs client announces (gs-protocol(7), QUIC). */
	params.initial_max_data = 1 << 20;
	params.initial_max_stream_data_bidi_local = 1 << 18;
	params.initial_max_stream_data_bidi_remote = 1 << 18;
	params.max_idle_timeout = 30 * NGTCP2_SECONDS;
	params.max_datagram_frame_size = 65535;
	if ((rv = ngtcp2_conn_client_new(&c->conn, &dcid, &c->scid, &path,
	    NGTCP2_PROTO_VER_V1, &qf->cb, &settings, &params, NULL, c)) !=
	    0) {
		(void)fprintf(stderr, "quicflood: ngtcp2_conn_client_new: "
		    "%s\n", ngtcp2_strerror(rv));
		c->conn = NULL;
		qf->n.errors++;
		return 0;
	}
	if (gs_quic_tls_new(&c->tls, false, qf->cred, qf->host, &c->ref,
	    err, sizeof(err)) != 0) {
		(void)fprintf(stderr, "quicflood: %s\n", err);
		ngtcp2_conn_del(c->conn);
		c->conn = NULL;
		qf->n.errors++;
		return 0;
	}
	ngtcp2_conn_set_tls_native_handle(c->conn, c->tls);
	ngtcp2_path_storage_zero(&ps);
	n = ngtcp2_conn_write_pkt(c->conn, &ps.path, &pi, p, QF_DGRAM, ts);
	if (!qf->answer_retry)
		qf_conn_free(c);
	if (n <= 0) {
		(void)fprintf(stderr, "quicflood: ngtcp2_conn_write_pkt: %s\n",
		    n < 0 ? ngtcp2_strerror((int)n) : "nothing to send");
		qf_conn_free(c);
		qf->n.errors++;
		return 0;
	}
	qf->n.conns++;
	return (size_t)n;
}

/* The kept connection a datagram of the target names, or NULL. */
static struct qf_conn *
qf_conn_find(struct qf *qf, const uint8_t *p, size_t len)
{
	ngtcp2_version_cid	 vc;
	struct qf_conn		*c;
	uint32_t		 slot;
	int			 rv;

	rv = ngtcp2_pkt_decode_version_cid(&vc, p, len, QF_SCIDLEN);
	if ((rv != 0 && rv != NGTCP2_ERR_VERSION_NEGOTIATION) ||
	    vc.dcidlen != QF_SCIDLEN)
		return NULL;
	slot = (uint32_t)vc.dcid[0] << 24 | (uint32_t)vc.dcid[1] << 16 |
	    (uint32_t)vc.dcid[2] << 8 | vc.dcid[3];
	if (slot >= qf->nconn)
		return NULL;
	c = &qf->conns[slot];
	if (c->conn == NULL || memcmp(c->scid.data, vc.dcid, QF_SCIDLEN) != 0)
		return NULL;
	return c;
}

static void
qf_send_one(struct qf *qf, int si, const uint8_t *p, size_t len)
{
	if (send(qf->socks[si].fd, p, len, 0) == (ssize_t)len) {
		qf->n.sent++;
		qf->n.bytes_out += len;
	} else if (errno == ECONNREFUSED)
		qf->n.unreachable++;
	else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
		qf->n.blocked++;
	else {
		(void)fprintf(stderr, "quicflood: send: %s\n",
		    strerror(errno));
		qf->n.errors++;
	}
}

/*
 * A datagram from the target for kept connection c: a Retry is
 * answered with the second Initial, once; anything else decides the
 * connection's fate, and it is forgotten without a word.
 */
static void
qf_conn_input(struct qf *qf, struct qf_conn *c, const uint8_t *p,
    size_t len, int is_retry)
{
	ngtcp2_path		 path = qf_path(qf, c->sock);
	ngtcp2_path_storage	 ps;
	ngtcp2_pkt_info		 pi;
	ngtcp2_ssize		 n;
	uint8_t			 out[QF_DGRAM];
	int			 rv;

	rv = ngtcp2_conn_read_pkt(c->conn, &path, NULL, p, len,
	    gs_quic_ts());
	if (is_retry && !c->retried) {
		if (rv != 0) {
			(void)fprintf(stderr, "quicflood: a Retry did not "
			    "take: %s\n", ngtcp2_strerror(rv));
			qf->n.errors++;
			qf_conn_free(c);
			return;
		}
		ngtcp2_path_storage_zero(&ps);
		n = ngtcp2_conn_write_pkt(c->conn, &ps.path, &pi, out,
		    sizeof(out), gs_quic_ts());
		if (n <= 0) {
			(void)fprintf(stderr, "quicflood: the Initial after "
			    "a Retry: %s\n", n < 0 ?
			    ngtcp2_strerror((int)n) : "nothing to send");
			qf->n.errors++;
			qf_conn_free(c);
			return;
		}
		qf_send_one(qf, c->sock, out, (size_t)n);
		qf->n.retry_answered++;
		c->retried = 1;
		return;
	}
	if (is_retry)
		return;		/* a second Retry: ngtcp2 ignores it */
	/* The server's Initial: CONNECTION_CLOSE, or its handshake (a
	 * ServerHello, then a certificate this client cannot check). */
	if (rv == NGTCP2_ERR_DRAINING)
		qf->n.closed++;
	else
		qf->n.accepted++;
	qf_conn_free(c);
}

/* ---- the target's answers ----------------------------------------- */

static void
qf_input(struct qf *qf, const uint8_t *p, size_t len)
{
	struct qf_conn	*c;
	uint32_t	 v;
	int		 is_retry = 0;

	qf->n.recv++;
	qf->n.bytes_in += len;
	if (len == 0)
		qf->n.other++;
	else if ((p[0] & 0x80) == 0)
		qf->n.shrt++;
	else if (len < 5)
		qf->n.other++;
	else {
		v = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
		    (uint32_t)p[3] << 8 | p[4];
		if (v == 0)
			qf->n.vn++;
		else if (v != NGTCP2_PROTO_VER_V1)
			qf->n.other++;
		else if ((p[0] & 0x30) == 0x30) {
			qf->n.retry++;
			is_retry = 1;
		} else
			qf->n.handshake++;
	}
	if (qf->answer_retry && len > 0 && (p[0] & 0x80) &&
	    (c = qf_conn_find(qf, p, len)) != NULL)
		qf_conn_input(qf, c, p, len, is_retry);
}

/* Read what socket si has, a bounded number of batches. */
static void
qf_drain(struct qf *qf, int si)
{
	static uint8_t	 buf[QF_BATCH][65536];
	struct mmsghdr	 msg[QF_BATCH];
	struct iovec	 iov[QF_BATCH];
	int		 i, n, round;

	for (round = 0; round < 16; round++) {
		memset(msg, 0, sizeof(msg));
		for (i = 0; i < QF_BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = sizeof(buf[i]);
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(qf->socks[si].fd, msg, QF_BATCH, MSG_DONTWAIT,
		    NULL);
		if (n < 0) {
			if (errno == ECONNREFUSED) {
				qf->n.unreachable++;
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				(void)fprintf(stderr, "quicflood: recvmmsg: "
				    "%s\n", strerror(errno));
				qf->n.errors++;
			}
			return;
		}
		for (i = 0; i < n; i++)
			qf_input(qf, buf[i], msg[i].msg_len);
		if (n < QF_BATCH)
			return;
	}
}

/* Forget the kept connections past their life. */
static void
qf_expire(struct qf *qf)
{
	uint64_t	now = gs_now_ms();
	size_t		i;

	for (i = 0; i < qf->nconn; i++)
		if (qf->conns[i].conn != NULL &&
		    now - qf->conns[i].born_ms >= QF_KEEP_MS)
			qf_conn_free(&qf->conns[i]);
}

/* ---- sending ------------------------------------------------------ */

/* Make and send up to want datagrams from socket si; returns how many
 * were made (sent or not: blocked ones are counted, not retried). */
static size_t
qf_send_batch(struct qf *qf, int si, size_t want)
{
	static uint8_t	 buf[QF_BATCH][QF_DGRAM];
	struct mmsghdr	 msg[QF_BATCH];
	struct iovec	 iov[QF_BATCH];
	int		 kind[QF_BATCH];
	size_t		 i, made = 0, len;
	int		 n, off = 0;

	if (want > QF_BATCH)
		want = QF_BATCH;
	memset(msg, 0, sizeof(msg));
	for (i = 0; i < want; i++) {
		if (qf->mode == QF_M_GARBAGE)
			len = qf_garbage(qf, buf[made], &kind[made]);
		else {
			kind[made] = -1;
			if ((len = qf_first_flight(qf, si, buf[made])) == 0)
				continue;
		}
		iov[made].iov_base = buf[made];
		iov[made].iov_len = len;
		msg[made].msg_hdr.msg_iov = &iov[made];
		msg[made].msg_hdr.msg_iovlen = 1;
		made++;
	}
	while ((size_t)off < made) {
		n = sendmmsg(qf->socks[si].fd, msg + off,
		    (unsigned)(made - (size_t)off), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNREFUSED)
				qf->n.unreachable++;
			else if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS)
				qf->n.blocked += made - (size_t)off;
			else {
				(void)fprintf(stderr, "quicflood: sendmmsg: "
				    "%s\n", strerror(errno));
				qf->n.errors++;
			}
			break;
		}
		for (i = (size_t)off; i < (size_t)off + (size_t)n; i++) {
			qf->n.sent++;
			qf->n.bytes_out += msg[i].msg_len;
			if (kind[i] >= 0)
				qf->n.kind[kind[i]]++;
		}
		off += n;
	}
	/* A failed connection still counts as one attempt of the rate. */
	return want;
}

/* ---- set-up ------------------------------------------------------- */

/* host:port or [host]:port into qf->remote; host kept for TLS. */
static int
qf_target(struct qf *qf, char *arg)
{
	struct addrinfo	 hints, *res;
	char		*port, *host = arg;
	int		 rv;

	if ((port = strrchr(arg, ':')) == NULL || port[1] == '\0')
		return -1;
	*port++ = '\0';
	if (host[0] == '[') {
		host++;
		if (host[0] == '\0' || host[strlen(host) - 1] != ']')
			return -1;
		host[strlen(host) - 1] = '\0';
	}
	if (host[0] == '\0')
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rv = getaddrinfo(host, port, &hints, &res)) != 0) {
		(void)fprintf(stderr, "quicflood: %s port %s: %s\n", host,
		    port, gai_strerror(rv));
		exit(GS_EXIT_SYSTEM);
	}
	memcpy(&qf->remote, res->ai_addr, res->ai_addrlen);
	qf->remotelen = res->ai_addrlen;
	freeaddrinfo(res);
	qf->host = host;
	return 0;
}

static void
qf_sockets(struct qf *qf)
{
	struct qf_sock	*s;
	int		 i, size = 4 << 20;

	if ((qf->socks = calloc((size_t)qf->nsock, sizeof(*qf->socks))) ==
	    NULL) {
		(void)fprintf(stderr, "quicflood: out of memory\n");
		exit(GS_EXIT_SYSTEM);
	}
	for (i = 0; i < qf->nsock; i++) {
		s = &qf->socks[i];
		s->locallen = sizeof(s->local);
		if ((s->fd = socket(qf->remote.ss_family, SOCK_DGRAM |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1 ||
		    connect(s->fd, (struct sockaddr *)&qf->remote,
		    qf->remotelen) == -1 ||
		    getsockname(s->fd, (struct sockaddr *)&s->local,
		    &s->locallen) == -1) {
			(void)fprintf(stderr, "quicflood: socket %d of %d: "
			    "%s\n", i + 1, qf->nsock, strerror(errno));
			exit(GS_EXIT_SYSTEM);
		}
		/* Larger buffers than the default: a burst of a batch per
		 * socket, and the answers to it, must fit.  The kernel
		 * caps the size; a refusal only costs blocked sends. */
		if (setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &size,
		    sizeof(size)) == -1 || setsockopt(s->fd, SOL_SOCKET,
		    SO_RCVBUF, &size, sizeof(size)) == -1)
			(void)fprintf(stderr, "quicflood: setsockopt: %s\n",
			    strerror(errno));
	}
}

static void
qf_tls(struct qf *qf)
{
	int	rv;

	/* No authority: the handshake never gets as far as a check. */
	if ((rv = gnutls_certificate_allocate_credentials(&qf->cred)) != 0) {
		(void)fprintf(stderr, "quicflood: gnutls credentials: %s\n",
		    gnutls_strerror(rv));
		exit(GS_EXIT_SYSTEM);
	}
	gs_quic_callbacks(&qf->cb, false);
	qf->cb.get_new_connection_id = qf_new_cid_cb;
}

static void
qf_report(const struct qf *qf, uint64_t elapsed_ms)
{
	const struct qf_count	*n = &qf->n;
	int			 k;

	(void)printf("mode=%s sent=%llu bytes_out=%llu",
	    qf->mode == QF_M_GARBAGE ? "garbage" : "initial", n->sent,
	    n->bytes_out);
	for (k = 0; k < 4; k++)
		(void)printf(" sent_%s=%llu", qf_kind_name[k], n->kind[k]);
	(void)printf(" conns=%llu retry_answered=%llu accepted=%llu "
	    "closed=%llu blocked=%llu unreachable=%llu errors=%llu "
	    "recv=%llu bytes_in=%llu retry=%llu vn=%llu handshake=%llu "
	    "short=%llu other=%llu elapsed_ms=%llu\n", n->conns,
	    n->retry_answered, n->accepted, n->closed, n->blocked,
	    n->unreachable, n->errors, n->recv, n->bytes_in, n->retry, n->vn,
	    n->handshake, n->shrt, n->other, (unsigned long long)elapsed_ms);
	(void)fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct qf		 qf;
	struct pollfd		*pfd;
	struct sigaction	 sa;
	long long		 rate = 1000, count = 0, dur_ms = -1;
	long long		 wait_ms = 1000, keep = 4096, seed = -1;
	uint64_t		 start, now, end = 0, due, next, items = 0;
	uint64_t		 next_sweep = 0;
	int			 ch, i, sending = 1, rr = 0, timeout;

	memset(&qf, 0, sizeof(qf));
	qf.nsock = 1;
	while ((ch = getopt(argc, argv, "Rc:d:k:p:r:s:w:")) != -1) {
		switch (ch) {
		case 'R':
			qf.answer_retry = 1;
			break;
		case 'c':
			count = qf_num("-c", optarg, 1, 1000000000);
			break;
		case 'd':
			dur_ms = qf_ms("-d", optarg);
			break;
		case 'k':
			keep = qf_num("-k", optarg, 1, 1 << 20);
			break;
		case 'p':
			qf.nsock = (int)qf_num("-p", optarg, 1, 4096);
			break;
		case 'r':
			rate = qf_num("-r", optarg, 1, 10000000);
			break;
		case 's':
			seed = qf_num("-s", optarg, 0, INT64_MAX);
			break;
		case 'w':
			wait_ms = qf_ms("-w", optarg);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	if (strcmp(argv[optind], "garbage") == 0)
		qf.mode = QF_M_GARBAGE;
	else if (strcmp(argv[optind], "initial") == 0)
		qf.mode = QF_M_INITIAL;
	else {
		(void)fprintf(stderr, "quicflood: unknown mode \"%s\"\n",
		    argv[optind]);
		usage();
	}
	if (qf.answer_retry && qf.mode != QF_M_INITIAL) {
		(void)fprintf(stderr, "quicflood: -R is for mode initial\n");
		usage();
	}
	if (qf_target(&qf, argv[optind + 1]) != 0) {
		(void)fprintf(stderr, "quicflood: want host:port or "
		    "[host]:port, not \"%s\"\n", argv[optind + 1]);
		usage();
	}
	if (dur_ms < 0 && count == 0)
		dur_ms = 5000;
	qf.rng = seed >= 0 ? (uint64_t)seed : gs_random_u64();
	qf.nconn = qf.answer_retry ? (size_t)keep : 1;
	if ((qf.conns = calloc(qf.nconn, sizeof(*qf.conns))) == NULL ||
	    (pfd = calloc((size_t)qf.nsock, sizeof(*pfd))) == NULL) {
		(void)fprintf(stderr, "quicflood: out of memory\n");
		return GS_EXIT_SYSTEM;
	}
	qf_sockets(&qf);
	if (qf.mode == QF_M_INITIAL)
		qf_tls(&qf);
	for (i = 0; i < qf.nsock; i++) {
		pfd[i].fd = qf.socks[i].fd;
		pfd[i].events = POLLIN;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = qf_signal;
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1) {
		(void)fprintf(stderr, "quicflood: sigaction: %s\n",
		    strerror(errno));
		return GS_EXIT_SYSTEM;
	}

	start = gs_now_us();
	for (;;) {
		now = gs_now_us();
		if (sending && (qf_stop ||
		    (dur_ms >= 0 && now - start >= (uint64_t)dur_ms * 1000) ||
		    (count > 0 && items >= (uint64_t)count))) {
			sending = 0;
			end = now + (uint64_t)wait_ms * 1000;
		}
		if (!sending && now >= end)
			break;
		timeout = 0;
		if (sending) {
			/* Due so far, the first one at once. */
			due = (now - start) * (uint64_t)rate / 1000000 + 1;
			if (count > 0 && due > (uint64_t)count)
				due = (uint64_t)count;
			if (due > items) {
				items += qf_send_batch(&qf, rr, due - items);
				rr = (rr + 1) % qf.nsock;
			}
			/* Sleep until the next one is due, if it is not. */
			next = start + items * 1000000 / (uint64_t)rate;
			now = gs_now_us();
			if (next > now)
				timeout = (int)GS_MIN((next - now + 999) / 1000,
				    100);
		} else
			timeout = (int)GS_MIN((end - now) / 1000 + 1, 100);
		if (poll(pfd, (nfds_t)qf.nsock, timeout) == -1 &&
		    errno != EINTR) {
			(void)fprintf(stderr, "quicflood: poll: %s\n",
			    strerror(errno));
			return GS_EXIT_SYSTEM;
		}
		for (i = 0; i < qf.nsock; i++)
			if (pfd[i].revents & (POLLIN | POLLERR))
				qf_drain(&qf, i);
		if (qf.answer_retry && gs_now_ms() >= next_sweep) {
			qf_expire(&qf);
			next_sweep = gs_now_ms() + 100;
		}
	}
	qf_report(&qf, (gs_now_us() - start) / 1000);

	for (size_t k = 0; k < qf.nconn; k++)
		qf_conn_free(&qf.conns[k]);
	free(qf.conns);
	for (i = 0; i < qf.nsock; i++)
		(void)close(qf.socks[i].fd);
	free(qf.socks);
	free(pfd);
	if (qf.mode == QF_M_INITIAL)
		gnutls_certificate_free_credentials(qf.cred);
	return qf.n.sent > 0 ? GS_EXIT_OK : GS_EXIT_RUNTIME;
}
