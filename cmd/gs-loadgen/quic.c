/*
 * gs-loadgen's QUIC client.  See lgquic.h.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lgquic.h"
#include "util.h"

#define QC_READ_MAX	65536		/* one UDP datagram in */
#define QC_READS	64		/* packets read per wake-up */
#define QC_PKT_MAX	NGTCP2_MAX_PMTUD_UDP_PAYLOAD_SIZE	/* one out */
#define QC_CIDLEN	16
#define QC_IOV		8		/* chunks per stream write */
#define QC_CHUNK	4096		/* smallest stream chunk */
/*
 * What a packet spends besides a datagram's payload: the short header
 * with the longest connection ID (1 + 20) and packet number (4), the
 * AEAD tag (16), the DATAGRAM frame's type and length (1 + 2).  With
 * room to spare: a payload over the rest goes on the stream, never
 * into a datagram that ngtcp2 could not place (it would wait for ever).
 */
#define QC_DGRAM_OVERHEAD 64

static uint8_t	qc_rbuf[QC_READ_MAX];	/* one loop, one read at a time */
static uint8_t	qc_wbuf[QC_PKT_MAX];

static void	qc_read_cb(struct ev_loop *, ev_io *, int);
static void	qc_expiry_cb(struct ev_loop *, ev_timer *, int);
static void	qc_grace_cb(struct ev_loop *, ev_timer *, int);
static void	qc_migrate_cb(struct ev_loop *, ev_timer *, int);
static int	qc_write(struct lg_quic *, char *, size_t);

/* RFC 9000 section 20.1, by code. */
static const char *const qc_transport_errors[] = {
	"NO_ERROR", "INTERNAL_ERROR", "CONNECTION_REFUSED",
	"FLOW_CONTROL_ERROR", "STREAM_LIMIT_ERROR", "STREAM_STATE_ERROR",
	"FINAL_SIZE_ERROR", "FRAME_ENCODING_ERROR",
	"TRANSPORT_PARAMETER_ERROR", "CONNECTION_ID_LIMIT_ERROR",
	"PROTOCOL_VIOLATION", "INVALID_TOKEN", "APPLICATION_ERROR",
	"CRYPTO_BUFFER_EXCEEDED", "KEY_UPDATE_ERROR", "AEAD_LIMIT_REACHED",
	"NO_VIABLE_PATH",
};

static ngtcp2_conn *
qc_get_conn(ngtcp2_crypto_conn_ref *ref)
{
	return ((struct lg_quic *)ref->user_data)->conn;
}

void
lg_quic_init(struct lg_quic *q, struct ev_loop *loop,
    const struct lg_quic_target *t, const struct lg_quic_cb *cb, void *arg)
{
	memset(q, 0, sizeof(*q));
	q->loop = loop;
	q->t = t;
	q->cb = cb;
	q->arg = arg;
	q->fd = -1;
	q->ofd = -1;
	q->sid = -1;
	q->ref.get_conn = qc_get_conn;
	q->ref.user_data = q;
	ev_init(&q->rd, qc_read_cb);
	q->rd.data = q;
	ev_init(&q->expiry, qc_expiry_cb);
	q->expiry.data = q;
	ev_init(&q->grace, qc_grace_cb);
	q->grace.data = q;
	ev_init(&q->ord, qc_read_cb);
	q->ord.data = q;
	ev_init(&q->migrate, qc_migrate_cb);
	q->migrate.data = q;
}

/* The socket of the path moved from, if still open, goes. */
static void
qc_old_close(struct lg_quic *q)
{
	if (q->ofd < 0)
		return;
	ev_io_stop(q->loop, &q->ord);
	(void)close(q->ofd);
	q->ofd = -1;
}

/* The connection is over: stop everything, keep nothing of it. */
static void
qc_end(struct lg_quic *q)
{
	struct lg_quic_chunk	*ch;

	if (q->state == LG_QUIC_IDLE)
		return;
	ev_io_stop(q->loop, &q->rd);
	ev_timer_stop(q->loop, &q->expiry);
	ev_timer_stop(q->loop, &q->grace);
	ev_timer_stop(q->loop, &q->migrate);
	if (q->fd >= 0)
		(void)close(q->fd);
	q->fd = -1;
	qc_old_close(q);
	/* The connection first: it may still hold the session. */
	if (q->conn != NULL)
		ngtcp2_conn_del(q->conn);
	q->conn = NULL;
	if (q->tls != NULL)
		gnutls_deinit(q->tls);
	q->tls = NULL;
	gs_quic_rx_free(&q->rx);
	while ((ch = q->tx) != NULL) {
		q->tx = ch->next;
		free(ch);
	}
	q->txlast = NULL;
	q->tx_acked = q->tx_sent = q->tx_end = 0;
	for (; q->dq_n > 0; q->dq_n--) {
		free(q->dq[q->dq_head].p);
		q->dq_head = (q->dq_head + 1) % LG_QUIC_DQ;
	}
	q->dq_head = 0;
	q->state = LG_QUIC_IDLE;
	q->gen++;
	q->sid = -1;
	q->armed = 0;
	q->paused = q->blocked = false;
	q->handshake_done = q->fin = q->reset = false;
	q->confirmed = q->moved = false;
	q->owed = 0;
	q->err[0] = '\0';
}

static void
qc_fail(struct lg_quic *q, enum lg_quic_end end, const char *why)
{
	bool	opened = q->state >= LG_QUIC_OPEN;

	qc_end(q);
	if (!opened)
		end = LG_QUIC_END_CONNECT;
	q->cb->closed(q->arg, end, why);
}

/* One packet out.  A full socket buffer loses it, as the network
 * might: QUIC recovers.  -1 with why on a socket error. */
static int
qc_send_pkt(struct lg_quic *q, const uint8_t *p, size_t len, char *why,
    size_t whylen)
{
	ssize_t	n;

	for (;;) {
		n = send(q->fd, p, len, MSG_DONTWAIT);
		if (n >= 0) {
			q->t->st->pkts_out++;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOBUFS) {
			q->t->st->send_drops++;
			return 0;
		}
		snprintf(why, whylen, "send: %s", strerror(errno));
		return -1;
	}
}

/* Send CONNECTION_CLOSE for ce, best effort: the connection ends
 * after it whatever happens. */
static void
qc_send_close(struct lg_quic *q, const ngtcp2_connection_close_error *ce)
{
	ngtcp2_path_storage	ps;
	ngtcp2_ssize		n;
	char			why[8];

	if (q->conn == NULL || q->fd < 0 ||
	    ngtcp2_conn_is_in_closing_period(q->conn) ||
	    ngtcp2_conn_is_in_draining_period(q->conn))
		return;
	ngtcp2_path_storage_zero(&ps);
	n = ngtcp2_conn_write_connection_close(q->conn, &ps.path, NULL,
	    qc_wbuf, sizeof(qc_wbuf), ce, gs_quic_ts());
	if (n > 0)
		(void)qc_send_pkt(q, qc_wbuf, (size_t)n, why, sizeof(why));
}

static void
qc_send_app_close(struct lg_quic *q, uint64_t code)
{
	ngtcp2_connection_close_error	ce;

	ngtcp2_connection_close_error_default(&ce);
	ngtcp2_connection_close_error_set_application_error(&ce, code, NULL,
	    0);
	qc_send_close(q, &ce);
}

/* End after a local error of ngtcp2's (liberr), telling the server. */
static void
qc_fail_liberr(struct lg_quic *q, int liberr, const char *what)
{
	ngtcp2_connection_close_error	ce;
	char				why[192];

	ngtcp2_connection_close_error_default(&ce);
	ngtcp2_connection_close_error_set_transport_error_liberr(&ce, liberr,
	    NULL, 0);
	qc_send_close(q, &ce);
	if (liberr == NGTCP2_ERR_CALLBACK_FAILURE && q->err[0] != '\0')
		snprintf(why, sizeof(why), "%s", q->err);
	else
		snprintf(why, sizeof(why), "%s: %s", what,
		    ngtcp2_strerror(liberr));
	qc_fail(q, LG_QUIC_END_PROTO, why);
}

void
lg_quic_close_text(const ngtcp2_connection_close_error *ce, char *buf,
    size_t len)
{
	const char	*name = NULL;
	int		 n;

	switch (ce->type) {
	case NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION:
		switch (ce->error_code) {
		case GS_QUIC_CLOSE_NORMAL:	name = "normal"; break;
		case GS_QUIC_CLOSE_AWAY:	name = "going away"; break;
		case GS_QUIC_CLOSE_POLICY:	name = "policy"; break;
		case GS_QUIC_CLOSE_INTERNAL:	name = "internal error"; break;
		}
		n = snprintf(buf, len, "closed by the server, code %llu%s%s%s",
		    (unsigned long long)ce->error_code, name ? " (" : "",
		    name ? name : "", name ? ")" : "");
		break;
	case NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT:
		if ((ce->error_code & ~0xffULL) == NGTCP2_CRYPTO_ERROR) {
			name = gnutls_alert_get_name(
			    (gnutls_alert_description_t)(ce->error_code & 0xff));
			n = snprintf(buf, len, "TLS alert from the server: %s "
			    "(CRYPTO_ERROR 0x%llx)", name ? name : "unknown",
			    (unsigned long long)ce->error_code);
			break;
		}
		if (ce->error_code < GS_NELEM(qc_transport_errors))
			name = qc_transport_errors[ce->error_code];
		n = snprintf(buf, len, "closed by the server: transport "
		    "error 0x%llx%s%s", (unsigned long long)ce->error_code,
		    name ? " " : "", name ? name : "");
		break;
	default:
		n = snprintf(buf, len, "closed by the server");
		break;
	}
	/* The reason phrase, if any, printable bytes only. */
	if (n > 0 && (size_t)n < len && ce->reasonlen > 0) {
		size_t	i, k = (size_t)n;

		k += (size_t)snprintf(buf + k, len - k, ": ");
		for (i = 0; i < ce->reasonlen && k + 1 < len; i++)
			buf[k++] = ce->reason[i] >= 0x20 && ce->reason[i] < 0x7f ?
			    (char)ce->reason[i] : '?';
		if (k < len)
			buf[k] = '\0';
	}
}

/* ---------------------------------------------------- ngtcp2 callbacks */

static int
qc_handshake_completed(ngtcp2_conn *conn, void *user)
{
	((struct lg_quic *)user)->handshake_done = true;
	return 0;
}

/* The server's HANDSHAKE_DONE: ngtcp2 lets a client move from here. */
static int
qc_handshake_confirmed(ngtcp2_conn *conn, void *user)
{
	((struct lg_quic *)user)->confirmed = true;
	return 0;
}

/* The server answered on the path we moved to, or did not in time, or
 * we moved again first (aborted).  Either way the old socket may go:
 * ngtcp2 does not fall back to a path it left at once. */
static int
qc_path_validation(ngtcp2_conn *conn, uint32_t flags,
    const ngtcp2_path *path, ngtcp2_path_validation_result res, void *user)
{
	struct lg_quic	*q = user;

	if (res == NGTCP2_PATH_VALIDATION_RESULT_SUCCESS) {
		q->t->st->migrations++;
		q->migrations++;
	} else
		q->t->st->migration_failures++;
	q->moved = true;
	return 0;
}

static void
qc_stream_msg(void *arg, enum gs_quic_rx_status st, const uint8_t *msg,
    size_t len)
{
	struct lg_quic	*q = arg;
	char		 why[96];

	switch (st) {
	case GS_QUIC_RX_OK:
		q->t->st->stream_in++;
		q->cb->message(q->arg, LG_LANE_RELIABLE, msg, len);
		break;
	case GS_QUIC_RX_TOOBIG:
		snprintf(why, sizeof(why), "stream message of %zu bytes over "
		    "the limit", len);
		q->cb->bad(q->arg, why);
		break;
	case GS_QUIC_RX_EMPTY:
		q->cb->bad(q->arg, "stream message of length 0");
		break;
	}
}

static int
qc_recv_stream_data(ngtcp2_conn *conn, uint32_t flags, int64_t sid,
    uint64_t off, const uint8_t *data, size_t len, void *user, void *sud)
{
	struct lg_quic	*q = user;

	if (sid != q->sid)	/* we allow the server no stream of its own */
		return 0;
	if (gs_quic_rx_feed(&q->rx, data, len, qc_stream_msg, q) != 0) {
		snprintf(q->err, sizeof(q->err), "out of memory reading the "
		    "stream");
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	if (flags & NGTCP2_STREAM_DATA_FLAG_FIN)
		q->fin = true;
	/* Credit what the application took; while paused, owe it. */
	if (q->paused)
		q->owed += len;
	else {
		(void)ngtcp2_conn_extend_max_stream_offset(conn, sid, len);
		ngtcp2_conn_extend_max_offset(conn, len);
	}
	return 0;
}

static int
qc_stream_reset(ngtcp2_conn *conn, int64_t sid, uint64_t final_size,
    uint64_t code, void *user, void *sud)
{
	struct lg_quic	*q = user;

	if (sid == q->sid)
		q->fin = true;		/* nothing more will come on it */
	return 0;
}

/* Acknowledged stream bytes: the chunks wholly before them go. */
static int
qc_acked(ngtcp2_conn *conn, int64_t sid, uint64_t off, uint64_t len,
    void *user, void *sud)
{
	struct lg_quic		*q = user;
	struct lg_quic_chunk	*ch;

	if (sid != q->sid)
		return 0;
	if (off + len > q->tx_acked)
		q->tx_acked = off + len;
	while ((ch = q->tx) != NULL && ch->off + ch->len <= q->tx_acked &&
	    ch->off + ch->len <= q->tx_sent) {
		q->tx = ch->next;
		if (q->txlast == ch)
			q->txlast = NULL;
		free(ch);
	}
	return 0;
}

static int
qc_recv_datagram(ngtcp2_conn *conn, uint32_t flags, const uint8_t *data,
    size_t len, void *user)
{
	struct lg_quic	*q = user;

	q->t->st->dgrams_in++;
	if (len == 0)
		q->cb->bad(q->arg, "empty datagram");
	else
		q->cb->message(q->arg, LG_LANE_UNRELIABLE, data, len);
	return 0;
}

static int
qc_stateless_reset(ngtcp2_conn *conn, const ngtcp2_pkt_stateless_reset *sr,
    void *user)
{
	((struct lg_quic *)user)->reset = true;
	return 0;
}

static int
qc_new_cid(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token,
    size_t cidlen, void *user)
{
	gs_quic_random(cid->data, cidlen);
	cid->datalen = cidlen;
	gs_quic_random(token, NGTCP2_STATELESS_RESET_TOKENLEN);
	return 0;
}

/* --------------------------------------------------------- connecting */

/* A UDP socket connected to the server, on a port of the kernel's
 * choice, and that port's address in local.  The socket, or -1 with
 * why[]. */
static int
qc_socket(const struct lg_quic_target *t, struct sockaddr_storage *local,
    socklen_t *locallen, char *why, size_t whylen)
{
	int	fd;

	fd = socket(t->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -1;
	}
	*locallen = sizeof(*local);
	if (connect(fd, (const struct sockaddr *)&t->addr, t->addrlen) != 0 ||
	    getsockname(fd, (struct sockaddr *)local, locallen) != 0) {
		snprintf(why, whylen, "connect: %s", strerror(errno));
		(void)close(fd);
		return -1;
	}
	return fd;
}

int
lg_quic_connect(struct lg_quic *q, char *why, size_t whylen)
{
	const struct lg_quic_target	*t = q->t;
	ngtcp2_callbacks		 cb;
	ngtcp2_settings			 s;
	ngtcp2_transport_params		 p;
	ngtcp2_cid			 dcid, scid;
	ngtcp2_path			 path;
	int				 fd, rv;

	qc_end(q);
	if ((fd = qc_socket(t, &q->local, &q->locallen, why, whylen)) < 0)
		return -1;
	q->fd = fd;
	q->state = LG_QUIC_HANDSHAKE;

	gs_quic_callbacks(&cb, false);
	cb.handshake_completed = qc_handshake_completed;
	cb.handshake_confirmed = qc_handshake_confirmed;
	cb.path_validation = qc_path_validation;
	cb.recv_stream_data = qc_recv_stream_data;
	cb.stream_reset = qc_stream_reset;
	cb.acked_stream_data_offset = qc_acked;
	cb.recv_datagram = qc_recv_datagram;
	cb.get_new_connection_id = qc_new_cid;
	cb.recv_stateless_reset = qc_stateless_reset;
	ngtcp2_settings_default(&s);
	s.initial_ts = gs_quic_ts();
	s.handshake_timeout = LG_QUIC_HANDSHAKE_S * NGTCP2_SECONDS;
	s.ack_thresh = LG_QUIC_ACK_THRESH;
	/* The server's lane is small on the stream (hello's answers,
	 * events) but a snapshot too big for a datagram comes there too:
	 * the TCP model's window, so that a reader that does not keep up
	 * stalls the gateway alike on both transports.  The server may
	 * open no stream. */
	ngtcp2_transport_params_default(&p);
	p.initial_max_stream_data_bidi_local = LG_QUIC_RWND;
	p.initial_max_data = LG_QUIC_RWND;
	p.max_idle_timeout = LG_QUIC_IDLE_S * NGTCP2_SECONDS;
	p.max_ack_delay = LG_QUIC_ACK_DELAY_MS * NGTCP2_MILLISECONDS;
	p.max_datagram_frame_size = q->t->dgram_max;
	dcid.datalen = scid.datalen = QC_CIDLEN;
	gs_quic_random(dcid.data, dcid.datalen);
	gs_quic_random(scid.data, scid.datalen);
	path.local.addr = (ngtcp2_sockaddr *)&q->local;
	path.local.addrlen = q->locallen;
	path.remote.addr = (ngtcp2_sockaddr *)(uintptr_t)&t->addr;
	path.remote.addrlen = t->addrlen;
	path.user_data = NULL;
	if ((rv = ngtcp2_conn_client_new(&q->conn, &dcid, &scid, &path,
	    NGTCP2_PROTO_VER_V1, &cb, &s, &p, NULL, q)) != 0) {
		q->conn = NULL;
		snprintf(why, whylen, "ngtcp2_conn_client_new: %s",
		    ngtcp2_strerror(rv));
		qc_end(q);
		return -1;
	}
	if (gs_quic_tls_new(&q->tls, false, t->cred, t->host, &q->ref, why,
	    whylen) != 0) {
		q->tls = NULL;
		qc_end(q);
		return -1;
	}
	ngtcp2_conn_set_tls_native_handle(q->conn, q->tls);
	gs_quic_rx_init(&q->rx, t->max_msg);
	ev_io_set(&q->rd, fd, EV_READ);
	ev_io_start(q->loop, &q->rd);
	/* The first flight: the client's Initial. */
	if (qc_write(q, why, whylen) != 0) {
		qc_end(q);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ writing */

/* The largest message a datagram takes now; 0 if none. */
static size_t
qc_dgram_max(struct lg_quic *q)
{
	const ngtcp2_transport_params	*rp;
	size_t				 pkt, frame;

	if ((rp = ngtcp2_conn_get_remote_transport_params(q->conn)) == NULL ||
	    rp->max_datagram_frame_size <= 1 + 8)
		return 0;
	/* The frame's limit counts its type and length. */
	frame = (size_t)GS_MIN(rp->max_datagram_frame_size, 65535) - 1 - 8;
	pkt = ngtcp2_conn_get_path_max_tx_udp_payload_size(q->conn);
	pkt = pkt > QC_DGRAM_OVERHEAD ? pkt - QC_DGRAM_OVERHEAD : 0;
	return GS_MIN(frame, pkt);
}

/* The unsent stream bytes as vectors over the chunks. */
static size_t
qc_iov(struct lg_quic *q, ngtcp2_vec *v, size_t max)
{
	struct lg_quic_chunk	*ch;
	size_t			 n = 0, skip;

	for (ch = q->tx; ch != NULL && n < max; ch = ch->next) {
		if (ch->off + ch->len <= q->tx_sent)
			continue;
		skip = q->tx_sent > ch->off ? (size_t)(q->tx_sent - ch->off) :
		    0;
		v[n].base = ch->data + skip;
		v[n].len = ch->len - skip;
		n++;
	}
	return n;
}

static void
qc_dq_pop(struct lg_quic *q)
{
	free(q->dq[q->dq_head].p);
	q->dq[q->dq_head].p = NULL;
	q->dq_head = (q->dq_head + 1) % LG_QUIC_DQ;
	q->dq_n--;
}

/*
 * Write packets until ngtcp2 has nothing more the congestion window
 * and pacing let go: queued datagrams first (they are the time-critical
 * lane), then unsent stream bytes, coalesced into as few packets as
 * they fit, then whatever ngtcp2 has of its own (ACKs, retransmissions,
 * flow control).  Then the expiry timer.  0, or -1 with why[] when the
 * connection cannot go on (the caller ends it).
 */
/*
 * The timer, at ngtcp2's expiry; while open, no sooner than
 * LG_QUIC_ACK_RIDE after the last packet sent.  ngtcp2 0.12
 * acknowledges within min(max_ack_delay, smoothed RTT / 8), so each of
 * the gateway's 30 snapshots a second drew a packet of its own; held
 * back, the acknowledgement rides on the next input instead (33 ms
 * apart), as the gateway's ride on its snapshots.  max_ack_delay
 * (LG_QUIC_ACK_DELAY_MS, announced) covers the wait.  A deadline still
 * due just after a write (wrote) is not an acknowledgement's, which the
 * write carried, but one of the timer's own (a path validation's end,
 * a retired connection ID): it fires at once, or it would wait for as
 * long as inputs flow.
 */
static void
qc_arm(struct lg_quic *q, bool wrote)
{
	ngtcp2_tstamp	exp = ngtcp2_conn_get_expiry(q->conn);
	ngtcp2_tstamp	now = gs_quic_ts();

	if (exp != UINT64_MAX && q->state == LG_QUIC_OPEN &&
	    exp < q->last_tx + LG_QUIC_ACK_RIDE_MS * NGTCP2_MILLISECONDS &&
	    !(wrote && exp <= now))
		exp = q->last_tx + LG_QUIC_ACK_RIDE_MS * NGTCP2_MILLISECONDS;
	if (exp == q->armed)
		return;
	ev_timer_stop(q->loop, &q->expiry);
	q->armed = exp;
	if (exp != UINT64_MAX) {
		ev_timer_set(&q->expiry, exp > now ?
		    (double)(exp - now) / NGTCP2_SECONDS : 0., 0.);
		ev_timer_start(q->loop, &q->expiry);
	}
}

static int
qc_write(struct lg_quic *q, char *why, size_t whylen)
{
	struct lg_quic_dgram	*d;
	ngtcp2_path_storage	 ps;
	ngtcp2_vec		 v[QC_IOV];
	ngtcp2_ssize		 n, ndata;
	ngtcp2_tstamp		 ts = gs_quic_ts();
	int64_t			 sid;
	size_t			 nv;
	int			 accepted;
	bool			 dgram, dblocked = false, sblocked = false;
	bool			 open = q->state == LG_QUIC_OPEN ||
				    q->state == LG_QUIC_CLOSING;

	ngtcp2_path_storage_zero(&ps);
	for (;;) {
		dgram = open && q->dq_n > 0 && !dblocked;
		ndata = -1;
		accepted = 0;
		if (dgram) {
			d = &q->dq[q->dq_head];
			v[0].base = d->p;
			v[0].len = d->len;
			n = ngtcp2_conn_writev_datagram(q->conn, &ps.path, NULL,
			    qc_wbuf, sizeof(qc_wbuf), &accepted,
			    NGTCP2_WRITE_DATAGRAM_FLAG_MORE, 0, v, 1, ts);
		} else {
			sid = -1;
			nv = 0;
			if (open && q->sid >= 0 && !sblocked &&
			    q->tx_sent < q->tx_end) {
				sid = q->sid;
				nv = qc_iov(q, v, QC_IOV);
			}
			n = ngtcp2_conn_writev_stream(q->conn, &ps.path, NULL,
			    qc_wbuf, sizeof(qc_wbuf), &ndata,
			    NGTCP2_WRITE_STREAM_FLAG_MORE, sid, v, nv, ts);
		}
		if (dgram && accepted) {
			q->t->st->dgrams_out++;
			qc_dq_pop(q);
		}
		if (!dgram && ndata > 0)
			q->tx_sent += (uint64_t)ndata;
		if (n < 0) {
			switch (n) {
			case NGTCP2_ERR_WRITE_MORE:
				continue;
			case NGTCP2_ERR_STREAM_DATA_BLOCKED:
			case NGTCP2_ERR_STREAM_SHUT_WR:
			case NGTCP2_ERR_STREAM_NOT_FOUND:
				sblocked = true;	/* flow control */
				continue;
			default:
				if (dgram && (n == NGTCP2_ERR_INVALID_ARGUMENT ||
				    n == NGTCP2_ERR_INVALID_STATE)) {
					/* Over the server's datagram limit,
					 * which lg_quic_send() checked. */
					q->t->st->dgrams_dropped++;
					qc_dq_pop(q);
					continue;
				}
				snprintf(why, whylen, "writing a packet: %s",
				    ngtcp2_strerror((int)n));
				return (int)n;
			}
		}
		if (n == 0) {
			/* Nothing more now: a datagram waits for the
			 * congestion window, the rest is done. */
			if (dgram && !accepted) {
				dblocked = true;
				continue;
			}
			break;
		}
		if (qc_send_pkt(q, qc_wbuf, (size_t)n, why, whylen) != 0)
			return -1;
		q->last_tx = ts;
	}
	ngtcp2_conn_update_pkt_tx_time(q->conn, ts);
	if (q->dq_n > 0)
		q->blocked = true;

	qc_arm(q, true);
	return 0;
}

/* qc_write from the loop; ends the connection on failure.  -1 then. */
static int
qc_flush(struct lg_quic *q)
{
	char	why[160];
	int	rv;

	if ((rv = qc_write(q, why, sizeof(why))) == 0)
		return 0;
	if (rv < 0 && rv != -1)
		qc_fail_liberr(q, rv, "writing a packet");
	else
		qc_fail(q, LG_QUIC_END_CLOSED, why);
	return -1;
}

/* After ngtcp2 has returned: what its callbacks noted.  -1 when the
 * connection ended (q may have a new one: touch nothing). */
static int
qc_after(struct lg_quic *q, unsigned gen)
{
	char	why[96];
	int	rv;

	if (q->handshake_done && q->state == LG_QUIC_HANDSHAKE) {
		q->state = LG_QUIC_OPEN;
		q->t->st->handshakes++;
		if (ngtcp2_conn_after_retry(q->conn))
			q->t->st->retries++;
		if ((rv = ngtcp2_conn_open_bidi_stream(q->conn, &q->sid,
		    NULL)) != 0) {
			snprintf(why, sizeof(why), "cannot open the stream: %s",
			    ngtcp2_strerror(rv));
			qc_send_app_close(q, GS_QUIC_CLOSE_NORMAL);
			qc_fail(q, LG_QUIC_END_PROTO, why);
			return -1;
		}
		q->cb->open(q->arg);
		if (q->gen != gen)
			return -1;
	}
	if (q->fin && q->state == LG_QUIC_OPEN && !ev_is_active(&q->grace)) {
		ev_timer_set(&q->grace, LG_QUIC_FIN_S, 0.);
		ev_timer_start(q->loop, &q->grace);
	}
	if (q->confirmed && q->t->migrate_ms > 0 && q->state == LG_QUIC_OPEN &&
	    !ev_is_active(&q->migrate)) {
		/* The first move at a random point of the first interval,
		 * then one every interval: the clients' moves spread. */
		ev_timer_set(&q->migrate, (double)(1 + gs_random_u64() %
		    (uint64_t)q->t->migrate_ms) / 1000.,
		    (double)q->t->migrate_ms / 1000.);
		ev_timer_start(q->loop, &q->migrate);
	}
	if (q->state == LG_QUIC_CLOSING && q->tx_acked >= q->tx_end) {
		qc_send_app_close(q, q->close_code);
		qc_fail(q, LG_QUIC_END_CLOSED, "closed after bye");
		return -1;
	}
	return 0;
}

/* The datagrams that waited have gone: the client may send again. */
static void
qc_writable(struct lg_quic *q)
{
	if (q->blocked && q->dq_n == 0 && q->state == LG_QUIC_OPEN) {
		q->blocked = false;
		q->cb->writable(q->arg);
	}
}

/* ------------------------------------------------------------ reading */

/* Why the handshake failed here: the alert we sent, and what GnuTLS
 * found wrong with the server's certificate. */
static void
qc_crypto_why(struct lg_quic *q, char *why, size_t whylen)
{
	gnutls_datum_t	 txt = { NULL, 0 };
	unsigned	 status;
	uint8_t		 alert = ngtcp2_conn_get_tls_alert(q->conn);
	const char	*name;
	size_t		 n;

	name = gnutls_alert_get_name((gnutls_alert_description_t)alert);
	status = gnutls_session_get_verify_cert_status(q->tls);
	if (status != 0 && gnutls_certificate_verification_status_print(
	    status, GNUTLS_CRT_X509, &txt, 0) == 0) {
		snprintf(why, whylen, "TLS handshake: certificate of %s "
		    "refused: %s", q->t->host, (const char *)txt.data);
		gnutls_free(txt.data);
		/* GnuTLS ends each sentence with a space. */
		for (n = strlen(why); n > 0 && why[n - 1] == ' '; n--)
			why[n - 1] = '\0';
		return;
	}
	snprintf(why, whylen, "TLS handshake failed: %s (alert %u)",
	    name != NULL ? name : "no alert", alert);
}

/* The target's port, for messages. */
static const char *
qc_port(const struct lg_quic_target *t)
{
	static char	buf[8];
	const struct sockaddr_in	*a4 = (const void *)&t->addr;
	const struct sockaddr_in6	*a6 = (const void *)&t->addr;

	snprintf(buf, sizeof(buf), "%u", (unsigned)ntohs(
	    t->addr.ss_family == AF_INET6 ? a6->sin6_port : a4->sin_port));
	return buf;
}

/* ngtcp2_conn_read_pkt failed with rv: end the connection. */
static void
qc_read_error(struct lg_quic *q, int rv)
{
	ngtcp2_connection_close_error	ce;
	char				why[256];

	switch (rv) {
	case NGTCP2_ERR_DRAINING:		/* the server closed */
		ngtcp2_conn_get_connection_close_error(q->conn, &ce);
		if (q->reset)
			snprintf(why, sizeof(why), "stateless reset: the server "
			    "no longer knows the connection");
		else
			lg_quic_close_text(&ce, why, sizeof(why));
		qc_fail(q, LG_QUIC_END_CLOSED, why);
		return;
	case NGTCP2_ERR_CRYPTO:
		qc_crypto_why(q, why, sizeof(why));
		ngtcp2_connection_close_error_default(&ce);
		ngtcp2_connection_close_error_set_transport_error_tls_alert(&ce,
		    ngtcp2_conn_get_tls_alert(q->conn), NULL, 0);
		qc_send_close(q, &ce);
		qc_fail(q, LG_QUIC_END_PROTO, why);
		return;
	case NGTCP2_ERR_RECV_VERSION_NEGOTIATION:
		qc_fail(q, LG_QUIC_END_CONNECT,
		    "the server does not speak QUIC version 1");
		return;
	default:
		qc_fail_liberr(q, rv, "reading a packet");
		return;
	}
}

/* After a move: once its validation has ended, the old socket goes. */
static void
qc_settle(struct lg_quic *q)
{
	if (q->moved) {
		q->moved = false;
		qc_old_close(q);
	}
}

/* Packets on the current socket (rd), or on the one moved from (ord)
 * that were on their way to it. */
static void
qc_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct lg_quic	*q = io->data;
	ngtcp2_path	 path;
	unsigned	 gen = q->gen;
	bool		 old = io == &q->ord;
	ssize_t		 n;
	char		 why[128];
	int		 i, rv;

	path.local.addr = (ngtcp2_sockaddr *)(old ? &q->olocal : &q->local);
	path.local.addrlen = old ? q->olocallen : q->locallen;
	path.remote.addr = (ngtcp2_sockaddr *)(uintptr_t)&q->t->addr;
	path.remote.addrlen = q->t->addrlen;
	path.user_data = NULL;
	for (i = 0; i < QC_READS; i++) {
		n = recv(io->fd, qc_rbuf, sizeof(qc_rbuf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && old) {
			/* The path we left said something (an ICMP error):
			 * no longer ours to mind. */
			q->moved = true;
			break;
		}
		if (n < 0) {
			if (errno == ECONNREFUSED)	/* ICMP unreachable */
				snprintf(why, sizeof(why), "connection refused: "
				    "nothing listens on UDP port %s",
				    qc_port(q->t));
			else
				snprintf(why, sizeof(why), "recv: %s",
				    strerror(errno));
			qc_fail(q, LG_QUIC_END_CLOSED, why);
			return;
		}
		q->t->st->pkts_in++;
		rv = ngtcp2_conn_read_pkt(q->conn, &path, NULL, qc_rbuf,
		    (size_t)n, gs_quic_ts());
		if (rv != 0) {
			qc_read_error(q, rv);
			return;
		}
		if (qc_after(q, gen) != 0)
			return;
	}
	qc_settle(q);
	/* Open with nothing of ours waiting: what the reads ask of
	 * ngtcp2 (acknowledgements) rides on the next input (qc_arm). */
	if (q->state == LG_QUIC_OPEN && q->dq_n == 0 &&
	    q->tx_sent == q->tx_end && !q->blocked) {
		qc_arm(q, false);
		return;
	}
	if (qc_flush(q) == 0)
		qc_writable(q);
}

static void
qc_expiry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct lg_quic	*q = t->data;
	char		 why[96];
	int		 rv;

	q->armed = 0;
	rv = ngtcp2_conn_handle_expiry(q->conn, gs_quic_ts());
	switch (rv) {
	case 0:
		break;
	case NGTCP2_ERR_IDLE_CLOSE:
		/* Silent, as RFC 9000 10.1 says. */
		snprintf(why, sizeof(why), "idle timeout: nothing from the "
		    "server for %d s", LG_QUIC_IDLE_S);
		qc_fail(q, LG_QUIC_END_CLOSED, why);
		return;
	case NGTCP2_ERR_HANDSHAKE_TIMEOUT:
		snprintf(why, sizeof(why), "QUIC handshake timed out after "
		    "%d s", LG_QUIC_HANDSHAKE_S);
		qc_fail(q, LG_QUIC_END_CONNECT, why);
		return;
	default:
		qc_fail_liberr(q, rv, "timer");
		return;
	}
	qc_settle(q);		/* a move's validation timed out */
	if (qc_flush(q) == 0)
		qc_writable(q);
}

/*
 * A move (lgquic.h): a new socket, and ngtcp2's immediate migration to
 * its path with the next spare connection ID, the current one retired.
 * From here ngtcp2 writes for the new path only (an immediate migration
 * keeps no path to fall back to), so every packet leaves by q->fd.  A
 * move that ngtcp2 refuses (no spare connection ID yet) or that the
 * system does (no descriptor) is counted and the connection stays
 * where it is, until the next interval.
 */
static void
qc_migrate_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct lg_quic		*q = t->data;
	struct sockaddr_storage	 local;
	socklen_t		 locallen;
	ngtcp2_path		 path;
	char			 why[128];
	int			 fd, rv;

	if (q->state != LG_QUIC_OPEN)
		return;
	if ((fd = qc_socket(q->t, &local, &locallen, why, sizeof(why))) < 0) {
		q->t->st->migration_failures++;
		return;
	}
	/* A previous move still being validated is given up (ngtcp2
	 * aborts its validation): its old socket goes now. */
	qc_old_close(q);
	path.local.addr = (ngtcp2_sockaddr *)&local;
	path.local.addrlen = locallen;
	path.remote.addr = (ngtcp2_sockaddr *)(uintptr_t)&q->t->addr;
	path.remote.addrlen = q->t->addrlen;
	path.user_data = NULL;
	rv = ngtcp2_conn_initiate_immediate_migration(q->conn, &path,
	    gs_quic_ts());
	/* Only an aborted validation can have ended in there: not this
	 * move's. */
	q->moved = false;
	if (rv != 0) {
		(void)close(fd);
		if (ngtcp2_err_is_fatal(rv)) {
			qc_fail_liberr(q, rv, "moving to a new socket");
			return;
		}
		q->t->st->migration_failures++;
		return;
	}
	ev_io_stop(q->loop, &q->rd);
	q->ofd = q->fd;
	q->olocal = q->local;
	q->olocallen = q->locallen;
	ev_io_set(&q->ord, q->ofd, EV_READ);
	ev_io_start(q->loop, &q->ord);
	q->fd = fd;
	q->local = local;
	q->locallen = locallen;
	ev_io_set(&q->rd, q->fd, EV_READ);
	ev_io_start(q->loop, &q->rd);
	/* The first packets on the new path (its PATH_CHALLENGE) now. */
	if (qc_flush(q) == 0)
		qc_writable(q);
}

/* Closing: bye acknowledged, or it took too long; or the server ended
 * the stream and did not close. */
static void
qc_grace_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct lg_quic	*q = t->data;

	if (q->state == LG_QUIC_CLOSING) {
		qc_send_app_close(q, q->close_code);
		qc_fail(q, LG_QUIC_END_CLOSED, q->tx_acked >= q->tx_end ?
		    "closed after bye" : "bye not acknowledged in time");
		return;
	}
	qc_send_app_close(q, GS_QUIC_CLOSE_NORMAL);
	qc_fail(q, LG_QUIC_END_CLOSED, "the server ended the stream but did "
	    "not close");
}

/* -------------------------------------------------------------- the API */

/* Append a framed message to the stream's unsent bytes. */
static int
qc_stream_put(struct lg_quic *q, const void *p, size_t len)
{
	struct lg_quic_chunk	*ch = q->txlast;
	uint8_t			 hdr[8];
	size_t			 hl = gs_quic_varint_put(hdr, len), need;

	need = hl + len;
	if (q->tx_end - q->tx_acked + need > LG_QUIC_TX_MAX)
		return -1;
	if (ch == NULL || ch->cap - ch->len < need) {
		if ((ch = malloc(sizeof(*ch) + GS_MAX(need, QC_CHUNK))) ==
		    NULL)
			return -1;
		ch->next = NULL;
		ch->off = q->tx_end;
		ch->len = 0;
		ch->cap = GS_MAX(need, QC_CHUNK);
		if (q->txlast != NULL)
			q->txlast->next = ch;
		else
			q->tx = ch;
		q->txlast = ch;
	}
	/* Bytes past ch->len are not yet given to ngtcp2: no pointer of
	 * its can see them change. */
	memcpy(ch->data + ch->len, hdr, hl);
	memcpy(ch->data + ch->len + hl, p, len);
	ch->len += need;
	q->tx_end += need;
	q->t->st->stream_out++;
	return 0;
}

int
lg_quic_send(struct lg_quic *q, enum lg_lane lane, const void *p,
    size_t len)
{
	struct lg_quic_dgram	*d;

	if (q->state != LG_QUIC_OPEN || len == 0)
		return -1;
	if (lane == LG_LANE_UNRELIABLE) {
		if (len <= qc_dgram_max(q)) {
			if (q->dq_n == LG_QUIC_DQ) {
				q->t->st->dgrams_dropped++;
				return 0;
			}
			d = &q->dq[(q->dq_head + q->dq_n) % LG_QUIC_DQ];
			if ((d->p = malloc(len)) == NULL)
				return -1;
			memcpy(d->p, p, len);
			d->len = len;
			q->dq_n++;
			return 0;
		}
		q->t->st->to_stream++;
	}
	return qc_stream_put(q, p, len);
}

int
lg_quic_flush(struct lg_quic *q)
{
	char	why[160];

	if (q->state != LG_QUIC_OPEN && q->state != LG_QUIC_CLOSING)
		return -1;
	return qc_write(q, why, sizeof(why)) == 0 ? 0 : -1;
}

bool
lg_quic_busy(const struct lg_quic *q)
{
	return q->state != LG_QUIC_OPEN || q->dq_n > 0;
}

int
lg_quic_close(struct lg_quic *q, uint64_t code)
{
	char	why[160];

	if (q->state == LG_QUIC_CLOSING)
		return 0;
	if (q->state != LG_QUIC_OPEN) {
		lg_quic_abort(q);
		return -1;
	}
	q->state = LG_QUIC_CLOSING;
	q->close_code = code;
	if (qc_write(q, why, sizeof(why)) != 0) {
		lg_quic_abort(q);
		return -1;
	}
	/* Nothing unacknowledged: close on the loop, not from here. */
	ev_timer_stop(q->loop, &q->grace);
	ev_timer_set(&q->grace, q->tx_acked >= q->tx_end ? 0. :
	    LG_QUIC_CLOSE_S, 0.);
	ev_timer_start(q->loop, &q->grace);
	return 0;
}

void
lg_quic_abort(struct lg_quic *q)
{
	if (q->state == LG_QUIC_IDLE)
		return;
	qc_send_app_close(q, GS_QUIC_CLOSE_AWAY);
	qc_end(q);
}

void
lg_quic_free(struct lg_quic *q)
{
	lg_quic_abort(q);
}

void
lg_quic_pause(struct lg_quic *q, bool paused)
{
	q->paused = paused;
	if (paused || q->owed == 0 || q->conn == NULL || q->sid < 0)
		return;
	(void)ngtcp2_conn_extend_max_stream_offset(q->conn, q->sid, q->owed);
	ngtcp2_conn_extend_max_offset(q->conn, q->owed);
	q->owed = 0;
	/* The new credit leaves with the next write: make it now, from
	 * the loop (this may run where ngtcp2 forbids writing). */
	ev_timer_stop(q->loop, &q->expiry);
	q->armed = 0;
	ev_timer_set(&q->expiry, 0., 0.);
	ev_timer_start(q->loop, &q->expiry);
}
