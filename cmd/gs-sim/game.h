/*
 * The interface between the gs-sim core and a game's rules.
 *
 * The core owns time, players, input queueing and validation, and
 * replication; the game owns the world.  Per tick the core hands each
 * player's next input to the game (or nothing: the game keeps applying
 * the last one), calls tick once, and asks for the entities when a
 * snapshot is due.  The game reports what happened through the host's
 * event callback.  Nothing here touches sockets, so a game can later be
 * a dlopen(3) plugin (gs-game(3)) with this table as its entry point.
 *
 * Players are addressed by slot, an index in [0, max_players) that the
 * core assigns at join and frees at leave, so a game can keep its
 * players in a plain array.  A player's entity id is its player id
 * (core-assigned, below SIM_GAME_ID_BASE); other entities take ids
 * from SIM_GAME_ID_BASE up, so the two never collide.
 *
 * All calls come from the loop thread; none may block.
 */
#ifndef SIM_GAME_H
#define SIM_GAME_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define SIM_GAME_ID_BASE	((uint64_t)1 << 32)

struct sim_game_conf {
	const char	*room;		/* borrowed for the call */
	uint64_t	 seed;		/* same seed + same inputs: same game */
	unsigned	 max_players;	/* slots are below this */
	unsigned	 tick_rate;	/* ticks per second; dt = 1/tick_rate */
};

struct sim_game_host {
	void	*arg;
	/* An event for every player of the room (code GS_EV_*, e.g.
	 * GS_EV_SCORED with the new score in value).  The core adds the
	 * tick and sends it reliably.  May be called from tick only. */
	void	(*event)(void *arg, uint32_t code, uint64_t player,
		    int64_t value);
};

struct sim_game {
	const char	*name;
	/* A new world; NULL on allocation failure.  host is copied. */
	void	*(*create)(const struct sim_game_conf *conf,
		    const struct sim_game_host *host);
	/* A player enters slot (free until now).  Returns 0, or a
	 * GS_PERR_* code to refuse (the slot stays free). */
	int	 (*join)(void *g, unsigned slot, uint64_t id,
		    const char *name);
	void	 (*leave)(void *g, unsigned slot);
	/* The player's input from this tick on, already range-checked. */
	void	 (*input)(void *g, unsigned slot, const struct gs_input *in);
	/* Advance the world by one tick (dt = 1 / tick_rate). */
	void	 (*tick)(void *g, uint64_t tick);
	/* Write up to max entities into out; returns how many. */
	size_t	 (*entities)(void *g, struct gs_entity *out, size_t max);
	/* Free the world.  No player is left in it. */
	void	 (*end)(void *g);
};

extern const struct sim_game sim_arena;

#endif
