/*
 * The HTTP API of friends and chat (api.h; gs-gateway(8), HTTP API),
 * and this gateway's presence report to gs-persist.
 *
 * Presence.  gs-persist tells a friend list's online state from the
 * players the gateways say they have: every gateway sends it the whole
 * list of accounts playing or joining on it ("presence"), which
 * replaces its previous one there and counts for GW_PRESENCE_TTL_S.
 * gw_social_tick (every second) sends the list when it changed, and
 * otherwise every GW_PRESENCE_REFRESH_S so that it does not expire; a
 * gateway that dies stops counting when its last list expires.
 *
 * Why the whole list rather than changes: a list replaces, so a lost
 * or repeated request, a gs-persist restart or a gateway restart needs
 * no sequence numbers or resynchronisation, the next list is simply
 * right; and it costs at most 9 bytes a player every refresh (or every
 * second while players come and go), 90 KB for 10,000 players.  A
 * change is noticed by a fingerprint of the list (its count and a
 * keyed sum over its accounts), so the gateway keeps no copy of it.
 */
#include <stddef.h>
#include <string.h>

#include "persist.h"
#include "util.h"

#include "gateway.h"
#include "api.h"

#define GW_PRESENCE_REFRESH_S	5	/* an unchanged list is resent */
#define GW_PRESENCE_TTL_S	15	/* and counts this long: 3 periods */
#define GW_HISTORY_DEFAULT	20	/* a page when limit is absent */

/* The presence report's state: one gateway per process. */
static struct {
	uint64_t	seed;		/* keys the fingerprint */
	uint64_t	sum;		/* fingerprint of the list last sent */
	uint32_t	n;
	unsigned	age;		/* ticks since then */
	bool		sent;		/* a list went and was taken */
	bool		busy;		/* a report is in flight */
} pres;

/* ----------------------------------------------------------- helpers */

/* args->v[0] as an account id: digits only, 1 and up.  0, or -1 and
 * *why. */
static int
arg_account(const struct api_args *args, uint64_t *out, const char **why)
{
	const char	*s = args->v[0];
	long long	 id;

	/* gs_parse_ll alone takes signs and spaces. */
	if (s[strspn(s, "0123456789")] != '\0' ||
	    gs_parse_ll(s, 1, INT64_MAX, &id) != GS_OK) {
		*why = "account: an id, digits only, 1 and up";
		return -1;
	}
	*out = (uint64_t)id;
	return 0;
}

/* [op, the caller, the account of the path] */
static int
pack_pair(const char *op, const struct gw_token *tok,
    const struct api_args *args, struct gs_wr *w, const char **why)
{
	uint64_t	other;

	if (arg_account(args, &other, why) != 0)
		return -1;
	gs_wr_array(w, 3);
	gs_wr_str(w, op);
	gs_wr_uint(w, tok->account);
	gs_wr_uint(w, other);
	return 0;
}

/* ----------------------------------------------------------- friends */

static int
pack_friend_list(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	gs_wr_array(w, 2);
	gs_wr_str(w, "friend_list");
	gs_wr_uint(w, tok->account);
	return 0;
}

static int
pack_friend_add(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	return pack_pair("friend_add", tok, args, w, why);
}

static int
pack_friend_remove(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	return pack_pair("friend_remove", tok, args, w, why);
}

static int
pack_friend_block(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	return pack_pair("friend_block", tok, args, w, why);
}

static int
pack_friend_unblock(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	return pack_pair("friend_unblock", tok, args, w, why);
}

/* -------------------------------------------------------------- chat */

/* POST /v1/chat/CHANNEL {"text"}: gs-persist checks the channel and
 * the text's UTF-8 (jansson's strings are UTF-8 already). */
static int
pack_chat_send(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	const char	*text;

	*why = NULL;
	if ((text = gw_body_str(body, "text", 1, GS_PST_CHAT_TEXT_MAX, false,
	    why)) == NULL)
		return -1;
	gs_wr_array(w, 4);
	gs_wr_str(w, "chat_send");
	gs_wr_uint(w, tok->account);
	gs_wr_str(w, args->v[0]);
	gs_wr_str(w, text);
	return 0;
}

/* GET /v1/chat/CHANNEL?before=ID&limit=N */
static int
pack_chat_history(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	long long	before, limit;

	if (gw_query_int(req, "before", 0, INT64_MAX, 0, &before, why) != 0 ||
	    gw_query_int(req, "limit", 1, GS_PST_CHAT_PAGE_MAX,
	    GW_HISTORY_DEFAULT, &limit, why) != 0)
		return -1;
	gs_wr_array(w, 5);
	gs_wr_str(w, "chat_history");
	gs_wr_uint(w, tok->account);
	gs_wr_str(w, args->v[0]);
	gs_wr_uint(w, (uint64_t)before);
	gs_wr_uint(w, (uint64_t)limit);
	return 0;
}

static int
pack_group(const char *op, const struct gw_token *tok,
    const struct api_args *args, struct gs_wr *w)
{
	gs_wr_array(w, 3);
	gs_wr_str(w, op);
	gs_wr_uint(w, tok->account);
	gs_wr_str(w, args->v[0]);
	return 0;
}

static int
pack_group_join(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	return pack_group("group_join", tok, args, w);
}

static int
pack_group_leave(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	return pack_group("group_leave", tok, args, w);
}

/* PUT routes take a JSON object body like every other method with one
 * (api.c): "{}". */
const struct api_route gw_social_routes[] = {
	{ GS_HTTP_GET, "/v1/friends", true, 1, pack_friend_list },
	{ GS_HTTP_PUT, "/v1/friends/*", true, 1, pack_friend_add },
	{ GS_HTTP_DELETE, "/v1/friends/*", true, 1, pack_friend_remove },
	{ GS_HTTP_PUT, "/v1/friends/*/block", true, 1, pack_friend_block },
	{ GS_HTTP_DELETE, "/v1/friends/*/block", true, 1,
	  pack_friend_unblock },
	{ GS_HTTP_POST, "/v1/chat/*", true, 1, pack_chat_send },
	{ GS_HTTP_GET, "/v1/chat/*", true, 1, pack_chat_history },
	{ GS_HTTP_PUT, "/v1/groups/*", true, 1, pack_group_join },
	{ GS_HTTP_DELETE, "/v1/groups/*", true, 1, pack_group_leave },
	{ 0, NULL, false, 0, NULL },
};

/* ---------------------------------------------------------- presence */

/* Whether c counts as online: a player's account, in a room or on its
 * way there. */
static bool
presence_counts(const struct gw_client *c)
{
	return c->account != 0 && (c->state == GW_PLAYING ||
	    c->state == GW_JOINING);
}

static void
presence_cb(void *arg, int err, const uint8_t *rep, size_t len)
{
	struct gw	*gw = arg;
	struct gs_rd	 rd;
	uint64_t	 status;

	pres.busy = false;
	if (err == GS_ECLOSED)
		return;		/* the gateway is closing */
	gs_rd_init(&rd, rep, len);
	(void)gs_rd_array_n(&rd, 2, 2);
	status = gs_rd_uint(&rd, UINT32_MAX);
	if (err != GS_OK || rd.err != GS_OK || status != GS_PST_OK) {
		pres.sent = false;	/* again at the next tick */
		if (gs_ratelimit_ok(&gw->rl_sim, 5))
			gs_log_warnx("presence report failed err=%s "
			    "status=%s", gs_err_name(err != GS_OK ? err :
			    rd.err), rd.err == GS_OK ?
			    gs_pst_err_name((unsigned)status) : "-");
	}
}

/*
 * Every second (api.c's revocation timer, with -P): send gs-persist
 * this gateway's players when they changed since the last report, or
 * when it is GW_PRESENCE_REFRESH_S old.  At most GS_PST_PRESENCE_MAX
 * accounts go; past that the others count as offline (logged).
 */
void
gw_social_tick(struct gw *gw)
{
	struct gw_client	*c;
	struct gs_wr		 w;
	uint64_t		 sum = 0, h;
	uint32_t		 n = 0, cut = 0, i;
	int			 rc;

	if (gw->api.rpc == NULL || pres.busy)
		return;
	if (pres.seed == 0)
		pres.seed = gs_random_u64() | 1;
	for (c = gw->clients; c != NULL; c = c->next) {
		if (!presence_counts(c))
			continue;
		if (n == GS_PST_PRESENCE_MAX) {
			cut++;
			continue;
		}
		h = c->account ^ pres.seed;
		sum += gs_rand_next(&h);
		n++;
	}
	pres.age++;
	if (pres.sent && sum == pres.sum && n == pres.n &&
	    pres.age < GW_PRESENCE_REFRESH_S)
		return;
	if (!gs_rpc_connected(gw->api.rpc)) {
		pres.sent = false;
		return;
	}
	gs_wr_init(&w, 64 + (size_t)n * 9, GS_PST_REQ_MAX);
	gs_wr_array(&w, 4);
	gs_wr_str(&w, "presence");
	gs_wr_uint(&w, gw->instance);
	gs_wr_uint(&w, GW_PRESENCE_TTL_S);
	gs_wr_array(&w, n);
	for (c = gw->clients, i = 0; c != NULL && i < n; c = c->next)
		if (presence_counts(c)) {
			gs_wr_uint(&w, c->account);
			i++;
		}
	if (cut > 0 && gs_ratelimit_ok(&gw->rl_sim, 5))
		gs_log_warnx("presence list cut max=%d left_out=%u",
		    GS_PST_PRESENCE_MAX, cut);
	rc = w.err;
	if (rc == GS_OK)
		rc = gs_rpc_call(gw->api.rpc, w.buf, w.len, GW_API_TIMEOUT_MS,
		    presence_cb, gw);
	gs_wr_free(&w);
	if (rc != GS_OK) {
		pres.sent = false;
		if (gs_ratelimit_ok(&gw->rl_sim, 5))
			gs_log_warnx("presence report not sent err=%s",
			    gs_err_name(rc));
		return;
	}
	pres.busy = true;
	pres.sent = true;
	pres.sum = sum;
	pres.n = n;
	pres.age = 0;
}
