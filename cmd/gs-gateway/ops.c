/*
 * Operations: the metrics the gateway exports and its control-socket
 * commands (besides the built-in status, metrics and help).
 */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "util.h"

/* Index into the per-kind counters: the kind itself, 0 for others. */
int
gw_msg_kind_index(int kind)
{
	switch (kind) {
	case GS_MSG_HELLO: case GS_MSG_WELCOME: case GS_MSG_INPUT:
	case GS_MSG_SNAPSHOT: case GS_MSG_PING: case GS_MSG_PONG:
	case GS_MSG_EVENT: case GS_MSG_ERROR: case GS_MSG_BYE:
	case GS_MSG_ACK: case GS_MSG_GAME: case GS_MSG_LOOK:
		return kind;
	default:
		return 0;
	}
}

unsigned
gw_msg_kind_of(const void *msg, size_t len)
{
	struct gs_rd	rd;
	uint32_t	nf;

	gs_rd_init(&rd, msg, len);
	return (unsigned)gw_msg_kind_index(gs_msg_begin(&rd, &nf));
}

void
gw_count_drop(struct gw *gw, unsigned kind, int reason)
{
	if (kind >= GW_KINDS || reason < 0 || reason >= GW_NDROPS)
		kind = 0;
	gs_counter_inc(gw->m.msgs_dropped[kind][reason]);
}

/* Metric names and help texts are borrowed for the registry's life. */
#define GW_C(f, name, help) \
	GS_METRIC_ROW(GS_METRIC_COUNTER, struct gw, m.f, name, help)
#define GW_U(f, name, help) \
	GS_METRIC_ROW(GS_METRIC_UNSIGNED, struct gw, f, name, help)
#define GW_STATE(s, label) GW_U(nstate[s], \
	"gs_gateway_clients{state=\"" label "\"}", "Clients by state")
#define GW_IN(k, label) GW_C(msgs_in[k], \
	"gs_gateway_messages_in_total{kind=\"" label "\"}", \
	"Protocol messages received from clients, by kind")
#define GW_OUT(k, label) GW_C(msgs_out[k], \
	"gs_gateway_messages_out_total{kind=\"" label "\"}", \
	"Protocol messages sent to clients, by kind")
#define GW_DROP(k, r, label, reason) GW_C(msgs_dropped[k][r], \
	"gs_gateway_messages_dropped_total{kind=\"" label "\",reason=\"" \
	reason "\"}", \
	"Messages for clients never written to them, by kind and reason")
#define GW_DROPS(k, label) \
	GW_DROP(k, GW_DROP_FULL, label, "full"), \
	GW_DROP(k, GW_DROP_CLOSED, label, "closed"), \
	GW_DROP(k, GW_DROP_GONE, label, "gone")
#define GW_RL(f, what) GW_C(f, \
	"gs_gateway_ratelimited_total{limit=\"" what "\"}", \
	"Client WebSocket messages dropped over a rate limit (-m, -y)")
#define GW_REFUSED(r, reason) GW_C(acc_refused[r], \
	"gs_gateway_connections_refused_total{reason=\"" reason "\"}", \
	"TCP connections closed as accepted, over a limit, by reason")
#define GW_BAD(f, reason) GW_C(f, \
	"gs_gateway_bad_messages_total{reason=\"" reason "\"}", \
	"Bad client messages answered with an error, by reason")

static const double gw_join_b[] = { .001, .0025, .005, .01, .025, .05, .1,
	.25, .5, 1, 2.5, 5, 10 };

static const struct gs_metric_def gw_metric_defs[] = {
	GW_C(conns, "gs_gateway_connections_total",
	    "Client connections accepted, WebSocket and QUIC"),
	GW_U(nclients, "gs_gateway_connections",
	    "WebSocket connections open"),
	GW_STATE(GW_HELLO, "hello"),
	GW_STATE(GW_JOINING, "joining"),
	GW_STATE(GW_PLAYING, "playing"),
	GW_STATE(GW_CLOSING, "closing"),
	GW_U(nrooms, "gs_gateway_rooms", "Rooms with clients on this gateway"),
	GW_U(qpool.nfree, "gs_gateway_queue_buffers_free",
	    "Queue buffers free for the next client with bytes to send"),
	GW_IN(0, "other"),
	GW_IN(GS_MSG_HELLO, "hello"),
	GW_IN(GS_MSG_INPUT, "input"),
	GW_IN(GS_MSG_PING, "ping"),
	GW_IN(GS_MSG_BYE, "bye"),
	GW_IN(GS_MSG_ACK, "ack"),
	GW_IN(GS_MSG_LOOK, "look"),
	GW_OUT(0, "other"),
	GW_OUT(GS_MSG_WELCOME, "welcome"),
	GW_OUT(GS_MSG_SNAPSHOT, "snapshot"),
	GW_OUT(GS_MSG_PONG, "pong"),
	GW_OUT(GS_MSG_EVENT, "event"),
	GW_OUT(GS_MSG_ERROR, "error"),
	GW_OUT(GS_MSG_GAME, "game"),
	GW_DROPS(0, "other"),
	GW_DROPS(GS_MSG_WELCOME, "welcome"),
	GW_DROPS(GS_MSG_SNAPSHOT, "snapshot"),
	GW_DROPS(GS_MSG_PONG, "pong"),
	GW_DROPS(GS_MSG_EVENT, "event"),
	GW_DROPS(GS_MSG_ERROR, "error"),
	GW_DROPS(GS_MSG_GAME, "game"),
	GW_C(ws_in, "gs_gateway_ws_messages_in_total",
	    "WebSocket messages received"),
	GW_C(ws_out, "gs_gateway_ws_messages_out_total",
	    "WebSocket messages sent (each a batch of protocol messages)"),
	GW_C(bytes_in, "gs_gateway_bytes_in_total",
	    "WebSocket payload bytes received"),
	GW_C(bytes_out, "gs_gateway_bytes_out_total",
	    "WebSocket payload bytes sent"),
	GW_BAD(badframe, "badframe"),
	GW_BAD(toobig, "toobig"),
	GW_BAD(protoerr, "protocol"),
	GW_C(toomany, "gs_gateway_toomany_closes_total",
	    "Clients closed for too many bad messages"),
	GW_C(state_drops, "gs_gateway_state_drops_total",
	    "State frames (snapshots, pongs) dropped from full client queues"),
	GW_C(write_waits, "gs_gateway_write_waits_total",
	    "Sends not taken whole: the rest waits for a writable callback"),
	GW_C(slow_closes, "gs_gateway_slow_closes_total",
	    "Clients closed because a reliable frame did not fit the queue"),
	GW_C(hello_timeouts, "gs_gateway_hello_timeouts_total",
	    "Connections closed for sending no hello in time"),
	GW_C(join_timeouts, "gs_gateway_join_timeouts_total",
	    "Hellos the sim did not answer in time"),
	GW_C(rejects, "gs_gateway_rejects_total", "Joins the sim rejected"),
	GW_C(sim_closes, "gs_gateway_sim_closes_total",
	    "Clients whose stay the sim ended"),
	GW_C(kicks, "gs_gateway_kicks_total",
	    "Clients kicked through the control socket"),
	GW_C(inputs_skipped, "gs_gateway_inputs_skipped_total",
	    "Inputs not forwarded: numbered no higher than the last one "
	    "forwarded for the client (repeats, and 0)"),
	/* These six mirror the outboxes' statistics (gw_relay_sync_metrics). */
	GW_C(rl_batches, "gs_gateway_relay_batches_sent_total",
	    "Relay batches (NNG messages) sent to sims, heartbeats included"),
	GW_C(rl_records, "gs_gateway_relay_records_sent_total",
	    "Relay records sent to sims"),
	GW_C(rl_bytes, "gs_gateway_relay_bytes_sent_total",
	    "Relay bytes sent to sims"),
	GW_C(rl_drops, "gs_gateway_relay_dropped_records_total",
	    "State records (inputs) dropped because NNG could not take them"),
	GW_C(rl_retries, "gs_gateway_relay_retries_total",
	    "Relay sends that found NNG full and were retried"),
	GW_C(rl_full, "gs_gateway_relay_full_total",
	    "Relay records refused because a sim's batch was at its cap"),
	GW_C(in_batches, "gs_gateway_relay_batches_received_total",
	    "Relay batches received from sims"),
	GW_C(in_records, "gs_gateway_relay_records_received_total",
	    "Relay records received from sims"),
	GW_C(in_bad, "gs_gateway_relay_bad_total",
	    "Malformed relay batches or records from sims"),
	GW_C(in_unknown_conn, "gs_gateway_relay_unknown_conn_total",
	    "Relay records for connections already gone"),
	GW_C(in_stale, "gs_gateway_relay_stale_total",
	    "Relay records that do not fit the client's state"),
	GW_C(sim_restarts, "gs_gateway_sim_restarts_total",
	    "Sims seen with a new instance id"),
	GW_C(sim_silent, "gs_gateway_sim_silent_total",
	    "Times a sim was taken for dead: no batch for the sim timeout"),
	GW_C(forgotten, "gs_gateway_forgotten_clients_total",
	    "Playing clients closed because their sim, alive, sent them "
	    "nothing for the sim timeout"),
	GW_C(in_misaddressed, "gs_gateway_relay_misaddressed_total",
	    "Sim batches addressed to an earlier run of this gateway, "
	    "skipped"),
	GW_C(in_unknown_sim, "gs_gateway_relay_unknown_sim_total",
	    "Batches from a sim that matches no -s address, skipped"),
	GW_C(leaves_orphan, "gs_gateway_relay_orphan_leaves_total",
	    "LEAVEs sent for JOINED and FRAME records whose client had "
	    "gone (at most one a second per connection)"),
	GW_C(rl_control_dropped, "gs_gateway_relay_control_dropped_total",
	    "LEAVE records not queued: a sim's batch was over even the "
	    "room kept for them"),
	GW_C(api_requests, "gs_gateway_api_requests_total",
	    "HTTP API calls received under /v1/"),
	GW_C(api_limited, "gs_gateway_api_limited_total",
	    "HTTP API calls answered 429 by a rate limit"),
	GW_C(api_breaker, "gs_gateway_api_breaker_rejects_total",
	    "HTTP API calls answered 503 at once: gs-persist's breaker open"),
	GW_C(api_persist_fail, "gs_gateway_api_persist_failures_total",
	    "Calls to gs-persist that failed or timed out"),
	GW_C(api_persist_down, "gs_gateway_api_persist_down_total",
	    "API calls answered 503 at once: no connection to gs-persist"),
	GW_C(tokens_bad, "gs_gateway_tokens_invalid_total",
	    "Access tokens refused: malformed, forged, expired"),
	GW_C(tokens_revoked, "gs_gateway_tokens_revoked_total",
	    "Access tokens refused or sessions closed by a revocation"),
	GS_METRIC_HIST_ROW(struct gw, m.join_seconds, "gs_gateway_join_seconds",
	    "Time from hello to welcome", gw_join_b),
	GW_RL(lim_msgs, "messages"),
	GW_RL(lim_bytes, "bytes"),
	GW_C(lim_closes, "gs_gateway_ratelimit_closes_total",
	    "Clients closed for staying over their rate limits"),
	GW_C(room_limited, "gs_gateway_room_limit_refusals_total",
	    "Hellos refused: the address holds its most rooms (-g)"),
	GW_U(m.owners, "gs_gateway_room_owners",
	    "Addresses holding rooms they created"),
	/* These mirror lib/http.c's accepting (gw_ops_sync_metrics). */
	GW_C(acc_accepted, "gs_gateway_accepted_total",
	    "TCP connections accepted and handed to libwebsockets"),
	GW_REFUSED(GS_HTTP_REFUSE_ADDR_CONNS, "address_connections"),
	GW_REFUSED(GS_HTTP_REFUSE_ADDR_RATE, "address_rate"),
	GW_REFUSED(GS_HTTP_REFUSE_RATE, "rate"),
	GW_REFUSED(GS_HTTP_REFUSE_ADOPT, "adopt"),
	GW_C(acc_pauses_full, "gs_gateway_accept_pauses_total{reason=\"limit\"}",
	    "Times accepting stopped, by reason"),
	GW_C(acc_pauses_nofd, "gs_gateway_accept_pauses_total{reason=\"descriptors\"}",
	    "Times accepting stopped, by reason"),
	GW_U(m.acc_open, "gs_gateway_tcp_connections",
	    "TCP connections open (WebSocket and HTTP)"),
	GW_U(m.acc_max, "gs_gateway_tcp_connections_max",
	    "TCP connections open at most (-C)"),
	GW_U(m.acc_paused, "gs_gateway_accept_paused",
	    "1 while new connections are not accepted"),
};

/* Before each exposition: mirrored counters up to date. */
static void
gw_ops_sync_metrics(void *arg)
{
	struct gw			*gw = arg;
	const struct gs_http_stats	*st;
	int				 r;

	gw_relay_sync_metrics(gw);
	if (gw->http == NULL)
		return;
	st = gs_http_stats(gw->http);
	gw->m.acc_accepted->v = st->accepted;
	for (r = 0; r < GS_HTTP_NREFUSALS; r++)
		gw->m.acc_refused[r]->v = st->refused[r];
	gw->m.acc_pauses_full->v = st->pauses_full;
	gw->m.acc_pauses_nofd->v = st->pauses_nofd;
	gw->m.acc_open = st->conns_open;
	gw->m.acc_max = st->conns_max;
	gw->m.acc_paused = st->paused;
}

void
gw_metrics_init(struct gw *gw)
{
	struct gw_metrics	*g = &gw->m;
	int			 k, r;

	gs_metrics_table(gw->metrics, gw_metric_defs,
	    GS_NELEM(gw_metric_defs), gw);
	gs_metrics_on_write(gw->metrics, gw_ops_sync_metrics, gw);
	/* Kinds that cannot occur in a direction count as "other". */
	for (k = 0; k < GW_KINDS; k++) {
		if (g->msgs_in[k] == NULL)
			g->msgs_in[k] = g->msgs_in[0];
		if (g->msgs_out[k] == NULL)
			g->msgs_out[k] = g->msgs_out[0];
		for (r = 0; r < GW_NDROPS; r++)
			if (g->msgs_dropped[k][r] == NULL)
				g->msgs_dropped[k][r] = g->msgs_dropped[0][r];
	}
}

/* ---------------------------------------------------------- control */

static unsigned
gw_ctl_status(void *arg, struct gs_wr *body)
{
	struct gw	*gw = arg;

	gs_wr_str(body, "clients");
	gs_wr_uint(body, gw->nclients);
	gs_wr_str(body, "playing");
	gs_wr_uint(body, gw->nstate[GW_PLAYING]);
	gs_wr_str(body, "rooms");
	gs_wr_uint(body, gw->nrooms);
	gs_wr_str(body, "sims");
	gs_wr_uint(body, gw->nsims);
	gs_wr_str(body, "dev_mode");
	gs_wr_bool(body, gw->conf.dev);
	gs_wr_str(body, "draining");
	gs_wr_bool(body, gw->draining);
	gs_wr_str(body, "http_port");
	gs_wr_uint(body, gw->http != NULL ? (uint64_t)gs_http_port(gw->http) :
	    0);
	gs_wr_str(body, "inbox");
	gs_wr_str(body, gw->conf.inbox_url);
	return 8;
}

/* clients: [{conn, name, room, state, peer, queued, queued_bytes,
 *            drops, age_s}, ...] newest first, at most GW_CTL_LIST_MAX */
static int
gw_ctl_clients(void *arg, struct gs_rd *args, struct gs_wr *body,
    const char **msg)
{
	struct gw		*gw = arg;
	struct gw_client	*c;
	uint64_t		 now = gs_now_us();
	unsigned		 n;

	n = GS_MIN(gw->nclients, GW_CTL_LIST_MAX);
	gs_wr_array(body, n);
	for (c = gw->clients; c != NULL && n > 0; c = c->next, n--) {
		gs_wr_map(body, 9);
		gs_wr_str(body, "conn");
		gs_ctl_put_id(body, c->conn);
		gs_wr_str(body, "name");
		gs_wr_str(body, c->name);
		gs_wr_str(body, "room");
		gs_wr_str(body, c->room != NULL ? c->room->name : "");
		gs_wr_str(body, "state");
		gs_wr_str(body, gw_state_name(c->state));
		gs_wr_str(body, "peer");
		gs_wr_str(body, c->peer);
		gs_wr_str(body, "queued");
		gs_wr_uint(body, gw_queue_msgs(&c->q));
		gs_wr_str(body, "queued_bytes");
		gs_wr_uint(body, gw_queue_bytes(&c->q));
		gs_wr_str(body, "drops");
		gs_wr_uint(body, c->drops);
		gs_wr_str(body, "age_s");
		gs_wr_f64(body, (double)(now - c->since_us) / 1e6);
	}
	return GS_CTL_OK;
}

/* rooms: [{room, clients, sim}, ...] at most GW_CTL_LIST_MAX */
static int
gw_ctl_rooms(void *arg, struct gs_rd *args, struct gs_wr *body,
    const char **msg)
{
	struct gw	*gw = arg;
	struct gw_room	*r;
	size_t		 i;
	unsigned	 n;

	n = GS_MIN(gw->nrooms, GW_CTL_LIST_MAX);
	gs_wr_array(body, n);
	for (i = 0; i < gw->rtabsz && n > 0; i++) {
		for (r = gw->rtab[i]; r != NULL && n > 0; r = r->next, n--) {
			gs_wr_map(body, 3);
			gs_wr_str(body, "room");
			gs_wr_str(body, r->name);
			gs_wr_str(body, "clients");
			gs_wr_uint(body, r->nclients);
			gs_wr_str(body, "sim");
			gs_wr_str(body, r->sim->url);
		}
	}
	return GS_CTL_OK;
}

/* sims: [{url, index, clients, rooms, instance, restarts, down,
 *         batches, records, dropped}] */
static int
gw_ctl_sims(void *arg, struct gs_rd *args, struct gs_wr *body,
    const char **msg)
{
	struct gw	*gw = arg;
	unsigned	 i;

	gs_wr_array(body, gw->nsims);
	for (i = 0; i < gw->nsims; i++) {
		struct gw_sim	*s = &gw->sims[i];

		gs_wr_map(body, 10);
		gs_wr_str(body, "url");
		gs_wr_str(body, s->url);
		gs_wr_str(body, "index");
		gs_wr_uint(body, s->index);
		gs_wr_str(body, "clients");
		gs_wr_uint(body, s->nclients);
		gs_wr_str(body, "rooms");
		gs_wr_uint(body, s->nrooms);
		gs_wr_str(body, "instance");
		gs_ctl_put_instance(body, s->instance);
		gs_wr_str(body, "restarts");
		gs_wr_uint(body, s->restarts);
		gs_wr_str(body, "down");
		gs_wr_bool(body, s->down);
		gs_wr_str(body, "batches");
		gs_wr_uint(body, s->ob.sent_msgs);
		gs_wr_str(body, "records");
		gs_wr_uint(body, s->ob.sent_recs);
		gs_wr_str(body, "dropped");
		gs_wr_uint(body, s->ob.dropped_recs);
	}
	return GS_CTL_OK;
}

/* kick CONN [TEXT]: CONN as a uint or a decimal string. */
static int
gw_ctl_kick(void *arg, struct gs_rd *args, struct gs_wr *body,
    const char **msg)
{
	struct gw		*gw = arg;
	struct gw_client	*c;
	char			 s[32], text[GS_TEXT_MAX + 1];
	long long		 v;
	uint64_t		 conn;

	switch (gs_rd_type(args)) {
	case GS_MP_UINT:
		conn = gs_rd_uint(args, UINT64_MAX);
		break;
	case GS_MP_STR:
		gs_rd_str(args, s, sizeof(s));
		if (args->err != GS_OK ||
		    gs_parse_ll(s, 1, INT64_MAX, &v) != GS_OK) {
			*msg = "usage: kick CONN [TEXT]";
			return GS_CTL_EARGS;
		}
		conn = (uint64_t)v;
		break;
	default:
		*msg = "usage: kick CONN [TEXT]";
		return GS_CTL_EARGS;
	}
	(void)gs_strlcpy(text, "removed by an operator", sizeof(text));
	if (gs_rd_type(args) == GS_MP_STR)
		gs_rd_str(args, text, sizeof(text));
	if (args->err != GS_OK) {
		*msg = "usage: kick CONN [TEXT] (TEXT up to 200 bytes)";
		return GS_CTL_EARGS;
	}
	if ((c = gw_client_find(gw, conn)) == NULL ||
	    c->state == GW_CLOSING) {
		*msg = "no such connection";
		return GS_CTL_ENOTFOUND;
	}
	gs_counter_inc(gw->m.kicks);
	gs_log_info("client kicked conn=%llu peer=%s name=%s",
	    (unsigned long long)c->conn, c->peer, c->name);
	gw_client_close(c, GS_PERR_KICKED, text);
	gs_wr_map(body, 1);
	gs_wr_str(body, "kicked");
	gs_ctl_put_id(body, conn);
	return GS_CTL_OK;
}

static const struct gs_ctl_cmd gw_ctl_cmds[] = {
	{ "clients",	gw_ctl_clients },
	{ "rooms",	gw_ctl_rooms },
	{ "sims",	gw_ctl_sims },
	{ "kick",	gw_ctl_kick },
	{ NULL,		NULL },
};

struct gs_ctl *
gw_ctl_listen(struct gw *gw, const char *url)
{
	return gs_ctl_listen(gw->loop, url, gw_ctl_cmds, gw_ctl_status,
	    gw->metrics, gw);
}
