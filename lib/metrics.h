/*
 * A registry of counters, gauges and histograms, written out in the
 * Prometheus text exposition format (version 0.0.4).
 *
 * Metrics are created at start-up and live as long as the registry;
 * updating one is a plain store on the loop thread.  Names follow
 * Prometheus rules: gs_<prog>_<what>[_total|_seconds|_bytes].
 * A name may carry a fixed label set: "gs_sim_ticks_total{room=\"a\"}"
 * groups under the family gs_sim_ticks_total in the output.
 */
#ifndef GS_METRICS_H
#define GS_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct gs_counter	{ uint64_t v; };
struct gs_gauge		{ double v; };

#define GS_HIST_MAXB	24
struct gs_hist {
	size_t		 nb;
	double		 bound[GS_HIST_MAXB];	/* upper bounds, ascending */
	/* count[i]: observations in (bound[i-1], bound[i]], not
	 * cumulative (the output sums them); the last one is +Inf. */
	uint64_t	 count[GS_HIST_MAXB + 1];
	uint64_t	 n;
	double		 sum;
};

struct gs_metrics;

struct gs_metrics	*gs_metrics_new(void);
void			 gs_metrics_free(struct gs_metrics *m);

/* name and help are borrowed (string literals).  Fatal on bad names or
 * allocation failure: metrics are declared at start-up.  Also fatal:
 * a full name declared twice, a family declared with two types, an
 * "le" label on a histogram.  A family's # HELP comes from its first
 * member; an empty help writes no # HELP line. */
struct gs_counter	*gs_metrics_counter(struct gs_metrics *m,
			    const char *name, const char *help);
struct gs_gauge		*gs_metrics_gauge(struct gs_metrics *m,
			    const char *name, const char *help);
/* A gauge whose value is read from fn(arg) when written out. */
void			 gs_metrics_gauge_fn(struct gs_metrics *m,
			    const char *name, const char *help,
			    double (*fn)(void *), void *arg);
/* bounds[n] ascending, n <= GS_HIST_MAXB. */
struct gs_hist		*gs_metrics_hist(struct gs_metrics *m,
			    const char *name, const char *help,
			    const double *bounds, size_t n);

/*
 * Metrics declared from a table, one row per metric, walked by
 * gs_metrics_table(): a program's metrics read as a list and cannot
 * drift from a hand-written sequence of calls.  Each row says where
 * its handle goes as an offset into the caller's struct (base):
 *
 *   COUNTER, GAUGE, HIST: the struct gs_counter *, gs_gauge * or
 *	gs_hist * at base + off is set (HIST also takes bounds[nb]);
 *   UNSIGNED: a gauge read from the unsigned at base + off each time
 *	the exposition is written (a count the program keeps anyway).
 *
 * Rows are declared in order; the rules of the calls above apply.
 */
enum gs_metric_kind {
	GS_METRIC_COUNTER,
	GS_METRIC_GAUGE,
	GS_METRIC_HIST,
	GS_METRIC_UNSIGNED,
};

struct gs_metric_def {
	enum gs_metric_kind	 kind;
	const char		*name;
	const char		*help;
	size_t			 off;
	const double		*bounds;	/* HIST */
	size_t			 nb;
};

#define GS_METRIC_ROW(kind, type, member, name, help) \
	{ (kind), (name), (help), offsetof(type, member), NULL, 0 }
#define GS_METRIC_HIST_ROW(type, member, name, help, b) \
	{ GS_METRIC_HIST, (name), (help), offsetof(type, member), (b), \
	  sizeof(b) / sizeof((b)[0]) }

void	gs_metrics_table(struct gs_metrics *m,
	    const struct gs_metric_def *defs, size_t n, void *base);

static inline void gs_counter_add(struct gs_counter *c, uint64_t n)
{ c->v += n; }
static inline void gs_counter_inc(struct gs_counter *c) { c->v++; }
static inline void gs_gauge_set(struct gs_gauge *g, double v) { g->v = v; }
void	gs_hist_observe(struct gs_hist *h, double v);

/*
 * fn(arg) runs before each write of the exposition, to bring counters
 * that mirror other state (an outbox's statistics, say) up to date:
 * reading them when asked, not copying them on every loop iteration.
 * One hook per registry; a later call replaces it.
 */
void	gs_metrics_on_write(struct gs_metrics *m, void (*fn)(void *),
	    void *arg);

/* Write the exposition text; returns 0, or -1 if f reported an error. */
int	gs_metrics_write(const struct gs_metrics *m, FILE *f);
/* The same into a malloc'd NUL-terminated string (caller frees);
 * *len (len may be NULL) gets its length.  NULL on failure (logged). */
char	*gs_metrics_text(const struct gs_metrics *m, size_t *len);

#endif
