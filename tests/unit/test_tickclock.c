/*
 * gs-sim's tick clock.  It lives in cmd/gs-sim/tickclock.c and never
 * reads a clock: the test passes the time of each wake-up, so every
 * count below is exact.
 */
#include <math.h>
#include <string.h>

#include "../../cmd/gs-sim/tickclock.h"
#include "t.h"

#define T0	5000000ULL	/* µs: a clock that does not start at 0 */
#define SEC	1000000ULL

static const unsigned	rates[] = { 30, 60, 128 };

/* The whole-µs time of the k-th tick of a rate, rounded down, as a
 * timer would fire it: never late, up to 1 µs early. */
static uint64_t
tick_time(unsigned rate, uint64_t k)
{
	return T0 + k * SEC / rate;
}

/* A timer at the tick period: one tick per wake-up, none dropped,
 * exactly rate ticks a second, at every rate. */
static void
test_exact_at_period(void)
{
	struct sim_tickclock	tc;
	struct sim_tick_due	due;
	uint64_t		k, ticks, snaps;
	size_t			r;

	for (r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		sim_tickclock_init(&tc, rates[r], rates[r], 4, T0);
		ticks = snaps = 0;
		for (k = 1; k <= 10ULL * rates[r]; k++) {
			sim_tickclock_advance(&tc, tick_time(rates[r], k),
			    &due);
			T_EQ_INT(due.ticks, 1);
			T_EQ_INT(due.dropped, 0);
			ticks += due.ticks;
			snaps += due.snapshot;
		}
		T_EQ_INT(ticks, 10 * rates[r]);
		T_EQ_INT(snaps, 10 * rates[r]);
	}
}

/*
 * Wake-ups at irregular times, never more than the catch-up cap
 * apart: after each one the ticks run are exactly the whole ticks in
 * the time since the start, counting a tick due within the slack as
 * run.
 */
static void
test_exact_irregular(void)
{
	struct sim_tickclock	tc;
	struct sim_tick_due	due;
	uint64_t		now, end, ticks, want, rng = 12345;
	size_t			r;
	int			i;

	for (r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		sim_tickclock_init(&tc, rates[r], rates[r], 4, T0);
		now = T0;
		ticks = 0;
		for (i = 0; i < 5000; i++) {
			/* 0 to 3 periods, from an LCG. */
			rng = rng * 6364136223846793005ULL +
			    1442695040888963407ULL;
			now += (rng >> 33) % (3 * SEC / rates[r]);
			sim_tickclock_advance(&tc, now, &due);
			T_EQ_INT(due.dropped, 0);
			T_CHECK(due.ticks <= 4);
			ticks += due.ticks;
			want = ((now - T0) * rates[r] +
			    (uint64_t)SIM_TICK_SLACK) / SIM_TICK_UNITS;
			T_EQ_INT(ticks, want);
		}
		/* On to a whole second: exactly rate ticks a second. */
		end = T0 + ((now - T0) / SEC + 1) * SEC;
		while (now < end) {
			now = now + SEC / rates[r] < end ?
			    now + SEC / rates[r] : end;
			sim_tickclock_advance(&tc, now, &due);
			T_EQ_INT(due.dropped, 0);
			ticks += due.ticks;
		}
		T_EQ_INT(ticks, (end - T0) / SEC * rates[r]);
	}
}

/* A timer that fires a little early runs the tick and carries the
 * debt: the next on-time wake-up runs one tick, not two, nor none. */
static void
test_early_slack_carried(void)
{
	struct sim_tickclock	tc;
	struct sim_tick_due	due;

	/* 60 Hz: a period is 16666.67 µs, the slack 2083 µs. */
	sim_tickclock_init(&tc, 60, 60, 4, T0);
	sim_tickclock_advance(&tc, T0 + 15000, &due);	/* 1667 µs early */
	T_EQ_INT(due.ticks, 1);
	T_CHECK(due.behind < 0);
	T_EQ_INT(tc.acc, 15000 * 60 - SIM_TICK_UNITS);	/* the debt */
	T_CHECK(sim_tickclock_drift_s(&tc, &due, 0) == 0);
	sim_tickclock_advance(&tc, tick_time(60, 2), &due);
	T_EQ_INT(due.ticks, 1);
	sim_tickclock_advance(&tc, tick_time(60, 3), &due);
	T_EQ_INT(due.ticks, 1);
	T_EQ_INT(tc.acc, (int64_t)(tick_time(60, 3) - T0) * 60 -
	    3 * SIM_TICK_UNITS);

	/* Earlier than the slack: nothing yet, the time is kept. */
	sim_tickclock_init(&tc, 60, 60, 4, T0);
	sim_tickclock_advance(&tc, T0 + 14000, &due);	/* 2667 µs early */
	T_EQ_INT(due.ticks, 0);
	T_CHECK(!due.snapshot);
	T_EQ_INT(tc.acc, 14000 * 60);
	sim_tickclock_advance(&tc, tick_time(60, 1), &due);
	T_EQ_INT(due.ticks, 1);
	sim_tickclock_advance(&tc, tick_time(60, 2), &due);
	T_EQ_INT(due.ticks, 1);
}

/* A stall: at most `catchup` ticks run, whole ticks beyond are
 * dropped and reported, the fraction of a tick is kept. */
static void
test_catchup_cap(void)
{
	struct sim_tickclock	tc;
	struct sim_tick_due	due;
	uint64_t		now;

	sim_tickclock_init(&tc, 30, 30, 4, T0);
	now = tick_time(30, 1);
	sim_tickclock_advance(&tc, now, &due);
	T_EQ_INT(due.ticks, 1);
	/* 1.01 s late: 30.3 ticks owed. */
	now += SEC + 10000;
	sim_tickclock_advance(&tc, now, &due);
	T_EQ_INT(due.ticks, 4);
	T_EQ_INT(due.dropped, 26);
	T_CHECK(due.snapshot);
	T_CHECK(tc.acc >= 0 && tc.acc < SIM_TICK_UNITS);
	/* A period later: one tick, nothing dropped. */
	now += SEC / 30 + 1;
	sim_tickclock_advance(&tc, now, &due);
	T_EQ_INT(due.ticks, 1);
	T_EQ_INT(due.dropped, 0);

	/* Exactly the cap owed: all run, none dropped. */
	sim_tickclock_init(&tc, 30, 30, 4, T0);
	sim_tickclock_advance(&tc, tick_time(30, 4), &due);
	T_EQ_INT(due.ticks, 4);
	T_EQ_INT(due.dropped, 0);

	/* 4.9 owed, cap 4: less than a whole tick is left, and kept. */
	sim_tickclock_init(&tc, 30, 30, 4, T0);
	sim_tickclock_advance(&tc, T0 + 49 * SEC / 300, &due);
	T_EQ_INT(due.ticks, 4);
	T_EQ_INT(due.dropped, 0);
	T_EQ_INT(tc.acc, 49 * SEC / 300 * 30 - 4 * SIM_TICK_UNITS);

	/* A cap of 1 at 128 Hz after 10 s: 1 run, 1279 dropped. */
	sim_tickclock_init(&tc, 128, 128, 1, T0);
	sim_tickclock_advance(&tc, T0 + 10 * SEC, &due);
	T_EQ_INT(due.ticks, 1);
	T_EQ_INT(due.dropped, 1279);
	T_EQ_INT(tc.acc, 0);
}

/* The drift of each tick of a late wake-up. */
static void
test_drift(void)
{
	struct sim_tickclock	tc;
	struct sim_tick_due	due;

	sim_tickclock_init(&tc, 30, 30, 4, T0);
	sim_tickclock_advance(&tc, T0 + 100000, &due);	/* 3 periods */
	T_EQ_INT(due.ticks, 3);
	T_CHECK(fabs(sim_tickclock_drift_s(&tc, &due, 0) - 2.0 / 30) <
	    1e-9);
	T_CHECK(fabs(sim_tickclock_drift_s(&tc, &due, 1) - 1.0 / 30) <
	    1e-9);
	T_CHECK(sim_tickclock_drift_s(&tc, &due, 2) == 0);
}

/* Snapshots at a lower rate than ticks, evenly spread; at most one a
 * wake-up, after its last tick. */
static void
test_snapshot_rate(void)
{
	static const struct {
		unsigned	tick, snap;
	} c[] = {
		{ 60, 20 }, { 60, 60 }, { 30, 10 }, { 128, 30 }, { 128, 64 },
		{ 30, 1 },
	};
	struct sim_tickclock	tc;
	struct sim_tick_due	due;
	uint64_t		k, snaps;
	unsigned		last = 0;
	size_t			i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		sim_tickclock_init(&tc, c[i].tick, c[i].snap, 4, T0);
		snaps = 0;
		for (k = 1; k <= 5ULL * c[i].tick; k++) {
			sim_tickclock_advance(&tc, tick_time(c[i].tick, k),
			    &due);
			T_EQ_INT(due.ticks, 1);
			if (due.snapshot) {
				/* Evenly: gaps of floor or ceil. */
				if (snaps > 0)
					T_CHECK(k - last <= (c[i].tick +
					    c[i].snap - 1) / c[i].snap &&
					    k - last >= c[i].tick / c[i].snap);
				last = (unsigned)k;
				snaps++;
			}
		}
		T_EQ_INT(snaps, 5 * c[i].snap);
	}

	/* 60 Hz ticks, 20 Hz snapshots, 3 ticks per wake-up: one
	 * snapshot each. */
	sim_tickclock_init(&tc, 60, 20, 4, T0);
	for (k = 1; k <= 20; k++) {
		sim_tickclock_advance(&tc, tick_time(60, 3 * k), &due);
		T_EQ_INT(due.ticks, 3);
		T_CHECK(due.snapshot);
	}
	/* Snapshots at the tick rate, 4 ticks owed: one snapshot. */
	sim_tickclock_init(&tc, 30, 30, 4, T0);
	sim_tickclock_advance(&tc, tick_time(30, 4), &due);
	T_EQ_INT(due.ticks, 4);
	T_CHECK(due.snapshot);
	/* No tick, no snapshot. */
	sim_tickclock_advance(&tc, tick_time(30, 4) + 1, &due);
	T_EQ_INT(due.ticks, 0);
	T_CHECK(!due.snapshot);
}

T_MAIN(
	T(test_exact_at_period),
	T(test_exact_irregular),
	T(test_early_slack_carried),
	T(test_catchup_cap),
	T(test_drift),
	T(test_snapshot_rate)
)
