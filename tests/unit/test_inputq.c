/*
 * gs-sim's per-player input queue.  It lives in cmd/gs-sim/inputq.c,
 * which has no clock, no loop and no metrics, so the test links it in
 * and plays the ticks itself: one sim_inputq_next() is one tick start.
 */
#include <string.h>

#include "../../cmd/gs-sim/inputq.h"
#include "t.h"

static unsigned
push(struct sim_inputq *q, uint32_t seq)
{
	struct gs_input	in;

	memset(&in, 0, sizeof(in));
	in.seq = seq;
	in.n = 1;
	in.v[0] = (int32_t)(seq % 100);	/* tells the copies apart */
	return sim_inputq_push(q, &in);
}

/* One tick start: the seq applied (0: none), the count skipped. */
static uint32_t
tick(struct sim_inputq *q, unsigned *skipped)
{
	struct gs_input	in;

	memset(&in, 0, sizeof(in));
	*skipped = 99;
	if (!sim_inputq_next(q, &in, skipped))
		return 0;
	T_CHECK(in.v[0] == (int32_t)(in.seq % 100));
	return in.seq;
}

/* The queued seqs, in queue order, equal want[0..n). */
static int
queued_are(const struct sim_inputq *q, const uint32_t *want, unsigned n)
{
	unsigned	i;

	if (q->n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (q->q[i].seq != want[i])
			return 0;
	return 1;
}

static void
test_empty(void)
{
	struct sim_inputq	q;
	struct gs_input		in;
	unsigned		skipped = 99;

	sim_inputq_init(&q, 16);
	memset(&in, 0x5a, sizeof(in));
	T_CHECK(!sim_inputq_next(&q, &in, &skipped));
	T_EQ_INT(skipped, 0);
	T_EQ_INT(in.seq, 0x5a5a5a5a);		/* untouched */
	T_EQ_INT(q.last_seq, 0);
}

/* Seq 0 means "none" in acks: never queued. */
static void
test_seq_zero_invalid(void)
{
	struct sim_inputq	q;
	struct gs_input		in;

	sim_inputq_init(&q, 16);
	T_EQ_INT(push(&q, 0), SIM_INPUTQ_INVALID);
	T_EQ_INT(q.n, 0);
	memset(&in, 0, sizeof(in));
	in.n = 2;
	in.v[0] = -128;
	T_EQ_INT(sim_inputq_push(&q, &in), SIM_INPUTQ_INVALID);
	T_EQ_INT(q.n, 0);
}

/* Clients resend their last few inputs: an input applied already, or
 * queued already, is dropped and reported stale. */
static void
test_stale_and_duplicates(void)
{
	struct sim_inputq	q;
	unsigned		sk;
	const uint32_t		want3[] = { 3 };

	sim_inputq_init(&q, 16);
	T_EQ_INT(push(&q, 1), SIM_INPUTQ_QUEUED);
	T_EQ_INT(tick(&q, &sk), 1);
	T_EQ_INT(push(&q, 2), SIM_INPUTQ_QUEUED);
	T_EQ_INT(tick(&q, &sk), 2);
	T_EQ_INT(q.last_seq, 2);

	T_EQ_INT(push(&q, 3), SIM_INPUTQ_QUEUED);
	T_EQ_INT(push(&q, 1), SIM_INPUTQ_STALE);	/* below last_seq */
	T_EQ_INT(push(&q, 2), SIM_INPUTQ_STALE);	/* == last_seq */
	T_EQ_INT(push(&q, 3), SIM_INPUTQ_STALE);	/* queued already */
	T_CHECK(queued_are(&q, want3, 1));
	T_EQ_INT(push(&q, 4), SIM_INPUTQ_QUEUED);

	T_EQ_INT(tick(&q, &sk), 3);
	T_EQ_INT(sk, 0);
	T_EQ_INT(tick(&q, &sk), 4);
	T_EQ_INT(sk, 0);
	T_EQ_INT(tick(&q, &sk), 0);
	T_EQ_INT(q.last_seq, 4);
	/* Each applied once: a resend after the queue drained is stale. */
	T_EQ_INT(push(&q, 4), SIM_INPUTQ_STALE);
	T_EQ_INT(push(&q, 3), SIM_INPUTQ_STALE);
	T_EQ_INT(q.n, 0);
}

/* Inputs that arrive out of order are applied in seq order. */
static void
test_order_kept(void)
{
	struct sim_inputq	q;
	unsigned		sk;
	const uint32_t		want[] = { 5, 6, 7, 9 };

	sim_inputq_init(&q, 16);
	T_EQ_INT(push(&q, 7), SIM_INPUTQ_QUEUED);
	T_EQ_INT(push(&q, 5), SIM_INPUTQ_QUEUED);
	T_EQ_INT(push(&q, 9), SIM_INPUTQ_QUEUED);
	T_EQ_INT(push(&q, 6), SIM_INPUTQ_QUEUED);
	T_CHECK(queued_are(&q, want, 4));

	sim_inputq_init(&q, 16);
	T_EQ_INT(push(&q, 2), SIM_INPUTQ_QUEUED);
	T_EQ_INT(push(&q, 1), SIM_INPUTQ_QUEUED);
	T_EQ_INT(tick(&q, &sk), 1);
	T_EQ_INT(sk, 0);
	T_EQ_INT(tick(&q, &sk), 2);
	T_EQ_INT(sk, 0);
}

/* A full queue drops its oldest input, or the newcomer if that is the
 * oldest. */
static void
test_full_drops_oldest(void)
{
	struct sim_inputq	q;
	uint32_t		s;
	const uint32_t		want1[] = { 2, 3, 4, 6 };
	const uint32_t		want2[] = { 3, 4, 5, 6 };

	sim_inputq_init(&q, 4);
	for (s = 1; s <= 4; s++)
		T_EQ_INT(push(&q, s), SIM_INPUTQ_QUEUED);
	T_EQ_INT(push(&q, 6), SIM_INPUTQ_FULL | SIM_INPUTQ_QUEUED);
	T_CHECK(queued_are(&q, want1, 4));
	T_EQ_INT(push(&q, 5), SIM_INPUTQ_FULL | SIM_INPUTQ_QUEUED);
	T_CHECK(queued_are(&q, want2, 4));
	T_EQ_INT(push(&q, 2), SIM_INPUTQ_FULL);	/* itself the oldest */
	T_CHECK(queued_are(&q, want2, 4));
	T_EQ_INT(push(&q, 4), SIM_INPUTQ_STALE);	/* a duplicate first */
	T_EQ_INT(q.last_seq, 0);		/* nothing acknowledged */

	/* The cap is clamped to what the array holds. */
	sim_inputq_init(&q, 1000);
	T_EQ_INT(q.cap, SIM_INPUTQ_MAX);
	sim_inputq_init(&q, 0);
	T_EQ_INT(q.cap, 1);
}

/* More than SIM_INPUT_BURST at a tick start: the oldest are
 * acknowledged unapplied, at once. */
static void
test_burst_cut(void)
{
	struct sim_inputq	q;
	unsigned		sk;
	uint32_t		s;

	T_EQ_INT(SIM_INPUT_BURST, 2);
	sim_inputq_init(&q, 16);
	for (s = 1; s <= 5; s++)
		T_EQ_INT(push(&q, s), SIM_INPUTQ_QUEUED);
	T_EQ_INT(tick(&q, &sk), 4);	/* 1-3 skipped, 4 applied */
	T_EQ_INT(sk, 3);
	T_EQ_INT(q.last_seq, 4);
	T_EQ_INT(q.n, 1);
	T_EQ_INT(push(&q, 2), SIM_INPUTQ_STALE);	/* skipped is acked */
	T_EQ_INT(tick(&q, &sk), 5);
	T_EQ_INT(sk, 0);

	/* Exactly SIM_INPUT_BURST is no burst. */
	T_EQ_INT(push(&q, 6), SIM_INPUTQ_QUEUED);
	T_EQ_INT(push(&q, 7), SIM_INPUTQ_QUEUED);
	T_EQ_INT(tick(&q, &sk), 6);
	T_EQ_INT(sk, 0);
}

/* One input arrives per tick, but a queue of 2 stands at every tick
 * start: after SIM_INPUT_WINDOW ticks the oldest is skipped, then 1
 * stands and nothing more is skipped. */
static void
test_standing_queue_trimmed(void)
{
	struct sim_inputq	q;
	unsigned		sk, t, total = 0;
	uint32_t		want = 1, got;

	T_EQ_INT(SIM_INPUT_WINDOW, 8);
	sim_inputq_init(&q, 16);
	T_EQ_INT(push(&q, 1), SIM_INPUTQ_QUEUED);
	T_EQ_INT(push(&q, 2), SIM_INPUTQ_QUEUED);
	for (t = 1; t <= 5 * SIM_INPUT_WINDOW; t++) {
		if (t <= SIM_INPUT_WINDOW)
			T_EQ_INT(q.n, 2);
		got = tick(&q, &sk);
		if (t == SIM_INPUT_WINDOW) {
			T_EQ_INT(sk, 1);	/* seq 8, unapplied */
			want++;
		} else
			T_EQ_INT(sk, 0);
		T_EQ_INT(got, want);
		want = got + 1;
		total += sk;
		T_EQ_INT(push(&q, t + 2), SIM_INPUTQ_QUEUED);
	}
	T_EQ_INT(total, 1);
	T_EQ_INT(q.n, 1);		/* 1 stands: a tick less latency */
}

/* A burst of 2 that drains by itself within the window costs nothing:
 * a queue of 2 for 7 ticks, empty at the 8th, then 2 again. */
static void
test_drains_alone_not_trimmed(void)
{
	struct sim_inputq	q;
	unsigned		sk, t;
	uint32_t		want = 1, next = 1;

	sim_inputq_init(&q, 16);
	T_EQ_INT(push(&q, next++), SIM_INPUTQ_QUEUED);
	T_EQ_INT(push(&q, next++), SIM_INPUTQ_QUEUED);
	for (t = 1; t <= 4 * SIM_INPUT_WINDOW; t++) {
		T_EQ_INT(tick(&q, &sk), want);
		T_EQ_INT(sk, 0);
		want++;
		/* The client's network holds one input back at the 6th
		 * tick of each window and delivers it with the next. */
		if (t % SIM_INPUT_WINDOW == 6)
			continue;
		T_EQ_INT(push(&q, next++), SIM_INPUTQ_QUEUED);
		if (t % SIM_INPUT_WINDOW == 7)
			T_EQ_INT(push(&q, next++), SIM_INPUTQ_QUEUED);
	}
	/* Every input applied, in order; none skipped. */
	T_EQ_INT(q.last_seq, want - 1);

	/* A single burst of 2 that then drains: nothing skipped. */
	sim_inputq_init(&q, 16);
	T_EQ_INT(push(&q, 1), SIM_INPUTQ_QUEUED);
	T_EQ_INT(push(&q, 2), SIM_INPUTQ_QUEUED);
	for (t = 1; t <= 3 * SIM_INPUT_WINDOW; t++) {
		T_EQ_INT(tick(&q, &sk), t);
		T_EQ_INT(sk, 0);
		if (t >= 2)
			T_EQ_INT(push(&q, t + 1), SIM_INPUTQ_QUEUED);
	}
}

T_MAIN(
	T(test_empty),
	T(test_seq_zero_invalid),
	T(test_stale_and_duplicates),
	T(test_order_kept),
	T(test_full_drops_oldest),
	T(test_burst_cut),
	T(test_standing_queue_trimmed),
	T(test_drains_alone_not_trimmed)
)
