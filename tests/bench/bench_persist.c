/*
 * bench_persist: requests per second through a running gs-persist, and
 * their latency, with many requests in flight.
 *
 * usage: bench_persist URL OP SECONDS INFLIGHT [ACCOUNTS]
 *        bench_persist seed DBFILE ACCOUNTS
 *
 *   OP guest   a new device each time: a guest account, its device,
 *		a session and a refresh token written, a token signed
 *		(one acknowledged write request)
 *   OP login   the same username and password each time: a password
 *		hash checked, a session and a refresh token written
 *		(needs "register bench-user bench-password" done before:
 *		this program does it)
 *   OP lb-submit  1,000 records a request to the board "bench" (made
 *		here: descending, incr, so that every record changes its
 *		row) for random accounts 1..ACCOUNTS, each record one
 *		acknowledged write; per_s counts records
 *   OP lb-around  the 25 records around a random account of ACCOUNTS
 *		on "bench", with their ranks
 *
 * seed writes ACCOUNTS guest accounts, and a record of each on the
 * board "bench", straight into a gs-persist database file (run
 * gs-persist once first to make its schema, and not while it runs).
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
#include <sqlite3.h>

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
static uint64_t		 naccounts = 1;
#define LB_BATCH	1000
static atomic_uint_fast64_t	 ok, errors, seq;
static atomic_int	 stop;
static atomic_int	 idle;		/* slots that stopped after stop */
static uint32_t		*lat_us;
static atomic_uint	 nlat;

/* lb_submit of LB_BATCH records for random accounts. */
static void
lb_batch(struct gs_wr *w)
{
	uint64_t	x = gs_random_u64();
	unsigned	i;

	gs_wr_array(w, 3);
	gs_wr_str(w, "lb_submit");
	gs_wr_str(w, "bench");
	gs_wr_array(w, LB_BATCH);
	for (i = 0; i < LB_BATCH; i++) {
		gs_wr_array(w, 4);
		gs_wr_uint(w, 1 + gs_rand_next(&x) % naccounts);
		gs_wr_int(w, (int64_t)(gs_rand_next(&x) % 1000));
		gs_wr_int(w, 0);
		gs_wr_nil(w);
	}
}

static void
slot_send(struct slot *s)
{
	static _Thread_local uint8_t buf[LB_BATCH * 24 + 64];
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
	} else if (strcmp(op, "lb-submit") == 0) {
		lb_batch(&w);
	} else if (strcmp(op, "lb-around") == 0) {
		gs_wr_array(&w, 5);
		gs_wr_str(&w, "lb_around");
		gs_wr_str(&w, "bench");
		gs_wr_uint(&w, 1 + gs_random_u64() % naccounts);
		gs_wr_uint(&w, 25);
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
		atomic_fetch_add(&ok, strcmp(op, "lb-submit") == 0 ? LB_BATCH :
		    1);
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

/* One blocking request of strings (then a nil, or a bool when the
 * last string is "true"), for set-up. */
static void
call_once(nng_socket sock, int n, const char *const *a)
{
	uint8_t		 buf[256];
	struct gs_wr	 w;
	char		*rep;
	size_t		 len;
	int		 i;

	gs_wr_init_fixed(&w, buf, sizeof(buf));
	gs_wr_array(&w, (uint32_t)n + 1);
	for (i = 0; i < n; i++)
		gs_wr_str(&w, a[i]);
	if (strcmp(a[0], "lb_create") == 0)
		gs_wr_bool(&w, false);
	else
		gs_wr_nil(&w);
	if (nng_send(sock, buf, w.len, 0) != 0 ||
	    nng_recv(sock, &rep, &len, NNG_FLAG_ALLOC) != 0) {
		fprintf(stderr, "bench_persist: set-up request failed\n");
		exit(1);
	}
	nng_free(rep, len);
}

/* ACCOUNTS guest accounts straight into the database file. */
static int
seed(const char *path, long long n)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	long long	 i;

	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA synchronous = OFF; BEGIN", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO accounts (name, created) "
	    "VALUES ('bench', 0)", -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_persist: seed %s: %s\n", path,
		    sqlite3_errmsg(db));
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (sqlite3_step(st) != SQLITE_DONE) {
			fprintf(stderr, "bench_persist: seed: %s\n",
			    sqlite3_errmsg(db));
			return 1;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	/* And a record of each on the board "bench" (made as
	 * lb_create would: descending, incr, never reset). */
	if (sqlite3_exec(db, "INSERT OR IGNORE INTO boards (name, "
	    "descending, operator, reset, client_write, created) VALUES "
	    "('bench', 1, 2, 0, 0, 0)", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO records (board, period, "
	    "account, score, subscore, meta, updated) SELECT b.id, 0, ?1, "
	    "?2, 0, '', 0 FROM boards b WHERE b.name = 'bench'", -1, &st,
	    NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_persist: seed: %s\n",
		    sqlite3_errmsg(db));
		return 1;
	}
	for (i = 0; i < n; i++) {
		uint64_t	x = (uint64_t)i * 0x9e3779b97f4a7c15ULL;

		sqlite3_bind_int64(st, 1, i + 1);
		sqlite3_bind_int64(st, 2, (int64_t)(gs_rand_next(&x) %
		    10000000));
		if (sqlite3_step(st) != SQLITE_DONE) {
			fprintf(stderr, "bench_persist: seed: %s\n",
			    sqlite3_errmsg(db));
			return 1;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return 1;
	sqlite3_close(db);
	printf("seeded accounts=%lld records=%lld board=bench\n", n, n);
	return 0;
}

int
main(int argc, char **argv)
{
	struct slot	*slots;
	nng_socket	 sock;
	long long	 secs, inflight;
	uint64_t	 t0, t1;
	unsigned	 i, n;

	long long	 nacc = 1;

	if (argc == 4 && strcmp(argv[1], "seed") == 0 &&
	    gs_parse_ll(argv[3], 1, 100000000, &nacc) == GS_OK)
		return seed(argv[2], nacc);
	if ((argc != 5 && argc != 6) || (strcmp(argv[2], "guest") != 0 &&
	    strcmp(argv[2], "login") != 0 &&
	    strcmp(argv[2], "lb-submit") != 0 &&
	    strcmp(argv[2], "lb-around") != 0) ||
	    gs_parse_ll(argv[3], 1, 3600, &secs) != GS_OK ||
	    gs_parse_ll(argv[4], 1, 4096, &inflight) != GS_OK ||
	    (argc == 6 && gs_parse_ll(argv[5], 1, 100000000, &nacc) !=
	    GS_OK)) {
		fprintf(stderr, "usage: bench_persist URL "
		    "guest|login|lb-submit|lb-around SECONDS INFLIGHT "
		    "[ACCOUNTS]\n       bench_persist seed DBFILE ACCOUNTS\n");
		return 100;
	}
	naccounts = (uint64_t)nacc;
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
	if (strcmp(op, "login") == 0) {
		static const char *const a[] = { "register", "bench-user",
		    "bench-password" };

		call_once(sock, 3, a);
	}
	if (strncmp(op, "lb-", 3) == 0) {
		static const char *const a[] = { "lb_create", "bench", "desc",
		    "incr", "never" };

		call_once(sock, 5, a);
	}
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
