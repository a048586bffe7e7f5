/*
 * gs-sim: authoritative rooms.  Reads gateway batches from its inbox,
 * runs each room at a fixed tick rate with the game's rules, and sends
 * snapshots and events back to each player's gateway.  See gs-sim(8).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "util.h"

#define PROG	"gs-sim"

/* Exactly the SYNOPSIS of man/gs-sim.8. */
static const char synopsis[] =
"usage: gs-sim [-hV] [-C ticks] [-c url] [-G timeout] [-g grace]\n"
"              [-H [addr:]port] [-l level] [-N players] [-n fd]\n"
"              [-P players] [-q inputs] [-R rooms] [-S seed] [-s rate]\n"
"              [-t rate] -i url\n";

static void __attribute__((noreturn))
usage(void)
{
	(void)fputs(synopsis, stderr);
	exit(GS_EXIT_USAGE);
}

static void __attribute__((noreturn))
usagex(const char *what, const char *v, const char *want)
{
	gs_usage_bad(what, v, want, usage);
}

static const struct option longopts[] = {
	{ "catchup",		required_argument,	NULL, 'C' },
	{ "ctl",		required_argument,	NULL, 'c' },
	{ "gateway-timeout",	required_argument,	NULL, 'G' },
	{ "grace",		required_argument,	NULL, 'g' },
	{ "http",		required_argument,	NULL, 'H' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "inbox",		required_argument,	NULL, 'i' },
	{ "log-level",		required_argument,	NULL, 'l' },
	{ "max-players",	required_argument,	NULL, 'N' },
	{ "notify-fd",		required_argument,	NULL, 'n' },
	{ "room-players",	required_argument,	NULL, 'P' },
	{ "input-queue",	required_argument,	NULL, 'q' },
	{ "max-rooms",		required_argument,	NULL, 'R' },
	{ "seed",		required_argument,	NULL, 'S' },
	{ "snapshot-rate",	required_argument,	NULL, 's' },
	{ "tick-rate",		required_argument,	NULL, 't' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

/* Sets one setting from a flag or an environment variable (what names
 * it in messages).  Bad values exit 100. */
static void
conf_set(struct sim_conf *c, int opt, const char *what, const char *v,
    int *snap_set, int *seed_set)
{
	long long	n;
	int		lvl;

	switch (opt) {
	case 'C':
		c->catchup = (unsigned)gs_arg_int(what, v, 1, 1000, usage);
		break;
	case 'c':
		c->ctl_url = v;
		break;
	case 'G':
		c->gw_timeout_ms = gs_arg_ms(what, v, 1000, 100, 3600000,
		    usage);
		break;
	case 'g':
		c->grace_ms = gs_arg_ms(what, v, 1000, 0, 86400000, usage);
		break;
	case 'H':
		c->http = v;
		break;
	case 'i':
		if (strlen(v) >= GS_URL_MAX)
			usagex(what, v, "an NNG url of under 256 bytes");
		c->inbox_url = v;
		break;
	case 'l':
		if ((lvl = gs_log_level_parse(v)) < 0)
			usagex(what, v, "error, warn, info or debug");
		c->log_level = lvl;
		break;
	case 'N':
		c->max_players = (unsigned)gs_arg_int(what, v, 1, 1000000,
		    usage);
		break;
	case 'n':
		c->notify_fd = (int)gs_arg_int(what, v, 0, INT_MAX, usage);
		break;
	case 'P':
		c->room_players = (unsigned)gs_arg_int(what, v, 1, 1024,
		    usage);
		break;
	case 'q':
		c->inputq = (unsigned)gs_arg_int(what, v, 1, SIM_INPUTQ_MAX,
		    usage);
		break;
	case 'R':
		c->max_rooms = (unsigned)gs_arg_int(what, v, 1, 100000,
		    usage);
		break;
	case 'S':
		if (gs_parse_ll(v, 0, LLONG_MAX, &n) != GS_OK)
			usagex(what, v, "0..9223372036854775807");
		c->seed = (uint64_t)n;
		*seed_set = 1;
		break;
	case 's':
		c->snapshot_rate = (unsigned)gs_arg_int(what, v, 1, 128,
		    usage);
		*snap_set = 1;
		break;
	case 't':
		c->tick_rate = (unsigned)gs_arg_int(what, v, 1, 128, usage);
		break;
	default:
		usage();
	}
}

static const struct {
	int		 opt;
	const char	*name;
} envs[] = {
	{ 'C', "GS_SIM_CATCHUP" },
	{ 'c', "GS_SIM_CTL" },
	{ 'G', "GS_SIM_GATEWAY_TIMEOUT" },
	{ 'g', "GS_SIM_GRACE" },
	{ 'H', "GS_SIM_HTTP" },
	{ 'i', "GS_SIM_INBOX" },
	{ 'l', "GS_LOG_LEVEL" },
	{ 'N', "GS_SIM_MAX_PLAYERS" },
	{ 'P', "GS_SIM_ROOM_PLAYERS" },
	{ 'q', "GS_SIM_INPUT_QUEUE" },
	{ 'R', "GS_SIM_MAX_ROOMS" },
	{ 'S', "GS_SIM_SEED" },
	{ 's', "GS_SIM_SNAPSHOT_RATE" },
	{ 't', "GS_SIM_TICK_RATE" },
};

static void
conf_parse(struct sim_conf *c, int argc, char **argv)
{
	char		 what[4] = "-?";
	const char	*v;
	size_t		 i;
	int		 ch, snap_set = 0, seed_set = 0;

	memset(c, 0, sizeof(*c));
	c->notify_fd = -1;
	c->log_level = GS_LOG_INFO;
	c->tick_rate = 30;
	c->room_players = 64;
	c->max_rooms = 1000;
	c->max_players = 10000;
	c->inputq = 16;
	c->catchup = 4;
	c->grace_ms = 10000;
	c->gw_timeout_ms = 10000;

	for (i = 0; i < GS_NELEM(envs); i++)
		if ((v = gs_env(envs[i].name, NULL)) != NULL)
			conf_set(c, envs[i].opt, envs[i].name, v, &snap_set,
			    &seed_set);
	while ((ch = getopt_long(argc, argv,
	    "C:c:G:g:H:hi:l:N:n:P:q:R:S:s:t:V", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			(void)fputs(synopsis, stdout);
			exit(GS_EXIT_OK);
		case 'V':
			(void)printf("%s %s\n", PROG, GS_VERSION);
			exit(GS_EXIT_OK);
		case '?':
			usage();
		default:
			what[1] = (char)ch;
			conf_set(c, ch, what, optarg, &snap_set, &seed_set);
		}
	}
	if (optind != argc) {
		(void)fprintf(stderr, "%s: unexpected argument '%s'\n", PROG,
		    argv[optind]);
		usage();
	}
	if (c->inbox_url == NULL) {
		(void)fprintf(stderr, "%s: -i url is required\n", PROG);
		usage();
	}
	if (!snap_set)
		c->snapshot_rate = c->tick_rate;
	if (c->snapshot_rate > c->tick_rate) {
		(void)fprintf(stderr, "%s: snapshot rate %u is above the tick "
		    "rate %u\n", PROG, c->snapshot_rate, c->tick_rate);
		usage();
	}
	if (!seed_set)
		c->seed = gs_random_u64() >> 1;
}

/* -H: exits 100 on a bad value. */
static void
http_addr(const char *s, char *addr, size_t cap, struct gs_http_conf *hc)
{
	if (gs_http_parse_addr(s, addr, cap, &hc->iface, &hc->port) != GS_OK)
		usagex("-H", s, "[addr:]port with port 0..65535");
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
	for (room = sim->rooms; room != NULL; room = room->next) {
		ev_timer_stop(sim->loop, &room->tick_w);
		ev_timer_stop(sim->loop, &room->grace_w);
	}
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
		gs_log_info("signal=HUP ignored: logs go to stderr");
		return;
	}
	if (sim->stopping) {
		gs_log_info("signal=%d again: exiting now", w->signum);
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	gs_log_info("signal=%s", w->signum == SIGTERM ? "TERM" : "INT");
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
	if (sim->inbox_open)
		gs_inbox_close(&sim->inbox);
	if (sim->ctl != NULL)
		gs_ctl_close(sim->ctl);
	if (sim->http != NULL)
		gs_http_stop(sim->http);
	ev_timer_stop(sim->loop, &sim->heartbeat);
	ev_timer_stop(sim->loop, &sim->drain);
	ev_signal_stop(sim->loop, &sim->sigterm);
	ev_signal_stop(sim->loop, &sim->sigint);
	ev_signal_stop(sim->loop, &sim->sighup);
	gs_signals_ignore();
	sim_pool_destroy(&sim->players);
	gs_wr_free(&sim->hdr);
	gs_wr_free(&sim->ents);
	gs_wr_free(&sim->msg);
	free(sim->entbuf);
	gs_metrics_free(sim->metrics);
}

int
main(int argc, char **argv)
{
	static struct sim	 sim;	/* large: conn hashes live in peers */
	struct gs_http_conf	 hc;
	char			 haddr[256];

	gs_log_init(PROG, GS_LOG_INFO);	/* names us in flag errors */
	conf_parse(&sim.conf, argc, argv);
	gs_log_init(PROG, sim.conf.log_level);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		gs_fatal(GS_EXIT_SYSTEM, "signal SIGPIPE");
	memset(&hc, 0, sizeof(hc));
	if (sim.conf.http != NULL)
		http_addr(sim.conf.http, haddr, sizeof(haddr), &hc);

	if ((sim.loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		gs_fatalx(GS_EXIT_SYSTEM, "ev_default_loop failed");
	sim.game = &sim_arena;
	sim.instance = gs_random_u64();
	sim.start_us = gs_now_us();
	sim_pool_init(&sim.players, sizeof(struct sim_player),
	    sim.conf.max_players);
	if ((sim.entbuf = calloc(GS_ENTITIES_MAX, sizeof(*sim.entbuf))) ==
	    NULL)
		gs_fatal(GS_EXIT_SYSTEM, "calloc entities");
	gs_wr_init(&sim.ents, 4096, GS_RELAY_FRAME_MAX);
	gs_wr_init(&sim.msg, 4096, GS_RELAY_FRAME_MAX);
	gs_wr_init(&sim.hdr, 512, 1024);
	sim_metrics_init(&sim);

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
	ev_timer_init(&sim.heartbeat, heartbeat_cb, SIM_HEARTBEAT_S,
	    SIM_HEARTBEAT_S);
	sim.heartbeat.data = &sim;
	ev_timer_start(sim.loop, &sim.heartbeat);
	sim_signal(&sim, &sim.sigterm, SIGTERM);
	sim_signal(&sim, &sim.sigint, SIGINT);
	sim_signal(&sim, &sim.sighup, SIGHUP);

	gs_log_info("start version=%s inbox=%s ctl=%s http=%s http_port=%d "
	    "game=%s tick_rate=%u snapshot_rate=%u room_players=%u seed=%llu "
	    "instance=%016llx", GS_VERSION, sim.conf.inbox_url,
	    sim.conf.ctl_url != NULL ? sim.conf.ctl_url : "-",
	    sim.http != NULL ? (hc.iface != NULL ? hc.iface : "*") : "-",
	    sim.http != NULL ? gs_http_port(sim.http) : -1, sim.game->name,
	    sim.conf.tick_rate, sim.conf.snapshot_rate,
	    sim.conf.room_players, (unsigned long long)sim.conf.seed,
	    (unsigned long long)sim.instance);
	gs_notify_ready(sim.conf.notify_fd);

	ev_run(sim.loop, 0);

	sim_free(&sim);
	gs_log_info("exit");
	return GS_EXIT_OK;
}
