/*
 * A player's input queue.  See inputq.h for the contract.
 */
#include <string.h>

#include "inputq.h"
#include "util.h"

void
sim_inputq_init(struct sim_inputq *q, unsigned cap)
{
	memset(q, 0, sizeof(*q));
	q->cap = GS_MIN(GS_MAX(cap, 1u), (unsigned)SIM_INPUTQ_MAX);
}

unsigned
sim_inputq_push(struct sim_inputq *q, const struct gs_input *in)
{
	struct gs_input	 v = *in;
	unsigned	 i, did = 0;

	/* The values were checked against the game's declaration before
	 * (room.c); only the sequence is judged here. */
	if (v.seq == 0)
		return SIM_INPUTQ_INVALID;
	if (v.seq <= q->last_seq)
		return did | SIM_INPUTQ_STALE;
	for (i = 0; i < q->n && q->q[i].seq < v.seq; i++)
		;
	if (i < q->n && q->q[i].seq == v.seq)
		return did | SIM_INPUTQ_STALE;
	if (q->n >= q->cap) {
		did |= SIM_INPUTQ_FULL;
		if (i == 0)
			return did;
		memmove(&q->q[0], &q->q[1], (q->n - 1) * sizeof(q->q[0]));
		q->n--;
		i--;
	}
	memmove(&q->q[i + 1], &q->q[i], (q->n - i) * sizeof(q->q[0]));
	q->q[i] = v;
	q->n++;
	return did | SIM_INPUTQ_QUEUED;
}

/* Acknowledge the k oldest queued inputs without applying them. */
static unsigned
inputq_skip(struct sim_inputq *q, unsigned k)
{
	if (k == 0 || k > q->n)
		return 0;
	q->last_seq = q->q[k - 1].seq;
	q->n -= k;
	memmove(&q->q[0], &q->q[k], q->n * sizeof(q->q[0]));
	return k;
}

bool
sim_inputq_next(struct sim_inputq *q, struct gs_input *out,
    unsigned *skipped)
{
	unsigned	 k = 0;

	if (q->n > SIM_INPUT_BURST)
		k += inputq_skip(q, q->n - SIM_INPUT_BURST);
	if (q->n_ticks == 0 || q->n < q->n_min)
		q->n_min = q->n;
	if (++q->n_ticks == SIM_INPUT_WINDOW) {
		if (q->n_min >= 2)	/* a standing queue */
			k += inputq_skip(q, q->n_min - 1);
		q->n_ticks = 0;
	}
	*skipped = k;
	if (q->n == 0)
		return false;
	*out = q->q[0];
	q->last_seq = q->q[0].seq;
	q->n--;
	memmove(&q->q[0], &q->q[1], q->n * sizeof(q->q[0]));
	return true;
}
