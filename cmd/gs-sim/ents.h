/*
 * A room's entities: the core's storage of what clients see.
 *
 * The game creates entities and writes their positions and fields
 * through the host table (gs/game.h); game.c checks each call's
 * arguments against the game's declarations here and turns a refusal
 * into a fault of the room.  Snapshots read the live entities in
 * dense order (sim_ents_at).
 *
 * A handle packs a slot index (low 20 bits, plus one so that 0 is never
 * a handle) and the slot's generation (12 bits), which changes when an
 * entity is despawned: a handle kept past its despawn is refused, not
 * taken for the slot's next entity, until 4,096 reuses of one slot.
 *
 * Pure code: no clock, no loop, no metrics.
 */
#ifndef SIM_ENTS_H
#define SIM_ENTS_H

#include <stdbool.h>
#include <stdint.h>

#include <gs/game.h>

enum {
	SIM_ENT_OK = 0,
	SIM_ENT_ETYPE,		/* type not declared */
	SIM_ENT_EHANDLE,	/* not a live entity's handle */
	SIM_ENT_EFIELD,		/* field not declared for the type */
	SIM_ENT_ERANGE,		/* value outside the field's range */
	SIM_ENT_EPOS,		/* position outside the world, or not finite */
	SIM_ENT_EOWNER,		/* slot out of range, or owns an entity */
	SIM_ENT_EFULL,		/* GS_GAME_ENTITIES_MAX live */
	SIM_ENT_ENOMEM,
};
const char	*sim_ents_err(int code);	/* "type not declared", ... */

struct sim_ent {
	uint64_t	 id;		/* on the wire */
	double		 x, y;
	int64_t		 f[GS_GAME_FIELDS_MAX];
	int32_t		 owner;		/* player slot, or GS_GAME_NOBODY */
	uint32_t	 dense;		/* index in live[] */
	uint16_t	 gen;
	uint8_t		 type;		/* index in game->types */
	uint8_t		 live;
};

struct sim_ents {
	const struct gs_game	*game;		/* the declarations; borrowed */
	struct sim_ent		*e;		/* cap slots */
	uint32_t		*live;		/* live slot indexes, dense */
	uint32_t		*free;		/* free slot indexes, a stack */
	uint32_t		 n;		/* live */
	uint32_t		 nfree;
	uint32_t		 cap;
	/* By player slot: the index + 1 of its entity; 0: none. */
	uint32_t		*owned;
	uint32_t		 nowned;
	/* Counts spawns and despawns: the set of live slots is the same
	 * while it is. */
	uint64_t		 changes;
};

/* Empty storage for game's entities; nothing is allocated yet. */
void	 sim_ents_init(struct sim_ents *es, const struct gs_game *game);
void	 sim_ents_free(struct sim_ents *es);
/*
 * A new entity of type with wire id id, standing for player slot owner
 * (< nslots, at most one live entity each) or GS_GAME_NOBODY; at (0, 0),
 * its fields 0 (or their minimum when 0 is out of range).
 */
int	 sim_ents_spawn(struct sim_ents *es, unsigned type, int owner,
	    unsigned nslots, uint64_t id, gs_ent *out);
int	 sim_ents_despawn(struct sim_ents *es, gs_ent h);
int	 sim_ents_move(struct sim_ents *es, gs_ent h, double x, double y);
int	 sim_ents_set(struct sim_ents *es, gs_ent h, unsigned field,
	    int64_t v);
/* The live entity behind h, or NULL. */
struct sim_ent	*sim_ents_get(struct sim_ents *es, gs_ent h);
/* The live entity standing for player slot owner, or NULL. */
struct sim_ent	*sim_ents_owned(struct sim_ents *es, int owner);

/* The i-th live entity, i < es->n; the order changes with despawns. */
static inline struct sim_ent *
sim_ents_at(const struct sim_ents *es, uint32_t i)
{
	return &es->e[es->live[i]];
}

#endif
