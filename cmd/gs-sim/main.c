/*
 * gs-sim: authoritative rooms.  Reads gateway batches from its inbox,
 * runs each room at a fixed tick rate with the game's rules, and sends
 * snapshots and events back to each player's gateway.  See gs-sim(8).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "link.h"
#include "opt.h"
#include "util.h"

#define PROG	"gs-sim"

/* Exactly the SYNOPSIS of man/gs-sim.8. */
static const char synopsis[] =
"usage: gs-sim [-hV] [-a url ...] [-B bytes] [-C ticks] [-c url]\n"
"              [-e grace] [-G timeout] [-g game] [-H [addr:]port]\n"
"              [-l level] [-N players] [-n fd] [-P players] [-p url]\n"
"              [-q inputs] [-R rooms] [-S seed] [-s rate] [-t rate]\n"
"              [-v radius] [-W watchers] [-z cell] [--ipc-group]\n"
"              [--tls-ca file] [--tls-cert file] [--tls-key file]\n"
"              [--trusted-network] -i url\n";

/* Settings from flags and GS_SIM_* variables (opt.h). */
struct sim_args {
	struct sim_conf	 conf;
	char		 haddr[256];	/* -H: the address part */
	const char	*iface;		/* -H: NULL, every address */
	int		 port;
	struct gs_link_conf link;
};

/* -H "[addr:]port" (gs_http_parse_addr). */
static int
sim_opt_http(void *base, const char *v, char *why, size_t whylen)
{
	struct sim_args	*a = base;

	a->conf.http = v;
	return gs_http_parse_addr(v, a->haddr, sizeof(a->haddr), &a->iface,
	    &a->port) == GS_OK ? 0 : -1;
}

#define AT(m)	GS_OPT_AT(struct sim_args, conf.m)

static const struct gs_opt sim_opts[] = {
	{ 'a', "gateway", "GS_SIM_GATEWAYS", GS_OPT_LIST, AT(gateways),
	  .count_off = offsetof(struct sim_args, conf.ngateways),
	  .max = GS_URL_MAX },
	{ 'B', "budget", "GS_SIM_BUDGET", GS_OPT_INT, AT(budget),
	  .min = 0, .max = GS_SNAP_BODY_MAX },
	{ 'C', "catchup", "GS_SIM_CATCHUP", GS_OPT_INT, AT(catchup),
	  .min = 1, .max = 1000 },
	{ 'c', "ctl", "GS_SIM_CTL", GS_OPT_STR, AT(ctl_url),
	  .max = GS_URL_MAX },
	{ 'e', "grace", "GS_SIM_GRACE", GS_OPT_MS, AT(grace_ms),
	  .min = 0, .max = 86400000 },
	{ 'G', "gateway-timeout", "GS_SIM_GATEWAY_TIMEOUT", GS_OPT_MS,
	  AT(gw_timeout_ms), .min = 100, .max = 3600000 },
	{ 'g', "game", "GS_SIM_GAME", GS_OPT_STR, AT(game),
	  .max = PATH_MAX - 1 },
	{ 'H', "http", "GS_SIM_HTTP", GS_OPT_FN, AT(http), .fn = sim_opt_http,
	  .want = "[addr:]port with port 0..65535" },
	{ 'i', "inbox", "GS_SIM_INBOX", GS_OPT_STR, AT(inbox_url),
	  .max = GS_URL_MAX, .flags = GS_OPT_REQUIRED },
	{ 'l', "log-level", "GS_LOG_LEVEL", GS_OPT_LEVEL, AT(log_level) },
	{ 'N', "max-players", "GS_SIM_MAX_PLAYERS", GS_OPT_INT,
	  AT(max_players), .min = 1, .max = 1000000 },
	{ 'n', "notify-fd", NULL, GS_OPT_INT, AT(notify_fd),
	  .min = 0, .max = INT_MAX },
	{ 'P', "room-players", "GS_SIM_ROOM_PLAYERS", GS_OPT_INT,
	  AT(room_players), .min = 1, .max = 1024 },
	{ 'p', "persist", "GS_SIM_PERSIST", GS_OPT_STR, AT(persist_url),
	  .max = GS_URL_MAX },
	{ 'q', "input-queue", "GS_SIM_INPUT_QUEUE", GS_OPT_INT, AT(inputq),
	  .min = 1, .max = SIM_INPUTQ_MAX },
	{ 'R', "max-rooms", "GS_SIM_MAX_ROOMS", GS_OPT_INT, AT(max_rooms),
	  .min = 1, .max = 100000 },
	{ 'S', "seed", "GS_SIM_SEED", GS_OPT_INT, AT(seed),
	  .min = 0, .max = LLONG_MAX },
	{ 's', "snapshot-rate", "GS_SIM_SNAPSHOT_RATE", GS_OPT_INT,
	  AT(snapshot_rate), .min = 1, .max = 128 },
	{ 't', "tick-rate", "GS_SIM_TICK_RATE", GS_OPT_INT, AT(tick_rate),
	  .min = 1, .max = 128 },
	{ 'v', "view-radius", "GS_SIM_VIEW_RADIUS", GS_OPT_REAL,
	  AT(radius), .min = 0, .max = 1000000000 },
	{ 'W', "room-watchers", "GS_SIM_ROOM_WATCHERS", GS_OPT_INT,
	  AT(room_watchers), .min = 0, .max = 100000 },
	{ 'z', "cell", "GS_SIM_CELL", GS_OPT_REAL, AT(cell),
	  .min = 0, .max = 1000000000, .flags = GS_OPT_ABOVE_MIN },
	GS_LINK_OPTS(struct sim_args, link),
	{ 0 }
};

static const struct gs_opt_prog sim_prog = { PROG, synopsis, sim_opts,
	false };

static void
sim_args_parse(struct sim_args *a, int argc, char **argv)
{
	struct sim_conf	*c = &a->conf;
	unsigned	 i;

	memset(a, 0, sizeof(*a));
	c->game = "arena";
	c->notify_fd = -1;
	c->log_level = GS_LOG_INFO;
	c->tick_rate = 30;
	c->snapshot_rate = 0;		/* not given: the tick rate */
	c->room_players = 64;
	c->max_rooms = 1000;
	c->max_players = 10000;
	c->inputq = 16;
	c->room_watchers = 64;
	c->cell = 1024;
	c->radius = 0;
	c->budget = 1200;
	c->catchup = 4;
	c->grace_ms = 10000;
	c->gw_timeout_ms = 10000;
	c->seed = UINT64_MAX;		/* not given: random (-S is 63 bits) */
	(void)gs_opt_parse(&sim_prog, a, argc, argv);
	if (c->snapshot_rate == 0)
		c->snapshot_rate = c->tick_rate;
	if (c->snapshot_rate > c->tick_rate)
		gs_opt_fail(&sim_prog, "snapshot rate %u is above the tick "
		    "rate %u", c->snapshot_rate, c->tick_rate);
	if (c->seed == UINT64_MAX)
		c->seed = gs_random_u64() >> 1;
	gs_link_opt_setup(&sim_prog, &a->link);
	gs_link_opt_check(&sim_prog, "-i", c->inbox_url, GS_LINK_LISTEN);
	gs_link_opt_check(&sim_prog, "-c", c->ctl_url, GS_LINK_LISTEN);
	gs_link_opt_check(&sim_prog, "-p", c->persist_url, GS_LINK_DIAL);
	for (i = 0; i < c->ngateways; i++)
		gs_link_opt_check(&sim_prog, "-a", c->gateways[i],
		    GS_LINK_DIAL);
	if (c->ngateways == 0 && !gs_link_can_prove(c->inbox_url))
		gs_opt_fail(&sim_prog, "-i %s: a plain tcp inbox cannot tell "
		    "who sends: name the gateways it answers with -a",
		    c->inbox_url);
}

static void
heartbeat_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	sim_heartbeat(w->data);
}

static void
drain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

/*
 * Start of shutdown: stop reading and ticking, tell every player's
 * gateway that the player's stay is over, then give the post office
 * SIM_DRAIN_MS to hand the CLOSEs to NNG before the sockets close
 * (nng_close may drop what is still queued).
 */
static void
sim_stop(struct sim *sim)
{
	struct sim_room	*room;
	struct sim_peer	*peer;
	struct sim_player *pl;
	unsigned	 i;

	sim->stopping = 1;
	gs_log_info("stopping rooms=%u players=%u gateways=%u", sim->nrooms,
	    sim->nplayers, sim->npeers);
	if (sim->inbox_open) {
		gs_inbox_close(&sim->inbox);
		sim->inbox_open = 0;
	}
	ev_timer_stop(sim->loop, &sim->heartbeat);
	sim_tick_stop(sim);
	for (room = sim->rooms; room != NULL; room = room->next)
		ev_timer_stop(sim->loop, &room->grace_w);
	for (peer = sim->peers; peer != NULL; peer = peer->next) {
		ev_timer_stop(sim->loop, &peer->idle);
		for (i = 0; i < SIM_CONN_BUCKETS; i++)
			for (pl = peer->conn[i]; pl != NULL;
			    pl = pl->next_conn)
				sim_send_close(pl, GS_PERR_SHUTDOWN,
				    "server shutting down");
	}
	ev_timer_init(&sim->drain, drain_cb, SIM_DRAIN_MS / 1000.0, 0);
	ev_timer_start(sim->loop, &sim->drain);
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct sim	*sim = w->data;

	if (w->signum == SIGHUP) {
		gs_log_info("signal ignored signal=HUP logs=stderr");
		return;
	}
	if (sim->stopping) {
		gs_log_info("exiting now signal=%d again=1", w->signum);
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	gs_log_info("signal received signal=%s",
	    w->signum == SIGTERM ? "TERM" : "INT");
	sim_stop(sim);
}

static void
sim_signal(struct sim *sim, ev_signal *w, int signum)
{
	ev_signal_init(w, signal_cb, signum);
	w->data = sim;
	ev_signal_start(sim->loop, w);
}

static void
sim_free(struct sim *sim)
{
	sim->stopping = 1;
	gs_post_stop(&sim->post);	/* last flush */
	while (sim->peers != NULL)
		sim_peer_free(sim->peers);
	while (sim->rooms != NULL)
		sim_room_free(sim->rooms);
	sim_results_close(sim);
	if (sim->inbox_open)
		gs_inbox_close(&sim->inbox);
	if (sim->ctl != NULL)
		gs_ctl_close(sim->ctl);
	if (sim->http != NULL)
		gs_http_stop(sim->http);
	sim_tick_stop(sim);
	ev_timer_stop(sim->loop, &sim->heartbeat);
	ev_timer_stop(sim->loop, &sim->drain);
	ev_signal_stop(sim->loop, &sim->sigterm);
	ev_signal_stop(sim->loop, &sim->sigint);
	ev_signal_stop(sim->loop, &sim->sighup);
	gs_signals_ignore();
	sim_pool_destroy(&sim->players);
	sim_game_close(&sim->plugin);
	free(sim->save);
	free(sim->result);
	gs_wr_free(&sim->hdr);
	gs_wr_free(&sim->msg);
	free(sim->body);
	gs_wr_free(&sim->gamemsg);
	gs_metrics_free(sim->metrics);
	gs_link_cleanup();
}

int
main(int argc, char **argv)
{
	static struct sim	 sim;	/* large: conn hashes live in peers */
	static struct sim_args	 a;	/* haddr: for the life of http */
	struct gs_http_conf	 hc;
	char			 err[1024];

	gs_log_init(PROG, GS_LOG_INFO);
	sim_args_parse(&a, argc, argv);
	sim.conf = a.conf;
	gs_log_init(PROG, sim.conf.log_level);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		gs_fatal(GS_EXIT_SYSTEM, "cannot ignore SIGPIPE call=signal");
	memset(&hc, 0, sizeof(hc));
	hc.iface = a.iface;
	hc.port = a.port;

	if ((sim.loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		gs_fatalx(GS_EXIT_SYSTEM, "ev_default_loop failed");
	if (sim_game_open(sim.conf.game, &sim.plugin, err, sizeof(err)) != 0)
		gs_fatalx(GS_EXIT_RUNTIME, "cannot load game game=%s why=\"%s\"",
		    sim.conf.game, err);
	sim.game = sim.plugin.game;
	if ((sim.result = malloc(GS_GAME_RESULT_MAX)) == NULL)
		gs_fatal(GS_EXIT_SYSTEM, "out of memory call=malloc what=result");
	sim.instance = gs_random_u64();
	sim.start_us = gs_now_us();
	sim_pool_init(&sim.players, sizeof(struct sim_player),
	    sim.conf.max_players);
	if ((sim.body = malloc(GS_SNAP_BODY_MAX)) == NULL)
		gs_fatal(GS_EXIT_SYSTEM, "out of memory call=malloc what=body");
	gs_wr_init(&sim.gamemsg, 1024, GS_MSG_MAX);
	if (sim_game_msg(&sim) != GS_OK)
		gs_fatalx(GS_EXIT_RUNTIME, "game message too large game=%s",
		    sim.game->name);
	gs_wr_init(&sim.msg, 4096, GS_MSG_MAX);
	gs_wr_init(&sim.hdr, 512, 1024);
	sim_metrics_init(&sim);
	sim_tick_init(&sim);

	gs_post_init(&sim.post, sim.loop);
	if (gs_inbox_listen(&sim.inbox, sim.loop, sim.conf.inbox_url,
	    SIM_INBOX_BUDGET, SIM_INBOX_RECVBUF, sim_inbox_cb, &sim) != GS_OK)
		gs_fatalx(GS_EXIT_SYSTEM, "inbox listen failed url=%s",
		    sim.conf.inbox_url);
	sim.inbox_open = 1;
	if (sim.conf.ctl_url != NULL &&
	    (sim.ctl = gs_ctl_listen(sim.loop, sim.conf.ctl_url, sim_ctl_cmds,
	    sim_ctl_status, sim.metrics, &sim)) == NULL)
		gs_fatalx(GS_EXIT_SYSTEM, "control socket failed url=%s",
		    sim.conf.ctl_url);
	if (sim.conf.http != NULL) {
		hc.metrics = sim.metrics;
		hc.arg = &sim;
		if ((sim.http = gs_http_start(sim.loop, &hc)) == NULL)
			gs_fatalx(GS_EXIT_SYSTEM, "http failed addr=%s",
			    sim.conf.http);
	}
	if (sim_results_open(&sim) != 0)
		gs_fatalx(GS_EXIT_SYSTEM, "cannot reach gs-persist url=%s",
		    sim.conf.persist_url);
	ev_timer_init(&sim.heartbeat, heartbeat_cb, SIM_HEARTBEAT_S,
	    SIM_HEARTBEAT_S);
	sim.heartbeat.data = &sim;
	ev_timer_start(sim.loop, &sim.heartbeat);
	sim_signal(&sim, &sim.sigterm, SIGTERM);
	sim_signal(&sim, &sim.sigint, SIGINT);
	sim_signal(&sim, &sim.sighup, SIGHUP);

	gs_log_info("start version=%s inbox=%s ctl=%s http=%s http_port=%d "
	    "game=%s game_version=%s game_path=%s tick_rate=%u snapshot_rate=%u "
	    "room_players=%u seed=%llu instance=%016llx", GS_VERSION,
	    sim.conf.inbox_url,
	    sim.conf.ctl_url != NULL ? sim.conf.ctl_url : "-",
	    sim.http != NULL ? (hc.iface != NULL ? hc.iface : "*") : "-",
	    sim.http != NULL ? gs_http_port(sim.http) : -1, sim.game->name,
	    sim.game->version, sim.plugin.path,
	    sim.conf.tick_rate, sim.conf.snapshot_rate,
	    sim.conf.room_players, (unsigned long long)sim.conf.seed,
	    (unsigned long long)sim.instance);
	gs_notify_ready(sim.conf.notify_fd);

	ev_run(sim.loop, 0);

	sim_free(&sim);
	gs_log_info("exit");
	return GS_EXIT_OK;
}
