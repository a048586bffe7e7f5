/*
 * Metrics registry and the Prometheus text exposition format 0.0.4.
 *
 * Each metric belongs to a family (its name without the label set).
 * Families are written in the order they were first declared, each
 * with one # HELP and one # TYPE line, followed by its members in
 * declaration order.  Every metric is its own allocation, so the
 * pointers handed out stay valid until gs_metrics_free().
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "util.h"

enum { M_COUNTER, M_GAUGE, M_GAUGE_FN, M_HIST };

struct metric {
	int		 kind;
	const char	*name;		/* full name, borrowed */
	const char	*labels;	/* inside the braces, borrowed */
	size_t		 lablen;	/* 0: no labels */
	union {
		struct gs_counter	c;
		struct gs_gauge		g;
		struct gs_hist		h;
		struct {
			double	(*fn)(void *);
			void	*arg;
		} fn;
	} u;
	struct metric	*next;		/* in its family */
};

struct family {
	const char	*name;		/* borrowed; name[0..len) */
	size_t		 len;
	const char	*help;		/* borrowed, from the first member */
	int		 kind;		/* M_COUNTER, M_GAUGE or M_HIST */
	struct metric	*first;
	struct metric	**tail;
	struct family	*next;
};

struct gs_metrics {
	struct family	*first;
	struct family	**tail;
	void		(*on_write)(void *);
	void		*on_write_arg;
};

static const char *const type_names[] = {
	[M_COUNTER] = "counter",
	[M_GAUGE] = "gauge",
	[M_GAUGE_FN] = "gauge",
	[M_HIST] = "histogram",
};

struct gs_metrics *
gs_metrics_new(void)
{
	struct gs_metrics	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		gs_fatal(GS_EXIT_SYSTEM, "metrics: out of memory call=calloc");
	m->tail = &m->first;
	return m;
}

void
gs_metrics_free(struct gs_metrics *m)
{
	struct family	*f, *fnext;
	struct metric	*x, *xnext;

	if (m == NULL)
		return;
	for (f = m->first; f != NULL; f = fnext) {
		fnext = f->next;
		for (x = f->first; x != NULL; x = xnext) {
			xnext = x->next;
			free(x);
		}
		free(f);
	}
	free(m);
}

/* ------------------------------------------------------- validation */

static int
is_alpha_(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static void
bad_name(const char *name, const char *reason)
{
	gs_fatalx(GS_EXIT_RUNTIME, "bad metric name='%s' reason=%s", name,
	    reason);
}

/*
 * Check name against [a-zA-Z_:][a-zA-Z0-9_:]* optionally followed by
 * {label="value",...} and nothing else.  Label names are
 * [a-zA-Z_][a-zA-Z0-9_]*, not reserved (__*), not repeated, and not
 * "le" for histograms; values allow the escapes \\ \" \n only.
 * Fatal on anything else.  Sets the family length and the label span.
 */
static void
parse_name(const char *name, int hist, size_t *famlen, const char **labels,
    size_t *lablen)
{
	const char	*p = name, *ln[32];
	size_t		 lnlen[32], nl = 0, i, n;

	if (name == NULL || !(is_alpha_(*p) || *p == ':'))
		bad_name(name ? name : "(null)", "bad_first_char");
	while (is_alpha_(*p) || is_digit(*p) || *p == ':')
		p++;
	*famlen = (size_t)(p - name);
	*labels = NULL;
	*lablen = 0;
	if (*p == '\0')
		return;
	if (*p++ != '{')
		bad_name(name, "bad_char");
	*labels = p;
	for (;;) {
		const char *l = p;

		if (!is_alpha_(*p))
			bad_name(name, "bad_label_name");
		while (is_alpha_(*p) || is_digit(*p))
			p++;
		n = (size_t)(p - l);
		if (n >= 2 && l[0] == '_' && l[1] == '_')
			bad_name(name, "reserved_label_name");
		if (hist && n == 2 && l[0] == 'l' && l[1] == 'e')
			bad_name(name, "le_label_on_histogram");
		for (i = 0; i < nl; i++)
			if (lnlen[i] == n && memcmp(ln[i], l, n) == 0)
				bad_name(name, "repeated_label_name");
		if (nl == GS_NELEM(ln))
			bad_name(name, "too_many_labels");
		ln[nl] = l;
		lnlen[nl++] = n;
		if (*p++ != '=' || *p++ != '"')
			bad_name(name, "bad_label_syntax");
		while (*p != '"') {
			if (*p == '\0' || *p == '\n')
				bad_name(name, "unterminated_label_value");
			if (*p == '\\') {
				p++;
				if (*p != '\\' && *p != '"' && *p != 'n')
					bad_name(name, "bad_escape");
			}
			p++;
		}
		p++;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p != '}')
			bad_name(name, "bad_label_syntax");
		*lablen = (size_t)(p - *labels);
		if (p[1] != '\0')
			bad_name(name, "trailing_chars");
		return;
	}
}

/* Declare a metric; fatal on bad or repeated names and type clashes. */
static struct metric *
metric_add(struct gs_metrics *m, int kind, const char *name,
    const char *help)
{
	struct family	*f;
	struct metric	*x;
	const char	*labels;
	size_t		 famlen, lablen;
	int		 fkind = kind == M_GAUGE_FN ? M_GAUGE : kind;

	parse_name(name, kind == M_HIST, &famlen, &labels, &lablen);
	for (f = m->first; f != NULL; f = f->next)
		if (f->len == famlen && memcmp(f->name, name, famlen) == 0)
			break;
	if (f != NULL) {
		if (f->kind != fkind)
			bad_name(name, "type_differs_from_family");
		for (x = f->first; x != NULL; x = x->next)
			if (strcmp(x->name, name) == 0)
				bad_name(name, "declared_twice");
	} else {
		if ((f = calloc(1, sizeof(*f))) == NULL)
			gs_fatal(GS_EXIT_SYSTEM, "metrics: out of memory "
			    "call=calloc");
		f->name = name;
		f->len = famlen;
		f->help = help != NULL ? help : "";
		f->kind = fkind;
		f->tail = &f->first;
		*m->tail = f;
		m->tail = &f->next;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL)
		gs_fatal(GS_EXIT_SYSTEM, "metrics: out of memory call=calloc");
	x->kind = kind;
	x->name = name;
	x->labels = labels;
	x->lablen = lablen;
	*f->tail = x;
	f->tail = &x->next;
	return x;
}

struct gs_counter *
gs_metrics_counter(struct gs_metrics *m, const char *name, const char *help)
{
	return &metric_add(m, M_COUNTER, name, help)->u.c;
}

struct gs_gauge *
gs_metrics_gauge(struct gs_metrics *m, const char *name, const char *help)
{
	return &metric_add(m, M_GAUGE, name, help)->u.g;
}

void
gs_metrics_gauge_fn(struct gs_metrics *m, const char *name, const char *help,
    double (*fn)(void *), void *arg)
{
	struct metric	*x;

	if (fn == NULL)
		bad_name(name, "null_gauge_fn");
	x = metric_add(m, M_GAUGE_FN, name, help);
	x->u.fn.fn = fn;
	x->u.fn.arg = arg;
}

void
gs_metrics_on_write(struct gs_metrics *m, void (*fn)(void *), void *arg)
{
	m->on_write = fn;
	m->on_write_arg = arg;
}

struct gs_hist *
gs_metrics_hist(struct gs_metrics *m, const char *name, const char *help,
    const double *bounds, size_t n)
{
	struct metric	*x;
	size_t		 i;

	if (n > GS_HIST_MAXB)
		bad_name(name, "too_many_buckets");
	for (i = 0; i < n; i++)
		if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
			bad_name(name, "bounds_not_ascending_finite");
	x = metric_add(m, M_HIST, name, help);
	x->u.h.nb = n;
	if (n > 0)
		memcpy(x->u.h.bound, bounds, n * sizeof(bounds[0]));
	return &x->u.h;
}

static double
metric_read_unsigned(void *p)
{
	return (double)*(const unsigned *)p;
}

void
gs_metrics_table(struct gs_metrics *m, const struct gs_metric_def *defs,
    size_t n, void *base)
{
	const struct gs_metric_def	*d;
	char				*at;
	size_t				 i;

	for (i = 0; i < n; i++) {
		d = &defs[i];
		at = (char *)base + d->off;
		switch (d->kind) {
		case GS_METRIC_COUNTER:
			*(struct gs_counter **)(void *)at =
			    gs_metrics_counter(m, d->name, d->help);
			break;
		case GS_METRIC_GAUGE:
			*(struct gs_gauge **)(void *)at =
			    gs_metrics_gauge(m, d->name, d->help);
			break;
		case GS_METRIC_HIST:
			*(struct gs_hist **)(void *)at = gs_metrics_hist(m,
			    d->name, d->help, d->bounds, d->nb);
			break;
		case GS_METRIC_UNSIGNED:
			gs_metrics_gauge_fn(m, d->name, d->help,
			    metric_read_unsigned, at);
			break;
		default:
			bad_name(d->name, "unknown_kind");
		}
	}
}

/* count[i] holds observations in (bound[i-1], bound[i]]; count[nb]
 * those above the last bound.  Output makes them cumulative. */
void
gs_hist_observe(struct gs_hist *h, double v)
{
	size_t	i;

	for (i = 0; i < h->nb && !(v <= h->bound[i]); i++)
		;
	h->count[i]++;
	h->n++;
	h->sum += v;
}

/* ----------------------------------------------------------- output */

/* Shortest of %.15g / %.17g that reads back as v; Prometheus spellings
 * for the special values. */
static const char *
fmt_double(char *buf, size_t cap, double v)
{
	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	(void)snprintf(buf, cap, "%.15g", v);
	if (strtod(buf, NULL) != v)
		(void)snprintf(buf, cap, "%.17g", v);
	return buf;
}

static void
write_help(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* fam[suffix]{labels[,extra]} -- braces only when there is a label. */
static void
write_series(FILE *f, const struct family *fa, const struct metric *x,
    const char *suffix, const char *extra)
{
	fprintf(f, "%.*s%s", (int)fa->len, fa->name, suffix);
	if (x->lablen == 0 && extra == NULL)
		return;
	fputc('{', f);
	if (x->lablen > 0)
		fprintf(f, "%.*s", (int)x->lablen, x->labels);
	if (extra != NULL)
		fprintf(f, "%s%s", x->lablen > 0 ? "," : "", extra);
	fputc('}', f);
}

static void
write_hist(FILE *f, const struct family *fa, const struct metric *x)
{
	const struct gs_hist	*h = &x->u.h;
	char			 le[64], num[32];
	uint64_t		 cum = 0;
	size_t			 i;

	for (i = 0; i < h->nb; i++) {
		cum += h->count[i];
		(void)snprintf(le, sizeof(le), "le=\"%s\"",
		    fmt_double(num, sizeof(num), h->bound[i]));
		write_series(f, fa, x, "_bucket", le);
		fprintf(f, " %" PRIu64 "\n", cum);
	}
	write_series(f, fa, x, "_bucket", "le=\"+Inf\"");
	fprintf(f, " %" PRIu64 "\n", h->n);
	write_series(f, fa, x, "_sum", NULL);
	fprintf(f, " %s\n", fmt_double(num, sizeof(num), h->sum));
	write_series(f, fa, x, "_count", NULL);
	fprintf(f, " %" PRIu64 "\n", h->n);
}

int
gs_metrics_write(const struct gs_metrics *m, FILE *f)
{
	const struct family	*fa;
	const struct metric	*x;
	char			 num[32];

	if (m->on_write != NULL)
		m->on_write(m->on_write_arg);
	for (fa = m->first; fa != NULL; fa = fa->next) {
		if (fa->help[0] != '\0') {
			fprintf(f, "# HELP %.*s ", (int)fa->len, fa->name);
			write_help(f, fa->help);
			fputc('\n', f);
		}
		fprintf(f, "# TYPE %.*s %s\n", (int)fa->len, fa->name,
		    type_names[fa->kind]);
		for (x = fa->first; x != NULL; x = x->next) {
			switch (x->kind) {
			case M_COUNTER:
				write_series(f, fa, x, "", NULL);
				fprintf(f, " %" PRIu64 "\n", x->u.c.v);
				break;
			case M_GAUGE:
				write_series(f, fa, x, "", NULL);
				fprintf(f, " %s\n", fmt_double(num,
				    sizeof(num), x->u.g.v));
				break;
			case M_GAUGE_FN:
				write_series(f, fa, x, "", NULL);
				fprintf(f, " %s\n", fmt_double(num,
				    sizeof(num), x->u.fn.fn(x->u.fn.arg)));
				break;
			case M_HIST:
				write_hist(f, fa, x);
				break;
			}
		}
	}
	/* Flush so that a write error shows now, not at fclose(). */
	return fflush(f) != 0 || ferror(f) ? -1 : 0;
}

char *
gs_metrics_text(const struct gs_metrics *m, size_t *len)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 size = 0;
	int	 rv;

	if ((f = open_memstream(&buf, &size)) == NULL) {
		gs_log_warn("metrics text failed call=open_memstream");
		return NULL;
	}
	rv = gs_metrics_write(m, f);
	if (fclose(f) != 0 || rv != 0) {
		gs_log_warn("metrics text failed call=fclose");
		free(buf);
		return NULL;
	}
	if (len != NULL)
		*len = size;
	return buf;
}
