/* A table from a future ABI: gs-sim must refuse it by its version. */
#include <gs/game.h>

const struct gs_game gs_game = {
	.abi = GS_GAME_ABI + 98,
	.size = sizeof(struct gs_game),
	.name = "badabi",
};
