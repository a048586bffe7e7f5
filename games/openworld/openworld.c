/*
 * "openworld": one big room of wandering creatures, for MMO-style use
 * and for the benchmark of the replication core (gs-game(3)).
 *
 *   World: OW_SIZE x OW_SIZE units.  The room's creature count is the
 *   number that ends its name ("ow-50000": 50,000), OW_DEFAULT without
 *   one, at most OW_MAX.  A creature walks at OW_SPEED units/s in its
 *   heading, turns to a random heading now and then (on average every
 *   OW_TURN_TICKS ticks) and turns back at the edges.  Players walk
 *   with their stick at the same speed.
 *
 * Entity types: 1 "creature" (field heading 0-255, the angle in 256ths
 * of a turn; field kind 0-3), 2 "player" (field heading).  Inputs: mx
 * and my, -127 to 127.  All randomness comes from the room's stream.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gs/game.h>

#define OW_SIZE		10000.0
#define OW_SPEED	60.0		/* units per second */
#define OW_DEFAULT	10000
#define OW_MAX		200000
#define OW_TURN_TICKS	90
#define OW_AXIS		127
#define OW_MAGIC	0x3157574fu	/* "OWW1" */
#define OW_PI		3.14159265358979323846

enum { OW_T_CREATURE, OW_T_PLAYER };

struct ow_thing {
	gs_ent		 ent;
	double		 x, y;
	double		 vx, vy;	/* units per tick */
	int64_t		 heading;	/* 0-255 */
	int64_t		 kind;		/* creatures: 0-3 */
	int32_t		 used;		/* players: the slot is taken */
};

struct ow {
	struct gs_room		*r;
	const struct gs_host	*h;
	double			 dt;
	unsigned		 nslots;
	unsigned		 ncreatures;
	struct ow_thing		*creature;
	struct ow_thing		 player[];	/* nslots */
};

static double
ow_uniform(struct ow *w, double lo, double hi)
{
	return lo + (hi - lo) * ((double)(w->h->random(w->r) >> 11) *
	    0x1.0p-53);
}

/* A heading in 256ths of a turn, and the velocity it gives. */
static void
ow_head(struct ow *w, struct ow_thing *t, int64_t heading)
{
	double	a = (double)heading * 2 * OW_PI / 256;

	t->heading = heading & 255;
	t->vx = cos(a) * OW_SPEED * w->dt;
	t->vy = sin(a) * OW_SPEED * w->dt;
}

static unsigned
ow_count(const char *room)
{
	const char	*p = room + strlen(room);
	unsigned long	 n;

	while (p > room && p[-1] >= '0' && p[-1] <= '9')
		p--;
	if (*p == '\0')
		return OW_DEFAULT;
	n = strtoul(p, NULL, 10);
	return n > OW_MAX ? OW_MAX : (unsigned)n;
}

static struct ow *
ow_alloc(struct gs_room *r, const struct gs_host *h,
    const struct gs_room_conf *conf, unsigned ncreatures)
{
	struct ow	*w;

	w = calloc(1, sizeof(*w) + conf->max_players * sizeof(w->player[0]));
	if (w == NULL)
		return NULL;
	if ((w->creature = calloc(ncreatures + 1, sizeof(*w->creature))) ==
	    NULL) {
		free(w);
		return NULL;
	}
	w->r = r;
	w->h = h;
	w->dt = 1.0 / conf->tick_rate;
	w->nslots = conf->max_players;
	w->ncreatures = ncreatures;
	return w;
}

static void *
ow_create(struct gs_room *r, const struct gs_host *h,
    const struct gs_room_conf *conf)
{
	struct ow	*w;
	struct ow_thing	*t;
	unsigned	 i;

	if ((w = ow_alloc(r, h, conf, ow_count(conf->room))) == NULL)
		return NULL;
	for (i = 0; i < w->ncreatures; i++) {
		t = &w->creature[i];
		if ((t->ent = h->spawn(r, OW_T_CREATURE, GS_GAME_NOBODY)) == 0)
			break;
		t->x = ow_uniform(w, 0, OW_SIZE);
		t->y = ow_uniform(w, 0, OW_SIZE);
		t->kind = (int64_t)(h->random(r) % 4);
		ow_head(w, t, (int64_t)(h->random(r) % 256));
		h->move(r, t->ent, t->x, t->y);
		h->set(r, t->ent, 0, t->heading);
		h->set(r, t->ent, 1, t->kind);
	}
	return w;
}

static int
ow_join_attempt(void *v, const char *name, char *reason, size_t len)
{
	return 0;
}

static int
ow_join(void *v, unsigned slot, uint64_t id, const char *name)
{
	struct ow	*w = v;
	struct ow_thing	*t = &w->player[slot];

	memset(t, 0, sizeof(*t));
	if ((t->ent = w->h->spawn(w->r, OW_T_PLAYER, (int)slot)) == 0)
		return -1;
	t->used = 1;
	t->x = ow_uniform(w, OW_SIZE / 4, OW_SIZE * 3 / 4);
	t->y = ow_uniform(w, OW_SIZE / 4, OW_SIZE * 3 / 4);
	w->h->move(w->r, t->ent, t->x, t->y);
	return 0;
}

static void
ow_leave(void *v, unsigned slot)
{
	struct ow	*w = v;

	w->h->despawn(w->r, w->player[slot].ent);
	w->player[slot].used = 0;
}

static void
ow_input(void *v, unsigned slot, const int32_t *in)
{
	struct ow	*w = v;
	struct ow_thing	*t = &w->player[slot];
	double		 len = sqrt((double)in[0] * in[0] + (double)in[1] * in[1]);
	double		 k = len > OW_AXIS ? OW_AXIS / len : 1;

	t->vx = in[0] * k / OW_AXIS * OW_SPEED * w->dt;
	t->vy = in[1] * k / OW_AXIS * OW_SPEED * w->dt;
	if (len > 0) {
		t->heading = (int64_t)lround(atan2(in[1], in[0]) * 256 /
		    (2 * OW_PI)) & 255;
		w->h->set(w->r, t->ent, 0, t->heading);
	}
}

/* One step, turning back at the edges. */
static void
ow_step(struct ow *w, struct ow_thing *t, int creature)
{
	double	x = t->x + t->vx, y = t->y + t->vy;

	if (x < 0 || x > OW_SIZE || y < 0 || y > OW_SIZE) {
		if (creature) {
			ow_head(w, t, t->heading + 128);
			w->h->set(w->r, t->ent, 0, t->heading);
		}
		x = x < 0 ? 0 : x > OW_SIZE ? OW_SIZE : x;
		y = y < 0 ? 0 : y > OW_SIZE ? OW_SIZE : y;
	}
	if (x != t->x || y != t->y) {
		t->x = x;
		t->y = y;
		w->h->move(w->r, t->ent, x, y);
	}
}

static void
ow_tick(void *v)
{
	struct ow	*w = v;
	struct ow_thing	*t;
	unsigned	 i;

	for (i = 0; i < w->ncreatures; i++) {
		t = &w->creature[i];
		if (w->h->random(w->r) % OW_TURN_TICKS == 0) {
			ow_head(w, t, (int64_t)(w->h->random(w->r) % 256));
			w->h->set(w->r, t->ent, 0, t->heading);
		}
		ow_step(w, t, 1);
	}
	for (i = 0; i < w->nslots; i++)
		if (w->player[i].used)
			ow_step(w, &w->player[i], 0);
}

/* Bytes, in host order for one machine: magic, counts, the things. */
static size_t
ow_save(void *v, uint8_t *buf, size_t cap)
{
	struct ow	*w = v;
	uint32_t	 head[3] = { OW_MAGIC, w->nslots, w->ncreatures };
	size_t		 pn = w->nslots * sizeof(w->player[0]);
	size_t		 cn = w->ncreatures * sizeof(w->creature[0]);
	size_t		 need = sizeof(head) + pn + cn;

	if (need <= cap) {
		memcpy(buf, head, sizeof(head));
		memcpy(buf + sizeof(head), w->player, pn);
		memcpy(buf + sizeof(head) + pn, w->creature, cn);
	}
	return need;
}

static void *
ow_load(struct gs_room *r, const struct gs_host *h,
    const struct gs_room_conf *conf, const uint8_t *buf, size_t len)
{
	struct ow	*w;
	uint32_t	 head[3];
	size_t		 pn, cn;

	if (len < sizeof(head))
		return NULL;
	memcpy(head, buf, sizeof(head));
	if (head[0] != OW_MAGIC || head[1] != conf->max_players ||
	    head[2] > OW_MAX)
		return NULL;
	pn = head[1] * sizeof(w->player[0]);
	cn = head[2] * sizeof(w->creature[0]);
	if (len != sizeof(head) + pn + cn ||
	    (w = ow_alloc(r, h, conf, head[2])) == NULL)
		return NULL;
	memcpy(w->player, buf + sizeof(head), pn);
	memcpy(w->creature, buf + sizeof(head) + pn, cn);
	return w;
}

static size_t
ow_end(void *v, char *out, size_t cap)
{
	struct ow	*w = v;
	int		 n;

	n = snprintf(out, cap, "{\"game\":\"openworld\",\"creatures\":%u}",
	    w->ncreatures);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static void
ow_destroy(void *v)
{
	struct ow	*w = v;

	free(w->creature);
	free(w);
}

static const struct gs_field ow_creature_fields[] = {
	{ "heading", 0, 255 },
	{ "kind", 0, 3 },
};
static const struct gs_field ow_player_fields[] = {
	{ "heading", 0, 255 },
};
static const struct gs_type ow_types[] = {
	[OW_T_CREATURE] = { "creature", ow_creature_fields, 2 },
	[OW_T_PLAYER] = { "player", ow_player_fields, 1 },
};
static const struct gs_input_field ow_inputs[] = {
	{ "mx", -OW_AXIS, OW_AXIS, 0 },
	{ "my", -OW_AXIS, OW_AXIS, 0 },
};

const struct gs_game gs_game = {
	.abi = GS_GAME_ABI,
	.size = sizeof(struct gs_game),
	.name = "openworld",
	.version = "1",
	.world_w = OW_SIZE,
	.world_h = OW_SIZE,
	.pos_step = 0.25,
	.types = ow_types,
	.ntypes = 2,
	.inputs = ow_inputs,
	.ninputs = 2,
	.create = ow_create,
	.join_attempt = ow_join_attempt,
	.join = ow_join,
	.leave = ow_leave,
	.input = ow_input,
	.tick = ow_tick,
	.save = ow_save,
	.load = ow_load,
	.end = ow_end,
	.destroy = ow_destroy,
};
