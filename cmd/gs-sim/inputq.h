/*
 * A player's input queue: the inputs received and not yet applied,
 * and the rules that keep it short.
 *
 * Pure code: no clock, no loop, no metrics.  Each call says what it
 * did, and room.c counts that in the sim's metrics.  The room calls
 * sim_inputq_push() for each input that arrives and sim_inputq_next()
 * once at the start of each tick.
 */
#ifndef SIM_INPUTQ_H
#define SIM_INPUTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

#define SIM_INPUTQ_MAX		64	/* cap on the -q flag */
/*
 * A standing input queue is latency: when a player's queue has held at
 * least 2 inputs at the start of every tick of a window (the client's
 * network delivered a burst once, and the queue never drained since),
 * the oldest are acknowledged unapplied until 1 waits.  A single burst
 * that drains by itself costs nothing; this is CoDel's "minimum over an
 * interval" applied to inputs.  A deeper queue is cut to
 * SIM_INPUT_BURST at once: a TCP retransmission delivers several
 * inputs together, and each left queued would be a tick of latency.
 */
#define SIM_INPUT_WINDOW	8	/* ticks */
/* More than this many at a tick start is a burst, cut at once. */
#define SIM_INPUT_BURST		2

/* Kept in ascending seq order without duplicates. */
struct sim_inputq {
	uint32_t	 last_seq;	/* last taken or skipped; 0 none */
	unsigned	 n;		/* inputs queued */
	unsigned	 cap;		/* <= SIM_INPUTQ_MAX */
	unsigned	 n_min;		/* smallest n at a tick start */
	unsigned	 n_ticks;	/* ticks in the current window */
	struct gs_input	 q[SIM_INPUTQ_MAX];	/* seq ascending */
};

/* What sim_inputq_push() did with an input, as bits. */
#define SIM_INPUTQ_QUEUED	0x01u	/* it waits in the queue */
#define SIM_INPUTQ_INVALID	0x02u	/* seq 0 ("none" in acks): dropped */
#define SIM_INPUTQ_STALE	0x08u	/* applied or queued already: dropped */
#define SIM_INPUTQ_FULL		0x10u	/* the queue was full (see push) */

/* An empty queue holding at most cap inputs, cap clamped to
 * 1..SIM_INPUTQ_MAX. */
void	 sim_inputq_init(struct sim_inputq *q, unsigned cap);
/*
 * Queue an input, copied.  Inputs at or below last_seq are stale
 * (clients resend each input a few times to beat loss), and so are
 * those queued already.  A full queue drops its oldest entry, or the
 * newcomer when that is the oldest (FULL without QUEUED).  Returns
 * SIM_INPUTQ_* bits.
 */
unsigned sim_inputq_push(struct sim_inputq *q, const struct gs_input *in);
/*
 * A tick starts: trim a burst or a standing queue, acknowledging the
 * inputs cut without applying them (*skipped, possibly 0), then take
 * the oldest input into *out.  Returns false, *out untouched, when
 * nothing is queued: the game keeps the last input.  last_seq is the
 * last input taken or skipped, which a snapshot acknowledges.
 */
bool	 sim_inputq_next(struct sim_inputq *q, struct gs_input *out,
	    unsigned *skipped);

#endif
