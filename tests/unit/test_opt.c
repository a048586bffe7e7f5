/*
 * The flag and environment parser (lib/opt.c): every kind, bounds,
 * durations, environment against flags, and the exits (100 for bad
 * usage, 0 for --help and -V) seen from a forked child.
 */
#include <sys/wait.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "opt.h"
#include "util.h"
#include "t.h"

struct set {
	int		 n;
	unsigned	 u;
	long long	 ms;
	double		 secs;
	double		 real;
	double		 ratio;
	bool		 flag;
	int		 verbose;
	const char	*str;
	char		*list[3];
	unsigned	 nlist;
	int		 level;
	int		 color;
	const char	*fn;
	const char	*need;
};

static const char *const colors[] = { "red", "green", "blue", NULL };

/* Takes "ok..." values; "why..." fails with a reason, others without. */
static int
fn_parse(void *base, const char *v, char *why, size_t whylen)
{
	if (strncmp(v, "ok", 2) == 0) {
		((struct set *)base)->fn = v;
		return 0;
	}
	if (strncmp(v, "why", 3) == 0)
		snprintf(why, whylen, "not like that: %s", v);
	return -1;
}

#define AT(m)	GS_OPT_AT(struct set, m)

static const struct gs_opt opts[] = {
	{ 'n', "count", "GS_T_COUNT", GS_OPT_INT, AT(n), .min = 1, .max = 10 },
	{ 'u', "unsigned", "GS_T_UNSIGNED", GS_OPT_INT, AT(u), .min = 0,
	  .max = 4000000000LL },
	{ 't', "time", "GS_T_TIME", GS_OPT_MS, AT(ms), .min = 100,
	  .max = 60000 },
	{ 'T', "msecs", NULL, GS_OPT_MS, AT(ms), .min = 1, .max = 60000,
	  .unit = 1 },
	{ 'w', "wait", "GS_T_WAIT", GS_OPT_MS, AT(secs), .min = 0,
	  .max = 60000, .flags = GS_OPT_SECONDS },
	{ 'r', "real", NULL, GS_OPT_REAL, AT(real), .min = 0, .max = 100,
	  .flags = GS_OPT_ABOVE_MIN },
	{ 'p', "share", NULL, GS_OPT_RATIO, AT(ratio) },
	{ 'f', "flag", "GS_T_FLAG", GS_OPT_BOOL, AT(flag) },
	{ 'v', "verbose", NULL, GS_OPT_COUNT, AT(verbose) },
	{ 's', "str", "GS_T_STR", GS_OPT_STR, AT(str), .max = 8 },
	{ 'L', "list", "GS_T_LIST", GS_OPT_LIST, AT(list),
	  .count_off = offsetof(struct set, nlist), .max = 8 },
	{ 'l', "log-level", "GS_T_LEVEL", GS_OPT_LEVEL, AT(level) },
	{ 'c', "color", NULL, GS_OPT_ENUM, AT(color), .names = colors },
	{ 'F', "fn", NULL, GS_OPT_FN, AT(fn), .fn = fn_parse,
	  .want = "ok-something" },
	{ 'q', "need", "GS_T_NEED", GS_OPT_STR, AT(need),
	  .flags = GS_OPT_REQUIRED },
	{ 0 }
};

static const struct gs_opt_prog prog = { "test-opt",
	"usage: test-opt [-fhVv] -q need\n", opts, false };
static const struct gs_opt_prog prog_operands = { "test-opt",
	"usage: test-opt [-fhVv] -q need operand ...\n", opts, true };

static const char *const env_names[] = { "GS_T_COUNT", "GS_T_UNSIGNED",
	"GS_T_TIME", "GS_T_WAIT", "GS_T_FLAG", "GS_T_STR", "GS_T_LIST",
	"GS_T_LEVEL", "GS_T_NEED" };

static void
env_clear(void)
{
	size_t	i;

	for (i = 0; i < GS_NELEM(env_names); i++)
		(void)unsetenv(env_names[i]);
}

static void
set_init(struct set *s)
{
	memset(s, 0, sizeof(*s));
	s->n = 5;
	s->level = GS_LOG_INFO;
	s->color = -1;
}

/* Parse argv (NULL-terminated) in this process; returns optind. */
static int
parse(const struct gs_opt_prog *p, struct set *s, char **argv)
{
	int	argc = 0;

	while (argv[argc] != NULL)
		argc++;
	set_init(s);
	return gs_opt_parse(p, s, argc, argv);
}

struct child {
	int	status;			/* exit status; -1 not exited */
	char	out[4096], err[4096];
};

static void
drain(int fd, char *buf, size_t cap)
{
	size_t	len = 0;
	ssize_t	n;

	while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fd);
}

/* Parse argv in a child; its exit status and what it printed.  A parse
 * that returns exits 42. */
static void
parse_child(struct child *c, const struct gs_opt_prog *p, char **argv)
{
	struct set	s;
	int		po[2], pe[2], st;
	pid_t		pid;

	memset(c, 0, sizeof(*c));
	c->status = -1;
	if (pipe(po) == -1 || pipe(pe) == -1)
		return;
	fflush(NULL);
	if ((pid = fork()) == -1)
		return;
	if (pid == 0) {
		(void)dup2(po[1], STDOUT_FILENO);
		(void)dup2(pe[1], STDERR_FILENO);
		close(po[0]);
		close(pe[0]);
		(void)parse(p, &s, argv);
		fflush(NULL);
		_exit(42);
	}
	close(po[1]);
	close(pe[1]);
	drain(po[0], c->out, sizeof(c->out));
	drain(pe[0], c->err, sizeof(c->err));
	if (waitpid(pid, &st, 0) == pid && WIFEXITED(st))
		c->status = WEXITSTATUS(st);
}

/* argv must exit 100 with msg in the first line and the synopsis. */
static int
bad(const struct gs_opt_prog *p, char **argv, const char *msg)
{
	struct child	c;

	parse_child(&c, p, argv);
	if (c.status == GS_EXIT_USAGE && strstr(c.err, msg) != NULL &&
	    strstr(c.err, p->synopsis) != NULL && c.out[0] == '\0')
		return 1;
	fprintf(stderr, "want exit 100 and '%s'; got %d, stderr: %s\n", msg,
	    c.status, c.err);
	return 0;
}

#define ARGV(...)	((char *[]){ "test-opt", __VA_ARGS__, NULL })

static void
test_kinds(void)
{
	struct set	s;
	int		i;

	env_clear();
	i = parse(&prog, &s, ARGV("-q", "x"));
	T_EQ_INT(i, 3);
	T_CHECK(s.n == 5 && s.flag == false && s.str == NULL &&
	    s.color == -1 && s.level == GS_LOG_INFO);	/* defaults kept */

	(void)parse(&prog, &s, ARGV("-q", "x", "-n", "10", "-u", "4000000000",
	    "-f", "-vvv", "-s", "1234567", "-l", "debug", "-c", "blue",
	    "-F", "ok1", "-r", "0.5", "-p", "25%"));
	T_EQ_INT(s.n, 10);
	T_CHECK(s.u == 4000000000u);
	T_CHECK(s.flag);
	T_EQ_INT(s.verbose, 3);
	T_CHECK(s.str != NULL && strcmp(s.str, "1234567") == 0);
	T_EQ_INT(s.level, GS_LOG_DEBUG);
	T_EQ_INT(s.color, 2);
	T_CHECK(s.fn != NULL && strcmp(s.fn, "ok1") == 0);
	T_CHECK(s.real == 0.5 && s.ratio == 0.25);

	(void)parse(&prog, &s, ARGV("--need=x", "--count", "7", "--color=red",
	    "--verbose", "--verbose"));
	T_CHECK(s.need != NULL && strcmp(s.need, "x") == 0);
	T_EQ_INT(s.n, 7);
	T_EQ_INT(s.color, 0);
	T_EQ_INT(s.verbose, 2);
}

static void
test_bounds(void)
{
	env_clear();
	T_CHECK(bad(&prog, ARGV("-q", "x", "-n", "0"),
	    "test-opt: -n: bad value '0' (want 1..10)\n"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "--count=11"),
	    "test-opt: --count: bad value '11' (want 1..10)\n"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "-n", "3x"), "-n: bad value '3x'"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "-n", ""), "-n: bad value ''"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "-u", "-1"), "(want 0..4000000000)"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "-r", "0"),
	    "(want a number above 0, up to 100)"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "-r", "100.5"), "-r: bad value"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "-r", "nan"), "-r: bad value"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "-p", "101%"), "-p: bad value"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "-s", "12345678"),
	    "(want shorter than 8 bytes)"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "-l", "loud"),
	    "(want error, warn, info or debug)"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "-c", "pink"),
	    "(want red, green or blue)"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "-F", "nope"),
	    "-F: bad value 'nope' (want ok-something)"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "-F", "why-not"),
	    "test-opt: -F: not like that: why-not\n"));
}

static void
test_durations(void)
{
	struct set	s;

	env_clear();
	(void)parse(&prog, &s, ARGV("-q", "x", "-t", "250ms"));
	T_EQ_INT(s.ms, 250);
	(void)parse(&prog, &s, ARGV("-q", "x", "-t", "1.5"));	/* bare: s */
	T_EQ_INT(s.ms, 1500);
	(void)parse(&prog, &s, ARGV("-q", "x", "-t", "1m"));
	T_EQ_INT(s.ms, 60000);
	(void)parse(&prog, &s, ARGV("-q", "x", "-T", "20"));	/* bare: ms */
	T_EQ_INT(s.ms, 20);
	(void)parse(&prog, &s, ARGV("-q", "x", "-T", "1500us"));
	T_EQ_INT(s.ms, 2);					/* rounded */
	(void)parse(&prog, &s, ARGV("-q", "x", "-w", "2500ms"));
	T_CHECK(s.secs == 2.5);
	T_CHECK(bad(&prog, ARGV("-q", "x", "-t", "99ms"),
	    "-t: bad value '99ms' (want 100..60000 ms; units us, ms, s, m)"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "-t", "61s"), "-t: bad value"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "-t", "1h"), "-t: bad value"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "-t", "-1s"), "-t: bad value"));
}

static void
test_env(void)
{
	struct set	s;

	env_clear();
	setenv("GS_T_NEED", "from-env", 1);
	setenv("GS_T_COUNT", "7", 1);
	setenv("GS_T_TIME", "2s", 1);
	setenv("GS_T_WAIT", "1500ms", 1);
	setenv("GS_T_FLAG", "yes", 1);
	setenv("GS_T_LEVEL", "warn", 1);
	setenv("GS_T_UNSIGNED", "", 1);		/* empty: unset */
	(void)parse(&prog, &s, ARGV("-v"));
	T_CHECK(s.need != NULL && strcmp(s.need, "from-env") == 0);
	T_EQ_INT(s.n, 7);
	T_EQ_INT(s.ms, 2000);
	T_CHECK(s.secs == 1.5);
	T_CHECK(s.flag);
	T_EQ_INT(s.level, GS_LOG_WARN);
	T_CHECK(s.u == 0);

	/* Flags win. */
	(void)parse(&prog, &s, ARGV("-n", "3", "-t", "500ms", "-q", "flag",
	    "-l", "error"));
	T_EQ_INT(s.n, 3);
	T_EQ_INT(s.ms, 500);
	T_CHECK(strcmp(s.need, "flag") == 0);
	T_EQ_INT(s.level, GS_LOG_ERROR);

	setenv("GS_T_FLAG", "false", 1);
	(void)parse(&prog, &s, ARGV("-v"));
	T_CHECK(!s.flag);
	(void)parse(&prog, &s, ARGV("-f"));
	T_CHECK(s.flag);

	/* A bad variable names the variable. */
	setenv("GS_T_FLAG", "maybe", 1);
	T_CHECK(bad(&prog, ARGV("-v"), "test-opt: GS_T_FLAG: bad value "
	    "'maybe' (want 1, yes, true, 0, no or false)\n"));
	setenv("GS_T_FLAG", "1", 1);
	setenv("GS_T_COUNT", "99", 1);
	T_CHECK(bad(&prog, ARGV("-v"),
	    "test-opt: GS_T_COUNT: bad value '99' (want 1..10)\n"));
	env_clear();
}

static void
test_list(void)
{
	struct set	s;

	env_clear();
	setenv("GS_T_LIST", " a, bb\tccc ,", 1);
	(void)parse(&prog, &s, ARGV("-q", "x"));
	T_ASSERT(s.nlist == 3);
	T_CHECK(strcmp(s.list[0], "a") == 0 && strcmp(s.list[1], "bb") == 0 &&
	    strcmp(s.list[2], "ccc") == 0);
	/* The first flag replaces the variable's list. */
	(void)parse(&prog, &s, ARGV("-q", "x", "-L", "x", "--list", "y"));
	T_ASSERT(s.nlist == 2);
	T_CHECK(strcmp(s.list[0], "x") == 0 && strcmp(s.list[1], "y") == 0);
	T_CHECK(bad(&prog, ARGV("-q", "x", "-L", "1", "-L", "2", "-L", "3",
	    "-L", "4"), "-L: bad value '4' (want at most 3 values)"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "-L", "123456789"),
	    "-L: bad value '123456789' (want shorter than 8 bytes)"));
	setenv("GS_T_LIST", "1 2 3 4", 1);
	T_CHECK(bad(&prog, ARGV("-q", "x"), "GS_T_LIST: bad value '4'"));
	env_clear();
}

static void
test_usage_exits(void)
{
	struct child	c;
	struct set	s;

	env_clear();
	parse_child(&c, &prog, ARGV("--help"));
	T_EQ_INT(c.status, GS_EXIT_OK);
	T_CHECK(strcmp(c.out, prog.synopsis) == 0 && c.err[0] == '\0');
	parse_child(&c, &prog, ARGV("-h", "-n", "0"));	/* before checks */
	T_EQ_INT(c.status, GS_EXIT_OK);
	parse_child(&c, &prog, ARGV("-V"));
	T_EQ_INT(c.status, GS_EXIT_OK);
	T_CHECK(strcmp(c.out, "test-opt " GS_VERSION "\n") == 0);
	parse_child(&c, &prog, ARGV("-q", "x"));
	T_EQ_INT(c.status, 42);
	T_CHECK(bad(&prog, ARGV("-q", "x", "--no-such-flag"), "no-such-flag"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "-Z"), "-- 'Z'"));
	T_CHECK(bad(&prog, ARGV("-q"), "requires an argument"));
	T_CHECK(bad(&prog, ARGV("-v"),
	    "test-opt: -q is required (or set GS_T_NEED)\n"));
	T_CHECK(bad(&prog, ARGV("-q", "x", "extra"),
	    "test-opt: unexpected argument 'extra'\n"));
	/* With operands: parsing stops at the first one. */
	T_EQ_INT(parse(&prog_operands, &s, ARGV("-q", "x", "cmd", "-n", "0")),
	    3);
	T_EQ_INT(s.n, 5);
}

T_MAIN(T(test_kinds), T(test_bounds), T(test_durations), T(test_env),
    T(test_list), T(test_usage_exits))
