/*
 * gs-gateway: the client edge.  Flags, start-up, the loop, signals and
 * the drain at exit.  See gateway.h for the map of the files and
 * man/gs-gateway.8 for the user's view.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "link.h"
#include "opt.h"
#include "util.h"

#define PROG	"gs-gateway"

/* Exactly the SYNOPSIS of man/gs-gateway.8. */
static const char synopsis[] =
    "usage: gs-gateway [-DhV] [-A conns] [-a rate[:burst]] [-B bytes]\n"
    "                  [-b bytes] [-C conns] [-c url] [-f bytes] [-g rooms]\n"
    "                  [-H [addr:]port] [-j time] [-k key ...] [-l level]\n"
    "                  [-m rate[:burst]] [-N rate[:burst]] [-n fd]\n"
    "                  [-o origin ...] [-P url] [-Q [addr:]port] [-q frames]\n"
    "                  [-R rate] [-r rate] [-t time] [-y rate[:burst]]\n"
    "                  [--ipc-group] [--quic-cert file] [--quic-conns conns]\n"
    "                  [--quic-handshakes conns] [--quic-idle time]\n"
    "                  [--quic-key file] [--quic-key-update time]\n"
    "                  [--tls-ca file] [--tls-cert file] [--tls-key file]\n"
    "                  [--trusted-network] -i url -s url ...\n";

#define GW_SIMS_MAX	256

/* Settings from flags and GS_GATEWAY_* variables (opt.h). */
struct gw_args {
	struct gw_conf	 conf;
	int		 notify_fd;
	int		 log_level;
	char		 http_addr[128];
	char		*sims[GW_SIMS_MAX];
	unsigned	 nsims;
	struct gw_api_conf api;
	char		*keys[GW_API_KEYS_MAX];
	char		*origins[GW_ORIGINS_MAX];
	unsigned	 norigins;
	char		 cors[GW_ORIGINS_MAX * 258];	/* origins, joined */
	const char	*cors_p;
	struct gs_link_conf link;
	/* Accepting (lib/http.h). */
	unsigned	 conns_max;	/* -C */
	unsigned	 addr_conns;	/* -A */
	double		 addr_rate, addr_burst;	/* -a */
	double		 conn_rate, conn_burst;	/* -N */
	struct gw_quic_conf quic;		/* -Q, --quic-* */
};

/* "rate[:burst]": rate 0 (no limit) to max a second, burst 1 to 1e9;
 * without one the burst is twice the rate. */
static int
gw_opt_rate(const char *v, double max, double *rate, double *burst,
    char *why, size_t whylen)
{
	char		 buf[64];
	const char	*colon = strchr(v, ':');
	size_t		 n = colon != NULL ? (size_t)(colon - v) : strlen(v);

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	if (gs_parse_double(buf, 0, max, rate) != GS_OK) {
		(void)snprintf(why, whylen, "want a rate from 0 to %g, "
		    "then :burst, not '%s'", max, v);
		return -1;
	}
	if (colon == NULL) {
		*burst = *rate * 2 >= 1 ? *rate * 2 : 1;
		return 0;
	}
	if (gs_parse_double(colon + 1, 1, 1e9, burst) != GS_OK) {
		(void)snprintf(why, whylen, "want a burst from 1 to 1e9 "
		    "after the colon, not '%s'", colon + 1);
		return -1;
	}
	return 0;
}

static int
gw_opt_msgs(void *base, const char *v, char *why, size_t whylen)
{
	struct gw_args	*a = base;

	return gw_opt_rate(v, 1e6, &a->conf.msg_rate, &a->conf.msg_burst, why,
	    whylen);
}

static int
gw_opt_bytes(void *base, const char *v, char *why, size_t whylen)
{
	struct gw_args	*a = base;

	return gw_opt_rate(v, 1e9, &a->conf.byte_rate, &a->conf.byte_burst,
	    why, whylen);
}

static int
gw_opt_addr_rate(void *base, const char *v, char *why, size_t whylen)
{
	struct gw_args	*a = base;

	return gw_opt_rate(v, 1e6, &a->addr_rate, &a->addr_burst, why, whylen);
}

static int
gw_opt_conn_rate(void *base, const char *v, char *why, size_t whylen)
{
	struct gw_args	*a = base;

	return gw_opt_rate(v, 1e6, &a->conn_rate, &a->conn_burst, why, whylen);
}

/* -H "[addr:]port" (gs_http_parse_addr). */
static int
gw_opt_http(void *base, const char *v, char *why, size_t whylen)
{
	struct gw_args	*a = base;

	return gs_http_parse_addr(v, a->http_addr, sizeof(a->http_addr),
	    &a->conf.http_iface, &a->conf.http_port) == GS_OK ? 0 : -1;
}

#define AT(m)	GS_OPT_AT(struct gw_args, m)

static const struct gs_opt gw_opts[] = {
	{ 'A', "address-conns", "GS_GATEWAY_ADDRESS_CONNS", GS_OPT_INT,
	  AT(addr_conns), .min = 0, .max = 1000000 },
	{ 'a', "address-connect-rate", "GS_GATEWAY_ADDRESS_CONNECT_RATE",
	  GS_OPT_FN, AT(addr_rate), .fn = gw_opt_addr_rate },
	{ 'B', "sndbuf", "GS_GATEWAY_SNDBUF", GS_OPT_INT, AT(conf.sndbuf),
	  .min = 0, .max = 64 * 1024 * 1024 },
	{ 'b', "queue-bytes", "GS_GATEWAY_QUEUE_BYTES", GS_OPT_INT,
	  AT(conf.queue_bytes), .min = GS_MSG_MAX,
	  .max = 64 * 1024 * 1024 },
	{ 'C', "conns", "GS_GATEWAY_CONNS", GS_OPT_INT, AT(conns_max),
	  .min = 0, .max = 10000000 },
	{ 'c', "ctl", "GS_GATEWAY_CTL", GS_OPT_STR, AT(conf.ctl_url),
	  .max = GS_URL_MAX },
	{ 'D', "dev", "GS_GATEWAY_DEV", GS_OPT_BOOL, AT(conf.dev) },
	{ 'f', "frame-max", "GS_GATEWAY_FRAME_MAX", GS_OPT_INT,
	  AT(conf.frame_max), .min = 64, .max = GS_RELAY_FRAME_MAX },
	{ 'g', "address-rooms", "GS_GATEWAY_ADDRESS_ROOMS", GS_OPT_INT,
	  AT(conf.addr_rooms), .min = 0, .max = 1000000 },
	{ 'H', "http", "GS_GATEWAY_HTTP", GS_OPT_FN, AT(http_addr),
	  .fn = gw_opt_http, .want = "[addr:]port with port 0..65535" },
	{ 'i', "inbox", "GS_GATEWAY_INBOX", GS_OPT_STR, AT(conf.inbox_url),
	  .max = GS_URL_MAX, .flags = GS_OPT_REQUIRED },
	{ 'j', "join-timeout", "GS_GATEWAY_JOIN_TIMEOUT", GS_OPT_MS,
	  AT(conf.join_timeout), .min = 100, .max = 600000,
	  .flags = GS_OPT_SECONDS },
	{ 'k', "key", "GS_GATEWAY_KEYS", GS_OPT_LIST, AT(keys),
	  .count_off = offsetof(struct gw_args, api.nkeys), .max = PATH_MAX },
	{ 'l', "log-level", "GS_LOG_LEVEL", GS_OPT_LEVEL, AT(log_level) },
	{ 'm', "client-messages", "GS_GATEWAY_CLIENT_MESSAGES", GS_OPT_FN,
	  AT(conf.msg_rate), .fn = gw_opt_msgs },
	{ 'N', "connect-rate", "GS_GATEWAY_CONNECT_RATE", GS_OPT_FN,
	  AT(conn_rate), .fn = gw_opt_conn_rate },
	{ 'n', "notify-fd", NULL, GS_OPT_INT, AT(notify_fd),
	  .min = 0, .max = INT_MAX },
	{ 'o', "origin", "GS_GATEWAY_ORIGINS", GS_OPT_LIST, AT(origins),
	  .count_off = offsetof(struct gw_args, norigins), .max = 256 },
	{ 'P', "persist", "GS_GATEWAY_PERSIST", GS_OPT_STR,
	  AT(api.persist_url), .max = GS_URL_MAX },
	{ 'Q', "quic", "GS_GATEWAY_QUIC", GS_OPT_STR, AT(quic.addr),
	  .max = 128 },
	{ 'q', "queue-frames", "GS_GATEWAY_QUEUE_FRAMES", GS_OPT_INT,
	  AT(conf.queue_frames), .min = 1, .max = 65536 },
	{ 'R', "account-rate", "GS_GATEWAY_ACCOUNT_RATE", GS_OPT_REAL,
	  AT(api.account_rate), .min = 0, .max = 1000000,
	  .flags = GS_OPT_ABOVE_MIN },
	{ 'r', "address-rate", "GS_GATEWAY_ADDRESS_RATE", GS_OPT_REAL,
	  AT(api.ip_rate), .min = 0, .max = 1000000,
	  .flags = GS_OPT_ABOVE_MIN },
	{ 's', "sim", "GS_GATEWAY_SIMS", GS_OPT_LIST, AT(sims),
	  .count_off = offsetof(struct gw_args, nsims), .max = GS_URL_MAX,
	  .flags = GS_OPT_REQUIRED },
	{ 't', "sim-timeout", "GS_GATEWAY_SIM_TIMEOUT", GS_OPT_MS,
	  AT(conf.sim_timeout), .min = 100, .max = 600000,
	  .flags = GS_OPT_SECONDS },
	{ 'y', "client-bytes", "GS_GATEWAY_CLIENT_BYTES", GS_OPT_FN,
	  AT(conf.byte_rate), .fn = gw_opt_bytes },
	{ 0, "quic-cert", "GS_GATEWAY_QUIC_CERT", GS_OPT_STR, AT(quic.cert),
	  .max = PATH_MAX },
	{ 0, "quic-conns", "GS_GATEWAY_QUIC_CONNS", GS_OPT_INT,
	  AT(quic.conns_max), .min = 1, .max = 10000000 },
	{ 0, "quic-handshakes", "GS_GATEWAY_QUIC_HANDSHAKES", GS_OPT_INT,
	  AT(quic.handshakes_max), .min = 1, .max = 10000000 },
	{ 0, "quic-idle", "GS_GATEWAY_QUIC_IDLE", GS_OPT_MS, AT(quic.idle),
	  .min = 1000, .max = 600000, .flags = GS_OPT_SECONDS },
	{ 0, "quic-key", "GS_GATEWAY_QUIC_KEY", GS_OPT_STR, AT(quic.key),
	  .max = PATH_MAX },
	{ 0, "quic-key-update", "GS_GATEWAY_QUIC_KEY_UPDATE", GS_OPT_MS,
	  AT(quic.key_update), .min = 0, .max = 86400000,
	  .flags = GS_OPT_SECONDS },
	GS_LINK_OPTS(struct gw_args, link),
	{ 0 }
};

static const struct gs_opt_prog gw_prog = { PROG, synopsis, gw_opts,
	false };

/* -o ... as lib/http.h wants them: one string, comma-separated. */
static void
gw_join_origins(struct gw_args *a)
{
	size_t		 n = 0, len;
	unsigned	 i;

	a->cors_p = NULL;
	for (i = 0; i < a->norigins; i++) {
		len = strlen(a->origins[i]);
		if (strchr(a->origins[i], ',') != NULL)
			gs_opt_fail(&gw_prog, "-o: one origin per flag, not "
			    "'%s'", a->origins[i]);
		memcpy(a->cors + n, a->origins[i], len);
		n += len;
		a->cors[n++] = i + 1 < a->norigins ? ',' : '\0';
		a->cors_p = a->cors;
	}
}

static void
gw_args_parse(struct gw_args *a, int argc, char **argv)
{
	unsigned	i;

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
	a->api.ip_rate = 20;
	a->api.account_rate = 10;
	/* A client of gs-loadgen's kind sends about 61 protocol messages
	 * and 1-2 KiB a second (30 inputs, 30 acks, a ping); these leave
	 * it twice that, and a burst of a second or more. */
	a->conf.msg_rate = 120;
	a->conf.msg_burst = 240;
	a->conf.byte_rate = 16384;
	a->conf.byte_burst = 65536;
	a->conf.addr_rooms = 8;
	a->addr_conns = 256;
	a->addr_rate = 200;
	a->addr_burst = 1000;
	a->conn_rate = 1000;
	a->conn_burst = 2000;
	a->quic.conns_max = 10000;
	a->quic.handshakes_max = 256;
	a->quic.idle = 30.;
	a->quic.key_update = 600.;
	(void)gs_opt_parse(&gw_prog, a, argc, argv);
	if (a->quic.addr != NULL && (a->quic.cert == NULL ||
	    a->quic.key == NULL))
		gs_opt_fail(&gw_prog, "-Q needs --quic-cert and --quic-key");
	if (a->quic.addr == NULL && (a->quic.cert != NULL ||
	    a->quic.key != NULL))
		gs_opt_fail(&gw_prog, "--quic-cert and --quic-key are for -Q");
	a->api.keys = a->keys;
	gw_join_origins(a);
	gs_link_opt_setup(&gw_prog, &a->link);
	gs_link_opt_check(&gw_prog, "-i", a->conf.inbox_url, GS_LINK_LISTEN);
	gs_link_opt_check(&gw_prog, "-c", a->conf.ctl_url, GS_LINK_LISTEN);
	gs_link_opt_check(&gw_prog, "-P", a->api.persist_url, GS_LINK_DIAL);
	for (i = 0; i < a->nsims; i++)
		gs_link_opt_check(&gw_prog, "-s", a->sims[i], GS_LINK_DIAL);
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
	struct gw	*gw = w->data;

	gw_heartbeat(gw);
	gw_sims_check(gw);
	gw_qpool_trim(&gw->qpool);
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
	/* API calls still waiting are answered 503 before the HTTP
	 * side goes. */
	gw_api_close(gw);
	/* Clients still open are cut here (CLOSED for each); they were
	 * told SHUTDOWN and their sims LEAVE already. */
	/* QUIC first: its connections hold counts in the HTTP side's
	 * table of addresses. */
	gw_quic_close(gw->quic);
	gw->quic = NULL;
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
	gw_owners_free(gw);
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
		gs_log_info("finishing now signal=%d again=1 clients=%u",
		    w->signum, gw->nclients);
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
	gs_log_debug("signal ignored signal=HUP logs=stderr");
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
		gs_fatal(GS_EXIT_SYSTEM, "cannot ignore SIGPIPE call=signal");

	memset(&gw, 0, sizeof(gw));
	if ((gw.loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		gs_fatalx(GS_EXIT_SYSTEM, "ev_default_loop failed");
	gw.conf = a.conf;
	gw.instance = gs_random_u64();
	gw.start_us = gs_now_us();
	gs_wr_init(&gw.scratch, 256, 4096);
	gw.metrics = gs_metrics_new();		/* fatal when out of memory */
	gw_metrics_init(&gw);
	gw_clients_init(&gw);

	gs_post_init(&gw.post, gw.loop);
	gs_post_set_linger(&gw.post, GW_RELAY_LINGER_MS / 1000.);
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

	if (gw_api_open(&gw, &a.api) != 0)
		gs_fatalx(GS_EXIT_RUNTIME, "cannot set up the HTTP API");
	if (!gw.conf.dev && a.api.nkeys == 0)
		gs_log_warnx("no key (-k) and no development mode (-D): "
		    "no player can join");

	if (a.quic.addr != NULL &&
	    (gw.quic = gw_quic_open(&gw, &a.quic)) == NULL)
		gs_fatalx(GS_EXIT_SYSTEM, "cannot serve quic addr=%s",
		    a.quic.addr);

	memset(&hc, 0, sizeof(hc));
	hc.iface = gw.conf.http_iface;
	hc.quic_port = gw.quic != NULL ? gw_quic_port(gw.quic) : 0;
	hc.port = gw.conf.http_port;
	hc.metrics = gw.metrics;
	hc.ready = gw_ready;
	hc.arg = &gw;
	hc.ws_cb = gw_ws_cb;
	hc.ws_protocol = GS_WS_SUBPROTOCOL;
	hc.ws_protocol_old = GS_WS_SUBPROTOCOL_OLD;
	hc.ws_user_size = sizeof(struct gw_pss);
	/* lws allocates this per connection: sized to the traffic (inputs
	 * and pings are tens of bytes), not to the largest message, which
	 * ws.c assembles from chunks. */
	hc.ws_rx_buffer = GW_WS_RX_CHUNK;
	/* A client's whole queue leaves in one send (lws would otherwise
	 * cut sends at the receive buffer's size and wait for writable
	 * between the pieces); the error before a close may exceed the
	 * queue's cap by one message. */
	hc.ws_tx_packet = gw.conf.queue_bytes + GS_MSG_MAX;
	hc.conns_max = a.conns_max;
	hc.addr_conns_max = a.addr_conns;
	hc.addr_rate = a.addr_rate;
	hc.addr_burst = a.addr_burst;
	hc.conn_rate = a.conn_rate;
	hc.conn_burst = a.conn_burst;
	hc.api_prefix = "/v1/";
	hc.api_cb = gw_api_cb;
	hc.cors_origins = a.cors_p;
	if ((gw.http = gs_http_start(gw.loop, &hc)) == NULL)
		gs_fatalx(GS_EXIT_SYSTEM, "cannot serve http iface=%s port=%d",
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

	gs_log_info("listening http=%s:%d quic=%d inbox=%s sims=%u dev=%d "
	    "keys=%u persist=%s "
	    "frame_max=%zu queue_frames=%u queue_bytes=%zu join_timeout=%.3f "
	    "sim_timeout=%.3f conns_max=%u", hc.iface != NULL ? hc.iface : "*",
	    gs_http_port(gw.http), gw.quic != NULL ? gw_quic_port(gw.quic) : 0,
	    gw.conf.inbox_url, gw.nsims,
	    gw.conf.dev ? 1 : 0, a.api.nkeys,
	    a.api.persist_url != NULL ? a.api.persist_url : "-",
	    gw.conf.frame_max, gw.conf.queue_frames, gw.conf.queue_bytes,
	    gw.conf.join_timeout, gw.conf.sim_timeout,
	    gs_http_stats(gw.http)->conns_max);
	gw.ready = true;
	gs_notify_ready(a.notify_fd);

	ev_run(gw.loop, 0);

	gw_clients_free(&gw);
	gs_wr_free(&gw.scratch);
	gs_metrics_free(gw.metrics);
	gs_link_cleanup();
	ev_loop_destroy(gw.loop);
	return GS_EXIT_OK;
}
