/*
 * "arena", the reference game of gs: a plugin behind gs/game.h
 * (gs-game(3)).
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
 * Entity types: 1 "player" (field score), 2 "pickup" (field points).
 * All randomness comes from the room's stream (host->random), and the
 * world advances by a fixed dt, so the same seed and the same inputs
 * give the same game.  save() writes the whole world in a fixed
 * little-endian layout (ARENA_MAGIC), so that a reload carries every
 * position, velocity and score over to the new code.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gs/game.h>

#ifndef ARENA_VERSION
#define ARENA_VERSION	"1"
#endif

#define ARENA_SIZE	2000.0
#define ARENA_SPEED	150.0	/* units per second */
#define ARENA_PICKUPS	24
#define ARENA_REACH	30.0	/* player radius 20 + pickup radius 10 */
#define ARENA_AXIS	127
#define ARENA_SCORE_MAX	((int64_t)1 << 53)
#define ARENA_RESULTS	64	/* scores of players gone, for end() */
#define ARENA_MAGIC	0x314e5241u	/* "ARN1" */
#define ARENA_EV_SCORED	3

enum { ARENA_T_PLAYER, ARENA_T_PICKUP };

struct arena_player {
	int		 used;
	uint64_t	 id;
	gs_ent		 ent;
	double		 x, y;
	double		 vx, vy;	/* units per second */
	int64_t		 score;
};

struct arena_pickup {
	gs_ent		 ent;
	double		 x, y;
	int64_t		 points;
};

/* A player's final score, kept for the match result. */
struct arena_result {
	uint64_t	 id;
	int64_t		 score;
};

struct arena {
	struct gs_room		*r;
	const struct gs_host	*h;
	double			 dt;
	unsigned		 nslots;
	unsigned		 nresults;	/* ring: the last ARENA_RESULTS */
	struct arena_result	 result[ARENA_RESULTS];
	struct arena_pickup	 pickup[ARENA_PICKUPS];
	struct arena_player	 player[];	/* nslots */
};

/* Uniform in [lo, hi), from 53 random bits. */
static double
arena_uniform(struct arena *a, double lo, double hi)
{
	uint64_t	x = a->h->random(a->r);

	return lo + (hi - lo) * ((double)(x >> 11) * 0x1.0p-53);
}

static void
arena_place_pickup(struct arena *a, struct arena_pickup *p)
{
	static const int64_t	points[] = { 1, 1, 1, 2, 2, 5 };

	p->x = arena_uniform(a, ARENA_REACH, ARENA_SIZE - ARENA_REACH);
	p->y = arena_uniform(a, ARENA_REACH, ARENA_SIZE - ARENA_REACH);
	p->points = points[a->h->random(a->r) %
	    (sizeof(points) / sizeof(points[0]))];
	a->h->move(a->r, p->ent, p->x, p->y);
	a->h->set(a->r, p->ent, 0, p->points);
}

static struct arena *
arena_alloc(struct gs_room *r, const struct gs_host *h,
    const struct gs_room_conf *conf)
{
	struct arena	*a;

	a = calloc(1, sizeof(*a) + conf->max_players *
	    sizeof(struct arena_player));
	if (a == NULL)
		return NULL;
	a->r = r;
	a->h = h;
	a->dt = 1.0 / conf->tick_rate;
	a->nslots = conf->max_players;
	return a;
}

static void *
arena_create(struct gs_room *r, const struct gs_host *h,
    const struct gs_room_conf *conf)
{
	struct arena	*a;
	size_t		 i;

	if ((a = arena_alloc(r, h, conf)) == NULL)
		return NULL;
	for (i = 0; i < ARENA_PICKUPS; i++) {
		a->pickup[i].ent = h->spawn(r, ARENA_T_PICKUP, GS_GAME_NOBODY);
		arena_place_pickup(a, &a->pickup[i]);
	}
	return a;
}

static int
arena_join_attempt(void *w, const char *name, char *reason, size_t len)
{
	return 0;	/* anyone; the core enforces the room's size */
}

static int
arena_join(void *w, unsigned slot, uint64_t id, const char *name)
{
	struct arena		*a = w;
	struct arena_player	*p;

	if (slot >= a->nslots || a->player[slot].used)
		return -1;
	p = &a->player[slot];
	memset(p, 0, sizeof(*p));
	p->used = 1;
	p->id = id;
	p->x = arena_uniform(a, ARENA_SIZE / 4, ARENA_SIZE * 3 / 4);
	p->y = arena_uniform(a, ARENA_SIZE / 4, ARENA_SIZE * 3 / 4);
	if ((p->ent = a->h->spawn(a->r, ARENA_T_PLAYER, (int)slot)) == 0) {
		p->used = 0;
		return -1;
	}
	a->h->move(a->r, p->ent, p->x, p->y);
	return 0;
}

static void
arena_leave(void *w, unsigned slot)
{
	struct arena		*a = w;
	struct arena_player	*p;
	struct arena_result	*res;

	if (slot >= a->nslots || !a->player[slot].used)
		return;
	p = &a->player[slot];
	res = &a->result[a->nresults++ % ARENA_RESULTS];
	res->id = p->id;
	res->score = p->score;
	a->h->despawn(a->r, p->ent);
	p->used = 0;
}

static void
arena_input(void *w, unsigned slot, const int32_t *v)
{
	struct arena		*a = w;
	struct arena_player	*p;
	double			 mx = v[0], my = v[1], len;

	if (slot >= a->nslots || !a->player[slot].used)
		return;
	p = &a->player[slot];
	len = sqrt(mx * mx + my * my);
	if (len > ARENA_AXIS) {
		mx = mx * ARENA_AXIS / len;
		my = my * ARENA_AXIS / len;
	}
	p->vx = mx / ARENA_AXIS * ARENA_SPEED;
	p->vy = my / ARENA_AXIS * ARENA_SPEED;
}

static double
arena_clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void
arena_tick(void *w)
{
	struct arena		*a = w;
	struct arena_player	*p;
	struct arena_pickup	*k;
	double			 dx, dy, x, y;
	unsigned		 i, j;

	for (i = 0; i < a->nslots; i++) {
		p = &a->player[i];
		if (!p->used)
			continue;
		x = arena_clamp(p->x + p->vx * a->dt, 0, ARENA_SIZE);
		y = arena_clamp(p->y + p->vy * a->dt, 0, ARENA_SIZE);
		if (x != p->x || y != p->y) {
			p->x = x;
			p->y = y;
			a->h->move(a->r, p->ent, x, y);
		}
		for (j = 0; j < ARENA_PICKUPS; j++) {
			k = &a->pickup[j];
			dx = p->x - k->x;
			dy = p->y - k->y;
			if (dx * dx + dy * dy > ARENA_REACH * ARENA_REACH)
				continue;
			if (p->score <= ARENA_SCORE_MAX - k->points)
				p->score += k->points;
			a->h->set(a->r, p->ent, 0, p->score);
			arena_place_pickup(a, k);
			a->h->event(a->r, ARENA_EV_SCORED, p->id, p->score);
		}
	}
}

/* ------------------------------------------------------ save and load */

/* A writer that counts what it could not write, as snprintf does. */
struct arena_wr {
	uint8_t		*p;
	size_t		 cap, len;
};

static void
wr_u64(struct arena_wr *w, uint64_t v)
{
	int	i;

	for (i = 0; i < 8; i++, w->len++)
		if (w->len < w->cap)
			w->p[w->len] = (uint8_t)(v >> (8 * i));
}

static void
wr_f64(struct arena_wr *w, double d)
{
	uint64_t	v;

	memcpy(&v, &d, sizeof(v));
	wr_u64(w, v);
}

struct arena_rd {
	const uint8_t	*p;
	size_t		 len, off;
	int		 bad;
};

static uint64_t
rd_u64(struct arena_rd *r)
{
	uint64_t	v = 0;
	int		i;

	if (r->len - r->off < 8) {
		r->bad = 1;
		return 0;
	}
	for (i = 0; i < 8; i++)
		v |= (uint64_t)r->p[r->off++] << (8 * i);
	return v;
}

/* A finite double in [lo, hi]; anything else spoils the read. */
static double
rd_f64(struct arena_rd *r, double lo, double hi)
{
	uint64_t	v = rd_u64(r);
	double		d;

	memcpy(&d, &v, sizeof(d));
	if (!(d >= lo && d <= hi))
		r->bad = 1;
	return d;
}

static int64_t
rd_i64(struct arena_rd *r, int64_t lo, int64_t hi)
{
	int64_t	v = (int64_t)rd_u64(r);

	if (v < lo || v > hi)
		r->bad = 1;
	return v;
}

/*
 * Layout, every item 8 bytes little-endian: magic, nslots, nresults;
 * per slot: used, id, ent, x, y, vx, vy, score; per pickup: ent, x, y,
 * points; per result kept (min(nresults, ARENA_RESULTS)): id, score.
 */
static size_t
arena_save(void *w, uint8_t *buf, size_t cap)
{
	struct arena		*a = w;
	struct arena_player	*p;
	struct arena_wr		 o = { buf, cap, 0 };
	unsigned		 i, n;

	wr_u64(&o, ARENA_MAGIC);
	wr_u64(&o, a->nslots);
	wr_u64(&o, a->nresults);
	for (i = 0; i < a->nslots; i++) {
		p = &a->player[i];
		wr_u64(&o, (uint64_t)p->used);
		wr_u64(&o, p->id);
		wr_u64(&o, p->ent);
		wr_f64(&o, p->x);
		wr_f64(&o, p->y);
		wr_f64(&o, p->vx);
		wr_f64(&o, p->vy);
		wr_u64(&o, (uint64_t)p->score);
	}
	for (i = 0; i < ARENA_PICKUPS; i++) {
		wr_u64(&o, a->pickup[i].ent);
		wr_f64(&o, a->pickup[i].x);
		wr_f64(&o, a->pickup[i].y);
		wr_u64(&o, (uint64_t)a->pickup[i].points);
	}
	n = a->nresults < ARENA_RESULTS ? a->nresults : ARENA_RESULTS;
	for (i = 0; i < n; i++) {
		wr_u64(&o, a->result[i].id);
		wr_u64(&o, (uint64_t)a->result[i].score);
	}
	return o.len;
}

static void *
arena_load(struct gs_room *r, const struct gs_host *h,
    const struct gs_room_conf *conf, const uint8_t *buf, size_t len)
{
	struct arena		*a;
	struct arena_player	*p;
	struct arena_rd		 in = { buf, len, 0, 0 };
	unsigned		 i, n;

	if (rd_u64(&in) != ARENA_MAGIC ||
	    rd_u64(&in) != conf->max_players ||
	    (a = arena_alloc(r, h, conf)) == NULL)
		return NULL;
	a->nresults = (unsigned)rd_i64(&in, 0, UINT32_MAX);
	for (i = 0; i < a->nslots && !in.bad; i++) {
		p = &a->player[i];
		p->used = (int)rd_i64(&in, 0, 1);
		p->id = rd_u64(&in);
		p->ent = (gs_ent)rd_i64(&in, 0, UINT32_MAX);
		p->x = rd_f64(&in, 0, ARENA_SIZE);
		p->y = rd_f64(&in, 0, ARENA_SIZE);
		p->vx = rd_f64(&in, -ARENA_SPEED, ARENA_SPEED);
		p->vy = rd_f64(&in, -ARENA_SPEED, ARENA_SPEED);
		p->score = rd_i64(&in, 0, ARENA_SCORE_MAX);
	}
	for (i = 0; i < ARENA_PICKUPS && !in.bad; i++) {
		a->pickup[i].ent = (gs_ent)rd_i64(&in, 1, UINT32_MAX);
		a->pickup[i].x = rd_f64(&in, 0, ARENA_SIZE);
		a->pickup[i].y = rd_f64(&in, 0, ARENA_SIZE);
		a->pickup[i].points = rd_i64(&in, 1, 5);
	}
	n = a->nresults < ARENA_RESULTS ? a->nresults : ARENA_RESULTS;
	for (i = 0; i < n && !in.bad; i++) {
		a->result[i].id = rd_u64(&in);
		a->result[i].score = rd_i64(&in, 0, ARENA_SCORE_MAX);
	}
	if (in.bad || in.off != in.len) {
		free(a);
		return NULL;
	}
	return a;
}

/* {"game":"arena","scores":[{"player":"ID","score":N},...]}: the
 * players still in the room, then the last ARENA_RESULTS who left. */
static size_t
arena_end(void *w, char *out, size_t cap)
{
	struct arena	*a = w;
	size_t		 len = 0;
	unsigned	 i, n;
	int		 k, first = 1;

#define PUT(...) do {							\
	k = snprintf(out + len, cap - len, __VA_ARGS__);		\
	if (k < 0 || (size_t)k >= cap - len)				\
		return 0;						\
	len += (size_t)k;						\
} while (0)
	PUT("{\"game\":\"arena\",\"scores\":[");
	for (i = 0; i < a->nslots; i++) {
		if (!a->player[i].used)
			continue;
		PUT("%s{\"player\":\"%llu\",\"score\":%lld}", first ? "" : ",",
		    (unsigned long long)a->player[i].id,
		    (long long)a->player[i].score);
		first = 0;
	}
	n = a->nresults < ARENA_RESULTS ? a->nresults : ARENA_RESULTS;
	for (i = 0; i < n; i++) {
		PUT("%s{\"player\":\"%llu\",\"score\":%lld}", first ? "" : ",",
		    (unsigned long long)a->result[i].id,
		    (long long)a->result[i].score);
		first = 0;
	}
	PUT("]}");
#undef PUT
	return len;
}

static void
arena_destroy(void *w)
{
	free(w);
}

static const struct gs_field arena_player_fields[] = {
	{ "score", 0, ARENA_SCORE_MAX },
};
static const struct gs_field arena_pickup_fields[] = {
	{ "points", 1, 5 },
};
static const struct gs_type arena_types[] = {
	[ARENA_T_PLAYER] = { "player", arena_player_fields, 1 },
	[ARENA_T_PICKUP] = { "pickup", arena_pickup_fields, 1 },
};
static const struct gs_input_field arena_inputs[] = {
	{ "mx", -ARENA_AXIS, ARENA_AXIS, 0 },
	{ "my", -ARENA_AXIS, ARENA_AXIS, 0 },
	{ "buttons", 0, 255, 0 },
};

const struct gs_game gs_game = {
	.abi = GS_GAME_ABI,
	.size = sizeof(struct gs_game),
	.name = "arena",
	.version = ARENA_VERSION,
	.world_w = ARENA_SIZE,
	.world_h = ARENA_SIZE,
	.pos_step = 0.25,
	.types = arena_types,
	.ntypes = 2,
	.inputs = arena_inputs,
	.ninputs = 3,
	.create = arena_create,
	.join_attempt = arena_join_attempt,
	.join = arena_join,
	.leave = arena_leave,
	.input = arena_input,
	.tick = arena_tick,
	.save = arena_save,
	.load = arena_load,
	.end = arena_end,
	.destroy = arena_destroy,
};
