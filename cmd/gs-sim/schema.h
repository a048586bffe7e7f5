/*
 * A game's declarations (gs/game.h): whether a table is one gs-sim can
 * run, whether two games declare the same things (a reload), and the
 * check of a player's input against the declared input fields.
 *
 * Pure code: no dlopen, no loop.
 */
#ifndef SIM_SCHEMA_H
#define SIM_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include <gs/game.h>

#include "proto.h"

/* The largest world side: positions go on the wire as int32 in
 * protocol version 1. */
#define SIM_WORLD_MAX	1e9

/* 0 when g is a table this gs-sim runs; otherwise -1 and why in err. */
int	sim_schema_check(const struct gs_game *g, char *err, size_t errlen);
/* 0 when a and b declare the same world, entity types and fields, and
 * input fields (names, ranges, cooldowns); otherwise -1 and the first
 * difference in err. */
int	sim_schema_same(const struct gs_game *a, const struct gs_game *b,
	    char *err, size_t errlen);

/* What sim_input_values() found wrong. */
enum { SIM_INPUT_OK = 0, SIM_INPUT_ERANGE, SIM_INPUT_EUNDECLARED };
/*
 * The values of an input for g's input fields, one each in order.
 * ERANGE: a value outside its field's range; EUNDECLARED: more or fewer
 * values than fields.  v has GS_GAME_INPUTS_MAX elements; those past
 * g->ninputs are 0.
 */
int	sim_input_values(const struct gs_game *g, const struct gs_input *in,
	    int32_t *v);

#endif
