/* The HTTP API of player data: profiles, stats, matches (api.h). */
#include <stddef.h>

#include "gateway.h"
#include "api.h"

const struct api_route gw_player_routes[] = {
	{ 0, NULL, false, 0, NULL },
};
