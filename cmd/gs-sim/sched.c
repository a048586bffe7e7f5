/*
 * The shared tick schedule.  See sched.h for the contract.
 */
#include <string.h>

#include "sched.h"

static void	sched_resume(struct sim_sched *, uint64_t);

void
sim_sched_init(struct sim_sched *s, unsigned tick_rate, unsigned nslots,
    uint64_t now_us)
{
	memset(s, 0, sizeof(*s));
	s->tick_rate = tick_rate;
	s->nslots = nslots;
	s->epoch_us = now_us;
	s->slack_us = 1000000ULL / ((uint64_t)tick_rate * nslots * 8);
	sched_resume(s, now_us);
}

unsigned
sim_sched_add(struct sim_sched *s, struct sim_sched_entry *e,
    uint64_t now_us)
{
	unsigned	slot = 0, i;

	if (s->n == 0)
		sched_resume(s, now_us);
	for (i = 1; i < s->nslots; i++)
		if (s->load[i] < s->load[slot])
			slot = i;
	e->slot = slot;
	e->prev = NULL;
	e->next = s->head[slot];
	if (e->next != NULL)
		e->next->prev = e;
	s->head[slot] = e;
	s->load[slot]++;
	s->n++;
	return slot;
}

void
sim_sched_remove(struct sim_sched *s, struct sim_sched_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		s->head[e->slot] = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	e->next = e->prev = NULL;
	s->load[e->slot]--;
	s->n--;
}

struct sim_sched_entry *
sim_sched_slot(const struct sim_sched *s, unsigned slot)
{
	return s->head[slot];
}

uint64_t
sim_sched_at(const struct sim_sched *s, uint64_t i)
{
	return s->epoch_us +
	    i * 1000000ULL / ((uint64_t)s->tick_rate * s->nslots);
}

/* The first instant after t. */
static uint64_t
sched_after(const struct sim_sched *s, uint64_t t)
{
	uint64_t	i;

	if (t < s->epoch_us)
		return 0;
	/* at(i) <= t for this i; the answer is one or two further. */
	i = (t - s->epoch_us) * s->tick_rate * s->nslots / 1000000ULL;
	while (sim_sched_at(s, i) <= t)
		i++;
	return i;
}

/* Skip to the first instant after now_us. */
static void
sched_resume(struct sim_sched *s, uint64_t now_us)
{
	s->next = sched_after(s, now_us);
}

unsigned
sim_sched_due(struct sim_sched *s, uint64_t now_us, unsigned *slots)
{
	uint64_t	last = sched_after(s, now_us + s->slack_us);
	unsigned	n = 0;

	if (s->next >= last)
		return 0;
	if (last - s->next > s->nslots)
		s->next = last - s->nslots;
	while (s->next < last)
		slots[n++] = (unsigned)(s->next++ % s->nslots);
	return n;
}

uint64_t
sim_sched_next_us(const struct sim_sched *s)
{
	uint64_t	i;

	if (s->n == 0)
		return UINT64_MAX;
	for (i = s->next; s->load[i % s->nslots] == 0; i++)
		;	/* ends within nslots: some slot has members */
	return sim_sched_at(s, i);
}

uint64_t
sim_sched_start_us(const struct sim_sched *s, unsigned slot,
    uint64_t now_us)
{
	uint64_t	i, d;

	i = sched_after(s, now_us);
	if (i < s->next)
		i = s->next;
	i += (slot + s->nslots - i % s->nslots) % s->nslots;
	if (i >= s->nslots)
		return sim_sched_at(s, i - s->nslots);
	/* Before the epoch: a period back, as near as it can be told. */
	d = sim_sched_at(s, i + s->nslots) - sim_sched_at(s, i);
	return sim_sched_at(s, i) > d ? sim_sched_at(s, i) - d : 0;
}
