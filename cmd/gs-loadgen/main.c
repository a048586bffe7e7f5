/*
 * gs-loadgen: flags, the gateway's address, the one tick timer that
 * drives every client and the scenario, the live line, the end of the
 * run, the report.
 */
#include <sys/socket.h>

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <ev.h>

#include "loadgen.h"
#include "log.h"
#include "opt.h"
#include "util.h"

#define LG_GRACE_MS	2000	/* closing: wait this long for closes */
#define LG_FDS_EXTRA	64	/* descriptors beside the clients' */

/*
 * Split ws://host[:port][/path], quic://host:port or http://host[:port]
 * into cf: the scheme picks the transport (http: GET /negotiate
 * first).  IPv6 literals go in brackets.  wss:// is refused: the
 * WebSocket client speaks no TLS.  A QUIC URL has a port (UDP; there is
 * no usual one) and no path; an http:// one no path but "/".  Returns
 * 0, or -1 with why[whylen] saying why.
 */
int
lg_parse_url(struct lg_conf *cf, const char *url, char *why, size_t whylen)
{
	const char	*p, *hs, *he, *ps;
	long long	 port = 80;
	char		 num[8];
	size_t		 n;
	bool		 quic, http;

	if (gs_strlcpy(cf->url, url, sizeof(cf->url)) != GS_OK)
		goto bad;
	if (strncmp(url, "wss://", 6) == 0) {
		snprintf(why, whylen, "%s: wss:// is not supported yet", url);
		return -1;
	}
	if (strncmp(url, "ws://", 5) == 0)
		p = url + 5;
	else if (strncmp(url, "quic://", 7) == 0 ||
	    strncmp(url, "http://", 7) == 0)
		p = url + 7;
	else
		goto bad;
	quic = strncmp(url, "quic://", 7) == 0;
	http = strncmp(url, "http://", 7) == 0;
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
	if (quic && *p != ':')
		goto bad;
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
	if ((quic || http) && *p == '/' && p[1] != '\0')
		goto bad;
	if (gs_strlcpy(cf->path, *p == '\0' ? "/" : p, sizeof(cf->path)) !=
	    GS_OK)
		goto bad;
	cf->transport = quic ? LG_TP_QUIC : http ? LG_TP_NEGOTIATE : LG_TP_WS;
	cf->port = (int)port;
	snprintf(cf->hosthdr, sizeof(cf->hosthdr), "%s:%d", cf->host,
	    cf->port);
	return 0;
bad:
	return -1;	/* the row's want: the three forms */
}

/* Exactly the SYNOPSIS of man/gs-loadgen.1. */
static const char synopsis[] =
    "usage: gs-loadgen [-AhjmqVv] [-c churn] [-d duration] [-I impairment]\n"
    "\t[-K fraction] [-k interval] [-n clients] [-p players] [-R room]\n"
    "\t[-r rate] [-S slo] [-s scenario] [-u url] [--quic-datagrams bytes]\n"
    "\t[--quic-migrate interval] [--tls-ca file]\n";

/* -u, GS_URL: see lg_parse_url. */
static int
lg_opt_url(void *base, const char *v, char *why, size_t whylen)
{
	return lg_parse_url(base, v, why, whylen);
}

/* -I: one impairment more. */
static int
lg_opt_impair(void *base, const char *v, char *why, size_t whylen)
{
	struct lg_conf	*cf = base;

	if (cf->nimpair == LG_IMPAIR_MAX) {
		snprintf(why, whylen, "more than %d impairments",
		    LG_IMPAIR_MAX);
		return -1;
	}
	if (lg_impair_parse(v, cf->impair, why, whylen) != 0)
		return -1;
	cf->impair_arg[cf->nimpair++] = v;
	return 0;
}

static int
lg_opt_slo(void *base, const char *v, char *why, size_t whylen)
{
	return lg_slo_parse(&((struct lg_conf *)base)->slo, v, why, whylen);
}

static int
lg_opt_room(void *base, const char *v, char *why, size_t whylen)
{
	if (!gs_name_valid(v, GS_ROOM_MAX))
		return -1;
	((struct lg_conf *)base)->room = v;
	return 0;
}

#define AT(m)		GS_OPT_AT(struct lg_conf, m)
#define LG_STR1(x)	#x
#define LG_STR(x)	LG_STR1(x)

static const struct gs_opt lg_opts[] = {
	{ 'A', "accounts", NULL, GS_OPT_BOOL, AT(accounts) },
	{ 'c', "churn", NULL, GS_OPT_REAL, AT(churn), .min = 0,
	  .max = 100000, .flags = GS_OPT_ABOVE_MIN,
	  .want = "leaves per second, a number above 0, up to 100000" },
	{ 'd', "duration", NULL, GS_OPT_MS, AT(duration_ms), .min = 1,
	  .max = 7LL * 24 * 3600 * 1000 },
	{ 'I', "impair", NULL, GS_OPT_FN, AT(impair), .fn = lg_opt_impair },
	{ 'j', "json", NULL, GS_OPT_BOOL, AT(json) },
	{ 'K', "storm-fraction", NULL, GS_OPT_RATIO, AT(storm_frac),
	  .flags = GS_OPT_ABOVE_MIN },
	{ 'k', "storm", NULL, GS_OPT_MS, AT(storm_ms), .min = 100,
	  .max = 24LL * 3600 * 1000 },
	{ 'm', "motion", NULL, GS_OPT_BOOL, AT(motion) },
	{ 'n', "clients", NULL, GS_OPT_INT, AT(nclients), .min = 1,
	  .max = 100000 },
	{ 'p', "players", NULL, GS_OPT_INT, AT(per_room), .min = 1,
	  .max = 100000 },
	{ 'q', "quiet", NULL, GS_OPT_BOOL, AT(quiet) },
	{ 'R', "room", NULL, GS_OPT_FN, AT(room), .fn = lg_opt_room,
	  .want = "1.." LG_STR(GS_ROOM_MAX) " of [A-Za-z0-9_.-]" },
	{ 'r', "rate", NULL, GS_OPT_INT, AT(rate), .min = 0, .max = 1000000 },
	{ 'S', "slo", NULL, GS_OPT_FN, AT(slo), .fn = lg_opt_slo },
	{ 's', "scenario", NULL, GS_OPT_ENUM, AT(scenario),
	  .names = lg_scenario_names },
	{ 'u', "url", "GS_URL", GS_OPT_FN, AT(url), .fn = lg_opt_url,
	  .want = "ws://host[:port][/path], quic://host:port or "
	  "http://host[:port]" },
	{ 'v', "verbose", NULL, GS_OPT_COUNT, AT(verbose) },
	{ 0, "quic-datagrams", NULL, GS_OPT_INT, AT(quic_dgrams), .min = 0,
	  .max = LG_QUIC_DGRAM_MAX },
	{ 0, "quic-migrate", NULL, GS_OPT_MS, AT(quic_migrate_ms), .min = 0,
	  .max = 24LL * 3600 * 1000 },
	{ 0, "tls-ca", "GS_LOADGEN_TLS_CA", GS_OPT_STR, AT(tls_ca) },
	{ 0 }
};

static const struct gs_opt_prog lg_prog = { "gs-loadgen", synopsis,
	lg_opts, false };

/*
 * Flags and GS_URL into cf.  Settings that belong to one scenario are 0
 * until given, so that giving one for another scenario is caught; they
 * get their defaults here.
 */
static void
lg_conf_parse(struct lg_conf *cf, int argc, char **argv)
{
	char	why[256];

	cf->nclients = 10;
	cf->rate = 100;
	cf->quic_dgrams = LG_QUIC_DGRAM_MAX;
	cf->per_room = 8;
	cf->duration_ms = 10000;
	cf->welcome_ms = 10000;
	if (lg_parse_url(cf, "ws://127.0.0.1:8080/", why, sizeof(why)) != 0)
		gs_fatalx(GS_EXIT_RUNTIME, "bad default url why=\"%s\"", why);
	(void)gs_opt_parse(&lg_prog, cf, argc, argv);
	if (cf->scenario == LG_SC_MATCHMAKE)
		gs_opt_fail(&lg_prog, "-s matchmake: gs-match does not exist "
		    "yet: no tickets to ask for");
	if (cf->churn != 0 && cf->scenario != LG_SC_CHURN)
		gs_opt_fail(&lg_prog, "-c: only with -s churn");
	if ((cf->storm_ms != 0 || cf->storm_frac != 0) &&
	    cf->scenario != LG_SC_RECONNECT)
		gs_opt_fail(&lg_prog, "-k and -K: only with -s reconnect");
	if (cf->churn == 0)
		cf->churn = 1;
	if (cf->storm_ms == 0)
		cf->storm_ms = 5000;
	if (cf->storm_frac == 0)
		cf->storm_frac = 1;
}

/* Soft RLIMIT_NOFILE up to the hard one: 500 clients need 500 fds. */
static void
lg_raise_nofile(int need)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		gs_fatal(GS_EXIT_SYSTEM, "cannot read fd limit call=getrlimit");
	if (rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			gs_fatal(GS_EXIT_SYSTEM, "cannot raise fd limit call=setrlimit");
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)need)
		gs_fatalx(GS_EXIT_SYSTEM, "fd limit too low "
		    "limit=%llu need=%d", (unsigned long long)rl.rlim_cur,
		    need);
}

/*
 * QUIC: the certificate authorities that the gateway's certificate
 * must chain to, --tls-ca's or the system's.  A file that holds none
 * is bad usage: every handshake would fail.
 */
static void
lg_tls_init(struct lg *lg)
{
	const char	*ca = lg->conf.tls_ca;
	int		 rv;

	if ((rv = gnutls_certificate_allocate_credentials(&lg->cred)) != 0)
		gs_fatalx(GS_EXIT_SYSTEM, "cannot make TLS credentials "
		    "err=\"%s\"", gnutls_strerror(rv));
	if (ca != NULL) {
		rv = gnutls_certificate_set_x509_trust_file(lg->cred, ca,
		    GNUTLS_X509_FMT_PEM);
		if (rv <= 0)
			gs_opt_fail(&lg_prog, "--tls-ca: %s: %s", ca, rv < 0 ?
			    gnutls_strerror(rv) : "no certificate in it");
	} else if ((rv = gnutls_certificate_set_x509_system_trust(
	    lg->cred)) < 0)
		gs_fatalx(GS_EXIT_SYSTEM, "cannot load the system's "
		    "certificate authorities err=\"%s\"", gnutls_strerror(rv));
}

/* host:port resolved for socktype (its first address); exits 111
 * when it does not resolve. */
void
lg_resolve_addr(const char *host, int port, int socktype,
    struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct addrinfo	 hints, *res;
	char		 ps[8];
	int		 e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	snprintf(ps, sizeof(ps), "%d", port);
	if ((e = getaddrinfo(host, ps, &hints, &res)) != 0)
		gs_fatalx(GS_EXIT_SYSTEM, "cannot resolve host=%s err=\"%s\"",
		    host, gai_strerror(e));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
}

/* The gateway's address, resolved once: every connection uses it (an
 * http:// URL's is where /negotiate is asked; lg_negotiate() then sets
 * the targets again from the answer). */
static void
lg_resolve(struct lg *lg)
{
	struct lg_ws_target	*t = &lg->target;
	struct lg_quic_target	*qt = &lg->qtarget;

	lg_resolve_addr(lg->conf.host, lg->conf.port,
	    lg->conf.transport == LG_TP_QUIC ? SOCK_DGRAM : SOCK_STREAM,
	    &t->addr, &t->addrlen);
	t->host = lg->conf.hosthdr;
	t->path = lg->conf.path;
	t->subprotocol = GS_WS_SUBPROTOCOL;
	t->max_msg = LG_RX_MAX;
	/* -A logs in over HTTP at the same address (login.c). */
	memcpy(&qt->addr, &t->addr, sizeof(t->addr));
	qt->addrlen = t->addrlen;
	qt->host = lg->conf.host;
	qt->cred = lg->cred;
	qt->max_msg = LG_RX_MAX;
	qt->dgram_max = lg->conf.quic_dgrams;
	qt->migrate_ms = lg->conf.quic_migrate_ms;
	qt->st = &lg->qst;
}

static void
lg_timer_set(struct lg *lg, double hz)
{
	lg->tick_hz = hz;
	ev_timer_stop(lg->loop, &lg->tick);
	ev_timer_set(&lg->tick, 1.0 / hz, 1.0 / hz);
	ev_timer_start(lg->loop, &lg->tick);
}

/* The timer runs LG_TIMER_SLOTS times per tick, so that clients can
 * send at their own phase of the tick. */
void
lg_tick_rate(struct lg *lg, uint32_t hz)
{
	if (hz * LG_TIMER_SLOTS > lg->tick_hz && lg->phase == LG_RUN)
		lg_timer_set(lg, hz * LG_TIMER_SLOTS);
}

/* Churn: leaves at conf.churn a second, each by a random welcomed
 * client, which joins again once its connection has closed. */
static void
lg_churn(struct lg *lg, uint64_t now)
{
	struct lg_client	*c = NULL;
	int			 n = lg->conf.nclients, i, k;

	if (lg->t_last_tick != 0 && now > lg->t_last_tick)
		lg->churn_acc += lg->conf.churn *
		    (double)(now - lg->t_last_tick) / 1e6;
	if (lg->churn_acc > n)
		lg->churn_acc = n;	/* owed leaves do not pile up */
	while (lg->churn_acc >= 1) {
		k = (int)(gs_rand01(&lg->rng) * n);
		for (i = 0; i < n; i++) {
			c = &lg->clients[(k + i) % n];
			if (c->state == LG_WELCOMED && !c->leaving)
				break;
		}
		if (i == n)
			break;		/* nobody to churn now; keep owing */
		lg_client_leave(c);
		lg->churn_acc -= 1;
	}
}

/* Reconnect storm: drop a share of the welcomed clients at once,
 * chosen at random (selection sampling: exactly round(share * n)). */
static void
lg_storm(struct lg *lg, uint64_t now)
{
	struct lg_client	*c;
	int			 i, up = 0, need;

	lg->next_storm += (uint64_t)lg->conf.storm_ms * 1000;
	if (lg->next_storm <= now)
		lg->next_storm = now + (uint64_t)lg->conf.storm_ms * 1000;
	for (i = 0; i < lg->conf.nclients; i++)
		up += lg->clients[i].state == LG_WELCOMED;
	need = (int)lround(lg->conf.storm_frac * up);
	lg->storms++;
	gs_log_info("storm up=%d drop=%d", up, need);
	for (i = 0; i < lg->conf.nclients && need > 0; i++) {
		c = &lg->clients[i];
		if (c->state != LG_WELCOMED)
			continue;
		if (gs_rand01(&lg->rng) * up < need) {
			lg_client_drop(c, now);
			need--;
		}
		up--;
	}
}

/* Everything periodic: ramp, welcome timeouts, reconnects, inputs,
 * pings, the scenario. */
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
	if (lg->conf.scenario == LG_SC_CHURN)
		lg_churn(lg, now);
	else if (lg->conf.scenario == LG_SC_RECONNECT && now >= lg->next_storm)
		lg_storm(lg, now);
	lg->t_last_tick = now;
}

static void
lg_done(struct lg *lg)
{
	int	i;

	lg->phase = LG_DONE;
	ev_timer_stop(lg->loop, &lg->tick);
	ev_timer_stop(lg->loop, &lg->stop);
	ev_signal_stop(lg->loop, &lg->sigint);
	ev_signal_stop(lg->loop, &lg->sigterm);
	ev_signal_stop(lg->loop, &lg->sigusr1);
	ev_timer_stop(lg->loop, &lg->progress);
	/* Cut every connection still open: its session ends now. */
	for (i = 0; i < lg->nstarted; i++)
		lg_client_kill(&lg->clients[i]);
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
	if (ev_is_active(&lg->progress)) {
		ev_timer_stop(lg->loop, &lg->progress);
		lg_progress(lg, stderr);
		fputc('\n', stderr);
	}
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
		/* Not from inside a connection's callback: the stop
		 * timer ends the run on the next loop iteration. */
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

static void
lg_progress_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct lg	*lg = w->data;

	if (lg->phase == LG_RUN)
		lg_progress(lg, stderr);
}

/* First signal: end the run now, report as usual.  Second: stop. */
static void
lg_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct lg	*lg = w->data;

	gs_log_info("signal received signal=%d", w->signum);
	if (lg->phase == LG_RUN)
		lg_finish(lg);
	else
		lg_done(lg);
}

/* SIGUSR1: the latency percentiles cover from now on (a benchmark's
 * measured window opens). */
static void
lg_window_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct lg	*lg = w->data;

	lg_lat_restart(&lg->rtt);
	lg_lat_restart(&lg->e2e);
	gs_log_info("latency samples restarted");
}

int
main(int argc, char *argv[])
{
	static struct lg		 lg;
	struct lg_conf			*cf = &lg.conf;
	int				 i, rc;

	gs_log_init("gs-loadgen", GS_LOG_WARN);
	lg_conf_parse(cf, argc, argv);
	gs_log_init("gs-loadgen", cf->verbose > 1 ? GS_LOG_DEBUG :
	    cf->verbose > 0 ? GS_LOG_INFO : GS_LOG_WARN);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		gs_fatal(GS_EXIT_SYSTEM, "cannot ignore SIGPIPE call=signal");
	lg_raise_nofile(cf->nclients + LG_FDS_EXTRA);

	lg.rng = gs_random_u64();
	lg.impaired = cf->nimpair > 0;
	lg.rtt.max = LG_RTT_MAX;
	lg.e2e.max = LG_E2E_MAX;
	lg.rec.max = LG_LOSS_MAX;
	if (cf->transport != LG_TP_WS)
		lg_tls_init(&lg);
	lg_resolve(&lg);
	if (cf->transport == LG_TP_NEGOTIATE)
		lg_negotiate(&lg);
	if ((lg.loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		gs_fatalx(GS_EXIT_SYSTEM, "ev_default_loop failed");
	if ((lg.clients = calloc((size_t)cf->nclients,
	    sizeof(*lg.clients))) == NULL)
		gs_fatal(GS_EXIT_SYSTEM, "out of memory call=calloc clients=%d",
		    cf->nclients);
	for (i = 0; i < cf->nclients; i++)
		lg_client_init(&lg, &lg.clients[i], i);
	if (cf->accounts && lg_login_all(&lg) != 0)
		gs_fatalx(GS_EXIT_RUNTIME, "guest logins failed (-A); see above");


	ev_timer_init(&lg.tick, lg_tick_cb, 0., 0.);
	lg.tick.data = &lg;
	ev_timer_init(&lg.stop, lg_stop_cb, cf->duration_ms / 1000., 0.);
	lg.stop.data = &lg;
	ev_signal_init(&lg.sigint, lg_signal_cb, SIGINT);
	lg.sigint.data = &lg;
	ev_signal_init(&lg.sigterm, lg_signal_cb, SIGTERM);
	lg.sigterm.data = &lg;
	ev_signal_init(&lg.sigusr1, lg_window_cb, SIGUSR1);
	lg.sigusr1.data = &lg;
	ev_timer_init(&lg.progress, lg_progress_cb, 1., 1.);
	lg.progress.data = &lg;
	ev_signal_start(lg.loop, &lg.sigint);
	ev_signal_start(lg.loop, &lg.sigterm);
	ev_signal_start(lg.loop, &lg.sigusr1);
	ev_timer_start(lg.loop, &lg.stop);

	ev_now_update(lg.loop);
	lg.t0 = gs_now_us();
	lg.phase = LG_RUN;
	lg.next_storm = lg.t0 + (uint64_t)cf->storm_ms * 1000;
	if (!cf->quiet && isatty(STDERR_FILENO))
		ev_timer_start(lg.loop, &lg.progress);
	/* Until a welcome names the room's rate: 30 Hz, the default. */
	lg_timer_set(&lg, 30. * LG_TIMER_SLOTS);
	lg_tick_cb(lg.loop, &lg.tick, 0);
	gs_log_info("start url=%s transport=%s clients=%d rate=%d "
	    "duration_ms=%lld scenario=%s impairments=%d", cf->url,
	    lg_transport_names[cf->transport], cf->nclients, cf->rate,
	    cf->duration_ms, lg_scenario_names[cf->scenario], cf->nimpair);

	ev_run(lg.loop, 0);
	if (lg.phase != LG_DONE)
		lg_done(&lg);	/* ev_run returned early: no watchers */
	if (lg.t_end == 0)
		lg.t_end = gs_now_us();

	lg_summarize(&lg);
	if (cf->json)
		rc = lg_report_json(&lg, stdout);
	else {
		lg_report_text(&lg, stdout);
		rc = 0;
	}
	if (fflush(stdout) == EOF || rc != 0) {
		gs_log_warn("cannot write the report");
		rc = GS_EXIT_SYSTEM;
	} else
		rc = lg.sum.verdict;
	for (i = 0; i < cf->nclients; i++)
		lg_client_free(&lg.clients[i]);
	gs_snap_free(&lg.snap_scratch);
	free(lg.clients);
	free(lg.losses);
	lg_lat_free(&lg.rtt);
	lg_lat_free(&lg.e2e);
	lg_lat_free(&lg.rec);
	if (lg.cred != NULL)
		gnutls_certificate_free_credentials(lg.cred);
	ev_loop_destroy(lg.loop);
	return rc;
}
