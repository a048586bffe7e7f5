/*
 * A room's entity storage (ents.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ents.h"

#define ENT_IDX_BITS	20
#define ENT_IDX_MASK	((1u << ENT_IDX_BITS) - 1)
#define ENT_GEN_MASK	0xfffu
#define ENT_CAP0	64

const char *
sim_ents_err(int code)
{
	switch (code) {
	case SIM_ENT_OK:	return "ok";
	case SIM_ENT_ETYPE:	return "type not declared";
	case SIM_ENT_EHANDLE:	return "not a live entity";
	case SIM_ENT_EFIELD:	return "field not declared for the type";
	case SIM_ENT_ERANGE:	return "value outside the field's range";
	case SIM_ENT_EPOS:	return "position outside the world";
	case SIM_ENT_EOWNER:	return "no such player slot, or it has an "
				    "entity already";
	case SIM_ENT_EFULL:	return "too many entities";
	case SIM_ENT_ENOMEM:	return "out of memory";
	}
	return "unknown";
}

void
sim_ents_init(struct sim_ents *es, const struct gs_game *game)
{
	memset(es, 0, sizeof(*es));
	es->game = game;
}

void
sim_ents_free(struct sim_ents *es)
{
	const struct gs_game	*g = es->game;

	free(es->e);
	free(es->live);
	free(es->free);
	free(es->owned);
	sim_ents_init(es, g);
}

static int
ents_grow(struct sim_ents *es)
{
	struct sim_ent	*e;
	uint32_t	*live, *fr, cap, i;

	if (es->cap >= GS_GAME_ENTITIES_MAX)
		return SIM_ENT_EFULL;
	cap = es->cap == 0 ? ENT_CAP0 : es->cap * 2;
	if (cap > GS_GAME_ENTITIES_MAX)
		cap = GS_GAME_ENTITIES_MAX;
	/* Each array is kept as soon as it has grown: the next call
	 * grows the others from the same cap. */
	if ((e = realloc(es->e, (size_t)cap * sizeof(*e))) == NULL)
		return SIM_ENT_ENOMEM;
	es->e = e;
	if ((live = realloc(es->live, (size_t)cap * sizeof(*live))) == NULL)
		return SIM_ENT_ENOMEM;
	es->live = live;
	if ((fr = realloc(es->free, (size_t)cap * sizeof(*fr))) == NULL)
		return SIM_ENT_ENOMEM;
	es->free = fr;
	memset(&es->e[es->cap], 0, (size_t)(cap - es->cap) * sizeof(*e));
	/* Free slots are taken from the top of the stack: lowest first. */
	for (i = cap; i > es->cap; i--)
		es->free[es->nfree++] = i - 1;
	es->cap = cap;
	return SIM_ENT_OK;
}

struct sim_ent *
sim_ents_get(struct sim_ents *es, gs_ent h)
{
	uint32_t	idx = (h & ENT_IDX_MASK) - 1;
	struct sim_ent	*e;

	if ((h & ENT_IDX_MASK) == 0 || idx >= es->cap)
		return NULL;
	e = &es->e[idx];
	if (!e->live || e->gen != (h >> ENT_IDX_BITS))
		return NULL;
	return e;
}

struct sim_ent *
sim_ents_owned(struct sim_ents *es, int owner)
{
	if (owner < 0 || (uint32_t)owner >= es->nowned ||
	    es->owned[owner] == 0)
		return NULL;
	return &es->e[es->owned[owner] - 1];
}

static int64_t
clamp0(const struct gs_field *f)
{
	return f->min > 0 ? f->min : f->max < 0 ? f->max : 0;
}

int
sim_ents_spawn(struct sim_ents *es, unsigned type, int owner,
    unsigned nslots, uint64_t id, gs_ent *out)
{
	const struct gs_type	*t;
	struct sim_ent		*e;
	uint32_t		 idx;
	unsigned		 i;
	int			 rc;

	*out = 0;
	if (type >= es->game->ntypes)
		return SIM_ENT_ETYPE;
	if (owner != GS_GAME_NOBODY && (owner < 0 ||
	    (unsigned)owner >= nslots || sim_ents_owned(es, owner) != NULL))
		return SIM_ENT_EOWNER;
	if (owner != GS_GAME_NOBODY && (uint32_t)owner >= es->nowned) {
		uint32_t	*o;

		if ((o = realloc(es->owned, nslots * sizeof(*o))) == NULL)
			return SIM_ENT_ENOMEM;
		memset(o + es->nowned, 0, (nslots - es->nowned) * sizeof(*o));
		es->owned = o;
		es->nowned = nslots;
	}
	if (es->nfree == 0 && (rc = ents_grow(es)) != SIM_ENT_OK)
		return rc;
	t = &es->game->types[type];
	idx = es->free[--es->nfree];
	e = &es->e[idx];
	e->id = id;
	e->x = e->y = 0;
	for (i = 0; i < GS_GAME_FIELDS_MAX; i++)
		e->f[i] = i < t->nfields ? clamp0(&t->fields[i]) : 0;
	e->owner = owner;
	e->type = (uint8_t)type;
	e->live = 1;
	e->dense = es->n;
	es->live[es->n++] = idx;
	es->changes++;
	if (owner != GS_GAME_NOBODY)
		es->owned[owner] = idx + 1;
	*out = ((uint32_t)e->gen << ENT_IDX_BITS) | (idx + 1);
	return SIM_ENT_OK;
}

int
sim_ents_despawn(struct sim_ents *es, gs_ent h)
{
	struct sim_ent	*e, *last;
	uint32_t	 idx;

	if ((e = sim_ents_get(es, h)) == NULL)
		return SIM_ENT_EHANDLE;
	idx = (h & ENT_IDX_MASK) - 1;
	/* The last live entity takes the hole in the dense list. */
	last = sim_ents_at(es, es->n - 1);
	es->live[e->dense] = es->live[es->n - 1];
	last->dense = e->dense;
	es->n--;
	es->changes++;
	if (e->owner != GS_GAME_NOBODY)
		es->owned[e->owner] = 0;
	e->live = 0;
	e->gen = (uint16_t)((e->gen + 1) & ENT_GEN_MASK);
	es->free[es->nfree++] = idx;
	return SIM_ENT_OK;
}

int
sim_ents_move(struct sim_ents *es, gs_ent h, double x, double y)
{
	struct sim_ent	*e;

	if ((e = sim_ents_get(es, h)) == NULL)
		return SIM_ENT_EHANDLE;
	/* Written so that NaN fails every comparison. */
	if (!(x >= 0 && x <= es->game->world_w && y >= 0 &&
	    y <= es->game->world_h))
		return SIM_ENT_EPOS;
	e->x = x;
	e->y = y;
	return SIM_ENT_OK;
}

int
sim_ents_set(struct sim_ents *es, gs_ent h, unsigned field, int64_t v)
{
	const struct gs_type	*t;
	struct sim_ent		*e;

	if ((e = sim_ents_get(es, h)) == NULL)
		return SIM_ENT_EHANDLE;
	t = &es->game->types[e->type];
	if (field >= t->nfields)
		return SIM_ENT_EFIELD;
	if (v < t->fields[field].min || v > t->fields[field].max)
		return SIM_ENT_ERANGE;
	e->f[field] = v;
	return SIM_ENT_OK;
}
