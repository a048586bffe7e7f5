/*
 * The control socket, served in the loop and asked with gs_rpc over
 * ipc:// in a temporary directory.  Every loop run has a watchdog.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <ev.h>

#include "ctl.h"
#include "err.h"
#include "log.h"
#include "metrics.h"
#include "mp.h"
#include "nngev.h"
#include "util.h"
#include "t.h"
#include "tloop.h"

#define TIMEOUT_MS	10000

/* ------------------------------------------------- the test daemon */

struct daemon {
	struct ev_loop		*loop;
	struct gs_ctl		*ctl;
	struct gs_metrics	*metrics;
	struct gs_rpc		*rpc;
	char			 path[256];
	int			 ndone;
	ev_timer		 later;
};

static int
cmd_echo(void *arg, struct gs_rd *args, struct gs_wr *body,
    const char **msg)
{
	const char	*s;
	size_t		 n;

	s = gs_rd_strp(args, &n, 256);
	if (gs_rd_end(args) != GS_OK) {
		*msg = "usage: echo text";
		return GS_CTL_EARGS;
	}
	gs_wr_strn(body, s, n);
	return GS_CTL_OK;
}

static int
cmd_fail(void *arg, struct gs_rd *args, struct gs_wr *body,
    const char **msg)
{
	gs_wr_map(body, 1);		/* half a body: must be discarded */
	gs_wr_str(body, "partial");
	*msg = "no such room";
	return GS_CTL_ENOTFOUND;
}

static int
cmd_two(void *arg, struct gs_rd *args, struct gs_wr *body,
    const char **msg)
{
	gs_wr_uint(body, 1);
	gs_wr_uint(body, 2);
	return GS_CTL_OK;
}

static int
cmd_quit(void *arg, struct gs_rd *args, struct gs_wr *body,
    const char **msg)
{
	struct daemon	*d = arg;

	gs_ctl_close(d->ctl);
	d->ctl = NULL;
	gs_wr_str(body, "bye");
	return GS_CTL_OK;
}

/* "later": answered from a timer, after the handler has returned. */
static void
later_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon	*d = w->data;

	gs_wr_str(gs_ctl_defer_body(d->ctl), "done later");
	gs_ctl_defer_done(d->ctl, GS_CTL_OK, NULL);
}

static int
cmd_later(void *arg, struct gs_rd *args, struct gs_wr *body,
    const char **msg)
{
	struct daemon	*d = arg;

	ev_timer_init(&d->later, later_cb, 0.05, 0);
	d->later.data = d;
	ev_timer_start(d->loop, &d->later);
	return GS_CTL_DEFER;
}

static const struct gs_ctl_cmd cmds[] = {
	{ "echo", cmd_echo },
	{ "later", cmd_later },
	{ "fail", cmd_fail },
	{ "two", cmd_two },
	{ "quit", cmd_quit },
	{ NULL, NULL }
};

static unsigned
daemon_status(void *arg, struct gs_wr *body)
{
	gs_wr_str(body, "rooms");
	gs_wr_uint(body, 3);
	gs_wr_str(body, "draining");
	gs_wr_bool(body, false);
	return 2;
}

static int
daemon_start(struct daemon *d, const char *name)
{
	char	url[320];

	memset(d, 0, sizeof(*d));
	(void)snprintf(d->path, sizeof(d->path), "%s/%s", t_tmpdir(), name);
	(void)snprintf(url, sizeof(url), "ipc://%s", d->path);
	d->loop = ev_loop_new(EVFLAG_AUTO);
	d->metrics = gs_metrics_new();
	gs_counter_add(gs_metrics_counter(d->metrics, "gs_test_reqs_total",
	    "Requests."), 5);
	d->ctl = gs_ctl_listen(d->loop, url, cmds, daemon_status, d->metrics,
	    d);
	if (d->ctl == NULL)
		return -1;
	if ((d->rpc = gs_rpc_open(d->loop, url, 16)) == NULL)
		return -1;
	return 0;
}

static void
daemon_stop(struct daemon *d)
{
	gs_rpc_close(d->rpc);
	gs_ctl_close(d->ctl);
	gs_metrics_free(d->metrics);
	ev_loop_destroy(d->loop);
}

/* A reply, copied out of the callback. */
struct answer {
	struct daemon	*d;
	int		 err;
	uint8_t		*buf;	/* malloc'd */
	size_t		 len;
};

static void
answer_cb(void *arg, int err, const uint8_t *rep, size_t len)
{
	struct answer	*a = arg;

	a->err = err;
	a->len = len;
	if (len > 0 && (a->buf = malloc(len)) != NULL)
		memcpy(a->buf, rep, len);
	a->d->ndone++;
}

/* Send req[len] and wait for the answer; GS_OK or the rpc error. */
static int
ask_raw(struct daemon *d, const void *req, size_t len, struct answer *a)
{
	int	want = d->ndone + 1;

	memset(a, 0, sizeof(*a));
	a->d = d;
	if (gs_rpc_call(d->rpc, req, len, TIMEOUT_MS, answer_cb, a) != GS_OK)
		return GS_EINVAL;
	if (!run_until(d->loop, &d->ndone, want))
		return GS_ETIMEDOUT;
	return a->err;
}

/* Ask [cmd] or [cmd, arg]; arg NULL for none. */
static int
ask(struct daemon *d, const char *cmd, const char *arg, struct answer *a)
{
	struct gs_wr	wr;
	int		rv;

	gs_wr_init(&wr, 64, 1024);
	gs_wr_array(&wr, arg != NULL ? 2 : 1);
	gs_wr_str(&wr, cmd);
	if (arg != NULL)
		gs_wr_str(&wr, arg);
	rv = ask_raw(d, wr.buf, wr.len, a);
	gs_wr_free(&wr);
	return rv;
}

/* Is the answer [code, "text"] exactly? */
static int
is_error(const struct answer *a, int code, const char *text)
{
	struct gs_rd	 rd = GS_RD_INIT(a->buf, a->len);
	const char	*s;
	size_t		 n;
	uint64_t	 c;

	(void)gs_rd_array_n(&rd, 2, 2);
	c = gs_rd_uint(&rd, UINT32_MAX);
	s = gs_rd_strp(&rd, &n, 1024);
	if (gs_rd_end(&rd) != GS_OK)
		return 0;
	if (c != (uint64_t)code || n != strlen(text) || memcmp(s, text, n)) {
		fprintf(stderr, "got [%llu, \"%.*s\"]\n",
		    (unsigned long long)c, (int)n, s);
		return 0;
	}
	return 1;
}

/* Read [0, body] up to the body. */
static void
open_ok(struct gs_rd *rd, const struct answer *a)
{
	gs_rd_init(rd, a->buf, a->len);
	(void)gs_rd_array_n(rd, 2, 2);
	if (gs_rd_uint(rd, UINT32_MAX) != 0)
		gs_rd_fail(rd, GS_ERANGE);
}

static int
key_is(struct gs_rd *rd, const char *key)
{
	size_t		 n;
	const char	*s = gs_rd_strp(rd, &n, 64);

	return s != NULL && n == strlen(key) && memcmp(s, key, n) == 0;
}

/* ----------------------------------------------------------- tests */

static void
test_status(void)
{
	struct daemon	d;
	struct answer	a;
	struct gs_rd	rd;
	size_t		n;
	const char	*s;

	T_ASSERT(daemon_start(&d, "status.sock") == 0);
	T_EQ_INT(ask(&d, "status", NULL, &a), GS_OK);
	open_ok(&rd, &a);
	T_EQ_INT(gs_rd_map(&rd, 16), 6);
	T_CHECK(key_is(&rd, "prog"));
	s = gs_rd_strp(&rd, &n, 64);
	T_CHECK(s != NULL && n == strlen("test_ctl") &&
	    memcmp(s, "test_ctl", n) == 0);
	T_CHECK(key_is(&rd, "version"));
	s = gs_rd_strp(&rd, &n, 64);
	T_CHECK(s != NULL && n == strlen(GS_VERSION) &&
	    memcmp(s, GS_VERSION, n) == 0);
	T_CHECK(key_is(&rd, "pid"));
	T_EQ_INT(gs_rd_uint(&rd, UINT32_MAX), getpid());
	T_CHECK(key_is(&rd, "uptime_s"));
	(void)gs_rd_uint(&rd, 3600);
	T_CHECK(key_is(&rd, "rooms"));
	T_EQ_INT(gs_rd_uint(&rd, 100), 3);
	T_CHECK(key_is(&rd, "draining"));
	T_CHECK(gs_rd_bool(&rd) == false);
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
	free(a.buf);

	/* Built-ins take no arguments. */
	T_EQ_INT(ask(&d, "status", "x", &a), GS_OK);
	T_CHECK(is_error(&a, GS_CTL_EARGS, "status takes no arguments"));
	free(a.buf);
	daemon_stop(&d);
}

static void
test_metrics(void)
{
	struct daemon	 d;
	struct answer	 a;
	struct gs_rd	 rd;
	size_t		 n, tlen;
	const char	*s;
	char		*text;

	T_ASSERT(daemon_start(&d, "metrics.sock") == 0);
	T_EQ_INT(ask(&d, "metrics", NULL, &a), GS_OK);
	text = gs_metrics_text(d.metrics, &tlen);
	T_ASSERT(text != NULL);
	T_CHECK(strstr(text, "gs_test_reqs_total 5\n") != NULL);
	open_ok(&rd, &a);
	s = gs_rd_strp(&rd, &n, 1 << 20);
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
	T_CHECK(s != NULL && n == tlen && memcmp(s, text, n) == 0);
	free(text);
	free(a.buf);
	daemon_stop(&d);
}

static void
test_help(void)
{
	static const char *const want[] = {
		"status", "metrics", "help", "echo", "later", "fail", "two",
		"quit"
	};
	struct daemon	d;
	struct answer	a;
	struct gs_rd	rd;
	size_t		i;

	T_ASSERT(daemon_start(&d, "help.sock") == 0);
	T_EQ_INT(ask(&d, "help", NULL, &a), GS_OK);
	open_ok(&rd, &a);
	T_EQ_INT(gs_rd_array(&rd, 64), GS_NELEM(want));
	for (i = 0; i < GS_NELEM(want); i++)
		T_CHECK(key_is(&rd, want[i]));
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
	free(a.buf);
	daemon_stop(&d);
}

static void
test_commands(void)
{
	struct daemon	d;
	struct answer	a;
	struct gs_rd	rd;
	size_t		n;
	const char	*s;

	T_ASSERT(daemon_start(&d, "cmds.sock") == 0);

	T_EQ_INT(ask(&d, "echo", "hi there", &a), GS_OK);
	open_ok(&rd, &a);
	s = gs_rd_strp(&rd, &n, 64);
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
	T_CHECK(s != NULL && n == 8 && memcmp(s, "hi there", 8) == 0);
	free(a.buf);

	T_EQ_INT(ask(&d, "echo", NULL, &a), GS_OK);
	T_CHECK(is_error(&a, GS_CTL_EARGS, "usage: echo text"));
	free(a.buf);

	T_EQ_INT(ask(&d, "nope", NULL, &a), GS_OK);
	T_CHECK(is_error(&a, GS_CTL_EUNKNOWN,
	    "unknown command 'nope' (try help)"));
	free(a.buf);

	T_EQ_INT(ask(&d, "no\npe", NULL, &a), GS_OK);
	T_CHECK(is_error(&a, GS_CTL_EUNKNOWN,
	    "unknown command 'no?pe' (try help)"));
	free(a.buf);

	/* Handler error: its partial body is discarded. */
	T_EQ_INT(ask(&d, "fail", NULL, &a), GS_OK);
	T_CHECK(is_error(&a, GS_CTL_ENOTFOUND, "no such room"));
	free(a.buf);

	/* A handler that packs two values gets an error, not a bad reply. */
	T_EQ_INT(ask(&d, "two", NULL, &a), GS_OK);
	T_CHECK(is_error(&a, GS_CTL_EFAIL, "command wrote a malformed reply"));
	free(a.buf);
	daemon_stop(&d);
}

/* A deferred answer arrives; a request sent meanwhile waits for it and
 * is answered after it. */
static void
test_defer(void)
{
	struct daemon	d;
	struct answer	a, b;
	struct gs_rd	rd;
	struct gs_wr	wr;
	size_t		n;
	const char	*s;
	int		want;

	T_ASSERT(daemon_start(&d, "defer.sock") == 0);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.d = b.d = &d;
	gs_wr_init(&wr, 64, 1024);
	gs_wr_array(&wr, 1);
	gs_wr_str(&wr, "later");
	T_EQ_INT(gs_rpc_call(d.rpc, wr.buf, wr.len, TIMEOUT_MS, answer_cb, &a),
	    GS_OK);
	gs_wr_reset(&wr);
	gs_wr_array(&wr, 2);
	gs_wr_str(&wr, "echo");
	gs_wr_str(&wr, "after");
	T_EQ_INT(gs_rpc_call(d.rpc, wr.buf, wr.len, TIMEOUT_MS, answer_cb, &b),
	    GS_OK);
	gs_wr_free(&wr);
	want = d.ndone + 2;
	T_ASSERT(run_until(d.loop, &d.ndone, want));
	T_EQ_INT(a.err, GS_OK);
	open_ok(&rd, &a);
	s = gs_rd_strp(&rd, &n, 64);
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
	T_CHECK(s != NULL && n == 10 && memcmp(s, "done later", 10) == 0);
	T_EQ_INT(b.err, GS_OK);
	open_ok(&rd, &b);
	s = gs_rd_strp(&rd, &n, 64);
	T_CHECK(s != NULL && n == 5 && memcmp(s, "after", 5) == 0);
	free(a.buf);
	free(b.buf);
	daemon_stop(&d);
}

/* Malformed requests get [GS_CTL_EARGS, text]; the server keeps going. */
static void
test_garbage(void)
{
	static const struct {
		const char	*req;
		size_t		 len;
		const char	*text;
	} cases[] = {
		{ "", 0, "request must be an array [command, arg...]" },
		{ "\xc1", 1, "request must be an array [command, arg...]" },
		{ "\xa6status", 7,
		    "request must be an array [command, arg...]" },
		{ "\x90", 1, "request must be an array [command, arg...]" },
		{ "\x91\x2a", 2, "command must be a short string" },
		{ "\x91\xa4help\x00", 7, "malformed request" },
		{ "\x93\xa4help", 6, "malformed request" },
		{ "\xdd\xff\xff\xff\xff\xa4help", 10,
		    "request must be an array [command, arg...]" },
		{ "\x92\xa4" "echo\xdb\xff\xff\xff\xff", 11,
		    "malformed request" },
		{ "\x91\xd9\x41xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxxxxxx", 68,
		    "command must be a short string" },
	};
	struct daemon	d;
	struct answer	a;
	size_t		i;

	T_ASSERT(daemon_start(&d, "garbage.sock") == 0);
	for (i = 0; i < GS_NELEM(cases); i++) {
		T_EQ_INT(ask_raw(&d, cases[i].req, cases[i].len, &a), GS_OK);
		if (!is_error(&a, GS_CTL_EARGS, cases[i].text)) {
			fprintf(stderr, "garbage case %zu\n", i);
			T_CHECK(0);
		}
		free(a.buf);
	}
	T_EQ_INT(ask(&d, "help", NULL, &a), GS_OK);	/* still serving */
	free(a.buf);
	daemon_stop(&d);
}

/* Requests in flight together on one pipe all get their own reply:
 * a reply waits for SENDFD instead of being lost. */
static void
test_pipelined(void)
{
	struct daemon	 d;
	struct answer	 a[16];
	struct gs_wr	 wr;
	struct gs_rd	 rd;
	char		 arg[16];
	const char	*s;
	size_t		 n;
	int		 i, round;

	T_ASSERT(daemon_start(&d, "pipe.sock") == 0);
	for (round = 0; round < 20; round++) {
		int	want = d.ndone + 16;

		for (i = 0; i < 16; i++) {
			memset(&a[i], 0, sizeof(a[i]));
			a[i].d = &d;
			(void)snprintf(arg, sizeof(arg), "m%d", i);
			gs_wr_init(&wr, 64, 1024);
			gs_wr_array(&wr, 2);
			gs_wr_str(&wr, "echo");
			gs_wr_str(&wr, arg);
			T_EQ_INT(gs_rpc_call(d.rpc, wr.buf, wr.len, TIMEOUT_MS,
			    answer_cb, &a[i]), GS_OK);
			gs_wr_free(&wr);
		}
		T_CHECK(run_until(d.loop, &d.ndone, want));
		for (i = 0; i < 16; i++) {
			T_EQ_INT(a[i].err, GS_OK);
			(void)snprintf(arg, sizeof(arg), "m%d", i);
			open_ok(&rd, &a[i]);
			s = gs_rd_strp(&rd, &n, 64);
			T_CHECK(gs_rd_end(&rd) == GS_OK && s != NULL &&
			    n == strlen(arg) && memcmp(s, arg, n) == 0);
			free(a[i].buf);
		}
	}
	daemon_stop(&d);
}

static void
test_permissions(void)
{
	struct daemon	d;
	struct stat	st;
	struct answer	a;

	T_ASSERT(daemon_start(&d, "perm.sock") == 0);
	T_ASSERT(stat(d.path, &st) == 0);
	T_CHECK(S_ISSOCK(st.st_mode));
	T_EQ_INT(st.st_mode & 0777, 0600);
	/* NNG 1.5.2 leaks a pipe when a socket closes while its ipc
	 * connection is still negotiating: finish one round trip first. */
	T_EQ_INT(ask(&d, "help", NULL, &a), GS_OK);
	free(a.buf);
	daemon_stop(&d);
}

/* A handler may close the control socket; nothing is used after. */
static void
test_close_in_handler(void)
{
	struct daemon	d;
	struct answer	a;
	int		rv;

	T_ASSERT(daemon_start(&d, "quit.sock") == 0);
	rv = ask(&d, "quit", NULL, &a);
	T_CHECK(d.ctl == NULL);
	/* NNG may drop a reply still queued when its socket closes. */
	T_CHECK(rv == GS_OK || rv == GS_ETIMEDOUT);
	free(a.buf);
	daemon_stop(&d);
}

static void
test_no_table(void)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct gs_ctl	*ctl;
	char		 url[320];

	(void)snprintf(url, sizeof(url), "ipc://%s/bare.sock", t_tmpdir());
	ctl = gs_ctl_listen(loop, url, NULL, NULL, NULL, NULL);
	T_CHECK(ctl != NULL);
	gs_ctl_close(ctl);
	/* A bad URL fails cleanly. */
	T_CHECK(gs_ctl_listen(loop, "nope://x", NULL, NULL, NULL, NULL) ==
	    NULL);
	ev_loop_destroy(loop);
}

static void
test_err_names(void)
{
	T_CHECK(strcmp(gs_ctl_err_name(GS_CTL_OK), "ok") == 0);
	T_CHECK(strcmp(gs_ctl_err_name(GS_CTL_EUNKNOWN), "unknown") == 0);
	T_CHECK(strcmp(gs_ctl_err_name(GS_CTL_EARGS), "args") == 0);
	T_CHECK(strcmp(gs_ctl_err_name(GS_CTL_ENOTFOUND), "notfound") == 0);
	T_CHECK(strcmp(gs_ctl_err_name(GS_CTL_EFAIL), "fail") == 0);
	T_CHECK(gs_ctl_err_name(99) != NULL);
}

static void
test_init(void)
{
	gs_log_init("test_ctl", GS_LOG_WARN);
}

T_MAIN(T(test_init), T(test_status), T(test_metrics), T(test_help),
    T(test_commands), T(test_garbage), T(test_pipelined),
    T(test_permissions), T(test_close_in_handler), T(test_no_table),
    T(test_err_names), T(test_defer))
