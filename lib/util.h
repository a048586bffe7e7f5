/* Small things every program needs: clocks, bounded number and
 * duration parsing, readiness notification, the hash and the PRNG. */
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
/*
 * The one duration parser: a decimal number with the unit us, ms, s or
 * m ("250ms", "1.5s", "3m", "500us"), or a bare number of unit_us
 * microseconds.  *out_us in [min_us, max_us].  GS_OK, GS_EINVAL or
 * GS_ERANGE; *out_us is untouched on error.
 */
int	gs_parse_us(const char *s, double unit_us, double min_us,
	    double max_us, double *out_us);
/* The same in whole milliseconds (rounded): a bare number is unit_ms
 * milliseconds (1 = ms, 1000 = s); result in [min_ms, max_ms]. */
int	gs_parse_ms(const char *s, long long unit_ms, long long min_ms,
	    long long max_ms, long long *out);
/* Parse a whole decimal number (finite) in [min, max]. */
int	gs_parse_double(const char *s, double min, double max, double *out);
/* Parse a decimal fraction like "0.03", "3%" into [0, 1]. */
int	gs_parse_ratio(const char *s, double *out);

/* Flags and GS_* variables are parsed from a table: see opt.h. */

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

/*
 * The one hash and the one PRNG.
 *
 * FNV-1a (64 bits) of a NUL-terminated string.  Stable: gateways place
 * a room on the sim its name hashes to, so every gateway must agree.
 *
 * splitmix64: a small, fast, seedable stream for simulations and
 * impairment draws (replayable from the seed); not for secrets.
 * gs_rand01() is uniform in [0, 1) with 53 random bits.
 */
uint64_t	gs_hash_fnv1a(const char *s);
uint64_t	gs_rand_next(uint64_t *state);
double		gs_rand01(uint64_t *state);

#endif
