/*
 * A room's tick clock.  See tickclock.h for the contract.
 */
#include <string.h>

#include "tickclock.h"

void
sim_tickclock_init(struct sim_tickclock *tc, unsigned tick_rate,
    unsigned snapshot_rate, unsigned catchup, uint64_t now_us)
{
	memset(tc, 0, sizeof(*tc));
	tc->tick_rate = tick_rate;
	tc->snapshot_rate = snapshot_rate;
	tc->catchup = catchup;
	tc->last_us = now_us;
}

void
sim_tickclock_advance(struct sim_tickclock *tc, uint64_t now_us,
    struct sim_tick_due *due)
{
	int64_t	acc;

	memset(due, 0, sizeof(*due));
	acc = tc->acc + (int64_t)(now_us - tc->last_us) * tc->tick_rate;
	tc->last_us = now_us;
	due->behind = acc - SIM_TICK_UNITS;
	while (acc + SIM_TICK_SLACK >= SIM_TICK_UNITS &&
	    due->ticks < tc->catchup) {
		acc -= SIM_TICK_UNITS;
		due->ticks++;
		tc->snap_acc += tc->snapshot_rate;
		if (tc->snap_acc >= tc->tick_rate) {
			tc->snap_acc -= tc->tick_rate;
			due->snapshot = true;
		}
	}
	if (acc >= SIM_TICK_UNITS) {
		due->dropped = (uint64_t)(acc / SIM_TICK_UNITS);
		acc -= (int64_t)due->dropped * SIM_TICK_UNITS;
	}
	tc->acc = acc;		/* slightly negative after an early tick */
}

double
sim_tickclock_drift_s(const struct sim_tickclock *tc,
    const struct sim_tick_due *due, unsigned k)
{
	int64_t	behind = due->behind - (int64_t)k * SIM_TICK_UNITS;

	return behind > 0 ?
	    (double)behind / (double)tc->tick_rate / 1e6 : 0;
}
