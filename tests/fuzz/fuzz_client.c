/*
 * libFuzzer harness: everything a client or a sim can put in front of a
 * decoder.  The first byte picks the decoder; the rest is the input.
 *   make fuzz         builds build/fuzz/fuzz_client with clang
 *   build/fuzz/fuzz_client -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto.h"
#include "relay.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
client_stream(const uint8_t *p, size_t n)
{
	struct gs_rd		rd = GS_RD_INIT(p, n);
	struct gs_hello		h;
	struct gs_input		in[GS_INPUTS_MAX];
	struct gs_welcome	w;
	struct gs_snaphdr	sh;
	struct gs_entity	e;
	struct gs_event		ev;
	struct gs_perror	pe;
	uint64_t		t, s;
	uint32_t		nf, i;

	while (gs_rd_more(&rd)) {
		switch (gs_msg_begin(&rd, &nf)) {
		case GS_MSG_HELLO:	(void)gs_hello_get(&rd, nf, &h); break;
		case GS_MSG_INPUT:	(void)gs_input_get(&rd, nf, in); break;
		case GS_MSG_PING:	(void)gs_ping_get(&rd, nf, &t); break;
		case GS_MSG_BYE:	(void)gs_bye_get(&rd, nf); break;
		case GS_MSG_WELCOME:	(void)gs_welcome_get(&rd, nf, &w); break;
		case GS_MSG_PONG:	(void)gs_pong_get(&rd, nf, &t, &s); break;
		case GS_MSG_EVENT:	(void)gs_event_get(&rd, nf, &ev); break;
		case GS_MSG_ERROR:	(void)gs_perror_get(&rd, nf, &pe); break;
		case GS_MSG_SNAPSHOT:
			if (gs_snaphdr_get(&rd, nf, &sh) == GS_OK) {
				for (i = 0; i < sh.nent && rd.err == GS_OK; i++)
					(void)gs_entity_get(&rd, &e);
				(void)gs_snapshot_end(&rd, nf);
			}
			break;
		case 0:
			break;
		default:
			gs_msg_skip(&rd, nf);
			break;
		}
	}
}

static void
relay_batch(const uint8_t *p, size_t n)
{
	struct gs_rd		rd = GS_RD_INIT(p, n);
	struct gs_relay_hdr	h;
	struct gs_relay_rec	r;

	if (gs_relay_hdr_get(&rd, &h) != GS_OK)
		return;
	while (gs_rd_more(&rd))
		if (gs_relay_get(&rd, &r) != GS_OK && rd.err != GS_OK)
			break;
}

static void
json(const uint8_t *p, size_t n)
{
	static FILE	*devnull;
	struct gs_rd	 rd = GS_RD_INIT(p, n);

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		return;
	(void)gs_mp_to_json(&rd, devnull, 2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: client_stream(data + 1, size - 1); break;
	case 1: relay_batch(data + 1, size - 1); break;
	default: json(data + 1, size - 1); break;
	}
	return 0;
}
