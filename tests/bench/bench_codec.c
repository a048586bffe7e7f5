/* Snapshot codec rate: pack and read back a 70-entity snapshot (a room
 * of 50 players and 20 pickups), the sim's and a client's hot path. */
#include <stdio.h>
#include <stdlib.h>

#include "proto.h"
#include "util.h"

#define NENT	70
#define ROUNDS	200000

int
main(void)
{
	struct gs_wr		wr;
	struct gs_rd		rd;
	struct gs_snaphdr	h = { 1000, 55, true, NENT }, h2;
	struct gs_entity	e;
	uint64_t		t0, t1, sum = 0;
	uint32_t		nf, i;
	int			r;
	size_t			bytes = 0;

	gs_wr_init(&wr, 4096, 65536);
	t0 = gs_now_us();
	for (r = 0; r < ROUNDS; r++) {
		gs_wr_reset(&wr);
		gs_snaphdr_put(&wr, &h);
		for (i = 0; i < NENT; i++) {
			e.id = i + 1;
			e.type = i < 50 ? GS_ENT_PLAYER : GS_ENT_PICKUP;
			e.x = (int32_t)((i * 37 + (uint32_t)r) % 2000);
			e.y = (int32_t)((i * 91) % 2000);
			e.value = i;
			gs_entity_put(&wr, &e);
		}
		bytes = wr.len;
	}
	t1 = gs_now_us();
	printf("codec: pack   %.0f snapshots/s (%d entities, %zu bytes)\n",
	    ROUNDS / ((double)(t1 - t0) / 1e6), NENT, bytes);
	t0 = gs_now_us();
	for (r = 0; r < ROUNDS; r++) {
		gs_rd_init(&rd, wr.buf, wr.len);
		(void)gs_msg_begin(&rd, &nf);
		(void)gs_snaphdr_get(&rd, nf, &h2);
		for (i = 0; i < h2.nent; i++) {
			(void)gs_entity_get(&rd, &e);
			sum += (uint64_t)e.x;
		}
		if (gs_snapshot_end(&rd, nf) != GS_OK || gs_rd_end(&rd) != GS_OK)
			return 1;
	}
	t1 = gs_now_us();
	printf("codec: read   %.0f snapshots/s (checksum %llu)\n",
	    ROUNDS / ((double)(t1 - t0) / 1e6), (unsigned long long)sum);
	gs_wr_free(&wr);
	return 0;
}
