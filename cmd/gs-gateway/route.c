/*
 * Sims and rooms: which sim serves a room, the outboxes to the sims,
 * and the inbox where sims send JOINED, REJECT, FRAME and CLOSE.
 *
 * Routing is a stable hash until gs-match places rooms: a room goes to
 * sims[FNV-1a-64(room name) mod nsims], sims numbered in the order of
 * the -s flags.  Every gateway given the same -s list routes a room to
 * the same sim; changing the list moves rooms.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "util.h"

static void	gw_room_release(struct gw *, struct gw_room *);
static void	gw_owner_drop(struct gw *, struct gw_owner *);

struct gw_sim *
gw_route(struct gw *gw, const char *room)
{
	return &gw->sims[gs_hash_fnv1a(room) % gw->nsims];
}

/* ------------------------------------------------------------ rooms */

static void
gw_rtab_grow(struct gw *gw)
{
	struct gw_room	**nt, *r, *nx;
	size_t		  nsz = gw->rtabsz * 2, i, j;

	if ((nt = calloc(nsz, sizeof(*nt))) == NULL)
		return;		/* keep the old table: slower, still right */
	for (i = 0; i < gw->rtabsz; i++) {
		for (r = gw->rtab[i]; r != NULL; r = nx) {
			nx = r->next;
			j = gs_hash_fnv1a(r->name) & (nsz - 1);
			r->next = nt[j];
			nt[j] = r;
		}
	}
	free(gw->rtab);
	gw->rtab = nt;
	gw->rtabsz = nsz;
}

struct gw_room *
gw_room_ref(struct gw *gw, const char *name)
{
	struct gw_room	*r;
	size_t		 i;

	i = gs_hash_fnv1a(name) & (gw->rtabsz - 1);
	for (r = gw->rtab[i]; r != NULL; r = r->next) {
		if (strcmp(r->name, name) == 0) {
			r->nclients++;
			return r;
		}
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		gs_log_warn("room: calloc");
		return NULL;
	}
	if (gs_strlcpy(r->name, name, sizeof(r->name)) != GS_OK) {
		free(r);
		return NULL;
	}
	r->sim = gw_route(gw, name);
	r->nclients = 1;
	r->next = gw->rtab[i];
	gw->rtab[i] = r;
	gw->nrooms++;
	r->sim->nrooms++;
	if (gw->nrooms > gw->rtabsz)
		gw_rtab_grow(gw);
	return r;
}

void
gw_room_unref(struct gw *gw, struct gw_room *rm)
{
	struct gw_room	**pp;

	if (--rm->nclients > 0)
		return;
	for (pp = &gw->rtab[gs_hash_fnv1a(rm->name) & (gw->rtabsz - 1)];
	    *pp != NULL; pp = &(*pp)->next) {
		if (*pp == rm) {
			*pp = rm->next;
			break;
		}
	}
	gw->nrooms--;
	rm->sim->nrooms--;
	gw_room_release(gw, rm);
	free(rm);
}

/*
 * Rooms per address (-g): the address of a room's first client holds
 * it until the room is gone, whoever else joins; one address may hold
 * conf.addr_rooms.  So one address cannot take every room a sim allows
 * (gs-sim -R) and keep them.
 */
static struct gw_owner **
gw_owner_slot(struct gw *gw, const char *addr)
{
	struct gw_owner	**pp;

	for (pp = &gw->otab[gs_hash_fnv1a(addr) % GW_OWNERS]; *pp != NULL;
	    pp = &(*pp)->next)
		if (strcmp((*pp)->addr, addr) == 0)
			break;
	return pp;
}

int
gw_room_claim(struct gw *gw, struct gw_room *rm, const char *addr)
{
	struct gw_owner	**pp, *o;

	if (gw->conf.addr_rooms == 0 || rm->owner != NULL)
		return 0;
	if (gw->otab == NULL &&
	    (gw->otab = calloc(GW_OWNERS, sizeof(*gw->otab))) == NULL)
		return -1;
	if ((o = *(pp = gw_owner_slot(gw, addr))) == NULL) {
		if ((o = calloc(1, sizeof(*o))) == NULL)
			return -1;
		(void)gs_strlcpy(o->addr, addr, sizeof(o->addr));
		*pp = o;
		gw->m.owners++;
	}
	if (o->rooms >= gw->conf.addr_rooms) {
		if (o->rooms == 0)
			gw_owner_drop(gw, o);
		return -1;
	}
	o->rooms++;
	rm->owner = o;
	return 0;
}

static void
gw_owner_drop(struct gw *gw, struct gw_owner *o)
{
	struct gw_owner	**pp = gw_owner_slot(gw, o->addr);

	*pp = o->next;
	gw->m.owners--;
	free(o);
}

static void
gw_room_release(struct gw *gw, struct gw_room *rm)
{
	if (rm->owner != NULL && --rm->owner->rooms == 0)
		gw_owner_drop(gw, rm->owner);
	rm->owner = NULL;
}

void
gw_owners_free(struct gw *gw)
{
	struct gw_owner	*o, *nx;
	size_t		 i;

	for (i = 0; gw->otab != NULL && i < GW_OWNERS; i++)
		for (o = gw->otab[i]; o != NULL; o = nx) {
			nx = o->next;
			free(o);
		}
	free(gw->otab);
	gw->otab = NULL;
}

/* ------------------------------------------------------------- sims */

/* Our batch header for sim s, into wr: addressed to the sim instance
 * last seen (0 before any), naming the url we dial it at. */
static int
gw_sim_header(struct gw *gw, struct gw_sim *s, struct gs_wr *wr)
{
	struct gs_relay_hdr	 hdr;

	memset(&hdr, 0, sizeof(hdr));
	(void)gs_strlcpy(hdr.role, "gw", sizeof(hdr.role));
	hdr.instance = gw->instance;
	if (gs_strlcpy(hdr.url, gw->conf.inbox_url, sizeof(hdr.url)) !=
	    GS_OK || gs_strlcpy(hdr.to_url, s->url, sizeof(hdr.to_url)) !=
	    GS_OK)
		return GS_ETOOBIG;
	hdr.to_instance = s->instance;
	gs_wr_reset(wr);
	gs_relay_hdr_put(wr, &hdr);
	return wr->err;
}

void
gw_sims_open(struct gw *gw, char **urls, unsigned n)
{
	struct gs_wr		 wr;
	unsigned		 i;
	int			 err;

	gw->rtabsz = 64;
	if ((gw->rtab = calloc(gw->rtabsz, sizeof(*gw->rtab))) == NULL)
		gs_fatal(GS_EXIT_SYSTEM, "calloc");
	if ((gw->sims = calloc(n, sizeof(*gw->sims))) == NULL)
		gs_fatal(GS_EXIT_SYSTEM, "calloc");
	gw->nsims = n;

	gs_wr_init(&wr, 512, 4096);
	for (i = 0; i < n; i++) {
		gw->sims[i].url = urls[i];
		gw->sims[i].index = i;
		gw->sims[i].last_rx_us = gs_now_us();
		if ((err = gw_sim_header(gw, &gw->sims[i], &wr)) != GS_OK)
			gs_fatalx(GS_EXIT_RUNTIME, "relay header: %s",
			    gs_err_name(err));
		if (gs_outbox_open(&gw->sims[i].ob, &gw->post, urls[i],
		    wr.buf, wr.len, GW_OUTBOX_MAX, GW_OUTBOX_SENDBUF) != GS_OK)
			gs_fatalx(GS_EXIT_SYSTEM, "cannot dial sim url=%s",
			    urls[i]);
		gs_log_info("sim index=%u url=%s", i, urls[i]);
	}
	gs_wr_free(&wr);
}

void
gw_sims_close(struct gw *gw)
{
	struct gw_room	*r, *nx;
	size_t		 i;

	for (i = 0; i < gw->nsims; i++)
		gs_outbox_close(&gw->sims[i].ob);
	free(gw->sims);
	gw->sims = NULL;
	gw->nsims = 0;
	for (i = 0; i < gw->rtabsz; i++)
		for (r = gw->rtab[i]; r != NULL; r = nx) {
			nx = r->next;
			free(r);
		}
	free(gw->rtab);
	gw->rtab = NULL;
}

/* A record that did not fit the sim's batch (NNG has not taken the
 * last ones): counted; a LEAVE is logged too, at a limited rate, since
 * only convergence repairs its loss. */
static int
gw_relay_full(struct gw *gw, struct gw_sim *s, enum gs_ob_class cls,
    const char *what)
{
	gs_counter_inc(gw->m.rl_full);
	if (cls == GS_OB_CONTROL) {
		gs_counter_inc(gw->m.rl_control_dropped);
		if (gs_ratelimit_ok(&gw->rl_sim, 10))
			gs_log_warnx("sim batch full url=%s dropped=%s",
			    s->url, what);
	}
	return GS_EAGAIN;
}

static struct gs_wr *
gw_relay_begin(struct gw *gw, struct gw_sim *s, enum gs_ob_class cls,
    const char *what)
{
	struct gs_wr	*wr;

	if ((wr = gs_outbox_begin(&s->ob)) == NULL)
		(void)gw_relay_full(gw, s, cls, what);
	return wr;
}

static int
gw_relay_commit(struct gw *gw, struct gw_sim *s, enum gs_ob_class cls,
    const char *what)
{
	if (gs_outbox_commit(&s->ob, cls) != GS_OK)
		return gw_relay_full(gw, s, cls, what);
	return GS_OK;
}

/* A JOIN is reliable, not control: a sim so far behind that its batch
 * is full takes no new players (the client hears so), and the room
 * kept past the cap stays for LEAVEs. */
int
gw_relay_join(struct gw *gw, struct gw_sim *s, uint64_t conn,
    const char *room, const char *name, bool watch, uint64_t account)
{
	struct gs_wr	*wr;

	if ((wr = gw_relay_begin(gw, s, GS_OB_RELIABLE, "join")) == NULL)
		return GS_EAGAIN;
	gs_relay_join_put(wr, conn, room, name, watch, account);
	return gw_relay_commit(gw, s, GS_OB_RELIABLE, "join");
}

int
gw_relay_input(struct gw *gw, struct gw_sim *s, uint64_t conn,
    const struct gs_input *in)
{
	struct gs_wr	*wr;

	if ((wr = gw_relay_begin(gw, s, GS_OB_STATE, "input")) == NULL)
		return GS_EAGAIN;
	gs_relay_input_put(wr, conn, in);
	return gw_relay_commit(gw, s, GS_OB_STATE, "input");
}

int
gw_relay_input_ack(struct gw *gw, struct gw_sim *s, uint64_t conn,
    const struct gs_input *in, uint64_t tick)
{
	struct gs_wr	*wr;

	if ((wr = gw_relay_begin(gw, s, GS_OB_STATE, "input")) == NULL)
		return GS_EAGAIN;
	gs_relay_input_ack_put(wr, conn, in, tick);
	return gw_relay_commit(gw, s, GS_OB_STATE, "input");
}

/* Acks and looks are state: a lost one is replaced by the next. */
int
gw_relay_ack(struct gw *gw, struct gw_sim *s, uint64_t conn, uint64_t tick)
{
	struct gs_wr	*wr;

	if ((wr = gw_relay_begin(gw, s, GS_OB_STATE, "ack")) == NULL)
		return GS_EAGAIN;
	gs_relay_ack_put(wr, conn, tick);
	return gw_relay_commit(gw, s, GS_OB_STATE, "ack");
}

int
gw_relay_look(struct gw *gw, struct gw_sim *s, uint64_t conn, double x,
    double y)
{
	struct gs_wr	*wr;

	if ((wr = gw_relay_begin(gw, s, GS_OB_STATE, "look")) == NULL)
		return GS_EAGAIN;
	gs_relay_look_put(wr, conn, x, y);
	return gw_relay_commit(gw, s, GS_OB_STATE, "look");
}

int
gw_relay_leave(struct gw *gw, struct gw_sim *s, uint64_t conn)
{
	struct gs_wr	*wr;

	if ((wr = gw_relay_begin(gw, s, GS_OB_CONTROL, "leave")) == NULL)
		return GS_EAGAIN;
	gs_relay_leave_put(wr, conn);
	return gw_relay_commit(gw, s, GS_OB_CONTROL, "leave");
}

/*
 * A header-only batch to every sim: "this gateway instance is alive".
 * An empty begin/commit is how nngev.h spells it: the commit marks the
 * outbox dirty, and the flush sends the header even with no records.
 * When a batch is pending anyway it carries the heartbeat.
 */
void
gw_heartbeat(struct gw *gw)
{
	unsigned	i;

	for (i = 0; i < gw->nsims; i++) {
		if (gs_outbox_begin(&gw->sims[i].ob) == NULL)
			continue;	/* a batch is waiting: it will do */
		(void)gs_outbox_commit(&gw->sims[i].ob, GS_OB_STATE);
	}
}

/* Outbox statistics are kept by nngev; mirror them into the metrics. */
void
gw_relay_sync_metrics(void *arg)
{
	struct gw	*gw = arg;
	uint64_t	msgs = 0, recs = 0, bytes = 0, drops = 0, retries = 0;
	unsigned	i;

	for (i = 0; i < gw->nsims; i++) {
		msgs += gw->sims[i].ob.sent_msgs;
		recs += gw->sims[i].ob.sent_recs;
		bytes += gw->sims[i].ob.sent_bytes;
		drops += gw->sims[i].ob.dropped_recs;
		retries += gw->sims[i].ob.retries;
	}
	gw->m.rl_batches->v = msgs;
	gw->m.rl_records->v = recs;
	gw->m.rl_bytes->v = bytes;
	gw->m.rl_drops->v = drops;
	gw->m.rl_retries->v = retries;
}

/* ------------------------------------------------------------ inbox */

/*
 * End the stay of the clients placed on sim s that have waited on it
 * since before `before` (gs_now_us; UINT64_MAX: all): error
 * UNAVAILABLE, which tells them to reconnect (gs-protocol(7)).  Their
 * LEAVE still goes out: a sim that is alive after all, or a new
 * instance that got their JOIN, must not keep players nobody plays.
 */
static unsigned
gw_sim_lost(struct gw *gw, struct gw_sim *s, const char *why,
    uint64_t before)
{
	struct gw_client	*c, *nx;
	char			 text[GS_TEXT_MAX + 1];
	unsigned		 n = 0;

	(void)snprintf(text, sizeof(text), "the room's server %s; "
	    "reconnect", why);
	for (c = gw->clients; c != NULL; c = nx) {
		nx = c->next;
		if (c->room != NULL && c->room->sim == s &&
		    (c->state == GW_JOINING || c->state == GW_PLAYING) &&
		    c->hello_us < before) {
			gw_client_close(c, GS_PERR_UNAVAILABLE, text);
			n++;
		}
	}
	return n;
}

/*
 * A sim sends every player and spectator a snapshot at its snapshot
 * rate, at least once a second.  A playing client that has had nothing
 * for conf.sim_timeout from a sim that is otherwise heard from is one
 * the sim has forgotten, and whose records it would answer with CLOSE
 * were there any (a client that sends nothing): end its stay.
 */
static unsigned
gw_forgotten(struct gw *gw, uint64_t now, uint64_t tmo)
{
	struct gw_client	*c, *nx;
	unsigned		 n = 0;

	for (c = gw->clients; c != NULL; c = nx) {
		nx = c->next;
		if (c->state != GW_PLAYING || c->room->sim->down ||
		    now - c->frame_us < tmo ||
		    now - c->room->sim->last_rx_us >= tmo)
			continue;
		gs_counter_inc(gw->m.forgotten);
		gw_client_unjoin(c);	/* the sim has no such player */
		gw_client_close(c, GS_PERR_UNAVAILABLE, "the room's server "
		    "sends nothing for this client; reconnect");
		n++;
	}
	return n;
}

/*
 * Every second, with the heartbeat.  A sim sends every gateway it
 * knows a batch at least once a second, so conf.sim_timeout without
 * one means it is dead or stopped: the clients that have waited on it
 * that long are closed.  Clients that joined since wait for their own
 * join timeout or the next check.  Then the clients a live sim has
 * forgotten (gw_forgotten).
 */
void
gw_sims_check(struct gw *gw)
{
	uint64_t	now = gs_now_us();
	uint64_t	tmo = (uint64_t)(gw->conf.sim_timeout * 1e6);
	uint64_t	last = gw->last_check_us;
	unsigned	i, n;

	gw->last_check_us = now;
	/* Called every second: a longer gap means this loop did not run
	 * (stopped, swapped out), and the sims' batches may be waiting
	 * unread in the inbox.  Judge at the next call, after them. */
	if (last != 0 && now - last > GW_STALL_US) {
		gs_log_info("sim check skipped, this loop stalled "
		    "stalled_s=%.1f", (double)(now - last) / 1e6);
		/* libev would fire the late repeating timer again at
		 * once: the next check comes a whole period later. */
		ev_timer_again(gw->loop, &gw->heartbeat);
		return;
	}
	for (i = 0; i < gw->nsims; i++) {
		struct gw_sim	*s = &gw->sims[i];

		if (now - s->last_rx_us < tmo)
			continue;
		if (!s->down) {
			s->down = true;
			gs_counter_inc(gw->m.sim_silent);
			gs_log_warnx("sim silent, taken for dead url=%s "
			    "silent_s=%.1f clients=%u", s->url,
			    (double)(now - s->last_rx_us) / 1e6, s->nclients);
		}
		if (s->nclients > 0 &&
		    (n = gw_sim_lost(gw, s, "stopped answering",
		    now - tmo)) > 0)
			gs_log_info("sim clients closed url=%s clients=%u", s->url, n);
	}
	/* Snapshots come at least once a second: two may go missing. */
	if ((n = gw_forgotten(gw, now, GS_MAX(tmo, GW_FORGOTTEN_US))) > 0)
		gs_log_info("clients closed, their sims send them nothing "
		    "clients=%u", n);
}

/* The sim a batch header comes from: by the url we dial it at, which
 * the sim echoes, else by its own inbox url (an older sim). */
static struct gw_sim *
gw_sim_match(struct gw *gw, const struct gs_relay_hdr *h)
{
	const char	*url = h->to_url[0] != '\0' ? h->to_url : h->url;
	unsigned	 i;

	for (i = 0; i < gw->nsims; i++)
		if (strcmp(gw->sims[i].url, url) == 0)
			return &gw->sims[i];
	return NULL;
}

/* A batch from sim s: it is alive; a new instance means a restart,
 * and the rooms it held are gone. */
static void
gw_sim_seen(struct gw *gw, struct gw_sim *s, const struct gs_relay_hdr *h)
{
	struct gs_wr	*wr = &gw->scratch;
	uint64_t	 old = s->instance;
	unsigned	 n;

	s->last_rx_us = gs_now_us();
	if (s->down) {
		s->down = false;
		gs_log_info("sim answering again url=%s instance=%016llx",
		    s->url, (unsigned long long)h->instance);
	}
	if (old == h->instance)
		return;
	s->instance = h->instance;
	if (old == 0) {
		/* First contact: address our batches to it from now on;
		 * what NNG holds (JOINs sent before) is for it too. */
		gs_log_info("sim first contact url=%s instance=%016llx", s->url,
		    (unsigned long long)h->instance);
		if (gw_sim_header(gw, s, wr) != GS_OK ||
		    gs_outbox_set_header(&s->ob, wr->buf, wr->len) != GS_OK)
			gs_log_warnx("sim cannot readdress batches url=%s",
			    s->url);
		return;
	}
	/* A restart: address our batches to the new instance, and drop
	 * what NNG still holds for the old one. */
	if (gw_sim_header(gw, s, wr) != GS_OK ||
	    gs_outbox_redial(&s->ob, wr->buf, wr->len) != GS_OK)
		gs_log_error("sim cannot redial, its rooms are "
		    "unavailable url=%s", s->url);
	memset(&s->left, 0, sizeof(s->left));
	s->restarts++;
	gs_counter_inc(gw->m.sim_restarts);
	n = gw_sim_lost(gw, s, "restarted", UINT64_MAX);
	gs_log_warnx("sim restarted url=%s old=%016llx new=%016llx "
	    "clients_closed=%u", s->url, (unsigned long long)old,
	    (unsigned long long)h->instance, n);
}

/*
 * A JOINED or FRAME for a connection that does not play on s (gone,
 * closing, never joined, or placed on another sim): the sim has a
 * player nobody plays, say because our LEAVE was lost or its JOINED
 * came after we gave up; tell it to drop the player.  Once a second
 * at most per connection while its frames keep coming (lib/relay.h,
 * Convergence).  A closing client's own LEAVE may follow: a LEAVE for
 * a player already gone is nothing to a sim.
 */
static void
gw_leave_orphan(struct gw *gw, struct gw_sim *s, uint64_t conn,
    uint64_t now)
{
	if (!gs_relay_answer_due(&s->left, conn, now))
		return;
	gs_counter_inc(gw->m.leaves_orphan);
	(void)gw_relay_leave(gw, s, conn);
}

/* A record of a batch from sim s, read at now (gs_now_us). */
static void
gw_record(struct gw *gw, struct gw_sim *s, const struct gs_relay_rec *r,
    uint64_t now)
{
	struct gw_client	*c;

	c = gw_client_find(gw, r->conn);
	if (c == NULL || c->state == GW_CLOSING || c->room == NULL ||
	    c->room->sim != s) {
		/* Normal right after a disconnect. */
		gs_counter_inc(gw->m.in_unknown_conn);
		if (r->kind == GS_REL_FRAME)
			gw_count_drop(gw, gw_msg_kind_of(r->msg, r->msglen),
			    GW_DROP_GONE);
		if (r->kind == GS_REL_JOINED || r->kind == GS_REL_FRAME)
			gw_leave_orphan(gw, s, r->conn, now);
		return;
	}
	switch (r->kind) {
	case GS_REL_JOINED:
		if (c->state != GW_JOINING) {
			gs_counter_inc(gw->m.in_stale);
			return;
		}
		c->frame_us = now;
		gw_client_welcome(c, r);
		break;
	case GS_REL_REJECT:
		gs_counter_inc(gw->m.rejects);
		gw_client_unjoin(c);
		gw_client_close(c, r->code != 0 ? r->code : GS_PERR_INTERNAL,
		    r->text);
		break;
	case GS_REL_CLOSE:
		gs_counter_inc(gw->m.sim_closes);
		gw_client_unjoin(c);
		gw_client_close(c, r->code, r->text);
		break;
	case GS_REL_FRAME:
		if (c->state != GW_PLAYING) {
			gs_counter_inc(gw->m.in_stale);
			gw_count_drop(gw, gw_msg_kind_of(r->msg, r->msglen),
			    GW_DROP_GONE);
			return;
		}
		c->frame_us = now;
		gw_client_send(c, r->msg, r->msglen, r->reliable ?
		    GW_LANE_RELIABLE : GW_LANE_STATE);
		break;
	default:	/* a gateway's kind, or one from a later version */
		gs_counter_inc(gw->m.in_bad);
		break;
	}
}

/* A batch from a sim.  proof goes unused: a gateway acts only for
 * the sims of its -s and dials nothing a batch names, so who may
 * reach its inbox is the listener's to limit (gs_link_listen). */
size_t
gw_inbox_cb(void *arg, const uint8_t *buf, size_t len, size_t from,
    enum gs_link_proof proof)
{
	struct gw		*gw = arg;
	struct gs_rd		 rd;
	struct gs_relay_hdr	 h;
	struct gs_relay_rec	 r;
	struct gw_sim		*s;
	unsigned		 n = 0;
	int			 err;

	gs_rd_init(&rd, buf, len);
	if (gs_relay_hdr_get(&rd, &h) != GS_OK ||
	    strcmp(h.role, "sim") != 0) {
		gs_counter_inc(gw->m.in_bad);
		if (gs_ratelimit_ok(&gw->rl_sim, 10))
			gs_log_warnx("inbox: bad batch header err=%s bytes=%zu",
			    rd.err != GS_OK ? gs_err_name(rd.err) : "role",
			    len);
		return len;
	}
	if ((s = gw_sim_match(gw, &h)) == NULL) {
		gs_counter_inc(gw->m.in_unknown_sim);
		if (gs_ratelimit_ok(&gw->rl_sim, 10))
			gs_log_warnx("inbox: batch from a sim not in -s "
			    "url=%s to_url=%s", h.url, h.to_url);
		return len;
	}
	if (from == 0) {
		gs_counter_inc(gw->m.in_batches);
		/* The header is news either way: the sim instance is
		 * alive. */
		gw_sim_seen(gw, s, &h);
		if (h.to_instance != 0 && h.to_instance != gw->instance) {
			/* Queued by the sim for an earlier run of this
			 * gateway on the same inbox: its connection ids
			 * name other clients. */
			gs_counter_inc(gw->m.in_misaddressed);
			return len;
		}
	} else
		rd.p = buf + from;	/* the records not yet relayed */
	while (gs_rd_more(&rd)) {
		if (n++ == GW_INBOX_CHUNK) {
			/* Let the loop serve the clients (a ping, an
			 * input) before the rest of a large batch. */
			gw_clients_flush(gw);
			return (size_t)(rd.p - buf);
		}
		memset(&r, 0, sizeof(r));
		if ((err = gs_relay_get(&rd, &r)) != GS_OK) {
			gs_counter_inc(gw->m.in_bad);
			if (gs_ratelimit_ok(&gw->rl_sim, 10))
				gs_log_warnx("inbox: bad record from=%s "
				    "err=%s", h.url, gs_err_name(err));
			if (rd.err != GS_OK)
				break;		/* the rest cannot be framed */
			continue;
		}
		gs_counter_inc(gw->m.in_records);
		gw_record(gw, s, &r, s->last_rx_us);
	}
	/* The batch leaves before the next is read: a client holds a
	 * queue buffer for one batch at most, so the buffers in use are
	 * one batch's clients, not every client when batches pile up
	 * (a slow loop iteration, a sim catching up). */
	gw_clients_flush(gw);
	return len;
}
