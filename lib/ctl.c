/*
 * The control socket: a REP socket served on the loop.
 *
 * One request at a time: it is read (RECVFD watcher), answered by a
 * handler on the loop thread, and the reply is handed to NNG before the
 * next request is read.  NNG 1.5's REP socket loses a reply sent with
 * NNG_FLAG_NONBLOCK while the peer's pipe is still writing the previous
 * one (a client with several requests in flight), so a reply is sent
 * only once SENDFD says the socket is writable; until then the reply
 * waits here and RECVFD is not watched.  SENDFD is polled, never read.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "ctl.h"
#include "err.h"
#include "link.h"
#include "log.h"
#include "metrics.h"
#include "mp.h"
#include "util.h"

#ifndef GS_VERSION
#define GS_VERSION	"unknown"
#endif

#define CTL_REQ_MAX	(64 * 1024)	/* bytes of one request */
#define CTL_REPLY_MAX	(8u << 20)	/* bytes of one reply */
#define CTL_STATUS_MAX	(256 * 1024)	/* bytes of the daemon's status */
#define CTL_ARGS_MAX	64		/* elements of a request */
#define CTL_NAME_MAX	64		/* bytes of a command name */
#define CTL_BUDGET	16		/* requests per wake-up */
#define LOG_BURST	5

struct gs_ctl {
	struct ev_loop		*loop;
	nng_socket		 sock;
	char			*url;
	ev_io			 rio;		/* RECVFD */
	ev_io			 wio;		/* SENDFD, while pending */
	nng_msg			*pending;	/* reply waiting for SENDFD */
	const struct gs_ctl_cmd	*cmds;		/* borrowed */
	gs_ctl_status_fn	*status;
	struct gs_metrics	*metrics;	/* borrowed, may be NULL */
	void			*arg;
	uint64_t		 started_ms;
	int			 in_handler;
	int			 close_pending;	/* closed from a handler */
	int			 deferred;	/* a handler answers later */
	size_t			 defer_body;	/* where its body begins */
	struct gs_wr		 out;		/* the reply */
	struct gs_wr		 scratch;	/* status pairs */
	char			 msgbuf[160];	/* error texts built here */
	struct gs_ratelimit	 rl;
};

static const char *const builtin_names[] = { "status", "metrics", "help" };

void
gs_ctl_put_id(struct gs_wr *body, uint64_t id)
{
	char	s[24];

	(void)snprintf(s, sizeof(s), "%llu", (unsigned long long)id);
	gs_wr_str(body, s);
}

void
gs_ctl_put_instance(struct gs_wr *body, uint64_t instance)
{
	char	s[24];

	(void)snprintf(s, sizeof(s), "%016llx", (unsigned long long)instance);
	gs_wr_str(body, s);
}

const char *
gs_ctl_err_name(int code)
{
	switch (code) {
	case GS_CTL_OK:		return "ok";
	case GS_CTL_EUNKNOWN:	return "unknown";
	case GS_CTL_EARGS:	return "args";
	case GS_CTL_ENOTFOUND:	return "notfound";
	case GS_CTL_EFAIL:	return "fail";
	default:		return "error";
	}
}

/* Replace the reply with [code, msg]. */
static void
reply_err(struct gs_ctl *ctl, int code, const char *msg)
{
	gs_wr_truncate(&ctl->out, 0);
	gs_wr_array(&ctl->out, 2);
	gs_wr_uint(&ctl->out, (uint64_t)code);
	gs_wr_str(&ctl->out, msg != NULL ? msg : gs_ctl_err_name(code));
}

/* Start the reply as [0, and return the length where the body begins. */
static size_t
reply_ok(struct gs_ctl *ctl)
{
	gs_wr_truncate(&ctl->out, 0);
	gs_wr_array(&ctl->out, 2);
	gs_wr_uint(&ctl->out, GS_CTL_OK);
	return ctl->out.len;
}

/* Are buf[len] exactly n msgpack values? */
static int
exactly_values(const uint8_t *buf, size_t len, uint32_t n)
{
	struct gs_rd	rd = GS_RD_INIT(buf, len);

	while (n-- > 0)
		gs_rd_skip(&rd);
	return gs_rd_end(&rd) == GS_OK;
}

static void
builtin_status(struct gs_ctl *ctl)
{
	unsigned	npairs = 0;

	gs_wr_reset(&ctl->scratch);
	if (ctl->status != NULL)
		npairs = ctl->status(ctl->arg, &ctl->scratch);
	if (ctl->scratch.err != GS_OK || npairs > UINT32_MAX / 2 - 4 ||
	    !exactly_values(ctl->scratch.buf, ctl->scratch.len, npairs * 2)) {
		if (gs_ratelimit_ok(&ctl->rl, LOG_BURST))
			gs_log_warnx("ctl bad status url=%s pairs=%u "
			    "err=%s", ctl->url, npairs,
			    gs_err_name(ctl->scratch.err));
		reply_err(ctl, GS_CTL_EFAIL, "status fields malformed");
		return;
	}
	(void)reply_ok(ctl);
	gs_wr_map(&ctl->out, 4 + npairs);
	gs_wr_str(&ctl->out, "prog");
	gs_wr_str(&ctl->out, gs_log_prog());
	gs_wr_str(&ctl->out, "version");
	gs_wr_str(&ctl->out, GS_VERSION);
	gs_wr_str(&ctl->out, "pid");
	gs_wr_uint(&ctl->out, (uint64_t)getpid());
	gs_wr_str(&ctl->out, "uptime_s");
	gs_wr_uint(&ctl->out, (gs_now_ms() - ctl->started_ms) / 1000);
	gs_wr_raw(&ctl->out, ctl->scratch.buf, ctl->scratch.len);
}

static void
builtin_metrics(struct gs_ctl *ctl)
{
	char	*text;
	size_t	 len = 0;

	if (ctl->metrics == NULL) {
		(void)reply_ok(ctl);
		gs_wr_str(&ctl->out, "");
		return;
	}
	if ((text = gs_metrics_text(ctl->metrics, &len)) == NULL) {
		reply_err(ctl, GS_CTL_EFAIL, "cannot write metrics");
		return;
	}
	(void)reply_ok(ctl);
	gs_wr_strn(&ctl->out, text, len);
	free(text);
}

static void
builtin_help(struct gs_ctl *ctl)
{
	const struct gs_ctl_cmd	*c;
	uint32_t		 n = GS_NELEM(builtin_names);
	size_t			 i;

	for (c = ctl->cmds; c != NULL && c->name != NULL; c++)
		n++;
	(void)reply_ok(ctl);
	gs_wr_array(&ctl->out, n);
	for (i = 0; i < GS_NELEM(builtin_names); i++)
		gs_wr_str(&ctl->out, builtin_names[i]);
	for (c = ctl->cmds; c != NULL && c->name != NULL; c++)
		gs_wr_str(&ctl->out, c->name);
}

static int
name_is(const char *name, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(name, s, len) == 0;
}

/* Build the reply to req[len] in ctl->out.  Never fails: every problem
 * becomes an error reply. */
static void
ctl_handle(struct gs_ctl *ctl, const uint8_t *req, size_t len)
{
	const struct gs_ctl_cmd	*c;
	struct gs_rd		 rd = GS_RD_INIT(req, len), args;
	const char		*name, *msg;
	size_t			 nlen, i, body;
	uint32_t		 n;
	int			 code;

	n = gs_rd_array(&rd, CTL_ARGS_MAX);
	if (rd.err != GS_OK || n == 0) {
		reply_err(ctl, GS_CTL_EARGS,
		    "request must be an array [command, arg...]");
		return;
	}
	if ((name = gs_rd_strp(&rd, &nlen, CTL_NAME_MAX)) == NULL) {
		reply_err(ctl, GS_CTL_EARGS, "command must be a short string");
		return;
	}
	args = rd;
	for (i = 1; i < n; i++)
		gs_rd_skip(&rd);
	if (gs_rd_end(&rd) != GS_OK) {
		reply_err(ctl, GS_CTL_EARGS, "malformed request");
		return;
	}

	for (i = 0; i < GS_NELEM(builtin_names); i++)
		if (name_is(name, nlen, builtin_names[i]))
			break;
	if (i < GS_NELEM(builtin_names)) {
		if (n > 1) {
			(void)snprintf(ctl->msgbuf, sizeof(ctl->msgbuf),
			    "%s takes no arguments", builtin_names[i]);
			reply_err(ctl, GS_CTL_EARGS, ctl->msgbuf);
		} else if (i == 0)
			builtin_status(ctl);
		else if (i == 1)
			builtin_metrics(ctl);
		else
			builtin_help(ctl);
		goto check;
	}

	for (c = ctl->cmds; c != NULL && c->name != NULL; c++)
		if (name_is(name, nlen, c->name))
			break;
	if (c == NULL || c->name == NULL) {
		char	shown[CTL_NAME_MAX + 1];

		/* Echo the name, but only printable bytes of it. */
		for (i = 0; i < nlen; i++)
			shown[i] = name[i] >= 0x20 && name[i] < 0x7f ?
			    name[i] : '?';
		shown[nlen] = '\0';
		(void)snprintf(ctl->msgbuf, sizeof(ctl->msgbuf),
		    "unknown command '%s' (try help)", shown);
		reply_err(ctl, GS_CTL_EUNKNOWN, ctl->msgbuf);
		return;
	}

	body = reply_ok(ctl);
	msg = NULL;
	ctl->in_handler = 1;
	code = c->fn(ctl->arg, &args, &ctl->out, &msg);
	ctl->in_handler = 0;
	if (code == GS_CTL_DEFER) {
		ctl->deferred = 1;
		ctl->defer_body = body;
		return;
	}
	if (code != GS_CTL_OK) {
		reply_err(ctl, code > 0 ? code : GS_CTL_EFAIL, msg);
		goto check;
	}
	if (ctl->out.err == GS_OK && !exactly_values(ctl->out.buf + body,
	    ctl->out.len - body, 1)) {
		if (gs_ratelimit_ok(&ctl->rl, LOG_BURST))
			gs_log_warnx("ctl bad reply url=%s command=%s "
			    "reason=not_one_value", ctl->url, c->name);
		reply_err(ctl, GS_CTL_EFAIL, "command wrote a malformed reply");
	}
 check:
	if (ctl->out.err != GS_OK) {
		if (gs_ratelimit_ok(&ctl->rl, LOG_BURST))
			gs_log_warnx("ctl reply failed url=%s err=%s",
			    ctl->url, gs_err_name(ctl->out.err));
		reply_err(ctl, GS_CTL_EFAIL, "reply too large");
	}
}

static int
ctl_writable(const struct gs_ctl *ctl)
{
	struct pollfd	pfd = { .fd = ctl->wio.fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) != 0;
}

static void
ctl_sendmsg(struct gs_ctl *ctl, nng_msg *msg)
{
	int	rv;

	if ((rv = nng_sendmsg(ctl->sock, msg, NNG_FLAG_NONBLOCK)) != 0) {
		nng_msg_free(msg);	/* a failed send leaves it ours */
		if (gs_ratelimit_ok(&ctl->rl, LOG_BURST))
			gs_log_warnx("ctl reply lost url=%s "
			    "call=nng_sendmsg err=\"%s\"", ctl->url,
			    nng_strerror(rv));
	}
}

/* Send ctl->out now, or park it until SENDFD is readable. */
static void
ctl_reply(struct gs_ctl *ctl)
{
	nng_msg	*msg;
	int	 rv;

	if ((rv = nng_msg_alloc(&msg, ctl->out.len)) != 0) {
		if (gs_ratelimit_ok(&ctl->rl, LOG_BURST))
			gs_log_warnx("ctl reply lost url=%s "
			    "call=nng_msg_alloc err=\"%s\"", ctl->url,
			    nng_strerror(rv));
		/* The REP state still expects a reply: the peer times
		 * out, and the next request resets it. */
		return;
	}
	memcpy(nng_msg_body(msg), ctl->out.buf, ctl->out.len);
	if (ctl_writable(ctl)) {
		ctl_sendmsg(ctl, msg);
		return;
	}
	ctl->pending = msg;
	ev_io_stop(ctl->loop, &ctl->rio);
	ev_io_start(ctl->loop, &ctl->wio);
}

static void	ctl_free(struct gs_ctl *);

static void
ctl_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct gs_ctl	*ctl = w->data;
	nng_msg		*msg;
	int		 i, rv;

	for (i = 0; i < CTL_BUDGET && ctl->pending == NULL; i++) {
		rv = nng_recvmsg(ctl->sock, &msg, NNG_FLAG_NONBLOCK);
		if (rv == NNG_EAGAIN)
			return;
		if (rv != 0) {
			if (gs_ratelimit_ok(&ctl->rl, LOG_BURST))
				gs_log_warnx("ctl recv failed url=%s "
				    "call=nng_recvmsg err=\"%s\"", ctl->url,
				    nng_strerror(rv));
			if (rv == NNG_ECLOSED)
				ev_io_stop(loop, w);
			return;
		}
		ctl_handle(ctl, nng_msg_body(msg), nng_msg_len(msg));
		nng_msg_free(msg);
		if (ctl->deferred) {
			/* Nothing more is read until the answer. */
			ev_io_stop(loop, &ctl->rio);
			return;
		}
		ctl_reply(ctl);
		if (ctl->close_pending) {
			ctl_free(ctl);
			return;
		}
	}
}

static void
ctl_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct gs_ctl	*ctl = w->data;

	ev_io_stop(loop, &ctl->wio);
	ctl_sendmsg(ctl, ctl->pending);
	ctl->pending = NULL;
	ev_io_start(loop, &ctl->rio);
}

struct gs_wr *
gs_ctl_defer_body(struct gs_ctl *ctl)
{
	return &ctl->out;
}

void
gs_ctl_defer_done(struct gs_ctl *ctl, int code, const char *msg)
{
	if (!ctl->deferred)
		return;
	ctl->deferred = 0;
	if (code != GS_CTL_OK)
		reply_err(ctl, code, msg);
	else if (ctl->out.err != GS_OK || !exactly_values(ctl->out.buf +
	    ctl->defer_body, ctl->out.len - ctl->defer_body, 1))
		reply_err(ctl, GS_CTL_EFAIL, "command wrote a malformed reply");
	ctl_reply(ctl);
	if (ctl->pending == NULL)
		ev_io_start(ctl->loop, &ctl->rio);
}

struct gs_ctl *
gs_ctl_listen(struct ev_loop *loop, const char *url,
    const struct gs_ctl_cmd *cmds, gs_ctl_status_fn *status,
    struct gs_metrics *metrics, void *arg)
{
	struct gs_ctl	*ctl;
	const char	*call;
	int		 rfd, wfd, rv;

	if ((ctl = calloc(1, sizeof(*ctl))) == NULL ||
	    (ctl->url = strdup(url)) == NULL) {
		gs_log_warn("ctl listen failed url=%s call=malloc", url);
		free(ctl);
		return NULL;
	}
	ctl->loop = loop;
	ctl->cmds = cmds;
	ctl->status = status;
	ctl->metrics = metrics;
	ctl->arg = arg;
	ctl->started_ms = gs_now_ms();
	gs_wr_init(&ctl->out, 4096, CTL_REPLY_MAX);
	gs_wr_init(&ctl->scratch, 1024, CTL_STATUS_MAX);

	call = "nng_rep0_open";
	if ((rv = nng_rep0_open(&ctl->sock)) != 0)
		goto fail;
	call = "nng_socket_set_size(recv-size-max)";
	if ((rv = nng_socket_set_size(ctl->sock, NNG_OPT_RECVMAXSZ,
	    CTL_REQ_MAX)) != 0)
		goto fail;
	/* Anyone who can connect can run every command: an ipc socket
	 * is the daemons' user's only, tls wants a certificate. */
	if ((rv = gs_link_listen(ctl->sock, url, &call)) != 0)
		goto fail;
	call = "nng_socket_get_int(recv-fd)";
	if ((rv = nng_socket_get_int(ctl->sock, NNG_OPT_RECVFD, &rfd)) != 0)
		goto fail;
	call = "nng_socket_get_int(send-fd)";
	if ((rv = nng_socket_get_int(ctl->sock, NNG_OPT_SENDFD, &wfd)) != 0)
		goto fail;

	ev_io_init(&ctl->rio, ctl_read_cb, rfd, EV_READ);
	ctl->rio.data = ctl;
	ev_io_init(&ctl->wio, ctl_write_cb, wfd, EV_READ);
	ctl->wio.data = ctl;
	ev_io_start(loop, &ctl->rio);
	return ctl;

 fail:
	gs_log_warnx("ctl listen failed url=%s call=%s err=\"%s\"",
	    url, call, nng_strerror(rv));
	ctl_free(ctl);
	return NULL;
}

static void
ctl_free(struct gs_ctl *ctl)
{
	ev_io_stop(ctl->loop, &ctl->rio);
	ev_io_stop(ctl->loop, &ctl->wio);
	if (ctl->pending != NULL)
		nng_msg_free(ctl->pending);
	if (nng_socket_id(ctl->sock) > 0)
		nng_close(ctl->sock);
	gs_wr_free(&ctl->out);
	gs_wr_free(&ctl->scratch);
	free(ctl->url);
	free(ctl);
}

void
gs_ctl_close(struct gs_ctl *ctl)
{
	if (ctl == NULL)
		return;
	if (ctl->in_handler) {
		/* The reply is still to be sent: free afterwards. */
		ctl->close_pending = 1;
		return;
	}
	ctl_free(ctl);
}
