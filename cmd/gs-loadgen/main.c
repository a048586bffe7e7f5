/*
 * gs-loadgen: flags, the lws context on the libev loop, the one tick
 * timer that drives every client, the end of the run, the report.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <ev.h>
#include <libwebsockets.h>

#include "loadgen.h"
#include "log.h"
#include "util.h"

#define LG_GRACE_MS	2000	/* closing: wait this long for closes */
#define LG_FDS_EXTRA	64	/* descriptors beside the clients' */

static void	usage(void);

static void
usage(void)
{
	fprintf(stderr, "usage: gs-loadgen [-hjmVv] [-d duration] "
	    "[-n clients] [-p players] [-R room] [-r rate] [-u url]\n");
}

/*
 * Split ws://host[:port][/path] into conf.  IPv6 literals go in
 * brackets.  wss:// is refused: the context is built without TLS.
 * Returns 0, or -1 with a message printed.
 */
static int
lg_parse_url(struct lg_conf *cf, const char *url)
{
	const char	*p, *hs, *he, *ps;
	long long	 port = 80;
	char		 num[8];
	size_t		 n;

	if (gs_strlcpy(cf->url, url, sizeof(cf->url)) != GS_OK)
		goto bad;
	if (strncmp(url, "wss://", 6) == 0) {
		fprintf(stderr, "gs-loadgen: %s: wss:// is not supported "
		    "yet\n", url);
		return -1;
	}
	if (strncmp(url, "ws://", 5) != 0)
		goto bad;
	p = url + 5;
	if (*p == '[') {
		hs = p + 1;
		if ((he = strchr(hs, ']')) == NULL)
			goto bad;
		p = he + 1;
	} else {
		hs = p;
		he = p + strcspn(p, ":/");
		p = he;
	}
	if (he == hs || (size_t)(he - hs) >= sizeof(cf->host))
		goto bad;
	memcpy(cf->host, hs, (size_t)(he - hs));
	cf->host[he - hs] = '\0';
	if (*p == ':') {
		ps = ++p;
		n = strcspn(p, "/");
		if (n == 0 || n >= sizeof(num))
			goto bad;
		memcpy(num, ps, n);
		num[n] = '\0';
		if (gs_parse_ll(num, 1, 65535, &port) != GS_OK)
			goto bad;
		p += n;
	}
	if (*p != '\0' && *p != '/')
		goto bad;
	if (gs_strlcpy(cf->path, *p == '\0' ? "/" : p, sizeof(cf->path)) !=
	    GS_OK)
		goto bad;
	cf->port = (int)port;
	snprintf(cf->hosthdr, sizeof(cf->hosthdr), "%s:%d", cf->host,
	    cf->port);
	return 0;
bad:
	fprintf(stderr, "gs-loadgen: %s: bad URL (want ws://host[:port]"
	    "[/path])\n", url);
	return -1;
}

/* Soft RLIMIT_NOFILE up to the hard one: 500 clients need 500 fds. */
static void
lg_raise_nofile(int need)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		gs_fatal(GS_EXIT_SYSTEM, "msg=getrlimit");
	if (rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			gs_fatal(GS_EXIT_SYSTEM, "msg=setrlimit");
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)need)
		gs_fatalx(GS_EXIT_SYSTEM, "msg=\"RLIMIT_NOFILE too low\" "
		    "limit=%llu need=%d", (unsigned long long)rl.rlim_cur,
		    need);
}

/* lws logs through gs_log, one line each, without its newline. */
static void
lg_lws_log_cb(int level, const char *line)
{
	size_t	n = strlen(line);

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (level & LLL_ERR)
		gs_log_warnx("lws=\"%.*s\"", (int)n, line);
	else
		gs_log_debug("lws=\"%.*s\"", (int)n, line);
}

static void
lg_timer_set(struct lg *lg, double hz)
{
	lg->tick_hz = hz;
	ev_timer_stop(lg->loop, &lg->tick);
	ev_timer_set(&lg->tick, 1.0 / hz, 1.0 / hz);
	ev_timer_start(lg->loop, &lg->tick);
}

void
lg_tick_rate(struct lg *lg, uint32_t hz)
{
	if (hz > lg->tick_hz && lg->phase == LG_RUN)
		lg_timer_set(lg, hz);
}

/* Everything periodic: ramp, welcome timeouts, inputs, pings. */
static void
lg_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct lg	*lg = w->data;
	uint64_t	 now = gs_now_us(), due, slack;
	int		 i;

	if (lg->phase != LG_RUN)
		return;
	if (lg->conf.rate == 0)
		due = (uint64_t)lg->conf.nclients;
	else
		due = (now - lg->t0) * (uint64_t)lg->conf.rate / 1000000 + 1;
	while (lg->nstarted < lg->conf.nclients &&
	    (uint64_t)lg->nstarted < due) {
		lg_client_start(&lg->clients[lg->nstarted], now);
		lg->nstarted++;
		if (lg->phase != LG_RUN)
			return;
	}
	slack = (uint64_t)(500000.0 / lg->tick_hz);
	for (i = 0; i < lg->nstarted; i++)
		(void)lg_client_tick(&lg->clients[i], now, slack);
}

static void
lg_done(struct lg *lg)
{
	lg->phase = LG_DONE;
	ev_timer_stop(lg->loop, &lg->tick);
	ev_timer_stop(lg->loop, &lg->stop);
	ev_signal_stop(lg->loop, &lg->sigint);
	ev_signal_stop(lg->loop, &lg->sigterm);
	if (lg->ctx != NULL) {
		/* Closes what is still open; leaves no watchers behind. */
		lws_context_destroy(lg->ctx);
		lg->ctx = NULL;
	}
}

/* End of the run: bye to every client, then wait for the closes. */
static void
lg_finish(struct lg *lg)
{
	int	i;

	if (lg->phase != LG_RUN)
		return;
	lg->phase = LG_CLOSING;
	lg->t_end = gs_now_us();
	ev_timer_stop(lg->loop, &lg->tick);
	for (i = 0; i < lg->nstarted; i++)
		lg_client_finish(&lg->clients[i]);
	ev_timer_stop(lg->loop, &lg->stop);
	ev_timer_set(&lg->stop, lg->nlive == 0 ? 0. : LG_GRACE_MS / 1000.,
	    0.);
	ev_timer_start(lg->loop, &lg->stop);
}

void
lg_gone(struct lg *lg)
{
	lg->nlive--;
	if (lg->nlive == 0 && lg->phase == LG_CLOSING) {
		/* Not lws_context_destroy() from inside an lws callback:
		 * let the stop timer do it on the next loop iteration. */
		ev_timer_stop(lg->loop, &lg->stop);
		ev_timer_set(&lg->stop, 0., 0.);
		ev_timer_start(lg->loop, &lg->stop);
	}
}

static void
lg_stop_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct lg	*lg = w->data;

	if (lg->phase == LG_RUN)
		lg_finish(lg);
	else
		lg_done(lg);
}

/* First signal: end the run now, report as usual.  Second: stop. */
static void
lg_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct lg	*lg = w->data;

	gs_log_info("msg=signal sig=%d", w->signum);
	if (lg->phase == LG_RUN)
		lg_finish(lg);
	else
		lg_done(lg);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "clients",	required_argument,	NULL, 'n' },
		{ "duration",	required_argument,	NULL, 'd' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "motion",	no_argument,		NULL, 'm' },
		{ "players",	required_argument,	NULL, 'p' },
		{ "rate",	required_argument,	NULL, 'r' },
		{ "room",	required_argument,	NULL, 'R' },
		{ "url",	required_argument,	NULL, 'u' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	static struct lg		 lg;
	struct lg_conf			*cf = &lg.conf;
	struct lws_context_creation_info info;
	void				*loops[1];
	const char			*url;
	int				 ch, i, rc;

	gs_log_init("gs-loadgen", GS_LOG_WARN);
	cf->nclients = 10;
	cf->rate = 100;
	cf->per_room = 8;
	cf->duration_ms = 10000;
	cf->welcome_ms = 10000;
	url = gs_env("GS_URL", "ws://127.0.0.1:8080/");
	while ((ch = getopt_long(argc, argv, "d:hjmn:p:R:r:u:Vv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			cf->duration_ms = gs_arg_ms("-d", optarg, 1000, 1,
			    7LL * 24 * 3600 * 1000, usage);
			break;
		case 'h':
			usage();
			return GS_EXIT_OK;
		case 'j':
			cf->json = 1;
			break;
		case 'm':
			cf->motion = 1;
			break;
		case 'n':
			cf->nclients = (int)gs_arg_int("-n", optarg, 1, 100000,
			    usage);
			break;
		case 'p':
			cf->per_room = (int)gs_arg_int("-p", optarg, 1, 100000,
			    usage);
			break;
		case 'R':
			if (!gs_name_valid(optarg, GS_ROOM_MAX)) {
				fprintf(stderr, "gs-loadgen: -R: bad room "
				    "name '%s' (want 1..%d of [A-Za-z0-9_.-])"
				    "\n", optarg, GS_ROOM_MAX);
				usage();
				return GS_EXIT_USAGE;
			}
			cf->room = optarg;
			break;
		case 'r':
			cf->rate = (int)gs_arg_int("-r", optarg, 0, 1000000,
			    usage);
			break;
		case 'u':
			url = optarg;
			break;
		case 'V':
			printf("gs-loadgen %s\n", GS_VERSION);
			return GS_EXIT_OK;
		case 'v':
			cf->verbose++;
			break;
		default:
			usage();
			return GS_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage();
		return GS_EXIT_USAGE;
	}
	if (lg_parse_url(cf, url) != 0) {
		usage();
		return GS_EXIT_USAGE;
	}
	gs_log_init("gs-loadgen", cf->verbose > 1 ? GS_LOG_DEBUG :
	    cf->verbose > 0 ? GS_LOG_INFO : GS_LOG_WARN);
	lws_set_log_level(cf->verbose > 1 ? LLL_ERR | LLL_WARN : LLL_ERR,
	    lg_lws_log_cb);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		gs_fatal(GS_EXIT_SYSTEM, "msg=signal");
	lg_raise_nofile(cf->nclients + LG_FDS_EXTRA);

	if ((lg.clients = calloc((size_t)cf->nclients,
	    sizeof(*lg.clients))) == NULL)
		gs_fatal(GS_EXIT_SYSTEM, "msg=calloc clients=%d",
		    cf->nclients);
	for (i = 0; i < cf->nclients; i++)
		lg_client_init(&lg, &lg.clients[i], i);

	if ((lg.loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		gs_fatalx(GS_EXIT_SYSTEM, "msg=ev_default_loop");
	loops[0] = lg.loop;
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = lg_protocols;
	info.options = LWS_SERVER_OPTION_LIBEV;
	info.foreign_loops = loops;
	info.gid = -1;
	info.uid = -1;
	/* lws indexes its table by fd number: room for every client. */
	info.fd_limit_per_thread = (unsigned)(cf->nclients + LG_FDS_EXTRA);
	info.timeout_secs = (unsigned)((cf->welcome_ms + 999) / 1000);
	info.connect_timeout_secs = info.timeout_secs;
	if ((lg.ctx = lws_create_context(&info)) == NULL)
		gs_fatalx(GS_EXIT_SYSTEM, "msg=lws_create_context (is "
		    "libwebsockets-evlib-ev installed?)");

	ev_timer_init(&lg.tick, lg_tick_cb, 0., 0.);
	lg.tick.data = &lg;
	ev_timer_init(&lg.stop, lg_stop_cb, cf->duration_ms / 1000., 0.);
	lg.stop.data = &lg;
	ev_signal_init(&lg.sigint, lg_signal_cb, SIGINT);
	lg.sigint.data = &lg;
	ev_signal_init(&lg.sigterm, lg_signal_cb, SIGTERM);
	lg.sigterm.data = &lg;
	ev_signal_start(lg.loop, &lg.sigint);
	ev_signal_start(lg.loop, &lg.sigterm);
	ev_timer_start(lg.loop, &lg.stop);

	ev_now_update(lg.loop);
	lg.t0 = gs_now_us();
	lg.phase = LG_RUN;
	/* Until a welcome names the room's rate: 30 Hz, the default. */
	lg_timer_set(&lg, 30.);
	lg_tick_cb(lg.loop, &lg.tick, 0);
	gs_log_info("msg=start url=%s clients=%d rate=%d duration_ms=%lld",
	    cf->url, cf->nclients, cf->rate, cf->duration_ms);

	ev_run(lg.loop, 0);
	if (lg.phase != LG_DONE)
		lg_done(&lg);	/* ev_run returned early: no watchers */
	if (lg.t_end == 0)
		lg.t_end = gs_now_us();

	if (cf->json)
		rc = lg_report_json(&lg, stdout);
	else {
		lg_report_text(&lg, stdout);
		rc = 0;
	}
	if (fflush(stdout) == EOF || rc != 0) {
		gs_log_warn("msg=\"cannot write the report\"");
		rc = GS_EXIT_SYSTEM;
	} else
		rc = lg_verdict(&lg);
	for (i = 0; i < cf->nclients; i++)
		lg_client_free(&lg.clients[i]);
	free(lg.clients);
	free(lg.rtt);
	ev_loop_destroy(lg.loop);
	return rc;
}
