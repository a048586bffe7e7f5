/*
 * The replication core's figures (make bench; never pass/fail):
 *
 *   arena   a room of 10 players running with constant sticks (bouncing
 *           off the walls) among 24 pickups, 30 Hz, one snapshot a tick,
 *           each client acking the snapshot before last: bytes per client per second of
 *           protocol 2 (each snapshot message with its 2-byte WebSocket
 *           header) against the naive full state of protocol 1, the
 *           same states as [4, tick, ack, true, [[id, type, x, y,
 *           value], ...]].
 *   world   the openworld game plugin (dlopen, as gs-sim loads it) with
 *           1,000 / 10,000 / 50,000 creatures and 1,000 viewers moving
 *           through it, view radius 400, cell 256, budget 1200: the
 *           game's tick, the frame, and each viewer's assembly, per tick
 *           and per viewer (p50/p95/p99), and the share of one core at
 *           30 Hz.
 *
 * The host here is the core's replication code itself (ents.c, repl.c)
 * behind a minimal host table; gs-sim adds the NNG hand-off, which the
 * server-cost bench (tests/bench/run) measures.
 *
 * usage: bench_repl [openworld.so]
 */
#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../cmd/gs-sim/ents.h"
#include "../../cmd/gs-sim/repl.h"
#include "mp.h"
#include "proto.h"
#include "util.h"

#define HZ		30
#define WS_HDR		2	/* a small WebSocket frame's header */

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(uint64_t *v, size_t n, double p)
{
	size_t	i = (size_t)(p * (double)(n - 1) + 0.5);

	return n == 0 ? 0 : (double)v[i];
}

/* ------------------------------------------------------------ a host */

struct room {
	struct sim_ents	 ents;
	uint64_t	 rng;
	uint64_t	 tick;
	uint64_t	 next_id;
	int		 bad;
};

static struct room *
R(struct gs_room *r)
{
	return (struct room *)(void *)r;
}

static void
h_log(struct gs_room *r, int level, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void	h_event(struct gs_room *r, uint32_t c, uint64_t p, int64_t v) { }
static uint64_t	h_random(struct gs_room *r) { return gs_rand_next(&R(r)->rng); }
static uint64_t	h_tick(struct gs_room *r) { return R(r)->tick; }
static uint64_t	h_now(struct gs_room *r) { return gs_wall_us(); }

static gs_ent
h_spawn(struct gs_room *r, unsigned type, int slot)
{
	gs_ent	h = 0;

	if (sim_ents_spawn(&R(r)->ents, type, slot, 64,
	    slot == GS_GAME_NOBODY ? R(r)->next_id++ : (uint64_t)slot + 1,
	    &h) != SIM_ENT_OK)
		R(r)->bad = 1;
	return h;
}

static void
h_despawn(struct gs_room *r, gs_ent e)
{
	R(r)->bad |= sim_ents_despawn(&R(r)->ents, e) != SIM_ENT_OK;
}

static void
h_move(struct gs_room *r, gs_ent e, double x, double y)
{
	R(r)->bad |= sim_ents_move(&R(r)->ents, e, x, y) != SIM_ENT_OK;
}

static void
h_set(struct gs_room *r, gs_ent e, unsigned f, int64_t v)
{
	R(r)->bad |= sim_ents_set(&R(r)->ents, e, f, v) != SIM_ENT_OK;
}

static const struct gs_host host = {
	GS_GAME_ABI, sizeof(struct gs_host), h_log, h_event, h_random, h_tick,
	h_now, h_spawn, h_despawn, h_move, h_set,
};

/* ------------------------------------------------------------- arena */

static const struct gs_field arena_player_f[] = { { "score", 0,
	(int64_t)1 << 53 } };
static const struct gs_field arena_pickup_f[] = { { "points", 1, 5 } };
static const struct gs_type arena_types[] = {
	{ "player", arena_player_f, 1 },
	{ "pickup", arena_pickup_f, 1 },
};

static void
bench_arena(void)
{
	struct gs_game		 g;
	struct room		 rm;
	struct sim_repl		 r;
	static struct sim_view	 v[10];
	struct sim_repl_stats	 st;
	struct gs_snaphdr	 hdr;
	struct gs_wr		 wr;
	static uint8_t		 body[GS_SNAP_BODY_MAX];
	gs_ent			 pl[10], pk[24];
	double			 vx[10], vy[10], a;
	uint64_t		 v2 = 0, naive = 0, nsnap = 0, acked[10][2];
	size_t			 len;
	unsigned		 i, k, t, ticks = 30 * 60;

	memset(&g, 0, sizeof(g));
	g.world_w = g.world_h = 2000;
	g.pos_step = 0.25;	/* the arena game's */
	g.types = arena_types;
	g.ntypes = 2;
	memset(&rm, 0, sizeof(rm));
	rm.rng = 7;
	rm.next_id = (uint64_t)1 << 32;
	sim_ents_init(&rm.ents, &g);
	if (sim_repl_init(&r, &g, 2000, 0, 1200) != GS_OK)
		exit(1);
	gs_wr_init(&wr, 4096, GS_MSG_MAX);
	for (i = 0; i < 10; i++) {
		if (sim_ents_spawn(&rm.ents, 0, (int)i, 10, i + 1, &pl[i]) != 0)
			exit(1);
		(void)sim_ents_move(&rm.ents, pl[i], 500 + gs_rand01(&rm.rng) *
		    1000, 500 + gs_rand01(&rm.rng) * 1000);
		a = i * 2.39996;	/* gs-loadgen's golden-angle sticks */
		vx[i] = cos(a) * 150.0 / HZ;
		vy[i] = sin(a) * 150.0 / HZ;
		sim_view_init(&v[i]);
		acked[i][0] = acked[i][1] = 0;
	}
	for (i = 0; i < 24; i++) {
		if (sim_ents_spawn(&rm.ents, 1, GS_GAME_NOBODY, 10,
		    rm.next_id++, &pk[i]) != SIM_ENT_OK)
			exit(1);
		(void)sim_ents_move(&rm.ents, pk[i], gs_rand01(&rm.rng) * 2000,
		    gs_rand01(&rm.rng) * 2000);
	}
	for (t = 1; t <= ticks; t++) {
		for (i = 0; i < 10; i++) {
			struct sim_ent *e = sim_ents_get(&rm.ents, pl[i]);

			/* Bounced off the walls, so that every player runs
			 * the whole time, as in gs-loadgen's first seconds:
			 * the worst case for deltas. */
			if (e->x + vx[i] < 0 || e->x + vx[i] > 2000)
				vx[i] = -vx[i];
			if (e->y + vy[i] < 0 || e->y + vy[i] > 2000)
				vy[i] = -vy[i];
			(void)sim_ents_move(&rm.ents, pl[i], e->x + vx[i],
			    e->y + vy[i]);
		}
		if (t % 15 == 0)	/* a pickup taken twice a second */
			(void)sim_ents_move(&rm.ents, pk[t % 24],
			    gs_rand01(&rm.rng) * 2000,
			    gs_rand01(&rm.rng) * 2000);
		if (sim_repl_frame(&r, t, &rm.ents) != GS_OK)
			exit(1);
		/* naive: the whole room, protocol 1 */
		gs_wr_reset(&wr);
		gs_wr_array(&wr, 5);
		gs_wr_uint(&wr, GS_MSG_SNAPSHOT);
		gs_wr_uint(&wr, t + 1000000);
		gs_wr_uint(&wr, t);
		gs_wr_bool(&wr, true);
		gs_wr_array(&wr, rm.ents.n);
		for (k = 0; k < rm.ents.n; k++) {
			struct sim_ent *e = sim_ents_at(&rm.ents, k);

			gs_wr_array(&wr, 5);
			gs_wr_uint(&wr, e->id);
			gs_wr_uint(&wr, (uint64_t)e->type + 1);
			gs_wr_int(&wr, lround(e->x));
			gs_wr_int(&wr, lround(e->y));
			gs_wr_int(&wr, e->f[0]);
		}
		naive += (wr.len + WS_HDR) * 10;
		for (i = 0; i < 10; i++) {
			/* The ack of the snapshot before last arrives. */
			(void)sim_view_ack(&v[i], acked[i][0]);
			acked[i][0] = acked[i][1];
			len = sim_repl_build(&r, &v[i], body, sizeof(body), &st);
			hdr.tick = t + 1000000;	/* a room some hours old */
			hdr.base = st.base != 0 ? st.base + 1000000 : 0;
			hdr.ack = t;
			gs_wr_reset(&wr);
			gs_snapshot_put(&wr, &hdr, body, len);
			v2 += wr.len + WS_HDR;
			acked[i][1] = t;
			nsnap++;
		}
	}
	printf("arena: rooms of 10, 24 pickups, %d Hz, %u s: protocol 2 "
	    "%.0f bytes/client/s, naive full state (protocol 1) %.0f: "
	    "%.1f %% less; %.1f bytes a snapshot\n", HZ, ticks / HZ,
	    (double)v2 / 10 / (ticks / HZ), (double)naive / 10 / (ticks / HZ),
	    100.0 * (1 - (double)v2 / (double)naive), (double)v2 / nsnap);
	for (i = 0; i < 10; i++)
		sim_view_free(&v[i]);
	gs_wr_free(&wr);
	sim_repl_free(&r);
	sim_ents_free(&rm.ents);
}

/* -------------------------------------------------------- open world */

#define VIEWERS		1000
#define WARM		30
#define TICKS		90

static void
bench_world(const struct gs_game *g, unsigned ncreatures)
{
	struct room		 rm;
	struct sim_repl		 r;
	static struct sim_view	 v[VIEWERS];
	static uint64_t		 vacked[VIEWERS];
	struct sim_repl_stats	 st;
	struct gs_room_conf	 conf;
	static uint8_t		 body[GS_SNAP_BODY_MAX];
	static uint64_t		 per[VIEWERS * TICKS];
	double			 vx[VIEWERS], vy[VIEWERS], px[VIEWERS],
				 py[VIEWERS], a;
	uint64_t		 t0, t1, t_game = 0, t_frame = 0, t_build = 0;
	uint64_t		 bytes = 0, recs = 0, cut = 0;
	size_t			 n = 0, len;
	char			 name[32];
	void			*world;
	unsigned		 i, t;

	memset(&rm, 0, sizeof(rm));
	rm.rng = 11;
	rm.next_id = (uint64_t)1 << 32;
	sim_ents_init(&rm.ents, g);
	if (sim_repl_init(&r, g, 256, 400, 1200) != GS_OK)
		exit(1);
	snprintf(name, sizeof(name), "ow-%u", ncreatures);
	conf.room = name;
	conf.max_players = 64;
	conf.tick_rate = HZ;
	if ((world = g->create((struct gs_room *)(void *)&rm, &host,
	    &conf)) == NULL || rm.bad) {
		fprintf(stderr, "bench_repl: openworld create failed\n");
		exit(1);
	}
	for (i = 0; i < VIEWERS; i++) {
		sim_view_init(&v[i]);
		px[i] = gs_rand01(&rm.rng) * g->world_w;
		py[i] = gs_rand01(&rm.rng) * g->world_h;
		a = gs_rand01(&rm.rng) * 6.2831853;
		vx[i] = cos(a) * 60.0 / HZ;
		vy[i] = sin(a) * 60.0 / HZ;
		vacked[i] = 0;
	}
	for (t = 1; t <= WARM + TICKS; t++) {
		rm.tick = t;
		t0 = now_ns();
		g->tick(world);
		t1 = now_ns();
		if (t > WARM)
			t_game += t1 - t0;
		if (sim_repl_frame(&r, t, &rm.ents) != GS_OK)
			exit(1);
		t0 = now_ns();
		if (t > WARM)
			t_frame += t0 - t1;
		for (i = 0; i < VIEWERS; i++) {
			px[i] = fmin(g->world_w, fmax(0, px[i] + vx[i]));
			py[i] = fmin(g->world_h, fmax(0, py[i] + vy[i]));
			sim_view_center(&v[i], &r, px[i], py[i]);
			(void)sim_view_ack(&v[i], vacked[i]);
			t1 = now_ns();
			len = sim_repl_build(&r, &v[i], body, sizeof(body),
			    &st);
			vacked[i] = t;
			if (t > WARM) {
				per[n++] = now_ns() - t1;
				bytes += len;
				recs += st.full + st.delta + st.removed;
				cut += st.cut;
			}
		}
		if (t > WARM)
			t_build += now_ns() - t0;
	}
	if (rm.bad)
		fprintf(stderr, "bench_repl: the game broke its interface\n");
	qsort(per, n, sizeof(per[0]), cmp_u64);
	printf("world: %6u creatures, %u viewers: per tick game %.2f ms, "
	    "frame %.2f ms, viewers %.2f ms (%.2f us each: p50 %.1f p95 %.1f "
	    "p99 %.1f); %.0f %% of a core at %d Hz; %.0f bytes, %.0f records "
	    "a viewer a tick, %.0f deferred\n", rm.ents.n, VIEWERS,
	    t_game / 1e6 / TICKS, t_frame / 1e6 / TICKS,
	    t_build / 1e6 / TICKS, (double)t_build / 1e3 / n,
	    pct(per, n, .50) / 1e3, pct(per, n, .95) / 1e3,
	    pct(per, n, .99) / 1e3,
	    (double)(t_game + t_frame + t_build) / TICKS * HZ / 1e9 * 100, HZ,
	    (double)bytes / n, (double)recs / n, (double)cut / n);
	g->destroy(world);
	for (i = 0; i < VIEWERS; i++)
		sim_view_free(&v[i]);
	sim_repl_free(&r);
	sim_ents_free(&rm.ents);
}

int
main(int argc, char **argv)
{
	const struct gs_game	*g;
	static const unsigned	 sizes[] = { 1000, 10000, 50000 };
	void			*dl;
	size_t			 i;

	bench_arena();
	if (argc < 2) {
		printf("world: skipped (no openworld.so given)\n");
		return 0;
	}
	if ((dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (g = dlsym(dl, "gs_game")) == NULL) {
		fprintf(stderr, "bench_repl: %s\n", dlerror());
		return 1;
	}
	for (i = 0; i < GS_NELEM(sizes); i++)
		bench_world(g, sizes[i]);
	dlclose(dl);
	return 0;
}
