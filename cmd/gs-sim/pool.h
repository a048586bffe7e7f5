/*
 * A free-list pool of fixed-size objects with a hard cap on how many
 * may be live at once.  Objects are allocated on first need and kept
 * on the free list when put back, so a steady state allocates nothing.
 * Built with -DGS_NO_POOLS (the sanitizer build) every get is a calloc
 * and every put a free, so ASan sees each object's lifetime.
 */
#ifndef SIM_POOL_H
#define SIM_POOL_H

#include <stddef.h>

struct sim_pool {
	size_t	 size;		/* object size, >= sizeof(void *) */
	size_t	 cap;		/* live objects at most */
	size_t	 live;
	void	*free;		/* linked through each object's first word */
};

void	 sim_pool_init(struct sim_pool *pl, size_t size, size_t cap);
/* A zeroed object, or NULL at the cap or when out of memory. */
void	*sim_pool_get(struct sim_pool *pl);
/* Give back an object from this pool; NULL is ignored. */
void	 sim_pool_put(struct sim_pool *pl, void *obj);
/* Free the free list.  Objects still live are the caller's leak. */
void	 sim_pool_destroy(struct sim_pool *pl);

#endif
