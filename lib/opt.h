/*
 * Flags and GS_* environment variables, parsed from one table per
 * program.
 *
 * A program describes each flag by a row of struct gs_opt: its short
 * letter, long name, environment variable (or NULL), kind, bounds and
 * where its value goes, as an offset into the program's settings struct
 * (base).  gs_opt_parse() then
 *
 *   1. applies the environment: each row's variable, when set and not
 *	empty, in table order;
 *   2. applies the flags (getopt_long, stopping at the first operand),
 *	so that a flag wins over its variable;
 *   3. answers -h/--help (the synopsis on stdout, exit 0) and
 *	-V/--version ("prog version" on stdout, exit 0);
 *   4. checks that every GS_OPT_REQUIRED row was given.
 *
 * A bad value, an unknown flag, a missing argument or a missing
 * required flag prints one line and the synopsis on stderr and exits
 * 100 (GS_EXIT_USAGE); the line for a bad value is
 *
 *	prog: what: bad value 'x' (want ...)
 *
 * where what is the flag as given ("-t", "--tick-rate") or the
 * variable ("GS_SIM_TICK_RATE").  A bad variable is an error even when
 * a flag overrides it.  Defaults are whatever base holds
 * before the call.  Strings are borrowed from argv or the environment,
 * which live as long as the process.
 */
#ifndef GS_OPT_H
#define GS_OPT_H

#include <stdbool.h>
#include <stddef.h>

enum gs_opt_kind {
	GS_OPT_END = 0,		/* ends the table */
	/* No argument: sets the integer (bool, int) to 1.  From the
	 * environment: 1, yes or true sets it, 0, no or false clears it. */
	GS_OPT_BOOL,
	/* No argument: adds 1 to the int each time (-vv); from the
	 * environment, a number in [min, max]. */
	GS_OPT_COUNT,
	/* An integer in [min, max] into a signed or unsigned integer of
	 * 1, 2, 4 or 8 bytes (min >= 0 for an unsigned one). */
	GS_OPT_INT,
	/* A duration (gs_parse_ms: us, ms, s, m, or a bare number of
	 * `unit` ms, 1000 when 0) in [min, max] ms, into an integer of ms,
	 * or with GS_OPT_SECONDS into a double of seconds. */
	GS_OPT_MS,
	/* A decimal number in [min, max] into a double (GS_OPT_ABOVE_MIN:
	 * min itself excluded). */
	GS_OPT_REAL,
	/* A share, "0.5" or "50%", in [0, 1] into a double
	 * (GS_OPT_ABOVE_MIN: 0 excluded). */
	GS_OPT_RATIO,
	/* A string into a const char *; with max > 0 it must be shorter
	 * than max bytes. */
	GS_OPT_STR,
	/* A repeatable string: the char *[] at off (its size is the
	 * capacity) gets each value, the unsigned at count_off their
	 * number; each shorter than max bytes when max > 0.  The
	 * variable holds several, separated by white space or commas;
	 * the first flag replaces the variable's whole list. */
	GS_OPT_LIST,
	/* A log level name (gs_log_level_parse) into an int. */
	GS_OPT_LEVEL,
	/* One of names[] (NULL-terminated): its index into an int. */
	GS_OPT_ENUM,
	/* The program's own parser, fn. */
	GS_OPT_FN,
};

/* Row flags. */
#define GS_OPT_REQUIRED		0x01	/* a flag or the variable must set it */
#define GS_OPT_SECONDS		0x02	/* MS: a double of seconds */
#define GS_OPT_ABOVE_MIN	0x04	/* REAL, RATIO: min excluded */

/*
 * GS_OPT_FN: parse v into base.  Return 0, or -1 for a bad value; then
 * why[whylen], if the parser wrote it, is printed as "prog: what: why",
 * else the row's want as for any bad value.
 */
typedef int gs_opt_fn(void *base, const char *v, char *why, size_t whylen);

struct gs_opt {
	int			 ch;		/* short flag; 0: none */
	const char		*name;		/* long name, no "--"; or NULL */
	const char		*env;		/* GS_* variable; or NULL */
	enum gs_opt_kind	 kind;
	size_t			 off;		/* the value: base + off */
	size_t			 size;		/* its size */
	long long		 min, max;	/* see the kinds */
	long long		 unit;		/* MS: ms in a bare number */
	unsigned		 flags;
	const char		*want;		/* words for errors; NULL:
						   made from the bounds */
	const char *const	*names;		/* ENUM */
	size_t			 count_off;	/* LIST: the unsigned count */
	gs_opt_fn		*fn;		/* FN */
};

/* off and size of a member of the settings struct, for a row. */
#define GS_OPT_AT(type, member) \
	.off = offsetof(type, member), .size = sizeof(((type *)0)->member)

struct gs_opt_prog {
	const char		*prog;		/* "gs-sim", for messages */
	const char		*synopsis;	/* usage text, "usage: ...\n" */
	const struct gs_opt	*opts;		/* ends with a GS_OPT_END row */
	bool			 operands;	/* operands allowed after flags */
};

#define GS_OPT_ROWS_MAX	60

/*
 * Parse the environment and argv into base (see above).  Returns the
 * index in argv of the first operand (argc when none).  Without
 * p->operands an operand is a usage error.  Exits on --help, -V and
 * every usage error.
 */
int	gs_opt_parse(const struct gs_opt_prog *p, void *base, int argc,
	    char **argv);

/* A usage error found after parsing: "prog: <message>", the synopsis,
 * exit 100. */
void	gs_opt_fail(const struct gs_opt_prog *p, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

#endif
