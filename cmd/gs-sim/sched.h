/*
 * The shared tick schedule: one timer for all rooms instead of one
 * each.
 *
 * Pure code: the caller passes the time (µs, monotonic), owns the
 * timer and runs the rooms; nothing here reads a clock or touches the
 * loop.
 *
 * The tick period is cut into `nslots` slots.  Instant i of the
 * schedule is at epoch + floor(i * 1e6 / (tick_rate * nslots)) µs and
 * belongs to slot i % nslots, so each slot comes round once a period,
 * at its own phase, and its instants never drift (each is computed
 * from the epoch, not from the previous one).  A member (a room) is
 * put in the least-loaded slot when it is added and stays there until
 * it is removed: its ticks are its slot's instants, evenly spaced, and
 * the members' work spreads over the period instead of bunching.
 *
 * The schedule only says which slots are due; each member's own tick
 * clock (tickclock.h) says how many ticks it owes.  Wake-ups are at
 * most tick_rate * nslots a second whatever the number of members,
 * and fewer when some slots are empty: sim_sched_next_us() skips them.
 */
#ifndef SIM_SCHED_H
#define SIM_SCHED_H

#include <stdint.h>

#define SIM_SCHED_SLOTS_MAX	16

/* Embedded in what is scheduled; data points back to it. */
struct sim_sched_entry {
	struct sim_sched_entry	*next, *prev;	/* the slot's members */
	unsigned		 slot;		/* set by sim_sched_add */
	void			*data;
};

struct sim_sched {
	unsigned		 tick_rate;	/* per second, >= 1 */
	unsigned		 nslots;	/* 1..SIM_SCHED_SLOTS_MAX */
	uint64_t		 epoch_us;	/* instant 0 */
	uint64_t		 next;		/* the first instant not yet run */
	/* A timer may fire a hair early (it runs on libev's clock): an
	 * instant this close counts as due.  An eighth of a slot, well
	 * inside the tick clock's own slack of an eighth of a tick. */
	uint64_t		 slack_us;
	unsigned		 n;		/* members in all slots */
	unsigned		 load[SIM_SCHED_SLOTS_MAX];
	struct sim_sched_entry	*head[SIM_SCHED_SLOTS_MAX];
};

/* An empty schedule whose instant 0 is now_us, the next instant to
 * run the first after now_us. */
void	sim_sched_init(struct sim_sched *s, unsigned tick_rate,
	    unsigned nslots, uint64_t now_us);
/* Put e in the slot with the fewest members (the lowest of those
 * tied) and return that slot.  e must not be in the schedule.  The
 * first member after an idle spell resumes the schedule at now_us:
 * nothing is owed for the time no timer ran. */
unsigned sim_sched_add(struct sim_sched *s, struct sim_sched_entry *e,
	    uint64_t now_us);
/* Take e out of its slot.  e must be in the schedule. */
void	sim_sched_remove(struct sim_sched *s, struct sim_sched_entry *e);
/* The first member of a slot, then follow ->next; NULL when empty.
 * The list may be walked while its members run, not while they are
 * added or removed (take ->next first to remove the current one). */
struct sim_sched_entry *sim_sched_slot(const struct sim_sched *s,
	    unsigned slot);

/* The time of instant i. */
uint64_t sim_sched_at(const struct sim_sched *s, uint64_t i);
/*
 * A wake-up at now_us: put in slots[] (room for nslots) the slots of
 * the instants now due, in order, and return how many; none when the
 * wake-up is early.  A wake-up a period or more late runs each slot
 * once (its members' clocks catch up or drop) rather than every
 * instant missed.
 */
unsigned sim_sched_due(struct sim_sched *s, uint64_t now_us,
	    unsigned *slots);
/* When to wake up next: the first instant not yet run whose slot has
 * members.  UINT64_MAX when the schedule is empty: stop the timer. */
uint64_t sim_sched_next_us(const struct sim_sched *s);
/*
 * When a member just added to `slot` at now_us starts owing ticks:
 * one period before the first instant of its slot that is after now_us
 * and not yet run, so that this instant finds exactly one tick owed
 * and the member's clock keeps the slot's phase (its drift is lateness
 * against its slot's instants, no phase in it).  It is within a
 * period before now_us, or a hair after it when the slot has just run
 * early; never after the slot's next run.
 */
uint64_t sim_sched_start_us(const struct sim_sched *s, unsigned slot,
	    uint64_t now_us);

#endif
