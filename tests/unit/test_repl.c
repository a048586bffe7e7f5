/*
 * gs-sim's replication (repl.c) against the protocol-2 decoder
 * (lib/snap.c), as a property over random worlds: entities spawn, move,
 * change and despawn; viewers move; snapshots and acks are lost, late
 * and reordered.  After every snapshot a client receives, its decoded
 * state must be exactly what the server believes it holds (the
 * viewer's history: each entity at the frame it was last sent), and
 * without a byte budget exactly the entities within the view radius,
 * found by brute force, at their current state.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../cmd/gs-sim/ents.h"
#include "../../cmd/gs-sim/repl.h"
#include "err.h"
#include "snap.h"
#include "t.h"
#include "util.h"

#define W		1000.0
#define NVIEW		5
#define KEEP		SIM_REPL_FRAMES	/* snapshots a client keeps */

static const struct gs_field a_fields[] = {
	{ "hp", 0, 100 }, { "angle", 0, 255 }, { "team", -3, 3 },
};
static const struct gs_type types[] = {
	{ "a", a_fields, 3 },
	{ "b", NULL, 0 },
};

static struct gs_game
game(void)
{
	struct gs_game	g;

	memset(&g, 0, sizeof(g));
	g.abi = GS_GAME_ABI;
	g.size = sizeof(g);
	g.name = "t";
	g.version = "1";
	g.world_w = W;
	g.world_h = W;
	g.pos_step = 1.0 / 64;
	g.types = types;
	g.ntypes = 2;
	return g;
}

static uint64_t	rng = 42;

static double
uni(double lo, double hi)
{
	return lo + (hi - lo) * gs_rand01(&rng);
}

static unsigned
pick(unsigned n)
{
	return (unsigned)(gs_rand_next(&rng) % n);
}

/* A client: the snapshots it keeps, by tick. */
struct client {
	struct gs_snap	 s[KEEP];
	/* acks in flight: tick and the step at which it arrives */
	uint64_t	 ack[64], at[64];
	unsigned	 nack;
};

static struct gs_snap *
client_find(struct client *cl, uint64_t tick)
{
	unsigned	i;

	for (i = 0; i < KEEP; i++)
		if (cl->s[i].tick == tick && tick != 0)
			return &cl->s[i];
	return NULL;
}

/* The oldest kept snapshot, to be replaced. */
static struct gs_snap *
client_slot(struct client *cl)
{
	unsigned	i, o = 0;

	for (i = 1; i < KEEP; i++)
		if (cl->s[i].tick < cl->s[o].tick)
			o = i;
	return &cl->s[o];
}

/* The state the server believes v holds equals what the client has. */
static int
agrees(const struct sim_repl *r, const struct sim_view *v,
    const struct gs_snap *got, const struct sim_ents *es, double radius,
    int exact)
{
	const struct sim_view_hist	*h = NULL;
	const struct gs_snap_ent	*want, *e;
	unsigned			 i, k;
	uint32_t			 j, nvis = 0;

	for (i = 0; i < SIM_REPL_FRAMES; i++)
		if (v->hist[i].tick == got->tick)
			h = &v->hist[i];
	if (h == NULL || h->n != got->n)
		return 0;
	for (j = 0; j < h->n; j++) {
		if (got->e[j].id != h->e[j].id)
			return 0;
		if (h->e[j].held == 0)
			continue;		/* stale: no frame to compare */
		for (k = 0, want = NULL; k < SIM_REPL_FRAMES; k++)
			if (r->frame[k].tick == h->e[j].held)
				want = &r->frame[k].e[h->e[j].slot];
		if (want == NULL || memcmp(want, &got->e[j], sizeof(*want)) != 0)
			return 0;
	}
	if (!exact)
		return 1;
	/* Without a budget: every visible entity, now. */
	for (j = 0; j < es->n; j++) {
		const struct sim_ent *s = sim_ents_at(es, j);
		int64_t qx = gs_snap_quantize(s->x, r->schema.cell);
		int64_t qy = gs_snap_quantize(s->y, r->schema.cell);
		int64_t rq = gs_snap_quantize(radius, r->schema.cell);
		double dx = (double)(qx - v->qx), dy = (double)(qy - v->qy);

		if (radius > 0 && dx * dx + dy * dy > (double)rq * rq)
			continue;
		nvis++;
		if ((e = gs_snap_find(got, s->id)) == NULL || e->qx != qx ||
		    e->qy != qy || e->type != (uint32_t)s->type + 1 ||
		    memcmp(e->f, s->f, sizeof(e->f)) != 0)
			return 0;
	}
	return nvis == got->n;
}

/*
 * steps snapshots of a world of about n entities with NVIEW viewers;
 * loss: the chance that a snapshot or an ack is lost.
 */
static void
run(double cell, double radius, size_t budget, unsigned n, unsigned steps,
    double loss)
{
	struct gs_game		 g = game();
	struct sim_ents		 es;
	struct sim_repl		 r;
	static struct sim_view	 v[NVIEW];
	static struct client	 cl[NVIEW];
	static gs_ent		 h[4096];
	static uint8_t		 body[1 << 16];
	struct sim_repl_stats	 st;
	struct gs_snap		*base, *out, tmp, scratch;
	uint64_t		 tick, next_id = 1;
	unsigned		 nh = 0, i, k, step, decoded = 0, deltas = 0;
	unsigned		 bodies_shared = 0;
	size_t			 len;
	int			 rc;

	sim_ents_init(&es, &g);
	T_ASSERT(sim_repl_init(&r, &g, cell, radius, budget) == GS_OK);
	memset(cl, 0, sizeof(cl));
	for (i = 0; i < NVIEW; i++) {
		sim_view_init(&v[i]);
		for (k = 0; k < KEEP; k++)
			gs_snap_init(&cl[i].s[k]);
	}
	gs_snap_init(&tmp);
	gs_snap_init(&scratch);
	for (step = 1; step <= steps; step++) {
		tick = step * 2;	/* snapshots every other tick */
		/* The world changes. */
		for (i = 0; i < n / 10 + 1 && nh < 4096; i++) {
			if (nh < n && sim_ents_spawn(&es, pick(2),
			    GS_GAME_NOBODY, 1, next_id, &h[nh]) == 0) {
				next_id += 1 + pick(300);	/* gaps of all sizes */
				(void)sim_ents_move(&es, h[nh], uni(0, W),
				    uni(0, W));
				nh++;
			}
		}
		for (i = 0; i < nh; i++) {
			struct sim_ent *e = sim_ents_get(&es, h[i]);

			if (pick(4) == 0)
				(void)sim_ents_move(&es, h[i],
				    fmin(W, fmax(0, e->x + uni(-30, 30))),
				    fmin(W, fmax(0, e->y + uni(-30, 30))));
			if (e->type == 0 && pick(8) == 0)
				(void)sim_ents_set(&es, h[i], pick(3),
				    (int64_t)pick(4) - 3);
			if (e->type == 0 && pick(8) == 0)
				(void)sim_ents_set(&es, h[i], 0, pick(101));
		}
		for (i = 0; i < nh && nh > n / 2; i++)
			if (pick(40) == 0) {
				T_ASSERT(sim_ents_despawn(&es, h[i]) == 0);
				h[i] = h[--nh];
			}
		T_ASSERT(sim_repl_frame(&r, tick, &es) == GS_OK);
		for (k = 0; k < NVIEW; k++) {
			/* Acks arrive, some late and out of order. */
			for (i = 0; i < cl[k].nack; )
				if (cl[k].at[i] <= step) {
					(void)sim_view_ack(&v[k], cl[k].ack[i]);
					cl[k].ack[i] = cl[k].ack[--cl[k].nack];
					cl[k].at[i] = cl[k].at[cl[k].nack];
				} else
					i++;
			if (pick(10) == 0)
				sim_view_center(&v[k], &r, uni(0, W), uni(0, W));
			len = sim_repl_build(&r, &v[k], body, sizeof(body), &st);
			T_ASSERT(len > 0);
			bodies_shared += st.body_shared;
			if (budget > 0)
				T_ASSERT(len <= budget || st.full + st.delta == 0);
			if (uni(0, 1) < loss)
				continue;		/* the snapshot is lost */
			base = NULL;
			if (st.base != 0) {
				base = client_find(&cl[k], st.base);
				T_ASSERT(base != NULL);
				deltas++;
			}
			rc = gs_snap_apply(&r.schema, base, body, len, &tmp,
			    &scratch);
			T_ASSERT(rc == GS_OK);
			tmp.tick = tick;
			T_ASSERT(agrees(&r, &v[k], &tmp, &es, radius,
			    budget == 0));
			out = client_slot(&cl[k]);
			T_ASSERT(gs_snap_copy(out, &tmp) == GS_OK);
			decoded++;
			if (uni(0, 1) >= loss && cl[k].nack < 64) {
				cl[k].ack[cl[k].nack] = tick;
				cl[k].at[cl[k].nack++] = step + pick(4);
			}
		}
	}
	T_CHECK(decoded > steps);
	T_CHECK(deltas > decoded / 2);
	/* Viewers of the whole world on the same baseline share bodies;
	 * a view radius never does. */
	T_CHECK(radius > 0 ? bodies_shared == 0 :
	    budget > 0 || bodies_shared > 0);
	for (i = 0; i < NVIEW; i++) {
		sim_view_free(&v[i]);
		for (k = 0; k < KEEP; k++)
			gs_snap_free(&cl[i].s[k]);
	}
	gs_snap_free(&tmp);
	gs_snap_free(&scratch);
	sim_repl_free(&r);
	sim_ents_free(&es);
}

static void test_whole_world(void)	{ run(100, 0, 0, 150, 300, 0.2); }
static void test_aoi(void)		{ run(100, 220, 0, 400, 300, 0.2); }
static void test_aoi_big_cells(void)	{ run(700, 300, 0, 300, 200, 0.3); }
static void test_budget(void)		{ run(100, 0, 300, 200, 300, 0.2); }
static void test_budget_aoi(void)	{ run(50, 250, 120, 400, 300, 0.1); }
static void test_no_loss(void)		{ run(100, 250, 0, 300, 200, 0); }

/*
 * Viewers of the whole world that ack in step hold the same thing, so
 * all but the first of each frame get the first one's body; and what
 * each decodes is still exactly the world.
 */
static void
test_lockstep_shared(void)
{
	struct gs_game		 g = game();
	struct sim_ents		 es;
	struct sim_repl		 r;
	static struct sim_view	 v[NVIEW];
	static struct gs_snap	 have[NVIEW], next;
	struct gs_snap		 scratch;
	struct sim_repl_stats	 st;
	static uint8_t		 body[1 << 16];
	gs_ent			 h[50];
	unsigned		 i, k, t, shared = 0;
	size_t			 len;

	sim_ents_init(&es, &g);
	T_ASSERT(sim_repl_init(&r, &g, 100, 0, 0) == GS_OK);
	for (i = 0; i < 50; i++) {
		T_ASSERT(sim_ents_spawn(&es, 0, GS_GAME_NOBODY, 1, i + 1,
		    &h[i]) == 0);
		(void)sim_ents_move(&es, h[i], uni(0, W), uni(0, W));
	}
	gs_snap_init(&next);
	gs_snap_init(&scratch);
	for (k = 0; k < NVIEW; k++) {
		sim_view_init(&v[k]);
		gs_snap_init(&have[k]);
	}
	for (t = 1; t <= 60; t++) {
		for (i = 0; i < 50; i += 3)
			(void)sim_ents_set(&es, h[i], 0, pick(101));
		T_ASSERT(sim_repl_frame(&r, t, &es) == GS_OK);
		for (k = 0; k < NVIEW; k++) {
			len = sim_repl_build(&r, &v[k], body, sizeof(body), &st);
			T_ASSERT(len > 0);
			shared += st.body_shared;
			T_ASSERT(gs_snap_apply(&r.schema, st.base != 0 ?
			    &have[k] : NULL, body, len, &next, &scratch) ==
			    GS_OK);
			next.tick = t;
			T_ASSERT(agrees(&r, &v[k], &next, &es, 0, 1));
			T_ASSERT(gs_snap_copy(&have[k], &next) == GS_OK);
			(void)sim_view_ack(&v[k], t);
		}
	}
	T_EQ_INT(shared, 60 * (NVIEW - 1));
	for (k = 0; k < NVIEW; k++) {
		sim_view_free(&v[k]);
		gs_snap_free(&have[k]);
	}
	gs_snap_free(&next);
	gs_snap_free(&scratch);
	sim_repl_free(&r);
	sim_ents_free(&es);
}

/* An ack of 0 (a client that lost its baselines) makes the next
 * snapshot whole; an ack of a snapshot never sent is ignored. */
static void
test_ack_reset(void)
{
	struct gs_game		 g = game();
	struct sim_ents		 es;
	struct sim_repl		 r;
	struct sim_view		 v;
	struct sim_repl_stats	 st;
	uint8_t			 body[4096];
	gs_ent			 h;

	sim_ents_init(&es, &g);
	T_ASSERT(sim_repl_init(&r, &g, 100, 0, 0) == GS_OK);
	T_ASSERT(sim_ents_spawn(&es, 1, GS_GAME_NOBODY, 1, 9, &h) == 0);
	sim_view_init(&v);
	T_ASSERT(sim_repl_frame(&r, 1, &es) == GS_OK);
	T_ASSERT(sim_repl_build(&r, &v, body, sizeof(body), &st) > 0);
	T_CHECK(sim_view_ack(&v, 1));
	T_CHECK(!sim_view_ack(&v, 77));
	T_ASSERT(sim_repl_frame(&r, 2, &es) == GS_OK);
	T_ASSERT(sim_repl_build(&r, &v, body, sizeof(body), &st) > 0);
	T_EQ_INT(st.base, 1);
	T_CHECK(sim_view_ack(&v, 0));
	T_ASSERT(sim_repl_frame(&r, 3, &es) == GS_OK);
	T_ASSERT(sim_repl_build(&r, &v, body, sizeof(body), &st) > 0);
	T_EQ_INT(st.base, 0);
	T_EQ_INT(st.full, 1);
	sim_view_free(&v);
	sim_repl_free(&r);
	sim_ents_free(&es);
}

/* Entities exactly on the view circle and on cell borders. */
static void
test_borders(void)
{
	struct gs_game		 g = game();
	struct sim_ents		 es;
	struct sim_repl		 r;
	struct sim_view		 v;
	struct sim_repl_stats	 st;
	struct gs_snap		 s, scratch;
	uint8_t			 body[4096];
	static const double	 at[][2] = {
		{ 300, 200 },		/* on the circle, on a cell border */
		{ 300.01, 200 },	/* just outside */
		{ 200, 100 }, { 200, 99.99 }, { 100, 200 }, { 99.99, 200 },
		{ 199.99, 199.99 }, { 200, 200 },	/* the centre cell's corner */
		{ 270.70, 270.70 }, { 270.72, 270.72 },	/* the diagonal */
		{ 0, 0 }, { W, W },
	};
	gs_ent			 h;
	uint64_t		 id;
	size_t			 len, i;

	sim_ents_init(&es, &g);
	T_ASSERT(sim_repl_init(&r, &g, 100, 100, 0) == GS_OK);
	for (i = 0, id = 1; i < GS_NELEM(at); i++, id++) {
		T_ASSERT(sim_ents_spawn(&es, 1, GS_GAME_NOBODY, 1, id, &h) == 0);
		T_ASSERT(sim_ents_move(&es, h, at[i][0], at[i][1]) == 0);
	}
	sim_view_init(&v);
	sim_view_center(&v, &r, 200, 200);
	T_ASSERT(sim_repl_frame(&r, 1, &es) == GS_OK);
	len = sim_repl_build(&r, &v, body, sizeof(body), &st);
	gs_snap_init(&s);
	gs_snap_init(&scratch);
	T_ASSERT(gs_snap_apply(&r.schema, NULL, body, len, &s, &scratch) ==
	    GS_OK);
	s.tick = 1;
	T_CHECK(agrees(&r, &v, &s, &es, 100, 1));
	T_CHECK(gs_snap_find(&s, 1) != NULL);	/* on the circle */
	T_CHECK(gs_snap_find(&s, 2) == NULL);
	T_CHECK(gs_snap_find(&s, 3) != NULL && gs_snap_find(&s, 4) == NULL);
	T_CHECK(gs_snap_find(&s, 5) != NULL && gs_snap_find(&s, 6) == NULL);
	T_CHECK(gs_snap_find(&s, 7) != NULL && gs_snap_find(&s, 8) != NULL);
	T_CHECK(gs_snap_find(&s, 9) != NULL && gs_snap_find(&s, 10) == NULL);
	T_CHECK(gs_snap_find(&s, 11) == NULL && gs_snap_find(&s, 12) == NULL);
	gs_snap_free(&s);
	gs_snap_free(&scratch);
	sim_view_free(&v);
	sim_repl_free(&r);
	sim_ents_free(&es);
}

/* The byte layout of gs-protocol(7)'s worked example. */
static void
test_wire_example(void)
{
	struct gs_snap_schema	 sc;
	struct gs_snap_ent	 a, b;
	uint8_t			 buf[GS_SNAP_RECORD_MAX];
	static const uint8_t	 full[] = { 0x07, 0x01, 0x00, 0x00,
		0x00, 0x80, 0x00, 0x40, 0x03 };
	static const uint8_t	 delta[] = { 0x05, 0x80, 0x28, 0x03, 0x04 };

	memset(&sc, 0, sizeof(sc));
	sc.cell = 4096;
	sc.ntypes = 1;
	sc.nfields[0] = 1;
	sc.min[0][0] = 0;
	sc.max[0][0] = 100;
	memset(&a, 0, sizeof(a));
	a.id = 7;
	a.type = 1;
	a.qx = gs_snap_quantize(2048, sc.cell);		/* 32768 */
	a.qy = gs_snap_quantize(1024, sc.cell);		/* 16384 */
	a.f[0] = 3;
	T_EQ_INT(gs_snap_record_full(&sc, &a, buf, sizeof(buf)), sizeof(full));
	T_CHECK(memcmp(buf, full, sizeof(full)) == 0);
	b = a;
	b.qx += 2560;		/* 160 units east */
	b.qy -= 2;
	b.f[0] = 5;
	T_EQ_INT(gs_snap_record_delta(&sc, &a, &b, buf, sizeof(buf)),
	    sizeof(delta));
	T_CHECK(memcmp(buf, delta, sizeof(delta)) == 0);
	T_EQ_INT(gs_snap_record_delta(&sc, &a, &a, buf, sizeof(buf)), 0);
}

/* The two bodies of gs-protocol(7)'s EXAMPLES, as the page explains
 * them: the arena's declarations, steps of a quarter unit. */
static void
test_page_example(void)
{
	static const uint8_t	full[] = { 0x00, 0x02, 0x07, 0x07, 0x01,
	    0x00, 0x00, 0x78, 0x14, 0xf8, 0x0a, 0x00, 0xf9, 0xff, 0xff, 0xff,
	    0x0f, 0x07, 0x02, 0x00, 0x00, 0x1c, 0x07, 0x78, 0x19, 0x00 };
	static const uint8_t	delta[] = { 0x00, 0x01, 0x07, 0x01, 0x50,
	    0x00 };
	struct gs_snap_schema	 sc;
	struct gs_snap		 s1, s2, scratch;
	const struct gs_snap_ent *e;

	memset(&sc, 0, sizeof(sc));
	sc.cell = 16384;
	sc.ntypes = 2;
	sc.nfields[0] = sc.nfields[1] = 1;
	sc.max[0][0] = (int64_t)1 << 53;
	sc.min[1][0] = 1;
	sc.max[1][0] = 5;
	gs_snap_init(&s1);
	gs_snap_init(&s2);
	gs_snap_init(&scratch);
	T_ASSERT(gs_snap_apply(&sc, NULL, full, sizeof(full), &s1, &scratch) ==
	    GS_OK);
	T_EQ_INT(s1.n, 2);
	T_ASSERT((e = gs_snap_find(&s1, 7)) != NULL);
	T_CHECK(e->type == 1 && gs_snap_unquantize(e->qx, 16384) == 1310 &&
	    gs_snap_unquantize(e->qy, 16384) == 702 && e->f[0] == 0);
	T_ASSERT((e = gs_snap_find(&s1, (uint64_t)1 << 32)) != NULL);
	T_CHECK(e->type == 2 && gs_snap_unquantize(e->qx, 16384) == 455 &&
	    gs_snap_unquantize(e->qy, 16384) == 1630 && e->f[0] == 1);
	T_ASSERT(gs_snap_apply(&sc, &s1, delta, sizeof(delta), &s2,
	    &scratch) == GS_OK);
	T_EQ_INT(s2.n, 2);
	T_ASSERT((e = gs_snap_find(&s2, 7)) != NULL);
	T_CHECK(gs_snap_unquantize(e->qx, 16384) == 1320 &&
	    gs_snap_unquantize(e->qy, 16384) == 702);
	T_CHECK(memcmp(gs_snap_find(&s2, (uint64_t)1 << 32),
	    gs_snap_find(&s1, (uint64_t)1 << 32), sizeof(*e)) == 0);
	/* The same delta with nothing under it does not decode. */
	T_EQ_INT(gs_snap_apply(&sc, NULL, delta, sizeof(delta), &s2,
	    &scratch), GS_EINVAL);
	/* Nor does a body with a byte left over, or one cut short. */
	T_EQ_INT(gs_snap_apply(&sc, NULL, full, sizeof(full) - 1, &s2,
	    &scratch), GS_EINVAL);
	gs_snap_free(&s1);
	gs_snap_free(&s2);
	gs_snap_free(&scratch);
}

T_MAIN(T(test_whole_world), T(test_aoi), T(test_aoi_big_cells),
    T(test_budget), T(test_budget_aoi), T(test_no_loss), T(test_borders),
    T(test_wire_example), T(test_page_example), T(test_lockstep_shared),
    T(test_ack_reset))
