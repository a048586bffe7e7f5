/*
 * The control socket's commands (lib/ctl.h), the extra "status"
 * fields, and the metrics registry.
 *
 *   rooms          [ {room, players, watchers, tick, entities, age_s,
 *                     ends_in_s, overruns}, ... ]
 *   room NAME      {room, tick, tick_rate, snapshot_rate, age_s,
 *                   overruns, entities, watchers, game, version,
 *                   players: [ {id, name, x, y, score, last_input,
 *                   queued_inputs, acked, gateway, conn, age_s} ]}
 *   snapshot NAME  {room, tick, entities: [ {id, type, type_name, x, y,
 *                  fields: {name: value}} ]}: every entity, unquantized
 *   reload PATH    {game, version, path, rooms}: the game plugin at
 *                  PATH (a file, or an installed game's name) replaces
 *                  the running one in every room (game.c)
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "util.h"

static void
kv_str(struct gs_wr *wr, const char *k, const char *v)
{
	gs_wr_str(wr, k);
	gs_wr_str(wr, v);
}

static void
kv_uint(struct gs_wr *wr, const char *k, uint64_t v)
{
	gs_wr_str(wr, k);
	gs_wr_uint(wr, v);
}

/* A 64-bit identifier: a string (gs_ctl_put_id). */
static void
kv_id(struct gs_wr *wr, const char *k, uint64_t v)
{
	gs_wr_str(wr, k);
	gs_ctl_put_id(wr, v);
}

static void
kv_int(struct gs_wr *wr, const char *k, int64_t v)
{
	gs_wr_str(wr, k);
	gs_wr_int(wr, v);
}

static void
kv_f64(struct gs_wr *wr, const char *k, double v)
{
	gs_wr_str(wr, k);
	gs_wr_f64(wr, v);
}

static double
age_s(uint64_t since_us)
{
	return (double)(gs_now_us() - since_us) / 1e6;
}

/* The room named by the one argument; on failure *msg says why. */
static int
ctl_room_arg(struct sim *sim, struct gs_rd *args, const char *cmd,
    struct sim_room **roomp, const char **msg)
{
	static char	 buf[GS_ROOM_MAX + 64];
	char		 name[GS_ROOM_MAX + 1];

	(void)gs_rd_str(args, name, sizeof(name));
	if (gs_rd_end(args) != GS_OK) {
		(void)snprintf(buf, sizeof(buf), "usage: %s ROOM", cmd);
		*msg = buf;
		return GS_CTL_EARGS;
	}
	if ((*roomp = sim_room_find(sim, name)) == NULL) {
		(void)snprintf(buf, sizeof(buf), "no room named '%s'", name);
		*msg = buf;
		return GS_CTL_ENOTFOUND;
	}
	return GS_CTL_OK;
}

static int
ctl_rooms(void *arg, struct gs_rd *args, struct gs_wr *body,
    const char **msg)
{
	struct sim	*sim = arg;
	struct sim_room	*room;

	if (gs_rd_end(args) != GS_OK) {
		*msg = "usage: rooms";
		return GS_CTL_EARGS;
	}
	gs_wr_array(body, sim->nrooms);
	for (room = sim->rooms; room != NULL; room = room->next) {
		gs_wr_map(body, 8);
		kv_str(body, "room", room->name);
		kv_uint(body, "players", room->nplayers);
		kv_uint(body, "watchers", room->nwatchers);
		kv_uint(body, "tick", room->tick);
		kv_uint(body, "entities", room->ents.n);
		kv_f64(body, "age_s", age_s(room->created_us));
		/* Seconds left before an empty room ends; 0 if occupied. */
		kv_f64(body, "ends_in_s", ev_is_active(&room->grace_w) ?
		    ev_timer_remaining(sim->loop, &room->grace_w) : 0);
		kv_uint(body, "overruns", room->overruns);
	}
	return GS_CTL_OK;
}

static int
ctl_room(void *arg, struct gs_rd *args, struct gs_wr *body,
    const char **msg)
{
	struct sim		*sim = arg;
	struct sim_room		*room;
	struct sim_player	*pl;
	const struct sim_ent	*e;
	unsigned		 i;
	int			 rc;

	if ((rc = ctl_room_arg(sim, args, "room", &room, msg)) != GS_CTL_OK)
		return rc;
	gs_wr_map(body, 11);
	kv_str(body, "room", room->name);
	kv_uint(body, "tick", room->tick);
	kv_uint(body, "tick_rate", sim->conf.tick_rate);
	kv_uint(body, "snapshot_rate", sim->conf.snapshot_rate);
	kv_f64(body, "age_s", age_s(room->created_us));
	kv_uint(body, "overruns", room->overruns);
	kv_uint(body, "entities", room->ents.n);
	kv_uint(body, "watchers", room->nwatchers);
	kv_str(body, "game", room->game->name);
	kv_str(body, "version", room->game->version);
	gs_wr_str(body, "players");
	gs_wr_array(body, room->nplayers);
	for (i = 0; i < sim->conf.room_players; i++) {
		if ((pl = room->slot[i]) == NULL)
			continue;
		e = sim_ents_owned(&room->ents, (int)pl->slot);
		gs_wr_map(body, 11);
		kv_id(body, "id", pl->id);
		kv_str(body, "name", pl->name);
		kv_f64(body, "x", e != NULL ? e->x : 0);
		kv_f64(body, "y", e != NULL ? e->y : 0);
		/* The first field of its entity: the arena's score. */
		kv_int(body, "score", e != NULL &&
		    room->game->types[e->type].nfields > 0 ? e->f[0] : 0);
		kv_uint(body, "last_input", pl->in.last_seq);
		kv_uint(body, "queued_inputs", pl->in.n);
		kv_uint(body, "acked", pl->view.ack);
		kv_str(body, "gateway", pl->peer->url);
		kv_id(body, "conn", pl->conn);
		kv_f64(body, "age_s", age_s(pl->joined_us));
	}
	return GS_CTL_OK;
}

static int
ctl_snapshot(void *arg, struct gs_rd *args, struct gs_wr *body,
    const char **msg)
{
	struct sim		*sim = arg;
	struct sim_room		*room;
	const struct sim_ent	*e;
	const struct gs_type	*t;
	uint32_t		 i;
	unsigned		 k;
	int			 rc;

	if ((rc = ctl_room_arg(sim, args, "snapshot", &room, msg)) !=
	    GS_CTL_OK)
		return rc;
	gs_wr_map(body, 3);
	kv_str(body, "room", room->name);
	kv_uint(body, "tick", room->tick);
	gs_wr_str(body, "entities");
	gs_wr_array(body, room->ents.n);
	for (i = 0; i < room->ents.n; i++) {
		e = sim_ents_at(&room->ents, i);
		t = &room->game->types[e->type];
		gs_wr_map(body, 6);
		kv_id(body, "id", e->id);
		kv_uint(body, "type", (uint64_t)e->type + 1);
		kv_str(body, "type_name", t->name);
		kv_f64(body, "x", e->x);
		kv_f64(body, "y", e->y);
		gs_wr_str(body, "fields");
		gs_wr_map(body, t->nfields);
		for (k = 0; k < t->nfields; k++)
			kv_int(body, t->fields[k].name, e->f[k]);
	}
	return GS_CTL_OK;
}

static int
ctl_reload(void *arg, struct gs_rd *args, struct gs_wr *body,
    const char **msg)
{
	static char	 err[1024];
	struct sim	*sim = arg;
	char		 spec[PATH_MAX];

	(void)gs_rd_str(args, spec, sizeof(spec));
	if (gs_rd_end(args) != GS_OK || spec[0] == '\0') {
		*msg = "usage: reload PATH";
		return GS_CTL_EARGS;
	}
	if (sim->stopping) {
		*msg = "stopping";
		return GS_CTL_EFAIL;
	}
	if (sim_game_reload(sim, spec, err, sizeof(err)) != 0) {
		*msg = err;
		return GS_CTL_EFAIL;
	}
	gs_wr_map(body, 4);
	kv_str(body, "game", sim->game->name);
	kv_str(body, "version", sim->game->version);
	kv_str(body, "path", sim->plugin.path);
	kv_uint(body, "rooms", sim->nrooms);
	return GS_CTL_OK;
}

const struct gs_ctl_cmd sim_ctl_cmds[] = {
	{ "rooms", ctl_rooms },
	{ "room", ctl_room },
	{ "snapshot", ctl_snapshot },
	{ "reload", ctl_reload },
	{ NULL, NULL },
};

unsigned
sim_ctl_status(void *arg, struct gs_wr *body)
{
	struct sim	*sim = arg;

	kv_uint(body, "rooms", sim->nrooms);
	kv_uint(body, "players", sim->nplayers);
	kv_uint(body, "watchers", sim->nwatchers);
	kv_uint(body, "gateways", sim->npeers);
	kv_uint(body, "tick_rate", sim->conf.tick_rate);
	kv_uint(body, "snapshot_rate", sim->conf.snapshot_rate);
	kv_str(body, "game", sim->game->name);
	kv_str(body, "game_version", sim->game->version);
	kv_str(body, "game_path", sim->plugin.path);
	gs_wr_str(body, "instance");
	gs_ctl_put_instance(body, sim->instance);
	kv_str(body, "inbox", sim->conf.inbox_url);
	kv_uint(body, "stopping", (uint64_t)sim->stopping);
	return 12;
}

/* ---------------------------------------------------------- metrics */

#define SIM_C(f, name, help) \
	GS_METRIC_ROW(GS_METRIC_COUNTER, struct sim, st.f, name, help)
#define SIM_U(f, name, help) \
	GS_METRIC_ROW(GS_METRIC_UNSIGNED, struct sim, f, name, help)
#define SIM_HIST(f, name, help, b) \
	GS_METRIC_HIST_ROW(struct sim, st.f, name, help, b)
#define SIM_DROP(f, reason) SIM_C(f, \
	"gs_sim_inputs_dropped_total{reason=\"" reason "\"}", \
	"Inputs dropped.")

static const double sim_tick_b[] = { 0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1 };
static const double sim_client_b[] = { 0.000001, 0.0000025, 0.000005,
	0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001 };
static const double sim_drift_b[] = { 0.0005, 0.001, 0.002, 0.005, 0.01,
	0.02, 0.05, 0.1, 0.25 };

static const struct gs_metric_def sim_metric_defs[] = {
	SIM_U(nrooms, "gs_sim_rooms", "Rooms alive."),
	SIM_U(nplayers, "gs_sim_players", "Players in rooms."),
	SIM_U(nwatchers, "gs_sim_watchers", "Spectators in rooms."),
	SIM_U(npeers, "gs_sim_gateways",
	    "Gateways heard from within the gateway timeout."),
	SIM_C(ticks, "gs_sim_ticks_total", "Room ticks run."),
	SIM_HIST(tick_seconds, "gs_sim_tick_duration_seconds",
	    "Time to run one room tick (inputs and game).", sim_tick_b),
	SIM_HIST(drift_seconds, "gs_sim_tick_drift_seconds",
	    "How late each tick started against its schedule.", sim_drift_b),
	SIM_HIST(snapshot_seconds, "gs_sim_snapshot_duration_seconds",
	    "Time to encode and queue one room's snapshots.", sim_tick_b),
	SIM_C(overruns, "gs_sim_tick_overruns_total",
	    "Wake-ups that owed more ticks than the catch-up limit."),
	SIM_C(ticks_dropped, "gs_sim_ticks_dropped_total",
	    "Ticks skipped by overruns (time dropped)."),
	SIM_C(inputs_in, "gs_sim_inputs_received_total",
	    "INPUT records received."),
	SIM_C(inputs_applied, "gs_sim_inputs_applied_total",
	    "Inputs handed to the game."),
	SIM_DROP(inputs_queue_full, "queue_full"),
	SIM_DROP(inputs_old, "old"),
	SIM_DROP(inputs_behind, "behind"),
	SIM_DROP(inputs_unknown, "no_player"),
	SIM_C(inputs_invalid, "gs_sim_inputs_invalid_total",
	    "Inputs with sequence number 0, dropped."),
	SIM_DROP(inputs_range, "range"),
	SIM_DROP(inputs_undeclared, "undeclared"),
	SIM_C(inputs_cooldown, "gs_sim_inputs_cooldown_total",
	    "Action values zeroed because their cooldown had not run out."),
	SIM_C(snapshots, "gs_sim_snapshots_sent_total",
	    "Snapshots queued to gateways."),
	SIM_C(snapshot_bytes, "gs_sim_snapshot_bytes_total",
	    "Bytes of snapshots queued."),
	SIM_C(snapshots_dropped, "gs_sim_snapshots_dropped_total",
	    "Snapshots not sent (too big, or outbox full)."),
	SIM_C(events, "gs_sim_events_sent_total",
	    "Event frames queued to gateways."),
	SIM_C(batches_in, "gs_sim_relay_batches_in_total",
	    "Batches from gateways."),
	SIM_C(records_in, "gs_sim_relay_records_in_total",
	    "Records from gateways."),
	SIM_C(records_out, "gs_sim_relay_records_out_total",
	    "Records queued to gateways."),
	SIM_C(records_dropped, "gs_sim_relay_records_dropped_total",
	    "Records not queued: outbox over its cap."),
	SIM_C(control_dropped, "gs_sim_relay_control_dropped_total",
	    "JOINED, REJECT and CLOSE records not queued: the outbox was "
	    "over even the room kept for them."),
	SIM_C(unknown_conn, "gs_sim_relay_unknown_conn_total",
	    "Records for a connection with no player here (answered with "
	    "CLOSE, at most once a second per connection)."),
	/* These three mirror the outboxes' statistics (sim_sync_metrics). */
	SIM_C(batches_out, "gs_sim_relay_batches_out_total",
	    "Batches (NNG messages) handed to NNG for gateways, heartbeats "
	    "included."),
	SIM_C(records_sent, "gs_sim_relay_records_sent_total",
	    "Records in the batches handed to NNG."),
	SIM_C(records_unsent, "gs_sim_relay_records_unsent_total",
	    "Records queued but never handed to NNG: a batch of snapshots "
	    "NNG could not take, or records discarded for a gateway that "
	    "restarted or went away."),
	SIM_C(stale, "gs_sim_relay_stale_total",
	    "Batches addressed to an earlier run of this sim, skipped."),
	SIM_C(bad, "gs_sim_relay_bad_total",
	    "Malformed or unexpected batches and records from gateways."),
	SIM_C(refused, "gs_sim_relay_refused_total",
	    "Batches refused unread, and their gateway not dialed: the reply "
	    "url is not one of -a, or without -a the batch came over a "
	    "connection that proved nothing (plain tcp)."),
	SIM_C(joins, "gs_sim_joins_total", "Players who joined a room."),
	SIM_C(rejects, "gs_sim_rejects_total", "JOINs refused."),
	SIM_C(leaves, "gs_sim_leaves_total", "Players who left with LEAVE."),
	SIM_C(players_lost, "gs_sim_players_lost_total",
	    "Players dropped because their gateway restarted or went "
	    "silent."),
	SIM_C(gateways_lost, "gs_sim_gateways_lost_total",
	    "Gateways dropped after the gateway timeout."),
	SIM_C(rooms_created, "gs_sim_rooms_created_total", "Rooms created."),
	SIM_C(rooms_ended, "gs_sim_rooms_ended_total",
	    "Rooms ended after the empty-room grace period."),
	SIM_C(rooms_faulted, "gs_sim_rooms_faulted_total",
	    "Rooms ended because their game broke its interface."),
	SIM_C(game_faults, "gs_sim_game_faults_total",
	    "Calls by which a game broke its interface (gs-game(3))."),
	SIM_C(results, "gs_sim_match_results_total",
	    "Match results reported by games at a room's end."),
	SIM_C(results_stored, "gs_sim_match_results_stored_total",
	    "Match results gs-persist acknowledged."),
	SIM_C(results_retried, "gs_sim_match_results_retries_total",
	    "Match result sends that failed and will be tried again."),
	SIM_C(results_refused, "gs_sim_match_results_refused_total",
	    "Match results gs-persist refused for good (logged)."),
	SIM_C(results_dropped, "gs_sim_match_results_dropped_total",
	    "Match results dropped unsent: queue full or too large (logged)."),
	SIM_C(reloads, "gs_sim_game_reloads_total",
	    "Live reloads of the game plugin done."),
	SIM_C(reloads_failed, "gs_sim_game_reloads_failed_total",
	    "Live reloads refused or undone (every room kept the old game)."),
	SIM_HIST(snapshot_client_seconds,
	    "gs_sim_snapshot_client_duration_seconds",
	    "Time to assemble and queue one viewer's snapshot (one viewer "
	    "in 8 is timed).", sim_client_b),
	SIM_C(snap_full, "gs_sim_snapshot_records_total{kind=\"full\"}",
	    "Entity records in snapshots, by kind."),
	SIM_C(snap_delta, "gs_sim_snapshot_records_total{kind=\"delta\"}",
	    "Entity records in snapshots, by kind."),
	SIM_C(snap_removed, "gs_sim_snapshot_records_total{kind=\"removed\"}",
	    "Entity records in snapshots, by kind."),
	SIM_C(snap_shared, "gs_sim_snapshot_records_shared_total",
	    "Records taken already encoded from the frame (encode once)."),
	SIM_C(snap_cut, "gs_sim_snapshot_records_deferred_total",
	    "Records left for a later snapshot by the byte budget."),
	SIM_C(snap_nobase, "gs_sim_snapshots_without_baseline_total",
	    "Snapshots sent with no acknowledged baseline (from nothing)."),
	SIM_C(snap_bodies_shared, "gs_sim_snapshots_shared_total",
	    "Snapshots whose whole body another viewer's was (whole world, "
	    "same baseline)."),
	SIM_C(acks, "gs_sim_snapshot_acks_total", "Snapshot acks received."),
	SIM_C(acks_bad, "gs_sim_snapshot_acks_ignored_total",
	    "Acks of a snapshot the viewer was not sent lately."),
	SIM_C(looks, "gs_sim_looks_total", "Spectators' look messages."),
	SIM_DROP(inputs_watcher, "spectator"),
};

void
sim_metrics_init(struct sim *sim)
{
	sim->metrics = gs_metrics_new();	/* fatal when out of memory */
	gs_metrics_table(sim->metrics, sim_metric_defs,
	    GS_NELEM(sim_metric_defs), sim);
	gs_metrics_on_write(sim->metrics, sim_sync_metrics, sim);
}
