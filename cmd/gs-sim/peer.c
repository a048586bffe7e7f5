/*
 * Gateways as seen from a sim: the inbox callback that reads their
 * batches, one peer per gateway reply url with an outbox back to it,
 * and the records the sim sends.
 *
 * A peer is created by the first batch from a url and freed when its
 * gateway is silent for the gateway timeout (gateways heartbeat every
 * second) or at exit; its players go with it.  A batch carrying a new
 * instance for a known url means the gateway restarted: the old
 * instance's players are dropped and the outbox is reopened, so that
 * records queued for the old connections never reach the new process
 * (connection ids may repeat across a restart).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "util.h"

static void	peer_send_close(struct sim_peer *, uint64_t, uint32_t,
		    const char *);

static unsigned
conn_bucket(uint64_t conn)
{
	return (unsigned)((conn * 0x9e3779b97f4a7c15ULL) >> 32) %
	    SIM_CONN_BUCKETS;
}

void
sim_bad(struct sim *sim, const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;

	gs_counter_inc(sim->st.bad);
	if (!gs_ratelimit_ok(&sim->rl_bad, SIM_BAD_BURST))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	gs_log_warnx("bad record %s", buf);
}

static struct sim_player *
peer_find_player(struct sim_peer *peer, uint64_t conn)
{
	struct sim_player	*pl;

	for (pl = peer->conn[conn_bucket(conn)]; pl != NULL;
	    pl = pl->next_conn)
		if (pl->conn == conn)
			return pl;
	return NULL;
}

/* Link a new player (pl->peer and pl->conn set) into its peer. */
void
sim_peer_link_player(struct sim_peer *peer, struct sim_player *pl)
{
	struct sim_player	**head = &peer->conn[conn_bucket(pl->conn)];

	pl->next_conn = *head;
	*head = pl;
	peer->nplayers++;
}

void
sim_peer_unlink_player(struct sim_peer *peer, struct sim_player *pl)
{
	struct sim_player	**pp;

	for (pp = &peer->conn[conn_bucket(pl->conn)]; *pp != NULL;
	    pp = &(*pp)->next_conn) {
		if (*pp == pl) {
			*pp = pl->next_conn;
			pl->next_conn = NULL;
			peer->nplayers--;
			return;
		}
	}
}

/* Remove every player of the peer (their gateway is gone).  Nothing
 * is sent to the peer meanwhile: LEFT events for players who are
 * themselves being dropped would be wasted, n * n of them. */
static unsigned
peer_drop_players(struct sim_peer *peer)
{
	unsigned	i, n = 0;

	peer->gone = 1;
	for (i = 0; i < SIM_CONN_BUCKETS; i++) {
		while (peer->conn[i] != NULL) {
			sim_player_remove(peer->conn[i]);
			n++;
		}
	}
	peer->gone = 0;
	return n;
}

/* Our batch header for this peer, into sim->hdr: addressed to the
 * peer's instance and echoing the url it knows us by. */
static int
peer_header(struct sim_peer *peer)
{
	struct sim		*sim = peer->sim;
	struct gs_relay_hdr	 h;

	memset(&h, 0, sizeof(h));
	(void)gs_strlcpy(h.role, "sim", sizeof(h.role));
	h.instance = sim->instance;
	(void)gs_strlcpy(h.url, sim->conf.inbox_url, sizeof(h.url));
	h.to_instance = peer->instance;
	(void)gs_strlcpy(h.to_url, peer->via_url, sizeof(h.to_url));
	gs_wr_reset(&sim->hdr);
	gs_relay_hdr_put(&sim->hdr, &h);
	return sim->hdr.err;
}

/* Set the peer's instance and via_url from a header. */
static void
peer_set_hdr(struct sim_peer *peer, const struct gs_relay_hdr *hdr)
{
	peer->instance = hdr->instance;
	(void)gs_strlcpy(peer->via_url, hdr->to_url[0] != '\0' ?
	    hdr->to_url : peer->sim->conf.inbox_url, sizeof(peer->via_url));
}

static int
peer_open_outbox(struct sim_peer *peer)
{
	struct sim	*sim = peer->sim;
	int		 err;

	if ((err = peer_header(peer)) != GS_OK)
		return err;
	err = gs_outbox_open(&peer->ob, &sim->post, peer->url, sim->hdr.buf,
	    sim->hdr.len, SIM_BATCH_MAX, SIM_OUTBOX_SENDBUF);
	peer->ob_open = err == GS_OK;
	return err;
}

/* A header-only batch: "this sim instance is alive".  Not reliable:
 * NNG drops it when it cannot take it, and the next one follows. */
static void
peer_heartbeat(struct sim_peer *peer)
{
	if (!peer->ob_open || peer->gone ||
	    gs_outbox_begin(&peer->ob) == NULL)
		return;		/* a batch is waiting anyway: it will do */
	(void)gs_outbox_commit(&peer->ob, 0);
}

void
sim_heartbeat(struct sim *sim)
{
	struct sim_peer	*peer;

	for (peer = sim->peers; peer != NULL; peer = peer->next)
		peer_heartbeat(peer);
}

void
sim_sync_metrics(void *arg)
{
	struct sim	*sim = arg;
	struct sim_peer	*peer;
	uint64_t	 msgs = sim->gone_msgs, recs = sim->gone_recs;
	uint64_t	 unsent = sim->gone_unsent;

	for (peer = sim->peers; peer != NULL; peer = peer->next) {
		msgs += peer->ob.sent_msgs;
		recs += peer->ob.sent_recs;
		unsent += peer->ob.dropped_recs;
	}
	sim->st.batches_out->v = msgs;
	sim->st.records_sent->v = recs;
	sim->st.records_unsent->v = unsent;
}

/* Drops the peer's players (the room hears LEFT unless we are
 * stopping), closes its outbox and frees it. */
void
sim_peer_free(struct sim_peer *peer)
{
	struct sim	*sim = peer->sim;
	struct sim_peer	**pp;

	(void)peer_drop_players(peer);
	ev_timer_stop(sim->loop, &peer->idle);
	if (peer->ob_open)
		gs_outbox_close(&peer->ob);
	sim->gone_msgs += peer->ob.sent_msgs;
	sim->gone_recs += peer->ob.sent_recs;
	sim->gone_unsent += peer->ob.dropped_recs;
	for (pp = &sim->peers; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == peer) {
			*pp = peer->next;
			break;
		}
	}
	sim->npeers--;
	free(peer);
}

static void
peer_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sim_peer	*peer = w->data;
	struct sim	*sim = peer->sim;
	uint64_t	 silent_us = gs_now_us() - peer->last_us;
	uint64_t	 tmo_us = (uint64_t)sim->conf.gw_timeout_ms * 1000;

	/* Fired well after it was due: this loop did not run for a while
	 * (stopped, swapped out), and the gateway's batches may be
	 * waiting unread in the inbox.  Judge after they had a chance. */
	if (!peer->deferred && silent_us > tmo_us + SIM_STALL_US) {
		gs_log_info("gateway check deferred, this loop stalled "
		    "url=%s silent_ms=%llu", peer->url,
		    (unsigned long long)(silent_us / 1000));
		peer->deferred = 1;	/* a batch clears it */
		ev_timer_stop(loop, &peer->idle);
		ev_timer_set(&peer->idle, (double)SIM_STALL_US / 1e6,
		    (double)sim->conf.gw_timeout_ms / 1000);
		ev_timer_start(loop, &peer->idle);
		return;
	}
	gs_log_info("gateway lost url=%s instance=%016llx players=%u "
	    "silent_ms=%llu", peer->url, (unsigned long long)peer->instance,
	    peer->nplayers,
	    (unsigned long long)((gs_now_us() - peer->last_us) / 1000));
	gs_counter_inc(sim->st.gateways_lost);
	gs_counter_add(sim->st.players_lost, peer->nplayers);
	sim_peer_free(peer);
}

/*
 * Whether to believe a header's reply url, and so to take its records
 * and dial it: with -a, it must be one of them, however the batch
 * came; without, the batch must have come over a connection that
 * proved its sender (a private ipc socket, a verified certificate).
 * A refusal is counted and logged at a limited rate.
 */
static int
peer_allowed(struct sim *sim, const struct gs_relay_hdr *hdr,
    enum gs_link_proof proof)
{
	unsigned	i;

	if (sim->conf.ngateways == 0 && proof != GS_LINK_UNPROVED)
		return 1;
	for (i = 0; i < sim->conf.ngateways; i++)
		if (strcmp(sim->conf.gateways[i], hdr->url) == 0)
			return 1;
	gs_counter_inc(sim->st.refused);
	if (gs_ratelimit_ok(&sim->rl_bad, SIM_BAD_BURST))
		gs_log_warnx("gateway refused url=%s instance=%016llx "
		    "proof=%s why=%s", hdr->url,
		    (unsigned long long)hdr->instance,
		    gs_link_proof_name(proof), sim->conf.ngateways > 0 ?
		    "not_in_a" : "unproved");
	return 0;
}

/*
 * The peer for a batch header: found by url, or created.  Handles a
 * gateway restart and re-arms the timeout.  NULL: the batch is dropped
 * (counted and logged here).
 */
static struct sim_peer *
peer_get(struct sim *sim, const struct gs_relay_hdr *hdr,
    enum gs_link_proof proof)
{
	struct sim_peer	*peer;
	unsigned	 n;

	if (!peer_allowed(sim, hdr, proof))
		return NULL;
	for (peer = sim->peers; peer != NULL; peer = peer->next)
		if (strcmp(peer->url, hdr->url) == 0)
			break;
	if (peer != NULL && peer->instance != hdr->instance) {
		n = peer_drop_players(peer);
		gs_log_info("gateway restarted url=%s old=%016llx new=%016llx "
		    "players_dropped=%u", peer->url,
		    (unsigned long long)peer->instance,
		    (unsigned long long)hdr->instance, n);
		gs_counter_add(sim->st.players_lost, n);
		/* Records still queued, held for retry or buffered in NNG
		 * name the old process's connections, whose ids the new one
		 * reuses: drop them all with the old socket. */
		peer_set_hdr(peer, hdr);
		memset(&peer->closed, 0, sizeof(peer->closed));
		if (peer_header(peer) != GS_OK ||
		    gs_outbox_redial(&peer->ob, sim->hdr.buf, sim->hdr.len) !=
		    GS_OK) {
			gs_log_warnx("outbox redial failed url=%s", peer->url);
			peer->ob_open = 0;
			sim_peer_free(peer);
			return NULL;
		}
		peer_heartbeat(peer);	/* tell it our instance now */
	}
	if (peer == NULL) {
		if (hdr->url[0] == '\0') {
			sim_bad(sim, "what=header err=no_reply_url");
			return NULL;
		}
		if (sim->npeers >= SIM_PEERS_MAX) {
			sim_bad(sim, "what=header err=too_many_gateways "
			    "url=%s max=%d", hdr->url, SIM_PEERS_MAX);
			return NULL;
		}
		if ((peer = calloc(1, sizeof(*peer))) == NULL) {
			gs_log_warn("calloc peer");
			return NULL;
		}
		peer->sim = sim;
		peer_set_hdr(peer, hdr);
		(void)gs_strlcpy(peer->url, hdr->url, sizeof(peer->url));
		if (peer_open_outbox(peer) != GS_OK) {
			sim_bad(sim, "what=header err=outbox_open url=%s",
			    peer->url);
			free(peer);
			return NULL;
		}
		ev_init(&peer->idle, peer_idle_cb);
		peer->idle.data = peer;
		peer->idle.repeat = (double)sim->conf.gw_timeout_ms / 1000;
		peer->next = sim->peers;
		sim->peers = peer;
		sim->npeers++;
		gs_log_info("gateway new url=%s instance=%016llx via=%s",
		    peer->url, (unsigned long long)peer->instance,
		    peer->via_url);
		/* Answer at once: a gateway that knew an earlier instance
		 * of this sim learns of the restart now, not in a second. */
		peer_heartbeat(peer);
	}
	peer->batches++;
	peer->last_us = gs_now_us();
	peer->deferred = 0;
	ev_timer_again(sim->loop, &peer->idle);
	return peer;
}

/*
 * A record for a connection with no player here: the gateway thinks
 * its client plays on this sim, but the player is gone (a LEAVE we
 * never got was not the reason: the gateway sends nothing after one;
 * say its CLOSE was lost, or we dropped the gateway's players while it
 * was stopped past the gateway timeout).  End the client's stay rather
 * than leave it waiting for snapshots that never come; once a second
 * at most while its records keep coming (lib/relay.h, Convergence).
 */
static void
peer_unknown_conn(struct sim_peer *peer, uint64_t conn)
{
	gs_counter_inc(peer->sim->st.unknown_conn);
	if (gs_relay_answer_due(&peer->closed, conn, gs_now_us()))
		peer_send_close(peer, conn, GS_PERR_UNAVAILABLE,
		    "not in a room on this server; reconnect");
}

static void
peer_record(struct sim_peer *peer, const struct gs_relay_rec *rec)
{
	struct sim		*sim = peer->sim;
	struct sim_player	*pl;

	switch (rec->kind) {
	case GS_REL_JOIN:
		if (peer_find_player(peer, rec->conn) != NULL) {
			gs_counter_inc(sim->st.rejects);
			sim_send_reject(peer, rec->conn, GS_PERR_PROTOCOL,
			    "already in a room");
			break;
		}
		sim_join(peer, rec->conn, rec->account, rec->room, rec->name,
		    rec->watch);
		break;
	case GS_REL_ACK:
		if ((pl = peer_find_player(peer, rec->conn)) == NULL)
			peer_unknown_conn(peer, rec->conn);
		else
			sim_player_ack(pl, rec->tick);
		break;
	case GS_REL_LOOK:
		if ((pl = peer_find_player(peer, rec->conn)) == NULL)
			peer_unknown_conn(peer, rec->conn);
		else
			sim_player_look(pl, rec->x, rec->y);
		break;
	case GS_REL_INPUT:
	case GS_REL_INPUT_ACK:
		if ((pl = peer_find_player(peer, rec->conn)) == NULL) {
			gs_counter_inc(sim->st.inputs_in);
			gs_counter_inc(sim->st.inputs_unknown);
			peer_unknown_conn(peer, rec->conn);
			break;
		}
		sim_player_input(pl, &rec->input);
		if (rec->kind == GS_REL_INPUT_ACK)
			sim_player_ack(pl, rec->tick);
		break;
	case GS_REL_LEAVE:
		if ((pl = peer_find_player(peer, rec->conn)) == NULL)
			break;	/* never joined, or already gone */
		gs_counter_inc(sim->st.leaves);
		gs_log_debug("leave player=%llu room=%s conn=%llu",
		    (unsigned long long)pl->id, pl->room->name,
		    (unsigned long long)pl->conn);
		sim_player_remove(pl);
		break;
	default:
		sim_bad(sim, "what=kind kind=%s(%d) gateway=%s",
		    gs_relay_name(rec->kind), rec->kind, peer->url);
		break;
	}
}

/* One NNG message from a gateway: header, then records.  buf is
 * borrowed; the sim always takes a batch whole (from is 0).  A record
 * that does not decode ends the batch: the bytes after it cannot be
 * framed. */
size_t
sim_inbox_cb(void *arg, const uint8_t *buf, size_t len, size_t from,
    enum gs_link_proof proof)
{
	struct sim		*sim = arg;
	struct sim_peer		*peer;
	struct gs_relay_hdr	 hdr;
	struct gs_relay_rec	 rec;
	struct gs_rd		 rd;
	int			 err;

	gs_counter_inc(sim->st.batches_in);
	if (sim->stopping)
		return len;
	gs_rd_init(&rd, buf, len);
	if ((err = gs_relay_hdr_get(&rd, &hdr)) != GS_OK) {
		sim_bad(sim, "what=header err=%s len=%zu", gs_err_name(err),
		    len);
		return len;
	}
	if (strcmp(hdr.role, "gw") != 0) {
		sim_bad(sim, "what=header err=role role=%s url=%s", hdr.role,
		    hdr.url);
		return len;
	}
	if ((peer = peer_get(sim, &hdr, proof)) == NULL)
		return len;
	if (hdr.to_instance != 0 && hdr.to_instance != sim->instance) {
		/* Queued for an earlier run of this sim (NNG delivers what
		 * it held for it): its JOINs would make players nobody
		 * plays.  The gateway itself is alive, and learns our
		 * instance from our heartbeat. */
		gs_counter_inc(sim->st.stale);
		return len;
	}
	while (gs_rd_more(&rd)) {
		if ((err = gs_relay_get(&rd, &rec)) != GS_OK) {
			sim_bad(sim, "what=record err=%s gateway=%s "
			    "left=%zu", gs_err_name(err), peer->url,
			    gs_rd_left(&rd));
			if (rd.err != GS_OK)
				break;	/* the rest cannot be framed */
			continue;
		}
		gs_counter_inc(sim->st.records_in);
		peer_record(peer, &rec);	/* never frees peer */
	}
	return len;
}

/* ---------------------------------------------------------- sending */

/* Count a record that was not queued; a control record is logged too:
 * the gateway learns of it only through convergence. */
static void
peer_dropped(struct sim_peer *peer, enum gs_ob_class cls)
{
	struct sim	*sim = peer->sim;

	gs_counter_inc(sim->st.records_dropped);
	if (cls != GS_OB_CONTROL)
		return;
	gs_counter_inc(sim->st.control_dropped);
	if (gs_ratelimit_ok(&sim->rl_bad, SIM_BAD_BURST))
		gs_log_warnx("control record dropped, outbox full url=%s",
		    peer->url);
}

static struct gs_wr *
peer_begin(struct sim_peer *peer, enum gs_ob_class cls)
{
	struct gs_wr	*wr;

	if (peer->gone)
		return NULL;
	if ((wr = gs_outbox_begin(&peer->ob)) == NULL)
		peer_dropped(peer, cls);
	return wr;
}

static int
peer_commit(struct sim_peer *peer, struct gs_wr *wr, enum gs_ob_class cls)
{
	struct sim	*sim = peer->sim;

	if (wr->err != GS_OK) {
		gs_outbox_abort(&peer->ob);
		peer_dropped(peer, cls);
		return GS_ETOOBIG;
	}
	if (gs_outbox_commit(&peer->ob, cls) != GS_OK) {
		peer_dropped(peer, cls);
		return GS_EAGAIN;
	}
	gs_counter_inc(sim->st.records_out);
	return GS_OK;
}

static void
peer_send_close(struct sim_peer *peer, uint64_t conn, uint32_t code,
    const char *text)
{
	struct gs_wr	*wr;

	if ((wr = peer_begin(peer, GS_OB_CONTROL)) == NULL)
		return;
	gs_relay_close_put(wr, conn, code, text);
	(void)peer_commit(peer, wr, GS_OB_CONTROL);
}

void
sim_send_joined(struct sim_player *pl)
{
	struct sim	*sim = pl->peer->sim;
	struct gs_wr	*wr;

	if ((wr = peer_begin(pl->peer, GS_OB_CONTROL)) == NULL)
		return;
	gs_relay_joined_put(wr, pl->conn, pl->id, pl->room->name,
	    sim->conf.tick_rate, sim->conf.snapshot_rate, pl->room->tick);
	(void)peer_commit(pl->peer, wr, GS_OB_CONTROL);
}

void
sim_send_reject(struct sim_peer *peer, uint64_t conn, uint32_t code,
    const char *text)
{
	struct gs_wr	*wr;

	if ((wr = peer_begin(peer, GS_OB_CONTROL)) == NULL)
		return;
	gs_relay_reject_put(wr, conn, code, text);
	(void)peer_commit(peer, wr, GS_OB_CONTROL);
}

void
sim_send_close(struct sim_player *pl, uint32_t code, const char *text)
{
	peer_send_close(pl->peer, pl->conn, code, text);
}

int
sim_send_frame(struct sim_player *pl, bool reliable, const void *msg,
    size_t len)
{
	struct gs_wr	*wr;

	if ((wr = peer_begin(pl->peer, reliable ? GS_OB_RELIABLE :
	    GS_OB_STATE)) == NULL)
		return GS_EAGAIN;
	gs_relay_frame_put(wr, pl->conn, reliable, msg, len);
	return peer_commit(pl->peer, wr, reliable ? GS_OB_RELIABLE :
	    GS_OB_STATE);
}
