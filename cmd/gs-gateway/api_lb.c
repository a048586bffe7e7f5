/* The HTTP API of leaderboards (api.h). */
#include <stddef.h>

#include "gateway.h"
#include "api.h"

const struct api_route gw_lb_routes[] = {
	{ 0, NULL, false, 0, NULL },
};
