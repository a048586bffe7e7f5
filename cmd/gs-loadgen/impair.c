/*
 * Impairment specs, the per-connection impairment queue, SLO clauses.
 * See impair.h for the contracts and man/gs-loadgen.1 for the model.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "impair.h"
#include "util.h"

#define LG_SPEC_MAX	512	/* one -I argument */

enum lg_kind { LG_KIND_RATIO, LG_KIND_DUR, LG_KIND_RATE };

static const struct {
	const char	*name;
	int		 kind;
} lg_keys[LG_NKEYS] = {
	[LG_K_LOSS] =		{ "loss",	LG_KIND_RATIO },
	[LG_K_GE_P] =		{ "ge_p",	LG_KIND_RATIO },
	[LG_K_GE_R] =		{ "ge_r",	LG_KIND_RATIO },
	[LG_K_GE_H1] =		{ "ge_1-h",	LG_KIND_RATIO },
	[LG_K_GE_K1] =		{ "ge_1-k",	LG_KIND_RATIO },
	[LG_K_DELAY] =		{ "delay",	LG_KIND_DUR },
	[LG_K_JITTER] =		{ "jitter",	LG_KIND_DUR },
	[LG_K_DUP] =		{ "dup",	LG_KIND_RATIO },
	[LG_K_REORDER] =	{ "reorder",	LG_KIND_RATIO },
	[LG_K_RATE] =		{ "rate",	LG_KIND_RATE },
};

const char *
lg_key_name(int key)
{
	return key >= 0 && key < LG_NKEYS ? lg_keys[key].name : "unknown";
}

static void
lg_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
lg_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A duration (gs_parse_us; a bare number is ms), up to an hour.  In
 * µs. */
static int
lg_parse_dur(const char *s, double *out)
{
	return gs_parse_us(s, 1000, 0, 3600e6, out) == GS_OK ? 0 : -1;
}

/* A rate: number with bit, kbit, mbit, gbit or byte, kbyte, mbyte,
 * gbyte (per second); a bare number is bit/s.  In bit/s. */
static int
lg_parse_rate(const char *s, double *out)
{
	static const struct {
		const char	*unit;
		double		 mul;
	} units[] = {
		{ "", 1 }, { "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 },
		{ "gbit", 1e9 }, { "byte", 8 }, { "kbyte", 8e3 },
		{ "mbyte", 8e6 }, { "gbyte", 8e9 },
	};
	char	*end;
	double	 v;
	size_t	 i;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(v) || v < 0)
		return -1;
	for (i = 0; i < GS_NELEM(units); i++)
		if (strcmp(end, units[i].unit) == 0) {
			*out = v * units[i].mul;
			return *out <= 1e12 ? 0 : -1;
		}
	return -1;
}

static int
lg_parse_one(int kind, const char *s, double *out)
{
	switch (kind) {
	case LG_KIND_RATIO:
		return gs_parse_ratio(s, out) == GS_OK ? 0 : -1;
	case LG_KIND_DUR:
		return lg_parse_dur(s, out);
	default:
		return lg_parse_rate(s, out);
	}
}

/* "v" or "lo..hi" of one kind.  s is modified. */
static int
lg_parse_range(int kind, char *s, struct lg_range *r)
{
	char	*dots;

	if ((dots = strstr(s, "..")) != NULL) {
		*dots = '\0';
		if (lg_parse_one(kind, s, &r->lo) != 0 ||
		    lg_parse_one(kind, dots + 2, &r->hi) != 0 ||
		    r->lo > r->hi)
			return -1;
		return 0;
	}
	if (lg_parse_one(kind, s, &r->lo) != 0)
		return -1;
	r->hi = r->lo;
	return 0;
}

static const char *
lg_kind_want(int kind)
{
	switch (kind) {
	case LG_KIND_RATIO:
		return "a fraction or percentage, like 0.02 or 2%, or a "
		    "range lo..hi";
	case LG_KIND_DUR:
		return "a duration in us, ms or s, like 40ms, or a range "
		    "lo..hi";
	default:
		return "a rate in bit, kbit, mbit, gbit, byte, kbyte, "
		    "mbyte or gbyte per second, like 256kbit, or a range";
	}
}

static void
lg_spec_set(struct lg_impair_spec spec[LG_NDIR], int dirs, int key,
    struct lg_range r)
{
	int	d;

	for (d = 0; d < LG_NDIR; d++)
		if (dirs & (1 << d)) {
			spec[d].set[key] = true;
			spec[d].v[key] = r;
		}
}

/* ge=p/r[/1-h[/1-k]]: the netem gemodel parameters. */
static int
lg_parse_ge(char *val, struct lg_range r[4])
{
	char	*part;
	int	 n = 0;

	r[2] = (struct lg_range){ 1, 1 };	/* 1-h: bad state loses all */
	r[3] = (struct lg_range){ 0, 0 };	/* 1-k: good state loses none */
	while ((part = strsep(&val, "/")) != NULL) {
		if (n == 4 || lg_parse_range(LG_KIND_RATIO, part, &r[n]) != 0)
			return -1;
		n++;
	}
	return n >= 2 ? 0 : -1;
}

/* burst=P:LEN: mean loss P in bursts of LEN messages on average. */
static int
lg_parse_burst(char *val, struct lg_range r[4])
{
	char		*colon, *end;
	double		 p, len, rr;

	if ((colon = strchr(val, ':')) == NULL || strstr(val, "..") != NULL)
		return -1;
	*colon = '\0';
	if (gs_parse_ratio(val, &p) != GS_OK || p >= 1)
		return -1;
	errno = 0;
	len = strtod(colon + 1, &end);
	if (end == colon + 1 || *end != '\0' || errno == ERANGE ||
	    !isfinite(len) || len < 1 || len > 1e6)
		return -1;
	/* Stationary share of the bad state p/(p+r) = P, r = 1/LEN. */
	rr = 1 / len;
	r[0].lo = r[0].hi = p * rr / (1 - p);
	r[1].lo = r[1].hi = rr;
	r[2] = (struct lg_range){ 1, 1 };
	r[3] = (struct lg_range){ 0, 0 };
	return r[0].lo <= 1 ? 0 : -1;
}

int
lg_impair_parse(const char *arg, struct lg_impair_spec spec[LG_NDIR],
    char *err, size_t errlen)
{
	struct lg_impair_spec	 tmp[LG_NDIR];
	struct lg_range		 r, ge[4];
	char			 buf[LG_SPEC_MAX], *p, *kv, *eq;
	int			 dirs = (1 << LG_UP) | (1 << LG_DOWN), k, i;

	if (gs_strlcpy(buf, arg, sizeof(buf)) != GS_OK) {
		lg_errf(err, errlen, "impairment too long (max %d bytes)",
		    LG_SPEC_MAX - 1);
		return -1;
	}
	memcpy(tmp, spec, sizeof(tmp));
	p = buf;
	if (strncmp(p, "up:", 3) == 0) {
		dirs = 1 << LG_UP;
		p += 3;
	} else if (strncmp(p, "down:", 5) == 0) {
		dirs = 1 << LG_DOWN;
		p += 5;
	}
	if (*p == '\0') {
		lg_errf(err, errlen, "'%s': no key=value", arg);
		return -1;
	}
	while ((kv = strsep(&p, ",")) != NULL) {
		if ((eq = strchr(kv, '=')) == NULL || eq == kv ||
		    eq[1] == '\0') {
			lg_errf(err, errlen, "'%s': want key=value", kv);
			return -1;
		}
		*eq++ = '\0';
		if (strcmp(kv, "ge") == 0 || strcmp(kv, "burst") == 0) {
			if ((kv[0] == 'g' ? lg_parse_ge(eq, ge) :
			    lg_parse_burst(eq, ge)) != 0) {
				lg_errf(err, errlen, "%s: bad value (want %s)",
				    kv, kv[0] == 'g' ?
				    "ge=p/r[/1-h[/1-k]], each a fraction or "
				    "percentage" : "burst=P:LEN, a loss "
				    "fraction and a mean burst length >= 1");
				return -1;
			}
			for (i = 0; i < 4; i++)
				lg_spec_set(tmp, dirs, LG_K_GE_P + i, ge[i]);
			continue;
		}
		for (k = 0; k < LG_NKEYS; k++)
			if (strcmp(kv, lg_keys[k].name) == 0 &&
			    strncmp(kv, "ge_", 3) != 0)
				break;
		if (k == LG_NKEYS) {
			lg_errf(err, errlen, "unknown key '%s' (want loss, "
			    "ge, burst, delay, jitter, dup, reorder, rate)",
			    kv);
			return -1;
		}
		if (lg_parse_range(lg_keys[k].kind, eq, &r) != 0) {
			lg_errf(err, errlen, "%s: bad value (want %s)", kv,
			    lg_kind_want(lg_keys[k].kind));
			return -1;
		}
		lg_spec_set(tmp, dirs, k, r);
	}
	memcpy(spec, tmp, sizeof(tmp));
	return 0;
}

void
lg_impair_draw(const struct lg_impair_spec spec[LG_NDIR], uint64_t *rng,
    struct lg_impair out[LG_NDIR])
{
	const struct lg_range	*r;
	double			 u;
	int			 k, d;

	memset(out, 0, sizeof(*out) * LG_NDIR);
	for (k = 0; k < LG_NKEYS; k++) {
		u = gs_rand01(rng);
		for (d = 0; d < LG_NDIR; d++) {
			if (!spec[d].set[k])
				continue;
			r = &spec[d].v[k];
			out[d].v[k] = r->lo + u * (r->hi - r->lo);
		}
	}
	for (d = 0; d < LG_NDIR; d++) {
		out[d].ge = spec[d].set[LG_K_GE_P];
		for (k = 0; k < LG_NKEYS; k++)
			if (out[d].v[k] > 0 && k != LG_K_GE_H1)
				out[d].on = true;
	}
}

uint64_t
lg_impair_rtt_us(const struct lg_impair imp[LG_NDIR])
{
	double	rtt = imp[LG_UP].v[LG_K_DELAY] + imp[LG_DOWN].v[LG_K_DELAY];

	return rtt < 1000 ? 1000 : (uint64_t)rtt;
}

/* ------------------------------------------------------------ queue */

void
lg_iq_init(struct lg_iq *q, enum lg_iq_mode mode, const struct lg_impair *imp,
    uint64_t rtt_us, uint64_t *rng, struct lg_iq_stats *st)
{
	memset(q, 0, sizeof(*q));
	q->mode = mode;
	q->imp = imp;
	q->rtt_us = rtt_us;
	q->rng = rng;
	q->st = st;
}

static bool
lg_iq_before(const struct lg_iq_ent *a, const struct lg_iq_ent *b)
{
	return a->t < b->t || (a->t == b->t && a->n < b->n);
}

static int
lg_iq_insert(struct lg_iq *q, uint64_t t, const void *buf, size_t len)
{
	struct lg_iq_ent	 e, *h;
	size_t			 i, parent, cap;

	if (q->n >= LG_IQ_MSGS_MAX || len > LG_IQ_BYTES_MAX - q->bytes) {
		q->st->overflow++;
		return -1;
	}
	if (q->n == q->cap) {
		cap = q->cap == 0 ? 16 : q->cap * 2;
		if ((h = realloc(q->heap, cap * sizeof(*h))) == NULL) {
			q->st->overflow++;
			return -1;
		}
		q->heap = h;
		q->cap = cap;
	}
	if ((e.buf = malloc(len > 0 ? len : 1)) == NULL) {
		q->st->overflow++;
		return -1;
	}
	memcpy(e.buf, buf, len);
	e.len = len;
	e.t = t;
	e.n = q->seq++;
	for (i = q->n++; i > 0; i = parent) {
		parent = (i - 1) / 2;
		if (!lg_iq_before(&e, &q->heap[parent]))
			break;
		q->heap[i] = q->heap[parent];
	}
	q->heap[i] = e;
	q->bytes += len;
	return 0;
}

/* One message through the loss process: random, then Gilbert-Elliott
 * (netem's order: change state, then lose by the state's rate). */
static bool
lg_iq_lost(struct lg_iq *q)
{
	const double	*v = q->imp->v;
	bool		 lost = false;

	if (v[LG_K_LOSS] > 0 && gs_rand01(q->rng) < v[LG_K_LOSS])
		lost = true;
	if (q->imp->ge) {
		if (q->ge_bad) {
			if (gs_rand01(q->rng) < v[LG_K_GE_R])
				q->ge_bad = false;
		} else if (gs_rand01(q->rng) < v[LG_K_GE_P])
			q->ge_bad = true;
		if (gs_rand01(q->rng) <
		    (q->ge_bad ? v[LG_K_GE_H1] : v[LG_K_GE_K1]))
			lost = true;
	}
	return lost;
}

/* Path delay of one message: delay, plus jitter uniform in +-jitter. */
static uint64_t
lg_iq_delay(struct lg_iq *q)
{
	const double	*v = q->imp->v;
	double		 d = v[LG_K_DELAY];

	if (v[LG_K_JITTER] > 0)
		d += (2 * gs_rand01(q->rng) - 1) * v[LG_K_JITTER];
	return d > 0 ? (uint64_t)d : 0;
}

int
lg_iq_push(struct lg_iq *q, uint64_t now, const void *buf, size_t len)
{
	const double	*v = q->imp->v;
	uint64_t	 t, g, rto, rec, gap;
	bool		 lost;
	int		 k;

	q->st->msgs++;
	q->st->bytes += len;
	if (q->last_in != 0 && now >= q->last_in) {
		g = GS_MIN(now - q->last_in, 1000000);
		q->gap_us = q->gap_us == 0 ? g : (q->gap_us * 7 + g) / 8;
	}
	q->last_in = now;
	gap = GS_MAX(q->gap_us, 1000);

	/* The bottleneck link serialises messages one after the other. */
	t = now;
	if (v[LG_K_RATE] > 0) {
		if (q->link_free > t)
			t = q->link_free;
		t += (uint64_t)((double)len * 8 * 1e6 / v[LG_K_RATE]);
		q->link_free = t;
	}
	t += lg_iq_delay(q);
	lost = lg_iq_lost(q);
	if (v[LG_K_REORDER] > 0 && gs_rand01(q->rng) < v[LG_K_REORDER]) {
		/* Held back by one or two message intervals: it arrives
		 * behind its successors (datagram) or holds them (TCP). */
		t += (uint64_t)((double)gap * (1 + gs_rand01(q->rng)));
		q->st->reordered++;
	}
	if (q->mode == LG_IQ_RELIABLE_ORDERED) {
		if (lost) {
			/*
			 * TCP repairs the loss.  Linux's RTO is SRTT plus
			 * max(TCP_RTO_MIN, 4 RTTVAR); RACK/SACK recovery,
			 * its default, retransmits once a later segment is
			 * acknowledged and a quarter RTT has passed: the
			 * gap to the next message plus 1.25 RTT, unless the
			 * RTO fires first.  A lost retransmission waits for
			 * the RTO, which doubles each time.
			 */
			rto = q->rtt_us + GS_MAX((uint64_t)LG_RTO_MIN_US,
			    (uint64_t)(4 * v[LG_K_JITTER]));
			rec = gap + q->rtt_us + q->rtt_us / 4;
			t += GS_MIN(rec, rto);
			q->st->lost++;
			q->st->retx++;
			for (k = 0; k < LG_RETX_MAX && lg_iq_lost(q); k++) {
				t += rto << k;
				q->st->retx++;
			}
		}
		/* The receiver's TCP discards a duplicate segment. */
		if (v[LG_K_DUP] > 0 && gs_rand01(q->rng) < v[LG_K_DUP])
			q->st->dup++;
		/* In order: nothing overtakes an earlier message. */
		if (t < q->last_t) {
			t = q->last_t;
			q->st->hol++;
		}
		q->last_t = t;
		return lg_iq_insert(q, t, buf, len);
	}
	if (lost) {
		q->st->lost++;
		return 0;
	}
	if (lg_iq_insert(q, t, buf, len) != 0)
		return -1;
	if (v[LG_K_DUP] > 0 && gs_rand01(q->rng) < v[LG_K_DUP]) {
		q->st->dup++;
		return lg_iq_insert(q, now + lg_iq_delay(q), buf, len);
	}
	return 0;
}

uint64_t
lg_iq_next(const struct lg_iq *q)
{
	return q->n > 0 ? q->heap[0].t : UINT64_MAX;
}

const struct lg_iq_ent *
lg_iq_due(const struct lg_iq *q, uint64_t now)
{
	return q->n > 0 && q->heap[0].t <= now ? &q->heap[0] : NULL;
}

uint8_t *
lg_iq_pop(struct lg_iq *q, size_t *len)
{
	struct lg_iq_ent	 top, last;
	size_t			 i, c;

	if (q->n == 0)
		return NULL;
	top = q->heap[0];
	last = q->heap[--q->n];
	for (i = 0; (c = 2 * i + 1) < q->n; i = c) {
		if (c + 1 < q->n && lg_iq_before(&q->heap[c + 1], &q->heap[c]))
			c++;
		if (!lg_iq_before(&q->heap[c], &last))
			break;
		q->heap[i] = q->heap[c];
	}
	if (q->n > 0)
		q->heap[i] = last;
	q->bytes -= top.len;
	*len = top.len;
	return top.buf;
}

void
lg_iq_clear(struct lg_iq *q)
{
	size_t	i;

	for (i = 0; i < q->n; i++)
		free(q->heap[i].buf);
	free(q->heap);
	q->heap = NULL;
	q->n = q->cap = q->bytes = 0;
	q->last_t = q->link_free = q->last_in = q->gap_us = 0;
	q->ge_bad = false;
}

/* ------------------------------------------------------------- SLO */

enum lg_mkind { LG_MK_MS, LG_MK_RATIO, LG_MK_COUNT };

static const struct {
	const char	*name;
	int		 kind;
} lg_metrics_tab[LG_NMETRICS] = {
	[LG_M_P50_RTT] =	{ "p50_rtt",	LG_MK_MS },
	[LG_M_P95_RTT] =	{ "p95_rtt",	LG_MK_MS },
	[LG_M_P99_RTT] =	{ "p99_rtt",	LG_MK_MS },
	[LG_M_MAX_RTT] =	{ "max_rtt",	LG_MK_MS },
	[LG_M_P50_E2E] =	{ "p50_e2e",	LG_MK_MS },
	[LG_M_P95_E2E] =	{ "p95_e2e",	LG_MK_MS },
	[LG_M_P99_E2E] =	{ "p99_e2e",	LG_MK_MS },
	[LG_M_DROP] =		{ "drop",	LG_MK_RATIO },
	[LG_M_RECONNECT] =	{ "reconnect",	LG_MK_RATIO },
	[LG_M_ERRORS] =		{ "errors",	LG_MK_COUNT },
	[LG_M_SERVED] =		{ "served",	LG_MK_RATIO },
};

const char *
lg_metric_name(int m)
{
	return m >= 0 && m < LG_NMETRICS ? lg_metrics_tab[m].name :
	    "unknown";
}

const char *
lg_metric_unit(int m)
{
	if (m < 0 || m >= LG_NMETRICS)
		return "";
	switch (lg_metrics_tab[m].kind) {
	case LG_MK_MS:
		return "ms";
	case LG_MK_RATIO:
		return "%";
	default:
		return "";
	}
}

static char *
lg_trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
lg_slo_value(int kind, const char *s, double *out)
{
	double		 v;
	long long	 n;

	switch (kind) {
	case LG_MK_MS:
		if (lg_parse_dur(s, &v) != 0)
			return -1;
		*out = v / 1000;
		return 0;
	case LG_MK_RATIO:
		return gs_parse_ratio(s, out) == GS_OK ? 0 : -1;
	default:
		if (gs_parse_ll(s, 0, 1LL << 53, &n) != GS_OK)
			return -1;
		*out = (double)n;
		return 0;
	}
}

static int
lg_slo_clause(struct lg_slo_clause *c, char *s, char *err, size_t errlen)
{
	char	*op, *name, *val;
	size_t	 i, oplen;
	int	 m;

	s = lg_trim(s);
	if (gs_strlcpy(c->expr, s, sizeof(c->expr)) != GS_OK) {
		lg_errf(err, errlen, "'%s': clause too long", s);
		return -1;
	}
	if ((op = strpbrk(s, "<>")) == NULL) {
		lg_errf(err, errlen, "'%s': want metric<value, metric<=value, "
		    "metric>value or metric>=value", s);
		return -1;
	}
	oplen = op[1] == '=' ? 2 : 1;
	c->op = op[0] == '<' ? (oplen == 2 ? LG_OP_LE : LG_OP_LT) :
	    (oplen == 2 ? LG_OP_GE : LG_OP_GT);
	val = lg_trim(op + oplen);
	*op = '\0';
	name = lg_trim(s);
	for (m = 0; m < LG_NMETRICS; m++)
		if (strcmp(name, lg_metrics_tab[m].name) == 0)
			break;
	if (m == LG_NMETRICS) {
		lg_errf(err, errlen, "unknown metric '%s' (want", name);
		for (i = 0; i < LG_NMETRICS; i++) {
			size_t	l = strlen(err);

			snprintf(err + l, errlen - l, " %s",
			    lg_metrics_tab[i].name);
		}
		i = strlen(err);
		snprintf(err + i, errlen - i, ")");
		return -1;
	}
	c->metric = m;
	if (lg_slo_value(lg_metrics_tab[m].kind, val, &c->value) != 0) {
		lg_errf(err, errlen, "%s: bad value '%s' (want %s)", name, val,
		    lg_metrics_tab[m].kind == LG_MK_MS ? "a time like 120ms "
		    "or 0.1s" : lg_metrics_tab[m].kind == LG_MK_RATIO ?
		    "a percentage like 3% or a fraction like 0.03" :
		    "a whole number");
		return -1;
	}
	return 0;
}

int
lg_slo_parse(struct lg_slo *slo, const char *arg, char *err, size_t errlen)
{
	struct lg_slo	 tmp = *slo;
	char		 buf[LG_SPEC_MAX], *p, *cl;

	if (gs_strlcpy(buf, arg, sizeof(buf)) != GS_OK) {
		lg_errf(err, errlen, "SLO too long");
		return -1;
	}
	p = buf;
	while ((cl = strsep(&p, ",")) != NULL) {
		if (*lg_trim(cl) == '\0') {
			lg_errf(err, errlen, "'%s': empty clause", arg);
			return -1;
		}
		if (tmp.n == LG_SLO_MAX) {
			lg_errf(err, errlen, "more than %d clauses", LG_SLO_MAX);
			return -1;
		}
		if (lg_slo_clause(&tmp.c[tmp.n], cl, err, errlen) != 0)
			return -1;
		tmp.n++;
	}
	*slo = tmp;
	return 0;
}

bool
lg_slo_holds(const struct lg_slo_clause *c, const struct lg_metrics *m)
{
	double	v;

	if (!m->have[c->metric])
		return false;
	v = m->v[c->metric];
	switch (c->op) {
	case LG_OP_LT:
		return v < c->value;
	case LG_OP_LE:
		return v <= c->value;
	case LG_OP_GT:
		return v > c->value;
	default:
		return v >= c->value;
	}
}
