/*
 * gs-sim's shared tick schedule.  It lives in cmd/gs-sim/sched.c and
 * never reads a clock: the test passes the time of each wake-up, and
 * plays the timer and the rooms (with their tick clocks, tickclock.c)
 * itself, so every count below is exact.
 */
#include <stdlib.h>
#include <string.h>

#include "../../cmd/gs-sim/sched.h"
#include "../../cmd/gs-sim/tickclock.h"
#include "t.h"

#define T0	5000000ULL	/* µs: a clock that does not start at 0 */
#define SEC	1000000ULL
#define NE	64

/* Every slot's list holds exactly its load of members, each of which
 * says it is in that slot; the loads add up. */
static void
check_lists(const struct sim_sched *s)
{
	const struct sim_sched_entry	*e;
	unsigned			 slot, k, total = 0;

	for (slot = 0; slot < s->nslots; slot++) {
		k = 0;
		for (e = sim_sched_slot(s, slot); e != NULL; e = e->next) {
			T_EQ_INT(e->slot, slot);
			if (e->next != NULL)
				T_CHECK(e->next->prev == e);
			if (++k > NE)
				break;		/* a loop in the list */
		}
		T_EQ_INT(k, s->load[slot]);
		total += k;
	}
	T_EQ_INT(total, s->n);
}

/* Is e on a slot's list?  (A list that loops, as one would if a
 * member were added twice, counts as listing it.) */
static int
listed(const struct sim_sched *s, const struct sim_sched_entry *e)
{
	const struct sim_sched_entry	*o;
	unsigned			 slot, k;

	for (slot = 0; slot < s->nslots; slot++)
		for (o = sim_sched_slot(s, slot), k = 0; o != NULL;
		    o = o->next)
			if (o == e || ++k > NE)
				return 1;
	return 0;
}

static unsigned
spread(const struct sim_sched *s)
{
	unsigned	i, lo = NE, hi = 0;

	for (i = 0; i < s->nslots; i++) {
		lo = s->load[i] < lo ? s->load[i] : lo;
		hi = s->load[i] > hi ? s->load[i] : hi;
	}
	return hi - lo;
}

/* Rooms added one by one go round the slots: the loads never differ
 * by more than one, and each slot lists its own. */
static void
test_add_spreads(void)
{
	static const unsigned		 slots[] = { 1, 2, 4, 8 };
	struct sim_sched		 s;
	struct sim_sched_entry		 e[NE];
	size_t				 k;
	unsigned			 i;

	for (k = 0; k < sizeof(slots) / sizeof(slots[0]); k++) {
		sim_sched_init(&s, 30, slots[k], T0);
		for (i = 0; i < 2 * slots[k] + 1; i++) {
			T_EQ_INT(sim_sched_add(&s, &e[i], T0), i % slots[k]);
			T_CHECK(spread(&s) <= 1);
		}
		T_EQ_INT(s.n, 2 * slots[k] + 1);
		check_lists(&s);
	}
}

/* A room removed leaves its slot's list at once, wherever it was in
 * it; the next room fills the hole, so the slots stay even as rooms
 * come and go. */
static void
test_remove(void)
{
	struct sim_sched	s;
	struct sim_sched_entry	e[NE];
	unsigned		i, j, j2, k, rng = 7;

	sim_sched_init(&s, 30, 4, T0);
	for (i = 0; i < 12; i++)
		(void)sim_sched_add(&s, &e[i], T0);
	/* Middle, head and tail of slot 1 (members 1, 5, 9; 9 is the
	 * head: members go in at the head). */
	sim_sched_remove(&s, &e[5]);
	sim_sched_remove(&s, &e[9]);
	T_EQ_INT(s.load[1], 1);
	T_CHECK(!listed(&s, &e[5]) && !listed(&s, &e[9]));
	T_CHECK(sim_sched_slot(&s, 1) == &e[1]);
	check_lists(&s);
	sim_sched_remove(&s, &e[1]);
	T_CHECK(sim_sched_slot(&s, 1) == NULL);
	T_EQ_INT(s.n, 9);
	check_lists(&s);
	/* The hole is filled first. */
	T_EQ_INT(sim_sched_add(&s, &e[1], T0), 1);
	T_EQ_INT(sim_sched_add(&s, &e[5], T0), 1);
	T_EQ_INT(sim_sched_add(&s, &e[9], T0), 1);
	T_EQ_INT(sim_sched_add(&s, &e[12], T0), 0);
	check_lists(&s);

	/* Rooms come and go at random: each goes to a least-loaded
	 * slot, and a room gone is no longer listed. */
	sim_sched_init(&s, 30, 4, T0);
	for (i = 0; i < NE; i++)
		e[i].slot = SIM_SCHED_SLOTS_MAX;	/* not in */
	for (j = 0; j < 5000; j++) {
		rng = rng * 1103515245u + 12345u;
		i = (rng >> 16) % NE;
		if (e[i].slot == SIM_SCHED_SLOTS_MAX) {
			k = sim_sched_add(&s, &e[i], T0);
			for (j2 = 0; j2 < 4; j2++)
				T_CHECK(s.load[k] - 1 <= s.load[j2]);
		} else {
			sim_sched_remove(&s, &e[i]);
			T_CHECK(!listed(&s, &e[i]));
			e[i].slot = SIM_SCHED_SLOTS_MAX;
		}
	}
	check_lists(&s);
	for (i = 0; i < NE; i++)
		if (e[i].slot != SIM_SCHED_SLOTS_MAX)
			sim_sched_remove(&s, &e[i]);
	T_EQ_INT(s.n, 0);
	for (i = 0; i < 4; i++)
		T_CHECK(sim_sched_slot(&s, i) == NULL);
}

/* Instants: K to a period, evenly, each from the epoch (no drift
 * after an hour); a slot's instants are a period apart, to the µs. */
static void
test_instants(void)
{
	struct sim_sched	s;
	uint64_t		i, d;

	sim_sched_init(&s, 30, 4, T0);
	T_EQ_INT(sim_sched_at(&s, 0), T0);
	T_EQ_INT(sim_sched_at(&s, 1), T0 + 8333);
	T_EQ_INT(sim_sched_at(&s, 4), T0 + 33333);
	T_EQ_INT(sim_sched_at(&s, 120), T0 + SEC);
	T_EQ_INT(sim_sched_at(&s, 3600 * 120), T0 + 3600 * SEC);
	for (i = 0; i < 1000; i++) {
		d = sim_sched_at(&s, i + 4) - sim_sched_at(&s, i);
		T_CHECK(d == 33333 || d == 33334);
	}
	/* The first instant not yet run is after the start. */
	T_EQ_INT(s.next, 1);
	sim_sched_init(&s, 128, 8, T0);
	T_EQ_INT(sim_sched_at(&s, 1024), T0 + SEC);
}

/* Wake-ups at each instant run one slot each, in turn; an early one
 * runs nothing unless within the slack; a late one runs every slot it
 * missed, in order; a stall runs each slot once. */
static void
test_due(void)
{
	struct sim_sched	s;
	unsigned		slots[SIM_SCHED_SLOTS_MAX], n;
	uint64_t		i;

	sim_sched_init(&s, 30, 4, T0);
	for (i = 1; i <= 12; i++) {
		n = sim_sched_due(&s, sim_sched_at(&s, i), slots);
		T_EQ_INT(n, 1);
		T_EQ_INT(slots[0], i % 4);
		/* Again at once: nothing. */
		T_EQ_INT(sim_sched_due(&s, sim_sched_at(&s, i), slots), 0);
	}
	/* Instant 13, 1 µs beyond the slack early: nothing; within it:
	 * slot 1. */
	T_EQ_INT(s.slack_us, 1041);
	T_EQ_INT(sim_sched_due(&s, sim_sched_at(&s, 13) - 1042, slots), 0);
	T_EQ_INT(sim_sched_due(&s, sim_sched_at(&s, 13) - 1041, slots), 1);
	T_EQ_INT(slots[0], 1);
	/* Late by two slots and a bit: 14, 15, 16 at once. */
	n = sim_sched_due(&s, sim_sched_at(&s, 16) + 2000, slots);
	T_EQ_INT(n, 3);
	T_EQ_INT(slots[0], 2);
	T_EQ_INT(slots[1], 3);
	T_EQ_INT(slots[2], 0);
	/* A stall of a second: each slot once, the latest instants, in
	 * order; then on from the first instant after the stall. */
	n = sim_sched_due(&s, sim_sched_at(&s, 16 + 121) + 10, slots);
	T_EQ_INT(n, 4);
	T_EQ_INT(slots[0], (16 + 118) % 4);
	T_EQ_INT(slots[1], (16 + 119) % 4);
	T_EQ_INT(slots[2], (16 + 120) % 4);
	T_EQ_INT(slots[3], (16 + 121) % 4);
	T_EQ_INT(s.next, 16 + 122);
}

/* The next wake-up: the next instant whose slot has rooms; none for
 * an empty schedule. */
static void
test_next(void)
{
	struct sim_sched	s;
	struct sim_sched_entry	e[2];
	unsigned		slots[SIM_SCHED_SLOTS_MAX];

	sim_sched_init(&s, 30, 4, T0);
	T_EQ_INT(sim_sched_next_us(&s), UINT64_MAX);
	(void)sim_sched_add(&s, &e[0], T0);		/* slot 0 */
	T_EQ_INT(sim_sched_next_us(&s), sim_sched_at(&s, 4));
	(void)sim_sched_add(&s, &e[1], T0);		/* slot 1 */
	T_EQ_INT(sim_sched_next_us(&s), sim_sched_at(&s, 1));
	T_EQ_INT(sim_sched_due(&s, sim_sched_at(&s, 1), slots), 1);
	T_EQ_INT(sim_sched_next_us(&s), sim_sched_at(&s, 4));
	sim_sched_remove(&s, &e[0]);
	T_EQ_INT(sim_sched_next_us(&s), sim_sched_at(&s, 5));
	sim_sched_remove(&s, &e[1]);
	T_EQ_INT(sim_sched_next_us(&s), UINT64_MAX);
	/* After an idle minute: on from then, nothing owed for it. */
	(void)sim_sched_add(&s, &e[0], T0 + 60 * SEC + 1);
	T_EQ_INT(sim_sched_next_us(&s), sim_sched_at(&s, 60 * 120 + 4));
}

/*
 * The loop, played: a timer that fires exactly when sim_sched_next_us()
 * says, rooms created at random times between wake-ups (as JOINs
 * arrive) with their tick clocks started at sim_sched_start_us(), some
 * ended.  Every room ticks once at each of its slot's instants, never
 * late and never twice, starting within a period of its creation; the
 * wake-ups are at most K a period (and one for a room that lands in an
 * empty slot whose instant has just passed).
 */
struct room {
	struct sim_sched_entry	e;
	struct sim_tickclock	tc;
	uint64_t		created, first, last, ticks;
	int			in;
};

static void
run_loop(unsigned rate, unsigned nslots)
{
	static struct room	r[NE];
	struct sim_sched	s;
	struct sim_tick_due	due;
	struct sim_sched_entry	*e;
	struct room		*rm;
	unsigned		slots[SIM_SCHED_SLOTS_MAX], n, i, k, nr = 0;
	uint64_t		now = T0, wake, gap, end, wakeups = 0;
	uint64_t		rng = 99, period = SEC / rate;

	memset(r, 0, sizeof(r));
	sim_sched_init(&s, rate, nslots, T0);
	end = T0 + 10 * SEC;
	while (now < end) {
		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		wake = sim_sched_next_us(&s);
		if (nr < NE && (rng >> 40) % 3 == 0) {
			gap = wake == UINT64_MAX ? period : wake - now;
			now += (rng >> 20) % gap;
			rm = &r[nr++];
			rm->created = now;
			rm->e.data = rm;
			(void)sim_sched_add(&s, &rm->e, now);
			sim_tickclock_init(&rm->tc, rate, rate, 4,
			    sim_sched_start_us(&s, rm->e.slot, now));
			T_CHECK(rm->tc.last_us <= now &&
			    rm->tc.last_us + period + 1 >= now);
			rm->in = 1;
		}
		if (nr > 8 && (rng >> 30) % 50 == 0) {
			rm = &r[(rng >> 12) % nr];
			if (rm->in) {
				sim_sched_remove(&s, &rm->e);
				rm->in = 0;
			}
		}
		if ((wake = sim_sched_next_us(&s)) == UINT64_MAX) {
			now += period;		/* idle: no timer */
			continue;
		}
		now = wake > now ? wake : now;
		wakeups++;
		n = sim_sched_due(&s, now, slots);
		T_CHECK(n >= 1);
		for (i = 0; i < n; i++)
			for (e = sim_sched_slot(&s, slots[i]); e != NULL;
			    e = e->next) {
				rm = e->data;
				sim_tickclock_advance(&rm->tc, now, &due);
				T_EQ_INT(due.dropped, 0);
				/* On time, but for the µs the instants
				 * are rounded to. */
				for (k = 0; k < due.ticks; k++)
					T_CHECK(sim_tickclock_drift_s(&rm->tc,
					    &due, k) < 2e-6);
				if (due.ticks == 0)
					continue;
				T_EQ_INT(due.ticks, 1);
				if (rm->ticks == 0)
					rm->first = now;
				else
					T_CHECK(now - rm->last <= period + 1 &&
					    now - rm->last >= period - 1);
				rm->last = now;
				rm->ticks++;
			}
	}
	T_CHECK(nr > 8);
	for (i = 0; i < nr; i++) {
		if (!r[i].in || r[i].created + period + 1 >= now)
			continue;
		T_CHECK(r[i].ticks > 0);
		T_CHECK(r[i].first > r[i].created &&
		    r[i].first <= r[i].created + period + 1);
		T_EQ_INT(r[i].ticks, (r[i].last - r[i].first +
		    period / 2) / period + 1);
	}
	T_CHECK(wakeups <= 10ULL * rate * nslots + nr);
}

static void
test_loop(void)
{
	run_loop(30, 4);
	run_loop(60, 8);
	run_loop(128, 4);
	run_loop(1, 4);
	run_loop(30, 1);
}

/* 100 rooms for a second: K wake-ups a period, not one per room, and
 * each room's 30 ticks. */
static void
test_wakeups(void)
{
	static struct room	r[100];
	struct sim_sched	s;
	struct sim_tick_due	due;
	struct sim_sched_entry	*e;
	struct room		*rm;
	unsigned		slots[SIM_SCHED_SLOTS_MAX], n, i, wakeups = 0;
	uint64_t		now = T0 + 12345, start, ticks = 0;

	memset(r, 0, sizeof(r));
	sim_sched_init(&s, 30, 4, T0);
	for (i = 0; i < 100; i++) {
		r[i].e.data = &r[i];
		(void)sim_sched_add(&s, &r[i].e, now);
		sim_tickclock_init(&r[i].tc, 30, 30, 4,
		    sim_sched_start_us(&s, r[i].e.slot, now));
	}
	start = now;
	while ((now = sim_sched_next_us(&s)) <= start + SEC) {
		wakeups++;
		n = sim_sched_due(&s, now, slots);
		T_EQ_INT(n, 1);
		for (i = 0; i < n; i++)
			for (e = sim_sched_slot(&s, slots[i]); e != NULL;
			    e = e->next) {
				rm = e->data;
				sim_tickclock_advance(&rm->tc, now, &due);
				T_EQ_INT(due.ticks, 1);
				ticks += due.ticks;
			}
	}
	T_EQ_INT(wakeups, 120);
	T_EQ_INT(ticks, 100 * 30);
}

/* The instant i with at(i) == t, or UINT64_MAX. */
static uint64_t
instant_of(const struct sim_sched *s, uint64_t t)
{
	uint64_t	i;

	i = (t - s->epoch_us) * s->tick_rate * s->nslots / SEC;
	for (; sim_sched_at(s, i) <= t; i++)
		if (sim_sched_at(s, i) == t)
			return i;
	return UINT64_MAX;
}

/*
 * A room created while the timer is behind (the loop stalled, and the
 * JOIN is read before the timer fires) owes nothing for the stall: its
 * clock starts within a period before now, at its slot's phase.  A
 * room created just after its slot ran a hair early owes its first
 * tick at the slot's next instant, not two then.
 */
static void
test_start(void)
{
	struct sim_sched	s;
	struct sim_sched_entry	e[4], b;
	struct sim_tickclock	tc;
	struct sim_tick_due	due;
	unsigned		slots[SIM_SCHED_SLOTS_MAX], i;
	uint64_t		now, st;

	sim_sched_init(&s, 30, 4, T0);
	(void)sim_sched_add(&s, &e[0], T0);			/* slot 0 */
	/* Due from instant 1 on; the loop wakes at 2.5 s. */
	now = T0 + 2500000;
	T_EQ_INT(sim_sched_add(&s, &b, now), 1);
	st = sim_sched_start_us(&s, b.slot, now);
	T_CHECK(st <= now && st + 33334 > now);
	T_EQ_INT(instant_of(&s, st), 297);		/* slot 1's */
	sim_tickclock_init(&tc, 30, 30, 4, st);
	T_EQ_INT(sim_sched_due(&s, now + 50, slots), 4);
	sim_tickclock_advance(&tc, now + 50, &due);
	T_EQ_INT(due.ticks, 0);
	T_EQ_INT(due.dropped, 0);
	sim_tickclock_advance(&tc, sim_sched_at(&s, 301), &due);
	T_EQ_INT(due.ticks, 1);
	T_CHECK(sim_tickclock_drift_s(&tc, &due, 0) < 2e-6);

	/* Instants 1-4 run 500 µs early (the slack); slot 0 is emptied,
	 * and a room made at 4 - 200 µs goes in it. */
	sim_sched_init(&s, 30, 4, T0);
	for (i = 0; i < 4; i++)
		(void)sim_sched_add(&s, &e[i], T0);
	T_EQ_INT(sim_sched_due(&s, sim_sched_at(&s, 4) - 500, slots), 4);
	sim_sched_remove(&s, &e[0]);
	now = sim_sched_at(&s, 4) - 200;
	T_EQ_INT(sim_sched_add(&s, &b, now), 0);
	st = sim_sched_start_us(&s, b.slot, now);
	T_EQ_INT(st, sim_sched_at(&s, 4));		/* a hair after now */
	sim_tickclock_init(&tc, 30, 30, 4, st);
	sim_tickclock_advance(&tc, sim_sched_at(&s, 8), &due);
	T_EQ_INT(due.ticks, 1);
	T_CHECK(sim_tickclock_drift_s(&tc, &due, 0) < 2e-6);

	/* Before the epoch's first period: a period before instant 2. */
	sim_sched_init(&s, 30, 4, T0);
	(void)sim_sched_add(&s, &e[0], T0);
	T_EQ_INT(sim_sched_add(&s, &e[1], T0), 1);
	T_EQ_INT(sim_sched_add(&s, &e[2], T0), 2);
	st = sim_sched_start_us(&s, 2, T0 + 10);
	T_CHECK(st + 33333 == sim_sched_at(&s, 2) ||
	    st + 33334 == sim_sched_at(&s, 2));
}

T_MAIN(
	T(test_add_spreads),
	T(test_remove),
	T(test_instants),
	T(test_due),
	T(test_next),
	T(test_loop),
	T(test_wakeups),
	T(test_start)
)
