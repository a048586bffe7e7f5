/*
 * A circuit breaker in front of the gateway's calls to gs-persist: after
 * a run of failures it stops calls for a cool-down, so that callers get
 * an answer at once (503 with Retry-After) instead of a timeout each,
 * and a struggling gs-persist gets air.
 *
 *   closed	every call goes.  fails_max failures in a row (consecutive:
 *		any success resets the count) open it.  A count in a row
 *		rather than a rate over a window: it needs no clock of its
 *		own, no minimum volume, and a healthy gs-persist does not
 *		fail several times running.
 *   open	no call goes; breaker_allow() says how long is left.
 *		After the cool-down the next breaker_allow() half-opens it.
 *   half-open	probes_max calls go (probes); the others are refused.
 *		A probe's success closes the breaker (and the cool-down
 *		returns to cool_us); its failure opens it again with the
 *		cool-down doubled, up to cool_max_us.
 *
 * Outcomes are reported with breaker_done(), exactly one for each
 * breaker_allow() that said yes.  They carry no ticket, so: one that
 * arrives while open is from a call made before it opened and is
 * ignored; while half-open, one counts as a probe's (a late outcome of
 * an older call may stand in for a probe's: it is as recent a sign of
 * gs-persist's health).  A probe whose outcome
 * never comes would keep the breaker half-open for ever: after
 * cool_max_us without one, the probes are written off as failed.
 *
 * Time is the caller's (now_us, monotonic), so the tests need no clock.
 * A bound on the calls in flight is the RPC layer's, not this.
 */
#ifndef GW_BREAKER_H
#define GW_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

/* The counters and state are for reading (metrics, logs); the rest is
 * the breaker's. */
struct breaker {
	enum breaker_state state;
	uint64_t	 opens;		/* closed or half-open -> open */
	uint64_t	 rejections;	/* breaker_allow() said no */
	uint64_t	 probes;	/* calls let through half-open */

	unsigned	 fails_max;
	unsigned	 probes_max;
	uint64_t	 cool_us, cool_max_us;
	unsigned	 fails;		/* in a row, closed */
	unsigned	 out;		/* probes without an outcome */
	uint64_t	 cool_now_us;	/* this opening's cool-down */
	uint64_t	 until_us;	/* open: until then */
	uint64_t	 since_us;	/* half-open: since then */
};

/*
 * Closed, opening after fails failures in a row (at least 1) for cool_us
 * (at least 1 ms), one probe at a time, the cool-down doubling up to 16
 * times cool_us.
 */
void	breaker_init(struct breaker *b, unsigned fails, uint64_t cool_us);
/* Probes at once when half-open (at least 1), and the longest
 * cool-down (at least cool_us). */
void	breaker_set_probes(struct breaker *b, unsigned probes,
	    uint64_t cool_max_us);

/*
 * May a call go now?  true: yes (report its outcome with breaker_done).
 * false: no, with *retry_after_s the seconds until the breaker will
 * try again, rounded up, at least 1 (1 while a probe is out).
 * retry_after_s may be NULL.
 */
bool	breaker_allow(struct breaker *b, uint64_t now_us,
	    unsigned *retry_after_s);
/* A call's outcome: ok is false for a failure of gs-persist (timeout,
 * unreachable, its internal error), true otherwise, a refusal of the
 * request included. */
void	breaker_done(struct breaker *b, uint64_t now_us, bool ok);

/* "closed", "open", "half-open". */
const char *breaker_state_name(enum breaker_state s);

#endif
