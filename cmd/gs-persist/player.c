/* Profiles, stats, match results, room checkpoints (gs-persist(8)). */
#include "pst.h"

const struct pst_op pst_player_ops[] = {
	{ NULL, NULL },
};

int
pst_player_init(struct persist *p)
{
	return 0;
}

void
pst_player_fini(struct persist *p)
{
}
