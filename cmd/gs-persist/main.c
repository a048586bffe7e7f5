/*
 * gs-persist: the one owner of the database.  Serves requests from
 * the other daemons over NNG with group commit; issues and rotates
 * tokens; keeps accounts.  See gs-persist(8).
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "log.h"
#include "opt.h"
#include "util.h"

#include "pst.h"

#define PROG	"gs-persist"

/* Exactly the SYNOPSIS of man/gs-persist.8. */
static const char synopsis[] =
"usage: gs-persist [-hV] [-a ttl] [-c url] [-F file] [-f ttl]\n"
"                  [-H [addr:]port] [-j threads] [-l level] [-n fd]\n"
"                  [-q jobs] [-s sync] [-w ln,r,p] [--ipc-group]\n"
"                  [--tls-ca file] [--tls-cert file] [--tls-key file]\n"
"                  [--trusted-network] -d file -k key -r url\n";

struct pst_args {
	struct persist_conf conf;
	char		 haddr[256];
	const char	*iface;
	int		 port;
	struct gs_link_conf link;
};

static int
pst_opt_http(void *base, const char *v, char *why, size_t whylen)
{
	struct pst_args	*a = base;

	a->conf.http = v;
	return gs_http_parse_addr(v, a->haddr, sizeof(a->haddr), &a->iface,
	    &a->port) == GS_OK ? 0 : -1;
}

/* -w "ln,r,p": scrypt's cost as log2 N, block size and parallelism. */
static int
pst_opt_pw(void *base, const char *v, char *why, size_t whylen)
{
	struct pst_args	*a = base;
	long long	 x[3];
	char		 buf[64], *s, *e;
	int		 i;

	if (gs_strlcpy(buf, v, sizeof(buf)) != GS_OK)
		return -1;
	for (s = buf, i = 0; i < 3; i++) {
		if ((e = strchr(s, ',')) != NULL)
			*e = '\0';
		if ((i < 2) != (e != NULL) ||
		    gs_parse_ll(s, 1, 64, &x[i]) != GS_OK)
			return -1;
		s = e + 1;
	}
	a->conf.pw.ln = (int)x[0];
	a->conf.pw.r = (int)x[1];
	a->conf.pw.p = (int)x[2];
	return pwhash_params_ok(&a->conf.pw) ? 0 : -1;
}

static const char *const sync_names[] = { "normal", "full", NULL };

#define AT(m)	GS_OPT_AT(struct pst_args, conf.m)

static const struct gs_opt pst_opts[] = {
	{ 'a', "access-ttl", "GS_PERSIST_ACCESS_TTL", GS_OPT_MS,
	  AT(access_ttl_ms), .min = 10000, .max = 86400000 },
	{ 'c', "ctl", "GS_PERSIST_CTL", GS_OPT_STR, AT(ctl_url),
	  .max = 1024 },
	{ 'd', "db", "GS_PERSIST_DB", GS_OPT_STR, AT(db_path),
	  .max = PATH_MAX, .flags = GS_OPT_REQUIRED },
	{ 'F', "words", "GS_PERSIST_WORDS", GS_OPT_STR, AT(words_path),
	  .max = PATH_MAX },
	{ 'f', "refresh-ttl", "GS_PERSIST_REFRESH_TTL", GS_OPT_MS,
	  AT(refresh_ttl_ms), .min = 60000, .max = 365LL * 86400000 },
	{ 'H', "http", "GS_PERSIST_HTTP", GS_OPT_FN, AT(http),
	  .fn = pst_opt_http, .want = "[addr:]port with port 0..65535" },
	{ 'j', "threads", "GS_PERSIST_THREADS", GS_OPT_INT, AT(threads),
	  .min = 1, .max = 64 },
	{ 'k', "key", "GS_PERSIST_KEY", GS_OPT_STR, AT(key_path),
	  .max = PATH_MAX, .flags = GS_OPT_REQUIRED },
	{ 'l', "log-level", "GS_LOG_LEVEL", GS_OPT_LEVEL, AT(log_level) },
	{ 'n', "notify-fd", NULL, GS_OPT_INT, AT(notify_fd),
	  .min = 0, .max = INT_MAX },
	{ 'q', "queue", "GS_PERSIST_QUEUE", GS_OPT_INT, AT(queue),
	  .min = 1, .max = 100000 },
	{ 'r', "requests", "GS_PERSIST_REQUESTS", GS_OPT_STR, AT(url),
	  .max = 1024, .flags = GS_OPT_REQUIRED },
	{ 's', "sync", "GS_PERSIST_SYNC", GS_OPT_ENUM, AT(sync_full),
	  .names = sync_names },
	{ 'w', "work", "GS_PERSIST_WORK", GS_OPT_FN, AT(pw), .fn = pst_opt_pw,
	  .want = "ln,r,p: scrypt's log2 N (1..20), r (1..8), p (1..16), "
	  "see gs-persist(8)" },
	GS_LINK_OPTS(struct pst_args, link),
	{ 0 }
};

static const struct gs_opt_prog pst_prog = { PROG, synopsis, pst_opts,
	false };

/* For tests only, so not a flag: a delay before each commit. */
static void
pst_test_knobs(struct persist_conf *c)
{
	const char	*v = getenv("GS_PERSIST_COMMIT_DELAY_MS");
	long long	 ms;

	if (v == NULL || *v == '\0')
		return;
	if (gs_parse_ll(v, 0, 999, &ms) != GS_OK)
		gs_opt_fail(&pst_prog, "GS_PERSIST_COMMIT_DELAY_MS: bad value "
		    "'%s' (want 0 to 999)", v);
	c->commit_delay_ms = (long)ms;
	if (ms > 0)
		gs_log_warnx("test knob set GS_PERSIST_COMMIT_DELAY_MS=%lld",
		    ms);
}

static void
pst_args_parse(struct pst_args *a, int argc, char **argv)
{
	struct persist_conf *c = &a->conf;

	memset(a, 0, sizeof(*a));
	c->log_level = GS_LOG_INFO;
	c->notify_fd = -1;
	c->threads = 2;
	c->queue = 256;
	c->access_ttl_ms = 600000;		/* 10 minutes */
	c->refresh_ttl_ms = 30LL * 86400000;	/* 30 days */
	c->sync_full = 1;
	c->pw = pwhash_default;
	(void)gs_opt_parse(&pst_prog, a, argc, argv);
	pst_test_knobs(c);
	gs_link_opt_setup(&pst_prog, &a->link);
	gs_link_opt_check(&pst_prog, "-r", c->url, GS_LINK_LISTEN);
	gs_link_opt_check(&pst_prog, "-c", c->ctl_url, GS_LINK_LISTEN);
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct persist	*p = w->data;

	if (w->signum == SIGHUP) {
		gs_log_info("signal ignored signal=HUP logs=stderr");
		return;
	}
	gs_log_info("signal received signal=%s",
	    w->signum == SIGTERM ? "TERM" : "INT");
	p->stopping = 1;
	ev_break(loop, EVBREAK_ALL);
}

static void
pst_signal(struct persist *p, ev_signal *w, int signum)
{
	ev_signal_init(w, signal_cb, signum);
	w->data = p;
	ev_signal_start(p->loop, w);
}

int
main(int argc, char **argv)
{
	static struct persist	 p;
	static struct pst_args	 a;
	struct gs_http_conf	 hc;
	char			 why[1024];

	gs_log_init(PROG, GS_LOG_INFO);
	pst_args_parse(&a, argc, argv);
	p.conf = a.conf;
	gs_log_init(PROG, p.conf.log_level);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		gs_fatal(GS_EXIT_SYSTEM, "cannot ignore SIGPIPE call=signal");
	p.start_us = gs_now_us();
	if ((p.loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		gs_fatalx(GS_EXIT_SYSTEM, "ev_default_loop failed");
	if (gs_jwt_signer_load(&p.signer, p.conf.key_path, why,
	    sizeof(why)) != GS_JWT_OK)
		gs_fatalx(GS_EXIT_RUNTIME, "cannot load the signing key "
		    "why=\"%s\"", why);
	if (pst_db_open(&p, why, sizeof(why)) != 0)
		gs_fatalx(GS_EXIT_RUNTIME, "cannot open the database "
		    "why=\"%s\"", why);
	if (pst_lb_init(&p) != 0 || pst_player_init(&p) != 0 ||
	    pst_social_init(&p) != 0)
		gs_fatalx(GS_EXIT_RUNTIME, "cannot prepare the statements");
	if (pst_auth_init(&p) != 0)
		gs_fatalx(GS_EXIT_RUNTIME, "cannot hash with the -w "
		    "parameters");
	pst_metrics_init(&p);
	if (pst_srv_open(&p) != 0)
		gs_fatalx(GS_EXIT_SYSTEM, "cannot serve requests url=%s",
		    p.conf.url);
	if (p.conf.ctl_url != NULL && (p.ctl = gs_ctl_listen(p.loop,
	    p.conf.ctl_url, pst_ctl_cmds, pst_ctl_status, p.metrics,
	    &p)) == NULL)
		gs_fatalx(GS_EXIT_SYSTEM, "control socket failed url=%s",
		    p.conf.ctl_url);
	if (p.conf.http != NULL) {
		memset(&hc, 0, sizeof(hc));
		hc.iface = a.iface;
		hc.port = a.port;
		hc.metrics = p.metrics;
		hc.arg = &p;
		if ((p.http = gs_http_start(p.loop, &hc)) == NULL)
			gs_fatalx(GS_EXIT_SYSTEM, "http failed addr=%s",
			    p.conf.http);
	}
	pst_signal(&p, &p.sigterm, SIGTERM);
	pst_signal(&p, &p.sigint, SIGINT);
	pst_signal(&p, &p.sighup, SIGHUP);
	gs_log_info("start version=%s db=%s schema=%d requests=%s ctl=%s "
	    "http_port=%d threads=%d sync=%s access_ttl_s=%lld "
	    "kid=%s", GS_VERSION, p.conf.db_path, p.schema, p.conf.url,
	    p.conf.ctl_url != NULL ? p.conf.ctl_url : "-",
	    p.http != NULL ? gs_http_port(p.http) : -1, p.conf.threads,
	    sync_names[p.conf.sync_full], p.conf.access_ttl_ms / 1000,
	    gs_jwt_signer_kid(p.signer));
	gs_notify_ready(p.conf.notify_fd);

	ev_run(p.loop, 0);

	/* Answer what was read; nothing acknowledged is left unwritten,
	 * and nothing unanswered was acknowledged. */
	pst_srv_close(&p);
	pst_ctl_finish(&p);
	if (p.ctl != NULL)
		gs_ctl_close(p.ctl);
	if (p.http != NULL)
		gs_http_stop(p.http);
	ev_signal_stop(p.loop, &p.sigterm);
	ev_signal_stop(p.loop, &p.sigint);
	ev_signal_stop(p.loop, &p.sighup);
	gs_signals_ignore();
	pst_db_close(&p);	/* finalizes the modules' statements too */
	pst_lb_fini(&p);
	pst_player_fini(&p);
	pst_social_fini(&p);
	gs_jwt_signer_free(p.signer);
	gs_metrics_free(p.metrics);
	gs_link_cleanup();
	gs_log_info("exit");
	return GS_EXIT_OK;
}
