/*
 * The HTTP JSON API under /v1/ (gs-gateway(8), HTTP API), and the
 * gateway's side of accounts: access-token checks for hello and for
 * API calls, and the revocations polled from gs-persist.
 *
 * Each API call becomes one request to gs-persist (lib/persist.h)
 * through gs_rpc; its reply is turned into JSON with jansson.  In
 * front of the RPC:
 *
 *   rate limits   per source address (every call) and per account
 *		   (calls with a token; logins by username), token
 *		   buckets (limit.h): 429 with Retry-After;
 *   a breaker	   (breaker.h): after failures gs-persist gets no calls
 *		   for a while, and callers get 503 with Retry-After at
 *		   once instead of waiting for a timeout each;
 *   in flight	   at most GW_API_INFLIGHT calls: 503 beyond.
 *
 * Games in progress never wait on any of this: hello checks a token
 * with the public key alone, and revocations arrive by polling.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "persist.h"
#include "util.h"

#include "gateway.h"
#include "api.h"

/* An API call waiting for gs-persist. */
struct api_call {
	struct gw		*gw;
	struct gs_http_req	*req;
	const struct api_route	*route;
};

/* ------------------------------------------------------------ replies */

/* HTTP status of a gs-persist error code. */
static unsigned
api_status_of(unsigned pst)
{
	switch (pst) {
	case GS_PST_EARGS:	return 400;
	case GS_PST_EAUTH:	return 401;
	case GS_PST_EBANNED:	return 403;
	case GS_PST_EFORBIDDEN:	return 403;
	case GS_PST_ENOTFOUND:	return 404;
	case GS_PST_ECONFLICT:	return 409;
	case GS_PST_EBUSY:	return 503;
	default:		return 500;
	}
}

/* -------------------------------------------------------------- body */

const char *
gw_body_str(json_t *body, const char *key, size_t min, size_t max,
    bool optional, const char **why)
{
	static char	 msg[128];
	json_t		*v = json_object_get(body, key);
	size_t		 n;

	if (v == NULL || json_is_null(v)) {
		if (!optional) {
			(void)snprintf(msg, sizeof(msg), "%s is required",
			    key);
			*why = msg;
		}
		return NULL;
	}
	n = json_string_length(v);
	if (!json_is_string(v) || n < min || n > max ||
	    memchr(json_string_value(v), '\0', n) != NULL) {
		(void)snprintf(msg, sizeof(msg), "%s: a string of %zu to %zu "
		    "bytes", key, min, max);
		*why = msg;
		return NULL;
	}
	return json_string_value(v);
}

int
gw_query_int(struct gs_http_req *req, const char *name, long long min,
    long long max, long long def, long long *out, const char **why)
{
	static char	 msg[128];
	const char	*v = gs_http_req_query(req, name);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (gs_parse_ll(v, min, max, out) != GS_OK) {
		(void)snprintf(msg, sizeof(msg), "%s: a whole number from %lld "
		    "to %lld", name, min, max);
		*why = msg;
		return -1;
	}
	return 0;
}

void
gw_wr_str_or_nil(struct gs_wr *w, const char *s)
{
	if (s != NULL)
		gs_wr_str(w, s);
	else
		gs_wr_nil(w);
}

static int
pack_guest(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	const char	*dev, *name;

	*why = NULL;
	dev = gw_body_str(body, "device", 1, GS_PST_DEVICE_MAX, false, why);
	name = gw_body_str(body, "name", 1, GS_NAME_MAX, true, why);
	if (*why != NULL)
		return -1;
	gs_wr_array(w, 3);
	gs_wr_str(w, "guest");
	gs_wr_str(w, dev);
	gw_wr_str_or_nil(w, name);
	return 0;
}

/* Usernames are not case-sensitive: folded here, before the limit by
 * username and before gs-persist. */
static const char *
body_user(json_t *body, char *buf, size_t cap, const char **why)
{
	const char	*u;
	size_t		 i;

	if ((u = gw_body_str(body, "username", GS_PST_USER_MIN,
	    GS_PST_USER_MAX, false, why)) == NULL)
		return NULL;
	for (i = 0; u[i] != '\0' && i + 1 < cap; i++)
		buf[i] = (u[i] >= 'A' && u[i] <= 'Z') ? (char)(u[i] + 32) :
		    u[i];
	buf[i] = '\0';
	return buf;
}

static int
pack_login(struct gw *gw, struct gs_http_req *req, json_t *body,
    struct gs_wr *w, const char **why, bool reg)
{
	char		 ubuf[GS_PST_USER_MAX + 1];
	const char	*user, *pass, *name = NULL;
	unsigned	 retry;

	*why = NULL;
	user = body_user(body, ubuf, sizeof(ubuf), why);
	pass = gw_body_str(body, "password", GS_PST_PASS_MIN, GS_PST_PASS_MAX,
	    false, why);
	if (reg)
		name = gw_body_str(body, "name", 1, GS_NAME_MAX, true, why);
	if (*why != NULL)
		return -1;
	/* Guessing one account's password from many addresses. */
	if (!gs_limit_take(gw->api.by_account, user, strlen(user), gs_now_us(),
	    GW_API_HASH_COST, &retry)) {
		gs_counter_inc(gw->m.api_limited);
		gs_http_reply_error(req, 429, "ratelimit", "too many attempts "
		    "for this account; retry later", retry);
		return 1;
	}
	gs_wr_array(w, reg ? 4 : 3);
	gs_wr_str(w, reg ? "register" : "login");
	gs_wr_str(w, user);
	gs_wr_str(w, pass);
	if (reg)
		gw_wr_str_or_nil(w, name);
	return 0;
}

static int
pack_register(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	return pack_login(gw, req, body, w, why, true);
}

static int
pack_password(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	return pack_login(gw, req, body, w, why, false);
}

static int
pack_refresh_op(json_t *body, struct gs_wr *w, const char **why,
    const char *op)
{
	const char	*r;

	*why = NULL;
	if ((r = gw_body_str(body, "refresh", 1, GS_PST_REFRESH_MAX, false,
	    why)) == NULL)
		return -1;
	gs_wr_array(w, 2);
	gs_wr_str(w, op);
	gs_wr_str(w, r);
	return 0;
}

static int
pack_refresh(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	return pack_refresh_op(body, w, why, "refresh");
}

static int
pack_logout(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	return pack_refresh_op(body, w, why, "logout");
}

static int
pack_account(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	gs_wr_array(w, 3);
	gs_wr_str(w, "account");
	gs_wr_uint(w, tok->account);
	gs_wr_bool(w, false);	/* the device ids are logins: not shown */
	return 0;
}

static int
pack_link(struct gw *gw, struct gs_http_req *req, json_t *body,
    const struct gw_token *tok, const struct api_args *args, struct gs_wr *w,
    const char **why)
{
	const char	*dev;

	*why = NULL;
	/* A device links for good: ask for a fresh login, not any token
	 * that is still valid. */
	if (tok->iat < (int64_t)(gs_wall_us() / 1000000) - GW_LINK_FRESH_S) {
		gs_http_reply_error(req, 401, "unauthorized", "linking a "
		    "device needs a token from a login in the last 5 minutes",
		    0);
		return 1;
	}
	if ((dev = gw_body_str(body, "device", 1, GS_PST_DEVICE_MAX, false,
	    why)) == NULL)
		return -1;
	gs_wr_array(w, 3);
	gs_wr_str(w, "link");
	gs_wr_uint(w, tok->account);
	gs_wr_str(w, dev);
	return 0;
}

static const struct api_route auth_routes[] = {
	{ GS_HTTP_POST, "/v1/auth/guest", false, 1, pack_guest },
	{ GS_HTTP_POST, "/v1/auth/register", false, GW_API_HASH_COST,
	  pack_register },
	{ GS_HTTP_POST, "/v1/auth/login", false, GW_API_HASH_COST,
	  pack_password },
	{ GS_HTTP_POST, "/v1/auth/refresh", false, 1, pack_refresh },
	{ GS_HTTP_POST, "/v1/auth/logout", false, 1, pack_logout },
	{ GS_HTTP_GET, "/v1/account", true, 1, pack_account },
	{ GS_HTTP_POST, "/v1/account/link", true, 1, pack_link },
	{ 0, NULL, false, 0, NULL },
};

/* Every route, table by table (api.h). */
static const struct api_route *const route_tables[] = {
	auth_routes,
	gw_lb_routes,
	gw_player_routes,
	gw_social_routes,
};

/* ------------------------------------------------------------ tokens */

/* The revocation that applies to a token, if any. */
static bool
api_revoked(const struct gw *gw, uint64_t account, uint64_t sid,
    int64_t iat)
{
	const struct gw_revocation	*r;
	size_t				 i;

	for (i = 0; i < gw->api.nrevoked; i++) {
		r = &gw->api.revoked[i];
		if (r->account == account && (r->session == 0 ||
		    r->session == sid) && iat <= r->not_before)
			return true;
	}
	return false;
}

int
gw_token_check(struct gw *gw, const char *text, size_t len,
    struct gw_token *out, const char **why)
{
	struct gs_jwt_claims	c;
	int			rc;

	if (gw->api.keys == NULL) {
		*why = "tokens cannot be checked: the gateway has no key (-k)";
		return -1;
	}
	rc = gs_jwt_verify(gw->api.keys, text, len, (int64_t)(gs_wall_us() /
	    1000000), GW_TOKEN_LEEWAY_S, &c);
	if (rc != GS_JWT_OK) {
		gs_counter_inc(gw->m.tokens_bad);
		*why = rc == GS_JWT_EEXPIRED ? "the access token has expired" :
		    "the access token is not valid";
		return -1;
	}
	if (api_revoked(gw, c.sub, c.sid, c.iat)) {
		gs_counter_inc(gw->m.tokens_revoked);
		*why = "the session was revoked";
		return -1;
	}
	out->account = c.sub;
	out->sid = c.sid;
	out->iat = c.iat;
	(void)gs_strlcpy(out->name, c.name, sizeof(out->name));
	return 0;
}

/* ------------------------------------------------------------ calls */

static void
api_rpc_cb(void *arg, int err, const uint8_t *rep, size_t len)
{
	struct api_call	*call = arg;
	struct gw	*gw = call->gw;
	struct gs_rd	 rd;
	json_t		*body;
	char		 msg[256];
	uint64_t	 status;

	gw->api.inflight--;
	if (err != GS_OK) {
		breaker_done(&gw->api.breaker, gs_now_us(), false);
		gs_counter_inc(gw->m.api_persist_fail);
		if (gs_ratelimit_ok(&gw->rl_sim, 5))
			gs_log_warnx("persist call failed path=%s err=%s",
			    call->route->path, gs_err_name(err));
		gs_http_reply_error(call->req, 503,
		    "unavailable", "accounts are "
		    "unavailable; retry later", GW_API_RETRY_S);
		free(call);
		return;
	}
	gs_rd_init(&rd, rep, len);
	(void)gs_rd_array_n(&rd, 2, 2);
	status = gs_rd_uint(&rd, GS_PST_EMAX - 1);
	if (rd.err != GS_OK) {
		breaker_done(&gw->api.breaker, gs_now_us(), false);
		gs_http_reply_error(call->req, 502,
		    "internal", "bad reply from "
		    "gs-persist", 0);
		free(call);
		return;
	}
	/* busy and internal count against gs-persist's health. */
	breaker_done(&gw->api.breaker, gs_now_us(),
	    status != GS_PST_EBUSY && status != GS_PST_EINTERNAL);
	if (status != GS_PST_OK) {
		(void)gs_rd_str(&rd, msg, sizeof(msg));
		if (rd.err != GS_OK)
			(void)gs_strlcpy(msg, "error", sizeof(msg));
		gs_http_reply_error(call->req, api_status_of((unsigned)status),
		    gs_pst_err_name((unsigned)status), msg,
		    status == GS_PST_EBUSY ? GW_API_RETRY_S : 0);
		free(call);
		return;
	}
	if ((body = gs_json_from_mp(&rd)) == NULL || gs_rd_end(&rd) != GS_OK) {
		json_decref(body);
		gs_http_reply_error(call->req, 502,
		    "internal", "bad reply from "
		    "gs-persist", 0);
		free(call);
		return;
	}
	gs_http_reply_json(call->req, 200, body, 0);
	free(call);
}

/*
 * Match path against a route's pattern: "*" matches one segment (1 to
 * GW_API_ARG_MAX bytes, no "/"), captured into args in order.
 */
static bool
api_path_match(const char *pat, const char *path, struct api_args *args)
{
	const char	*e;
	size_t		 n;

	args->n = 0;
	while (*pat != '\0' && *path != '\0') {
		if (*pat == '*') {
			e = strchr(path, '/');
			n = e != NULL ? (size_t)(e - path) : strlen(path);
			if (n == 0 || n > GW_API_ARG_MAX ||
			    args->n == GW_API_ARGS)
				return false;
			memcpy(args->v[args->n], path, n);
			args->v[args->n][n] = '\0';
			args->n++;
			path += n;
			pat++;
			continue;
		}
		if (*pat++ != *path++)
			return false;
	}
	return *pat == '\0' && *path == '\0';
}

static const struct api_route *
api_route_find(const char *path, enum gs_http_method m, bool *path_known,
    struct api_args *args)
{
	const struct api_route	*rt;
	size_t			 i;

	*path_known = false;
	for (i = 0; i < GS_NELEM(route_tables); i++)
		for (rt = route_tables[i]; rt->path != NULL; rt++) {
			if (!api_path_match(rt->path, path, args))
				continue;
			*path_known = true;
			if (rt->method == m)
				return rt;
		}
	return NULL;
}

/* gs_http_api_cb: every request under /v1/. */
void
gw_api_cb(void *arg, struct gs_http_req *req)
{
	struct gw		*gw = arg;
	struct gw_api		*api = &gw->api;
	const struct api_route	*rt;
	struct api_call		*call;
	struct gw_token		 tok;
	struct api_args		 args;
	json_t			*body = NULL;
	json_error_t		 jerr;
	const uint8_t		*raw;
	const char		*why = NULL, *bearer;
	const void		*ip;
	size_t			 len, iplen;
	unsigned		 retry;
	uint64_t		 now = gs_now_us();
	bool			 known;
	int			 rc;

	gs_counter_inc(gw->m.api_requests);
	if ((rt = api_route_find(gs_http_req_path(req),
	    gs_http_req_method(req), &known, &args)) == NULL) {
		if (known)
			gs_http_reply_error(req, 405,
			    "method", "method not allowed", 0);
		else
			gs_http_reply_error(req, 404,
			    "not_found", "no such endpoint", 0);
		return;
	}
	ip = gs_http_req_peer_key(req, &iplen);
	if (!gs_limit_take(api->by_ip, ip, iplen, now, rt->cost, &retry)) {
		gs_counter_inc(gw->m.api_limited);
		gs_http_reply_error(req, 429,
		    "ratelimit", "too many requests from this "
		    "address; retry later", retry);
		return;
	}
	memset(&tok, 0, sizeof(tok));
	if (rt->auth) {
		if ((bearer = gs_http_req_bearer(req)) == NULL) {
			gs_http_reply_error(req, 401,
			    "unauthorized", "an access token "
			    "is required (Authorization: Bearer)", 0);
			return;
		}
		if (gw_token_check(gw, bearer, strlen(bearer), &tok,
		    &why) != 0) {
			gs_http_reply_error(req, 401, "unauthorized", why, 0);
			return;
		}
		if (!gs_limit_take(api->by_account, &tok.account,
		    sizeof(tok.account), now, rt->cost, &retry)) {
			gs_counter_inc(gw->m.api_limited);
			gs_http_reply_error(req, 429,
			    "ratelimit", "too many requests "
			    "for this account; retry later", retry);
			return;
		}
	}
	if (rt->method != GS_HTTP_GET && rt->method != GS_HTTP_DELETE) {
		raw = gs_http_req_body(req, &len);
		body = json_loadb((const char *)raw, len,
		    JSON_REJECT_DUPLICATES, &jerr);
		if (body == NULL || !json_is_object(body)) {
			json_decref(body);
			gs_http_reply_error(req, 400,
			    "json", "the body must be a JSON "
			    "object", 0);
			return;
		}
	}
	if (api->rpc == NULL) {
		json_decref(body);
		gs_http_reply_error(req, 503, "unavailable", "accounts are not "
		    "configured on this gateway (-P)", 0);
		return;
	}
	gs_wr_reset(&api->wr);
	rc = rt->pack(gw, req, body, &tok, &args, &api->wr, &why);
	json_decref(body);
	if (rc != 0) {
		if (rc < 0)
			gs_http_reply_error(req, 400, "args", why, 0);
		return;		/* rc > 0: answered already */
	}
	if (api->wr.err != GS_OK || (call = malloc(sizeof(*call))) == NULL) {
		gs_http_reply_error(req, 500, "internal", "out of memory", 0);
		return;
	}
	if (!gs_rpc_connected(api->rpc)) {
		/* Down: say so now rather than after a timeout. */
		free(call);
		gs_counter_inc(gw->m.api_persist_fail);
		gs_counter_inc(gw->m.api_persist_down);
		gs_http_reply_error(req, 503,
		    "unavailable", "accounts are unavailable; "
		    "retry later", GW_API_RETRY_S);
		return;
	}
	if (!breaker_allow(&api->breaker, now, &retry)) {
		free(call);
		gs_counter_inc(gw->m.api_breaker);
		gs_http_reply_error(req, 503,
		    "unavailable", "accounts are unavailable; "
		    "retry later", retry);
		return;
	}
	call->gw = gw;
	call->req = req;
	call->route = rt;
	rc = gs_rpc_call(api->rpc, api->wr.buf, api->wr.len,
	    GW_API_TIMEOUT_MS, api_rpc_cb, call);
	if (rc != GS_OK) {
		breaker_done(&api->breaker, now, rc == GS_EAGAIN);
		free(call);
		gs_http_reply_error(req, 503, "unavailable", rc == GS_EAGAIN ?
		    "too many calls in flight; retry later" :
		    "accounts are unavailable; retry later", GW_API_RETRY_S);
		return;
	}
	api->inflight++;
}

/* ------------------------------------------------------- revocations */

static void	revoked_poll(struct gw *gw);

static void
revoked_drop_old(struct gw_api *api, int64_t now)
{
	size_t	i, j;

	for (i = j = 0; i < api->nrevoked; i++)
		if (api->revoked[i].not_before + api->access_ttl + 
		    GW_TOKEN_LEEWAY_S >= now)
			api->revoked[j++] = api->revoked[i];
	api->nrevoked = j;
}

static int
revoked_add(struct gw *gw, const struct gw_revocation *r)
{
	struct gw_api		*api = &gw->api;
	struct gw_revocation	*n;
	struct gw_client	*c, *next;
	size_t			 cap;

	if (api->nrevoked == api->caprevoked) {
		cap = api->caprevoked == 0 ? 64 : api->caprevoked * 2;
		if ((n = realloc(api->revoked, cap * sizeof(*n))) == NULL)
			return -1;
		api->revoked = n;
		api->caprevoked = cap;
	}
	api->revoked[api->nrevoked++] = *r;
	/* End the live sessions it covers. */
	for (c = gw->clients; c != NULL; c = next) {
		next = c->next;
		if (c->account == r->account && (r->session == 0 ||
		    c->sid == r->session) && c->iat <= r->not_before) {
			gs_counter_inc(gw->m.tokens_revoked);
			gs_log_info("client revoked conn=%llu account=%llu",
			    (unsigned long long)c->conn,
			    (unsigned long long)c->account);
			gw_client_close(c, GS_PERR_NOAUTH, "the session was "
			    "revoked");
		}
	}
	return 0;
}

static void
revoked_cb(void *arg, int err, const uint8_t *rep, size_t len)
{
	struct gw		*gw = arg;
	struct gw_api		*api = &gw->api;
	struct gw_revocation	 r;
	struct gs_rd		 rd;
	const char		*k;
	size_t			 klen;
	uint32_t		 i, n, m;
	int64_t			 seq = api->revoked_seq;
	bool			 more = false;

	api->polling = false;
	if (err != GS_OK)
		return;		/* next tick tries again */
	gs_rd_init(&rd, rep, len);
	(void)gs_rd_array_n(&rd, 2, 2);
	if (gs_rd_uint(&rd, GS_PST_EMAX) != GS_PST_OK || rd.err != GS_OK)
		return;
	m = gs_rd_map(&rd, 16);
	for (i = 0; i < m && rd.err == GS_OK; i++) {
		k = gs_rd_strp(&rd, &klen, 32);
		if (rd.err != GS_OK)
			break;
		if (klen == 4 && memcmp(k, "list", 4) == 0) {
			n = gs_rd_array(&rd, 100000);
			while (n-- > 0 && rd.err == GS_OK) {
				(void)gs_rd_array_n(&rd, 4, 4);
				seq = gs_rd_int(&rd, 0, INT64_MAX);
				r.account = gs_rd_uint(&rd, INT64_MAX);
				r.session = gs_rd_uint(&rd, INT64_MAX);
				r.not_before = gs_rd_int(&rd, 0, INT64_MAX);
				if (rd.err == GS_OK &&
				    revoked_add(gw, &r) != 0)
					gs_log_warn("out of memory "
					    "what=revocation");
			}
		} else if (klen == 3 && memcmp(k, "seq", 3) == 0)
			seq = gs_rd_int(&rd, 0, INT64_MAX);
		else if (klen == 4 && memcmp(k, "more", 4) == 0)
			more = gs_rd_bool(&rd);
		else if (klen == 10 && memcmp(k, "access_ttl", 10) == 0)
			api->access_ttl = gs_rd_int(&rd, 0, 86400);
		else
			gs_rd_skip(&rd);
	}
	if (rd.err != GS_OK) {
		if (gs_ratelimit_ok(&gw->rl_sim, 5))
			gs_log_warnx("bad revocations reply err=%s",
			    gs_err_name(rd.err));
		return;
	}
	api->revoked_seq = seq;
	revoked_drop_old(api, (int64_t)(gs_wall_us() / 1000000));
	if (more)
		revoked_poll(gw);
}

static void
revoked_poll(struct gw *gw)
{
	struct gw_api	*api = &gw->api;
	uint8_t		 buf[32];
	struct gs_wr	 w;

	if (api->rpc == NULL || api->polling)
		return;
	gs_wr_init_fixed(&w, buf, sizeof(buf));
	gs_wr_array(&w, 2);
	gs_wr_str(&w, "revoked");
	gs_wr_int(&w, api->revoked_seq);
	if (gs_rpc_call(api->rpc, buf, w.len, GW_API_TIMEOUT_MS, revoked_cb,
	    gw) == GS_OK)
		api->polling = true;
}

static void
revoked_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	revoked_poll(w->data);
	gw_social_tick(w->data);
}

/* ------------------------------------------------------------ set-up */

int
gw_api_open(struct gw *gw, const struct gw_api_conf *conf)
{
	struct gw_api	*api = &gw->api;
	char		 why[512];
	unsigned	 i;

	api->conf = *conf;
	api->access_ttl = 3600;		/* until gs-persist says */
	gs_wr_init(&api->wr, 512, GS_PST_REQ_MAX);
	if (conf->nkeys > 0) {
		if ((api->keys = gs_jwt_keys_new()) == NULL)
			return -1;
		for (i = 0; i < conf->nkeys; i++)
			if (gs_jwt_keys_load(api->keys, conf->keys[i], why,
			    sizeof(why)) != GS_JWT_OK) {
				gs_log_warnx("cannot load key why=\"%s\"",
				    why);
				return -1;
			}
	}
	/* Bursts of twice the rate, and room for one login at least. */
	if ((api->by_ip = gs_limit_new(GW_API_LIMIT_KEYS, conf->ip_rate,
	    GS_MAX(conf->ip_rate * 2, GW_API_HASH_COST))) == NULL ||
	    (api->by_account = gs_limit_new(GW_API_LIMIT_KEYS, conf->account_rate,
	    GS_MAX(conf->account_rate * 2, GW_API_HASH_COST))) == NULL)
		return -1;
	breaker_init(&api->breaker, GW_API_BREAKER_FAILS,
	    GW_API_BREAKER_COOL_MS * 1000ULL);
	if (conf->persist_url != NULL) {
		if ((api->rpc = gs_rpc_open(gw->loop, conf->persist_url,
		    GW_API_INFLIGHT)) == NULL)
			return -1;
		ev_timer_init(&api->poll, revoked_timer_cb, 0.,
		    GW_REVOKED_POLL_S);
		api->poll.data = gw;
		ev_timer_start(gw->loop, &api->poll);
	}
	return 0;
}

void
gw_api_close(struct gw *gw)
{
	struct gw_api	*api = &gw->api;

	ev_timer_stop(gw->loop, &api->poll);
	if (api->rpc != NULL)
		gs_rpc_close(api->rpc);	/* pending calls: their cb, 503 */
	api->rpc = NULL;
	gs_jwt_keys_free(api->keys);
	api->keys = NULL;
	gs_limit_free(api->by_ip);
	gs_limit_free(api->by_account);
	api->by_ip = api->by_account = NULL;
	free(api->revoked);
	api->revoked = NULL;
	api->nrevoked = api->caprevoked = 0;
	gs_wr_free(&api->wr);
}
