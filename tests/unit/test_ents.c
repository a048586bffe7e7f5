/*
 * gs-sim's entity storage (ents.c) and a game's declarations
 * (schema.c): both pure, linked in.  The storage must refuse every
 * call that breaks gs-game(3)'s invariants, since game.c turns those
 * refusals into room faults, and must keep handles honest across
 * despawns and reuse.
 */
#include <math.h>
#include <string.h>

#include "../../cmd/gs-sim/ents.h"
#include "../../cmd/gs-sim/schema.h"
#include "t.h"

static const struct gs_field player_f[] = { { "score", 0, 100 } };
static const struct gs_field pickup_f[] = { { "points", 1, 5 },
	{ "heat", -10, -2 } };
static const struct gs_type types[] = {
	{ "player", player_f, 1 },
	{ "pickup", pickup_f, 2 },
	{ "rock", NULL, 0 },
};
static const struct gs_input_field inputs[] = {
	{ "mx", -127, 127, 0 },
	{ "my", -127, 127, 0 },
	{ "fire", 0, 1, 10 },
};

static void *
t_create(struct gs_room *r, const struct gs_host *h,
    const struct gs_room_conf *c)
{
	return NULL;
}

static int	t_attempt(void *w, const char *n, char *r, size_t l)
		    { return 0; }
static int	t_join(void *w, unsigned s, uint64_t id, const char *n)
		    { return 0; }
static void	t_leave(void *w, unsigned s) { }
static void	t_input(void *w, unsigned s, const int32_t *v) { }
static size_t	t_save(void *w, uint8_t *b, size_t c) { return 0; }
static void	*t_load(struct gs_room *r, const struct gs_host *h,
		    const struct gs_room_conf *c, const uint8_t *b, size_t l)
		    { return NULL; }
static size_t	t_end(void *w, char *b, size_t c) { return 0; }
static void	t_destroy(void *w) { }

static struct gs_game
game(void)
{
	struct gs_game	g;

	memset(&g, 0, sizeof(g));
	g.abi = GS_GAME_ABI;
	g.size = sizeof(g);
	g.name = "test";
	g.version = "1";
	g.world_w = 1000;
	g.world_h = 500;
	g.pos_step = 1.0 / 64;
	g.types = types;
	g.ntypes = 3;
	g.inputs = inputs;
	g.ninputs = 3;
	g.create = t_create;
	g.join_attempt = t_attempt;
	g.join = t_join;
	g.leave = t_leave;
	g.input = t_input;
	g.tick = t_destroy;
	g.save = t_save;
	g.load = t_load;
	g.end = t_end;
	g.destroy = t_destroy;
	return g;
}

static void
test_spawn_set_move(void)
{
	struct gs_game	 g = game();
	struct sim_ents	 es;
	struct sim_ent	*e;
	gs_ent		 a, b;

	sim_ents_init(&es, &g);
	T_EQ_INT(sim_ents_spawn(&es, 1, GS_GAME_NOBODY, 4, 77, &a),
	    SIM_ENT_OK);
	T_ASSERT(a != 0);
	T_ASSERT((e = sim_ents_get(&es, a)) != NULL);
	T_CHECK(e->id == 77 && e->type == 1 && e->x == 0 && e->y == 0);
	/* Each field starts at the value of its range nearest 0. */
	T_EQ_INT(e->f[0], 1);
	T_EQ_INT(e->f[1], -2);
	T_EQ_INT(sim_ents_set(&es, a, 0, 5), SIM_ENT_OK);
	T_EQ_INT(e->f[0], 5);
	T_EQ_INT(sim_ents_set(&es, a, 0, 6), SIM_ENT_ERANGE);
	T_EQ_INT(sim_ents_set(&es, a, 0, 0), SIM_ENT_ERANGE);
	T_EQ_INT(e->f[0], 5);
	T_EQ_INT(sim_ents_set(&es, a, 2, 0), SIM_ENT_EFIELD);
	T_EQ_INT(sim_ents_move(&es, a, 1000, 500), SIM_ENT_OK);
	T_CHECK(e->x == 1000 && e->y == 500);
	T_EQ_INT(sim_ents_move(&es, a, 1000.5, 1), SIM_ENT_EPOS);
	T_EQ_INT(sim_ents_move(&es, a, -0.1, 1), SIM_ENT_EPOS);
	T_EQ_INT(sim_ents_move(&es, a, NAN, 1), SIM_ENT_EPOS);
	T_EQ_INT(sim_ents_move(&es, a, 1, INFINITY), SIM_ENT_EPOS);
	T_CHECK(e->x == 1000 && e->y == 500);
	T_EQ_INT(sim_ents_spawn(&es, 3, GS_GAME_NOBODY, 4, 78, &b),
	    SIM_ENT_ETYPE);
	T_EQ_INT(b, 0);
	/* A type without fields takes no set. */
	T_EQ_INT(sim_ents_spawn(&es, 2, GS_GAME_NOBODY, 4, 78, &b),
	    SIM_ENT_OK);
	T_EQ_INT(sim_ents_set(&es, b, 0, 0), SIM_ENT_EFIELD);
	T_EQ_INT(es.n, 2);
	sim_ents_free(&es);
}

static void
test_handles(void)
{
	struct gs_game	 g = game();
	struct sim_ents	 es;
	gs_ent		 a, b, c;

	sim_ents_init(&es, &g);
	T_EQ_INT(sim_ents_get(&es, 0) == NULL, 1);
	T_EQ_INT(sim_ents_set(&es, 12345, 0, 1), SIM_ENT_EHANDLE);
	T_ASSERT(sim_ents_spawn(&es, 0, GS_GAME_NOBODY, 4, 1, &a) == 0);
	T_ASSERT(sim_ents_spawn(&es, 0, GS_GAME_NOBODY, 4, 2, &b) == 0);
	T_EQ_INT(sim_ents_despawn(&es, a), SIM_ENT_OK);
	T_EQ_INT(sim_ents_despawn(&es, a), SIM_ENT_EHANDLE);
	T_EQ_INT(sim_ents_move(&es, a, 1, 1), SIM_ENT_EHANDLE);
	/* The slot is reused, under a new generation: the old handle
	 * stays dead. */
	T_ASSERT(sim_ents_spawn(&es, 0, GS_GAME_NOBODY, 4, 3, &c) == 0);
	T_CHECK(c != a);
	T_CHECK(sim_ents_get(&es, a) == NULL);
	T_CHECK(sim_ents_get(&es, c) != NULL && sim_ents_get(&es, c)->id == 3);
	T_CHECK(sim_ents_get(&es, b) != NULL && sim_ents_get(&es, b)->id == 2);
	/* An index beyond the storage. */
	T_CHECK(sim_ents_get(&es, (gs_ent)0xfffff) == NULL);
	sim_ents_free(&es);
}

/* The dense list holds exactly the live entities, through many spawns
 * and despawns (and the growth of the arrays). */
static void
test_dense(void)
{
	struct gs_game	 g = game();
	struct sim_ents	 es;
	static gs_ent	 h[1000];
	static int	 alive[1000];
	uint64_t	 seen;
	unsigned	 i, k, n = 0;

	sim_ents_init(&es, &g);
	for (i = 0; i < 1000; i++) {
		T_ASSERT(sim_ents_spawn(&es, 0, GS_GAME_NOBODY, 4, i + 1,
		    &h[i]) == 0);
		alive[i] = 1;
	}
	for (i = 0; i < 1000; i += 3) {
		T_ASSERT(sim_ents_despawn(&es, h[i]) == 0);
		alive[i] = 0;
	}
	for (i = 0; i < 1000; i++)
		n += (unsigned)alive[i];
	T_EQ_INT(es.n, n);
	seen = 0;
	for (k = 0; k < es.n; k++) {
		const struct sim_ent *e = sim_ents_at(&es, k);

		T_CHECK(e->live && e->dense == k);
		T_CHECK(alive[e->id - 1]);
		seen += e->id;
	}
	{
		uint64_t want = 0;

		for (i = 0; i < 1000; i++)
			if (alive[i])
				want += i + 1;
		T_CHECK(seen == want);
	}
	sim_ents_free(&es);
}

static void
test_owner(void)
{
	struct gs_game	 g = game();
	struct sim_ents	 es;
	gs_ent		 a, b;

	sim_ents_init(&es, &g);
	T_EQ_INT(sim_ents_spawn(&es, 0, 2, 4, 9, &a), SIM_ENT_OK);
	T_CHECK(sim_ents_owned(&es, 2) == sim_ents_get(&es, a));
	T_CHECK(sim_ents_owned(&es, 1) == NULL);
	/* One entity per player; slots below the room's size only. */
	T_EQ_INT(sim_ents_spawn(&es, 0, 2, 4, 9, &b), SIM_ENT_EOWNER);
	T_EQ_INT(sim_ents_spawn(&es, 0, 4, 4, 10, &b), SIM_ENT_EOWNER);
	T_EQ_INT(sim_ents_spawn(&es, 0, -2, 4, 10, &b), SIM_ENT_EOWNER);
	T_EQ_INT(sim_ents_spawn(&es, 0, 3, 4, 11, &b), SIM_ENT_OK);
	T_CHECK(sim_ents_owned(&es, 3) == sim_ents_get(&es, b));
	T_CHECK(sim_ents_owned(&es, 2) == sim_ents_get(&es, a));
	T_EQ_INT(sim_ents_despawn(&es, a), SIM_ENT_OK);
	T_CHECK(sim_ents_owned(&es, 2) == NULL);
	T_EQ_INT(sim_ents_spawn(&es, 0, 2, 4, 9, &b), SIM_ENT_OK);
	sim_ents_free(&es);
}

static void
test_schema_check(void)
{
	struct gs_game	 g = game();
	struct gs_field	 badf[] = { { "x", 3, 2 } };
	struct gs_type	 badt[] = { { "t", badf, 1 } };
	char		 err[256];

	T_EQ_INT(sim_schema_check(&g, err, sizeof(err)), 0);
	g.abi = 2;
	T_EQ_INT(sim_schema_check(&g, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "ABI 2") != NULL);
	g = game();
	g.size = 8;
	T_EQ_INT(sim_schema_check(&g, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "8 bytes") != NULL);
	g = game();
	g.name = "Bad Name";
	T_EQ_INT(sim_schema_check(&g, err, sizeof(err)), -1);
	g = game();
	g.world_w = NAN;
	T_EQ_INT(sim_schema_check(&g, err, sizeof(err)), -1);
	g = game();
	g.world_h = 2e9;
	T_EQ_INT(sim_schema_check(&g, err, sizeof(err)), -1);
	g = game();
	g.pos_step = 0;
	T_EQ_INT(sim_schema_check(&g, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "pos_step") != NULL);
	g.pos_step = 1e-10;	/* 10^13 steps a side */
	T_EQ_INT(sim_schema_check(&g, err, sizeof(err)), -1);
	g = game();
	g.ntypes = 0;
	T_EQ_INT(sim_schema_check(&g, err, sizeof(err)), -1);
	g = game();
	g.types = badt;
	g.ntypes = 1;
	T_EQ_INT(sim_schema_check(&g, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "min <= max") != NULL);
	g = game();
	g.ninputs = GS_GAME_INPUTS_MAX + 1;
	T_EQ_INT(sim_schema_check(&g, err, sizeof(err)), -1);
	g = game();
	g.tick = NULL;
	T_EQ_INT(sim_schema_check(&g, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "NULL") != NULL);
}

static void
test_schema_same(void)
{
	struct gs_game		 a = game(), b = game();
	struct gs_field		 f2[] = { { "score", 0, 101 } };
	struct gs_type		 t2[] = { { "player", f2, 1 },
		{ "pickup", pickup_f, 2 }, { "rock", NULL, 0 } };
	struct gs_input_field	 i2[] = { { "mx", -127, 127, 0 },
		{ "my", -127, 127, 0 }, { "fire", 0, 1, 11 } };
	char			 err[256];

	T_EQ_INT(sim_schema_same(&a, &b, err, sizeof(err)), 0);
	b.types = t2;
	T_EQ_INT(sim_schema_same(&a, &b, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "score") != NULL);
	b = game();
	b.inputs = i2;
	T_EQ_INT(sim_schema_same(&a, &b, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "cooldown") != NULL);
	b = game();
	b.ntypes = 2;
	T_EQ_INT(sim_schema_same(&a, &b, err, sizeof(err)), -1);
	b = game();
	b.world_w = 999;
	T_EQ_INT(sim_schema_same(&a, &b, err, sizeof(err)), -1);
}

static void
test_input_values(void)
{
	struct gs_game	 g = game();
	struct gs_input	 in = { 1, 3, { -127, 127, 1 } };
	int32_t		 v[GS_GAME_INPUTS_MAX];

	T_EQ_INT(sim_input_values(&g, &in, v), SIM_INPUT_OK);
	T_CHECK(v[0] == -127 && v[1] == 127 && v[2] == 1 && v[3] == 0);
	in.v[2] = 2;		/* fire is 0..1 */
	T_EQ_INT(sim_input_values(&g, &in, v), SIM_INPUT_ERANGE);
	in.v[2] = 0;
	in.v[0] = -128;
	T_EQ_INT(sim_input_values(&g, &in, v), SIM_INPUT_ERANGE);
	/* One value per declared field, no more, no fewer. */
	in.v[0] = 5;
	in.n = 4;
	T_EQ_INT(sim_input_values(&g, &in, v), SIM_INPUT_EUNDECLARED);
	in.n = 2;
	T_EQ_INT(sim_input_values(&g, &in, v), SIM_INPUT_EUNDECLARED);
	g.ninputs = 2;
	T_EQ_INT(sim_input_values(&g, &in, v), SIM_INPUT_OK);
	T_CHECK(v[0] == 5 && v[1] == 127 && v[2] == 0);
}

T_MAIN(T(test_spawn_set_move), T(test_handles), T(test_dense),
    T(test_owner), T(test_schema_check), T(test_schema_same),
    T(test_input_values))
