/*
 * "arena", the reference game: players run around a square world and
 * collect pickups.
 *
 *   World: ARENA_SIZE x ARENA_SIZE units, walls at 0 and ARENA_SIZE.
 *   Players spawn at a random point of the central half and move with
 *   their input (mx, my in [-127, 127]) at up to ARENA_SPEED units/s;
 *   the vector is clamped to length 127 so a diagonal is not faster.
 *   ARENA_PICKUPS pickups worth 1, 2 or 5 points lie at random points;
 *   a player whose centre comes within ARENA_REACH of one collects it:
 *   the score grows by its points, the pickup moves to a new random
 *   point and a SCORED event goes to the room.
 *
 * All randomness comes from one splitmix64 stream seeded with the
 * sim's seed and the room name, and the world advances by a fixed dt,
 * so the same seed and the same inputs give the same game.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "game.h"
#include "util.h"

#define ARENA_SIZE	2000.0
#define ARENA_SPEED	150.0	/* units per second */
#define ARENA_PICKUPS	24
#define ARENA_REACH	30.0	/* player radius 20 + pickup radius 10 */

struct arena_player {
	int		 used;
	uint64_t	 id;
	double		 x, y;
	double		 vx, vy;	/* units per second */
	int64_t		 score;
};

struct arena_pickup {
	double		 x, y;
	int64_t		 points;
};

struct arena {
	struct sim_game_host	 host;
	uint64_t		 rng;
	double			 dt;
	unsigned		 nslots;
	struct arena_pickup	 pickup[ARENA_PICKUPS];
	struct arena_player	 player[];	/* nslots */
};

/* Uniform in [lo, hi). */
static double
arena_uniform(struct arena *a, double lo, double hi)
{
	return lo + (hi - lo) * gs_rand01(&a->rng);
}

static void
arena_place_pickup(struct arena *a, struct arena_pickup *p)
{
	static const int64_t	points[] = { 1, 1, 1, 2, 2, 5 };

	p->x = arena_uniform(a, ARENA_REACH, ARENA_SIZE - ARENA_REACH);
	p->y = arena_uniform(a, ARENA_REACH, ARENA_SIZE - ARENA_REACH);
	p->points = points[gs_rand_next(&a->rng) % GS_NELEM(points)];
}

static void *
arena_create(const struct sim_game_conf *conf,
    const struct sim_game_host *host)
{
	struct arena	*a;
	size_t		 i;

	a = calloc(1, sizeof(*a) + conf->max_players *
	    sizeof(struct arena_player));
	if (a == NULL)
		return NULL;
	a->host = *host;
	a->rng = conf->seed ^ gs_hash_fnv1a(conf->room);
	a->dt = 1.0 / conf->tick_rate;
	a->nslots = conf->max_players;
	for (i = 0; i < ARENA_PICKUPS; i++)
		arena_place_pickup(a, &a->pickup[i]);
	return a;
}

static int
arena_join(void *g, unsigned slot, uint64_t id, const char *name)
{
	struct arena		*a = g;
	struct arena_player	*p;

	if (slot >= a->nslots || a->player[slot].used)
		return GS_PERR_INTERNAL;
	p = &a->player[slot];
	memset(p, 0, sizeof(*p));
	p->used = 1;
	p->id = id;
	p->x = arena_uniform(a, ARENA_SIZE / 4, ARENA_SIZE * 3 / 4);
	p->y = arena_uniform(a, ARENA_SIZE / 4, ARENA_SIZE * 3 / 4);
	return 0;
}

static void
arena_leave(void *g, unsigned slot)
{
	struct arena	*a = g;

	if (slot < a->nslots)
		a->player[slot].used = 0;
}

static void
arena_input(void *g, unsigned slot, const struct gs_input *in)
{
	struct arena		*a = g;
	struct arena_player	*p;
	double			 mx = in->mx, my = in->my, len;

	if (slot >= a->nslots || !a->player[slot].used)
		return;
	p = &a->player[slot];
	len = sqrt(mx * mx + my * my);
	if (len > GS_AXIS_MAX) {
		mx = mx * GS_AXIS_MAX / len;
		my = my * GS_AXIS_MAX / len;
	}
	p->vx = mx / GS_AXIS_MAX * ARENA_SPEED;
	p->vy = my / GS_AXIS_MAX * ARENA_SPEED;
}

static double
arena_clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void
arena_tick(void *g, uint64_t tick)
{
	struct arena		*a = g;
	struct arena_player	*p;
	struct arena_pickup	*k;
	double			 dx, dy;
	unsigned		 i, j;

	for (i = 0; i < a->nslots; i++) {
		p = &a->player[i];
		if (!p->used)
			continue;
		p->x = arena_clamp(p->x + p->vx * a->dt, 0, ARENA_SIZE);
		p->y = arena_clamp(p->y + p->vy * a->dt, 0, ARENA_SIZE);
		for (j = 0; j < ARENA_PICKUPS; j++) {
			k = &a->pickup[j];
			dx = p->x - k->x;
			dy = p->y - k->y;
			if (dx * dx + dy * dy > ARENA_REACH * ARENA_REACH)
				continue;
			p->score += k->points;
			arena_place_pickup(a, k);
			a->host.event(a->host.arg, GS_EV_SCORED, p->id,
			    p->score);
		}
	}
}

static size_t
arena_entities(void *g, struct gs_entity *out, size_t max)
{
	struct arena		*a = g;
	struct arena_player	*p;
	size_t			 n = 0;
	unsigned		 i;

	for (i = 0; i < a->nslots && n < max; i++) {
		p = &a->player[i];
		if (!p->used)
			continue;
		out[n].id = p->id;
		out[n].type = GS_ENT_PLAYER;
		out[n].x = (int32_t)lround(p->x);
		out[n].y = (int32_t)lround(p->y);
		out[n].value = p->score;
		n++;
	}
	for (i = 0; i < ARENA_PICKUPS && n < max; i++) {
		out[n].id = SIM_GAME_ID_BASE + i;
		out[n].type = GS_ENT_PICKUP;
		out[n].x = (int32_t)lround(a->pickup[i].x);
		out[n].y = (int32_t)lround(a->pickup[i].y);
		out[n].value = a->pickup[i].points;
		n++;
	}
	return n;
}

static void
arena_end(void *g)
{
	free(g);
}

const struct sim_game sim_arena = {
	.name = "arena",
	.create = arena_create,
	.join = arena_join,
	.leave = arena_leave,
	.input = arena_input,
	.tick = arena_tick,
	.entities = arena_entities,
	.end = arena_end,
};
