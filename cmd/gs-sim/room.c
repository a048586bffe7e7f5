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
 * for the grace period, or until its game faults (game.c): then its
 * players are closed with the reason and it ends at its next wake-up.
 * Nothing calls into a faulted room's game but destroy.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sim.h"
#include "util.h"

/* Ids of entities that are nobody's player, above every player id. */
#define SIM_ENT_ID_BASE	((uint64_t)1 << 32)

static void	sim_tick_cb(struct ev_loop *, ev_timer *, int);
static void	room_grace_cb(struct ev_loop *, ev_timer *, int);
static void	room_result(struct sim_room *);

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

void
sim_room_conf(const struct sim_room *room, struct gs_room_conf *c)
{
	c->room = room->name;
	c->max_players = room->sim->conf.room_players;
	c->tick_rate = room->sim->conf.tick_rate;
}

void
sim_room_event(struct sim_room *room, struct sim_player *only, uint32_t code,
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
	struct gs_room_conf	 gc;
	uint64_t		 start;

	room = calloc(1, sizeof(*room) +
	    sim->conf.room_players * sizeof(room->slot[0]));
	if (room == NULL) {
		gs_log_warn("calloc room");
		return NULL;
	}
	room->sim = sim;
	room->serial = ++sim->rooms_made;
	(void)gs_strlcpy(room->name, name, sizeof(room->name));
	room->game = sim->game;
	sim_ents_init(&room->ents, room->game);
	if (sim_repl_init(&room->repl, room->game, sim->conf.cell,
	    sim->conf.radius, sim->conf.budget) != GS_OK) {
		gs_log_warnx("room grid failed room=%s cell=%g", name,
		    sim->conf.cell);
		sim_repl_free(&room->repl);
		free(room);
		return NULL;
	}
	room->rng = sim->conf.seed ^ gs_hash_fnv1a(name);
	room->next_ent_id = SIM_ENT_ID_BASE;
	sim_room_conf(room, &gc);
	room->world = room->game->create(sim_gs_room(room), &sim_host, &gc);
	if (room->world == NULL || room->fault[0] != '\0') {
		gs_log_warnx("game create failed game=%s room=%s why=\"%s\"",
		    room->game->name, name, room->world == NULL ?
		    "create returned NULL" : room->fault);
		if (room->world != NULL)
			room->game->destroy(room->world);
		sim_ents_free(&room->ents);
		sim_repl_free(&room->repl);
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
	gs_log_info("room new room=%s game=%s version=%s", room->name,
	    room->game->name, room->game->version);
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
	room->game->destroy(room->world);
	sim_ents_free(&room->ents);
	sim_repl_free(&room->repl);
	if (room->prev != NULL)
		room->prev->next = room->next;
	else
		sim->rooms = room->next;
	if (room->next != NULL)
		room->next->prev = room->prev;
	sim->nrooms--;
	free(room->played);
	free(room);
}

static void
room_grace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sim_room	*room = w->data;
	struct sim	*sim = room->sim;

	if (room->nplayers + room->nwatchers > 0)
		return;		/* not reached: a join stops the timer */
	gs_log_info("room end room=%s ticks=%llu age_s=%.1f", room->name,
	    (unsigned long long)room->tick,
	    (double)(gs_now_us() - room->created_us) / 1e6);
	if (room->fault[0] == '\0')
		room_result(room);
	gs_counter_inc(sim->st.rooms_ended);
	sim_room_free(room);
}

/* The match result from the game's end(): a JSON object, logged. */
static void
room_result(struct sim_room *room)
{
	struct sim	*sim = room->sim;
	json_t		*j;
	json_error_t	 jerr;
	char		*text;
	size_t		 n;

	n = room->game->end(room->world, sim->result, GS_GAME_RESULT_MAX);
	if (n == 0)
		return;
	if (n >= GS_GAME_RESULT_MAX || memchr(sim->result, '\0', n) != NULL) {
		sim_room_fault(room, "end: %zu bytes, not a string below %u",
		    n, GS_GAME_RESULT_MAX);
		return;
	}
	j = json_loadb(sim->result, n, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL || !json_is_object(j)) {
		sim_room_fault(room, "end: the result is not a JSON object: %s",
		    j == NULL ? jerr.text : "another JSON value");
		json_decref(j);
		return;
	}
	/* One line: the object printed again, compact. */
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	gs_counter_inc(sim->st.results);
	gs_log_info("room result room=%s game=%s result=%s players=%u",
	    room->name, room->game->name, text != NULL ? text : "?",
	    room->nplayed);
	if (text != NULL)
		sim_result_put(room, text, strlen(text));
	free(text);
}

void
sim_room_end_fault(struct sim_room *room)
{
	struct sim		*sim = room->sim;
	struct sim_player	*pl;
	char			 text[GS_TEXT_MAX + 1];
	unsigned		 i;

	(void)snprintf(text, sizeof(text), "the game failed: %s",
	    room->fault);
	for (i = 0; i < sim->conf.room_players; i++) {
		if ((pl = room->slot[i]) == NULL)
			continue;
		sim_send_close(pl, GS_PERR_ROOMCLOSED, text);
		sim_player_remove(pl);
	}
	while ((pl = room->watchers) != NULL) {
		sim_send_close(pl, GS_PERR_ROOMCLOSED, text);
		sim_player_remove(pl);
	}
	gs_log_warnx("room end room=%s ticks=%llu why=fault", room->name,
	    (unsigned long long)room->tick);
	gs_counter_inc(sim->st.rooms_faulted);
	sim_room_free(room);
}

static void
player_init(struct sim_player *pl, struct sim_peer *peer,
    struct sim_room *room, uint64_t conn, const char *name)
{
	struct sim	*sim = room->sim;

	pl->peer = peer;
	pl->room = room;
	pl->conn = conn;
	pl->id = ++sim->next_id;
	pl->joined_us = gs_now_us();
	sim_inputq_init(&pl->in, sim->conf.inputq);
	(void)gs_strlcpy(pl->name, name, sizeof(pl->name));
	memset(pl->ready, 0, sizeof(pl->ready));
	sim_view_init(&pl->view);
	pl->watch = false;
	pl->wprev = pl->wnext = NULL;
}

/* After JOINED, before the events: what the client decodes by. */
static void
send_game(struct sim_player *pl)
{
	struct sim	*sim = pl->room->sim;

	if (sim->gamemsg.err != GS_OK || sim_send_frame(pl, true,
	    sim->gamemsg.buf, sim->gamemsg.len) != GS_OK)
		gs_log_warnx("game message not sent player=%llu",
		    (unsigned long long)pl->id);
}

/* A spectator: a viewer of the room, centred on the world until it
 * looks elsewhere; the game does not know it. */
static int
watch_join(struct sim_peer *peer, struct sim_room *room, uint64_t conn,
    const char *name, const char **why)
{
	struct sim		*sim = room->sim;
	struct sim_player	*pl, *o;
	unsigned		 i;

	if (room->nwatchers >= sim->conf.room_watchers) {
		*why = "no room for another spectator";
		return GS_PERR_ROOMFULL;
	}
	if ((pl = sim_pool_get(&sim->players)) == NULL) {
		gs_log_warn("player allocation");
		*why = "out of memory";
		return GS_PERR_INTERNAL;
	}
	player_init(pl, peer, room, conn, name);
	pl->watch = true;
	pl->slot = UINT32_MAX;
	sim_view_center(&pl->view, &room->repl, room->game->world_w / 2,
	    room->game->world_h / 2);
	pl->wnext = room->watchers;
	if (room->watchers != NULL)
		room->watchers->wprev = pl;
	room->watchers = pl;
	room->nwatchers++;
	sim->nwatchers++;
	sim_peer_link_player(peer, pl);
	ev_timer_stop(sim->loop, &room->grace_w);
	gs_counter_inc(sim->st.joins);
	sim_send_joined(pl);
	send_game(pl);
	for (i = 0; i < sim->conf.room_players; i++)
		if ((o = room->slot[i]) != NULL)
			sim_room_event(room, pl, GS_EV_JOINED, o->id, 0,
			    o->name);
	gs_log_info("watch player=%llu name=%s room=%s conn=%llu gateway=%s "
	    "watchers=%u", (unsigned long long)pl->id, pl->name, room->name,
	    (unsigned long long)conn, peer->url, room->nwatchers);
	return 0;
}

/* Note an account that played in the room, once, for its result. */
static void
room_played(struct sim_room *room, uint64_t account)
{
	uint64_t	*np;
	unsigned	 i, cap;

	if (account == 0)
		return;
	for (i = 0; i < room->nplayed; i++)
		if (room->played[i] == account)
			return;
	if (room->nplayed == room->capplayed) {
		if (room->capplayed == SIM_PLAYED_MAX) {
			gs_log_warnx("match players over the cap room=%s "
			    "max=%d", room->name, SIM_PLAYED_MAX);
			return;
		}
		cap = room->capplayed == 0 ? 16 : room->capplayed * 2;
		if ((np = realloc(room->played, cap * sizeof(*np))) == NULL) {
			gs_log_warn("out of memory what=played");
			return;
		}
		room->played = np;
		room->capplayed = cap;
	}
	room->played[room->nplayed++] = account;
}

void
sim_join(struct sim_peer *peer, uint64_t conn, uint64_t account,
    const char *rname, const char *name, bool watch)
{
	struct sim		*sim = peer->sim;
	struct sim_room		*room;
	struct sim_player	*pl, *o;
	unsigned		 slot, i;
	int			 code;
	const char		*why;
	char			 reason[GS_GAME_REASON_MAX + 1];

	if (!gs_name_valid(name, GS_NAME_MAX) ||
	    !gs_name_valid(rname, GS_ROOM_MAX)) {
		code = GS_PERR_BADNAME;
		why = "name and room must be 1-32 and 1-64 bytes of "
		    "[A-Za-z0-9_.-]";
		goto reject;
	}
	if (sim->nplayers + sim->nwatchers >= sim->conf.max_players) {
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
	if (room->fault[0] != '\0') {
		code = GS_PERR_ROOMCLOSED;
		why = "the room's game failed";
		goto reject;
	}
	if (watch) {
		if ((code = watch_join(peer, room, conn, name, &why)) != 0)
			goto reject;
		return;
	}
	if (room->nplayers >= sim->conf.room_players) {
		code = GS_PERR_ROOMFULL;
		why = "room full";
		goto reject;
	}
	reason[0] = '\0';
	if (room->game->join_attempt(room->world, name, reason,
	    sizeof(reason)) != 0) {
		reason[sizeof(reason) - 1] = '\0';
		code = GS_PERR_REFUSED;
		why = reason[0] != '\0' ? reason : "the game refused the player";
		goto reject;
	}
	if (room->fault[0] != '\0') {
		code = GS_PERR_ROOMCLOSED;
		why = "the room's game failed";
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
	player_init(pl, peer, room, conn, name);
	pl->account = account;
	pl->slot = slot;
	room->joining = pl;
	code = room->game->join(room->world, slot, pl->id, name);
	room->joining = NULL;
	if (code != 0 && room->fault[0] == '\0' &&
	    sim_ents_owned(&room->ents, (int)slot) != NULL)
		sim_room_fault(room, "join: refused slot %u and left its "
		    "entity", slot);
	if (code != 0 || room->fault[0] != '\0') {
		sim_pool_put(&sim->players, pl);
		code = room->fault[0] != '\0' ? GS_PERR_ROOMCLOSED :
		    GS_PERR_INTERNAL;
		why = room->fault[0] != '\0' ? "the room's game failed" :
		    "the game could not place the player";
		goto reject;
	}
	room->slot[slot] = pl;
	room->nplayers++;
	sim->nplayers++;
	room_played(room, account);
	sim_peer_link_player(peer, pl);
	ev_timer_stop(sim->loop, &room->grace_w);
	gs_counter_inc(sim->st.joins);

	sim_send_joined(pl);
	send_game(pl);
	/* The newcomer learns who is there, then everyone (the newcomer
	 * too) learns of the newcomer. */
	for (i = 0; i < sim->conf.room_players; i++) {
		o = room->slot[i];
		if (o != NULL && o != pl)
			sim_room_event(room, pl, GS_EV_JOINED, o->id, 0,
			    o->name);
	}
	sim_room_event(room, NULL, GS_EV_JOINED, pl->id, 0, pl->name);
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

static void
watch_remove(struct sim_player *pl)
{
	struct sim_room	*room = pl->room;
	struct sim	*sim = room->sim;

	if (pl->wprev != NULL)
		pl->wprev->wnext = pl->wnext;
	else
		room->watchers = pl->wnext;
	if (pl->wnext != NULL)
		pl->wnext->wprev = pl->wprev;
	room->nwatchers--;
	sim->nwatchers--;
	sim_peer_unlink_player(pl->peer, pl);
	if (!sim->stopping && room->fault[0] == '\0' &&
	    room->nplayers + room->nwatchers == 0)
		room_grace_start(room);
	gs_log_debug("remove watcher=%llu room=%s watchers=%u",
	    (unsigned long long)pl->id, room->name, room->nwatchers);
	sim_view_free(&pl->view);
	sim_pool_put(&sim->players, pl);
}

void
sim_player_remove(struct sim_player *pl)
{
	struct sim_room	*room = pl->room;
	struct sim	*sim = room->sim;

	if (pl->watch) {
		watch_remove(pl);
		return;
	}
	if (room->fault[0] == '\0') {
		room->game->leave(room->world, pl->slot);
		if (room->fault[0] == '\0' &&
		    sim_ents_owned(&room->ents, (int)pl->slot) != NULL)
			sim_room_fault(room, "leave: slot %u still has its "
			    "entity", pl->slot);
	}
	room->slot[pl->slot] = NULL;
	room->nplayers--;
	sim->nplayers--;
	sim_peer_unlink_player(pl->peer, pl);
	if (!sim->stopping && room->fault[0] == '\0') {
		sim_room_event(room, NULL, GS_EV_LEFT, pl->id, 0, NULL);
		if (room->nplayers + room->nwatchers == 0)
			room_grace_start(room);
	}
	gs_log_debug("remove player=%llu room=%s players=%u",
	    (unsigned long long)pl->id, room->name, room->nplayers);
	sim_view_free(&pl->view);
	sim_pool_put(&sim->players, pl);
}

/* Queue an input (inputq.h has the rules) and count what became of it. */
void
sim_player_input(struct sim_player *pl, const struct gs_input *in)
{
	struct sim	*sim = pl->room->sim;
	int32_t		 v[GS_GAME_INPUTS_MAX];
	unsigned	 did;

	gs_counter_inc(sim->st.inputs_in);
	if (pl->watch) {
		gs_counter_inc(sim->st.inputs_watcher);
		return;
	}
	/* Checked against the game's declaration before it is queued, so
	 * that the queue holds only inputs the game may see. */
	switch (sim_input_values(pl->room->game, in, v)) {
	case SIM_INPUT_ERANGE:
		gs_counter_inc(sim->st.inputs_range);
		return;
	case SIM_INPUT_EUNDECLARED:
		gs_counter_inc(sim->st.inputs_undeclared);
		return;
	}
	did = sim_inputq_push(&pl->in, in);
	if (did & SIM_INPUTQ_INVALID)
		gs_counter_inc(sim->st.inputs_invalid);
	if (did & SIM_INPUTQ_STALE)
		gs_counter_inc(sim->st.inputs_old);
	if (did & SIM_INPUTQ_FULL)
		gs_counter_inc(sim->st.inputs_queue_full);
}

/*
 * An input's values as the game sees them: an action field (one with a
 * cooldown) passes a non-zero value at most once per cooldown ticks.
 */
static void
room_input(struct sim_room *room, struct sim_player *pl,
    const struct gs_input *in)
{
	const struct gs_game	*g = room->game;
	int32_t			 v[GS_GAME_INPUTS_MAX];
	unsigned		 i;

	/* Checked when queued (sim_player_input), against the same
	 * declarations: a reload keeps them.  Values past n are 0. */
	memcpy(v, in->v, sizeof(v));
	for (i = 0; i < g->ninputs; i++) {
		if (g->inputs[i].cooldown == 0 || v[i] == 0)
			continue;
		if (room->tick < pl->ready[i]) {
			v[i] = 0;
			gs_counter_inc(room->sim->st.inputs_cooldown);
		} else
			pl->ready[i] = room->tick + g->inputs[i].cooldown;
	}
	g->input(room->world, pl->slot, v);
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
		if (!have || room->fault[0] != '\0')
			continue;	/* the game keeps the last input */
		room_input(room, pl, &in);
		gs_counter_inc(sim->st.inputs_applied);
	}
	room->tick++;
	if (room->fault[0] == '\0')
		room->game->tick(room->world);
	gs_counter_inc(sim->st.ticks);
}

void
sim_player_ack(struct sim_player *pl, uint64_t tick)
{
	struct sim	*sim = pl->room->sim;

	gs_counter_inc(sim->st.acks);
	if (!sim_view_ack(&pl->view, tick))
		gs_counter_inc(sim->st.acks_bad);
}

void
sim_player_look(struct sim_player *pl, double x, double y)
{
	struct sim_room	*room = pl->room;

	gs_counter_inc(room->sim->st.looks);
	if (!pl->watch)
		return;		/* a player's view follows its entity */
	x = x < 0 ? 0 : x > room->game->world_w ? room->game->world_w : x;
	y = y < 0 ? 0 : y > room->game->world_h ? room->game->world_h : y;
	sim_view_center(&pl->view, &room->repl, x, y);
}

/* One viewer's snapshot: a delta against what it acknowledged, built
 * from the frame's shared records (repl.h). */
static void
room_snapshot_to(struct sim_room *room, struct sim_player *pl)
{
	struct sim		*sim = room->sim;
	const struct sim_ent	*e;
	struct sim_repl_stats	 st;
	struct gs_snaphdr	 h;
	/* One viewer in 8 is timed: two clock reads for each would cost
	 * more than some assemblies. */
	bool			 timed = (++sim->snap_seq & 7) == 0;
	uint64_t		 t0 = timed ? gs_now_us() : 0;
	size_t			 len;

	if (!pl->watch &&
	    (e = sim_ents_owned(&room->ents, (int)pl->slot)) != NULL)
		sim_view_center(&pl->view, &room->repl, e->x, e->y);
	len = sim_repl_build(&room->repl, &pl->view, sim->body,
	    GS_SNAP_BODY_MAX, &st);
	if (len == 0) {
		gs_counter_inc(sim->st.snapshots_dropped);
		return;
	}
	h.tick = room->tick;
	h.base = st.base;
	h.ack = pl->watch ? 0 : pl->in.last_seq;
	gs_wr_reset(&sim->msg);
	gs_snapshot_put(&sim->msg, &h, sim->body, len);
	gs_counter_add(sim->st.snap_full, st.full);
	gs_counter_add(sim->st.snap_delta, st.delta);
	gs_counter_add(sim->st.snap_removed, st.removed);
	gs_counter_add(sim->st.snap_shared, st.shared);
	gs_counter_add(sim->st.snap_cut, st.cut);
	if (st.base == 0)
		gs_counter_inc(sim->st.snap_nobase);
	if (st.body_shared)
		gs_counter_inc(sim->st.snap_bodies_shared);
	if (timed)
		gs_hist_observe(sim->st.snapshot_client_seconds,
		    (double)(gs_now_us() - t0) / 1e6);
	if (sim->msg.err != GS_OK ||
	    sim_send_frame(pl, false, sim->msg.buf, sim->msg.len) != GS_OK) {
		gs_counter_inc(sim->st.snapshots_dropped);
		return;
	}
	gs_counter_inc(sim->st.snapshots);
	gs_counter_add(sim->st.snapshot_bytes, sim->msg.len);
}

/* A snapshot to every viewer: the room's entities are quantized into
 * a frame once, then each viewer's body is assembled. */
static void
room_snapshot(struct sim_room *room)
{
	struct sim		*sim = room->sim;
	struct sim_player	*pl;
	unsigned		 i;

	if (room->nplayers + room->nwatchers == 0)
		return;
	if (sim_repl_frame(&room->repl, room->tick, &room->ents) != GS_OK) {
		gs_log_warn("snapshot frame room=%s entities=%u", room->name,
		    room->ents.n);
		gs_counter_add(sim->st.snapshots_dropped,
		    room->nplayers + room->nwatchers);
		return;
	}
	for (i = 0; i < sim->conf.room_players; i++)
		if ((pl = room->slot[i]) != NULL)
			room_snapshot_to(room, pl);
	for (pl = room->watchers; pl != NULL; pl = pl->wnext)
		room_snapshot_to(room, pl);
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

	if (room->fault[0] != '\0') {
		sim_room_end_fault(room);	/* frees room */
		return;
	}
	sim_tickclock_advance(&room->clock, gs_now_us(), &due);
	for (k = 0; k < due.ticks && room->fault[0] == '\0'; k++) {
		/* How late this tick starts against its schedule. */
		gs_hist_observe(sim->st.drift_seconds,
		    sim_tickclock_drift_s(&room->clock, &due, k));
		t0 = gs_now_us();
		room_step(room);
		gs_hist_observe(sim->st.tick_seconds,
		    (double)(gs_now_us() - t0) / 1e6);
	}
	if (room->fault[0] != '\0') {
		sim_room_end_fault(room);	/* frees room */
		return;
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
 * Rooms are created outside it (a JOIN); the only room freed inside it
 * is the one running (a fault), so the next entry is taken first. */
static void
sim_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sim		*sim = w->data;
	struct sim_sched_entry	*e, *next;
	unsigned		 slots[SIM_SCHED_SLOTS_MAX], n, i;

	n = sim_sched_due(&sim->sched, gs_now_us(), slots);
	for (i = 0; i < n; i++)
		for (e = sim_sched_slot(&sim->sched, slots[i]); e != NULL;
		    e = next) {
			next = e->next;
			room_tick(e->data);
		}
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
