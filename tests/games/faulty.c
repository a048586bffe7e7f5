/*
 * A game that breaks gs-game(3) on purpose, chosen by the room's name,
 * for tests/integration/game.sh.  In a room named
 *
 *   ok...      it plays: each player is an entity that moves with its
 *              input, and field "hits" counts its ticks up to 10
 *   set...     at its 5th tick it sets field 3, which no type declares
 *   range...   at its 5th tick it sets "hits" to 11 (declared 0-10)
 *   move...    at its 5th tick it moves a player out of the world
 *   stale...   at its 5th tick it despawns a player's entity twice
 *   leave...   its leave keeps the player's entity
 *   save...    its save puts a call counter in the bytes, so that they
 *              never come back the same through load and save
 *   refuse...  join_attempt refuses everyone, saying why
 *   result...  its match result is not JSON
 *
 * The input field "fire" has a cooldown of 5 ticks; the game counts
 * the non-zero values it receives in field "fired" (0-1000).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gs/game.h>

#define F_SIZE	100.0
#define F_SLOTS	64

struct f_player {
	int	 used;
	gs_ent	 ent;
	double	 x, y, vx, vy;
	int64_t	 hits, fired;
};

struct faulty {
	struct gs_room		*r;
	const struct gs_host	*h;
	char			 mode[16];
	uint64_t		 ticks;
	uint64_t		 saves;
	unsigned		 nslots;
	struct f_player		 p[F_SLOTS];
};

static int
mode(const struct faulty *f, const char *m)
{
	return strncmp(f->mode, m, strlen(m)) == 0;
}

static void *
f_create(struct gs_room *r, const struct gs_host *h,
    const struct gs_room_conf *conf)
{
	struct faulty	*f;

	if (conf->max_players > F_SLOTS || (f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->r = r;
	f->h = h;
	f->nslots = conf->max_players;
	(void)snprintf(f->mode, sizeof(f->mode), "%s", conf->room);
	return f;
}

static int
f_join_attempt(void *w, const char *name, char *reason, size_t len)
{
	struct faulty	*f = w;

	if (!mode(f, "refuse"))
		return 0;
	(void)snprintf(reason, len, "no entry today, %s", name);
	return 1;
}

static int
f_join(void *w, unsigned slot, uint64_t id, const char *name)
{
	struct faulty	*f = w;
	struct f_player	*p = &f->p[slot];

	memset(p, 0, sizeof(*p));
	if ((p->ent = f->h->spawn(f->r, 0, (int)slot)) == 0)
		return -1;
	p->used = 1;
	p->x = p->y = F_SIZE / 2;
	f->h->move(f->r, p->ent, p->x, p->y);
	return 0;
}

static void
f_leave(void *w, unsigned slot)
{
	struct faulty	*f = w;

	if (!mode(f, "leave"))
		f->h->despawn(f->r, f->p[slot].ent);
	f->p[slot].used = 0;
}

static void
f_input(void *w, unsigned slot, const int32_t *v)
{
	struct faulty	*f = w;
	struct f_player	*p = &f->p[slot];

	p->vx = v[0] / 127.0;
	p->vy = v[1] / 127.0;
	if (v[2] != 0 && p->fired < 1000)
		f->h->set(f->r, p->ent, 1, ++p->fired);
}

static double
clamp(double v)
{
	return v < 0 ? 0 : v > F_SIZE ? F_SIZE : v;
}

static void
f_tick(void *w)
{
	struct faulty	*f = w;
	struct f_player	*p;
	unsigned	 i;

	f->ticks++;
	for (i = 0; i < f->nslots; i++) {
		p = &f->p[i];
		if (!p->used)
			continue;
		p->x = clamp(p->x + p->vx);
		p->y = clamp(p->y + p->vy);
		f->h->move(f->r, p->ent, p->x, p->y);
		if (p->hits < 10)
			f->h->set(f->r, p->ent, 0, ++p->hits);
		if (f->ticks != 5)
			continue;
		if (mode(f, "set"))
			f->h->set(f->r, p->ent, 3, 1);
		else if (mode(f, "range"))
			f->h->set(f->r, p->ent, 0, 11);
		else if (mode(f, "move"))
			f->h->move(f->r, p->ent, -1, 0);
		else if (mode(f, "stale")) {
			f->h->despawn(f->r, p->ent);
			f->h->despawn(f->r, p->ent);
		}
	}
}

/* Bytes: ticks, the saves counter in "save" rooms, then per slot used,
 * ent, x, y, vx, vy, hits, fired; all in host order, for one build. */
static size_t
f_save(void *w, uint8_t *buf, size_t cap)
{
	struct faulty	*f = w;
	uint64_t	 saves = mode(f, "save") ? ++f->saves : 0;
	size_t		 need = 2 * 8 + f->nslots * sizeof(struct f_player);

	if (need <= cap) {
		memcpy(buf, &f->ticks, 8);
		memcpy(buf + 8, &saves, 8);
		memcpy(buf + 16, f->p, f->nslots * sizeof(struct f_player));
	}
	return need;
}

static void *
f_load(struct gs_room *r, const struct gs_host *h,
    const struct gs_room_conf *conf, const uint8_t *buf, size_t len)
{
	struct faulty	*f;

	if ((f = f_create(r, h, conf)) == NULL)
		return NULL;
	if (len != 2 * 8 + f->nslots * sizeof(struct f_player)) {
		free(f);
		return NULL;
	}
	memcpy(&f->ticks, buf, 8);
	memcpy(&f->saves, buf + 8, 8);
	memcpy(f->p, buf + 16, f->nslots * sizeof(struct f_player));
	return f;
}

static size_t
f_end(void *w, char *out, size_t cap)
{
	struct faulty	*f = w;
	int		 n;

	n = snprintf(out, cap, mode(f, "result") ? "{\"ticks\": %llu" :
	    "{\"ticks\": %llu}", (unsigned long long)f->ticks);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static void
f_destroy(void *w)
{
	free(w);
}

static const struct gs_field f_fields[] = {
	{ "hits", 0, 10 },
	{ "fired", 0, 1000 },
};
static const struct gs_type f_types[] = {
	{ "dot", f_fields, 2 },
};
static const struct gs_input_field f_inputs[] = {
	{ "mx", -127, 127, 0 },
	{ "my", -127, 127, 0 },
	{ "fire", 0, 1, 5 },
};

const struct gs_game gs_game = {
	.abi = GS_GAME_ABI,
	.size = sizeof(struct gs_game),
	.name = "faulty",
	.version = "1",
	.world_w = F_SIZE,
	.world_h = F_SIZE,
	.pos_step = 1.0 / 64,
	.types = f_types,
	.ntypes = 1,
	.inputs = f_inputs,
	.ninputs = 3,
	.create = f_create,
	.join_attempt = f_join_attempt,
	.join = f_join,
	.leave = f_leave,
	.input = f_input,
	.tick = f_tick,
	.save = f_save,
	.load = f_load,
	.end = f_end,
	.destroy = f_destroy,
};
