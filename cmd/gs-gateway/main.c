/*
 * gs-gateway: the client edge.  Flags, start-up, the loop, signals and
 * the drain at exit.  See gateway.h for the map of the files and
 * man/gs-gateway.8 for the user's view.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "util.h"

#define PROG	"gs-gateway"

/* Exactly the SYNOPSIS of man/gs-gateway.8. */
static const char synopsis[] =
    "usage: gs-gateway [-DhV] [-b bytes] [-c url] [-f bytes] "
    "[-H [addr:]port]\n"
    "                  [-j time] [-l level] [-n fd] [-q frames] [-t time] "
    "-i url\n"
    "                  -s url ...\n";

static const struct option longopts[] = {
	{ "queue-bytes",	required_argument,	NULL, 'b' },
	{ "ctl",		required_argument,	NULL, 'c' },
	{ "dev",		no_argument,		NULL, 'D' },
	{ "frame-max",		required_argument,	NULL, 'f' },
	{ "http",		required_argument,	NULL, 'H' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "inbox",		required_argument,	NULL, 'i' },
	{ "join-timeout",	required_argument,	NULL, 'j' },
	{ "log-level",		required_argument,	NULL, 'l' },
	{ "notify-fd",		required_argument,	NULL, 'n' },
	{ "queue-frames",	required_argument,	NULL, 'q' },
	{ "sim",		required_argument,	NULL, 's' },
	{ "sim-timeout",	required_argument,	NULL, 't' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 },
};

/* Flags that GS_* variables may preset; command-line flags win. */
static const struct {
	int		 opt;
	const char	*name;
} envs[] = {
	{ 'b', "GS_GATEWAY_QUEUE_BYTES" },
	{ 'c', "GS_GATEWAY_CTL" },
	{ 'D', "GS_GATEWAY_DEV" },
	{ 'f', "GS_GATEWAY_FRAME_MAX" },
	{ 'H', "GS_GATEWAY_HTTP" },
	{ 'i', "GS_GATEWAY_INBOX" },
	{ 'j', "GS_GATEWAY_JOIN_TIMEOUT" },
	{ 'l', "GS_LOG_LEVEL" },
	{ 'q', "GS_GATEWAY_QUEUE_FRAMES" },
	{ 's', "GS_GATEWAY_SIMS" },
	{ 't', "GS_GATEWAY_SIM_TIMEOUT" },
};

#define GW_SIMS_MAX	256

struct gw_args {
	struct gw_conf	 conf;
	int		 notify_fd;
	int		 log_level;
	char		 http_addr[128];
	char		*sims[GW_SIMS_MAX];
	unsigned	 nsims;
	bool		 sims_from_flags;
	char		*env_sims;	/* strdup of GS_GATEWAY_SIMS */
};

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

/* -H "[addr:]port" (see gs_http_parse_addr); exits 100 on a bad value. */
static void
gw_http_addr(struct gw_args *a, const char *what, const char *s)
{
	if (gs_http_parse_addr(s, a->http_addr, sizeof(a->http_addr),
	    &a->conf.http_iface, &a->conf.http_port) != GS_OK)
		usagex(what, s, "[addr:]port with port 0..65535");
}

static void
gw_add_sim(struct gw_args *a, const char *what, char *url)
{
	if (a->nsims >= GW_SIMS_MAX)
		usagex(what, url, "at most 256 sims");
	if (strlen(url) >= GS_URL_MAX)
		usagex(what, url, "a url shorter than 256 bytes");
	a->sims[a->nsims++] = url;
}

/* GS_GATEWAY_SIMS: URLs separated by white space or commas. */
static void
gw_env_sims(struct gw_args *a, const char *what, const char *v)
{
	char	*p, *url;

	free(a->env_sims);
	a->nsims = 0;
	if ((a->env_sims = strdup(v)) == NULL)
		gs_fatal(GS_EXIT_SYSTEM, "strdup");
	for (p = a->env_sims; *p != '\0';) {
		p += strspn(p, " \t\n,");
		if (*p == '\0')
			break;
		url = p;
		p += strcspn(p, " \t\n,");
		if (*p != '\0')
			*p++ = '\0';
		gw_add_sim(a, what, url);
	}
}

static void
gw_arg_set(struct gw_args *a, int opt, const char *what, char *v,
    bool from_env)
{
	int	lvl;

	switch (opt) {
	case 'b':
		a->conf.queue_bytes = (size_t)gs_arg_int(what, v, 1024,
		    64 * 1024 * 1024, usage);
		break;
	case 'c':
		a->conf.ctl_url = v;
		break;
	case 'D':
		if (!from_env || strcmp(v, "1") == 0 ||
		    strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
			a->conf.dev = true;
		else if (strcmp(v, "0") == 0 || strcmp(v, "no") == 0 ||
		    strcmp(v, "false") == 0)
			a->conf.dev = false;
		else
			usagex(what, v, "1 or 0");
		break;
	case 'f':
		a->conf.frame_max = (size_t)gs_arg_int(what, v, 64,
		    GS_RELAY_FRAME_MAX, usage);
		break;
	case 'H':
		gw_http_addr(a, what, v);
		break;
	case 'i':
		if (strlen(v) >= GS_URL_MAX)
			usagex(what, v, "a url shorter than 256 bytes");
		a->conf.inbox_url = v;
		break;
	case 'j':
		a->conf.join_timeout = (double)gs_arg_ms(what, v, 1000, 100,
		    600000, usage) / 1000.;
		break;
	case 't':
		a->conf.sim_timeout = (double)gs_arg_ms(what, v, 1000, 100,
		    600000, usage) / 1000.;
		break;
	case 'l':
		if ((lvl = gs_log_level_parse(v)) < 0)
			usagex(what, v, "error, warn, info or debug");
		a->log_level = lvl;
		break;
	case 'n':
		a->notify_fd = (int)gs_arg_int(what, v, 0, INT_MAX, usage);
		break;
	case 'q':
		a->conf.queue_frames = (unsigned)gs_arg_int(what, v, 1, 65536,
		    usage);
		break;
	case 's':
		if (from_env)
			gw_env_sims(a, what, v);
		else {
			if (!a->sims_from_flags) {	/* flags replace env */
				a->nsims = 0;
				a->sims_from_flags = true;
			}
			gw_add_sim(a, what, v);
		}
		break;
	default:
		usage();
	}
}

static void
gw_args_parse(struct gw_args *a, int argc, char **argv)
{
	char		 what[4] = "-?";
	const char	*v;
	size_t		 i;
	int		 ch;

	memset(a, 0, sizeof(*a));
	a->notify_fd = -1;
	a->log_level = GS_LOG_INFO;
	a->conf.http_iface = "127.0.0.1";
	a->conf.http_port = 8080;
	a->conf.frame_max = 4096;
	a->conf.queue_frames = 128;
	a->conf.queue_bytes = 256 * 1024;
	a->conf.join_timeout = 5.;
	a->conf.sim_timeout = 3.;

	for (i = 0; i < GS_NELEM(envs); i++)
		if ((v = gs_env(envs[i].name, NULL)) != NULL)
			/* getenv's string lives as long as the process */
			gw_arg_set(a, envs[i].opt, envs[i].name, (char *)v,
			    true);
	while ((ch = getopt_long(argc, argv, "b:c:Df:H:hi:j:l:n:q:s:t:V",
	    longopts, NULL)) != -1) {
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
			gw_arg_set(a, ch, what, optarg, false);
		}
	}
	if (optind != argc) {
		(void)fprintf(stderr, "%s: unexpected argument '%s'\n", PROG,
		    argv[optind]);
		usage();
	}
	if (a->conf.inbox_url == NULL) {
		(void)fprintf(stderr, "%s: -i url is required\n", PROG);
		usage();
	}
	if (a->nsims == 0) {
		(void)fprintf(stderr, "%s: at least one -s url is required\n",
		    PROG);
		usage();
	}
}

/* ------------------------------------------------------------ loop */

static int
gw_ready(void *arg)
{
	struct gw	*gw = arg;

	return gw->ready && !gw->draining;
}

static void
heartbeat_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	gw_heartbeat(w->data);
	gw_sims_check(w->data);
}

/* Runs outside any lws callback, so it may destroy the context. */
static void
finish_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct gw	*gw = w->data;

	ev_idle_stop(loop, &gw->finish);
	gw->finishing = true;
	ev_timer_stop(loop, &gw->drain_timer);
	ev_timer_stop(loop, &gw->heartbeat);
	ev_signal_stop(loop, &gw->sigterm);
	ev_signal_stop(loop, &gw->sigint);
	ev_signal_stop(loop, &gw->sighup);
	gs_signals_ignore();
	/* Clients still open are cut here (CLOSED for each); they were
	 * told SHUTDOWN and their sims LEAVE already. */
	gs_http_stop(gw->http);
	gw->http = NULL;
	gs_post_stop(&gw->post);
	if (gw->ctl != NULL)
		gs_ctl_close(gw->ctl);
	gw->ctl = NULL;
	if (gw->inbox_open)
		gs_inbox_close(&gw->inbox);
	gw->inbox_open = false;
	gw_sims_close(gw);
	gs_log_info("stopped");
	ev_break(loop, EVBREAK_ALL);
}

static void
drain_timer_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gw	*gw = w->data;

	gs_log_info("drain time over clients=%u", gw->nclients);
	ev_idle_start(loop, &gw->finish);
}

/*
 * SIGTERM/SIGINT: refuse new connections, tell every client SHUTDOWN
 * and every sim LEAVE (they leave in this iteration's flush), then give
 * the clients GW_DRAIN_MS to receive it before the context goes.  A
 * second signal finishes at once.
 */
static void
stop_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct gw		*gw = w->data;
	struct gw_client	*c, *nx;

	if (gw->draining) {
		ev_idle_start(loop, &gw->finish);
		return;
	}
	gw->draining = true;
	gs_log_info("stopping signal=%d clients=%u rooms=%u", w->signum,
	    gw->nclients, gw->nrooms);
	for (c = gw->clients; c != NULL; c = nx) {
		nx = c->next;
		gw_client_close(c, GS_PERR_SHUTDOWN, "server shutting down");
	}
	if (gw->nclients == 0)
		ev_idle_start(loop, &gw->finish);
	else
		ev_timer_start(loop, &gw->drain_timer);
}

static void
hup_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	/* Logs go to stderr: nothing to reopen. */
	gs_log_debug("SIGHUP ignored");
}

int
main(int argc, char **argv)
{
	struct gw_args		 a;
	struct gw		 gw;
	struct gs_http_conf	 hc;

	gs_log_init(PROG, GS_LOG_INFO);
	gw_args_parse(&a, argc, argv);
	gs_log_init(PROG, a.log_level);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		gs_fatal(GS_EXIT_SYSTEM, "signal SIGPIPE");

	memset(&gw, 0, sizeof(gw));
	if ((gw.loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		gs_fatalx(GS_EXIT_SYSTEM, "ev_default_loop failed");
	gw.conf = a.conf;
	gw.instance = gs_random_u64();
	gw.start_us = gs_now_us();
	gs_wr_init(&gw.scratch, 256, 4096);
	if ((gw.metrics = gs_metrics_new()) == NULL)
		gs_fatalx(GS_EXIT_SYSTEM, "metrics: out of memory");
	gw_metrics_init(&gw);
	gw_clients_init(&gw);

	gs_post_init(&gw.post, gw.loop);
	gw_sims_open(&gw, a.sims, a.nsims);
	if (gs_inbox_listen(&gw.inbox, gw.loop, gw.conf.inbox_url,
	    GW_INBOX_BUDGET, GW_INBOX_RECVBUF, gw_inbox_cb, &gw) != GS_OK)
		gs_fatalx(GS_EXIT_SYSTEM, "cannot listen on inbox url=%s",
		    gw.conf.inbox_url);
	gw.inbox_open = true;
	if (gw.conf.ctl_url != NULL &&
	    (gw.ctl = gw_ctl_listen(&gw, gw.conf.ctl_url)) == NULL)
		gs_fatalx(GS_EXIT_SYSTEM, "cannot listen on control url=%s",
		    gw.conf.ctl_url);

	memset(&hc, 0, sizeof(hc));
	hc.iface = gw.conf.http_iface;
	hc.port = gw.conf.http_port;
	hc.metrics = gw.metrics;
	hc.ready = gw_ready;
	hc.arg = &gw;
	hc.ws_cb = gw_ws_cb;
	hc.ws_protocol = GS_WS_SUBPROTOCOL;
	hc.ws_user_size = sizeof(struct gw_pss);
	hc.ws_rx_buffer = GS_MAX(gw.conf.frame_max, (size_t)1024);
	if ((gw.http = gs_http_start(gw.loop, &hc)) == NULL)
		gs_fatalx(GS_EXIT_SYSTEM, "cannot serve http on %s:%d",
		    hc.iface != NULL ? hc.iface : "*", hc.port);

	ev_timer_init(&gw.heartbeat, heartbeat_timeout_cb, 1., 1.);
	gw.heartbeat.data = &gw;
	ev_timer_start(gw.loop, &gw.heartbeat);
	ev_signal_init(&gw.sigterm, stop_signal_cb, SIGTERM);
	gw.sigterm.data = &gw;
	ev_signal_start(gw.loop, &gw.sigterm);
	ev_signal_init(&gw.sigint, stop_signal_cb, SIGINT);
	gw.sigint.data = &gw;
	ev_signal_start(gw.loop, &gw.sigint);
	ev_signal_init(&gw.sighup, hup_signal_cb, SIGHUP);
	gw.sighup.data = &gw;
	ev_signal_start(gw.loop, &gw.sighup);
	ev_timer_init(&gw.drain_timer, drain_timer_timeout_cb,
	    GW_DRAIN_MS / 1000., 0.);
	gw.drain_timer.data = &gw;
	ev_idle_init(&gw.finish, finish_idle_cb);
	gw.finish.data = &gw;

	gs_log_info("listening http=%s:%d inbox=%s sims=%u dev=%d "
	    "frame_max=%zu queue_frames=%u queue_bytes=%zu join_timeout=%.3f "
	    "sim_timeout=%.3f",
	    hc.iface != NULL ? hc.iface : "*", gs_http_port(gw.http),
	    gw.conf.inbox_url, gw.nsims, gw.conf.dev ? 1 : 0,
	    gw.conf.frame_max, gw.conf.queue_frames, gw.conf.queue_bytes,
	    gw.conf.join_timeout, gw.conf.sim_timeout);
	gw.ready = true;
	gs_notify_ready(a.notify_fd);

	ev_run(gw.loop, 0);

	gw_clients_free(&gw);
	gs_wr_free(&gw.scratch);
	gs_metrics_free(gw.metrics);
	free(a.env_sims);
	ev_loop_destroy(gw.loop);
	return GS_EXIT_OK;
}
