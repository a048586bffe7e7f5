/*
 * The end-of-run report: figures computed from the clients' counters
 * and the stored RTT samples, written as text or as one JSON object.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"
#include "mp.h"
#include "util.h"

#define LG_MOVE_COS	0.8660254037844387	/* cos(30 degrees) */
#define LG_FAIL_LINES	10	/* failed clients listed without -v */
#define LG_JSON_MAX	(64u * 1024 * 1024)

struct lg_sum {
	int		 started, connected, welcomed, snapped, moved, failed;
	double		 snaps_s, bin_s, bout_s;	/* means per client */
	double		 pongs;
	bool		 have_rtt;
	double		 p50, p95, p99, max;		/* ms */
	double		 secs;				/* run length */
};

bool
lg_dir_ok(double dx, double dy, double sx, double sy)
{
	double	d = hypot(dx, dy), s = hypot(sx, sy);

	if (d == 0 || s == 0)
		return false;
	return (dx * sx + dy * sy) / (d * s) >= LG_MOVE_COS;
}

bool
lg_client_moved(const struct lg_client *c)
{
	if (!c->have_pos || c->possnaps < 2)
		return false;
	return lg_dir_ok((double)c->x1 - c->x0, (double)c->y1 - c->y0,
	    c->mx, c->my);
}

static int
lg_cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[n], in ms. */
static double
lg_pct(const uint32_t *v, size_t n, double p)
{
	size_t	k = (size_t)ceil(p * (double)n);

	if (k == 0)
		k = 1;
	return v[k - 1] / 1000.;
}

/* Seconds the client spent welcomed during the run. */
static double
lg_client_secs(const struct lg *lg, const struct lg_client *c)
{
	uint64_t	end = lg->t_end;

	if (c->t_gone != 0 && c->t_gone < end)
		end = c->t_gone;
	if (!c->welcomed || end <= c->t_welcome)
		return 0;
	return (double)(end - c->t_welcome) / 1e6;
}

static void
lg_sum(struct lg *lg, struct lg_sum *s)
{
	const struct lg_client	*c;
	double			 secs;
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
		s->failed += c->snapshots == 0 ||
		    (lg->conf.motion && !lg_client_moved(c));
		if ((secs = lg_client_secs(lg, c)) > 0) {
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
	if (lg->nrtt > 0) {
		qsort(lg->rtt, lg->nrtt, sizeof(lg->rtt[0]), lg_cmp_u32);
		s->have_rtt = true;
		s->p50 = lg_pct(lg->rtt, lg->nrtt, 0.50);
		s->p95 = lg_pct(lg->rtt, lg->nrtt, 0.95);
		s->p99 = lg_pct(lg->rtt, lg->nrtt, 0.99);
		s->max = lg->rtt[lg->nrtt - 1] / 1000.;
	}
}

static const char *
lg_client_why(const struct lg *lg, const struct lg_client *c)
{
	if (c->fail[0] != '\0')
		return c->fail;
	if (c->state == LG_IDLE)
		return "never started (ramp too slow for the duration)";
	if (c->snapshots == 0)
		return "no snapshot";
	if (!lg_client_moved(c))
		return "did not move as asked";
	return "";
}

static void
lg_client_line(const struct lg *lg, const struct lg_client *c, FILE *f)
{
	const char	*why = lg_client_why(lg, c);

	if (!c->welcomed) {
		fprintf(f, "  %-8s room=%s: %s\n", c->name, c->room, why);
		return;
	}
	fprintf(f, "  %-8s room=%s player=%llu snapshots=%llu "
	    "stick=(%d,%d) moved=(%ld,%ld) %s%s%s\n", c->name, c->room,
	    (unsigned long long)c->welcome.player,
	    (unsigned long long)c->snapshots, c->mx, c->my,
	    (long)c->x1 - c->x0, (long)c->y1 - c->y0,
	    lg_client_moved(c) ? "as asked" : "NOT as asked",
	    c->fail[0] != '\0' ? ": " : "", c->fail);
}

void
lg_report_text(struct lg *lg, FILE *f)
{
	const struct lg_client	*c;
	struct lg_sum		 s;
	int			 i, shown = 0, n = lg->conf.nclients, any = 0;

	lg_sum(lg, &s);
	fprintf(f, "url:            %s\n", lg->conf.url);
	fprintf(f, "duration:       %.1f s\n", s.secs);
	fprintf(f, "clients:        %d\n", n);
	fprintf(f, "connected:      %d\n", s.connected);
	fprintf(f, "welcomed:       %d\n", s.welcomed);
	fprintf(f, "got snapshots:  %d\n", s.snapped);
	if (s.have_rtt)
		fprintf(f, "rtt ms:         p50 %.3f  p95 %.3f  p99 %.3f  "
		    "max %.3f  (%zu samples)\n", s.p50, s.p95, s.p99, s.max,
		    lg->nrtt);
	else
		fprintf(f, "rtt ms:         no samples\n");
	fprintf(f, "snapshots/s:    %.1f per client\n", s.snaps_s);
	fprintf(f, "bytes/s in:     %.0f per client\n", s.bin_s);
	fprintf(f, "bytes/s out:    %.0f per client\n", s.bout_s);
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
	fprintf(f, "moved as asked: %d/%d\n", s.moved, n);

	for (i = 0; i < n; i++) {
		c = &lg->clients[i];
		if (lg->conf.verbose == 0 && c->snapshots > 0 &&
		    c->fail[0] == '\0' &&
		    (!lg->conf.motion || lg_client_moved(c)))
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
}

static void
lg_wr_kv_uint(struct gs_wr *wr, const char *k, uint64_t v)
{
	gs_wr_str(wr, k);
	gs_wr_uint(wr, v);
}

static void
lg_wr_kv_f(struct gs_wr *wr, const char *k, double v, double scale)
{
	gs_wr_str(wr, k);
	gs_wr_f64(wr, round(v * scale) / scale);
}

int
lg_report_json(struct lg *lg, FILE *f)
{
	const struct lg_client	*c;
	struct lg_sum		 s;
	struct gs_wr		 wr;
	struct gs_rd		 rd;
	uint32_t		 nerr = 0;
	int			 i, n = lg->conf.nclients, err;

	lg_sum(lg, &s);
	for (i = 0; i < LG_PERR_MAX; i++)
		nerr += lg->perrs[i] != 0;

	gs_wr_init(&wr, 4096, LG_JSON_MAX);
	gs_wr_map(&wr, 18);
	gs_wr_str(&wr, "url");
	gs_wr_str(&wr, lg->conf.url);
	lg_wr_kv_f(&wr, "duration_s", s.secs, 1000);
	lg_wr_kv_uint(&wr, "clients", (uint64_t)n);
	lg_wr_kv_uint(&wr, "connected", (uint64_t)s.connected);
	lg_wr_kv_uint(&wr, "welcomed", (uint64_t)s.welcomed);
	lg_wr_kv_uint(&wr, "got_snapshots", (uint64_t)s.snapped);
	lg_wr_kv_uint(&wr, "moved_as_asked", (uint64_t)s.moved);
	gs_wr_str(&wr, "rtt_ms");
	gs_wr_map(&wr, 6);
	lg_wr_kv_uint(&wr, "samples", lg->nrtt);
	lg_wr_kv_uint(&wr, "dropped", lg->rtt_dropped);
	if (s.have_rtt) {
		lg_wr_kv_f(&wr, "p50", s.p50, 1000);
		lg_wr_kv_f(&wr, "p95", s.p95, 1000);
		lg_wr_kv_f(&wr, "p99", s.p99, 1000);
		lg_wr_kv_f(&wr, "max", s.max, 1000);
	} else {
		gs_wr_str(&wr, "p50"); gs_wr_nil(&wr);
		gs_wr_str(&wr, "p95"); gs_wr_nil(&wr);
		gs_wr_str(&wr, "p99"); gs_wr_nil(&wr);
		gs_wr_str(&wr, "max"); gs_wr_nil(&wr);
	}
	lg_wr_kv_f(&wr, "snapshots_per_s", s.snaps_s, 100);
	lg_wr_kv_f(&wr, "bytes_in_per_s", s.bin_s, 1);
	lg_wr_kv_f(&wr, "bytes_out_per_s", s.bout_s, 1);
	gs_wr_str(&wr, "errors");
	gs_wr_map(&wr, nerr);
	for (i = 0; i < LG_PERR_MAX; i++)
		if (lg->perrs[i] != 0)
			lg_wr_kv_uint(&wr, i == 0 ? "other" : gs_perr_name(i),
			    lg->perrs[i]);
	lg_wr_kv_uint(&wr, "connect_failures", lg->connfail);
	lg_wr_kv_uint(&wr, "welcome_timeouts", lg->timeouts);
	lg_wr_kv_uint(&wr, "bad_messages", lg->badmsgs);
	gs_wr_str(&wr, "motion_checked");
	gs_wr_bool(&wr, lg->conf.motion != 0);
	gs_wr_str(&wr, "ok");
	gs_wr_bool(&wr, lg_verdict(lg) == GS_EXIT_OK);
	gs_wr_str(&wr, "per_client");
	gs_wr_array(&wr, (uint32_t)n);
	for (i = 0; i < n; i++) {
		c = &lg->clients[i];
		gs_wr_map(&wr, 13);
		gs_wr_str(&wr, "name");
		gs_wr_str(&wr, c->name);
		gs_wr_str(&wr, "room");
		gs_wr_str(&wr, c->room);
		lg_wr_kv_uint(&wr, "player", c->welcome.player);
		gs_wr_str(&wr, "welcomed");
		gs_wr_bool(&wr, c->welcomed);
		lg_wr_kv_uint(&wr, "snapshots", c->snapshots);
		lg_wr_kv_uint(&wr, "pongs", c->pongs);
		lg_wr_kv_uint(&wr, "bytes_in", c->bytes_in);
		gs_wr_str(&wr, "stick");
		gs_wr_array(&wr, 2);
		gs_wr_int(&wr, c->mx);
		gs_wr_int(&wr, c->my);
		gs_wr_str(&wr, "from");
		if (c->have_pos) {
			gs_wr_array(&wr, 2);
			gs_wr_int(&wr, c->x0);
			gs_wr_int(&wr, c->y0);
		} else
			gs_wr_nil(&wr);
		gs_wr_str(&wr, "to");
		if (c->have_pos) {
			gs_wr_array(&wr, 2);
			gs_wr_int(&wr, c->x1);
			gs_wr_int(&wr, c->y1);
		} else
			gs_wr_nil(&wr);
		gs_wr_str(&wr, "moved_as_asked");
		gs_wr_bool(&wr, lg_client_moved(c));
		lg_wr_kv_uint(&wr, "last_ack", c->last_ack);
		gs_wr_str(&wr, "fail");
		if (c->fail[0] != '\0' || c->snapshots == 0)
			gs_wr_str(&wr, lg_client_why(lg, c));
		else
			gs_wr_nil(&wr);
	}
	if (wr.err != GS_OK) {
		err = wr.err;
		gs_wr_free(&wr);
		return err;
	}
	gs_rd_init(&rd, wr.buf, wr.len);
	err = gs_mp_to_json(&rd, f, 2);
	fputc('\n', f);
	gs_wr_free(&wr);
	return err;
}

int
lg_verdict(const struct lg *lg)
{
	const struct lg_client	*c;
	int			 i;

	for (i = 0; i < lg->conf.nclients; i++) {
		c = &lg->clients[i];
		if (c->snapshots == 0)
			return GS_EXIT_RUNTIME;
		if (lg->conf.motion && !lg_client_moved(c))
			return GS_EXIT_RUNTIME;
	}
	return GS_EXIT_OK;
}
