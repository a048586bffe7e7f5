/*
 * The HTTP API of player data: profiles, stats, matches (api.h,
 * gs-gateway(8) HTTP API).  Players read their own data and change
 * their own profile; stats, match results and checkpoints are written
 * by sims, straight to gs-persist, and have no route here.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "persist.h"
#include "proto.h"
#include "util.h"

#include "json.h"

#include "gateway.h"
#include "api.h"

#define GW_MATCHES_DEFAULT	20	/* a page when limit is absent */

/* [op, the caller's account] */
static void
pack_own(struct gs_wr *w, const char *op, const struct gw_token *tok)
{
	gs_wr_array(w, 2);
	gs_wr_str(w, op);
	gs_wr_uint(w, tok->account);
}

static int
pack_profile(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	pack_own(w, "profile", tok);
	return 0;
}

/* {name?, avatar?, metadata?}: what is given is replaced. */
static int
pack_profile_set(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	static char	 msg[96];
	const char	*k, *name, *avatar;
	json_t		*v, *meta;

	*why = NULL;
	json_object_foreach(body, k, v) {
		if (strcmp(k, "name") != 0 && strcmp(k, "avatar") != 0 &&
		    strcmp(k, "metadata") != 0) {
			(void)snprintf(msg, sizeof(msg), "unknown field "
			    "\"%.32s\": name, avatar and metadata can be "
			    "set", k);
			*why = msg;
			return -1;
		}
	}
	name = gw_body_str(body, "name", 1, GS_NAME_MAX, true, why);
	avatar = gw_body_str(body, "avatar", 0, GS_PST_AVATAR_MAX, true, why);
	if (*why != NULL)
		return -1;
	if ((meta = json_object_get(body, "metadata")) != NULL &&
	    json_is_null(meta))
		meta = NULL;
	if (meta != NULL && !json_is_object(meta)) {
		*why = "metadata: a JSON object";
		return -1;
	}
	gs_wr_array(w, 3);
	gs_wr_str(w, "profile_set");
	gs_wr_uint(w, tok->account);
	gs_wr_map(w, (name != NULL) + (avatar != NULL) + (meta != NULL));
	if (name != NULL) {
		gs_wr_str(w, "name");
		gs_wr_str(w, name);
	}
	if (avatar != NULL) {
		gs_wr_str(w, "avatar");
		gs_wr_str(w, avatar);
	}
	if (meta != NULL) {
		gs_wr_str(w, "metadata");
		if (gs_json_to_mp(meta, w, GS_PST_JSON_DEPTH) != 0) {
			(void)snprintf(msg, sizeof(msg), "metadata: nested "
			    "deeper than %d", GS_PST_JSON_DEPTH);
			*why = msg;
			return -1;
		}
	}
	return 0;
}

/* /v1/profiles/<account>: anyone's public profile. */
static int
pack_profile_public(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	const char	*s = args->v[0];
	long long	 id;

	/* Digits only: gs_parse_ll alone takes signs and spaces. */
	if (s[strspn(s, "0123456789")] != '\0' ||
	    gs_parse_ll(s, 1, INT64_MAX, &id) != GS_OK) {
		*why = "account: an id, digits only, 1 and up";
		return -1;
	}
	gs_wr_array(w, 2);
	gs_wr_str(w, "profile");
	gs_wr_uint(w, (uint64_t)id);
	return 0;
}

static int
pack_stats(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	pack_own(w, "stats", tok);
	return 0;
}

/* ?limit=N&before=T */
static int
pack_matches(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	long long	limit, before;

	if (gw_query_int(req, "limit", 1, GS_PST_MATCHES_MAX,
	    GW_MATCHES_DEFAULT, &limit, why) != 0 ||
	    gw_query_int(req, "before", 0, INT64_MAX, 0, &before, why) != 0)
		return -1;
	gs_wr_array(w, 4);
	gs_wr_str(w, "matches");
	gs_wr_uint(w, tok->account);
	gs_wr_int(w, limit);
	gs_wr_int(w, before);
	return 0;
}

const struct api_route gw_player_routes[] = {
	{ GS_HTTP_GET, "/v1/account/profile", true, 1, pack_profile },
	{ GS_HTTP_PATCH, "/v1/account/profile", true, 1, pack_profile_set },
	{ GS_HTTP_GET, "/v1/profiles/*", false, 1, pack_profile_public },
	{ GS_HTTP_GET, "/v1/account/stats", true, 1, pack_stats },
	{ GS_HTTP_GET, "/v1/account/matches", true, 1, pack_matches },
	{ 0, NULL, false, 0, NULL },
};
