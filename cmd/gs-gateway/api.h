/*
 * The HTTP API's routes (api.c runs them; gs-gateway(8), HTTP API).
 *
 * A route is a method, a path pattern and a pack function that turns
 * the call into one gs-persist request (lib/persist.h).  api.c checks,
 * in order: the route, the per-address limit, the token when the route
 * wants one (then the per-account limit), the body (a JSON object, for
 * methods other than GET and DELETE); then it calls pack, sends the
 * request, and answers with the reply's body as JSON (or its error).
 * Each area of the API keeps its routes in its own table, ended by a
 * row whose path is NULL, listed in api.c's route_tables.
 */
#ifndef GW_API_H
#define GW_API_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "http.h"
#include "mp.h"

#define GW_API_ARGS	2	/* "*" segments in one pattern */
#define GW_API_ARG_MAX	64	/* bytes of one */

struct gw;
struct gw_token;

/* The "*" segments of a route's pattern, in order, NUL-terminated
 * (already %-decoded by lib/http.c). */
struct api_args {
	char	 v[GW_API_ARGS][GW_API_ARG_MAX + 1];
	size_t	 n;
};

/*
 * Pack the gs-persist request for a call into w ([op, args...]).
 * body: the JSON object (NULL for GET and DELETE), borrowed; tok: the
 * caller's token (zeroed when the route wants none).  Return 0 to send
 * w; -1 with *why (a message) for a 400 "args"; 1 when pack has
 * answered req itself (gs_http_reply_error).
 */
typedef int api_pack_fn(struct gw *, struct gs_http_req *, json_t *body,
	    const struct gw_token *tok, const struct api_args *args,
	    struct gs_wr *w, const char **why);

struct api_route {
	enum gs_http_method	 method;
	const char		*path;		/* pattern; "*": a segment */
	bool			 auth;		/* needs a Bearer token */
	unsigned		 cost;		/* tokens of the limits */
	api_pack_fn		*pack;
};

/* The tables besides api.c's own (api_lb.c, api_player.c). */
extern const struct api_route gw_lb_routes[];
extern const struct api_route gw_player_routes[];
extern const struct api_route gw_social_routes[];
/* api_social.c: called every second with gs-persist configured (the
 * revocation poll's timer), to report presence. */
void		 gw_social_tick(struct gw *gw);

/* body[key] as a string of min to max bytes (no NUL inside), or NULL.
 * A missing key or null: NULL, and *why set unless optional.  A wrong
 * type or length: NULL and *why set.  *why is a static buffer. */
const char	*gw_body_str(json_t *body, const char *key, size_t min,
		    size_t max, bool optional, const char **why);
/* s, or nil when s is NULL. */
void		 gw_wr_str_or_nil(struct gs_wr *w, const char *s);
/* A whole decimal query parameter in [min, max], or def when absent;
 * -1 (and *why) when present and malformed. */
int		 gw_query_int(struct gs_http_req *req, const char *name,
		    long long min, long long max, long long def,
		    long long *out, const char **why);

#endif
