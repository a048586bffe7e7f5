/* Friends, presence and chat (gs-persist(8)): a stub being written. */
#include "pst.h"

const struct pst_op pst_social_ops[] = {
	{ NULL, NULL },
};

int
pst_social_init(struct persist *p)
{
	return 0;
}

void
pst_social_fini(struct persist *p)
{
}
