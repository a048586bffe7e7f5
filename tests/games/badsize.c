/* The right ABI number but a table of another size, as a plugin built
 * against a changed header would have: gs-sim must refuse it. */
#include <gs/game.h>

const struct gs_game gs_game = {
	.abi = GS_GAME_ABI,
	.size = sizeof(struct gs_game) - 8,
	.name = "badsize",
};
