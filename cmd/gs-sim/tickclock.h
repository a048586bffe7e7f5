/*
 * A room's tick clock: how many fixed-rate ticks a wake-up runs,
 * whether a snapshot follows them, and what a stall cost.
 *
 * Pure code: the caller passes the time (µs, monotonic) and runs the
 * ticks; nothing here reads a clock or touches the loop.
 *
 * An accumulator of time owed is kept in µs * tick_rate, so that one
 * tick is exactly SIM_TICK_UNITS at any rate.  A wake-up runs the ticks
 * owed, at most `catchup` of them; time beyond that is dropped and
 * counted as an overrun, so a stalled loop does not make a room race to
 * catch up for seconds.  Snapshots have their own accumulator
 * (snapshot_rate per tick against tick_rate), and one wake-up sends at
 * most one: the state after its last tick.
 */
#ifndef SIM_TICKCLOCK_H
#define SIM_TICKCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define SIM_TICK_UNITS	1000000LL	/* one tick in accumulator units */
/* A timer may fire a hair before the accumulator has a whole tick
 * (the timer runs on libev's clock, the accumulator on ours); up to
 * this much early counts as on time, and the debt is carried. */
#define SIM_TICK_SLACK	(SIM_TICK_UNITS / 8)

struct sim_tickclock {
	unsigned	 tick_rate;	/* per second, >= 1 */
	unsigned	 snapshot_rate;	/* per second, <= tick_rate */
	unsigned	 catchup;	/* ticks per wake-up at most, >= 1 */
	int64_t		 acc;		/* time owed, in µs * tick_rate */
	uint64_t	 last_us;	/* the accumulator's clock */
	unsigned	 snap_acc;	/* snapshot accumulator */
};

/* What one wake-up owes. */
struct sim_tick_due {
	unsigned	 ticks;		/* to run now, <= catchup */
	bool		 snapshot;	/* one, after the ticks */
	uint64_t	 dropped;	/* ticks given up: an overrun if > 0 */
	/* How late the first tick starts against its schedule, in
	 * accumulator units; negative when early.  Each later tick of
	 * the wake-up starts one SIM_TICK_UNITS less late. */
	int64_t		 behind;
};

/* A clock with nothing owed at now_us. */
void	sim_tickclock_init(struct sim_tickclock *tc, unsigned tick_rate,
	    unsigned snapshot_rate, unsigned catchup, uint64_t now_us);
/* A wake-up at now_us (never before the previous one): the time since
 * is owed, and *due says what to run for it. */
void	sim_tickclock_advance(struct sim_tickclock *tc, uint64_t now_us,
	    struct sim_tick_due *due);
/* Seconds tick k (from 0) of a wake-up starts late; 0 when on time
 * or early. */
double	sim_tickclock_drift_s(const struct sim_tickclock *tc,
	    const struct sim_tick_due *due, unsigned k);

#endif
