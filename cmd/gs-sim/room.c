/*
 * Rooms and their players: joining and leaving, input queues, the
 * fixed-rate tick, snapshots and events.
 *
 * Time: one timer for all rooms (sched.h) wakes up at each slot of the
 * tick period that has rooms, and runs the rooms of the slots due; for
 * each, its tick clock (tickclock.h) says how many ticks are owed,
 * whether a snapshot follows, and how many ticks a stall dropped.  The
 * rooms of one slot run in one loop iteration, so their records leave
 * for each gateway as one batch, and the sim wakes up tick_rate *
 * SIM_SCHED_SLOTS times a second at most, not tick_rate times a room.
 * Each player's inputs wait in its input queue (inputq.h) and are
 * applied one per tick.
 *
 * A room exists from the first JOIN naming it until it has been empty
 * for the grace period.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "util.h"

static void	sim_tick_cb(struct ev_loop *, ev_timer *, int);
static void	room_grace_cb(struct ev_loop *, ev_timer *, int);

struct sim_room *
sim_room_find(struct sim *sim, const char *name)
{
	struct sim_room	*room;

	/* Linear: a JOIN or a control command looks a room up, never a
	 * per-tick path, and rooms are capped by -R. */
	for (room = sim->rooms; room != NULL; room = room->next)
		if (strcmp(room->name, name) == 0)
			return room;
	return NULL;
}

size_t
sim_room_entities(struct sim_room *room)
{
	struct sim	*sim = room->sim;

	room->nent = (unsigned)sim->game->entities(room->world, sim->entbuf,
	    GS_ENTITIES_MAX);
	return room->nent;
}

/* Send one event to one player (only != NULL) or the whole room. */
static void
room_event(struct sim_room *room, struct sim_player *only, uint32_t code,
    uint64_t player, int64_t value, const char *name)
{
	struct sim		*sim = room->sim;
	struct sim_player	*pl;
	struct gs_event		 ev;
	unsigned		 i;

	memset(&ev, 0, sizeof(ev));
	ev.tick = room->tick;
	ev.code = code;
	ev.player = player;
	ev.value = value;
	if (name != NULL)
		(void)gs_strlcpy(ev.name, name, sizeof(ev.name));
	gs_wr_reset(&sim->msg);
	gs_event_put(&sim->msg, &ev);
	if (sim->msg.err != GS_OK) {
		gs_log_warnx("event encode err=%s", gs_err_name(sim->msg.err));
		return;
	}
	for (i = 0; i < sim->conf.room_players; i++) {
		pl = room->slot[i];
		if (pl == NULL || (only != NULL && pl != only))
			continue;
		if (sim_send_frame(pl, true, sim->msg.buf, sim->msg.len) ==
		    GS_OK)
			gs_counter_inc(sim->st.events);
	}
}

/* The game's host callback: events raised during a tick. */
static void
room_game_event(void *arg, uint32_t code, uint64_t player, int64_t value)
{
	room_event(arg, NULL, code, player, value, NULL);
}

static void
room_grace_start(struct sim_room *room)
{
	struct sim	*sim = room->sim;

	ev_timer_stop(sim->loop, &room->grace_w);
	ev_timer_set(&room->grace_w, (double)sim->conf.grace_ms / 1000, 0);
	ev_timer_start(sim->loop, &room->grace_w);
}

static struct sim_room *
room_create(struct sim *sim, const char *name)
{
	struct sim_room		*room;
	struct sim_game_conf	 gc;
	struct sim_game_host	 host;
	uint64_t		 start;

	room = calloc(1, sizeof(*room) +
	    sim->conf.room_players * sizeof(room->slot[0]));
	if (room == NULL) {
		gs_log_warn("calloc room");
		return NULL;
	}
	room->sim = sim;
	(void)gs_strlcpy(room->name, name, sizeof(room->name));
	gc.room = name;
	gc.seed = sim->conf.seed;
	gc.max_players = sim->conf.room_players;
	gc.tick_rate = sim->conf.tick_rate;
	host.arg = room;
	host.event = room_game_event;
	if ((room->world = sim->game->create(&gc, &host)) == NULL) {
		gs_log_warnx("game create failed game=%s room=%s",
		    sim->game->name, name);
		free(room);
		return NULL;
	}
	room->next = sim->rooms;
	if (sim->rooms != NULL)
		sim->rooms->prev = room;
	sim->rooms = room;
	sim->nrooms++;

	/* The room's clock keeps its slot's phase: its first tick is
	 * owed at its slot's next instant, within a period from now. */
	room->created_us = gs_now_us();
	room->sched_e.data = room;
	(void)sim_sched_add(&sim->sched, &room->sched_e, room->created_us);
	start = sim_sched_start_us(&sim->sched, room->sched_e.slot,
	    room->created_us);
	sim_tickclock_init(&room->clock, sim->conf.tick_rate,
	    sim->conf.snapshot_rate, sim->conf.catchup, start);
	sim_tick_arm(sim);		/* its slot may have been empty */
	ev_init(&room->grace_w, room_grace_cb);
	room->grace_w.data = room;
	room_grace_start(room);		/* empty until the join succeeds */

	gs_counter_inc(sim->st.rooms_created);
	gs_log_info("room new room=%s game=%s", room->name, sim->game->name);
	return room;
}

/* Free an empty room. */
void
sim_room_free(struct sim_room *room)
{
	struct sim	*sim = room->sim;

	sim_sched_remove(&sim->sched, &room->sched_e);
	sim_tick_arm(sim);		/* stops it with the last room */
	ev_timer_stop(sim->loop, &room->grace_w);
	sim->game->end(room->world);
	if (room->prev != NULL)
		room->prev->next = room->next;
	else
		sim->rooms = room->next;
	if (room->next != NULL)
		room->next->prev = room->prev;
	sim->nrooms--;
	free(room);
}

static void
room_grace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sim_room	*room = w->data;
	struct sim	*sim = room->sim;

	if (room->nplayers > 0)
		return;		/* not reached: a join stops the timer */
	gs_log_info("room end room=%s ticks=%llu age_s=%.1f", room->name,
	    (unsigned long long)room->tick,
	    (double)(gs_now_us() - room->created_us) / 1e6);
	gs_counter_inc(sim->st.rooms_ended);
	sim_room_free(room);
}

void
sim_join(struct sim_peer *peer, uint64_t conn, const char *rname,
    const char *name)
{
	struct sim		*sim = peer->sim;
	struct sim_room		*room;
	struct sim_player	*pl, *o;
	unsigned		 slot, i;
	int			 code;
	const char		*why;

	if (!gs_name_valid(name, GS_NAME_MAX) ||
	    !gs_name_valid(rname, GS_ROOM_MAX)) {
		code = GS_PERR_BADNAME;
		why = "name and room must be 1-32 and 1-64 bytes of "
		    "[A-Za-z0-9_.-]";
		goto reject;
	}
	if (sim->nplayers >= sim->conf.max_players) {
		code = GS_PERR_UNAVAILABLE;
		why = "this sim is full";
		goto reject;
	}
	if ((room = sim_room_find(sim, rname)) == NULL) {
		if (sim->nrooms >= sim->conf.max_rooms) {
			code = GS_PERR_UNAVAILABLE;
			why = "this sim has no room for another room";
			goto reject;
		}
		if ((room = room_create(sim, rname)) == NULL) {
			code = GS_PERR_INTERNAL;
			why = "room creation failed";
			goto reject;
		}
	}
	if (room->nplayers >= sim->conf.room_players) {
		code = GS_PERR_ROOMFULL;
		why = "room full";
		goto reject;
	}
	for (slot = 0; slot < sim->conf.room_players; slot++)
		if (room->slot[slot] == NULL)
			break;
	if ((pl = sim_pool_get(&sim->players)) == NULL) {
		gs_log_warn("player allocation");
		code = GS_PERR_INTERNAL;
		why = "out of memory";
		goto reject;
	}
	pl->peer = peer;
	pl->room = room;
	pl->conn = conn;
	pl->id = ++sim->next_id;
	pl->slot = slot;
	pl->joined_us = gs_now_us();
	sim_inputq_init(&pl->in, sim->conf.inputq);
	(void)gs_strlcpy(pl->name, name, sizeof(pl->name));
	if ((code = sim->game->join(room->world, slot, pl->id, name)) != 0) {
		sim_pool_put(&sim->players, pl);
		why = "the game refused the player";
		goto reject;
	}
	room->slot[slot] = pl;
	room->nplayers++;
	sim->nplayers++;
	sim_peer_link_player(peer, pl);
	ev_timer_stop(sim->loop, &room->grace_w);
	gs_counter_inc(sim->st.joins);

	sim_send_joined(pl);
	/* The newcomer learns who is there, then everyone (the newcomer
	 * too) learns of the newcomer. */
	for (i = 0; i < sim->conf.room_players; i++) {
		o = room->slot[i];
		if (o != NULL && o != pl)
			room_event(room, pl, GS_EV_JOINED, o->id, 0, o->name);
	}
	room_event(room, NULL, GS_EV_JOINED, pl->id, 0, pl->name);
	gs_log_info("join player=%llu name=%s room=%s conn=%llu gateway=%s "
	    "players=%u", (unsigned long long)pl->id, pl->name, room->name,
	    (unsigned long long)conn, peer->url, room->nplayers);
	return;

reject:
	gs_counter_inc(sim->st.rejects);
	gs_log_debug("reject conn=%llu room=%s code=%s", (unsigned long long)conn,
	    rname, gs_perr_name(code));
	sim_send_reject(peer, conn, (uint32_t)code, why);
}

void
sim_player_remove(struct sim_player *pl)
{
	struct sim_room	*room = pl->room;
	struct sim	*sim = room->sim;

	sim->game->leave(room->world, pl->slot);
	room->slot[pl->slot] = NULL;
	room->nplayers--;
	sim->nplayers--;
	sim_peer_unlink_player(pl->peer, pl);
	if (!sim->stopping) {
		room_event(room, NULL, GS_EV_LEFT, pl->id, 0, NULL);
		if (room->nplayers == 0)
			room_grace_start(room);
	}
	gs_log_debug("remove player=%llu room=%s players=%u",
	    (unsigned long long)pl->id, room->name, room->nplayers);
	sim_pool_put(&sim->players, pl);
}

/* Queue an input (inputq.h has the rules) and count what became of it. */
void
sim_player_input(struct sim_player *pl, const struct gs_input *in)
{
	struct sim	*sim = pl->room->sim;
	unsigned	 did;

	gs_counter_inc(sim->st.inputs_in);
	did = sim_inputq_push(&pl->in, in);
	if (did & (SIM_INPUTQ_INVALID | SIM_INPUTQ_CLAMPED))
		gs_counter_inc(sim->st.inputs_invalid);
	if (did & SIM_INPUTQ_STALE)
		gs_counter_inc(sim->st.inputs_old);
	if (did & SIM_INPUTQ_FULL)
		gs_counter_inc(sim->st.inputs_queue_full);
}

/* One tick: each player's next input, then the game. */
static void
room_step(struct sim_room *room)
{
	struct sim		*sim = room->sim;
	struct sim_player	*pl;
	struct gs_input		 in;
	unsigned		 i, skipped;
	bool			 have;

	for (i = 0; i < sim->conf.room_players; i++) {
		if ((pl = room->slot[i]) == NULL)
			continue;
		have = sim_inputq_next(&pl->in, &in, &skipped);
		if (skipped > 0)
			gs_counter_add(sim->st.inputs_behind, skipped);
		if (!have)
			continue;	/* the game keeps the last input */
		sim->game->input(room->world, pl->slot, &in);
		gs_counter_inc(sim->st.inputs_applied);
	}
	room->tick++;
	sim->game->tick(room->world, room->tick);
	gs_counter_inc(sim->st.ticks);
}

/* A full snapshot to every player: the entities are packed once, then
 * each player's copy gets its own header (its input ack). */
static void
room_snapshot(struct sim_room *room)
{
	struct sim		*sim = room->sim;
	struct sim_player	*pl;
	struct gs_snaphdr	 h;
	size_t			 n, i;

	if (room->nplayers == 0)
		return;
	n = sim_room_entities(room);
	gs_wr_reset(&sim->ents);
	for (i = 0; i < n; i++)
		gs_entity_put(&sim->ents, &sim->entbuf[i]);
	if (sim->ents.err != GS_OK) {
		gs_log_warnx("snapshot encode room=%s entities=%zu err=%s",
		    room->name, n, gs_err_name(sim->ents.err));
		gs_counter_add(sim->st.snapshots_dropped, room->nplayers);
		return;
	}
	for (i = 0; i < sim->conf.room_players; i++) {
		if ((pl = room->slot[i]) == NULL)
			continue;
		h.tick = room->tick;
		h.ack = pl->in.last_seq;
		h.full = true;
		h.nent = (uint32_t)n;
		gs_wr_reset(&sim->msg);
		gs_snaphdr_put(&sim->msg, &h);
		gs_wr_raw(&sim->msg, sim->ents.buf, sim->ents.len);
		if (sim->msg.err != GS_OK ||
		    sim_send_frame(pl, false, sim->msg.buf, sim->msg.len) !=
		    GS_OK) {
			gs_counter_inc(sim->st.snapshots_dropped);
			continue;
		}
		gs_counter_inc(sim->st.snapshots);
		gs_counter_add(sim->st.snapshot_bytes, sim->msg.len);
	}
}

/* A room's wake-up: the ticks its clock says it owes, then at most
 * one snapshot. */
static void
room_tick(struct sim_room *room)
{
	struct sim		*sim = room->sim;
	struct sim_tick_due	 due;
	uint64_t		 t0;
	unsigned		 k;

	sim_tickclock_advance(&room->clock, gs_now_us(), &due);
	for (k = 0; k < due.ticks; k++) {
		/* How late this tick starts against its schedule. */
		gs_hist_observe(sim->st.drift_seconds,
		    sim_tickclock_drift_s(&room->clock, &due, k));
		t0 = gs_now_us();
		room_step(room);
		gs_hist_observe(sim->st.tick_seconds,
		    (double)(gs_now_us() - t0) / 1e6);
	}
	if (due.dropped > 0) {
		room->overruns++;
		gs_counter_inc(sim->st.overruns);
		gs_counter_add(sim->st.ticks_dropped, due.dropped);
		gs_log_debug("overrun room=%s ticks_dropped=%llu", room->name,
		    (unsigned long long)due.dropped);
	}
	if (due.snapshot) {
		t0 = gs_now_us();
		room_snapshot(room);
		gs_hist_observe(sim->st.snapshot_seconds,
		    (double)(gs_now_us() - t0) / 1e6);
	}
}

/* The shared timer: the rooms of every slot due, then the next slot.
 * Rooms are created and freed outside it (a JOIN, the grace timer),
 * so the slot lists hold still while they run. */
static void
sim_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sim		*sim = w->data;
	struct sim_sched_entry	*e;
	unsigned		 slots[SIM_SCHED_SLOTS_MAX], n, i;

	n = sim_sched_due(&sim->sched, gs_now_us(), slots);
	for (i = 0; i < n; i++)
		for (e = sim_sched_slot(&sim->sched, slots[i]); e != NULL;
		    e = e->next)
			room_tick(e->data);
	sim_tick_arm(sim);
}

void
sim_tick_init(struct sim *sim)
{
	sim_sched_init(&sim->sched, sim->conf.tick_rate, SIM_SCHED_SLOTS,
	    gs_now_us());
	ev_init(&sim->tick_w, sim_tick_cb);
	sim->tick_w.data = sim;
}

void
sim_tick_arm(struct sim *sim)
{
	uint64_t	at, now;

	ev_timer_stop(sim->loop, &sim->tick_w);
	if (sim->stopping || sim->sched.n == 0)
		return;
	/* Both clocks fresh: libev counts the delay from its own idea of
	 * now, which is as old as this loop iteration. */
	ev_now_update(sim->loop);
	now = gs_now_us();
	at = sim_sched_next_us(&sim->sched);
	ev_timer_set(&sim->tick_w, at > now ? (double)(at - now) / 1e6 : 0,
	    0);
	ev_timer_start(sim->loop, &sim->tick_w);
}

void
sim_tick_stop(struct sim *sim)
{
	ev_timer_stop(sim->loop, &sim->tick_w);
}
