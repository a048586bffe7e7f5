/*
 * gs-sim internals shared by its files.
 *
 *   main.c     flags, set-up, signals, shutdown
 *   peer.c     the inbox, gateway peers and their outboxes, records
 *   room.c     rooms, players, the tick, inputs, snapshots, events
 *   game.c     the game plugin: loading, the host table, faults, reload
 *   ents.c     a room's entities (pure)
 *   schema.c   a game's declarations and the input check (pure)
 *   inputq.c   a player's input queue (pure: no clock, no metrics)
 *   tickclock.c  a room's tick accumulator (pure: time passed in)
 *   sched.c    the rooms' shared tick schedule (pure: time passed in)
 *   control.c  control-socket commands, status, metric gauges
 *
 * Ownership: struct sim owns the peers, the rooms and the loaded game
 * plugin; a room owns its game world and its entities; a player
 * belongs to exactly one room and one peer and is
 * linked from both (room->slot[], peer's conn hash).  Everything runs
 * on the loop thread.
 */
#ifndef SIM_H
#define SIM_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <ev.h>
#include <gs/game.h>

#include "ctl.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "mp.h"
#include "nngev.h"
#include "proto.h"
#include "relay.h"

#include "ents.h"
#include "inputq.h"
#include "pool.h"
#include "repl.h"
#include "sched.h"
#include "schema.h"
#include "tickclock.h"

#define SIM_PEERS_MAX		64	/* gateways talking to one sim */
#define SIM_CONN_BUCKETS	1024	/* per-peer conn hash */
#define SIM_INBOX_BUDGET	64	/* messages per inbox wake-up */
#define SIM_INBOX_RECVBUF	1024	/* NNG_OPT_RECVBUF, messages */
#define SIM_OUTBOX_SENDBUF	256	/* NNG_OPT_SENDBUF, messages */
/* One batch to a gateway stays below NNG's default receive limit of
 * 1 MiB (NNG_OPT_RECVMAXSZ), which a gateway may not have raised. */
#define SIM_BATCH_MAX		(960 * 1024)
#define SIM_DRAIN_MS		300	/* time for CLOSEs to leave at exit */
#define SIM_BAD_BURST		5	/* bad-record log lines per second */
#define SIM_HEARTBEAT_S		1.0	/* header-only batch to each gateway */
#define SIM_RESULTS_MAX		1024	/* results waiting for gs-persist */
#define SIM_RESULTS_INFLIGHT	16	/* sent at once */
#define SIM_RESULT_TIMEOUT_MS	5000
#define SIM_RESULT_RETRY_S	2.0
#define SIM_PLAYED_MAX		4096	/* accounts in one match result */
/*
 * Slots of the shared tick schedule (sched.h).  The sim wakes up to
 * tick at most tick_rate * SIM_SCHED_SLOTS times a second whatever the
 * number of rooms, each wake-up running one slot's rooms and sending
 * each gateway one batch.  With 8, a slot's burst is an eighth of a
 * tick's work, and so is the gateway's fan-out of its snapshots: a
 * client's ping waits behind a shorter burst than with 4, and the
 * gateway holds queue buffers for fewer clients at once; 16 shortened
 * the bursts again but cost the sim 2-5 points of a core at 1,000
 * clients in wake-ups and NNG hand-offs (doc/decisions.md); 1 would
 * bunch every room's snapshots into one instant.
 */
#define SIM_SCHED_SLOTS		8
/* A timeout that fires this much later than due means our own loop
 * stalled: its verdict waits this long again, for the inbox. */
#define SIM_STALL_US		1000000ULL

struct sim_conf {
	const char	*game;		/* -g: a name or a path */
	const char	*inbox_url;
	const char	*ctl_url;	/* NULL: no control socket */
	const char	*http;		/* [addr:]port; NULL: no HTTP */
	int		 notify_fd;	/* -1: none */
	int		 log_level;
	unsigned	 tick_rate;
	unsigned	 snapshot_rate;
	unsigned	 room_players;	/* per room */
	unsigned	 max_rooms;
	unsigned	 max_players;	/* in the whole sim */
	unsigned	 inputq;	/* input queue per player */
	unsigned	 room_watchers;	/* spectators per room */
	double		 cell;		/* grid and quantization, units */
	double		 radius;	/* view radius; 0: everything */
	unsigned	 budget;	/* snapshot body bytes per viewer */
	unsigned	 catchup;	/* ticks per wake-up at most */
	long long	 grace_ms;	/* an empty room lives this long */
	long long	 gw_timeout_ms;	/* a silent gateway's players go */
	const char	*persist_url;	/* -P: results go there; NULL: none */
	uint64_t	 seed;
	/* -a: the gateway inbox urls this sim answers; none: any whose
	 * batches come over a connection that proved itself. */
	char		*gateways[SIM_PEERS_MAX];
	unsigned	 ngateways;
};

struct sim_stats {
	struct gs_counter	*ticks;
	struct gs_hist		*tick_seconds;
	struct gs_hist		*drift_seconds;
	struct gs_hist		*snapshot_seconds;
	struct gs_counter	*overruns;
	struct gs_counter	*ticks_dropped;
	struct gs_counter	*inputs_in;
	struct gs_counter	*inputs_applied;
	struct gs_counter	*inputs_queue_full;
	struct gs_counter	*inputs_old;
	struct gs_counter	*inputs_behind;
	struct gs_counter	*inputs_unknown;
	struct gs_counter	*unknown_conn;
	struct gs_counter	*control_dropped;
	struct gs_counter	*inputs_invalid;
	struct gs_counter	*inputs_range;
	struct gs_counter	*inputs_undeclared;
	struct gs_counter	*inputs_cooldown;
	struct gs_counter	*snapshots;
	struct gs_counter	*snapshot_bytes;
	struct gs_counter	*snapshots_dropped;
	struct gs_hist		*snapshot_client_seconds;
	struct gs_counter	*snap_full;
	struct gs_counter	*snap_delta;
	struct gs_counter	*snap_removed;
	struct gs_counter	*snap_shared;
	struct gs_counter	*snap_cut;
	struct gs_counter	*snap_nobase;
	struct gs_counter	*snap_bodies_shared;
	struct gs_counter	*acks;
	struct gs_counter	*acks_bad;
	struct gs_counter	*looks;
	struct gs_counter	*inputs_watcher;
	struct gs_counter	*events;
	struct gs_counter	*batches_in;
	struct gs_counter	*records_in;
	struct gs_counter	*records_out;
	struct gs_counter	*records_dropped;
	struct gs_counter	*batches_out;	/* mirrors of the outboxes */
	struct gs_counter	*records_sent;
	struct gs_counter	*records_unsent;
	struct gs_counter	*stale;
	struct gs_counter	*bad;
	struct gs_counter	*refused;
	struct gs_counter	*joins;
	struct gs_counter	*rejects;
	struct gs_counter	*leaves;
	struct gs_counter	*players_lost;
	struct gs_counter	*rooms_created;
	struct gs_counter	*rooms_ended;
	struct gs_counter	*gateways_lost;
	struct gs_counter	*game_faults;
	struct gs_counter	*rooms_faulted;
	struct gs_counter	*reloads;
	struct gs_counter	*reloads_failed;
	struct gs_counter	*results;
	struct gs_counter	*results_stored, *results_retried;
	struct gs_counter	*results_refused, *results_dropped;
};

/* A loaded game plugin. */
struct sim_plugin {
	void			*dl;		/* dlopen(3) handle */
	const struct gs_game	*game;		/* in dl */
	char			 path[PATH_MAX];
};

struct sim_player;
struct sim_room;

/* A gateway, known by the reply url of its batches. */
struct sim_peer {
	struct sim		*sim;
	struct sim_peer		*next;
	char			 url[GS_URL_MAX];	/* its inbox */
	/* The address the gateway dialed us at (its header's to_url),
	 * echoed in our header so it can tell its sims apart; our own
	 * inbox url when the gateway sent none. */
	char			 via_url[GS_URL_MAX];
	uint64_t		 instance;	/* the gateway process */
	struct gs_outbox	 ob;		/* to its inbox */
	int			 ob_open;
	int			 gone;		/* dropping: send nothing */
	ev_timer		 idle;		/* gateway timeout */
	int			 deferred;	/* timeout judged late once */
	/* Connections told CLOSE for inputs with no player, so that a
	 * burst of their inputs costs one CLOSE each, not one per input. */
	/* Conns told CLOSE lately, for records of players we do not
	 * have (lib/relay.h, Convergence). */
	struct gs_relay_answers	 closed;
	struct sim_player	*conn[SIM_CONN_BUCKETS];
	unsigned		 nplayers;
	uint64_t		 batches;
	uint64_t		 last_us;	/* last batch, gs_now_us() */
};

struct sim_player {
	/* next_conn and conn first: the hash lookup of every record
	 * touches only them (one cache line). */
	struct sim_player	*next_conn;	/* peer's hash chain */
	uint64_t		 conn;		/* the gateway's connection */
	struct sim_peer		*peer;
	struct sim_room		*room;
	uint64_t		 id;		/* unique in this sim */
	unsigned		 slot;		/* index in room->slot[] */
	char			 name[GS_NAME_MAX + 1];
	uint64_t		 joined_us;
	uint64_t		 account;	/* from the token; 0: none */
	struct sim_inputq	 in;		/* inputs not yet applied */
	/* Per input field with a cooldown: the tick from which a non-zero
	 * value passes again. */
	uint64_t		 ready[GS_GAME_INPUTS_MAX];
	/* A spectator: no slot, no entity, no inputs; on the room's
	 * watcher list. */
	bool			 watch;
	struct sim_player	*wprev, *wnext;
	struct sim_view		 view;		/* what it was sent (large) */
};

struct sim_room {
	struct sim		*sim;
	struct sim_room		*prev, *next;
	char			 name[GS_ROOM_MAX + 1];
	uint64_t		 serial;	/* this run's n-th room */
	/* The accounts that played here, for the match result. */
	uint64_t		*played;
	unsigned		 nplayed, capplayed;
	const struct gs_game	*game;		/* in sim->plugin */
	void			*world;		/* the game's */
	void			*reload_world;	/* during a reload only */
	struct sim_ents		 ents;
	uint64_t		 rng;		/* host->random's stream */
	uint64_t		 next_ent_id;	/* ids of nobody's entities */
	struct sim_player	*joining;	/* during game->join only */
	int			 loading;	/* during game->load only */
	/* Why the game broke its interface ("": it has not); the room
	 * makes no more game calls and ends at its next wake-up. */
	char			 fault[GS_TEXT_MAX - 32];
	uint64_t		 tick;		/* ticks done */
	struct sim_tickclock	 clock;
	unsigned		 nplayers;
	struct sim_player	*watchers;
	unsigned		 nwatchers;
	struct sim_repl		 repl;
	uint64_t		 created_us;
	uint64_t		 overruns;
	struct sim_sched_entry	 sched_e;	/* its slot; data: the room */
	ev_timer		 grace_w;	/* runs while empty */
	struct sim_player	*slot[];	/* conf.room_players */
};

struct sim {
	struct ev_loop		*loop;
	struct sim_conf		 conf;
	struct sim_plugin	 plugin;	/* new rooms run this game */
	const struct gs_game	*game;		/* plugin.game */
	uint8_t			*save;		/* scratch: save bytes */
	size_t			 save_cap;
	char			*result;	/* scratch: a match result */
	uint64_t		 instance;	/* ours, random per start */
	uint64_t		 start_us;
	struct gs_inbox		 inbox;
	int			 inbox_open;
	struct gs_post		 post;
	struct gs_ctl		*ctl;
	struct gs_http		*http;
	struct gs_metrics	*metrics;
	struct sim_stats	 st;
	struct gs_wr		 hdr;		/* scratch: a peer's batch header */
	struct gs_wr		 msg;		/* scratch: one client message */
	uint8_t			*body;		/* scratch: a snapshot body */
	uint64_t		 snap_seq;	/* viewers' snapshots built */
	struct gs_wr		 gamemsg;	/* the game message of sim->game */
	struct gs_ratelimit	 rl_bad;
	struct gs_ratelimit	 rl_game;	/* the games' log lines */
	struct sim_pool		 players;
	struct sim_peer		*peers;
	unsigned		 npeers;
	struct sim_room		*rooms;
	unsigned		 nrooms;
	unsigned		 nplayers;
	unsigned		 nwatchers;
	uint64_t		 next_id;	/* player ids */
	int			 stopping;
	/* Outbox statistics of peers already freed, so that the mirrored
	 * counters never go back. */
	uint64_t		 gone_msgs, gone_recs, gone_unsent;
	struct sim_sched	 sched;		/* the rooms' slots */
	ev_timer		 tick_w;	/* the one tick timer */
	ev_timer		 heartbeat;
	ev_signal		 sigterm, sigint, sighup;
	ev_timer		 drain;
	uint64_t		 rooms_made;	/* serials */
	/* Match results to gs-persist (results.c). */
	struct gs_rpc		*pst;
	struct sim_result	*results;	/* oldest first */
	unsigned		 nresults;
	ev_timer		 results_w;
};

/* results.c */
int	sim_results_open(struct sim *sim);
void	sim_results_close(struct sim *sim);
/* Send a room's match result (the JSON text) to gs-persist. */
void	sim_result_put(struct sim_room *room, const char *text, size_t len);

/* peer.c */
size_t	sim_inbox_cb(void *arg, const uint8_t *buf, size_t len,
	    size_t from, enum gs_link_proof proof);
void	sim_peer_free(struct sim_peer *peer);
/* A header-only batch to every gateway (every SIM_HEARTBEAT_S). */
void	sim_heartbeat(struct sim *sim);
/* Mirror the outboxes' statistics into the metrics. */
void	sim_sync_metrics(void *sim);
void	sim_bad(struct sim *sim, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Record senders: count what went out or was dropped. */
void	sim_send_joined(struct sim_player *pl);
void	sim_send_reject(struct sim_peer *peer, uint64_t conn, uint32_t code,
	    const char *text);
void	sim_send_close(struct sim_player *pl, uint32_t code, const char *text);
int	sim_send_frame(struct sim_player *pl, bool reliable, const void *msg,
	    size_t len);
void	sim_peer_link_player(struct sim_peer *peer, struct sim_player *pl);
void	sim_peer_unlink_player(struct sim_peer *peer, struct sim_player *pl);

/* room.c */
struct sim_room	*sim_room_find(struct sim *sim, const char *name);
void	sim_room_free(struct sim_room *room);
/* End a faulted room: its players are closed with the reason, and the
 * room is freed. */
void	sim_room_end_fault(struct sim_room *room);
void	sim_room_conf(const struct sim_room *room, struct gs_room_conf *c);
/* An event to one player (only != NULL) or the whole room. */
void	sim_room_event(struct sim_room *room, struct sim_player *only,
	    uint32_t code, uint64_t player, int64_t value, const char *name);
void	sim_join(struct sim_peer *peer, uint64_t conn, uint64_t account,
	    const char *room, const char *name, bool watch);
void	sim_player_ack(struct sim_player *pl, uint64_t tick);
void	sim_player_look(struct sim_player *pl, double x, double y);
/* Remove a player: the game forgets it, the room hears LEFT. */
void	sim_player_remove(struct sim_player *pl);
void	sim_player_input(struct sim_player *pl, const struct gs_input *in);
/* The shared tick timer: set up (not started: rooms start it), armed
 * for the next slot with rooms (stopped when there are none or the sim
 * is stopping), and stopped. */
void	sim_tick_init(struct sim *sim);
void	sim_tick_arm(struct sim *sim);
void	sim_tick_stop(struct sim *sim);

/* game.c */
extern const struct gs_host	sim_host;
struct gs_room	*sim_gs_room(struct sim_room *room);
/* Load the game named by spec (a name: an installed game; with a
 * slash: a file).  0, or -1 and why in err. */
int	sim_game_open(const char *spec, struct sim_plugin *pl, char *err,
	    size_t errlen);
void	sim_game_close(struct sim_plugin *pl);
/* Fault the room (the first reason sticks; logged and counted). */
void	sim_room_fault(struct sim_room *room, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Replace the game in every room (gs-ctl reload): 0, or -1 with why in
 * err and every room still on the old game. */
int	sim_game_reload(struct sim *sim, const char *spec, char *err,
	    size_t errlen);
/* The game message (gs-protocol(7)) of sim->game into sim->gamemsg. */
int	sim_game_msg(struct sim *sim);

/* control.c */
extern const struct gs_ctl_cmd	sim_ctl_cmds[];
unsigned	sim_ctl_status(void *arg, struct gs_wr *body);
void		sim_metrics_init(struct sim *sim);

#endif
