/*
 * The QUIC transport (gs-protocol(7), QUIC): ngtcp2 0.12 with GnuTLS,
 * one UDP socket on the libev loop, the second table behind the seam
 * of gateway.h beside ws.c.
 *
 * Receive.  recvmmsg takes up to GWQ_BATCH packets a call.  A packet
 * is routed by its destination connection ID to its connection (a hash
 * of every ID the gateway issued).  A packet for no connection is:
 *   - a long-header Initial: a new client.  Without a token it gets a
 *     Retry (a stateless token sealed with the gateway's secret, bound
 *     to the client's address), and no state is kept; with a valid
 *     one, and under the caps on connections and on handshakes in
 *     progress and the limits of its address shared with TCP (-A, -a,
 *     -N: gs_http_addr_claim), a connection is made; over a cap or a
 *     limit, a CONNECTION_CLOSE (CONNECTION_REFUSED) answers it;
 *   - another version: a Version Negotiation packet, only for a
 *     datagram of 1200 bytes or more (no amplification);
 *   - a short header: a stateless reset, at most GWQ_RESETS a second,
 *     smaller than what it answers (RFC 9000 10.3);
 *   - anything else: dropped and counted.
 *
 * Migration.  A client may move to another address or port mid-game
 * (RFC 9000 section 9), with one of the spare connection IDs the
 * gateway issued it (as many as the client's active_connection_id_limit
 * asks, up to ngtcp2's 8; each routed from its issue, and a retired one
 * replaced): its packets find the connection by that ID, whatever their
 * source, and ngtcp2 validates the new path, which the replies then
 * take.  Moves are paced (gwq_move_ok): libngtcp2 0.12.1 aborts the
 * process when they outrun their validations.
 *
 * Send.  Packets are written into one batch buffer and leave with
 * sendmmsg at the end of the loop iteration, or when the batch is
 * full; consecutive packets of one connection on one path become one
 * entry with UDP_SEGMENT (GSO) where the kernel has it.
 *
 * Writing.  client.c's sends (one call per message for this transport)
 * only append: reliable messages to the stream's buffer, framed with
 * their length; state messages to a short list of datagrams.  The
 * connection is then put on the pending list, which an ev_prepare
 * watcher of the lowest priority (after client.c's flush) writes out:
 * datagrams first, then stream data, then acknowledgements, coalesced
 * into as few packets as ngtcp2 makes.  Stream bytes are kept until
 * acknowledged.  ready() is false while datagrams or many stream bytes
 * wait (congestion): client.c then keeps its queue, with its drop
 * rules, as it does for a full TCP socket.
 *
 * Closing.  close() ends the stream (FIN) after what is queued; once
 * the client has acknowledged all of it, the gateway sends
 * CONNECTION_CLOSE with the WebSocket close code as application error
 * code and forgets the connection at once, without a closing period: a
 * late packet of the client's then draws a stateless reset, which ends
 * it as surely.  abort() closes now.  A connection idle for
 * --quic-idle, or whose handshake has not completed in GWQ_HS_TIMEOUT,
 * is forgotten silently.
 *
 * Context rules.  ngtcp2 forbids writing from inside its callbacks, and
 * client.c may not be called back from inside its calls into a
 * transport: so anything that would do either (a close, a
 * want_write, the end of a connection) sets a flag and puts the
 * connection on the pending list, whose watcher acts on it.
 */
#define _GNU_SOURCE	/* recvmmsg, sendmmsg, in6_pktinfo */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/udp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ngtcp2/ngtcp2_crypto.h>

#include "gateway.h"
#include "quic.h"
#include "util.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT	103
#endif

#define GWQ_BATCH	64		/* packets per recvmmsg/sendmmsg */
#define GWQ_RX_SLOT	1536		/* bytes per received packet */
#define GWQ_RX_ROUNDS	8		/* recvmmsg calls per wake-up */
#define GWQ_PKT_MAX	1452		/* bytes of UDP payload sent */
#define GWQ_UDP_MAX	1472		/* max_udp_payload_size announced */
#define GWQ_TX_BYTES	(GWQ_BATCH * 1500)	/* the send batch */
#define GWQ_GSO_SEGS	32		/* packets in one GSO entry */
#define GWQ_SCIDLEN	18		/* our connection IDs */
#define GWQ_CIDS	8		/* active_connection_id_limit */
#define GWQ_DGRAMS	8		/* datagrams waiting, per connection */
#define GWQ_DGRAM_OVERHEAD 48		/* short header, AEAD, frame */
#define GWQ_STREAM_HIGH	(64 * 1024)	/* unsent stream bytes: not ready */
#define GWQ_STREAM_WINDOW (64 * 1024)	/* the client's stream, credit */
/*
 * Acknowledgements ride on snapshots.  ngtcp2 0.12 acknowledges within
 * min(max_ack_delay, smoothed RTT / 8): on loopback at once, on a 40 ms
 * path after 5 ms, so each of a client's 30 inputs a second drew a
 * packet of its own, half of all the gateway sent.  A playing client's
 * timer therefore fires no sooner than GWQ_ACK_RIDE after the last
 * packet to it, by which time the next snapshot (33 ms apart at 30 Hz)
 * has usually carried the acknowledgement; a read alone does not write.
 * But a deadline still due once a packet has left is not an
 * acknowledgement's (the packet carried those): it is one of the timer's
 * own (a retired connection ID to drop, which lets a new one be issued;
 * a path validation's end) and fires at once.  Deferred, it waited for
 * as long as snapshots flowed.
 * We announce max_ack_delay GWQ_ACK_DELAY, above the ride, so the
 * client's loss detection waits for it.  Loss timers (a PTO or more
 * after the last packet) are not moved by it.
 */
#define GWQ_ACK_DELAY	(50 * NGTCP2_MILLISECONDS)
#define GWQ_ACK_RIDE	(35 * NGTCP2_MILLISECONDS)
#define GWQ_ACK_THRESH	8
#define GWQ_RETRY_TTL	(10 * NGTCP2_SECONDS)	/* a Retry token lives */
#define GWQ_HS_TIMEOUT	(10 * NGTCP2_SECONDS)	/* handshake deadline */
#define GWQ_RESETS	1000		/* stateless resets a second */
/* A client moves (a packet from another address) at most this often,
 * and not while the last move's path is being validated: see
 * gwq_move_ok(). */
#define GWQ_MOVE_MIN_S	0.1
#define GWQ_MOVE_WAIT_S	0.5		/* a validation not ended by then
					 * is taken as over */
#define GWQ_SNDBUF	(4 * 1024 * 1024)
#define GWQ_RCVBUF	(4 * 1024 * 1024)

/* Why a packet was dropped, or a connection refused: metric labels. */
enum { GWQ_D_GARBAGE, GWQ_D_UNKNOWN, GWQ_D_TRUNC,
	GWQ_D_SENDBUF, GWQ_D_STATE, GWQ_D_MOVE, GWQ_ND };
#define GWQ_DROP(r) "gs_gateway_quic_dropped_total{reason=\"" r "\"}"
static const char *const gwq_drop_names[GWQ_ND] = { GWQ_DROP("garbage"),
	GWQ_DROP("unknown"), GWQ_DROP("truncated"),
	GWQ_DROP("sendbuf"), GWQ_DROP("state"), GWQ_DROP("move") };
enum { GWQ_R_CONNS, GWQ_R_HANDSHAKES, GWQ_R_DRAINING, GWQ_R_TOKEN,
	GWQ_R_TLS, GWQ_R_ADDR_CONNS, GWQ_R_ADDR_RATE, GWQ_R_RATE, GWQ_NR };
#define GWQ_REFUSED(r) "gs_gateway_quic_refused_total{reason=\"" r "\"}"
static const char *const gwq_refuse_names[GWQ_NR] = {
	GWQ_REFUSED("conns"), GWQ_REFUSED("handshakes"),
	GWQ_REFUSED("draining"), GWQ_REFUSED("token"), GWQ_REFUSED("tls"),
	GWQ_REFUSED("address_conns"), GWQ_REFUSED("address_rate"),
	GWQ_REFUSED("rate") };

struct gwq_cid;

struct gwq_conn {
	struct gwq		*q;
	ngtcp2_conn		*conn;
	gnutls_session_t	 tls;
	ngtcp2_crypto_conn_ref	 ref;
	struct gw_client	*c;		/* after the handshake */
	struct gwq_cid		*cids;		/* IDs routed to us */
	struct gs_http_addr	*addr;		/* its address's count (-A) */
	ev_timer		 timer;		/* ngtcp2's expiry */
	char			 peer[64];	/* address, no port */
	/* The last path the client was seen to move to, the first path
	 * until it moves: a path validated again is not a move. */
	ngtcp2_path_storage	 moved_to;
	bool			 handshake;	/* completed */
	bool			 counted_hs;	/* in q->nhandshakes */

	/* The reliable stream, client-opened; -1 until then. */
	int64_t			 sid;
	struct gs_quic_rx	 rx;
	uint8_t			*sbuf;		/* stream bytes not yet acked */
	size_t			 slen, scap;
	size_t			 ssent;		/* of sbuf, handed to ngtcp2 */
	uint64_t		 sbase;		/* stream offset of sbuf[0] */
	bool			 fin, fin_sent;

	/* Datagrams waiting for room in a packet, back to back in
	 * dq[dq_off..dq_end), their lengths a ring; dq is the
	 * connection's for its life, so sending allocates nothing. */
	uint8_t			*dq;
	size_t			 dq_cap, dq_off, dq_end;
	size_t			 dlen[GWQ_DGRAMS];
	unsigned		 d0, dn;

	uint64_t		 ku_at;		/* next key update, ts */
	uint64_t		 last_tx;	/* last packet written, ts */
	double			 moved_at;	/* ev_now of the last move */
	bool			 validating;	/* its path validation runs */
	struct sockaddr_storage	 move_addr;	/* where it moved to */
	socklen_t		 move_len;
	/* Set inside callbacks, acted on by the pending watcher. */
	bool			 want_cb;	/* call gw_client_writable */
	bool			 close_req;	/* close() was called */
	enum gw_close		 close_why;
	bool			 abort_req;
	bool			 dead;		/* forget after this pass */
	bool			 pending;
	struct gwq_conn		*pnext;		/* pending list */
	struct gwq_conn		*dnext;		/* dead list */
	struct gwq_conn		*prev, *next;	/* all */
};

struct gwq_cid {
	struct gwq_cid		*hnext;		/* hash chain */
	struct gwq_cid		*cnext;		/* the connection's list */
	struct gwq_conn		*qc;
	ngtcp2_cid		 cid;
};

struct gwq_tx {				/* one sendmmsg entry */
	struct sockaddr_storage	 to, from;
	socklen_t		 tolen;
	size_t			 off, len;	/* in the batch buffer */
	size_t			 seg;		/* GSO segment size */
	unsigned		 nseg;
	bool			 open;		/* may take another segment */
};

struct gwq {
	struct gw		*gw;
	int			 fd;
	ev_io			 rio;
	ev_prepare		 flush;
	bool			 wildcard;	/* pktinfo on receive and send */
	int			 family;
	struct sockaddr_storage	 local;
	socklen_t		 locallen;
	bool			 gso;
	gnutls_certificate_credentials_t cred;
	uint8_t			 secret[32];
	ngtcp2_callbacks	 cb;
	struct gw_quic_conf	 conf;

	struct gwq_cid		**ctab;
	size_t			 ctabsz, ncids;
	struct gwq_conn		*conns;
	unsigned		 nconns, nhandshakes;
	struct gwq_conn		*pend;		/* to write or act on */
	struct gwq_conn		*dead;		/* to free */

	/* Receive. */
	struct mmsghdr		 rmsg[GWQ_BATCH];
	struct iovec		 riov[GWQ_BATCH];
	struct sockaddr_storage	 rfrom[GWQ_BATCH];
	uint8_t			 rctl[GWQ_BATCH][64];
	uint8_t			*rbuf;		/* GWQ_BATCH * GWQ_RX_SLOT */

	/* Send. */
	uint8_t			*tbuf;		/* GWQ_TX_BYTES */
	size_t			 tused;
	struct gwq_tx		 tx[GWQ_BATCH];
	unsigned		 ntx;

	struct gs_ratelimit	 rl_reset;
	double			 reset_sec;
	unsigned		 resets_in_sec;

	struct gs_counter	*pkts_in, *pkts_out, *dgrams_in, *dgrams_out;
	struct gs_counter	*retries, *resets, *vneg, *key_updates;
	struct gs_counter	*idle, *stream_fallback, *gso_sends;
	struct gs_counter	*migrations, *path_failures;
	struct gs_counter	*drops[GWQ_ND], *refused[GWQ_NR];
	unsigned		 g_conns, g_hs;
};

static const struct gw_transport gw_quic_transport;

static void	gwq_conn_free(struct gwq_conn *);
static void	gwq_pend(struct gwq_conn *);
static int	gwq_write(struct gwq_conn *);

/* ------------------------------------------------------------- utils */

static uint64_t
gwq_cid_hash(const ngtcp2_cid *cid)
{
	uint64_t	h = 14695981039346656037ULL;
	size_t		i;

	for (i = 0; i < cid->datalen; i++)
		h = (h ^ cid->data[i]) * 1099511628211ULL;
	return h;
}

static struct gwq_conn *
gwq_find(struct gwq *q, const uint8_t *id, size_t len)
{
	ngtcp2_cid	 cid;
	struct gwq_cid	*e;

	if (len > NGTCP2_MAX_CIDLEN || q->ctab == NULL)
		return NULL;
	ngtcp2_cid_init(&cid, id, len);
	for (e = q->ctab[gwq_cid_hash(&cid) & (q->ctabsz - 1)]; e != NULL;
	    e = e->hnext)
		if (ngtcp2_cid_eq(&e->cid, &cid))
			return e->qc;
	return NULL;
}

static int
gwq_cid_add(struct gwq_conn *qc, const ngtcp2_cid *cid)
{
	struct gwq	*q = qc->q;
	struct gwq_cid	*e, **nt, *nx;
	size_t		 i, nsz;

	if (q->ncids + 1 > q->ctabsz) {
		nsz = q->ctabsz != 0 ? q->ctabsz * 2 : 1024;
		if ((nt = calloc(nsz, sizeof(*nt))) == NULL)
			return -1;
		for (i = 0; i < q->ctabsz; i++)
			for (e = q->ctab[i]; e != NULL; e = nx) {
				nx = e->hnext;
				e->hnext = nt[gwq_cid_hash(&e->cid) & (nsz - 1)];
				nt[gwq_cid_hash(&e->cid) & (nsz - 1)] = e;
			}
		free(q->ctab);
		q->ctab = nt;
		q->ctabsz = nsz;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	e->cid = *cid;
	e->qc = qc;
	i = gwq_cid_hash(cid) & (q->ctabsz - 1);
	e->hnext = q->ctab[i];
	q->ctab[i] = e;
	e->cnext = qc->cids;
	qc->cids = e;
	q->ncids++;
	return 0;
}

static void
gwq_cid_unlink(struct gwq *q, struct gwq_cid *e)
{
	struct gwq_cid	**pp;

	pp = &q->ctab[gwq_cid_hash(&e->cid) & (q->ctabsz - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	q->ncids--;
}

static void
gwq_cid_del(struct gwq_conn *qc, const ngtcp2_cid *cid)
{
	struct gwq_cid	**pp, *e;

	for (pp = &qc->cids; (e = *pp) != NULL; pp = &e->cnext)
		if (ngtcp2_cid_eq(&e->cid, cid)) {
			*pp = e->cnext;
			gwq_cid_unlink(qc->q, e);
			free(e);
			return;
		}
}

/* The address part of sa, for logs and the limit keys of client.c. */
static void
gwq_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	const struct sockaddr_in6 *s6 = (const void *)sa;

	if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		(void)inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf,
		    (socklen_t)len);
		return;
	}
	if (getnameinfo(sa, sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in), buf,
	    (socklen_t)len, NULL, 0, NI_NUMERICHOST) != 0)
		(void)gs_strlcpy(buf, "?", len);
}

/* --------------------------------------------------------------- send */

static void
gwq_tx_flush(struct gwq *q)
{
	struct mmsghdr	 msg[GWQ_BATCH];
	struct iovec	 iov[GWQ_BATCH];
	union {
		struct cmsghdr	h;
		uint8_t		b[CMSG_SPACE(sizeof(uint16_t)) +
				    CMSG_SPACE(sizeof(struct in6_pktinfo))];
	}		 ctl[GWQ_BATCH];
	struct cmsghdr	*cm;
	struct gwq_tx	*t;
	unsigned	 i, done = 0;
	size_t		 clen;
	int		 n;

	memset(msg, 0, sizeof(msg[0]) * q->ntx);
	for (i = 0; i < q->ntx; i++) {
		t = &q->tx[i];
		iov[i].iov_base = q->tbuf + t->off;
		iov[i].iov_len = t->len;
		msg[i].msg_hdr.msg_name = &t->to;
		msg[i].msg_hdr.msg_namelen = t->tolen;
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
		clen = 0;
		memset(&ctl[i], 0, sizeof(ctl[i]));
		msg[i].msg_hdr.msg_control = ctl[i].b;
		msg[i].msg_hdr.msg_controllen = sizeof(ctl[i].b);
		cm = CMSG_FIRSTHDR(&msg[i].msg_hdr);
		if (t->nseg > 1) {
			uint16_t seg = (uint16_t)t->seg;

			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(seg));
			memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
			clen += CMSG_SPACE(sizeof(seg));
			cm = CMSG_NXTHDR(&msg[i].msg_hdr, cm);
			gs_counter_inc(q->gso_sends);
		}
		if (q->wildcard && t->from.ss_family == AF_INET6) {
			struct in6_pktinfo pi;

			memset(&pi, 0, sizeof(pi));
			pi.ipi6_addr = ((struct sockaddr_in6 *)&t->from)->sin6_addr;
			cm->cmsg_level = IPPROTO_IPV6;
			cm->cmsg_type = IPV6_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
			clen += CMSG_SPACE(sizeof(pi));
		} else if (q->wildcard && t->from.ss_family == AF_INET) {
			struct in_pktinfo pi;

			memset(&pi, 0, sizeof(pi));
			pi.ipi_spec_dst =
			    ((struct sockaddr_in *)&t->from)->sin_addr;
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
			clen += CMSG_SPACE(sizeof(pi));
		}
		msg[i].msg_hdr.msg_controllen = clen;
		if (clen == 0)
			msg[i].msg_hdr.msg_control = NULL;
		gs_counter_add(q->pkts_out, t->nseg);
	}
	while (done < q->ntx) {
		n = sendmmsg(q->fd, msg + done, q->ntx - done, MSG_DONTWAIT);
		if (n > 0) {
			done += (unsigned)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if ((errno == EIO || errno == EINVAL) && q->gso &&
		    q->tx[done].nseg > 1) {
			/* No GSO after all (a device without it). */
			q->gso = false;
			gs_log_warn("quic GSO refused: sending packets one "
			    "by one");
		} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ECONNREFUSED && errno != EHOSTUNREACH &&
		    errno != ENETUNREACH && gs_ratelimit_ok(&q->gw->rl_peer, 10))
			gs_log_warn("quic sendmmsg");
		/* The kernel's buffer is full or the entry failed: that is
		 * loss, which QUIC repairs. */
		gs_counter_add(q->drops[GWQ_D_SENDBUF], q->tx[done].nseg);
		done++;
	}
	q->ntx = 0;
	q->tused = 0;
}

/* Room for one packet at the end of the batch. */
static uint8_t *
gwq_tx_room(struct gwq *q)
{
	if (q->ntx == GWQ_BATCH || GWQ_TX_BYTES - q->tused < GWQ_PKT_MAX)
		gwq_tx_flush(q);
	return q->tbuf + q->tused;
}

/* The packet of len bytes just written at gwq_tx_room() leaves on path
 * (NULL: to `to`, from the socket's address). */
static void
gwq_tx_commit(struct gwq *q, const ngtcp2_path *path,
    const struct sockaddr *to, socklen_t tolen, size_t len)
{
	struct gwq_tx	*t = q->ntx > 0 ? &q->tx[q->ntx - 1] : NULL;

	if (path != NULL) {
		to = (const struct sockaddr *)path->remote.addr;
		tolen = (socklen_t)path->remote.addrlen;
	}
	if (q->gso && t != NULL && t->open && len <= t->seg &&
	    t->nseg < GWQ_GSO_SEGS && t->off + t->len == q->tused &&
	    t->tolen == tolen && memcmp(&t->to, to, tolen) == 0 &&
	    (path == NULL || memcmp(&t->from, path->local.addr,
	    path->local.addrlen) == 0)) {
		t->len += len;
		t->nseg++;
		t->open = len == t->seg;	/* a shorter one ends it */
		q->tused += len;
		return;
	}
	t = &q->tx[q->ntx++];
	memcpy(&t->to, to, tolen);
	t->tolen = tolen;
	memset(&t->from, 0, sizeof(t->from));
	if (path != NULL)
		memcpy(&t->from, path->local.addr, path->local.addrlen);
	t->off = q->tused;
	t->len = t->seg = len;
	t->nseg = 1;
	t->open = true;
	q->tused += len;
}

/* -------------------------------------------------- ngtcp2 callbacks */

static ngtcp2_conn *
gwq_get_conn(ngtcp2_crypto_conn_ref *ref)
{
	struct gwq_conn	*qc = ref->user_data;

	return qc->conn;
}

/*
 * The client exists from here, inside the read: its hello may follow
 * the handshake's Finished in the very datagram being read.
 * gw_client_new() calls nothing of ngtcp2's.  Refusals (draining, no
 * memory) are made after the read, by gwq_after_read().
 */
static int
gwq_handshake_completed(ngtcp2_conn *conn, void *arg)
{
	struct gwq_conn	*qc = arg;
	struct gw	*gw = qc->q->gw;

	qc->handshake = true;
	if (qc->c == NULL && !qc->dead && gw_accepting(gw))
		qc->c = gw_client_new(gw, &gw_quic_transport, qc, qc->peer);
	return 0;
}

static int
gwq_stream_open(ngtcp2_conn *conn, int64_t sid, void *arg)
{
	struct gwq_conn	*qc = arg;

	/* The client's first bidirectional stream is the reliable lane;
	 * the transport parameters allow it no other. */
	if (qc->sid < 0 && ngtcp2_is_bidi_stream(sid))
		qc->sid = sid;
	return 0;
}

static void
gwq_stream_msg(void *arg, enum gs_quic_rx_status st, const uint8_t *msg,
    size_t len)
{
	struct gwq_conn	*qc = arg;
	struct gw	*gw = qc->q->gw;
	char		 text[GS_TEXT_MAX + 1];

	if (qc->c == NULL || qc->c->state == GW_CLOSING)
		return;
	gs_counter_add(gw->m.bytes_in, len);
	switch (st) {
	case GS_QUIC_RX_OK:
		gw_client_recv(qc->c, msg, len);
		break;
	case GS_QUIC_RX_TOOBIG:
		(void)snprintf(text, sizeof(text), "message over %zu bytes",
		    gw->conf.frame_max);
		gw_client_bad(qc->c, GS_PERR_TOOBIG, text);
		break;
	case GS_QUIC_RX_EMPTY:
		gw_client_bad(qc->c, GS_PERR_BADFRAME, "a stream message of "
		    "length 0");
		break;
	}
}

static int
gwq_recv_stream_data(ngtcp2_conn *conn, uint32_t flags, int64_t sid,
    uint64_t offset, const uint8_t *data, size_t len, void *arg,
    void *sarg)
{
	struct gwq_conn	*qc = arg;

	if (sid == qc->sid && len > 0 &&
	    gs_quic_rx_feed(&qc->rx, data, len, gwq_stream_msg, qc) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	/* Consumed: the client may send as much again. */
	ngtcp2_conn_extend_max_stream_offset(conn, sid, len);
	ngtcp2_conn_extend_max_offset(conn, len);
	return 0;
}

static int
gwq_acked_stream_data_offset(ngtcp2_conn *conn, int64_t sid,
    uint64_t offset, uint64_t len, void *arg, void *sarg)
{
	struct gwq_conn	*qc = arg;
	uint64_t	 end = offset + len;
	size_t		 n;

	if (sid != qc->sid || end <= qc->sbase)
		return 0;
	n = (size_t)(end - qc->sbase);
	if (n > qc->ssent)
		n = qc->ssent;
	memmove(qc->sbuf, qc->sbuf + n, qc->slen - n);
	qc->slen -= n;
	qc->ssent -= n;
	qc->sbase += n;
	if (qc->slen == 0 && qc->scap > GWQ_STREAM_HIGH) {
		free(qc->sbuf);
		qc->sbuf = NULL;
		qc->scap = 0;
	}
	if (qc->close_req || qc->want_cb)
		gwq_pend(qc);
	return 0;
}

static int
gwq_recv_datagram(ngtcp2_conn *conn, uint32_t flags, const uint8_t *data,
    size_t len, void *arg)
{
	struct gwq_conn	*qc = arg;
	struct gw	*gw = qc->q->gw;
	char		 text[GS_TEXT_MAX + 1];

	gs_counter_inc(qc->q->dgrams_in);
	if (qc->c == NULL || qc->c->state == GW_CLOSING)
		return 0;
	gs_counter_add(gw->m.bytes_in, len);
	if (len > gw->conf.frame_max) {
		(void)snprintf(text, sizeof(text), "message over %zu bytes",
		    gw->conf.frame_max);
		gw_client_bad(qc->c, GS_PERR_TOOBIG, text);
	} else if (len == 0)
		gw_client_bad(qc->c, GS_PERR_BADFRAME, "an empty datagram");
	else
		gw_client_recv(qc->c, data, len);
	return 0;
}

static int
gwq_get_new_connection_id(ngtcp2_conn *conn, ngtcp2_cid *cid,
    uint8_t *token, size_t cidlen, void *arg)
{
	struct gwq_conn	*qc = arg;

	gs_quic_random(cid->data, cidlen);
	cid->datalen = cidlen;
	if (ngtcp2_crypto_generate_stateless_reset_token(token, qc->q->secret,
	    sizeof(qc->q->secret), cid) != 0 || gwq_cid_add(qc, cid) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static int
gwq_remove_connection_id(ngtcp2_conn *conn, const ngtcp2_cid *cid,
    void *arg)
{
	gwq_cid_del(arg, cid);
	return 0;
}

/*
 * The client moved (RFC 9000 section 9: a NAT's new port, another
 * network) and answered our PATH_CHALLENGE on the new path, or did not.
 * ngtcp2 has already switched to the path and falls back to the old
 * one on failure; this only counts.  It validates a path a second time
 * when its first challenge could not be padded to 1200 bytes (the
 * anti-amplification limit): one move, one count.  A client's later
 * address is not its limit key: that stays the address of its
 * handshake (gw_client_new()), as does qc->peer in the logs.
 */
static int
gwq_path_validation(ngtcp2_conn *conn, uint32_t flags,
    const ngtcp2_path *path, ngtcp2_path_validation_result res, void *arg)
{
	struct gwq_conn	*qc = arg;

	qc->validating = false;
	switch (res) {
	case NGTCP2_PATH_VALIDATION_RESULT_SUCCESS:
		if (ngtcp2_path_eq(&qc->moved_to.path, path))
			break;
		ngtcp2_path_copy(&qc->moved_to.path, path);
		gs_counter_inc(qc->q->migrations);
		break;
	case NGTCP2_PATH_VALIDATION_RESULT_FAILURE:
		gs_counter_inc(qc->q->path_failures);
		break;
	default:	/* aborted: the client moved on before it answered */
		break;
	}
	return 0;
}

/* ------------------------------------------------------- the seam */

static bool
gwq_ready(void *conn)
{
	struct gwq_conn	*qc = conn;

	return !qc->dead && !qc->close_req && qc->dn == 0 &&
	    qc->slen - qc->ssent < GWQ_STREAM_HIGH;
}

static void
gwq_want_write(void *conn)
{
	struct gwq_conn	*qc = conn;

	qc->want_cb = true;
	gwq_pend(qc);
}

/* Append one framed message to the stream.  -1: out of memory. */
static int
gwq_stream_put(struct gwq_conn *qc, const uint8_t *msg, size_t len)
{
	size_t	 need = qc->slen + 8 + len, ncap;
	uint8_t	*nb;

	if (need > qc->scap) {
		ncap = qc->scap != 0 ? qc->scap : 1024;
		while (ncap < need)
			ncap *= 2;
		if ((nb = realloc(qc->sbuf, ncap)) == NULL)
			return -1;
		qc->sbuf = nb;
		qc->scap = ncap;
	}
	qc->slen += gs_quic_varint_put(qc->sbuf + qc->slen, len);
	memcpy(qc->sbuf + qc->slen, msg, len);
	qc->slen += len;
	return 0;
}

/* Queue a datagram (dn < GWQ_DGRAMS).  -1: out of memory. */
static int
gwq_dgram_put(struct gwq_conn *qc, const uint8_t *msg, size_t len)
{
	size_t	 ncap;
	uint8_t	*nb;

	if (qc->dq_end + len > qc->dq_cap && qc->dq_off > 0) {
		memmove(qc->dq, qc->dq + qc->dq_off, qc->dq_end - qc->dq_off);
		qc->dq_end -= qc->dq_off;
		qc->dq_off = 0;
	}
	if (qc->dq_end + len > qc->dq_cap) {
		ncap = qc->dq_cap != 0 ? qc->dq_cap : 512;
		while (ncap < qc->dq_end + len)
			ncap *= 2;
		if ((nb = realloc(qc->dq, ncap)) == NULL)
			return -1;
		qc->dq = nb;
		qc->dq_cap = ncap;
	}
	memcpy(qc->dq + qc->dq_end, msg, len);
	qc->dq_end += len;
	qc->dlen[(qc->d0 + qc->dn) % GWQ_DGRAMS] = len;
	qc->dn++;
	return 0;
}

/* Drop the oldest datagram; its bytes stay readable until the next
 * put. */
static void
gwq_dgram_pop(struct gwq_conn *qc)
{
	qc->dq_off += qc->dlen[qc->d0];
	qc->d0 = (qc->d0 + 1) % GWQ_DGRAMS;
	if (--qc->dn == 0)
		qc->dq_off = qc->dq_end = 0;
}

/* The oldest datagram goes on the stream instead (it no longer fits
 * one).  -1: out of memory. */
static int
gwq_dgram_to_stream(struct gwq_conn *qc)
{
	if (gwq_stream_put(qc, qc->dq + qc->dq_off, qc->dlen[qc->d0]) != 0)
		return -1;
	gwq_dgram_pop(qc);
	gs_counter_inc(qc->q->stream_fallback);
	return 0;
}

/* What fits one datagram to this client now; 0: none. */
static size_t
gwq_dgram_max(struct gwq_conn *qc)
{
	const ngtcp2_transport_params *rp;
	size_t	 path;
	uint64_t m;

	if (!qc->handshake ||
	    (rp = ngtcp2_conn_get_remote_transport_params(qc->conn)) == NULL ||
	    rp->max_datagram_frame_size == 0)
		return 0;
	path = ngtcp2_conn_get_path_max_tx_udp_payload_size(qc->conn);
	if (path <= GWQ_DGRAM_OVERHEAD)
		return 0;
	m = path - GWQ_DGRAM_OVERHEAD;
	/* The frame: type, length, payload. */
	if (rp->max_datagram_frame_size < m + 3)
		m = rp->max_datagram_frame_size > 3 ?
		    rp->max_datagram_frame_size - 3 : 0;
	return (size_t)m;
}

static int
gwq_send(void *conn, enum gw_lane lane, uint8_t *buf, size_t len)
{
	struct gwq_conn	*qc = conn;
	struct gwq	*q = qc->q;

	if (qc->dead || qc->sid < 0)
		goto fail;	/* no stream yet: nothing can be said */
	gs_counter_add(q->gw->m.bytes_out, len);
	if (lane == GW_LANE_STATE && len <= gwq_dgram_max(qc)) {
		if (qc->dn == GWQ_DGRAMS) {
			/* ready() said no; the oldest goes, as in the
			 * queue. */
			gwq_dgram_pop(qc);
			gs_counter_inc(q->drops[GWQ_D_STATE]);
		}
		if (gwq_dgram_put(qc, buf, len) != 0)
			goto fail;
	} else {
		if (lane == GW_LANE_STATE)
			gs_counter_inc(q->stream_fallback);
		if (gwq_stream_put(qc, buf, len) != 0)
			goto fail;
	}
	gwq_pend(qc);
	return 0;
fail:
	/* Unusable: gw_client_closed() follows, from the pending pass. */
	qc->abort_req = true;
	qc->close_why = GW_CLOSE_INTERNAL;
	gwq_pend(qc);
	return -1;
}

static void
gwq_close(void *conn, enum gw_close why)
{
	struct gwq_conn	*qc = conn;

	qc->close_req = true;
	qc->close_why = why;
	qc->fin = true;
	gwq_pend(qc);
}

static void
gwq_abort(void *conn)
{
	struct gwq_conn	*qc = conn;

	qc->abort_req = true;
	if (!qc->close_req)
		qc->close_why = GW_CLOSE_POLICY;
	gwq_pend(qc);
}

static const struct gw_transport gw_quic_transport = {
	.name = "quic",
	.one_stream = false,
	.headroom = 0,
	.ready = gwq_ready,
	.want_write = gwq_want_write,
	.send = gwq_send,
	.close = gwq_close,
	.abort = gwq_abort,
};

/* gs-protocol(7), QUIC: the WebSocket close code of the same close. */
static uint64_t
gwq_close_code(enum gw_close why)
{
	switch (why) {
	case GW_CLOSE_NORMAL:
		return GS_QUIC_CLOSE_NORMAL;
	case GW_CLOSE_AWAY:
		return GS_QUIC_CLOSE_AWAY;
	case GW_CLOSE_INTERNAL:
		return GS_QUIC_CLOSE_INTERNAL;
	case GW_CLOSE_POLICY:
	default:
		return GS_QUIC_CLOSE_POLICY;
	}
}

/* -------------------------------------------------- connection life */

static void
gwq_pend(struct gwq_conn *qc)
{
	if (qc->pending)
		return;
	qc->pending = true;
	qc->pnext = qc->q->pend;
	qc->q->pend = qc;
}

/* A playing client's acknowledgements wait for its snapshots. */
static bool
gwq_riding(const struct gwq_conn *qc)
{
	return qc->c != NULL && qc->c->state == GW_PLAYING && !qc->dead &&
	    !qc->close_req;
}

/* The timer, at ngtcp2's expiry or riding (above); wrote: just after
 * gwq_write(), not after a read. */
static void
gwq_timer_set(struct gwq_conn *qc, bool wrote)
{
	struct ev_loop	*loop = qc->q->gw->loop;
	uint64_t	 exp = ngtcp2_conn_get_expiry(qc->conn), now;
	double		 d;

	now = gs_quic_ts();
	if (exp == UINT64_MAX) {
		ev_timer_stop(loop, &qc->timer);
		return;
	}
	if (gwq_riding(qc) && exp < qc->last_tx + GWQ_ACK_RIDE &&
	    !(wrote && exp <= now))
		exp = qc->last_tx + GWQ_ACK_RIDE;
	d = exp > now ? (double)(exp - now) / NGTCP2_SECONDS : 0.;
	ev_timer_stop(loop, &qc->timer);
	ev_timer_set(&qc->timer, d, 0.);
	ev_timer_start(loop, &qc->timer);
}

/* Send CONNECTION_CLOSE with ccerr, once. */
static void
gwq_send_close(struct gwq_conn *qc, const ngtcp2_connection_close_error *e)
{
	struct gwq		*q = qc->q;
	ngtcp2_path_storage	 ps;
	ngtcp2_pkt_info		 pi;
	uint8_t			*p;
	ngtcp2_ssize		 n;

	if (ngtcp2_conn_is_in_closing_period(qc->conn) ||
	    ngtcp2_conn_is_in_draining_period(qc->conn))
		return;
	ngtcp2_path_storage_zero(&ps);
	p = gwq_tx_room(q);
	n = ngtcp2_conn_write_connection_close(qc->conn, &ps.path, &pi, p,
	    GWQ_PKT_MAX, e, gs_quic_ts());
	if (n > 0)
		gwq_tx_commit(q, &ps.path, NULL, 0, (size_t)n);
}

/* The connection is done: tell client.c, forget it at the end of this
 * pass (gwq_flush_cb frees the dead). */
static void
gwq_end(struct gwq_conn *qc)
{
	struct gw_client	*c = qc->c;

	if (qc->dead)
		return;
	qc->dead = true;
	qc->c = NULL;
	ev_timer_stop(qc->q->gw->loop, &qc->timer);
	qc->dnext = qc->q->dead;
	qc->q->dead = qc;
	if (c != NULL)
		gw_client_closed(c);
}

/* ngtcp2 said rv from a read or an expiry: close as it asks. */
static void
gwq_error(struct gwq_conn *qc, int rv)
{
	ngtcp2_connection_close_error	e;
	uint8_t				alert;

	switch (rv) {
	case NGTCP2_ERR_DRAINING:	/* the client closed */
	case NGTCP2_ERR_DROP_CONN:
	case NGTCP2_ERR_IDLE_CLOSE:
	case NGTCP2_ERR_HANDSHAKE_TIMEOUT:
		if (rv == NGTCP2_ERR_IDLE_CLOSE ||
		    rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT)
			gs_counter_inc(qc->q->idle);
		break;
	case NGTCP2_ERR_CRYPTO:
		/* A failed handshake: an ALPN other than ours (h3), a
		 * client that refused our certificate. */
		alert = ngtcp2_conn_get_tls_alert(qc->conn);
		ngtcp2_connection_close_error_set_transport_error_tls_alert(&e,
		    alert, NULL, 0);
		gwq_send_close(qc, &e);
		gs_counter_inc(qc->q->refused[GWQ_R_TLS]);
		if (gs_ratelimit_ok(&qc->q->gw->rl_peer, 10))
			gs_log_info("quic handshake failed peer=%s alert=%u "
			    "error=%s", qc->peer, alert, ngtcp2_strerror(rv));
		break;
	default:
		ngtcp2_connection_close_error_set_transport_error_liberr(&e, rv,
		    NULL, 0);
		gwq_send_close(qc, &e);
		if (gs_ratelimit_ok(&qc->q->gw->rl_peer, 10))
			gs_log_info("quic connection error peer=%s error=%s",
			    qc->peer, ngtcp2_strerror(rv));
		break;
	}
	gwq_end(qc);
}

/* After a read: the handshake just completed, or the client could not
 * be made. */
static void
gwq_after_read(struct gwq_conn *qc)
{
	struct gwq	*q = qc->q;

	if (qc->handshake && qc->counted_hs) {
		qc->counted_hs = false;
		q->nhandshakes--;
		qc->ku_at = gs_quic_ts() + (uint64_t)(q->conf.key_update *
		    NGTCP2_SECONDS);
	}
	if (qc->handshake && qc->c == NULL && !qc->dead) {
		/* Not made in gwq_handshake_completed(): draining, or out
		 * of memory. */
		ngtcp2_connection_close_error	e;
		bool				draining = !gw_accepting(q->gw);

		ngtcp2_connection_close_error_set_application_error(&e,
		    draining ? GS_QUIC_CLOSE_AWAY : GS_QUIC_CLOSE_INTERNAL,
		    NULL, 0);
		gwq_send_close(qc, &e);
		if (draining)
			gs_counter_inc(q->refused[GWQ_R_DRAINING]);
		gwq_end(qc);
		return;
	}
	if (gwq_riding(qc) && qc->dn == 0 && qc->ssent == qc->slen &&
	    !(qc->fin && !qc->fin_sent) && !qc->want_cb && !qc->pending) {
		/* Nothing of ours waits: what the read asks of ngtcp2 (an
		 * acknowledgement) goes with the next snapshot, or when
		 * the timer says. */
		gwq_timer_set(qc, false);
		return;
	}
	gwq_pend(qc);
}

static void
gwq_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gwq_conn	*qc = w->data;
	int		 rv;

	if ((rv = ngtcp2_conn_handle_expiry(qc->conn, gs_quic_ts())) != 0) {
		gwq_error(qc, rv);
		return;
	}
	gwq_pend(qc);
}

static void
gwq_conn_free(struct gwq_conn *qc)
{
	struct gwq	*q = qc->q;
	struct gwq_cid	*e, *nx;

	ev_timer_stop(q->gw->loop, &qc->timer);
	for (e = qc->cids; e != NULL; e = nx) {
		nx = e->cnext;
		gwq_cid_unlink(q, e);
		free(e);
	}
	if (qc->counted_hs)
		q->nhandshakes--;
	gs_http_addr_release(q->gw->http, qc->addr);
	q->nconns--;
	if (qc->prev != NULL)
		qc->prev->next = qc->next;
	else
		q->conns = qc->next;
	if (qc->next != NULL)
		qc->next->prev = qc->prev;
	free(qc->dq);
	free(qc->sbuf);
	gs_quic_rx_free(&qc->rx);
	ngtcp2_conn_del(qc->conn);
	gnutls_deinit(qc->tls);
	free(qc);
}

/* ------------------------------------------------------------ writing */

/*
 * Write what the connection has: datagrams, stream data, then what
 * ngtcp2 wants to send itself (acknowledgements, retransmissions), into
 * the batch.  -1 when the connection failed (ended here).
 */
static int
gwq_write(struct gwq_conn *qc)
{
	struct gwq		*q = qc->q;
	ngtcp2_path_storage	 ps;
	ngtcp2_pkt_info		 pi;
	ngtcp2_vec		 v;
	ngtcp2_ssize		 n, ndata;
	uint64_t		 ts = gs_quic_ts();
	uint32_t		 flags;
	uint8_t			*p;
	int			 accepted, rv, blocked = 0;
	int64_t			 sid;

	if (qc->handshake && q->conf.key_update > 0 && ts >= qc->ku_at &&
	    ngtcp2_conn_get_handshake_completed(qc->conn)) {
		if ((rv = ngtcp2_conn_initiate_key_update(qc->conn, ts)) == 0)
			gs_counter_inc(q->key_updates);
		/* Refused while the last update is not yet confirmed:
		 * try again a second later. */
		qc->ku_at = ts + (rv == 0 ? (uint64_t)(q->conf.key_update *
		    NGTCP2_SECONDS) : NGTCP2_SECONDS);
	}
	ngtcp2_path_storage_zero(&ps);
	for (;;) {
		p = gwq_tx_room(q);
		if (qc->dn > 0 && qc->handshake) {
			v.base = qc->dq + qc->dq_off;
			v.len = qc->dlen[qc->d0];
			accepted = 0;
			n = ngtcp2_conn_writev_datagram(qc->conn, &ps.path, &pi,
			    p, GWQ_PKT_MAX, &accepted,
			    NGTCP2_WRITE_DATAGRAM_FLAG_MORE, 0, &v, 1, ts);
			if (accepted) {
				gwq_dgram_pop(qc);
				gs_counter_inc(q->dgrams_out);
			}
			if (n == NGTCP2_ERR_WRITE_MORE)
				continue;
			/* Not for a datagram after all (refused, or the
			 * path shrank under it): the stream. */
			if (n == NGTCP2_ERR_INVALID_STATE ||
			    n == NGTCP2_ERR_INVALID_ARGUMENT ||
			    (n == 0 && !accepted && v.len > gwq_dgram_max(qc))) {
				if (gwq_dgram_to_stream(qc) != 0)
					goto fail;
				continue;
			}
			if (n < 0) {
				rv = (int)n;
				goto error;
			}
			if (n == 0)
				break;		/* congestion: later */
			gwq_tx_commit(q, &ps.path, NULL, 0, (size_t)n);
			qc->last_tx = ts;
			continue;
		}
		sid = -1;
		flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
		v.base = NULL;
		v.len = 0;
		if (qc->sid >= 0 && !blocked && (qc->ssent < qc->slen ||
		    (qc->fin && !qc->fin_sent))) {
			sid = qc->sid;
			v.base = qc->sbuf + qc->ssent;
			v.len = qc->slen - qc->ssent;
			if (qc->fin)
				flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
		}
		ndata = -1;
		n = ngtcp2_conn_writev_stream(qc->conn, &ps.path, &pi, p,
		    GWQ_PKT_MAX, &ndata, flags, sid, v.len > 0 ? &v : NULL,
		    v.len > 0 ? 1 : 0, ts);
		if (ndata >= 0) {
			qc->ssent += (size_t)ndata;
			if (qc->fin && qc->ssent == qc->slen &&
			    (flags & NGTCP2_WRITE_STREAM_FLAG_FIN))
				qc->fin_sent = true;
		}
		if (n == NGTCP2_ERR_WRITE_MORE)
			continue;
		if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED ||
		    n == NGTCP2_ERR_STREAM_SHUT_WR ||
		    n == NGTCP2_ERR_STREAM_NOT_FOUND) {
			blocked = 1;
			continue;
		}
		if (n < 0) {
			rv = (int)n;
			goto error;
		}
		if (n == 0)
			break;
		gwq_tx_commit(q, &ps.path, NULL, 0, (size_t)n);
		qc->last_tx = ts;
	}
	gwq_timer_set(qc, true);
	return 0;
error:
	gwq_error(qc, rv);
	return -1;
fail:
	gwq_error(qc, NGTCP2_ERR_NOMEM);
	return -1;
}

/* All of the stream, FIN included, is acknowledged. */
static bool
gwq_stream_done(const struct gwq_conn *qc)
{
	return qc->sid < 0 || (qc->fin_sent && qc->slen == 0);
}

/* One pending connection's turn. */
static void
gwq_run(struct gwq_conn *qc)
{
	ngtcp2_connection_close_error	e;

	if (qc->dead)
		return;
	if (qc->abort_req || (qc->close_req && gwq_stream_done(qc))) {
		ngtcp2_connection_close_error_set_application_error(&e,
		    gwq_close_code(qc->close_why), NULL, 0);
		gwq_send_close(qc, &e);
		gwq_end(qc);
		return;
	}
	if (gwq_write(qc) != 0)
		return;
	if (qc->want_cb && qc->c != NULL && gwq_ready(qc)) {
		qc->want_cb = false;
		if (gw_client_writable(qc->c) != 0) {
			gwq_abort(qc);
			return;
		}
		/* What it sent waits for the next round of this pass. */
	}
}

static void
gwq_flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct gwq	*q = w->data;
	struct gwq_conn	*qc, *list, *nx;
	unsigned	 rounds;

	/* A connection's turn may pend it again (a writable callback
	 * that queued, a close): a few rounds, then the next pass. */
	for (rounds = 0; q->pend != NULL && rounds < 4; rounds++) {
		list = q->pend;
		q->pend = NULL;
		for (qc = list; qc != NULL; qc = nx) {
			nx = qc->pnext;
			qc->pending = false;
			gwq_run(qc);
		}
	}
	gwq_tx_flush(q);
	/* The dead go now, unless still on the pending list (rounds ran
	 * out): nothing else points at them. */
	list = q->dead;
	q->dead = NULL;
	for (qc = list; qc != NULL; qc = nx) {
		nx = qc->dnext;
		if (qc->pending) {
			qc->dnext = q->dead;
			q->dead = qc;
		} else
			gwq_conn_free(qc);
	}
	q->g_conns = q->nconns;
	q->g_hs = q->nhandshakes;
}

/* ---------------------------------------------------------- receiving */

static void
gwq_stateless_reset(struct gwq *q, const uint8_t *dcid, size_t dcidlen,
    size_t pktlen, const struct sockaddr *from, socklen_t fromlen)
{
	ngtcp2_cid	 cid;
	uint8_t		 token[NGTCP2_STATELESS_RESET_TOKENLEN];
	uint8_t		 rnd[40], *p;
	size_t		 rlen;
	ngtcp2_ssize	 n;
	double		 now = ev_now(q->gw->loop);

	/* Smaller than what it answers, and at least 41 bytes (RFC 9000
	 * 10.3: 5 bytes of header and randomness, the 16-byte token, and
	 * so as not to be told apart from a short packet). */
	if (pktlen <= 41 || dcidlen == 0)
		return;
	if ((double)(long long)now != q->reset_sec) {
		q->reset_sec = (double)(long long)now;
		q->resets_in_sec = 0;
	}
	if (q->resets_in_sec >= GWQ_RESETS)
		return;
	q->resets_in_sec++;
	ngtcp2_cid_init(&cid, dcid, dcidlen);
	if (ngtcp2_crypto_generate_stateless_reset_token(token, q->secret,
	    sizeof(q->secret), &cid) != 0)
		return;
	rlen = pktlen - 1 - NGTCP2_STATELESS_RESET_TOKENLEN - 1;
	if (rlen > sizeof(rnd))
		rlen = sizeof(rnd);
	gs_quic_random(rnd, rlen);
	p = gwq_tx_room(q);
	n = ngtcp2_pkt_write_stateless_reset(p, GWQ_PKT_MAX, token, rnd, rlen);
	if (n > 0) {
		gwq_tx_commit(q, NULL, from, fromlen, (size_t)n);
		gs_counter_inc(q->resets);
	}
}

static void
gwq_refuse(struct gwq *q, const ngtcp2_pkt_hd *hd, uint64_t code,
    const struct sockaddr *from, socklen_t fromlen, int why)
{
	uint8_t		*p = gwq_tx_room(q);
	ngtcp2_ssize	 n;

	gs_counter_inc(q->refused[why]);
	n = ngtcp2_crypto_write_connection_close(p, GWQ_PKT_MAX, hd->version,
	    &hd->scid, &hd->dcid, code, NULL, 0);
	if (n > 0)
		gwq_tx_commit(q, NULL, from, fromlen, (size_t)n);
}

static void
gwq_retry(struct gwq *q, const ngtcp2_pkt_hd *hd, const struct sockaddr *from,
    socklen_t fromlen)
{
	uint8_t		 token[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN], *p;
	ngtcp2_cid	 scid;
	ngtcp2_ssize	 tlen, n;

	scid.datalen = GWQ_SCIDLEN;
	gs_quic_random(scid.data, scid.datalen);
	tlen = ngtcp2_crypto_generate_retry_token(token, q->secret,
	    sizeof(q->secret), hd->version, from, fromlen, &scid, &hd->dcid,
	    gs_quic_ts());
	if (tlen < 0)
		return;
	p = gwq_tx_room(q);
	n = ngtcp2_crypto_write_retry(p, GWQ_PKT_MAX, hd->version, &hd->scid,
	    &scid, &hd->dcid, token, (size_t)tlen);
	if (n > 0) {
		gwq_tx_commit(q, NULL, from, fromlen, (size_t)n);
		gs_counter_inc(q->retries);
	}
}

/* A first packet from a new client. */
static void
gwq_accept(struct gwq *q, const uint8_t *pkt, size_t len,
    const ngtcp2_path *path, const ngtcp2_pkt_info *pi)
{
	const struct sockaddr	*from = (const void *)path->remote.addr;
	socklen_t		 fromlen = (socklen_t)path->remote.addrlen;
	ngtcp2_pkt_hd		 hd;
	ngtcp2_cid		 odcid, scid;
	ngtcp2_settings		 s;
	ngtcp2_transport_params	 tp;
	struct gwq_conn		*qc;
	struct gs_http_addr	*addr;
	enum gs_http_refusal	 why;
	char			 err[256];
	int			 rv;

	if (ngtcp2_accept(&hd, pkt, len) != 0) {
		gs_counter_inc(q->drops[GWQ_D_UNKNOWN]);
		return;
	}
	if (hd.type != NGTCP2_PKT_INITIAL) {	/* 0-RTT: not offered */
		gs_counter_inc(q->drops[GWQ_D_UNKNOWN]);
		return;
	}
	if (!gw_accepting(q->gw)) {
		gwq_refuse(q, &hd, NGTCP2_CONNECTION_REFUSED, from, fromlen,
		    GWQ_R_DRAINING);
		return;
	}
	if (q->nconns >= q->conf.conns_max) {
		gwq_refuse(q, &hd, NGTCP2_CONNECTION_REFUSED, from, fromlen,
		    GWQ_R_CONNS);
		return;
	}
	/* Address validation: no state before the client has shown it
	 * receives at its address. */
	if (hd.token.len == 0 ||
	    hd.token.base[0] != NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY) {
		gwq_retry(q, &hd, from, fromlen);
		return;
	}
	if (ngtcp2_crypto_verify_retry_token(&odcid, hd.token.base,
	    hd.token.len, q->secret, sizeof(q->secret), hd.version, from,
	    fromlen, &hd.dcid, GWQ_RETRY_TTL, gs_quic_ts()) != 0) {
		gwq_refuse(q, &hd, NGTCP2_INVALID_TOKEN, from, fromlen,
		    GWQ_R_TOKEN);
		return;
	}
	if (q->nhandshakes >= q->conf.handshakes_max) {
		gwq_refuse(q, &hd, NGTCP2_CONNECTION_REFUSED, from, fromlen,
		    GWQ_R_HANDSHAKES);
		return;
	}
	/* The address is proven: its connections, TCP's and ours
	 * together, and its connect rate, as gs-gateway(8) -A, -a and -N
	 * say. */
	if ((addr = gs_http_addr_claim(q->gw->http, from, fromlen,
	    &why)) == NULL) {
		gwq_refuse(q, &hd, NGTCP2_CONNECTION_REFUSED, from, fromlen,
		    why == GS_HTTP_REFUSE_ADDR_CONNS ? GWQ_R_ADDR_CONNS :
		    why == GS_HTTP_REFUSE_ADDR_RATE ? GWQ_R_ADDR_RATE :
		    why == GS_HTTP_REFUSE_RATE ? GWQ_R_RATE : GWQ_R_CONNS);
		return;
	}

	if ((qc = calloc(1, sizeof(*qc))) == NULL) {
		gs_http_addr_release(q->gw->http, addr);
		return;
	}
	qc->q = q;
	qc->addr = addr;
	qc->sid = -1;
	qc->ref.get_conn = gwq_get_conn;
	qc->ref.user_data = qc;
	gs_quic_rx_init(&qc->rx, q->gw->conf.frame_max);
	gwq_addr_str(from, qc->peer, sizeof(qc->peer));
	ngtcp2_path_storage_init(&qc->moved_to, path->local.addr,
	    path->local.addrlen, path->remote.addr, path->remote.addrlen, NULL);
	ev_timer_init(&qc->timer, gwq_timer_cb, 1., 0.);
	qc->timer.data = qc;

	ngtcp2_settings_default(&s);
	s.initial_ts = gs_quic_ts();
	s.max_tx_udp_payload_size = GWQ_PKT_MAX;
	s.handshake_timeout = GWQ_HS_TIMEOUT;
	s.ack_thresh = GWQ_ACK_THRESH;
	ngtcp2_transport_params_default(&tp);
	tp.max_ack_delay = GWQ_ACK_DELAY;
	tp.initial_max_streams_bidi = 1;
	tp.initial_max_streams_uni = 0;
	tp.initial_max_stream_data_bidi_remote = GWQ_STREAM_WINDOW;
	tp.initial_max_data = GWQ_STREAM_WINDOW;
	tp.max_idle_timeout = (uint64_t)(q->conf.idle * NGTCP2_SECONDS);
	tp.max_udp_payload_size = GWQ_UDP_MAX;
	tp.active_connection_id_limit = GWQ_CIDS;
	tp.max_datagram_frame_size = 65535;
	tp.original_dcid = odcid;
	tp.retry_scid = hd.dcid;
	tp.retry_scid_present = 1;
	scid.datalen = GWQ_SCIDLEN;
	gs_quic_random(scid.data, scid.datalen);
	tp.stateless_reset_token_present = 1;
	if (ngtcp2_crypto_generate_stateless_reset_token(
	    tp.stateless_reset_token, q->secret, sizeof(q->secret), &scid) != 0)
		goto fail;
	if ((rv = ngtcp2_conn_server_new(&qc->conn, &hd.scid, &scid, path,
	    hd.version, &q->cb, &s, &tp, NULL, qc)) != 0) {
		gs_log_warnx("quic ngtcp2_conn_server_new: %s",
		    ngtcp2_strerror(rv));
		goto fail;
	}
	if (gs_quic_tls_new(&qc->tls, true, q->cred, NULL, &qc->ref, err,
	    sizeof(err)) != 0) {
		gs_log_warnx("quic tls: %s", err);
		ngtcp2_conn_del(qc->conn);
		goto fail;
	}
	ngtcp2_conn_set_tls_native_handle(qc->conn, qc->tls);
	qc->next = q->conns;
	if (q->conns != NULL)
		q->conns->prev = qc;
	q->conns = qc;
	q->nconns++;
	q->nhandshakes++;
	qc->counted_hs = true;
	/* Routed by our ID, and by the Retry's until the client takes
	 * ours. */
	if (gwq_cid_add(qc, &scid) != 0 || gwq_cid_add(qc, &hd.dcid) != 0) {
		gwq_end(qc);
		return;
	}
	if ((rv = ngtcp2_conn_read_pkt(qc->conn, path, pi, pkt, len,
	    gs_quic_ts())) != 0) {
		gwq_error(qc, rv);
		return;
	}
	gwq_after_read(qc);
	return;
fail:
	gs_http_addr_release(q->gw->http, qc->addr);
	gs_quic_rx_free(&qc->rx);
	free(qc);
}

/*
 * Whether a packet of qc's from `from` may be read.  One from another
 * address than the connection's is a move (RFC 9000 9: a NAT rebinding,
 * a phone changing networks), which ngtcp2 follows and validates.
 * libngtcp2 0.12.1 aborts the whole process ("ngtcp2_conn_track_
 * retired_dcid_seq: Unreachable") when moves come faster than its
 * validations end (a client moving every 20 ms did it in seconds), so
 * a move is taken only when the last one's validation has ended and
 * GWQ_MOVE_MIN_S has passed; until then such packets are dropped and
 * counted (reason "move"), as a network would lose them.
 */
static bool
gwq_move_ok(struct gwq_conn *qc, const struct sockaddr *from,
    socklen_t fromlen)
{
	const ngtcp2_path	*cur = ngtcp2_conn_get_path(qc->conn);
	double			 now = ev_now(qc->q->gw->loop);

	/* The current path, or the one it is moving to (ngtcp2 may keep
	 * the old one current until the new one is validated). */
	if (((socklen_t)cur->remote.addrlen == fromlen &&
	    memcmp(cur->remote.addr, from, fromlen) == 0) ||
	    (qc->move_len == fromlen &&
	    memcmp(&qc->move_addr, from, fromlen) == 0))
		return true;
	if (qc->validating && now - qc->moved_at < GWQ_MOVE_WAIT_S)
		return false;
	if (qc->moved_at != 0 && now - qc->moved_at < GWQ_MOVE_MIN_S)
		return false;
	qc->moved_at = now;
	qc->validating = true;
	if ((size_t)fromlen <= sizeof(qc->move_addr)) {
		memcpy(&qc->move_addr, from, fromlen);
		qc->move_len = fromlen;
	}
	return true;
}

static void
gwq_packet(struct gwq *q, uint8_t *pkt, size_t len, struct sockaddr *from,
    socklen_t fromlen, struct sockaddr *local, socklen_t locallen)
{
	ngtcp2_version_cid	 vc;
	ngtcp2_path		 path;
	ngtcp2_pkt_info		 pi;
	struct gwq_conn		*qc;
	uint32_t		 sv[1] = { NGTCP2_PROTO_VER_V1 };
	uint8_t			*p;
	ngtcp2_ssize		 n;
	int			 rv;

	gs_counter_inc(q->pkts_in);
	memset(&pi, 0, sizeof(pi));
	path.local.addr = local;
	path.local.addrlen = locallen;
	path.remote.addr = from;
	path.remote.addrlen = fromlen;
	path.user_data = NULL;
	rv = ngtcp2_pkt_decode_version_cid(&vc, pkt, len, GWQ_SCIDLEN);
	if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
		if (len < 1200)
			return;
		p = gwq_tx_room(q);
		n = ngtcp2_pkt_write_version_negotiation(p, GWQ_PKT_MAX,
		    (uint8_t)gs_random_u64(), vc.scid, vc.scidlen, vc.dcid,
		    vc.dcidlen, sv, 1);
		if (n > 0) {
			gwq_tx_commit(q, NULL, from, fromlen, (size_t)n);
			gs_counter_inc(q->vneg);
		}
		return;
	}
	if (rv != 0) {
		gs_counter_inc(q->drops[GWQ_D_GARBAGE]);
		return;
	}
	if ((qc = gwq_find(q, vc.dcid, vc.dcidlen)) != NULL) {
		if (qc->dead)
			return;
		if (qc->handshake && !gwq_move_ok(qc, from, fromlen)) {
			gs_counter_inc(q->drops[GWQ_D_MOVE]);
			return;
		}
		if ((rv = ngtcp2_conn_read_pkt(qc->conn, &path, &pi, pkt, len,
		    gs_quic_ts())) != 0) {
			gwq_error(qc, rv);
			return;
		}
		gwq_after_read(qc);
		return;
	}
	if (pkt[0] & 0x80)
		gwq_accept(q, pkt, len, &path, &pi);
	else {
		gs_counter_inc(q->drops[GWQ_D_UNKNOWN]);
		gwq_stateless_reset(q, vc.dcid, vc.dcidlen, len, from, fromlen);
	}
}

/* The address a packet was sent to (wildcard sockets: pktinfo). */
static socklen_t
gwq_local_of(struct gwq *q, struct msghdr *mh, struct sockaddr_storage *out)
{
	struct cmsghdr	*cm;

	if (!q->wildcard) {
		memcpy(out, &q->local, q->locallen);
		return q->locallen;
	}
	memcpy(out, &q->local, q->locallen);
	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			((struct sockaddr_in6 *)out)->sin6_addr = pi.ipi6_addr;
		} else if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			((struct sockaddr_in *)out)->sin_addr = pi.ipi_addr;
		}
	}
	return q->locallen;
}

static void
gwq_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct gwq		*q = w->data;
	struct sockaddr_storage	 local;
	socklen_t		 llen;
	unsigned		 round, i;
	int			 n;

	for (round = 0; round < GWQ_RX_ROUNDS; round++) {
		for (i = 0; i < GWQ_BATCH; i++) {
			q->riov[i].iov_base = q->rbuf + (size_t)i * GWQ_RX_SLOT;
			q->riov[i].iov_len = GWQ_RX_SLOT;
			memset(&q->rmsg[i].msg_hdr, 0, sizeof(struct msghdr));
			q->rmsg[i].msg_hdr.msg_name = &q->rfrom[i];
			q->rmsg[i].msg_hdr.msg_namelen = sizeof(q->rfrom[i]);
			q->rmsg[i].msg_hdr.msg_iov = &q->riov[i];
			q->rmsg[i].msg_hdr.msg_iovlen = 1;
			q->rmsg[i].msg_hdr.msg_control = q->rctl[i];
			q->rmsg[i].msg_hdr.msg_controllen = sizeof(q->rctl[i]);
		}
		n = recvmmsg(q->fd, q->rmsg, GWQ_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && gs_ratelimit_ok(&q->gw->rl_peer,
			    10))
				gs_log_warn("quic recvmmsg");
			break;
		}
		for (i = 0; i < (unsigned)n; i++) {
			struct msghdr *mh = &q->rmsg[i].msg_hdr;

			if (mh->msg_flags & MSG_TRUNC) {
				gs_counter_inc(q->drops[GWQ_D_TRUNC]);
				continue;
			}
			llen = gwq_local_of(q, mh, &local);
			gwq_packet(q, q->riov[i].iov_base, q->rmsg[i].msg_len,
			    (struct sockaddr *)&q->rfrom[i], mh->msg_namelen,
			    (struct sockaddr *)&local, llen);
		}
		if (n < GWQ_BATCH)
			break;
	}
}

/* -------------------------------------------------------- set-up */

static int
gwq_socket(struct gwq *q, const char *spec)
{
	struct addrinfo	 hints, *res = NULL;
	char		 host[128];
	const char	*port, *h = NULL;
	int		 fd, one = 1, zero = 0, v, rv;
	size_t		 n;

	/* "[addr:]port"; an IPv6 address in brackets. */
	if ((port = strrchr(spec, ':')) != NULL) {
		n = (size_t)(port - spec);
		if (n >= sizeof(host))
			return -1;
		memcpy(host, spec, n);
		host[n] = '\0';
		h = host;
		if (host[0] == '[' && n >= 2 && host[n - 1] == ']') {
			host[n - 1] = '\0';
			h = host + 1;
		}
		port++;
		if (*h == '\0' || strcmp(h, "*") == 0)
			h = NULL;
	} else
		port = spec;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	hints.ai_family = h == NULL ? AF_INET6 : AF_UNSPEC;
	if ((rv = getaddrinfo(h, port, &hints, &res)) != 0) {
		gs_log_warnx("quic address %s: %s", spec, gai_strerror(rv));
		return -1;
	}
	if ((fd = socket(res->ai_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		gs_log_warn("quic socket");
		freeaddrinfo(res);
		return -1;
	}
	q->family = res->ai_family;
	q->wildcard = h == NULL;
	if (res->ai_family == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
		    sizeof(zero));
		if (q->wildcard)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO,
			    &one, sizeof(one));
	} else if (q->wildcard)
		(void)setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	v = GWQ_SNDBUF;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	v = GWQ_RCVBUF;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1) {
		gs_log_warn("quic bind %s", spec);
		freeaddrinfo(res);
		(void)close(fd);
		return -1;
	}
	freeaddrinfo(res);
	q->locallen = sizeof(q->local);
	if (getsockname(fd, (struct sockaddr *)&q->local, &q->locallen) == -1) {
		gs_log_warn("quic getsockname");
		(void)close(fd);
		return -1;
	}
	/* GSO: the kernel has it when the option can be read. */
	{
		int		seg = 0;
		socklen_t	sl = sizeof(seg);

		q->gso = getsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, &sl) == 0;
	}
	q->fd = fd;
	return 0;
}

static void
gwq_metrics(struct gwq *q)
{
	struct gs_metrics	*m = q->gw->metrics;
	unsigned		 i;

	q->pkts_in = gs_metrics_counter(m, "gs_gateway_quic_packets_in_total",
	    "UDP datagrams received on the QUIC port");
	q->pkts_out = gs_metrics_counter(m,
	    "gs_gateway_quic_packets_out_total",
	    "QUIC packets sent (a GSO send counts each of its packets)");
	q->dgrams_in = gs_metrics_counter(m,
	    "gs_gateway_quic_datagrams_in_total",
	    "DATAGRAM frames received from clients");
	q->dgrams_out = gs_metrics_counter(m,
	    "gs_gateway_quic_datagrams_out_total",
	    "DATAGRAM frames sent to clients");
	q->retries = gs_metrics_counter(m, "gs_gateway_quic_retries_total",
	    "Retry packets sent (address validation of new clients)");
	q->resets = gs_metrics_counter(m, "gs_gateway_quic_resets_total",
	    "Stateless resets sent for packets of unknown connections");
	q->vneg = gs_metrics_counter(m,
	    "gs_gateway_quic_version_negotiations_total",
	    "Version Negotiation packets sent");
	q->key_updates = gs_metrics_counter(m,
	    "gs_gateway_quic_key_updates_total",
	    "Key updates the gateway started");
	q->idle = gs_metrics_counter(m, "gs_gateway_quic_idle_closes_total",
	    "Connections forgotten after the idle or handshake timeout");
	q->stream_fallback = gs_metrics_counter(m,
	    "gs_gateway_quic_stream_fallbacks_total",
	    "Unreliable messages sent on the stream: too big for a "
	    "datagram, or a client without datagrams");
	q->gso_sends = gs_metrics_counter(m, "gs_gateway_quic_gso_sends_total",
	    "sendmmsg entries carrying several packets (UDP_SEGMENT)");
	q->migrations = gs_metrics_counter(m,
	    "gs_gateway_quic_migrations_total",
	    "New paths of clients validated (a client moved to another "
	    "address or port)");
	q->path_failures = gs_metrics_counter(m,
	    "gs_gateway_quic_path_failures_total",
	    "Path validations failed (the client did not answer on the new "
	    "path)");
	for (i = 0; i < GWQ_ND; i++)
		q->drops[i] = gs_metrics_counter(m, gwq_drop_names[i],
		    "QUIC packets or datagrams dropped, by reason");
	for (i = 0; i < GWQ_NR; i++)
		q->refused[i] = gs_metrics_counter(m, gwq_refuse_names[i],
		    "QUIC connections refused or failed, by reason");
}

static double
gwq_conns_fn(void *arg)
{
	return ((struct gwq *)arg)->nconns;
}

static double
gwq_hs_fn(void *arg)
{
	return ((struct gwq *)arg)->nhandshakes;
}

struct gwq *
gw_quic_open(struct gw *gw, const struct gw_quic_conf *conf)
{
	struct gwq	*q;
	int		 rv;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->gw = gw;
	q->conf = *conf;
	q->fd = -1;
	if ((q->rbuf = malloc((size_t)GWQ_BATCH * GWQ_RX_SLOT)) == NULL ||
	    (q->tbuf = malloc(GWQ_TX_BYTES)) == NULL)
		goto fail;
	if ((rv = gnutls_certificate_allocate_credentials(&q->cred)) != 0) {
		gs_log_warnx("quic credentials: %s", gnutls_strerror(rv));
		goto fail;
	}
	if ((rv = gnutls_certificate_set_x509_key_file(q->cred, conf->cert,
	    conf->key, GNUTLS_X509_FMT_PEM)) < 0) {
		gs_log_warnx("quic certificate cert=%s key=%s: %s", conf->cert,
		    conf->key, gnutls_strerror(rv));
		goto fail;
	}
	gs_quic_random(q->secret, sizeof(q->secret));
	gs_quic_callbacks(&q->cb, true);
	q->cb.handshake_completed = gwq_handshake_completed;
	q->cb.stream_open = gwq_stream_open;
	q->cb.recv_stream_data = gwq_recv_stream_data;
	q->cb.acked_stream_data_offset = gwq_acked_stream_data_offset;
	q->cb.recv_datagram = gwq_recv_datagram;
	q->cb.get_new_connection_id = gwq_get_new_connection_id;
	q->cb.remove_connection_id = gwq_remove_connection_id;
	q->cb.path_validation = gwq_path_validation;
	if (gwq_socket(q, conf->addr) != 0)
		goto fail;
	gwq_metrics(q);
	gs_metrics_gauge_fn(gw->metrics, "gs_gateway_quic_connections",
	    "QUIC connections (handshakes included)", gwq_conns_fn, q);
	gs_metrics_gauge_fn(gw->metrics, "gs_gateway_quic_handshakes",
	    "QUIC handshakes in progress", gwq_hs_fn, q);
	ev_io_init(&q->rio, gwq_read_cb, q->fd, EV_READ);
	q->rio.data = q;
	ev_io_start(gw->loop, &q->rio);
	/* After client.c's flush, whose sends it writes out. */
	ev_prepare_init(&q->flush, gwq_flush_cb);
	ev_set_priority(&q->flush, EV_MINPRI);
	q->flush.data = q;
	ev_prepare_start(gw->loop, &q->flush);
	return q;
fail:
	if (q->cred != NULL)
		gnutls_certificate_free_credentials(q->cred);
	if (q->fd >= 0)
		(void)close(q->fd);
	free(q->rbuf);
	free(q->tbuf);
	free(q);
	return NULL;
}

int
gw_quic_port(const struct gwq *q)
{
	const struct sockaddr_storage *ss = &q->local;

	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* At exit: every connection left is closed (1001) and forgotten. */
void
gw_quic_close(struct gwq *q)
{
	ngtcp2_connection_close_error	 e;
	struct gwq_conn			*qc;

	if (q == NULL)
		return;
	ngtcp2_connection_close_error_set_application_error(&e,
	    GS_QUIC_CLOSE_AWAY, NULL, 0);
	for (qc = q->conns; qc != NULL; qc = qc->next)
		if (!qc->dead) {
			gwq_send_close(qc, &e);
			gwq_end(qc);
		}
	gwq_tx_flush(q);
	while (q->conns != NULL)
		gwq_conn_free(q->conns);
	ev_io_stop(q->gw->loop, &q->rio);
	ev_prepare_stop(q->gw->loop, &q->flush);
	(void)close(q->fd);
	free(q->ctab);
	gnutls_certificate_free_credentials(q->cred);
	free(q->rbuf);
	free(q->tbuf);
	free(q);
}
