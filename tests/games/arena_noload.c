/*
 * A game that declares what the arena game declares but cannot load
 * any state: a reload into it must fail and leave every room on the
 * running game (tests/integration/reload.sh).  Its other callbacks are
 * never reached in that test and do the least they may.
 */
#include <stdint.h>
#include <stdlib.h>

#include <gs/game.h>

static void *
n_create(struct gs_room *r, const struct gs_host *h,
    const struct gs_room_conf *conf)
{
	return calloc(1, 1);
}

static int
n_join_attempt(void *w, const char *name, char *reason, size_t len)
{
	return 0;
}

static int
n_join(void *w, unsigned slot, uint64_t id, const char *name)
{
	return -1;
}

static void	n_leave(void *w, unsigned slot) { }
static void	n_input(void *w, unsigned slot, const int32_t *v) { }
static void	n_tick(void *w) { }

static size_t
n_save(void *w, uint8_t *buf, size_t cap)
{
	if (cap > 0)
		buf[0] = 0;
	return 1;
}

static void *
n_load(struct gs_room *r, const struct gs_host *h,
    const struct gs_room_conf *conf, const uint8_t *buf, size_t len)
{
	return NULL;
}

static size_t
n_end(void *w, char *out, size_t cap)
{
	return 0;
}

static void
n_destroy(void *w)
{
	free(w);
}

/* As games/arena/arena.c declares them. */
static const struct gs_field n_player_fields[] = {
	{ "score", 0, (int64_t)1 << 53 },
};
static const struct gs_field n_pickup_fields[] = {
	{ "points", 1, 5 },
};
static const struct gs_type n_types[] = {
	{ "player", n_player_fields, 1 },
	{ "pickup", n_pickup_fields, 1 },
};
static const struct gs_input_field n_inputs[] = {
	{ "mx", -127, 127, 0 },
	{ "my", -127, 127, 0 },
	{ "buttons", 0, 255, 0 },
};

const struct gs_game gs_game = {
	.abi = GS_GAME_ABI,
	.size = sizeof(struct gs_game),
	.name = "arena",
	.version = "noload",
	.world_w = 2000,
	.world_h = 2000,
	.pos_step = 0.25,
	.types = n_types,
	.ntypes = 2,
	.inputs = n_inputs,
	.ninputs = 3,
	.create = n_create,
	.join_attempt = n_join_attempt,
	.join = n_join,
	.leave = n_leave,
	.input = n_input,
	.tick = n_tick,
	.save = n_save,
	.load = n_load,
	.end = n_end,
	.destroy = n_destroy,
};
