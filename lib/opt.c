/*
 * One flag and environment parser for every program (opt.h).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "opt.h"
#include "util.h"

#ifndef GS_VERSION
#define GS_VERSION	"unknown"
#endif

#define OPT_LONG_BASE	0x100	/* getopt value of a row without ch */

/* Copies of list variables, split in place; kept for the process's
 * life like argv (reachable, so not a leak). */
struct opt_copy {
	struct opt_copy	*next;
	char		 s[];
};
static struct opt_copy	*opt_copies;

/* What one parse knows about each row. */
struct opt_state {
	const struct gs_opt_prog *p;
	void		*base;
	bool		 given[GS_OPT_ROWS_MAX];
	bool		 listed[GS_OPT_ROWS_MAX];	/* a flag reset it */
};

/* "prog: what: bad value 'v' (want want)", the synopsis, exit 100. */
static void __attribute__((noreturn))
gs_opt_bad(const struct gs_opt_prog *p, const char *what, const char *v,
    const char *want)
{
	(void)fprintf(stderr, "%s: %s: bad value '%s' (want %s)\n", p->prog,
	    what, v, want);
	(void)fputs(p->synopsis, stderr);
	exit(GS_EXIT_USAGE);
}

void
gs_opt_fail(const struct gs_opt_prog *p, const char *fmt, ...)
{
	va_list	ap;

	(void)fprintf(stderr, "%s: ", p->prog);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
	(void)fputs(p->synopsis, stderr);
	exit(GS_EXIT_USAGE);
}

static void *
opt_dst(const struct opt_state *st, const struct gs_opt *o)
{
	return (char *)st->base + o->off;
}

/* LIST: the number of values. */
static unsigned *
opt_count(const struct opt_state *st, const struct gs_opt *o)
{
	return (unsigned *)(void *)((char *)st->base + o->count_off);
}

/* v into an integer of o->size bytes; the bounds made it fit. */
static void
opt_store_int(void *dst, size_t size, long long v)
{
	int8_t	i8 = (int8_t)v;
	int16_t	i16 = (int16_t)v;
	int32_t	i32 = (int32_t)v;
	int64_t	i64 = (int64_t)v;

	switch (size) {
	case 1:
		memcpy(dst, &i8, 1);
		break;
	case 2:
		memcpy(dst, &i16, 2);
		break;
	case 4:
		memcpy(dst, &i32, 4);
		break;
	default:
		memcpy(dst, &i64, 8);
		break;
	}
}

static void
opt_store_double(void *dst, double v)
{
	memcpy(dst, &v, sizeof(v));
}

/* The words after "want" when the row has none of its own. */
static const char *
opt_want(const struct gs_opt *o, char *buf, size_t cap)
{
	const char *const	*n;
	size_t			 len;

	if (o->want != NULL)
		return o->want;
	switch (o->kind) {
	case GS_OPT_BOOL:
		return "1, yes, true, 0, no or false";
	case GS_OPT_COUNT:
	case GS_OPT_INT:
		(void)snprintf(buf, cap, "%lld..%lld", o->min, o->max);
		break;
	case GS_OPT_MS:
		(void)snprintf(buf, cap, "%lld..%lld ms; units us, ms, s, m",
		    o->min, o->max);
		break;
	case GS_OPT_REAL:
		(void)snprintf(buf, cap, (o->flags & GS_OPT_ABOVE_MIN) ?
		    "a number above %lld, up to %lld" :
		    "a number in %lld..%lld", o->min, o->max);
		break;
	case GS_OPT_RATIO:
		return (o->flags & GS_OPT_ABOVE_MIN) ?
		    "a share like 0.5 or 50%, above 0" :
		    "a share like 0.5 or 50%";
	case GS_OPT_STR:
	case GS_OPT_LIST:
		(void)snprintf(buf, cap, "shorter than %lld bytes", o->max);
		break;
	case GS_OPT_LEVEL:
		return "error, warn, info or debug";
	case GS_OPT_ENUM:
		buf[0] = '\0';
		for (n = o->names; *n != NULL; n++) {
			len = strlen(buf);
			(void)snprintf(buf + len, cap - len, "%s%s",
			    n == o->names ? "" : n[1] == NULL ? " or " : ", ",
			    *n);
		}
		break;
	default:
		return "a valid value";
	}
	return buf;
}

static void __attribute__((noreturn))
opt_bad(const struct opt_state *st, const struct gs_opt *o, const char *what,
    const char *v)
{
	char	buf[256];

	gs_opt_bad(st->p, what, v, opt_want(o, buf, sizeof(buf)));
}

static void
opt_list_add(const struct opt_state *st, const struct gs_opt *o,
    const char *what, char *v)
{
	char		**arr = opt_dst(st, o);
	unsigned	 *count = opt_count(st, o);
	size_t		  cap = o->size / sizeof(char *);
	char		  want[64];

	if (*count >= cap) {
		(void)snprintf(want, sizeof(want), "at most %zu values", cap);
		gs_opt_bad(st->p, what, v, want);
	}
	if (o->max > 0 && strlen(v) >= (size_t)o->max)
		opt_bad(st, o, what, v);
	arr[(*count)++] = v;
}

/* A list variable: a private copy split at white space and commas. */
static void
opt_list_env(const struct opt_state *st, const struct gs_opt *o,
    const char *what, const char *v)
{
	struct opt_copy	*c;
	size_t		 n = strlen(v);
	char		*p, *item;

	if ((c = malloc(sizeof(*c) + n + 1)) == NULL)
		gs_fatal(GS_EXIT_SYSTEM, "option parse failed call=malloc");
	memcpy(c->s, v, n + 1);
	c->next = opt_copies;
	opt_copies = c;
	*opt_count(st, o) = 0;
	for (p = c->s; *p != '\0';) {
		p += strspn(p, " \t\n,");
		if (*p == '\0')
			break;
		item = p;
		p += strcspn(p, " \t\n,");
		if (*p != '\0')
			*p++ = '\0';
		opt_list_add(st, o, what, item);
	}
}

static bool
opt_bool_env(const char *v, bool *out)
{
	static const char *const yes[] = { "1", "yes", "true" };
	static const char *const no[] = { "0", "no", "false" };
	size_t			 i;

	for (i = 0; i < GS_NELEM(yes); i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Apply one value (v is NULL for a flag without argument). */
static void
opt_apply(struct opt_state *st, size_t i, const char *what, char *v,
    bool from_env)
{
	const struct gs_opt	*o = &st->p->opts[i];
	void			*dst = opt_dst(st, o);
	const char *const	*n;
	char			 why[256] = "";
	long long		 ll;
	double			 d;
	bool			 b;
	int			 lvl;

	switch (o->kind) {
	case GS_OPT_BOOL:
		b = true;
		if (from_env && !opt_bool_env(v, &b))
			opt_bad(st, o, what, v);
		opt_store_int(dst, o->size, b);
		break;
	case GS_OPT_COUNT:
		if (!from_env) {
			(*(int *)dst)++;
			break;
		}
		/* FALLTHROUGH */
	case GS_OPT_INT:
		if (gs_parse_ll(v, o->min, o->max, &ll) != GS_OK)
			opt_bad(st, o, what, v);
		opt_store_int(dst, o->size, ll);
		break;
	case GS_OPT_MS:
		if (gs_parse_ms(v, o->unit != 0 ? o->unit : 1000, o->min,
		    o->max, &ll) != GS_OK)
			opt_bad(st, o, what, v);
		if (o->flags & GS_OPT_SECONDS)
			opt_store_double(dst, (double)ll / 1000.);
		else
			opt_store_int(dst, o->size, ll);
		break;
	case GS_OPT_REAL:
		if (gs_parse_double(v, (double)o->min, (double)o->max, &d) !=
		    GS_OK || ((o->flags & GS_OPT_ABOVE_MIN) &&
		    d <= (double)o->min))
			opt_bad(st, o, what, v);
		opt_store_double(dst, d);
		break;
	case GS_OPT_RATIO:
		if (gs_parse_ratio(v, &d) != GS_OK ||
		    ((o->flags & GS_OPT_ABOVE_MIN) && d <= 0))
			opt_bad(st, o, what, v);
		opt_store_double(dst, d);
		break;
	case GS_OPT_STR:
		if (o->max > 0 && strlen(v) >= (size_t)o->max)
			opt_bad(st, o, what, v);
		memcpy(dst, &(const char *){ v }, sizeof(const char *));
		break;
	case GS_OPT_LIST:
		if (from_env)
			opt_list_env(st, o, what, v);
		else {
			if (!st->listed[i]) {	/* flags replace the variable */
				*opt_count(st, o) = 0;
				st->listed[i] = true;
			}
			opt_list_add(st, o, what, v);
		}
		break;
	case GS_OPT_LEVEL:
		if ((lvl = gs_log_level_parse(v)) < 0)
			opt_bad(st, o, what, v);
		opt_store_int(dst, o->size, lvl);
		break;
	case GS_OPT_ENUM:
		for (n = o->names; *n != NULL; n++)
			if (strcmp(*n, v) == 0)
				break;
		if (*n == NULL)
			opt_bad(st, o, what, v);
		opt_store_int(dst, o->size, n - o->names);
		break;
	case GS_OPT_FN:
		if (o->fn(st->base, v, why, sizeof(why)) != 0) {
			if (why[0] == '\0')
				opt_bad(st, o, what, v);
			gs_opt_fail(st->p, "%s: %s", what, why);
		}
		break;
	case GS_OPT_END:
		break;
	}
	st->given[i] = true;
}

static bool
opt_takes_arg(const struct gs_opt *o)
{
	return o->kind != GS_OPT_BOOL && o->kind != GS_OPT_COUNT;
}

/* A table that breaks the rules is a bug in the program. */
static void
opt_check_row(const struct gs_opt_prog *p, const struct gs_opt *o)
{
	bool	ok;

	switch (o->kind) {
	case GS_OPT_BOOL:
	case GS_OPT_INT:
		ok = o->size == 1 || o->size == 2 || o->size == 4 ||
		    o->size == 8;
		break;
	case GS_OPT_MS:
		ok = (o->flags & GS_OPT_SECONDS) ? o->size == sizeof(double) :
		    o->size == 4 || o->size == 8;
		break;
	case GS_OPT_REAL:
	case GS_OPT_RATIO:
		ok = o->size == sizeof(double);
		break;
	case GS_OPT_STR:
		ok = o->size == sizeof(const char *);
		break;
	case GS_OPT_LIST:
		ok = o->size >= sizeof(char *);
		break;
	case GS_OPT_COUNT:
	case GS_OPT_LEVEL:
	case GS_OPT_ENUM:
		ok = o->size == sizeof(int) &&
		    (o->kind != GS_OPT_ENUM || o->names != NULL);
		break;
	case GS_OPT_FN:
		ok = o->fn != NULL;
		break;
	default:
		ok = false;
		break;
	}
	if (!ok || o->ch == 'h' || o->ch == 'V' || (o->ch == 0 &&
	    o->name == NULL))
		gs_fatalx(GS_EXIT_RUNTIME, "bad option table prog=%s "
		    "option=%c name=%s", p->prog, o->ch != 0 ? o->ch : '-',
		    o->name != NULL ? o->name : "-");
}

/* The flag as named on the command line or in messages. */
static void
opt_flag_name(const struct gs_opt *o, bool as_long, char *buf, size_t cap)
{
	if (as_long || o->ch == 0)
		(void)snprintf(buf, cap, "--%s", o->name);
	else
		(void)snprintf(buf, cap, "-%c", o->ch);
}

int
gs_opt_parse(const struct gs_opt_prog *p, void *base, int argc, char **argv)
{
	struct option		 lo[GS_OPT_ROWS_MAX + 3];
	char			 optstr[3 * GS_OPT_ROWS_MAX + 8], what[80];
	struct opt_state	 st;
	const struct gs_opt	*o;
	const char		*v;
	size_t			 n, i, nlo = 0, len = 0;
	int			 ch, idx;

	memset(&st, 0, sizeof(st));
	st.p = p;
	st.base = base;
	optstr[len++] = '+';		/* stop at the first operand */
	for (n = 0; p->opts[n].kind != GS_OPT_END; n++) {
		o = &p->opts[n];
		if (n == GS_OPT_ROWS_MAX)
			gs_fatalx(GS_EXIT_RUNTIME, "bad option table "
			    "prog=%s rows=%zu", p->prog, n);
		opt_check_row(p, o);
		if (o->ch != 0) {
			optstr[len++] = (char)o->ch;
			if (opt_takes_arg(o))
				optstr[len++] = ':';
		}
		if (o->name != NULL)
			lo[nlo++] = (struct option){ o->name,
			    opt_takes_arg(o) ? required_argument : no_argument,
			    NULL, o->ch != 0 ? o->ch : OPT_LONG_BASE + (int)n };
	}
	memcpy(optstr + len, "hV", 3);
	lo[nlo++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[nlo++] = (struct option){ "version", no_argument, NULL, 'V' };
	lo[nlo] = (struct option){ NULL, 0, NULL, 0 };

	for (i = 0; i < n; i++) {
		o = &p->opts[i];
		if (o->env != NULL && (v = getenv(o->env)) != NULL &&
		    *v != '\0')
			/* getenv's string lives as long as the process */
			opt_apply(&st, i, o->env, (char *)v, true);
	}

	optind = 0;		/* glibc: start afresh, even in a second parse */
	for (;;) {
		idx = -1;
		if ((ch = getopt_long(argc, argv, optstr, lo, &idx)) == -1)
			break;
		if (ch == 'h') {
			(void)fputs(p->synopsis, stdout);
			exit(GS_EXIT_OK);
		}
		if (ch == 'V') {
			(void)printf("%s %s\n", p->prog, GS_VERSION);
			exit(GS_EXIT_OK);
		}
		for (i = 0; i < n; i++)
			if (p->opts[i].ch != 0 ? p->opts[i].ch == ch :
			    OPT_LONG_BASE + (int)i == ch)
				break;
		if (i == n) {		/* getopt said what was wrong */
			(void)fputs(p->synopsis, stderr);
			exit(GS_EXIT_USAGE);
		}
		opt_flag_name(&p->opts[i], idx >= 0, what, sizeof(what));
		opt_apply(&st, i, what, optarg, false);
	}
	if (!p->operands && optind < argc)
		gs_opt_fail(p, "unexpected argument '%s'", argv[optind]);

	for (i = 0; i < n; i++) {
		o = &p->opts[i];
		if (!(o->flags & GS_OPT_REQUIRED))
			continue;
		if (o->kind == GS_OPT_LIST)
			st.given[i] = *opt_count(&st, o) > 0;
		if (st.given[i])
			continue;
		opt_flag_name(o, false, what, sizeof(what));
		if (o->env != NULL)
			gs_opt_fail(p, "%s is required (or set %s)", what,
			    o->env);
		gs_opt_fail(p, "%s is required", what);
	}
	return optind;
}
