/*
 * A game's declarations (schema.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "schema.h"
#include "util.h"

/* The wire's limits (lib/) hold every game the ABI allows. */
_Static_assert(GS_INPUT_VALUES_MAX == GS_GAME_INPUTS_MAX, "input values");
_Static_assert(GS_SNAP_TYPES_MAX == GS_GAME_TYPES_MAX, "entity types");
_Static_assert(GS_SNAP_FIELDS_MAX == GS_GAME_FIELDS_MAX, "fields");

#define FAIL(...) do {							\
	(void)snprintf(err, errlen, __VA_ARGS__);			\
	return -1;							\
} while (0)

static int
name_ok(const char *s, size_t max)
{
	size_t	n;

	if (s == NULL || (n = strlen(s)) == 0 || n > max)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_' || *s == '-'))
			return 0;
	return 1;
}

int
sim_schema_check(const struct gs_game *g, char *err, size_t errlen)
{
	const struct gs_type	*t;
	unsigned		 i, j;

	/* abi and size first: the rest of the table is laid out by them. */
	if (g->abi != GS_GAME_ABI)
		FAIL("ABI %u, this gs-sim runs ABI %u", g->abi, GS_GAME_ABI);
	if (g->size != sizeof(struct gs_game))
		FAIL("table of %u bytes, ABI %u's is %zu (built against "
		    "another gs/game.h?)", g->size, GS_GAME_ABI,
		    sizeof(struct gs_game));
	if (!name_ok(g->name, 32))
		FAIL("name must be 1-32 bytes of [a-z0-9_-]");
	if (g->version == NULL || strlen(g->version) > 64)
		FAIL("version must be a string of at most 64 bytes");
	if (!(g->world_w > 0 && g->world_w <= SIM_WORLD_MAX &&
	    g->world_h > 0 && g->world_h <= SIM_WORLD_MAX))
		FAIL("world %g x %g: each side must be in (0, %g]",
		    g->world_w, g->world_h, SIM_WORLD_MAX);
	if (!(g->pos_step > 0) || !(g->world_w / g->pos_step <= 1e12) ||
	    !(g->world_h / g->pos_step <= 1e12))
		FAIL("pos_step %g: it must be above 0 and divide each side "
		    "of the world into at most 10^12 steps", g->pos_step);
	if (g->ntypes == 0 || g->ntypes > GS_GAME_TYPES_MAX ||
	    g->types == NULL)
		FAIL("%u entity types: 1 to %d are allowed", g->ntypes,
		    GS_GAME_TYPES_MAX);
	for (i = 0; i < g->ntypes; i++) {
		t = &g->types[i];
		if (!name_ok(t->name, 32))
			FAIL("entity type %u: name must be 1-32 bytes of "
			    "[a-z0-9_-]", i);
		if (t->nfields > GS_GAME_FIELDS_MAX ||
		    (t->nfields > 0 && t->fields == NULL))
			FAIL("entity type %s: %u fields, at most %d", t->name,
			    t->nfields, GS_GAME_FIELDS_MAX);
		for (j = 0; j < t->nfields; j++)
			if (!name_ok(t->fields[j].name, 32) ||
			    t->fields[j].min > t->fields[j].max)
				FAIL("entity type %s: field %u needs a "
				    "[a-z0-9_-] name and min <= max",
				    t->name, j);
	}
	if (g->ninputs > GS_GAME_INPUTS_MAX ||
	    (g->ninputs > 0 && g->inputs == NULL))
		FAIL("%u input fields, at most %d", g->ninputs,
		    GS_GAME_INPUTS_MAX);
	for (i = 0; i < g->ninputs; i++)
		if (!name_ok(g->inputs[i].name, 32) ||
		    g->inputs[i].min > g->inputs[i].max)
			FAIL("input field %u needs a [a-z0-9_-] name and "
			    "min <= max", i);
	if (g->create == NULL || g->join_attempt == NULL ||
	    g->join == NULL || g->leave == NULL || g->input == NULL ||
	    g->tick == NULL || g->save == NULL || g->load == NULL ||
	    g->end == NULL || g->destroy == NULL)
		FAIL("a callback is NULL: all ten are required");
	return 0;
}

int
sim_schema_same(const struct gs_game *a, const struct gs_game *b,
    char *err, size_t errlen)
{
	const struct gs_type	*ta, *tb;
	const struct gs_field	*fa, *fb;
	const struct gs_input_field *ia, *ib;
	unsigned		 i, j;

	if (a->world_w != b->world_w || a->world_h != b->world_h ||
	    a->pos_step != b->pos_step)
		FAIL("the world was %g x %g in steps of %g, is %g x %g in "
		    "steps of %g", a->world_w, a->world_h, a->pos_step,
		    b->world_w, b->world_h, b->pos_step);
	if (a->ntypes != b->ntypes)
		FAIL("%u entity types were declared, %u are", a->ntypes,
		    b->ntypes);
	for (i = 0; i < a->ntypes; i++) {
		ta = &a->types[i];
		tb = &b->types[i];
		if (strcmp(ta->name, tb->name) != 0 ||
		    ta->nfields != tb->nfields)
			FAIL("entity type %u was %s with %u fields, is %s "
			    "with %u", i + 1, ta->name, ta->nfields,
			    tb->name, tb->nfields);
		for (j = 0; j < ta->nfields; j++) {
			fa = &ta->fields[j];
			fb = &tb->fields[j];
			if (strcmp(fa->name, fb->name) != 0 ||
			    fa->min != fb->min || fa->max != fb->max)
				FAIL("entity type %s: field %u was %s "
				    "[%lld, %lld], is %s [%lld, %lld]",
				    ta->name, j, fa->name,
				    (long long)fa->min, (long long)fa->max,
				    fb->name, (long long)fb->min,
				    (long long)fb->max);
		}
	}
	if (a->ninputs != b->ninputs)
		FAIL("%u input fields were declared, %u are", a->ninputs,
		    b->ninputs);
	for (i = 0; i < a->ninputs; i++) {
		ia = &a->inputs[i];
		ib = &b->inputs[i];
		if (strcmp(ia->name, ib->name) != 0 || ia->min != ib->min ||
		    ia->max != ib->max || ia->cooldown != ib->cooldown)
			FAIL("input field %u was %s [%d, %d] cooldown %u, "
			    "is %s [%d, %d] cooldown %u", i, ia->name,
			    ia->min, ia->max, ia->cooldown, ib->name,
			    ib->min, ib->max, ib->cooldown);
	}
	return 0;
}

int
sim_input_values(const struct gs_game *g, const struct gs_input *in,
    int32_t *v)
{
	uint32_t	i;

	memset(v, 0, GS_GAME_INPUTS_MAX * sizeof(*v));
	if (in->n != g->ninputs)
		return SIM_INPUT_EUNDECLARED;
	for (i = 0; i < in->n; i++) {
		if (in->v[i] < g->inputs[i].min || in->v[i] > g->inputs[i].max)
			return SIM_INPUT_ERANGE;
		v[i] = in->v[i];
	}
	return SIM_INPUT_OK;
}
