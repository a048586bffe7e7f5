/* Small things every program needs: clocks, bounded number parsing,
 * GS_* environment defaults, readiness notification. */
#ifndef GS_UTIL_H
#define GS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define GS_NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define GS_MIN(a, b)	((a) < (b) ? (a) : (b))
#define GS_MAX(a, b)	((a) > (b) ? (a) : (b))

/* Exit codes (STYLE.md). */
#define GS_EXIT_OK	0
#define GS_EXIT_RUNTIME	1
#define GS_EXIT_USAGE	100
#define GS_EXIT_SYSTEM	111

/* Monotonic clock in microseconds and milliseconds; wall clock in µs. */
uint64_t	gs_now_us(void);
uint64_t	gs_now_ms(void);
uint64_t	gs_wall_us(void);

/* Parse a whole decimal integer in [min, max].  GS_OK, GS_EINVAL or
 * GS_ERANGE; *out is untouched on error. */
int	gs_parse_ll(const char *s, long long min, long long max,
	    long long *out);
/* Parse a duration: "250ms", "2s", "1.5s", "3m" or a bare number of
 * the given default unit (1 = ms, 1000 = s).  Result in ms, in
 * [min_ms, max_ms]. */
int	gs_parse_ms(const char *s, long long unit_ms, long long min_ms,
	    long long max_ms, long long *out);
/* Parse a decimal fraction like "0.03", "3%" into [0, 1]. */
int	gs_parse_ratio(const char *s, double *out);

/*
 * Option and environment helpers for main(): on a bad value they print
 * "prog: what: bad value 'x' (want min..max)" and the usage line, then
 * exit 100.  `what` names the flag or variable ("-t", "GS_TICK_RATE").
 * usage is the program's usage() function (NULL: none printed).
 * gs_usage_bad() is that message with the wanted values in words.
 */
void		gs_usage_bad(const char *what, const char *val,
		    const char *want, void (*usage)(void))
		    __attribute__((noreturn));
long long	gs_arg_int(const char *what, const char *s, long long min,
		    long long max, void (*usage)(void));
long long	gs_arg_ms(const char *what, const char *s, long long unit_ms,
		    long long min_ms, long long max_ms, void (*usage)(void));
/* Value of environment variable name, or def when unset or empty. */
const char	*gs_env(const char *name, const char *def);

/* Copy a string into a fixed buffer; returns GS_ETOOBIG if it did not
 * fit (dst is then truncated but NUL-terminated). */
int	gs_strlcpy(char *dst, const char *src, size_t cap);

/*
 * Readiness: write "\n" to fd (s6 style) and close it, and send
 * READY=1 to $NOTIFY_SOCKET when set (systemd Type=notify).  fd < 0
 * skips the fd part.  Errors are logged, not fatal.
 */
void	gs_notify_ready(int fd);

/*
 * Call after stopping the SIGTERM/SIGINT/SIGHUP watchers at the end of
 * a daemon's teardown: libev then restores the default actions, and a
 * signal arriving during the last steps would kill the daemon (status
 * 143) instead of letting it finish and exit 0.
 */
void	gs_signals_ignore(void);

/* 64-bit random value from getrandom(2); fatal on failure. */
uint64_t	gs_random_u64(void);

#endif
