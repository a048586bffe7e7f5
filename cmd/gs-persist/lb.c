/* Leaderboards (gs-persist(8)). */
#include "pst.h"

const struct pst_op pst_lb_ops[] = {
	{ NULL, NULL },
};

int
pst_lb_init(struct persist *p)
{
	return 0;
}

void
pst_lb_fini(struct persist *p)
{
}
