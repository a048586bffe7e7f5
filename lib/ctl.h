/*
 * The control socket every daemon serves, for gs-ctl.
 *
 * REP socket on the loop (RECVFD watcher); one request at a time,
 * answered before the next is read, by a handler on the loop thread.
 * ipc:// sockets are created mode 0600.
 *
 * Request:  msgpack array  [command:str, arg...]
 * Reply:    msgpack array  [status:uint, body]
 *           status 0: body is the command's result (usually a map);
 *           otherwise status is a GS_CTL_E* code and body a message str.
 *
 * Built-in commands, answered for every daemon:
 *   status   {"prog","version","pid","uptime_s", ...daemon's fields}
 *   metrics  the Prometheus exposition text as a str
 *   help     array of command names
 */
#ifndef GS_CTL_H
#define GS_CTL_H

#include <ev.h>

#include "metrics.h"
#include "mp.h"

enum {
	GS_CTL_OK = 0,
	GS_CTL_EUNKNOWN = 1,	/* no such command */
	GS_CTL_EARGS = 2,	/* missing or malformed arguments */
	GS_CTL_ENOTFOUND = 3,	/* the named object does not exist */
	GS_CTL_EFAIL = 4,	/* the command failed */
	/* Returned by a handler: the answer comes later, through
	 * gs_ctl_defer_body() and gs_ctl_defer_done(); no other request
	 * is read meanwhile. */
	GS_CTL_DEFER = -1,
};

/*
 * A command handler.  args points after the command name (read the
 * rest of the request with it).  On success pack exactly one value
 * into body and return GS_CTL_OK.  On failure return a code and set
 * *msg to a static or handler-owned string (the body written so far is
 * discarded).
 */
typedef int gs_ctl_fn(void *arg, struct gs_rd *args, struct gs_wr *body,
		const char **msg);

struct gs_ctl_cmd {
	const char	*name;
	gs_ctl_fn	*fn;
};

/* Extra key/value pairs for "status": write npairs pairs and return
 * their number (the map header is written by the server). */
typedef unsigned gs_ctl_status_fn(void *arg, struct gs_wr *body);

struct gs_ctl;

/* cmds is a table ending with {NULL, NULL}, borrowed (may be NULL).
 * metrics may be NULL ("metrics" then answers "").  status may be
 * NULL.  Built-ins take precedence over a table entry of the same
 * name.  Returns NULL on failure (logged). */
struct gs_ctl	*gs_ctl_listen(struct ev_loop *loop, const char *url,
		    const struct gs_ctl_cmd *cmds, gs_ctl_status_fn *status,
		    struct gs_metrics *metrics, void *arg);
/*
 * A deferred answer (the handler returned GS_CTL_DEFER): write the
 * body, exactly one value, into gs_ctl_defer_body() when the command
 * succeeded, then call gs_ctl_defer_done() with GS_CTL_OK, or with an
 * error code and a message (the body is then discarded).  From the
 * loop thread, once per deferral.
 */
struct gs_wr	*gs_ctl_defer_body(struct gs_ctl *ctl);
void		 gs_ctl_defer_done(struct gs_ctl *ctl, int code,
		    const char *msg);

/* Stop serving and free.  May be called from a handler: its reply is
 * still sent (if NNG takes it at once), then the socket closes. */
void		 gs_ctl_close(struct gs_ctl *ctl);
const char	*gs_ctl_err_name(int code);

/*
 * Identifiers in replies (connections, players, entities) are 64-bit:
 * written as strings of decimal digits, so that a JSON reader, which
 * holds integers exactly only up to 2^53, never rounds one, and an id
 * field has one type whatever its value.  Instances (random) are 16
 * hex digits, as in the logs.
 */
void		 gs_ctl_put_id(struct gs_wr *body, uint64_t id);
void		 gs_ctl_put_instance(struct gs_wr *body, uint64_t instance);

#endif
