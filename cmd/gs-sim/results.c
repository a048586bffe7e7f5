/*
 * Match results to gs-persist (-P).
 *
 * When a room ends, its result (the game's end(), a JSON object) and
 * the accounts that played in it go to gs-persist as one "result"
 * request, keyed by the room's name and a match id unique to this
 * room in this run of the sim ("<instance>-<serial>").  gs-persist
 * writes a (room, match) once, so a result is simply sent again until
 * it is acknowledged: every SIM_RESULT_RETRY_S, for as long as the sim
 * runs, and at most SIM_RESULTS_MAX results wait; beyond that the
 * oldest is dropped, logged with its whole text, and counted.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "persist.h"
#include "util.h"

#include "sim.h"

struct sim_result {
	struct sim_result *next;
	struct sim	*sim;
	bool		 sending;
	bool		 orphan;	/* dropped while in flight: its
					 * callback frees it */
	char		 room[GS_ROOM_MAX + 1];
	char		 match[40];
	size_t		 len;		/* of the request */
	size_t		 textlen;	/* of the JSON text after it */
	uint8_t		 req[];		/* the request, packed, then the
					 * result's JSON text for logs */
};

static void	results_send(struct sim *sim);

static void
result_free(struct sim *sim, struct sim_result *res)
{
	struct sim_result	**pp;

	for (pp = &sim->results; *pp != NULL; pp = &(*pp)->next)
		if (*pp == res) {
			*pp = res->next;
			sim->nresults--;
			break;
		}
	free(res);
}

static void
result_cb(void *arg, int err, const uint8_t *rep, size_t len)
{
	struct sim_result	*res = arg;
	struct sim		*sim = res->sim;
	struct gs_rd		 rd;
	uint64_t		 status;
	char			 msg[128] = "";

	res->sending = false;
	if (res->orphan) {
		free(res);
		return;
	}
	if (err == GS_ECLOSED)
		return;		/* shutting down: sim_results_close frees */
	if (err != GS_OK) {
		gs_counter_inc(sim->st.results_retried);
		return;		/* the retry timer sends it again */
	}
	gs_rd_init(&rd, rep, len);
	(void)gs_rd_array_n(&rd, 2, 2);
	status = gs_rd_uint(&rd, UINT32_MAX);
	if (status != GS_PST_OK && rd.err == GS_OK)
		(void)gs_rd_str(&rd, msg, sizeof(msg));
	if (rd.err != GS_OK || status == GS_PST_EBUSY ||
	    status == GS_PST_EINTERNAL) {
		gs_counter_inc(sim->st.results_retried);
		return;
	}
	if (status != GS_PST_OK) {
		/* Refused for good (a player unknown, a conflict): no
		 * retry will do better. */
		gs_counter_inc(sim->st.results_refused);
		gs_log_warnx("match result refused status=%s why=\"%s\"",
		    gs_pst_err_name((unsigned)status), msg);
	} else
		gs_counter_inc(sim->st.results_stored);
	result_free(sim, res);
}

static void
results_send(struct sim *sim)
{
	struct sim_result	*res;
	int			 rc;

	if (sim->pst == NULL || !gs_rpc_connected(sim->pst))
		return;
	for (res = sim->results; res != NULL; res = res->next) {
		if (res->sending)
			continue;
		rc = gs_rpc_call(sim->pst, res->req, res->len,
		    SIM_RESULT_TIMEOUT_MS, result_cb, res);
		if (rc != GS_OK)
			break;		/* in flight at its cap: later */
		res->sending = true;
	}
}

static void
results_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	results_send(w->data);
}

/*
 * Queue a room's result: text[len] is the JSON object, accounts[n]
 * who played.  Without -P nothing is sent (the result is in the log).
 */
void
sim_result_put(struct sim_room *room, const char *text, size_t len)
{
	struct sim		*sim = room->sim;
	struct sim_result	*res, **pp;
	struct gs_wr		 w;
	char			 match[40];
	unsigned		 i;

	if (sim->pst == NULL)
		return;
	(void)snprintf(match, sizeof(match), "%016llx-%llu",
	    (unsigned long long)sim->instance,
	    (unsigned long long)room->serial);
	gs_wr_init(&w, 256 + len + room->nplayed * 10, GS_PST_REQ_MAX);
	gs_wr_array(&w, 6);
	gs_wr_str(&w, "result");
	gs_wr_str(&w, room->name);
	gs_wr_str(&w, match);
	gs_wr_int(&w, (int64_t)(gs_wall_us() / 1000000));
	gs_wr_strn(&w, text, len);
	gs_wr_array(&w, room->nplayed);
	for (i = 0; i < room->nplayed; i++)
		gs_wr_uint(&w, room->played[i]);
	if (w.err != GS_OK ||
	    (res = malloc(sizeof(*res) + w.len + len)) == NULL) {
		gs_counter_inc(sim->st.results_dropped);
		gs_log_warnx("match result dropped room=%s match=%s why=%s "
		    "result=%.*s", room->name, match, w.err != GS_OK ?
		    "too large" : "out of memory", (int)len, text);
		gs_wr_free(&w);
		return;
	}
	res->next = NULL;
	res->sim = sim;
	res->sending = false;
	res->orphan = false;
	(void)gs_strlcpy(res->room, room->name, sizeof(res->room));
	(void)gs_strlcpy(res->match, match, sizeof(res->match));
	res->len = w.len;
	res->textlen = len;
	memcpy(res->req, w.buf, w.len);
	memcpy(res->req + w.len, text, len);
	gs_wr_free(&w);
	if (sim->nresults == SIM_RESULTS_MAX) {
		struct sim_result *old = sim->results;

		gs_counter_inc(sim->st.results_dropped);
		gs_log_warnx("match result dropped why=\"queue full\" "
		    "room=%s match=%s result=%.*s", old->room, old->match,
		    (int)old->textlen, (const char *)old->req + old->len);
		sim->results = old->next;
		sim->nresults--;
		/* A call in flight still holds old: its callback frees. */
		if (old->sending)
			old->orphan = true;
		else
			free(old);
	}
	for (pp = &sim->results; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = res;
	sim->nresults++;
	results_send(sim);
}

int
sim_results_open(struct sim *sim)
{
	if (sim->conf.persist_url == NULL)
		return 0;
	if ((sim->pst = gs_rpc_open(sim->loop, sim->conf.persist_url,
	    SIM_RESULTS_INFLIGHT)) == NULL)
		return -1;
	ev_timer_init(&sim->results_w, results_timer_cb, SIM_RESULT_RETRY_S,
	    SIM_RESULT_RETRY_S);
	sim->results_w.data = sim;
	ev_timer_start(sim->loop, &sim->results_w);
	ev_unref(sim->loop);	/* never keeps the loop alive alone */
	return 0;
}

/* At exit: what is still unsent is logged whole, so it can be
 * replayed by hand. */
void
sim_results_close(struct sim *sim)
{
	struct sim_result	*res;

	if (sim->pst == NULL)
		return;
	ev_ref(sim->loop);
	ev_timer_stop(sim->loop, &sim->results_w);
	gs_rpc_close(sim->pst);	/* callbacks get GS_ECLOSED */
	sim->pst = NULL;
	while ((res = sim->results) != NULL) {
		sim->results = res->next;
		gs_log_warnx("match result unsent at exit room=%s match=%s "
		    "result=%.*s", res->room, res->match, (int)res->textlen,
		    (const char *)res->req + res->len);
		free(res);
	}
	sim->nresults = 0;
}
