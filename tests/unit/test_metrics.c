/* Metrics registry: exact exposition text, and start-up errors. */
#include <sys/wait.h>

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "metrics.h"
#include "util.h"
#include "t.h"

/* Compare the registry's text with want; print both on a mismatch. */
static int
text_is(const struct gs_metrics *m, const char *want)
{
	size_t	 len = 0;
	char	*got = gs_metrics_text(m, &len);
	int	 ok;

	if (got == NULL)
		return 0;
	ok = strlen(got) == len && strcmp(got, want) == 0;
	if (!ok)
		fprintf(stderr, "--- want\n%s--- got\n%s---\n", want, got);
	free(got);
	return ok;
}

static void
test_empty(void)
{
	struct gs_metrics	*m = gs_metrics_new();

	T_CHECK(text_is(m, ""));
	gs_metrics_free(m);
}

static void
test_counter(void)
{
	struct gs_metrics	*m = gs_metrics_new();
	struct gs_counter	*c;

	c = gs_metrics_counter(m, "gs_test_requests_total",
	    "Requests served.");
	T_ASSERT(c != NULL);
	T_CHECK(text_is(m,
	    "# HELP gs_test_requests_total Requests served.\n"
	    "# TYPE gs_test_requests_total counter\n"
	    "gs_test_requests_total 0\n"));
	gs_counter_add(c, 41);
	gs_counter_inc(c);
	T_CHECK(text_is(m,
	    "# HELP gs_test_requests_total Requests served.\n"
	    "# TYPE gs_test_requests_total counter\n"
	    "gs_test_requests_total 42\n"));
	gs_counter_add(c, UINT64_MAX - 42);
	T_CHECK(text_is(m,
	    "# HELP gs_test_requests_total Requests served.\n"
	    "# TYPE gs_test_requests_total counter\n"
	    "gs_test_requests_total 18446744073709551615\n"));
	gs_metrics_free(m);
}

static void
test_gauge(void)
{
	struct gs_metrics	*m = gs_metrics_new();
	struct gs_gauge		*g;
	static const struct {
		double		 v;
		const char	*text;
	} cases[] = {
		{ 0, "0" }, { 0.5, "0.5" }, { -3, "-3" }, { 0.1, "0.1" },
		{ 1e20, "1e+20" }, { 1.0 / 3, "0.33333333333333331" },
		{ 123456789, "123456789" },
	};
	char	want[256];
	size_t	i;

	g = gs_metrics_gauge(m, "gs_test_load", "Load.\nSecond \\ line.");
	for (i = 0; i < GS_NELEM(cases); i++) {
		gs_gauge_set(g, cases[i].v);
		(void)snprintf(want, sizeof(want),
		    "# HELP gs_test_load Load.\\nSecond \\\\ line.\n"
		    "# TYPE gs_test_load gauge\n"
		    "gs_test_load %s\n", cases[i].text);
		T_CHECK(text_is(m, want));
	}
	gs_gauge_set(g, NAN);
	T_CHECK(text_is(m, "# HELP gs_test_load Load.\\nSecond \\\\ line.\n"
	    "# TYPE gs_test_load gauge\ngs_test_load NaN\n"));
	gs_gauge_set(g, -INFINITY);
	T_CHECK(text_is(m, "# HELP gs_test_load Load.\\nSecond \\\\ line.\n"
	    "# TYPE gs_test_load gauge\ngs_test_load -Inf\n"));
	gs_metrics_free(m);
}

static double
read_double(void *arg)
{
	return *(double *)arg;
}

static void
test_gauge_fn(void)
{
	struct gs_metrics	*m = gs_metrics_new();
	double			 v = 7;

	/* No help: no # HELP line. */
	gs_metrics_gauge_fn(m, "gs_test_rooms", "", read_double, &v);
	T_CHECK(text_is(m, "# TYPE gs_test_rooms gauge\ngs_test_rooms 7\n"));
	v = 2.25;	/* read when written out, not when declared */
	T_CHECK(text_is(m, "# TYPE gs_test_rooms gauge\ngs_test_rooms 2.25\n"));
	gs_metrics_free(m);
}

static void
test_labels(void)
{
	struct gs_metrics	*m = gs_metrics_new();
	struct gs_counter	*a, *b;
	struct gs_gauge		*g;

	a = gs_metrics_counter(m, "gs_test_ticks_total{room=\"a\"}",
	    "Ticks run.");
	g = gs_metrics_gauge(m, "gs_test_players", "Players.");
	b = gs_metrics_counter(m,
	    "gs_test_ticks_total{room=\"b \\\"x\\\"\",sim=\"1\"}",
	    "Ticks run.");
	T_ASSERT(a != NULL && b != NULL && a != b);
	gs_counter_add(a, 3);
	gs_counter_add(b, 4);
	gs_gauge_set(g, 10);
	/* The family is written once, where it was first declared. */
	T_CHECK(text_is(m,
	    "# HELP gs_test_ticks_total Ticks run.\n"
	    "# TYPE gs_test_ticks_total counter\n"
	    "gs_test_ticks_total{room=\"a\"} 3\n"
	    "gs_test_ticks_total{room=\"b \\\"x\\\"\",sim=\"1\"} 4\n"
	    "# HELP gs_test_players Players.\n"
	    "# TYPE gs_test_players gauge\n"
	    "gs_test_players 10\n"));
	gs_metrics_free(m);
}

static void
test_hist(void)
{
	struct gs_metrics	*m = gs_metrics_new();
	static const double	 bounds[] = { 0.25, 1, 4 };
	struct gs_hist		*h, *hl;

	h = gs_metrics_hist(m, "gs_test_tick_seconds", "Tick time.",
	    bounds, GS_NELEM(bounds));
	hl = gs_metrics_hist(m, "gs_test_rtt_seconds{gw=\"x\"}", "RTT.",
	    bounds, 2);
	T_ASSERT(h != NULL && hl != NULL);
	gs_hist_observe(h, 0.125);
	gs_hist_observe(h, 0.25);	/* le is inclusive */
	gs_hist_observe(h, 0.5);
	gs_hist_observe(h, 2);
	gs_hist_observe(h, 8);
	gs_hist_observe(hl, 3);
	T_EQ_INT(h->n, 5);
	T_CHECK(text_is(m,
	    "# HELP gs_test_tick_seconds Tick time.\n"
	    "# TYPE gs_test_tick_seconds histogram\n"
	    "gs_test_tick_seconds_bucket{le=\"0.25\"} 2\n"
	    "gs_test_tick_seconds_bucket{le=\"1\"} 3\n"
	    "gs_test_tick_seconds_bucket{le=\"4\"} 4\n"
	    "gs_test_tick_seconds_bucket{le=\"+Inf\"} 5\n"
	    "gs_test_tick_seconds_sum 10.875\n"
	    "gs_test_tick_seconds_count 5\n"
	    "# HELP gs_test_rtt_seconds RTT.\n"
	    "# TYPE gs_test_rtt_seconds histogram\n"
	    "gs_test_rtt_seconds_bucket{gw=\"x\",le=\"0.25\"} 0\n"
	    "gs_test_rtt_seconds_bucket{gw=\"x\",le=\"1\"} 0\n"
	    "gs_test_rtt_seconds_bucket{gw=\"x\",le=\"+Inf\"} 1\n"
	    "gs_test_rtt_seconds_sum{gw=\"x\"} 3\n"
	    "gs_test_rtt_seconds_count{gw=\"x\"} 1\n"));
	gs_metrics_free(m);
}

static void
test_write_error(void)
{
	struct gs_metrics	*m = gs_metrics_new();
	FILE			*f;

	(void)gs_metrics_counter(m, "gs_test_x_total", "X.");
	if ((f = fopen("/dev/full", "w")) == NULL) {
		gs_metrics_free(m);
		return;		/* nothing to test against here */
	}
	T_EQ_INT(gs_metrics_write(m, f), -1);
	(void)fclose(f);
	gs_metrics_free(m);
}

/* A global, so that LeakSanitizer in the exiting child sees it. */
static struct gs_metrics	*child_m;

static void
decl_bad(int what)
{
	static const double	up[] = { 1, 2 }, down[] = { 2, 1 };
	static const double	nan[] = { NAN };

	switch (what) {
	case 0: (void)gs_metrics_counter(child_m, "1abc", "h"); break;
	case 1: (void)gs_metrics_counter(child_m, "a b", "h"); break;
	case 2: (void)gs_metrics_counter(child_m, "a{room=a}", "h"); break;
	case 3: (void)gs_metrics_counter(child_m, "a{room=\"a\"", "h"); break;
	case 4: (void)gs_metrics_counter(child_m, "a{__r=\"a\"}", "h"); break;
	case 5: (void)gs_metrics_counter(child_m, "a{r=\"a\"}x", "h"); break;
	case 6: (void)gs_metrics_counter(child_m, "a{r=\"a\",r=\"b\"}", "h");
		break;
	case 7: (void)gs_metrics_counter(child_m, "a{}", "h"); break;
	case 8: (void)gs_metrics_counter(child_m, "a{r=\"\\t\"}", "h"); break;
	case 9: (void)gs_metrics_counter(child_m, "", "h"); break;
	case 10:
		(void)gs_metrics_hist(child_m, "a{le=\"1\"}", "h", up, 2);
		break;
	case 11: (void)gs_metrics_hist(child_m, "a", "h", down, 2); break;
	case 12: (void)gs_metrics_hist(child_m, "a", "h", nan, 1); break;
	case 13:
		(void)gs_metrics_hist(child_m, "a", "h", up, GS_HIST_MAXB + 1);
		break;
	case 14:	/* declared twice */
		(void)gs_metrics_counter(child_m, "a{r=\"1\"}", "h");
		(void)gs_metrics_counter(child_m, "a{r=\"1\"}", "h");
		break;
	case 15:	/* one family, two types */
		(void)gs_metrics_counter(child_m, "a{r=\"1\"}", "h");
		(void)gs_metrics_gauge(child_m, "a{r=\"2\"}", "h");
		break;
	case 16: gs_metrics_gauge_fn(child_m, "a", "h", NULL, NULL); break;
	}
}

#define NBAD	17

/* Each bad declaration must end the process with the runtime code. */
static void
test_bad_names_fatal(void)
{
	int	what, status, devnull;
	pid_t	pid;

	for (what = 0; what < NBAD; what++) {
		fflush(NULL);
		pid = fork();
		T_ASSERT(pid != -1);
		if (pid == 0) {
			if ((devnull = open("/dev/null", O_WRONLY)) != -1)
				(void)dup2(devnull, STDERR_FILENO);
			child_m = gs_metrics_new();
			decl_bad(what);
			_exit(0);	/* accepted: the test fails */
		}
		T_ASSERT(waitpid(pid, &status, 0) == pid);
		if (!WIFEXITED(status) ||
		    WEXITSTATUS(status) != GS_EXIT_RUNTIME) {
			fprintf(stderr, "bad declaration %d: status %#x\n",
			    what, status);
			T_CHECK(0);
		}
	}
}

/* Declarations that are fine must not be fatal (same harness). */
static void
test_good_names(void)
{
	struct gs_metrics	*m = gs_metrics_new();
	static const double	 b[] = { 1 };

	(void)gs_metrics_counter(m, "a:b_c9", "h");
	(void)gs_metrics_counter(m, "_x{r=\"\"}", "h");
	(void)gs_metrics_gauge(m, "g{a=\"1\",b_2=\"x\\ny\"}", "h");
	(void)gs_metrics_hist(m, "h{room=\"a\"}", "h", b, 1);
	(void)gs_metrics_hist(m, "h0", "h", NULL, 0);
	T_CHECK(text_is(m,
	    "# HELP a:b_c9 h\n# TYPE a:b_c9 counter\na:b_c9 0\n"
	    "# HELP _x h\n# TYPE _x counter\n_x{r=\"\"} 0\n"
	    "# HELP g h\n# TYPE g gauge\ng{a=\"1\",b_2=\"x\\ny\"} 0\n"
	    "# HELP h h\n# TYPE h histogram\n"
	    "h_bucket{room=\"a\",le=\"1\"} 0\n"
	    "h_bucket{room=\"a\",le=\"+Inf\"} 0\n"
	    "h_sum{room=\"a\"} 0\nh_count{room=\"a\"} 0\n"
	    "# HELP h0 h\n# TYPE h0 histogram\n"
	    "h0_bucket{le=\"+Inf\"} 0\nh0_sum 0\nh0_count 0\n"));
	gs_metrics_free(m);
}

/* The on-write hook brings a mirrored counter up to date, each write. */
struct mirror {
	struct gs_counter	*c;
	uint64_t		 source;
	int			 calls;
};

static void
mirror_sync(void *arg)
{
	struct mirror	*mi = arg;

	mi->c->v = mi->source;
	mi->calls++;
}

static void
test_on_write(void)
{
	struct gs_metrics	*m = gs_metrics_new();
	struct mirror		 mi = { 0 };

	mi.c = gs_metrics_counter(m, "gs_test_sent_total", "");
	gs_metrics_on_write(m, mirror_sync, &mi);
	mi.source = 7;
	T_CHECK(text_is(m, "# TYPE gs_test_sent_total counter\n"
	    "gs_test_sent_total 7\n"));
	mi.source = 9;
	T_CHECK(text_is(m, "# TYPE gs_test_sent_total counter\n"
	    "gs_test_sent_total 9\n"));
	T_EQ_INT(mi.calls, 2);
	gs_metrics_free(m);
}

/* A table declares in order and fills each handle in the base struct. */
struct tstats {
	struct gs_counter	*hits;
	struct gs_gauge		*load;
	struct gs_hist		*lat;
	struct gs_counter	*err[2];
	unsigned		 rooms;
};

static const double tb[] = { 0.1, 1 };

static const struct gs_metric_def tdefs[] = {
	GS_METRIC_ROW(GS_METRIC_UNSIGNED, struct tstats, rooms,
	    "gs_test_rooms", "Rooms"),
	GS_METRIC_ROW(GS_METRIC_COUNTER, struct tstats, hits,
	    "gs_test_hits_total", "Hits"),
	GS_METRIC_ROW(GS_METRIC_COUNTER, struct tstats, err[1],
	    "gs_test_errors_total{kind=\"b\"}", "Errors"),
	GS_METRIC_ROW(GS_METRIC_COUNTER, struct tstats, err[0],
	    "gs_test_errors_total{kind=\"a\"}", "Errors"),
	GS_METRIC_ROW(GS_METRIC_GAUGE, struct tstats, load, "gs_test_load",
	    ""),
	GS_METRIC_HIST_ROW(struct tstats, lat, "gs_test_seconds", "Latency",
	    tb),
};

static void
test_table(void)
{
	struct gs_metrics	*m = gs_metrics_new();
	struct tstats		 st = { 0 };

	gs_metrics_table(m, tdefs, GS_NELEM(tdefs), &st);
	T_ASSERT(st.hits != NULL && st.load != NULL && st.lat != NULL &&
	    st.err[0] != NULL && st.err[1] != NULL && st.err[0] != st.err[1]);
	st.rooms = 3;			/* read when written out */
	gs_counter_add(st.hits, 2);
	gs_counter_inc(st.err[0]);
	gs_gauge_set(st.load, 0.5);
	gs_hist_observe(st.lat, 0.5);
	T_CHECK(text_is(m,
	    "# HELP gs_test_rooms Rooms\n# TYPE gs_test_rooms gauge\n"
	    "gs_test_rooms 3\n"
	    "# HELP gs_test_hits_total Hits\n"
	    "# TYPE gs_test_hits_total counter\ngs_test_hits_total 2\n"
	    "# HELP gs_test_errors_total Errors\n"
	    "# TYPE gs_test_errors_total counter\n"
	    "gs_test_errors_total{kind=\"b\"} 0\n"
	    "gs_test_errors_total{kind=\"a\"} 1\n"
	    "# TYPE gs_test_load gauge\ngs_test_load 0.5\n"
	    "# HELP gs_test_seconds Latency\n"
	    "# TYPE gs_test_seconds histogram\n"
	    "gs_test_seconds_bucket{le=\"0.1\"} 0\n"
	    "gs_test_seconds_bucket{le=\"1\"} 1\n"
	    "gs_test_seconds_bucket{le=\"+Inf\"} 1\n"
	    "gs_test_seconds_sum 0.5\ngs_test_seconds_count 1\n"));
	gs_metrics_free(m);
}

T_MAIN(T(test_empty), T(test_counter), T(test_gauge), T(test_gauge_fn),
    T(test_labels), T(test_hist), T(test_write_error),
    T(test_bad_names_fatal), T(test_good_names), T(test_on_write),
    T(test_table))
