/* The HTTP API of friends and chat (api.h): a stub being written. */
#include <stddef.h>

#include "gateway.h"
#include "api.h"

const struct api_route gw_social_routes[] = {
	{ 0, NULL, false, 0, NULL },
};

void
gw_social_tick(struct gw *gw)
{
}
