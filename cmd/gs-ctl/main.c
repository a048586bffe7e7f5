/*
 * gs-ctl: ask the control socket of a running gs daemon (lib/ctl.h).
 *
 * One request, one reply, per daemon named with -c: a REQ socket with
 * plain blocking nng calls bounded by NNG_OPT_SENDTIMEO/RECVTIMEO.  No
 * event loop: a command-line tool waits for its one answer anyway.
 *
 * The dial is blocking (flags 0) on purpose: a missing ipc socket file
 * or a closed tcp port is then reported at once as "connection
 * refused" instead of as a timeout.  A blocking tcp connect to a host
 * that drops packets could outlast the timeout, so an interval timer
 * (SIGALRM) bounds the dial too.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "ctl.h"
#include "err.h"
#include "json.h"
#include "link.h"
#include "log.h"
#include "mp.h"
#include "opt.h"
#include "util.h"

#define CTL_URLS_MAX	32
#define CTL_REQ_MAX	(64 * 1024)
#define CTL_COLS_MAX	32	/* table columns shown */
#define CTL_CELL_MAX	256	/* bytes of one formatted cell */
#define CTL_ROWS_MAX	100000

/* How a command's reply body is shown without -j. */
enum ctl_out {
	CTL_OUT_HUMAN,		/* maps as key: value, arrays of maps as tables */
	CTL_OUT_JSON,		/* always JSON (dumps) */
	CTL_OUT_TEXT,		/* a string printed as it is */
	CTL_OUT_LIST,		/* an array printed one element a line */
};

/*
 * The token table: what gs-ctl checks before it sends.  Commands not
 * in the table are sent as they are (arguments as strings) so that a
 * daemon's newer commands work without a newer gs-ctl; the daemon then
 * answers "unknown command" for a typo.
 */
static const struct ctl_cmd {
	const char	*name;
	int		 minargs, maxargs;
	const char	*argname;
	enum ctl_out	 out;
	/* The argument is a file for the daemon: a relative path is made
	 * absolute here, against our working directory, since the
	 * daemon's is another.  1: only a path with a slash (without
	 * one it is a name: reload's installed game); 2: always. */
	int		 path_arg;
} ctl_cmds[] = {
	{ "status",	0, 0, NULL,	CTL_OUT_HUMAN, 0 },
	{ "rooms",	0, 0, NULL,	CTL_OUT_HUMAN, 0 },
	{ "room",	1, 1, "ID",	CTL_OUT_HUMAN, 0 },
	{ "snapshot",	1, 1, "ROOM",	CTL_OUT_JSON, 0 },
	{ "metrics",	0, 0, NULL,	CTL_OUT_TEXT, 0 },
	{ "clients",	0, 0, NULL,	CTL_OUT_HUMAN, 0 },
	{ "reload",	1, 1, "PATH",	CTL_OUT_HUMAN, 1 },
	{ "account",	1, 1, "ID|USERNAME", CTL_OUT_HUMAN, 0 },
	{ "ban",	2, 3, "ID|USERNAME DURATION|forever [REASON]",
	  CTL_OUT_HUMAN, 0 },
	{ "unban",	1, 1, "ID|USERNAME", CTL_OUT_HUMAN, 0 },
	{ "revoke",	1, 1, "ID|USERNAME", CTL_OUT_HUMAN, 0 },
	{ "backup",	1, 1, "PATH",	CTL_OUT_HUMAN, 2 },
	{ "leaderboard", 1, 6, "list | create NAME desc|asc best|set|incr "
	  "never|daily|weekly|monthly [client] | top NAME [N] | "
	  "around NAME ID|USERNAME [N] | rank NAME ID|USERNAME",
	  CTL_OUT_HUMAN, 0 },
	{ "help",	0, 0, NULL,	CTL_OUT_LIST, 0 },
	{ NULL,		0, 0, NULL,	CTL_OUT_HUMAN, 0 },
};

static const struct ctl_cmd ctl_cmd_other = {
	NULL, 0, 64, NULL, CTL_OUT_HUMAN, 0
};

/* Filled in before each dial, written by the SIGALRM handler. */
static char	ctl_alarm_msg[512];
static size_t	ctl_alarm_len;

/* Exactly the SYNOPSIS of man/gs-ctl.1. */
static const char synopsis[] =
    "usage: gs-ctl [-hjV] [-c url] [-t timeout] [--tls-ca file]\n"
    "              [--tls-cert file] [--tls-key file] command [argument ...]\n";

/* Settings from flags and GS_CTL* variables (opt.h). */
struct ctl_args {
	char		*urls[CTL_URLS_MAX];
	unsigned	 nurls;
	int		 json;
	int		 timeout_ms;
	struct gs_link_conf link;
};

#define AT(m)	GS_OPT_AT(struct ctl_args, m)

static const struct gs_opt ctl_opts[] = {
	{ 'c', "connect", "GS_CTL", GS_OPT_LIST, AT(urls),
	  .count_off = offsetof(struct ctl_args, nurls),
	  .flags = GS_OPT_REQUIRED },
	{ 'j', "json", NULL, GS_OPT_BOOL, AT(json) },
	{ 't', "timeout", "GS_CTL_TIMEOUT", GS_OPT_MS, AT(timeout_ms),
	  .min = 1, .max = 3600 * 1000, .unit = 1 },
	GS_LINK_TLS_OPTS(struct ctl_args, link),
	{ 0 }
};

static const struct gs_opt_prog ctl_prog = { "gs-ctl", synopsis, ctl_opts,
	true };

static void
ctl_alarm_cb(int sig)
{
	ssize_t	n;

	(void)sig;
	n = write(STDERR_FILENO, ctl_alarm_msg, ctl_alarm_len);
	(void)n;
	_exit(GS_EXIT_RUNTIME);
}

static const struct ctl_cmd *
ctl_cmd_find(const char *name)
{
	const struct ctl_cmd	*c;

	for (c = ctl_cmds; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return &ctl_cmd_other;
}

/* ------------------------------------------------------- formatting */

static int
ctl_is_number(enum gs_mp_type t)
{
	return t == GS_MP_UINT || t == GS_MP_INT || t == GS_MP_FLOAT;
}

/* Copy s[n] into dst[cap] with control bytes shown as '?'. */
static void
ctl_copy_clean(char *dst, size_t cap, const char *s, size_t n)
{
	size_t	i;

	if (n >= cap)
		n = cap - 1;
	for (i = 0; i < n; i++)
		dst[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ?
		    '?' : s[i];
	dst[n] = '\0';
}

/*
 * Consume one value from rd and format it into dst[cap] for a human:
 * scalars as themselves, containers as compact JSON (cut at cap).
 */
static void
ctl_fmt(struct gs_rd *rd, char *dst, size_t cap)
{
	const char	*s;
	char		*t;
	json_t		*j;
	size_t		 n;
	double		 v;

	dst[0] = '\0';
	switch (gs_rd_type(rd)) {
	case GS_MP_NIL:
		(void)gs_rd_nil(rd);
		snprintf(dst, cap, "-");
		break;
	case GS_MP_BOOL:
		snprintf(dst, cap, "%s", gs_rd_bool(rd) ? "yes" : "no");
		break;
	case GS_MP_UINT:
		snprintf(dst, cap, "%llu",
		    (unsigned long long)gs_rd_uint(rd, UINT64_MAX));
		break;
	case GS_MP_INT:
		snprintf(dst, cap, "%lld",
		    (long long)gs_rd_int(rd, INT64_MIN, INT64_MAX));
		break;
	case GS_MP_FLOAT:
		/* Durations and rates: milliseconds are enough to read. */
		v = gs_rd_f64(rd);
		snprintf(dst, cap, fabs(v) >= 0.01 && fabs(v) < 1e9 ?
		    "%.3f" : "%g", v);
		break;
	case GS_MP_STR:
		if ((s = gs_rd_strp(rd, &n, SIZE_MAX)) != NULL)
			ctl_copy_clean(dst, cap, s, n);
		break;
	case GS_MP_BIN:
		(void)gs_rd_binp(rd, &n, SIZE_MAX);
		snprintf(dst, cap, "<%zu bytes>", n);
		break;
	case GS_MP_ARRAY:
	case GS_MP_MAP:
		/* Compact JSON, cut at cap - 1 bytes. */
		j = gs_json_from_mp(rd);
		if (j == NULL || (s = t = json_dumps(j, JSON_COMPACT)) ==
		    NULL) {
			snprintf(dst, cap, "?");
			json_decref(j);
			break;
		}
		(void)gs_strlcpy(dst, s, cap);
		free(t);
		json_decref(j);
		break;
	default:
		gs_rd_skip(rd);
		snprintf(dst, cap, "?");
		break;
	}
}

static void
ctl_indent(int n)
{
	printf("%*s", n, "");
}

/* Is the next value an array whose elements are all maps (a table)? */
static int
ctl_is_table(const struct gs_rd *rd0)
{
	struct gs_rd	rd = *rd0;
	uint32_t	i, n;

	if (gs_rd_type(&rd) != GS_MP_ARRAY)
		return 0;
	n = gs_rd_array(&rd, UINT32_MAX);
	if (n == 0)
		return 0;
	for (i = 0; i < n && rd.err == GS_OK; i++) {
		if (gs_rd_type(&rd) != GS_MP_MAP)
			return 0;
		gs_rd_skip(&rd);
	}
	return rd.err == GS_OK;
}

struct ctl_col {
	char	name[64];
	int	width;
	int	numeric;	/* every cell is a number: align right */
};

/* Column index of key in cols, adding it when there is room; -1 if the
 * table has CTL_COLS_MAX columns already. */
static int
ctl_col_find(struct ctl_col *cols, int *ncols, const char *key)
{
	int	i;

	for (i = 0; i < *ncols; i++)
		if (strcmp(cols[i].name, key) == 0)
			return i;
	if (*ncols == CTL_COLS_MAX)
		return -1;
	i = (*ncols)++;
	(void)gs_strlcpy(cols[i].name, key, sizeof(cols[i].name));
	cols[i].width = (int)strlen(cols[i].name);
	cols[i].numeric = 1;
	return i;
}

/*
 * An array of maps as a table: one row per map, one column per key
 * (in the order first seen).  Two passes over the same bytes: widths
 * first, then the rows.
 */
static void
ctl_print_table(struct gs_rd *rd, int indent)
{
	struct ctl_col	 cols[CTL_COLS_MAX];
	char		 key[64], cell[CTL_CELL_MAX];
	char		(*row)[CTL_CELL_MAX];
	struct gs_rd	 r;
	uint32_t	 nrows, nkeys, i, k;
	int		 ncols = 0, c, pass, width;
	enum gs_mp_type	 t;

	row = calloc(CTL_COLS_MAX, sizeof(*row));
	if (row == NULL) {
		gs_rd_skip(rd);
		fprintf(stderr, "gs-ctl: out of memory\n");
		return;
	}
	for (pass = 0; pass < 2; pass++) {
		r = *rd;
		nrows = gs_rd_array(&r, CTL_ROWS_MAX);
		if (pass == 1) {
			ctl_indent(indent);
			for (c = 0; c < ncols; c++)
				printf("%-*s%s", c == ncols - 1 ? 0 :
				    cols[c].width, cols[c].name,
				    c == ncols - 1 ? "\n" : "  ");
		}
		for (i = 0; i < nrows && r.err == GS_OK; i++) {
			for (c = 0; c < CTL_COLS_MAX; c++)
				row[c][0] = '\0';
			nkeys = gs_rd_map(&r, UINT32_MAX);
			for (k = 0; k < nkeys && r.err == GS_OK; k++) {
				ctl_fmt(&r, key, sizeof(key));
				t = gs_rd_type(&r);
				ctl_fmt(&r, cell, sizeof(cell));
				for (c = 0; key[c] != '\0'; c++)
					if (key[c] >= 'a' && key[c] <= 'z')
						key[c] -= 'a' - 'A';
				c = ctl_col_find(cols, &ncols, key);
				if (c < 0)
					continue;
				memcpy(row[c], cell, sizeof(cell));
				if (pass == 0) {
					width = (int)strlen(cell);
					if (width > cols[c].width)
						cols[c].width = width;
					if (!ctl_is_number(t))
						cols[c].numeric = 0;
				}
			}
			if (pass == 0)
				continue;
			ctl_indent(indent);
			for (c = 0; c < ncols; c++) {
				width = c == ncols - 1 && !cols[c].numeric ?
				    0 : cols[c].width;
				printf(cols[c].numeric ? "%*s%s" : "%-*s%s",
				    width, row[c][0] == '\0' ? "-" : row[c],
				    c == ncols - 1 ? "\n" : "  ");
			}
		}
		if (pass == 1)
			*rd = r;
	}
	free(row);
}

static void	ctl_print_human(struct gs_rd *rd, int indent);

/* A map as aligned "key: value" lines; containers below their key. */
static void
ctl_print_map(struct gs_rd *rd, int indent)
{
	struct gs_rd	 r = *rd;
	char		 key[128], val[CTL_CELL_MAX];
	uint32_t	 i, n;
	int		 w = 0, kl;
	enum gs_mp_type	 t;

	n = gs_rd_map(&r, UINT32_MAX);
	for (i = 0; i < n && r.err == GS_OK; i++) {
		ctl_fmt(&r, key, sizeof(key));
		gs_rd_skip(&r);
		if ((kl = (int)strlen(key)) > w)
			w = kl;
	}
	n = gs_rd_map(rd, UINT32_MAX);
	for (i = 0; i < n && rd->err == GS_OK; i++) {
		ctl_fmt(rd, key, sizeof(key));
		t = gs_rd_type(rd);
		ctl_indent(indent);
		if (t == GS_MP_MAP || ctl_is_table(rd)) {
			printf("%s:\n", key);
			ctl_print_human(rd, indent + 2);
			continue;
		}
		ctl_fmt(rd, val, sizeof(val));
		printf("%s:%*s %s\n", key, w - (int)strlen(key), "", val);
	}
}

static void
ctl_print_human(struct gs_rd *rd, int indent)
{
	char		buf[CTL_CELL_MAX];
	const char	*s;
	size_t		 n;
	uint32_t	 i, cnt;

	switch (gs_rd_type(rd)) {
	case GS_MP_MAP:
		ctl_print_map(rd, indent);
		break;
	case GS_MP_ARRAY:
		if (ctl_is_table(rd)) {
			ctl_print_table(rd, indent);
			break;
		}
		cnt = gs_rd_array(rd, UINT32_MAX);
		for (i = 0; i < cnt && rd->err == GS_OK; i++) {
			if (gs_rd_type(rd) == GS_MP_MAP) {
				if (i > 0)
					printf("\n");
				ctl_print_map(rd, indent);
				continue;
			}
			ctl_fmt(rd, buf, sizeof(buf));
			ctl_indent(indent);
			printf("%s\n", buf);
		}
		break;
	case GS_MP_STR:
		/* Text as it is (it may be long: no cell buffer). */
		if ((s = gs_rd_strp(rd, &n, SIZE_MAX)) == NULL)
			break;
		fwrite(s, 1, n, stdout);
		if (n > 0 && s[n - 1] != '\n')
			printf("\n");
		break;
	default:
		ctl_fmt(rd, buf, sizeof(buf));
		ctl_indent(indent);
		printf("%s\n", buf);
		break;
	}
}

/* -------------------------------------------------------------- rpc */

/*
 * Send req[len] to url and wait for the reply.  On success *rep and
 * *replen hold the reply (caller frees *rep with nng_free(*rep,
 * *replen)) and GS_OK is returned; otherwise the error is printed.
 */
static int
ctl_call(const char *url, const void *req, size_t len, int timeout_ms,
    void **rep, size_t *replen)
{
	nng_socket	 sock;
	struct itimerval it;
	const char	*call;
	int		 rv;

	if ((rv = nng_req0_open(&sock)) != 0) {
		fprintf(stderr, "gs-ctl: nng_req0_open: %s\n",
		    nng_strerror(rv));
		return GS_ENNG;
	}
	/* No resend: a command such as kick must not run twice. */
	if ((rv = nng_socket_set_ms(sock, NNG_OPT_REQ_RESENDTIME,
	    NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_socket_set_ms(sock, NNG_OPT_SENDTIMEO,
	    timeout_ms)) != 0 ||
	    (rv = nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO,
	    timeout_ms)) != 0 ||
	    (rv = nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, 0)) != 0) {
		fprintf(stderr, "gs-ctl: nng_socket_set: %s\n",
		    nng_strerror(rv));
		nng_close(sock);
		return GS_ENNG;
	}

	ctl_alarm_len = (size_t)snprintf(ctl_alarm_msg, sizeof(ctl_alarm_msg),
	    "gs-ctl: %s: no answer within %d ms (is the daemon running?)\n",
	    url, timeout_ms);
	if (ctl_alarm_len >= sizeof(ctl_alarm_msg))
		ctl_alarm_len = sizeof(ctl_alarm_msg) - 1;
	fflush(stdout);		/* _exit in the handler would lose it */
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = timeout_ms / 1000;
	it.it_value.tv_usec = (timeout_ms % 1000) * 1000;
	if (setitimer(ITIMER_REAL, &it, NULL) == -1) {
		fprintf(stderr, "gs-ctl: setitimer: %s\n", strerror(errno));
		nng_close(sock);
		return GS_ESYS;
	}
	rv = gs_link_dial(sock, url, 0, &call);
	memset(&it, 0, sizeof(it));
	(void)setitimer(ITIMER_REAL, &it, NULL);
	if (rv != 0) {
		if (rv == NNG_ECONNREFUSED || rv == NNG_ENOENT)
			fprintf(stderr, "gs-ctl: %s: %s (is the daemon "
			    "running?)\n", url, nng_strerror(rv));
		else if (rv == NNG_EINVAL || rv == NNG_EADDRINVAL ||
		    rv == NNG_ENOTSUP)
			fprintf(stderr, "gs-ctl: %s: %s (want ipc:///path or "
			    "tcp://host:port)\n", url, nng_strerror(rv));
		else if (rv == NNG_EPEERAUTH || rv == NNG_ECRYPTO)
			fprintf(stderr, "gs-ctl: %s: %s (a certificate was "
			    "refused: see --tls-ca)\n", url,
			    nng_strerror(rv));
		else
			fprintf(stderr, "gs-ctl: %s: %s\n", url,
			    nng_strerror(rv));
		nng_close(sock);
		return GS_ENNG;
	}

	if ((rv = nng_send(sock, (void *)req, len, 0)) == 0)
		rv = nng_recv(sock, rep, replen, NNG_FLAG_ALLOC);
	nng_close(sock);
	if (rv == NNG_ETIMEDOUT) {
		fprintf(stderr, "gs-ctl: %s: no answer within %d ms (is the "
		    "daemon running?)\n", url, timeout_ms);
		return GS_ETIMEDOUT;
	}
	if (rv != 0) {
		fprintf(stderr, "gs-ctl: %s: %s\n", url, nng_strerror(rv));
		return GS_ENNG;
	}
	return GS_OK;
}

/*
 * Check a reply [status, body].  GS_OK with *body set to exactly the
 * body; or GS_EPEER after printing the daemon's error, or a decoding
 * error after printing it.
 */
static int
ctl_reply(const char *url, const uint8_t *rep, size_t len,
    struct gs_rd *body)
{
	struct gs_rd	 rd = GS_RD_INIT(rep, len);
	uint64_t	 status;
	const char	*msg;
	size_t		 msglen;
	int		 err;

	(void)gs_rd_array_n(&rd, 2, 2);
	status = gs_rd_uint(&rd, UINT32_MAX);
	*body = rd;
	gs_rd_skip(&rd);
	if ((err = gs_rd_end(&rd)) != GS_OK) {
		fprintf(stderr, "gs-ctl: %s: malformed reply (%s)\n", url,
		    gs_err_name(err));
		return err;
	}
	body->end = rd.p;	/* exactly the body */
	if (status == GS_CTL_OK)
		return GS_OK;
	msg = NULL;
	msglen = 0;
	if (gs_rd_type(body) == GS_MP_STR)
		msg = gs_rd_strp(body, &msglen, SIZE_MAX);
	fprintf(stderr, "gs-ctl: %s: %s: %.*s\n", url,
	    gs_ctl_err_name((int)status), msg != NULL ? (int)msglen : 0,
	    msg != NULL ? msg : "");
	return GS_EPEER;
}

/*
 * Ask one daemon and show its answer.  As JSON (-j, or a command shown
 * as JSON): into *json when json is not NULL (several daemons, one
 * object at the end), else on stdout.  Otherwise for a human, under
 * "url:" when label is set.  GS_OK, or the error (printed).
 */
static int
ctl_ask(const char *url, const struct ctl_cmd *cmd, const struct gs_wr *req,
    const struct ctl_args *a, bool label, json_t **json)
{
	struct gs_rd	 body;
	json_t		*j;
	void		*rep;
	size_t		 replen;
	int		 err;

	if ((err = ctl_call(url, req->buf, req->len, a->timeout_ms, &rep,
	    &replen)) != GS_OK)
		return err;
	if ((err = ctl_reply(url, rep, replen, &body)) != GS_OK)
		goto out;
	if (a->json || cmd->out == CTL_OUT_JSON) {
		if ((j = gs_json_from_mp(&body)) == NULL) {
			err = body.err;
			fprintf(stderr, "gs-ctl: %s: malformed body (%s)\n",
			    url, gs_err_name(err));
			goto out;
		}
		if (json != NULL)
			*json = j;
		else {
			err = gs_json_write(j, stdout, 2, 0);
			json_decref(j);
		}
		goto out;
	}
	if (label)
		printf("%s:\n", url);
	/* TEXT (a str) and LIST (an array of scalars) come out right from
	 * the general printer too. */
	ctl_print_human(&body, label ? 2 : 0);
	err = body.err;
out:
	nng_free(rep, replen);
	return err;
}

/* The request [command, argument...], checked against the token
 * table; exits 100 on a wrong number of arguments. */
static const struct ctl_cmd *
ctl_request(struct gs_wr *req, int argc, char **argv)
{
	const struct ctl_cmd	*cmd;
	int			 i;

	if (argc < 1)
		gs_opt_fail(&ctl_prog, "no command");
	cmd = ctl_cmd_find(argv[0]);
	if (argc - 1 < cmd->minargs || argc - 1 > cmd->maxargs) {
		if (cmd->argname != NULL)
			gs_opt_fail(&ctl_prog, "usage: %s %s", cmd->name,
			    cmd->argname);
		gs_opt_fail(&ctl_prog, "%s takes no argument", argv[0]);
	}
	gs_wr_init(req, 256, CTL_REQ_MAX);
	gs_wr_array(req, (uint32_t)argc);
	gs_wr_str(req, argv[0]);
	for (i = 1; i < argc; i++) {
		if (cmd->path_arg && argv[i][0] != '/' &&
		    (cmd->path_arg == 2 || strchr(argv[i], '/') != NULL)) {
			char	cwd[PATH_MAX], abs[2 * PATH_MAX];

			/* A file that is not there is the daemon's to
			 * report: then the path is only joined. */
			if (realpath(argv[i], abs) == NULL) {
				if (getcwd(cwd, sizeof(cwd)) == NULL)
					gs_opt_fail(&ctl_prog, "getcwd: %s",
					    strerror(errno));
				(void)snprintf(abs, sizeof(abs), "%s/%s", cwd,
				    argv[i]);
			}
			gs_wr_str(req, abs);
		} else
			gs_wr_str(req, argv[i]);
	}
	if (req->err != GS_OK) {
		gs_wr_free(req);
		gs_opt_fail(&ctl_prog, "request too long");
	}
	return cmd;
}

int
main(int argc, char *argv[])
{
	struct ctl_args		 a;
	const struct ctl_cmd	*cmd;
	struct gs_wr		 req;
	struct sigaction	 sa;
	json_t			*all = NULL, *j;
	nng_url			*u;
	const char		*why;
	unsigned		 i;
	int			 first, failed = 0, err;

	gs_log_init("gs-ctl", GS_LOG_WARN);
	memset(&a, 0, sizeof(a));
	a.timeout_ms = 2000;
	first = gs_opt_parse(&ctl_prog, &a, argc, argv);
	if ((why = gs_link_setup(&a.link)) != NULL)
		gs_opt_fail(&ctl_prog, "%s", why);
	for (i = 0; i < a.nurls; i++) {
		if (nng_url_parse(&u, a.urls[i]) != 0)
			gs_opt_fail(&ctl_prog, "%s: bad address (want "
			    "ipc:///path or tcp://host:port)", a.urls[i]);
		nng_url_free(u);
		if ((why = gs_link_refuse(a.urls[i], GS_LINK_DIAL)) != NULL)
			gs_opt_fail(&ctl_prog, "%s: %s", a.urls[i], why);
	}
	cmd = ctl_request(&req, argc - first, argv + first);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ctl_alarm_cb;
	if (sigemptyset(&sa.sa_mask) == -1 ||
	    sigaction(SIGALRM, &sa, NULL) == -1) {
		fprintf(stderr, "gs-ctl: sigaction: %s\n", strerror(errno));
		gs_wr_free(&req);
		return GS_EXIT_SYSTEM;
	}

	/* -j with several daemons: one object keyed by address, null for
	 * a daemon that failed, written once all have answered. */
	if (a.json && a.nurls > 1 && (all = json_object()) == NULL)
		gs_fatalx(GS_EXIT_SYSTEM, "out of memory");
	for (i = 0; i < a.nurls; i++) {
		if (i > 0 && !a.json)
			printf("\n");
		j = NULL;
		err = ctl_ask(a.urls[i], cmd, &req, &a, a.nurls > 1,
		    all != NULL ? &j : NULL);
		if (err != GS_OK)
			failed = 1;
		if (all != NULL && gs_json_set(all, a.urls[i], j != NULL ? j :
		    json_null()) != 0)
			gs_fatalx(GS_EXIT_SYSTEM, "out of memory");
	}
	if (all != NULL) {
		(void)gs_json_write(all, stdout, 2, 0);
		json_decref(all);
	}
	gs_wr_free(&req);
	gs_link_cleanup();
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "gs-ctl: stdout: %s\n", strerror(errno));
		return GS_EXIT_SYSTEM;
	}
	return failed ? GS_EXIT_RUNTIME : GS_EXIT_OK;
}
