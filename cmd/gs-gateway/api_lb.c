/*
 * The HTTP API of leaderboards (api.h; gs-gateway(8), HTTP API).
 * Boards are made by operators (gs-ctl leaderboard create); players
 * read them, and submit their own scores only to a board that allows
 * it (client_write): scores are otherwise the servers' to write.
 */
#include <stdio.h>
#include <string.h>

#include "gateway.h"
#include "api.h"

/* limit and period from the query, after the board name. */
static int
lb_query(struct gs_http_req *req, struct gs_wr *w, const char **why)
{
	long long	limit, period;

	if (gw_query_int(req, "limit", 1, 100, 10, &limit, why) != 0 ||
	    gw_query_int(req, "period", -1, INT64_MAX, -1, &period,
	    why) != 0)
		return -1;
	gs_wr_uint(w, (uint64_t)limit);
	if (period < 0)
		gs_wr_nil(w);
	else
		gs_wr_int(w, period);
	return 0;
}

static int
pack_lb_list(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	gs_wr_array(w, 1);
	gs_wr_str(w, "lb_list");
	return 0;
}

static int
pack_lb_top(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	gs_wr_array(w, 4);
	gs_wr_str(w, "lb_top");
	gs_wr_str(w, args->v[0]);
	return lb_query(req, w, why);
}

static int
pack_lb_around(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	gs_wr_array(w, 5);
	gs_wr_str(w, "lb_around");
	gs_wr_str(w, args->v[0]);
	gs_wr_uint(w, tok->account);
	return lb_query(req, w, why);
}

static int
pack_lb_rank(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	long long	period;

	if (gw_query_int(req, "period", -1, INT64_MAX, -1, &period, why) != 0)
		return -1;
	gs_wr_array(w, 4);
	gs_wr_str(w, "lb_rank");
	gs_wr_str(w, args->v[0]);
	gs_wr_uint(w, tok->account);
	if (period < 0)
		gs_wr_nil(w);
	else
		gs_wr_int(w, period);
	return 0;
}

/* A JSON integer member, or def when absent; -1 (and *why) when it is
 * there and not an integer. */
static int
body_int(json_t *body, const char *key, long long def, long long *out,
    const char **why)
{
	static char	 msg[64];
	json_t		*v = json_object_get(body, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v)) {
		(void)snprintf(msg, sizeof(msg), "%s: an integer", key);
		*why = msg;
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

/* POST /v1/leaderboards/NAME {"score", "subscore"?, "meta"?} */
static int
pack_lb_submit(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	const char	*meta;
	long long	 score, subscore;

	*why = NULL;
	if (json_object_get(body, "score") == NULL) {
		*why = "score is required";
		return -1;
	}
	if (body_int(body, "score", 0, &score, why) != 0 ||
	    body_int(body, "subscore", 0, &subscore, why) != 0)
		return -1;
	meta = gw_body_str(body, "meta", 0, 256, true, why);
	if (*why != NULL)
		return -1;
	gs_wr_array(w, 4);
	gs_wr_str(w, "lb_submit");
	gs_wr_str(w, args->v[0]);
	gs_wr_array(w, 1);
	gs_wr_array(w, 4);
	gs_wr_uint(w, tok->account);
	gs_wr_int(w, score);
	gs_wr_int(w, subscore);
	gw_wr_str_or_nil(w, meta);
	gs_wr_bool(w, true);		/* from a player */
	return 0;
}

const struct api_route gw_lb_routes[] = {
	{ GS_HTTP_GET, "/v1/leaderboards", false, 1, pack_lb_list },
	{ GS_HTTP_GET, "/v1/leaderboards/*", false, 1, pack_lb_top },
	{ GS_HTTP_POST, "/v1/leaderboards/*", true, 1, pack_lb_submit },
	{ GS_HTTP_GET, "/v1/leaderboards/*/around", true, 1, pack_lb_around },
	{ GS_HTTP_GET, "/v1/leaderboards/*/rank", true, 1, pack_lb_rank },
	{ 0, NULL, false, 0, NULL },
};
