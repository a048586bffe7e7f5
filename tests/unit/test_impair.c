/*
 * gs-loadgen's impairment queue and SLO parser.  They live in
 * cmd/gs-loadgen/impair.c, which has no main() and depends on nothing
 * but libgs, so the test compiles it in.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../cmd/gs-loadgen/impair.h"
#include "t.h"

#define MS	1000ULL		/* µs */

static void
test_parse_spec(void)
{
	struct lg_impair_spec	s[LG_NDIR];
	char			err[256];

	memset(s, 0, sizeof(s));
	T_ASSERT(lg_impair_parse("loss=2%,delay=20ms..60ms,jitter=5",
	    s, err, sizeof(err)) == 0);
	T_CHECK(s[LG_UP].set[LG_K_LOSS] && s[LG_DOWN].set[LG_K_LOSS]);
	T_CHECK(fabs(s[LG_UP].v[LG_K_LOSS].lo - 0.02) < 1e-12);
	T_CHECK(s[LG_DOWN].v[LG_K_DELAY].lo == 20000);
	T_CHECK(s[LG_DOWN].v[LG_K_DELAY].hi == 60000);
	T_CHECK(s[LG_UP].v[LG_K_JITTER].hi == 5000);	/* bare: ms */
	T_CHECK(!s[LG_UP].set[LG_K_RATE]);

	T_ASSERT(lg_impair_parse("up:rate=64kbyte,dup=0.5", s, err,
	    sizeof(err)) == 0);
	T_CHECK(s[LG_UP].v[LG_K_RATE].lo == 512000);
	T_CHECK(!s[LG_DOWN].set[LG_K_RATE] && !s[LG_DOWN].set[LG_K_DUP]);
	T_ASSERT(lg_impair_parse("down:rate=1mbit..2mbit", s, err,
	    sizeof(err)) == 0);
	T_CHECK(s[LG_DOWN].v[LG_K_RATE].hi == 2e6);

	T_ASSERT(lg_impair_parse("burst=2%:4", s, err, sizeof(err)) == 0);
	T_CHECK(fabs(s[LG_UP].v[LG_K_GE_R].lo - 0.25) < 1e-12);
	T_CHECK(fabs(s[LG_UP].v[LG_K_GE_P].lo - 0.02 * 0.25 / 0.98) < 1e-12);
	T_CHECK(s[LG_UP].v[LG_K_GE_H1].lo == 1 &&
	    s[LG_UP].v[LG_K_GE_K1].lo == 0);
	T_ASSERT(lg_impair_parse("ge=1%/30%/80%/0.1%", s, err,
	    sizeof(err)) == 0);
	T_CHECK(fabs(s[LG_DOWN].v[LG_K_GE_H1].lo - 0.8) < 1e-12);

	/* Errors leave the spec as it was. */
	memset(s, 0, sizeof(s));
	T_CHECK(lg_impair_parse("loss=2", s, err, sizeof(err)) == -1);
	T_CHECK(lg_impair_parse("delay=60ms..20ms", s, err, sizeof(err)) ==
	    -1);
	T_CHECK(lg_impair_parse("loss=1%,bogus=3", s, err, sizeof(err)) ==
	    -1);
	T_CHECK(strstr(err, "bogus") != NULL);
	T_CHECK(lg_impair_parse("ge_p=1%", s, err, sizeof(err)) == -1);
	T_CHECK(lg_impair_parse("ge=1%", s, err, sizeof(err)) == -1);
	T_CHECK(lg_impair_parse("burst=2%..3%:4", s, err, sizeof(err)) ==
	    -1);
	T_CHECK(lg_impair_parse("rate=3furlongs", s, err, sizeof(err)) ==
	    -1);
	T_CHECK(lg_impair_parse("up:", s, err, sizeof(err)) == -1);
	T_CHECK(lg_impair_parse("delay", s, err, sizeof(err)) == -1);
	T_CHECK(!s[LG_UP].set[LG_K_LOSS] && !s[LG_UP].set[LG_K_DELAY]);
}

/* Draws fall in the range, one number per key for both directions. */
static void
test_draw(void)
{
	struct lg_impair_spec	s[LG_NDIR];
	struct lg_impair	imp[LG_NDIR];
	uint64_t		rng = 42;
	char			err[256];
	int			i;

	memset(s, 0, sizeof(s));
	T_ASSERT(lg_impair_parse("delay=20ms..60ms,loss=1%..3%", s, err,
	    sizeof(err)) == 0);
	for (i = 0; i < 1000; i++) {
		lg_impair_draw(s, &rng, imp);
		T_CHECK(imp[LG_UP].on && imp[LG_DOWN].on);
		T_CHECK(imp[LG_UP].v[LG_K_DELAY] >= 20000 &&
		    imp[LG_UP].v[LG_K_DELAY] <= 60000);
		T_CHECK(imp[LG_UP].v[LG_K_DELAY] ==
		    imp[LG_DOWN].v[LG_K_DELAY]);
		T_CHECK(imp[LG_UP].v[LG_K_LOSS] >= 0.01 &&
		    imp[LG_UP].v[LG_K_LOSS] <= 0.03);
		T_CHECK(lg_impair_rtt_us(imp) ==
		    (uint64_t)(2 * imp[LG_UP].v[LG_K_DELAY]));
	}
	memset(s, 0, sizeof(s));
	lg_impair_draw(s, &rng, imp);
	T_CHECK(!imp[LG_UP].on && !imp[LG_DOWN].on);
	T_CHECK(lg_impair_rtt_us(imp) == 1000);
}

static struct lg_impair
imp_of(const char *spec)
{
	struct lg_impair_spec	s[LG_NDIR];
	struct lg_impair	imp[LG_NDIR];
	uint64_t		rng = 1;
	char			err[256];

	memset(s, 0, sizeof(s));
	if (lg_impair_parse(spec, s, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", spec, err);
		abort();
	}
	lg_impair_draw(s, &rng, imp);
	return imp[LG_UP];
}

/* Pop everything; check push order (the payload is the index) and
 * release times that never go back.  Returns the messages popped. */
static int
drain_in_order(struct lg_iq *q, int *maxgap)
{
	uint64_t	last = 0;
	uint8_t		*buf;
	size_t		 len;
	int		 n = 0, idx, prev = -1;

	*maxgap = 0;
	while (q->n > 0) {
		T_CHECK(lg_iq_next(q) >= last);
		last = lg_iq_next(q);
		T_CHECK(lg_iq_due(q, last) != NULL);
		buf = lg_iq_pop(q, &len);
		T_CHECK(len == sizeof(idx));
		memcpy(&idx, buf, sizeof(idx));
		free(buf);
		T_CHECK(idx > prev);
		if (idx - prev > *maxgap)
			*maxgap = idx - prev;
		prev = idx;
		n++;
	}
	T_CHECK(q->bytes == 0);
	return n;
}

static void
test_tcp_plain_delay(void)
{
	struct lg_impair	imp = imp_of("delay=40ms");
	struct lg_iq_stats	st;
	struct lg_iq		q;
	uint64_t		rng = 7;
	int			i;

	memset(&st, 0, sizeof(st));
	lg_iq_init(&q, LG_IQ_RELIABLE_ORDERED, &imp, 80 * MS, &rng, &st);
	for (i = 0; i < 3; i++)
		T_CHECK(lg_iq_push(&q, 1000 * MS + (uint64_t)i * 33 * MS, &i,
		    sizeof(i)) == 0);
	T_CHECK(lg_iq_next(&q) == 1040 * MS);
	T_CHECK(lg_iq_due(&q, 1039 * MS) == NULL);
	T_CHECK(lg_iq_due(&q, 1040 * MS) != NULL);
	free(lg_iq_pop(&q, &(size_t){ 0 }));
	T_CHECK(lg_iq_next(&q) == 1073 * MS);
	free(lg_iq_pop(&q, &(size_t){ 0 }));
	T_CHECK(lg_iq_next(&q) == 1106 * MS);
	lg_iq_clear(&q);
	T_CHECK(lg_iq_next(&q) == UINT64_MAX);
	T_CHECK(st.msgs == 3 && st.lost == 0 && st.hol == 0);
}

/* Every message lost once: delayed by the recovery time, then by RTOs
 * while its retransmissions are lost too; nothing is ever dropped. */
static void
test_tcp_loss_is_delay(void)
{
	struct lg_impair	imp = imp_of("delay=40ms,loss=100%");
	struct lg_iq_stats	st;
	struct lg_iq		q;
	uint64_t		rng = 7, rto = 80 * MS + LG_RTO_MIN_US;
	int			i = 0;

	memset(&st, 0, sizeof(st));
	lg_iq_init(&q, LG_IQ_RELIABLE_ORDERED, &imp, 80 * MS, &rng, &st);
	T_ASSERT(lg_iq_push(&q, 0, &i, sizeof(i)) == 0);
	/* min(gap 1 ms + 1.25 RTT, RTO), then RTO x (1+2+...+32). */
	T_CHECK(lg_iq_next(&q) == 40 * MS + 101 * MS + rto * 63);
	T_CHECK(st.lost == 1 && st.retx == 1 + LG_RETX_MAX);
	lg_iq_clear(&q);
}

/* Random loss, jitter, reordering, duplication on TCP: all delivered,
 * in order, release times monotonic; loss shows up as held messages. */
static void
test_tcp_in_order(void)
{
	struct lg_impair	imp = imp_of("delay=30ms,jitter=10ms,"
				    "loss=3%,reorder=5%,dup=5%");
	struct lg_iq_stats	st;
	struct lg_iq		q;
	uint64_t		rng = 99;
	int			i, n, maxgap;

	memset(&st, 0, sizeof(st));
	lg_iq_init(&q, LG_IQ_RELIABLE_ORDERED, &imp, 60 * MS, &rng, &st);
	for (i = 0; i < 3000; i++)
		T_ASSERT(lg_iq_push(&q, (uint64_t)i * 33 * MS, &i,
		    sizeof(i)) == 0);
	n = drain_in_order(&q, &maxgap);
	T_EQ_INT(n, 3000);
	T_EQ_INT(maxgap, 1);
	T_CHECK(st.lost > 40 && st.lost < 150);
	T_CHECK(st.dup > 100 && st.reordered > 100);
	T_CHECK(st.hol > st.lost);	/* a lost message holds others */
	T_CHECK(st.overflow == 0);
	lg_iq_clear(&q);
}

/* The same spec on a datagram transport: real loss, dup, reordering. */
static void
test_datagram(void)
{
	struct lg_impair	imp = imp_of("delay=30ms,jitter=20ms,"
				    "loss=10%,dup=10%");
	struct lg_iq_stats	st;
	struct lg_iq		q;
	uint64_t		rng = 5, last = 0;
	uint8_t			*buf;
	size_t			 len;
	int			 i, idx, prev = -1, outoforder = 0, n = 0;

	memset(&st, 0, sizeof(st));
	lg_iq_init(&q, LG_IQ_DATAGRAM, &imp, 60 * MS, &rng, &st);
	for (i = 0; i < 2000; i++)
		T_ASSERT(lg_iq_push(&q, (uint64_t)i * 10 * MS, &i,
		    sizeof(i)) == 0);
	while (q.n > 0) {
		T_CHECK(lg_iq_next(&q) >= last);
		last = lg_iq_next(&q);
		buf = lg_iq_pop(&q, &len);
		memcpy(&idx, buf, sizeof(idx));
		free(buf);
		outoforder += idx < prev;
		prev = idx;
		n++;
	}
	T_CHECK(st.lost > 100 && st.lost < 300);
	T_CHECK(st.dup > 100);
	T_EQ_INT(n, 2000 - (int)st.lost + (int)st.dup);
	T_CHECK(outoforder > 0);
	T_CHECK(st.retx == 0 && st.hol == 0);
	lg_iq_clear(&q);
}

/* A bottleneck serialises by size: 100 bytes at 8000 bit/s = 100 ms. */
static void
test_rate(void)
{
	struct lg_impair	imp = imp_of("rate=8kbit");
	struct lg_iq_stats	st;
	struct lg_iq		q;
	uint64_t		rng = 5;
	uint8_t			buf[100];
	size_t			len;

	memset(buf, 0, sizeof(buf));
	memset(&st, 0, sizeof(st));
	lg_iq_init(&q, LG_IQ_RELIABLE_ORDERED, &imp, 1 * MS, &rng, &st);
	T_ASSERT(lg_iq_push(&q, 0, buf, sizeof(buf)) == 0);
	T_ASSERT(lg_iq_push(&q, 0, buf, sizeof(buf)) == 0);
	T_ASSERT(lg_iq_push(&q, 500 * MS, buf, 50) == 0);
	T_CHECK(lg_iq_next(&q) == 100 * MS);
	free(lg_iq_pop(&q, &len));
	T_CHECK(lg_iq_next(&q) == 200 * MS);
	free(lg_iq_pop(&q, &len));
	T_CHECK(lg_iq_next(&q) == 550 * MS);	/* link idle: from now */
	free(lg_iq_pop(&q, &len));
	T_CHECK(len == 50);
	lg_iq_clear(&q);
}

static void
test_cap(void)
{
	struct lg_impair	imp = imp_of("delay=1s");
	struct lg_iq_stats	st;
	struct lg_iq		q;
	uint64_t		rng = 5;
	int			i, fails = 0;

	memset(&st, 0, sizeof(st));
	lg_iq_init(&q, LG_IQ_RELIABLE_ORDERED, &imp, 1 * MS, &rng, &st);
	for (i = 0; i < LG_IQ_MSGS_MAX + 10; i++)
		fails += lg_iq_push(&q, 0, &i, sizeof(i)) != 0;
	T_EQ_INT(fails, 10);
	T_EQ_INT(st.overflow, 10);
	T_EQ_INT(q.n, LG_IQ_MSGS_MAX);
	lg_iq_clear(&q);
}

static void
test_slo(void)
{
	struct lg_slo		slo;
	struct lg_metrics	m;
	char			err[512];

	memset(&slo, 0, sizeof(slo));
	T_ASSERT(lg_slo_parse(&slo, "p95_rtt<120ms, drop<3% ,reconnect>=99%",
	    err, sizeof(err)) == 0);
	T_ASSERT(lg_slo_parse(&slo, "errors<=0,p99_e2e<0.5s", err,
	    sizeof(err)) == 0);
	T_EQ_INT(slo.n, 5);
	T_CHECK(slo.c[0].metric == LG_M_P95_RTT && slo.c[0].op == LG_OP_LT &&
	    slo.c[0].value == 120);
	T_CHECK(strcmp(slo.c[0].expr, "p95_rtt<120ms") == 0);
	T_CHECK(strcmp(slo.c[1].expr, "drop<3%") == 0);
	T_CHECK(fabs(slo.c[1].value - 0.03) < 1e-12);
	T_CHECK(slo.c[2].op == LG_OP_GE && fabs(slo.c[2].value - 0.99) < 1e-12);
	T_CHECK(slo.c[3].op == LG_OP_LE && slo.c[3].value == 0);
	T_CHECK(slo.c[4].value == 500);

	memset(&m, 0, sizeof(m));
	T_CHECK(!lg_slo_holds(&slo.c[0], &m));	/* no value: fails */
	m.have[LG_M_P95_RTT] = true;
	m.v[LG_M_P95_RTT] = 119.9;
	T_CHECK(lg_slo_holds(&slo.c[0], &m));
	m.v[LG_M_P95_RTT] = 120;
	T_CHECK(!lg_slo_holds(&slo.c[0], &m));
	m.have[LG_M_RECONNECT] = true;
	m.v[LG_M_RECONNECT] = 0.99;
	T_CHECK(lg_slo_holds(&slo.c[2], &m));

	T_CHECK(lg_slo_parse(&slo, "p96_rtt<1ms", err, sizeof(err)) == -1);
	T_CHECK(strstr(err, "unknown metric") != NULL);
	T_CHECK(lg_slo_parse(&slo, "drop<3ms", err, sizeof(err)) == -1);
	T_CHECK(lg_slo_parse(&slo, "p95_rtt<3%", err, sizeof(err)) == -1);
	T_CHECK(lg_slo_parse(&slo, "errors<1.5", err, sizeof(err)) == -1);
	T_CHECK(lg_slo_parse(&slo, "drop=3%", err, sizeof(err)) == -1);
	T_CHECK(lg_slo_parse(&slo, "drop<3%,,", err, sizeof(err)) == -1);
	T_CHECK(lg_slo_parse(&slo, "drop<", err, sizeof(err)) == -1);
	T_EQ_INT(slo.n, 5);		/* unchanged by the failures */
}

T_MAIN(T(test_parse_spec), T(test_draw), T(test_tcp_plain_delay),
    T(test_tcp_loss_is_delay), T(test_tcp_in_order), T(test_datagram),
    T(test_rate), T(test_cap), T(test_slo))
