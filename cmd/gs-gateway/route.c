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

static uint64_t
gw_fnv1a(const char *s)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

struct gw_sim *
gw_route(struct gw *gw, const char *room)
{
	return &gw->sims[gw_fnv1a(room) % gw->nsims];
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
			j = gw_fnv1a(r->name) & (nsz - 1);
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

	i = gw_fnv1a(name) & (gw->rtabsz - 1);
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
	for (pp = &gw->rtab[gw_fnv1a(rm->name) & (gw->rtabsz - 1)];
	    *pp != NULL; pp = &(*pp)->next) {
		if (*pp == rm) {
			*pp = rm->next;
			break;
		}
	}
	gw->nrooms--;
	rm->sim->nrooms--;
	free(rm);
}

/* ------------------------------------------------------------- sims */

void
gw_sims_open(struct gw *gw, char **urls, unsigned n)
{
	struct gs_relay_hdr	 hdr;
	struct gs_wr		 wr;
	unsigned		 i;

	gw->rtabsz = 64;
	if ((gw->rtab = calloc(gw->rtabsz, sizeof(*gw->rtab))) == NULL)
		gs_fatal(GS_EXIT_SYSTEM, "calloc");
	if ((gw->sims = calloc(n, sizeof(*gw->sims))) == NULL)
		gs_fatal(GS_EXIT_SYSTEM, "calloc");
	gw->nsims = n;

	memset(&hdr, 0, sizeof(hdr));
	(void)gs_strlcpy(hdr.role, "gw", sizeof(hdr.role));
	hdr.instance = gw->instance;
	if (gs_strlcpy(hdr.url, gw->conf.inbox_url, sizeof(hdr.url)) !=
	    GS_OK)
		gs_fatalx(GS_EXIT_USAGE, "inbox url longer than %d bytes",
		    GS_URL_MAX - 1);
	gs_wr_init(&wr, 512, 4096);
	gs_relay_hdr_put(&wr, &hdr);
	if (wr.err != GS_OK)
		gs_fatalx(GS_EXIT_RUNTIME, "relay header: %s",
		    gs_err_name(wr.err));

	for (i = 0; i < n; i++) {
		gw->sims[i].url = urls[i];
		gw->sims[i].index = i;
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

/* Begin a record; NULL (counted, logged at a limited rate) when the
 * sim's batch is at its cap because NNG has not taken the last ones. */
static struct gs_wr *
gw_relay_begin(struct gw *gw, struct gw_sim *s, const char *what)
{
	struct gs_wr	*wr;

	if ((wr = gs_outbox_begin(&s->ob)) == NULL) {
		gs_counter_inc(gw->m.rl_full);
		if (gs_ratelimit_ok(&gw->rl_sim, 10))
			gs_log_warnx("sim url=%s: batch full, %s dropped",
			    s->url, what);
	}
	return wr;
}

static int
gw_relay_commit(struct gw *gw, struct gw_sim *s, int reliable)
{
	if (gs_outbox_commit(&s->ob, reliable) != GS_OK) {
		gs_counter_inc(gw->m.rl_full);
		return GS_EAGAIN;
	}
	return GS_OK;
}

int
gw_relay_join(struct gw *gw, struct gw_sim *s, uint64_t conn,
    const char *room, const char *name)
{
	struct gs_wr	*wr;

	if ((wr = gw_relay_begin(gw, s, "join")) == NULL)
		return GS_EAGAIN;
	gs_relay_join_put(wr, conn, room, name);
	return gw_relay_commit(gw, s, 1);
}

int
gw_relay_input(struct gw *gw, struct gw_sim *s, uint64_t conn,
    const struct gs_input *in)
{
	struct gs_wr	*wr;

	if ((wr = gw_relay_begin(gw, s, "input")) == NULL)
		return GS_EAGAIN;
	gs_relay_input_put(wr, conn, in);
	return gw_relay_commit(gw, s, 0);
}

int
gw_relay_leave(struct gw *gw, struct gw_sim *s, uint64_t conn)
{
	struct gs_wr	*wr;

	if ((wr = gw_relay_begin(gw, s, "leave")) == NULL)
		return GS_EAGAIN;
	gs_relay_leave_put(wr, conn);
	return gw_relay_commit(gw, s, 1);
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
		(void)gs_outbox_commit(&gw->sims[i].ob, 0);
	}
}

/* Outbox statistics are kept by nngev; mirror them into the metrics. */
void
gw_relay_sync_metrics(struct gw *gw)
{
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

/* A sim that restarted or went silent has lost its players: tell
 * them (no LEAVE: it would go nowhere useful). */
static void
gw_sim_lost(struct gw *gw, struct gw_sim *s, const char *why)
{
	struct gw_client	*c, *nx;
	char			 text[GS_TEXT_MAX + 1];

	gs_log_warnx("sim url=%s: %s, closing its clients=%u", s->url, why,
	    s->nclients);
	(void)snprintf(text, sizeof(text), "the room's server %s", why);
	for (c = gw->clients; c != NULL; c = nx) {
		nx = c->next;
		if (c->room != NULL && c->room->sim == s &&
		    (c->state == GW_JOINING || c->state == GW_PLAYING)) {
			gw_client_unjoin(c);
			gw_client_close(c, GS_PERR_UNAVAILABLE, text);
		}
	}
}

/*
 * Every second, with the heartbeat: a sim that has playing clients
 * sends them snapshots at least once a second, so GW_SIM_SILENT_US of
 * silence means it is gone.  Silence is judged by records for its
 * clients, not by the URL in batch headers, which may name the sim's
 * listening address (tcp://0.0.0.0:...) rather than the one dialed.
 */
void
gw_sims_check(struct gw *gw)
{
	uint64_t	now = gs_now_us();
	unsigned	i;

	for (i = 0; i < gw->nsims; i++) {
		struct gw_sim	*s = &gw->sims[i];

		if (s->nplaying == 0 || now - s->last_rx_us < GW_SIM_SILENT_US)
			continue;
		gs_counter_inc(gw->m.sim_silent);
		gw_sim_lost(gw, s, "stopped answering");
	}
}

static void
gw_sim_seen(struct gw *gw, const struct gs_relay_hdr *h)
{
	unsigned	i;

	for (i = 0; i < gw->nsims; i++) {
		struct gw_sim	*s = &gw->sims[i];

		if (strcmp(s->url, h->url) != 0)
			continue;
		if (s->instance != 0 && s->instance != h->instance) {
			gs_counter_inc(gw->m.sim_restarts);
			gw_sim_lost(gw, s, "restarted");
		}
		s->instance = h->instance;
		return;
	}
}

static void
gw_record(struct gw *gw, const struct gs_relay_rec *r)
{
	struct gw_client	*c;

	if ((c = gw_client_find(gw, r->conn)) == NULL ||
	    c->state == GW_CLOSING) {
		/* Normal right after a disconnect. */
		gs_counter_inc(gw->m.in_unknown_conn);
		return;
	}
	if (c->room != NULL)
		c->room->sim->last_rx_us = gs_now_us();
	switch (r->kind) {
	case GS_REL_JOINED:
		if (c->state != GW_JOINING) {
			gs_counter_inc(gw->m.in_stale);
			return;
		}
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
			return;
		}
		gw_client_send(c, r->msg, r->msglen, r->reliable);
		break;
	default:	/* a gateway's kind, or one from a later version */
		gs_counter_inc(gw->m.in_bad);
		break;
	}
}

void
gw_inbox_cb(void *arg, const uint8_t *buf, size_t len)
{
	struct gw		*gw = arg;
	struct gs_rd		 rd;
	struct gs_relay_hdr	 h;
	struct gs_relay_rec	 r;
	int			 err;

	gs_counter_inc(gw->m.in_batches);
	gs_rd_init(&rd, buf, len);
	if (gs_relay_hdr_get(&rd, &h) != GS_OK ||
	    strcmp(h.role, "sim") != 0) {
		gs_counter_inc(gw->m.in_bad);
		if (gs_ratelimit_ok(&gw->rl_sim, 10))
			gs_log_warnx("inbox: bad batch header err=%s bytes=%zu",
			    rd.err != GS_OK ? gs_err_name(rd.err) : "role",
			    len);
		return;
	}
	gw_sim_seen(gw, &h);
	while (gs_rd_more(&rd)) {
		memset(&r, 0, sizeof(r));
		if ((err = gs_relay_get(&rd, &r)) != GS_OK) {
			gs_counter_inc(gw->m.in_bad);
			if (gs_ratelimit_ok(&gw->rl_sim, 10))
				gs_log_warnx("inbox: bad record from=%s "
				    "err=%s", h.url, gs_err_name(err));
			if (rd.err != GS_OK)
				return;		/* the rest cannot be framed */
			continue;
		}
		gs_counter_inc(gw->m.in_records);
		gw_record(gw, &r);
	}
}
