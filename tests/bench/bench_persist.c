/*
 * bench_persist: requests per second through a running gs-persist, and
 * their latency, with many requests in flight.
 *
 * usage: bench_persist URL OP SECONDS INFLIGHT
 *
 *   OP guest   a new device each time: a guest account, its device,
 *		a session and a refresh token written, a token signed
 *		(one acknowledged write request)
 *   OP login   the same username and password each time: a password
 *		hash checked, a session and a refresh token written
 *		(needs "register bench-user bench-password" done before:
 *		this program does it)
 *
 * INFLIGHT requests are kept outstanding on one REQ socket, one nng_ctx
 * each.  Prints one line:
 *   op=guest seconds=10.0 ok=123456 errors=0 per_s=12345.6
 *   p50_ms=... p99_ms=...
 * Exits 1 when a request fails or nothing was acknowledged.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "mp.h"
#include "util.h"

#define LAT_MAX		(1u << 22)

struct slot {
	nng_ctx		 ctx;
	nng_aio		*aio;
	int		 sending;
	uint64_t	 t0;
	unsigned	 k;
	uint64_t	 i;
};

static const char	*op;
static atomic_uint_fast64_t	 ok, errors, seq;
static atomic_int	 stop;
static atomic_int	 idle;		/* slots that stopped after stop */
static uint32_t		*lat_us;
static atomic_uint	 nlat;

static void
slot_send(struct slot *s)
{
	uint8_t		 buf[256];
	char		 dev[64];
	struct gs_wr	 w;
	nng_msg		*m;

	gs_wr_init_fixed(&w, buf, sizeof(buf));
	if (strcmp(op, "guest") == 0) {
		(void)snprintf(dev, sizeof(dev), "bench-%llx-%llu",
		    (unsigned long long)gs_random_u64(),
		    (unsigned long long)atomic_fetch_add(&seq, 1));
		gs_wr_array(&w, 3);
		gs_wr_str(&w, "guest");
		gs_wr_str(&w, dev);
		gs_wr_nil(&w);
	} else {
		gs_wr_array(&w, 3);
		gs_wr_str(&w, "login");
		gs_wr_str(&w, "bench-user");
		gs_wr_str(&w, "bench-password");
	}
	if (nng_msg_alloc(&m, 0) != 0 || nng_msg_append(m, buf, w.len) != 0)
		abort();
	s->t0 = gs_now_us();
	s->sending = 1;
	nng_aio_set_msg(s->aio, m);
	nng_ctx_send(s->ctx, s->aio);
}

static void
slot_cb(void *arg)
{
	struct slot	*s = arg;
	nng_msg		*m;
	struct gs_rd	 rd;
	uint64_t	 st;
	unsigned	 n;

	if (nng_aio_result(s->aio) != 0) {
		if (s->sending)
			nng_msg_free(nng_aio_get_msg(s->aio));
		if (!atomic_load(&stop))
			atomic_fetch_add(&errors, 1);
		atomic_fetch_add(&idle, 1);
		return;
	}
	if (s->sending) {
		s->sending = 0;
		nng_ctx_recv(s->ctx, s->aio);
		return;
	}
	m = nng_aio_get_msg(s->aio);
	gs_rd_init(&rd, nng_msg_body(m), nng_msg_len(m));
	(void)gs_rd_array(&rd, 2);
	st = gs_rd_uint(&rd, 100);
	nng_msg_free(m);
	if (rd.err != GS_OK || st != 0)
		atomic_fetch_add(&errors, 1);
	else {
		atomic_fetch_add(&ok, 1);
		if ((n = atomic_fetch_add(&nlat, 1)) < LAT_MAX)
			lat_us[n] = (uint32_t)(gs_now_us() - s->t0);
	}
	if (!atomic_load(&stop))
		slot_send(s);
	else
		atomic_fetch_add(&idle, 1);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* One blocking request, for set-up. */
static void
call_once(nng_socket sock, const char *a0, const char *a1, const char *a2)
{
	uint8_t		 buf[256];
	struct gs_wr	 w;
	char		*rep;
	size_t		 n;

	gs_wr_init_fixed(&w, buf, sizeof(buf));
	gs_wr_array(&w, 4);
	gs_wr_str(&w, a0);
	gs_wr_str(&w, a1);
	gs_wr_str(&w, a2);
	gs_wr_nil(&w);
	if (nng_send(sock, buf, w.len, 0) != 0 ||
	    nng_recv(sock, &rep, &n, NNG_FLAG_ALLOC) != 0) {
		fprintf(stderr, "bench_persist: set-up request failed\n");
		exit(1);
	}
	nng_free(rep, n);
}

int
main(int argc, char **argv)
{
	struct slot	*slots;
	nng_socket	 sock;
	long long	 secs, inflight;
	uint64_t	 t0, t1;
	unsigned	 i, n;

	if (argc != 5 || (strcmp(argv[2], "guest") != 0 &&
	    strcmp(argv[2], "login") != 0) ||
	    gs_parse_ll(argv[3], 1, 3600, &secs) != GS_OK ||
	    gs_parse_ll(argv[4], 1, 4096, &inflight) != GS_OK) {
		fprintf(stderr, "usage: bench_persist URL guest|login SECONDS "
		    "INFLIGHT\n");
		return 100;
	}
	op = argv[2];
	if ((lat_us = malloc(LAT_MAX * sizeof(*lat_us))) == NULL ||
	    (slots = calloc((size_t)inflight, sizeof(*slots))) == NULL)
		return 111;
	if (nng_req0_open(&sock) != 0 || nng_socket_set_ms(sock,
	    NNG_OPT_REQ_RESENDTIME, 3600000) != 0 ||
	    nng_dial(sock, argv[1], NULL, 0) != 0) {
		fprintf(stderr, "bench_persist: cannot dial %s\n", argv[1]);
		return 1;
	}
	if (strcmp(op, "login") == 0)
		call_once(sock, "register", "bench-user", "bench-password");
	for (i = 0; i < inflight; i++) {
		if (nng_ctx_open(&slots[i].ctx, sock) != 0 ||
		    nng_aio_alloc(&slots[i].aio, slot_cb, &slots[i]) != 0)
			return 111;
		nng_aio_set_timeout(slots[i].aio, 10000);
	}
	t0 = gs_now_us();
	for (i = 0; i < inflight; i++)
		slot_send(&slots[i]);
	nng_msleep((nng_duration)(secs * 1000));
	atomic_store(&stop, 1);
	t1 = gs_now_us();
	n = (unsigned)GS_MIN(atomic_load(&nlat), LAT_MAX);
	/* Every slot finishes its request (or times out) and stops. */
	while (atomic_load(&idle) < inflight)
		nng_msleep(10);
	qsort(lat_us, n, sizeof(*lat_us), cmp_u32);
	printf("op=%s seconds=%.1f inflight=%lld ok=%llu errors=%llu "
	    "per_s=%.1f p50_ms=%.3f p99_ms=%.3f\n", op,
	    (double)(t1 - t0) / 1e6, inflight,
	    (unsigned long long)atomic_load(&ok),
	    (unsigned long long)atomic_load(&errors),
	    (double)atomic_load(&ok) / ((double)(t1 - t0) / 1e6),
	    n > 0 ? lat_us[n / 2] / 1000.0 : 0.0,
	    n > 0 ? lat_us[(size_t)n * 99 / 100] / 1000.0 : 0.0);
	for (i = 0; i < inflight; i++) {
		nng_aio_free(slots[i].aio);
		nng_ctx_close(slots[i].ctx);
	}
	nng_close(sock);
	free(slots);
	free(lat_us);
	return atomic_load(&ok) > 0 && atomic_load(&errors) == 0 ? 0 : 1;
}
