/*
 * Measurements and the end-of-run report: latency samples and their
 * histograms, the summary with the SLO verdict, written as text or as
 * one JSON object, and the live progress line.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "loadgen.h"
#include "util.h"

#define LG_MOVE_COS	0.8660254037844387	/* cos(30 degrees) */
#define LG_FAIL_LINES	10	/* failed clients listed without -v */
#define LG_BAR		40	/* width of a histogram bar */

const char *const lg_transport_names[] = {
	[LG_TP_WS] = "websocket", [LG_TP_QUIC] = "quic",
	[LG_TP_NEGOTIATE] = "negotiate", NULL
};

const char *const lg_scenario_names[] = {
	[LG_SC_PLAY] = "play", [LG_SC_CHURN] = "churn",
	[LG_SC_RECONNECT] = "reconnect", [LG_SC_MATCHMAKE] = "matchmake",
	NULL
};

/* ------------------------------------------------------- histograms */

/* 16 buckets per power of two: about 4 % wide. */
static int
lg_hist_idx(uint64_t us)
{
	int	e = 0, idx;

	if (us < 16)
		return (int)us;
	while ((us >> e) > 1)
		e++;
	idx = (e - 3) * 16 + (int)((us >> (e - 4)) & 15);
	return idx < LG_HB ? idx : LG_HB - 1;
}

/* Middle of bucket idx, µs. */
static double
lg_hist_mid(int idx)
{
	int	e, sub;

	if (idx < 16)
		return idx + 0.5;
	e = idx / 16 + 3;
	sub = idx % 16;
	return ldexp(16 + sub + 0.5, e - 4);
}

void
lg_hist_add(uint64_t *hist, uint64_t us)
{
	hist[lg_hist_idx(us)]++;
}

double
lg_hist_pct(const uint64_t *hist, double p)
{
	uint64_t	total = 0, rank, sum = 0;
	int		i;

	for (i = 0; i < LG_HB; i++)
		total += hist[i];
	if (total == 0)
		return -1;
	rank = (uint64_t)ceil(p * (double)total);
	if (rank == 0)
		rank = 1;
	for (i = 0; i < LG_HB; i++) {
		sum += hist[i];
		if (sum >= rank)
			return lg_hist_mid(i) / 1000.;
	}
	return lg_hist_mid(LG_HB - 1) / 1000.;
}

void
lg_lat_add(struct lg_lat *l, uint64_t us)
{
	uint32_t	*p, v = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	size_t		 cap;

	l->count++;
	l->sorted = false;
	if (v > l->vmax)
		l->vmax = v;
	lg_hist_add(l->hist, v);
	if (l->n == l->cap) {
		if (l->cap == l->max) {
			l->dropped++;
			return;
		}
		cap = l->cap == 0 ? 4096 : l->cap * 2;
		if (cap > l->max)
			cap = l->max;
		if ((p = realloc(l->v, cap * sizeof(*p))) == NULL) {
			l->dropped++;
			return;
		}
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = v;
}

void
lg_lat_free(struct lg_lat *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* Forget the samples so far, keep the storage. */
void
lg_lat_restart(struct lg_lat *l)
{
	l->n = 0;
	l->dropped = l->count = 0;
	l->vmax = 0;
	l->sorted = false;
	memset(l->hist, 0, sizeof(l->hist));
}

static int
lg_cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
lg_lat_sort(struct lg_lat *l)
{
	if (!l->sorted && l->n > 1)
		qsort(l->v, l->n, sizeof(l->v[0]), lg_cmp_u32);
	l->sorted = true;
}

/* Percentile in ms: exact (nearest rank) over the samples while none
 * was dropped, else from the histogram.  -1 when there is none. */
static double
lg_lat_pct(struct lg_lat *l, double p)
{
	size_t	k;

	if (l->count == 0)
		return -1;
	if (l->dropped > 0)
		return lg_hist_pct(l->hist, p);
	lg_lat_sort(l);
	k = (size_t)ceil(p * (double)l->n);
	if (k == 0)
		k = 1;
	return l->v[k - 1] / 1000.;
}

/* Samples below us. */
static uint64_t
lg_lat_below(struct lg_lat *l, double us)
{
	size_t		lo = 0, hi = l->n, mid;
	uint64_t	n = 0;
	int		i;

	if (l->dropped > 0) {
		for (i = 0; i < LG_HB; i++)
			if (lg_hist_mid(i) < us)
				n += l->hist[i];
		return n;
	}
	lg_lat_sort(l);
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((double)l->v[mid] < us)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ----------------------------------------------------------- motion */

bool
lg_dir_ok(double dx, double dy, double sx, double sy)
{
	double	d = hypot(dx, dy), s = hypot(sx, sy);

	if (d == 0 || s == 0)
		return false;
	return (dx * sx + dy * sy) / (d * s) >= LG_MOVE_COS;
}

int
lg_session_moved(const struct lg_client *c)
{
	uint64_t	need = c->welcome.snapshot_rate != 0 ?
			    c->welcome.snapshot_rate : 30;

	/* Judged on a second's worth of positions: a session cut short
	 * right after its welcome has not had its inputs applied yet. */
	if (!c->have_pos || c->possnaps < GS_MAX(need, 2))
		return 0;
	return lg_dir_ok((double)c->x1 - c->x0, (double)c->y1 - c->y0,
	    c->mx, c->my) ? 1 : -1;
}

bool
lg_client_moved(const struct lg_client *c)
{
	uint32_t	ok = c->moves_ok, bad = c->moves_bad;
	int		v;

	if (!c->judged) {
		v = lg_session_moved(c);
		ok += v > 0;
		bad += v < 0;
	}
	if (ok + bad == 0)	/* no session long enough: the last one */
		return c->have_pos && c->possnaps >= 2 &&
		    lg_dir_ok((double)c->x1 - c->x0, (double)c->y1 - c->y0,
		    c->mx, c->my);
	return ok > 0 && bad == 0;
}

/* ---------------------------------------------------------- summary */

static uint64_t
lg_errors(const struct lg *lg)
{
	uint64_t	n = lg->connfail + lg->timeouts + lg->badmsgs;
	int		i;

	for (i = 0; i < LG_PERR_MAX; i++)
		n += lg->perrs[i];
	return n;
}

static void
lg_metric(struct lg_sum *s, int m, double v)
{
	s->m.have[m] = v >= 0;
	s->m.v[m] = v;
}

void
lg_summarize(struct lg *lg)
{
	struct lg_sum		*s = &lg->sum;
	const struct lg_client	*c;
	const struct lg_loss	*l;
	double			 secs;
	uint64_t		 late_from;
	size_t			 k;
	int			 i, nrate = 0;

	memset(s, 0, sizeof(*s));
	s->secs = (double)(lg->t_end - lg->t0) / 1e6;
	for (i = 0; i < lg->conf.nclients; i++) {
		c = &lg->clients[i];
		s->started += c->state != LG_IDLE;
		s->connected += c->connected;
		s->welcomed += c->welcomed;
		s->snapped += c->snapshots > 0;
		s->moved += lg_client_moved(c);
		s->losses_all += c->losses;
		s->recovered_all += c->recovered;
		if ((secs = (double)c->welcomed_us / 1e6) > 0) {
			s->snaps_s += c->snapshots / secs;
			s->bin_s += c->bytes_in / secs;
			s->bout_s += c->bytes_out / secs;
			nrate++;
		}
	}
	if (nrate > 0) {
		s->snaps_s /= nrate;
		s->bin_s /= nrate;
		s->bout_s /= nrate;
	}
	if (s->secs > 0) {
		s->msgs_in_s = lg->msgs_in / s->secs;
		s->msgs_out_s = lg->msgs_out / s->secs;
	}
	s->errors = lg_errors(lg);

	/* Reconnect rate: a loss still unrecovered at the end that came in
	 * its last LG_LATE_US had no fair chance to recover: left out. */
	late_from = lg->t_end > lg->t0 + LG_LATE_US ? lg->t_end - LG_LATE_US :
	    lg->t0;
	for (k = 0; k < lg->nlosses; k++) {
		l = &lg->losses[k];
		if (l->t_rec == 0 && l->t >= late_from) {
			s->late++;
			continue;
		}
		s->losses++;
		s->recovered += l->t_rec != 0;
	}
	s->reconnect = s->losses > 0 ? (double)s->recovered / s->losses : 1;
	s->drop = lg->snap_expected > 0 ?
	    (double)lg->snap_missed / lg->snap_expected : 0;
	if (lg->rec.count > 0) {
		s->have_rec = true;
		s->rec_p50 = lg_lat_pct(&lg->rec, 0.50);
		s->rec_p95 = lg_lat_pct(&lg->rec, 0.95);
		s->rec_max = lg->rec.vmax / 1000.;
	}

	lg_metric(s, LG_M_P50_RTT, lg_lat_pct(&lg->rtt, 0.50));
	lg_metric(s, LG_M_P95_RTT, lg_lat_pct(&lg->rtt, 0.95));
	lg_metric(s, LG_M_P99_RTT, lg_lat_pct(&lg->rtt, 0.99));
	lg_metric(s, LG_M_MAX_RTT, lg->rtt.count > 0 ?
	    lg->rtt.vmax / 1000. : -1);
	lg_metric(s, LG_M_P50_E2E, lg_lat_pct(&lg->e2e, 0.50));
	lg_metric(s, LG_M_P95_E2E, lg_lat_pct(&lg->e2e, 0.95));
	lg_metric(s, LG_M_P99_E2E, lg_lat_pct(&lg->e2e, 0.99));
	lg_metric(s, LG_M_DROP, s->drop);
	lg_metric(s, LG_M_RECONNECT, s->reconnect);
	lg_metric(s, LG_M_ERRORS, (double)s->errors);
	lg_metric(s, LG_M_SERVED, (double)s->snapped / lg->conf.nclients);

	s->verdict = GS_EXIT_OK;
	if (s->snapped < lg->conf.nclients ||
	    (lg->conf.motion && s->moved < lg->conf.nclients))
		s->verdict = GS_EXIT_RUNTIME;
	for (i = 0; i < lg->conf.slo.n; i++) {
		s->slo_ok[i] = lg_slo_holds(&lg->conf.slo.c[i], &s->m);
		if (!s->slo_ok[i])
			s->verdict = GS_EXIT_RUNTIME;
	}
}

/* ------------------------------------------------------------- text */

static const char *
lg_client_why(const struct lg *lg, const struct lg_client *c)
{
	if (c->fail[0] != '\0')
		return c->fail;
	if (c->state == LG_IDLE)
		return "never started (ramp too slow for the duration)";
	if (c->snapshots == 0)
		return c->last_why[0] != '\0' ? c->last_why : "no snapshot";
	if (!lg_client_moved(c))
		return "did not move as asked";
	return "";
}

static bool
lg_client_failed(const struct lg *lg, const struct lg_client *c)
{
	return c->snapshots == 0 || c->fail[0] != '\0' ||
	    (lg->conf.motion && !lg_client_moved(c));
}

static void
lg_client_line(const struct lg *lg, const struct lg_client *c, FILE *f)
{
	const char	*why = lg_client_why(lg, c);

	if (!c->welcomed) {
		fprintf(f, "  %-8s room=%s: %s\n", c->name, c->room, why);
		return;
	}
	fprintf(f, "  %-8s room=%s player=%llu snapshots=%llu sessions=%llu "
	    "stick=(%d,%d) moved=(%ld,%ld) %s%s%s\n", c->name, c->room,
	    (unsigned long long)c->welcome.player,
	    (unsigned long long)c->snapshots,
	    (unsigned long long)c->sessions, c->mx, c->my,
	    (long)c->x1 - c->x0, (long)c->y1 - c->y0,
	    lg_client_moved(c) ? "as asked" : "NOT as asked",
	    c->fail[0] != '\0' ? ": " : "", c->fail);
}

static void
lg_pr_lat(FILE *f, const char *what, struct lg_lat *l)
{
	if (l->count == 0) {
		fprintf(f, "%-16sno samples\n", what);
		return;
	}
	fprintf(f, "%-16sp50 %.3f  p95 %.3f  p99 %.3f  max %.3f  "
	    "(%llu samples%s)\n", what, lg_lat_pct(l, 0.50),
	    lg_lat_pct(l, 0.95), lg_lat_pct(l, 0.99), l->vmax / 1000.,
	    (unsigned long long)l->count,
	    l->dropped > 0 ? ", percentiles from the histogram" : "");
}

/* Text histogram with 1-2-5 buckets in ms. */
static void
lg_pr_hist(FILE *f, const char *what, struct lg_lat *l)
{
	static const double	 edge[] = { 1, 2, 5, 10, 20, 50, 100, 200,
				    500, 1000, 2000, 5000, 10000 };
	uint64_t		 n[GS_NELEM(edge) + 1], below, prev = 0, top = 0;
	size_t			 i, first = SIZE_MAX, last = 0, ne;
	int			 bar;

	if (l->count == 0)
		return;
	ne = GS_NELEM(edge);
	for (i = 0; i < ne; i++) {
		below = lg_lat_below(l, edge[i] * 1000);
		n[i] = below - prev;
		prev = below;
	}
	n[ne] = l->count - GS_MIN(prev, l->count);
	for (i = 0; i <= ne; i++) {
		if (n[i] == 0)
			continue;
		if (first == SIZE_MAX)
			first = i;
		last = i;
		if (n[i] > top)
			top = n[i];
	}
	fprintf(f, "%s histogram:\n", what);
	for (i = first; i <= last; i++) {
		bar = (int)((n[i] * LG_BAR + top - 1) / top);
		fprintf(f, "  %2s %5g ms |", i < ne ? "<" : ">=",
		    edge[i < ne ? i : ne - 1]);
		fprintf(f, "%-*.*s %llu (%.1f%%)\n", LG_BAR, bar,
		    "########################################",
		    (unsigned long long)n[i], 100. * n[i] / l->count);
	}
}

/* One range as lo..hi or lo, in a unit. */
static void
lg_pr_range(FILE *f, const char *key, const struct lg_range *r,
    double scale, const char *unit)
{
	if (r->lo == r->hi)
		fprintf(f, " %s %g%s", key, r->lo * scale, unit);
	else
		fprintf(f, " %s %g..%g%s", key, r->lo * scale, r->hi * scale,
		    unit);
}

/* What one lane's queues of direction d did. */
static void
lg_pr_effects(FILE *f, const char *lane, enum lg_iq_mode mode,
    const struct lg_iq_stats *st)
{
	if (st->msgs == 0)
		return;
	if (mode == LG_IQ_RELIABLE_ORDERED)
		fprintf(f, "                %s%llu messages, %llu lost and "
		    "retransmitted (%llu sends), %llu held behind an earlier "
		    "one, %llu reordered, %llu duplicates discarded, %llu "
		    "over the queue cap\n", lane, (unsigned long long)st->msgs,
		    (unsigned long long)st->lost,
		    (unsigned long long)st->retx,
		    (unsigned long long)st->hol,
		    (unsigned long long)st->reordered,
		    (unsigned long long)st->dup,
		    (unsigned long long)st->overflow);
	else
		fprintf(f, "                %s%llu messages, %llu lost, %llu "
		    "reordered, %llu duplicated, %llu over the queue cap\n",
		    lane, (unsigned long long)st->msgs,
		    (unsigned long long)st->lost,
		    (unsigned long long)st->reordered,
		    (unsigned long long)st->dup,
		    (unsigned long long)st->overflow);
}

/* Whether any client may have spoken QUIC: its figures apply. */
static bool
lg_any_quic(const struct lg *lg)
{
	return lg->conf.transport == LG_TP_QUIC ||
	    (lg->conf.transport == LG_TP_NEGOTIATE && lg->offer_quic);
}

/* Clients whose connection is over QUIC at the end (negotiated). */
static int
lg_on_quic(const struct lg *lg)
{
	int	i, k = 0;

	for (i = 0; i < lg->conf.nclients; i++)
		k += lg->clients[i].tp == LG_TP_QUIC;
	return k;
}

static void
lg_pr_impair(const struct lg *lg, FILE *f)
{
	static const char *const dirs[] = { "up", "down" };
	const struct lg_impair_spec	*sp;
	bool				 quic = lg_any_quic(lg);
	int				 d, k, any;

	if (!lg->impaired) {
		fprintf(f, "impairment:     none\n");
		return;
	}
	for (d = 0; d < LG_NDIR; d++) {
		sp = &lg->conf.impair[d];
		fprintf(f, "impair %-4s     ", dirs[d]);
		for (k = 0; k < LG_NKEYS; k++) {
			if (!sp->set[k])
				continue;
			switch (k) {
			case LG_K_DELAY:
			case LG_K_JITTER:
				lg_pr_range(f, lg_key_name(k), &sp->v[k],
				    1e-3, "ms");
				break;
			case LG_K_RATE:
				lg_pr_range(f, "rate", &sp->v[k], 1e-3,
				    "kbit/s");
				break;
			default:
				lg_pr_range(f, lg_key_name(k), &sp->v[k],
				    100, "%");
				break;
			}
		}
		for (any = 0, k = 0; k < LG_NKEYS; k++)
			any |= sp->set[k];
		fprintf(f, "%s\n", any ? "" : " none");
		lg_pr_effects(f, quic ? "stream: " : "", LG_IQ_RELIABLE_ORDERED,
		    &lg->iqst[LG_LANE_RELIABLE][d]);
		lg_pr_effects(f, "datagrams: ", LG_IQ_DATAGRAM,
		    &lg->iqst[LG_LANE_UNRELIABLE][d]);
	}
	if (quic)
		fprintf(f, "                model: QUIC: the stream as TCP (in "
		    "order, loss repaired by retransmission), datagrams lost, "
		    "duplicated and reordered, values drawn per client\n");
	else
		fprintf(f, "                model: TCP (WebSocket): in order, "
		    "loss repaired by retransmission, values drawn per "
		    "client\n");
}

/* The QUIC connections together. */
static void
lg_pr_quic(const struct lg *lg, FILE *f)
{
	const struct lg_quic_stats	*q = &lg->qst;

	fprintf(f, "quic:           %llu handshakes (%llu after a Retry); "
	    "messages in: %llu datagrams, %llu on the stream; out: %llu "
	    "datagrams, %llu on the stream (%llu too big for a datagram), "
	    "%llu datagrams dropped; packets %llu in, %llu out (%llu lost to "
	    "a full socket buffer); %llu migrations (%llu failed)\n",
	    (unsigned long long)q->handshakes,
	    (unsigned long long)q->retries,
	    (unsigned long long)q->dgrams_in,
	    (unsigned long long)q->stream_in,
	    (unsigned long long)q->dgrams_out,
	    (unsigned long long)q->stream_out,
	    (unsigned long long)q->to_stream,
	    (unsigned long long)q->dgrams_dropped,
	    (unsigned long long)q->pkts_in, (unsigned long long)q->pkts_out,
	    (unsigned long long)q->send_drops,
	    (unsigned long long)q->migrations,
	    (unsigned long long)q->migration_failures);
}

static void
lg_pr_value(FILE *f, int m, double v)
{
	if (strcmp(lg_metric_unit(m), "%") == 0)
		fprintf(f, "%.3f%%", v * 100);
	else if (strcmp(lg_metric_unit(m), "ms") == 0)
		fprintf(f, "%.3f ms", v);
	else
		fprintf(f, "%.0f", v);
}

void
lg_report_text(struct lg *lg, FILE *f)
{
	struct lg_sum		*s = &lg->sum;
	const struct lg_client	*c;
	const struct lg_slo_clause *cl;
	int			 i, shown = 0, n = lg->conf.nclients, any = 0;

	fprintf(f, "url:            %s\n", lg->conf.url);
	fprintf(f, "transport:      %s", lg_transport_names[lg->conf.transport]);
	if (lg->conf.transport == LG_TP_NEGOTIATE)
		fprintf(f, " (quic %d, websocket %d; fallbacks %llu)",
		    lg_on_quic(lg), n - lg_on_quic(lg),
		    (unsigned long long)lg->fallbacks);
	fprintf(f, "\n");
	fprintf(f, "scenario:       %s\n",
	    lg_scenario_names[lg->conf.scenario]);
	fprintf(f, "duration:       %.1f s\n", s->secs);
	fprintf(f, "clients:        %d\n", n);
	fprintf(f, "connected:      %d\n", s->connected);
	fprintf(f, "welcomed:       %d\n", s->welcomed);
	fprintf(f, "got snapshots:  %d\n", s->snapped);
	lg_pr_lat(f, "rtt ms:", &lg->rtt);
	lg_pr_lat(f, "e2e ms:", &lg->e2e);
	fprintf(f, "snapshots/s:    %.1f per client\n", s->snaps_s);
	fprintf(f, "drop:           %.3f%% (%llu of %llu snapshots "
	    "missed)\n", s->drop * 100,
	    (unsigned long long)lg->snap_missed,
	    (unsigned long long)lg->snap_expected);
	fprintf(f, "reconnect:      %.3f%% (%llu of %llu losses recovered; "
	    "%llu unrecovered in the last %d s not counted; %llu attempts)"
	    "\n",
	    s->reconnect * 100, (unsigned long long)s->recovered,
	    (unsigned long long)s->losses, (unsigned long long)s->late,
	    LG_LATE_US / 1000000, (unsigned long long)lg->attempts);
	if (s->have_rec)
		fprintf(f, "recovery ms:    p50 %.3f  p95 %.3f  max %.3f\n",
		    s->rec_p50, s->rec_p95, s->rec_max);
	if (lg->conf.scenario == LG_SC_CHURN)
		fprintf(f, "churn:          %llu left, %llu joined again\n",
		    (unsigned long long)lg->churn_leaves,
		    (unsigned long long)lg->churn_rejoins);
	if (lg->conf.scenario == LG_SC_RECONNECT)
		fprintf(f, "storms:         %llu, %llu connections dropped\n",
		    (unsigned long long)lg->storms,
		    (unsigned long long)lg->storm_drops);
	fprintf(f, "messages/s:     %.0f in, %.0f out (all clients)\n",
	    s->msgs_in_s, s->msgs_out_s);
	fprintf(f, "bytes/s in:     %.0f per client\n", s->bin_s);
	fprintf(f, "bytes/s out:    %.0f per client\n", s->bout_s);
	fprintf(f, "errors:        ");
	for (i = 0; i < LG_PERR_MAX; i++) {
		if (lg->perrs[i] == 0)
			continue;
		fprintf(f, " %s %llu", i == 0 ? "other" : gs_perr_name(i),
		    (unsigned long long)lg->perrs[i]);
		any = 1;
	}
	if (lg->connfail > 0)
		fprintf(f, " connect %llu", (unsigned long long)lg->connfail);
	if (lg->timeouts > 0)
		fprintf(f, " no-welcome %llu",
		    (unsigned long long)lg->timeouts);
	if (lg->badmsgs > 0)
		fprintf(f, " bad-message %llu",
		    (unsigned long long)lg->badmsgs);
	if (!any && lg->connfail == 0 && lg->timeouts == 0 &&
	    lg->badmsgs == 0)
		fprintf(f, " none");
	fprintf(f, "\n");
	fprintf(f, "moved as asked: %d/%d\n", s->moved, n);
	if (lg_any_quic(lg))
		lg_pr_quic(lg, f);
	lg_pr_impair(lg, f);
	lg_pr_hist(f, "rtt", &lg->rtt);
	lg_pr_hist(f, "e2e", &lg->e2e);

	for (i = 0; i < n; i++) {
		c = &lg->clients[i];
		if (lg->conf.verbose == 0 && !lg_client_failed(lg, c))
			continue;
		if (lg->conf.verbose == 0 && shown == LG_FAIL_LINES) {
			fprintf(f, "  ... and more: use -v or -j\n");
			break;
		}
		if (shown++ == 0)
			fprintf(f, "%s:\n", lg->conf.verbose > 0 ?
			    "clients" : "failed");
		lg_client_line(lg, c, f);
	}
	for (i = 0; i < lg->conf.slo.n; i++) {
		cl = &lg->conf.slo.c[i];
		fprintf(f, "slo:            %-24s ", cl->expr);
		if (s->m.have[cl->metric])
			lg_pr_value(f, cl->metric, s->m.v[cl->metric]);
		else
			fprintf(f, "no value");
		fprintf(f, "  %s\n", s->slo_ok[i] ? "PASS" : "FAIL");
	}
	fprintf(f, "verdict:        %s\n", s->verdict == GS_EXIT_OK ? "PASS" :
	    "FAIL");
}

/* ------------------------------------------------------------- JSON */

/* v rounded to 1/scale (the report's precision). */
static json_t *
lg_json_f(double v, double scale)
{
	return gs_json_real(round(v * scale) / scale);
}

/* A value, or null when negative (nothing measured). */
static json_t *
lg_json_fn(double v, double scale)
{
	return v < 0 ? json_null() : lg_json_f(v, scale);
}

static json_t *
lg_json_lat(struct lg_lat *l)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
	    "samples", gs_json_uint(l->count),
	    "dropped", gs_json_uint(l->dropped),
	    "p50", lg_json_fn(lg_lat_pct(l, 0.50), 1000),
	    "p95", lg_json_fn(lg_lat_pct(l, 0.95), 1000),
	    "p99", lg_json_fn(lg_lat_pct(l, 0.99), 1000),
	    "max", lg_json_fn(l->count > 0 ? l->vmax / 1000. : -1, 1000));
}

/* One direction's impairment: each key given, as [lo, hi]. */
static json_t *
lg_json_spec(const struct lg_impair_spec *sp)
{
	json_t	*o;
	char	 key[32];
	double	 scale;
	int	 k, bad = 0;

	if ((o = json_object()) == NULL)
		return NULL;
	for (k = 0; k < LG_NKEYS; k++) {
		if (!sp->set[k])
			continue;
		scale = 1;
		if (k == LG_K_DELAY || k == LG_K_JITTER) {
			snprintf(key, sizeof(key), "%s_ms", lg_key_name(k));
			scale = 1e-3;
		} else if (k == LG_K_RATE)
			snprintf(key, sizeof(key), "rate_bps");
		else
			snprintf(key, sizeof(key), "%s", lg_key_name(k));
		bad |= gs_json_set(o, key, json_pack("[o, o]",
		    gs_json_real(sp->v[k].lo * scale),
		    gs_json_real(sp->v[k].hi * scale)));
	}
	return gs_json_built(o, bad);
}

static json_t *
lg_json_effects(const struct lg_iq_stats *st)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "msgs", gs_json_uint(st->msgs),
	    "bytes", gs_json_uint(st->bytes),
	    "lost", gs_json_uint(st->lost),
	    "retransmissions", gs_json_uint(st->retx),
	    "held_behind", gs_json_uint(st->hol),
	    "reordered", gs_json_uint(st->reordered),
	    "dup", gs_json_uint(st->dup),
	    "overflow", gs_json_uint(st->overflow));
}

/* Direction d's counters over both lanes. */
static struct lg_iq_stats
lg_iq_sum(const struct lg *lg, int d)
{
	const struct lg_iq_stats	*r = &lg->iqst[LG_LANE_RELIABLE][d];
	const struct lg_iq_stats	*u = &lg->iqst[LG_LANE_UNRELIABLE][d];

	return (struct lg_iq_stats){
		.msgs = r->msgs + u->msgs, .bytes = r->bytes + u->bytes,
		.lost = r->lost + u->lost, .retx = r->retx + u->retx,
		.dup = r->dup + u->dup,
		.reordered = r->reordered + u->reordered,
		.hol = r->hol + u->hol, .overflow = r->overflow + u->overflow,
	};
}

/* QUIC: each lane's model and what its queues did. */
static json_t *
lg_json_lanes(const struct lg *lg)
{
	const struct lg_iq_stats (*st)[LG_NDIR] = lg->iqst;

	return json_pack("{s:{s:s, s:o, s:o}, s:{s:s, s:o, s:o}}",
	    "stream", "model", "reliable_ordered",
	    "up", lg_json_effects(&st[LG_LANE_RELIABLE][LG_UP]),
	    "down", lg_json_effects(&st[LG_LANE_RELIABLE][LG_DOWN]),
	    "datagram", "model", "datagram",
	    "up", lg_json_effects(&st[LG_LANE_UNRELIABLE][LG_UP]),
	    "down", lg_json_effects(&st[LG_LANE_UNRELIABLE][LG_DOWN]));
}

static json_t *
lg_json_impair(const struct lg *lg)
{
	struct lg_iq_stats	 up = lg_iq_sum(lg, LG_UP);
	struct lg_iq_stats	 down = lg_iq_sum(lg, LG_DOWN);
	json_t			*spec, *o;
	bool			 quic = lg_any_quic(lg);
	int			 i, bad = 0;

	if ((spec = json_array()) == NULL)
		return NULL;
	for (i = 0; i < lg->conf.nimpair; i++)
		bad |= json_array_append_new(spec,
		    gs_json_str(lg->conf.impair_arg[i]));
	if ((spec = gs_json_built(spec, bad)) == NULL)
		return NULL;
	o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:{s:o, s:o}}",
	    "transport", lg_transport_names[lg->conf.transport],
	    "model", quic ? "per_lane" : "reliable_ordered",
	    "spec", spec,
	    "up", lg_json_spec(&lg->conf.impair[LG_UP]),
	    "down", lg_json_spec(&lg->conf.impair[LG_DOWN]),
	    "effects",
	    "up", lg_json_effects(&up),
	    "down", lg_json_effects(&down));
	if (o != NULL && quic && gs_json_set(o, "lanes", lg_json_lanes(lg))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
lg_json_quic(const struct lg *lg)
{
	const struct lg_quic_stats	*q = &lg->qst;

	if (!lg_any_quic(lg))
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
	    "s:o, s:o, s:o}",
	    "handshakes", gs_json_uint(q->handshakes),
	    "retries", gs_json_uint(q->retries),
	    "datagrams_in", gs_json_uint(q->dgrams_in),
	    "stream_msgs_in", gs_json_uint(q->stream_in),
	    "datagrams_out", gs_json_uint(q->dgrams_out),
	    "stream_msgs_out", gs_json_uint(q->stream_out),
	    "to_stream", gs_json_uint(q->to_stream),
	    "datagrams_dropped", gs_json_uint(q->dgrams_dropped),
	    "packets_in", gs_json_uint(q->pkts_in),
	    "packets_out", gs_json_uint(q->pkts_out),
	    "send_drops", gs_json_uint(q->send_drops),
	    "migrations", gs_json_uint(q->migrations),
	    "migration_failures", gs_json_uint(q->migration_failures));
}

static json_t *
lg_json_pair(bool have, int32_t x, int32_t y)
{
	return have ? json_pack("[i, i]", (int)x, (int)y) : json_null();
}

static json_t *
lg_json_client(const struct lg *lg, const struct lg_client *c)
{
	json_t	*o;
	int	 bad = 0;

	if ((o = json_object()) == NULL)
		return NULL;
	bad |= gs_json_set(o, "name", gs_json_str(c->name));
	bad |= gs_json_set(o, "room", gs_json_str(c->room));
	bad |= gs_json_set(o, "player", gs_json_uint(c->welcome.player));
	bad |= gs_json_set(o, "welcomed", json_boolean(c->welcomed));
	bad |= gs_json_set(o, "sessions", gs_json_uint(c->sessions));
	bad |= gs_json_set(o, "losses", gs_json_uint(c->losses));
	bad |= gs_json_set(o, "recovered", gs_json_uint(c->recovered));
	bad |= gs_json_set(o, "snapshots", gs_json_uint(c->snapshots));
	bad |= gs_json_set(o, "pongs", gs_json_uint(c->pongs));
	bad |= gs_json_set(o, "bytes_in", gs_json_uint(c->bytes_in));
	bad |= gs_json_set(o, "stick", lg_json_pair(true, c->mx, c->my));
	bad |= gs_json_set(o, "from", lg_json_pair(c->have_pos, c->x0,
	    c->y0));
	bad |= gs_json_set(o, "to", lg_json_pair(c->have_pos, c->x1, c->y1));
	bad |= gs_json_set(o, "moved_as_asked",
	    json_boolean(lg_client_moved(c)));
	bad |= gs_json_set(o, "last_ack", gs_json_uint(c->last_ack));
	bad |= gs_json_set(o, "delay_ms", lg_json_f(
	    (c->imp[LG_UP].v[LG_K_DELAY] + c->imp[LG_DOWN].v[LG_K_DELAY]) /
	    1000, 1000));
	bad |= gs_json_set(o, "migrations",
	    lg->conf.transport == LG_TP_QUIC ?
	    gs_json_uint(c->quic.migrations) : json_null());
	bad |= gs_json_set(o, "fail", c->fail[0] != '\0' ||
	    c->snapshots == 0 ? gs_json_str(lg_client_why(lg, c)) :
	    json_null());
	return gs_json_built(o, bad);
}

static json_t *
lg_json_errors(const struct lg *lg)
{
	json_t	*o;
	int	 i, bad = 0;

	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < LG_PERR_MAX; i++)
		if (lg->perrs[i] != 0)
			bad |= gs_json_set(o, i == 0 ? "other" :
			    gs_perr_name(i), gs_json_uint(lg->perrs[i]));
	return gs_json_built(o, bad);
}

static json_t *
lg_json_slo(const struct lg *lg)
{
	const struct lg_sum		*s = &lg->sum;
	const struct lg_slo_clause	*cl;
	json_t				*a;
	int				 i, bad = 0;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < lg->conf.slo.n; i++) {
		cl = &lg->conf.slo.c[i];
		bad |= json_array_append_new(a, json_pack(
		    "{s:o, s:s, s:o, s:b}",
		    "expr", gs_json_str(cl->expr),
		    "metric", lg_metric_name(cl->metric),
		    "value", lg_json_fn(s->m.have[cl->metric] ?
		    s->m.v[cl->metric] : -1, 1e6),
		    "ok", (int)s->slo_ok[i]));
	}
	return gs_json_built(a, bad);
}

static json_t *
lg_json_clients(const struct lg *lg)
{
	json_t	*a;
	int	 i, bad = 0;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < lg->conf.nclients; i++)
		bad |= json_array_append_new(a,
		    lg_json_client(lg, &lg->clients[i]));
	return gs_json_built(a, bad);
}

/* One JSON object, its members documented in gs-loadgen(1). */
int
lg_report_json(struct lg *lg, FILE *f)
{
	struct lg_sum	*s = &lg->sum;
	json_t		*o;
	int		 bad = 0, err;

	if ((o = json_object()) == NULL)
		return GS_ENOMEM;
	bad |= gs_json_set(o, "url", gs_json_str(lg->conf.url));
	bad |= gs_json_set(o, "transport",
	    json_string(lg_transport_names[lg->conf.transport]));
	if (lg->conf.transport == LG_TP_NEGOTIATE)
		bad |= gs_json_set(o, "negotiated", json_pack(
		    "{s:s?, s:s?, s:i, s:i, s:o}",
		    "quic_url", lg->offer_quic ? lg->neg[0].url : NULL,
		    "websocket_url", lg->offer_ws ? lg->neg[1].url : NULL,
		    "quic", lg_on_quic(lg),
		    "websocket", lg->conf.nclients - lg_on_quic(lg),
		    "fallbacks", gs_json_uint(lg->fallbacks)));
	bad |= gs_json_set(o, "duration_s", lg_json_f(s->secs, 1000));
	bad |= gs_json_set(o, "scenario",
	    json_string(lg_scenario_names[lg->conf.scenario]));
	bad |= gs_json_set(o, "clients", gs_json_uint(
	    (uint64_t)lg->conf.nclients));
	bad |= gs_json_set(o, "connected", gs_json_uint(
	    (uint64_t)s->connected));
	bad |= gs_json_set(o, "welcomed", gs_json_uint((uint64_t)s->welcomed));
	bad |= gs_json_set(o, "got_snapshots", gs_json_uint(
	    (uint64_t)s->snapped));
	bad |= gs_json_set(o, "moved_as_asked", gs_json_uint(
	    (uint64_t)s->moved));
	bad |= gs_json_set(o, "rtt_ms", lg_json_lat(&lg->rtt));
	bad |= gs_json_set(o, "e2e_ms", lg_json_lat(&lg->e2e));
	bad |= gs_json_set(o, "drop", json_pack("{s:o, s:o, s:o}",
	    "expected", gs_json_uint(lg->snap_expected),
	    "missed", gs_json_uint(lg->snap_missed),
	    "rate", lg_json_f(s->drop, 1e6)));
	bad |= gs_json_set(o, "reconnect", json_pack(
	    "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o}}",
	    "losses", gs_json_uint(s->losses),
	    "recovered", gs_json_uint(s->recovered),
	    "rate", lg_json_f(s->reconnect, 1e6),
	    "attempts", gs_json_uint(lg->attempts),
	    "late_losses", gs_json_uint(s->late),
	    "losses_all", gs_json_uint(s->losses_all),
	    "recovered_all", gs_json_uint(s->recovered_all),
	    "time_ms",
	    "p50", lg_json_fn(s->have_rec ? s->rec_p50 : -1, 1000),
	    "p95", lg_json_fn(s->have_rec ? s->rec_p95 : -1, 1000),
	    "max", lg_json_fn(s->have_rec ? s->rec_max : -1, 1000)));
	bad |= gs_json_set(o, "snapshots_per_s", lg_json_f(s->snaps_s, 100));
	bad |= gs_json_set(o, "bytes_in_per_s", lg_json_f(s->bin_s, 1));
	bad |= gs_json_set(o, "bytes_out_per_s", lg_json_f(s->bout_s, 1));
	bad |= gs_json_set(o, "msgs_in_per_s", lg_json_f(s->msgs_in_s, 10));
	bad |= gs_json_set(o, "msgs_out_per_s", lg_json_f(s->msgs_out_s, 10));
	bad |= gs_json_set(o, "errors", lg_json_errors(lg));
	bad |= gs_json_set(o, "errors_total", gs_json_uint(s->errors));
	bad |= gs_json_set(o, "connect_failures", gs_json_uint(lg->connfail));
	bad |= gs_json_set(o, "welcome_timeouts", gs_json_uint(lg->timeouts));
	bad |= gs_json_set(o, "bad_messages", gs_json_uint(lg->badmsgs));
	bad |= gs_json_set(o, "churn", json_pack("{s:o, s:o, s:o}",
	    "rate", lg_json_f(lg->conf.scenario == LG_SC_CHURN ?
	    lg->conf.churn : 0, 1000),
	    "leaves", gs_json_uint(lg->churn_leaves),
	    "rejoins", gs_json_uint(lg->churn_rejoins)));
	bad |= gs_json_set(o, "storms", json_pack("{s:o, s:o, s:o, s:o}",
	    "interval_s", lg_json_f(lg->conf.storm_ms / 1000., 1000),
	    "fraction", lg_json_f(lg->conf.storm_frac, 1e6),
	    "count", gs_json_uint(lg->storms),
	    "dropped", gs_json_uint(lg->storm_drops)));
	bad |= gs_json_set(o, "quic", lg_json_quic(lg));
	bad |= gs_json_set(o, "impairment", lg_json_impair(lg));
	bad |= gs_json_set(o, "slo", lg_json_slo(lg));
	bad |= gs_json_set(o, "motion_checked",
	    json_boolean(lg->conf.motion != 0));
	bad |= gs_json_set(o, "ok", json_boolean(s->verdict == GS_EXIT_OK));
	bad |= gs_json_set(o, "per_client", lg_json_clients(lg));
	/* Every value was rounded to at most 6 decimals: 15 significant
	 * digits print it as rounded. */
	err = bad ? GS_ENOMEM : gs_json_write(o, f, 2, 15);
	json_decref(o);
	return err;
}

/* ------------------------------------------------------------- live */

static void
lg_pr_ms(char *buf, size_t cap, double ms)
{
	if (ms < 0)
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%.0f", ms);
}

void
lg_progress(struct lg *lg, FILE *f)
{
	const struct lg_client	*c;
	uint64_t		 now = gs_now_us(), losses = 0, rec = 0;
	uint64_t		 exp, miss;
	char			 r50[16], r99[16], e95[16];
	int			 i, up = 0;

	for (i = 0; i < lg->conf.nclients; i++) {
		c = &lg->clients[i];
		up += c->state == LG_WELCOMED;
		losses += c->losses;
		rec += c->recovered;
	}
	lg_pr_ms(r50, sizeof(r50), lg_hist_pct(lg->win_rtt, 0.50));
	lg_pr_ms(r99, sizeof(r99), lg_hist_pct(lg->win_rtt, 0.99));
	lg_pr_ms(e95, sizeof(e95), lg_hist_pct(lg->win_e2e, 0.95));
	exp = lg->snap_expected - lg->p_exp;
	miss = lg->snap_missed - lg->p_miss;
	fprintf(f, "\r%6.1fs up %d/%d  rtt p50 %s p99 %s ms  e2e p95 %s ms  "
	    "msg/s %llu in %llu out  drop %.2f%%  err %llu  reconn %llu/%llu"
	    "\033[K", (double)(now - lg->t0) / 1e6, up, lg->conf.nclients,
	    r50, r99, e95, (unsigned long long)(lg->msgs_in - lg->p_in),
	    (unsigned long long)(lg->msgs_out - lg->p_out),
	    exp > 0 ? 100. * miss / exp : 0.,
	    (unsigned long long)lg_errors(lg), (unsigned long long)rec,
	    (unsigned long long)losses);
	fflush(f);
	lg->p_in = lg->msgs_in;
	lg->p_out = lg->msgs_out;
	lg->p_exp = lg->snap_expected;
	lg->p_miss = lg->snap_missed;
	memset(lg->win_rtt, 0, sizeof(lg->win_rtt));
	memset(lg->win_e2e, 0, sizeof(lg->win_e2e));
}
