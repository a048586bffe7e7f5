/*
 * The gateway's circuit breaker (cmd/gs-gateway/breaker.c) on injected
 * time: every transition, the probe limit, the growing cool-down, and
 * outcomes that come at odd times.
 */
#include <stdint.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "../../cmd/gs-gateway/breaker.h"
#include "t.h"

#define MS	1000ULL		/* µs */
#define S	1000000ULL

/* n failures in a row from closed, each call allowed first. */
static void
fail_n(struct breaker *b, uint64_t now, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		T_CHECK(breaker_allow(b, now, NULL));
		breaker_done(b, now, false);
	}
}

/* closed -> open after fails in a row; a success resets the count. */
static void
test_open(void)
{
	struct breaker	b;
	unsigned	retry = 0;

	breaker_init(&b, 3, 2 * S);
	T_EQ_INT(b.state, BREAKER_CLOSED);
	fail_n(&b, 0, 2);
	T_CHECK(breaker_allow(&b, 0, &retry));
	breaker_done(&b, 0, true);
	fail_n(&b, 0, 2);
	T_EQ_INT(b.state, BREAKER_CLOSED);
	T_EQ_INT(b.opens, 0);
	fail_n(&b, 10 * MS, 1);
	T_EQ_INT(b.state, BREAKER_OPEN);
	T_EQ_INT(b.opens, 1);

	/* Open: refused, with the time left rounded up. */
	T_CHECK(!breaker_allow(&b, 10 * MS, &retry));
	T_EQ_INT(retry, 2);
	T_CHECK(!breaker_allow(&b, 1 * S + 10 * MS, &retry));
	T_EQ_INT(retry, 1);
	T_CHECK(!breaker_allow(&b, 2 * S + 9 * MS, &retry));
	T_EQ_INT(retry, 1);
	T_CHECK(!breaker_allow(&b, 2 * S, NULL));
	T_EQ_INT(b.rejections, 4);
	T_EQ_INT(b.state, BREAKER_OPEN);
}

/* Outcomes of calls made before it opened change nothing. */
static void
test_open_ignores(void)
{
	struct breaker	b;
	unsigned	retry = 0;

	breaker_init(&b, 1, 1 * S);
	fail_n(&b, 0, 1);
	breaker_done(&b, 100 * MS, true);
	breaker_done(&b, 200 * MS, false);
	T_EQ_INT(b.state, BREAKER_OPEN);
	T_EQ_INT(b.opens, 1);
	T_CHECK(!breaker_allow(&b, 500 * MS, &retry));
	T_EQ_INT(retry, 1);
}

/* open -> half-open after the cool-down; the probe limit; a probe's
 * success closes it. */
static void
test_half_open_close(void)
{
	struct breaker	b;
	unsigned	retry = 0;

	breaker_init(&b, 1, 1 * S);
	breaker_set_probes(&b, 2, 8 * S);
	fail_n(&b, 0, 1);
	T_CHECK(!breaker_allow(&b, 999 * MS, &retry));
	T_CHECK(breaker_allow(&b, 1 * S, &retry));
	T_EQ_INT(b.state, BREAKER_HALF_OPEN);
	T_CHECK(breaker_allow(&b, 1 * S, &retry));
	T_CHECK(!breaker_allow(&b, 1 * S, &retry));
	T_EQ_INT(retry, 1);
	T_CHECK(!breaker_allow(&b, 2 * S, &retry));
	T_EQ_INT(b.probes, 2);
	breaker_done(&b, 2 * S, true);
	T_EQ_INT(b.state, BREAKER_CLOSED);
	T_CHECK(breaker_allow(&b, 2 * S, &retry));
	/* The other probe's failure, later, counts as a closed one. */
	breaker_done(&b, 2 * S, false);
	T_EQ_INT(b.state, BREAKER_OPEN);	/* fails_max is 1 */
	/* Closed again, the cool-down is back to its start. */
	T_CHECK(!breaker_allow(&b, 2 * S, &retry));
	T_EQ_INT(retry, 1);
	T_CHECK(breaker_allow(&b, 3 * S, &retry));
	T_EQ_INT(b.state, BREAKER_HALF_OPEN);
}

/* A probe's failure opens it again, the cool-down doubling up to its
 * cap; a success brings it back to the start. */
static void
test_half_open_fail(void)
{
	static const uint64_t	cool[] = { 2, 4, 8, 10, 10 };	/* s */
	struct breaker		b;
	unsigned		retry = 0;
	uint64_t		now = 0;
	size_t			i;

	breaker_init(&b, 2, 1 * S);
	breaker_set_probes(&b, 1, 10 * S);
	fail_n(&b, now, 2);
	now += 1 * S;
	for (i = 0; i < GS_NELEM(cool); i++) {
		T_CHECK(breaker_allow(&b, now, &retry));	/* a probe */
		T_EQ_INT(b.state, BREAKER_HALF_OPEN);
		breaker_done(&b, now, false);
		T_EQ_INT(b.state, BREAKER_OPEN);
		T_CHECK(!breaker_allow(&b, now, &retry));
		T_EQ_INT(retry, cool[i]);
		T_CHECK(!breaker_allow(&b, now + cool[i] * S - 1, &retry));
		now += cool[i] * S;
	}
	T_EQ_INT(b.opens, 1 + GS_NELEM(cool));
	T_CHECK(breaker_allow(&b, now, &retry));
	breaker_done(&b, now, true);
	T_EQ_INT(b.state, BREAKER_CLOSED);
	fail_n(&b, now, 2);
	T_CHECK(!breaker_allow(&b, now, &retry));
	T_EQ_INT(retry, 1);
}

/* A probe whose outcome never comes is written off after cool_max. */
static void
test_lost_probe(void)
{
	struct breaker	b;
	unsigned	retry = 0;

	breaker_init(&b, 1, 1 * S);	/* cool_max: 16 s */
	fail_n(&b, 0, 1);
	T_CHECK(breaker_allow(&b, 1 * S, &retry));
	T_CHECK(!breaker_allow(&b, 16 * S, &retry));
	T_EQ_INT(retry, 1);
	T_EQ_INT(b.state, BREAKER_HALF_OPEN);
	T_CHECK(!breaker_allow(&b, 17 * S, &retry));
	T_EQ_INT(b.state, BREAKER_OPEN);
	T_EQ_INT(retry, 2);		/* doubled */
	T_CHECK(breaker_allow(&b, 19 * S, &retry));
}

static void
test_names(void)
{
	struct breaker	b;

	T_CHECK(strcmp(breaker_state_name(BREAKER_CLOSED), "closed") == 0);
	T_CHECK(strcmp(breaker_state_name(BREAKER_OPEN), "open") == 0);
	T_CHECK(strcmp(breaker_state_name(BREAKER_HALF_OPEN), "half-open") ==
	    0);
	T_CHECK(strcmp(breaker_state_name((enum breaker_state)9), "?") == 0);
	/* Out-of-range settings are raised to their floor. */
	breaker_init(&b, 0, 0);
	T_EQ_INT(b.fails_max, 1);
	T_CHECK(b.cool_us >= 1000);
	breaker_set_probes(&b, 0, 0);
	T_EQ_INT(b.probes_max, 1);
	T_CHECK(b.cool_max_us == b.cool_us);
}

int
main(void)
{
	static const struct t_case cases[] = {
		T(test_open), T(test_open_ignores), T(test_half_open_close),
		T(test_half_open_fail), T(test_lost_probe), T(test_names),
	};

	gs_log_init("test_breaker", GS_LOG_ERROR);
	return t_run(__FILE__, cases, GS_NELEM(cases));
}
