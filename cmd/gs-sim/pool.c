#include <stdlib.h>
#include <string.h>

#include "pool.h"

void
sim_pool_init(struct sim_pool *pl, size_t size, size_t cap)
{
	pl->size = size < sizeof(void *) ? sizeof(void *) : size;
	pl->cap = cap;
	pl->live = 0;
	pl->free = NULL;
}

void *
sim_pool_get(struct sim_pool *pl)
{
	void	*obj;

	if (pl->live >= pl->cap)
		return NULL;
#ifndef GS_NO_POOLS
	if ((obj = pl->free) != NULL) {
		memcpy(&pl->free, obj, sizeof(void *));
		memset(obj, 0, pl->size);
		pl->live++;
		return obj;
	}
#endif
	if ((obj = calloc(1, pl->size)) == NULL)
		return NULL;
	pl->live++;
	return obj;
}

void
sim_pool_put(struct sim_pool *pl, void *obj)
{
	if (obj == NULL)
		return;
	pl->live--;
#ifdef GS_NO_POOLS
	free(obj);
#else
	memcpy(obj, &pl->free, sizeof(void *));
	pl->free = obj;
#endif
}

void
sim_pool_destroy(struct sim_pool *pl)
{
	void	*obj, *next;

	for (obj = pl->free; obj != NULL; obj = next) {
		memcpy(&next, obj, sizeof(void *));
		free(obj);
	}
	pl->free = NULL;
}
