/*
 * gs/game.h: the interface between gs-sim and a game plugin, ABI 1.
 * The reference is gs-game(3); this header is its code.
 *
 * A game is a shared object that gs-sim loads with dlopen(3).  It
 * exports one symbol, gs_game, a const struct gs_game: the game's
 * declarations (entity types and their fields, input fields) and its
 * callbacks.  gs-sim refuses a table whose abi or size differs from its
 * own GS_GAME_ABI and sizeof(struct gs_game).
 *
 * The core (gs-sim) owns time, players, the input queue and its
 * validation, and the entities clients see; the game owns its rules.
 * The game creates entities and writes their positions and fields
 * through the host table; the core replicates them.  A game that
 * breaks a rule of this interface (an undeclared type or field, a
 * value out of its declared range, a handle that is not live, save
 * bytes that do not load back) has its room ended and reported: the
 * offending call is ignored and the room's players are told why.
 *
 * Every call, in both directions, is made on gs-sim's loop thread, one
 * at a time; none may block.  A game may keep the host and room
 * pointers it is given for the life of the world.
 */
#ifndef GS_GAME_H
#define GS_GAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GS_GAME_ABI		1

#define GS_GAME_TYPES_MAX	16	/* entity types of one game */
#define GS_GAME_FIELDS_MAX	8	/* fields of one entity type */
#define GS_GAME_INPUTS_MAX	8	/* input fields */
#define GS_GAME_ENTITIES_MAX	((1u << 20) - 1)	/* live, per room */
#define GS_GAME_REASON_MAX	120	/* a join refusal, bytes */
#define GS_GAME_SAVE_MAX	(16u * 1024 * 1024)	/* save bytes */
#define GS_GAME_RESULT_MAX	4096	/* a match result, bytes */

/* log levels */
#define GS_GAME_LOG_ERROR	0
#define GS_GAME_LOG_WARN	1
#define GS_GAME_LOG_INFO	2
#define GS_GAME_LOG_DEBUG	3

/* spawn()'s slot for an entity that is nobody's player */
#define GS_GAME_NOBODY		(-1)

/* An entity handle; 0 is never one. */
typedef uint32_t gs_ent;

/* The core's room, opaque to the game. */
struct gs_room;

/* An integer field of an entity type: every value written is in
 * [min, max]. */
struct gs_field {
	const char	*name;
	int64_t		 min, max;
};

/* An entity type: its wire number is its index in gs_game.types + 1. */
struct gs_type {
	const char		*name;
	const struct gs_field	*fields;
	unsigned		 nfields;	/* <= GS_GAME_FIELDS_MAX */
};

/*
 * A field of the player's input.  The core drops an input with a value
 * outside [min, max] or a non-zero value for an undeclared field, and
 * counts it.  A field with a cooldown is an action: the core lets a
 * non-zero value through at most once per cooldown ticks, and hands
 * the game 0 in between.
 */
struct gs_input_field {
	const char	*name;
	int32_t		 min, max;
	uint32_t	 cooldown;	/* ticks; 0: none */
};

struct gs_room_conf {
	const char	*room;		/* the room's name, borrowed */
	unsigned	 max_players;	/* player slots are below this */
	unsigned	 tick_rate;	/* ticks per second: dt = 1/tick_rate */
};

/* What the core offers the game.  abi and size as in gs_game. */
struct gs_host {
	uint32_t	 abi;
	uint32_t	 size;
	/* A line in gs-sim's log, tagged with the room and the game. */
	void		(*log)(struct gs_room *r, int level, const char *fmt,
			    ...) __attribute__((format(printf, 3, 4)));
	/* An event to every player of the room, reliable and ordered,
	 * tagged with the current tick.  code is the game's own; the
	 * core's codes 1 (joined) and 2 (left) are reserved. */
	void		(*event)(struct gs_room *r, uint32_t code,
			    uint64_t player, int64_t value);
	/* The room's random stream: seeded from gs-sim's seed and the
	 * room's name, kept by the core, so the same seed and the same
	 * inputs give the same game, across a reload too. */
	uint64_t	(*random)(struct gs_room *r);
	/* Ticks done in this room (the tick being run during tick()). */
	uint64_t	(*tick)(struct gs_room *r);
	/* Wall clock, microseconds since the epoch.  A deterministic game
	 * uses the tick instead. */
	uint64_t	(*now_us)(struct gs_room *r);
	/* A new entity of a declared type (index into gs_game.types),
	 * at (0, 0), each field at the value of its range nearest 0.
	 * slot is the player it stands for (its id on the wire is the
	 * player's; one live entity per player), or GS_GAME_NOBODY.
	 * Returns 0 when refused (a fault: the room ends). */
	gs_ent		(*spawn)(struct gs_room *r, unsigned type, int slot);
	void		(*despawn)(struct gs_room *r, gs_ent e);
	/* Position in world units, inside [0, world_w] x [0, world_h]. */
	void		(*move)(struct gs_room *r, gs_ent e, double x,
			    double y);
	/* A declared field (index into the type's fields). */
	void		(*set)(struct gs_room *r, gs_ent e, unsigned field,
			    int64_t v);
};

/*
 * The game.  Every callback is required.  "world" is the game's state
 * for one room, as create or load returned it.
 */
struct gs_game {
	uint32_t			 abi;	/* GS_GAME_ABI */
	uint32_t			 size;	/* sizeof(struct gs_game) */
	const char			*name;	/* [a-z0-9_-], 1-32 bytes */
	const char			*version;
	double				 world_w, world_h;
	/* Positions reach clients in steps of this many units (a step
	 * 65536 times smaller than the world is plenty). */
	double				 pos_step;
	const struct gs_type		*types;
	unsigned			 ntypes;
	const struct gs_input_field	*inputs;
	unsigned			 ninputs;

	/* A new world.  NULL on failure (the room is not created). */
	void	*(*create)(struct gs_room *r, const struct gs_host *host,
		    const struct gs_room_conf *conf);
	/* May this player come in?  0 yes; otherwise write a reason the
	 * client is shown (NUL-terminated, at most reasonlen bytes with
	 * the NUL) and return non-zero. */
	int	 (*join_attempt)(void *world, const char *name, char *reason,
		    size_t reasonlen);
	/* The player enters slot (free until now).  0, or non-zero to
	 * refuse after all. */
	int	 (*join)(void *world, unsigned slot, uint64_t player,
		    const char *name);
	/* The player leaves slot.  The game despawns the entities it
	 * spawned for that slot before it returns. */
	void	 (*leave)(void *world, unsigned slot);
	/* The player's input from this tick on: ninputs values, checked
	 * against the declaration.  Without a new input the game keeps
	 * the last one. */
	void	 (*input)(void *world, unsigned slot, const int32_t *v);
	/* Advance the world by one tick. */
	void	 (*tick)(void *world);
	/*
	 * The whole state of the world as bytes, for a reload and for
	 * checkpoints: write at most cap bytes to buf and return the
	 * length of the whole state (as snprintf does); when that is
	 * above cap the core calls again with a buffer that large.
	 * 0 means failure.  Entities are the core's: handles stay valid
	 * across a reload, so the state may hold them.
	 */
	size_t	 (*save)(void *world, uint8_t *buf, size_t cap);
	/* A world from save's bytes, possibly those of an earlier
	 * version of the game.  NULL when they cannot be restored. */
	void	*(*load)(struct gs_room *r, const struct gs_host *host,
		    const struct gs_room_conf *conf, const uint8_t *buf,
		    size_t len);
	/* The match is over: write the result, a JSON object, into
	 * result (NUL-terminated, at most cap bytes with the NUL) and
	 * return its length; 0 for none. */
	size_t	 (*end)(void *world, char *result, size_t cap);
	/* Free the world. */
	void	 (*destroy)(void *world);
};

/* The one symbol a game exports. */
extern const struct gs_game gs_game;

#ifdef __cplusplus
}
#endif

#endif
