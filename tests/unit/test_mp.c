/* Bounded msgpack reader and writer: round trips, exact bytes, and
 * hostile input (truncated, garbage, oversized, deep). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mp.h"
#include "t.h"

static void
test_roundtrip(void)
{
	struct gs_wr	wr;
	struct gs_rd	rd;
	char		s[16];
	size_t		n;
	const uint8_t	*b;

	gs_wr_init(&wr, 8, 4096);
	gs_wr_array(&wr, 9);
	gs_wr_uint(&wr, 0);
	gs_wr_uint(&wr, UINT64_MAX);
	gs_wr_int(&wr, -1);
	gs_wr_int(&wr, INT64_MIN);
	gs_wr_f64(&wr, 1.5);
	gs_wr_bool(&wr, true);
	gs_wr_nil(&wr);
	gs_wr_str(&wr, "hello");
	gs_wr_bin(&wr, "\x00\x01\x02", 3);
	T_ASSERT(wr.err == GS_OK);

	gs_rd_init(&rd, wr.buf, wr.len);
	T_EQ_INT(gs_rd_array(&rd, 9), 9);
	T_EQ_INT(gs_rd_uint(&rd, 10), 0);
	T_CHECK(gs_rd_uint(&rd, UINT64_MAX) == UINT64_MAX);
	T_EQ_INT(gs_rd_int(&rd, -10, 10), -1);
	T_CHECK(gs_rd_int(&rd, INT64_MIN, 0) == INT64_MIN);
	T_CHECK(gs_rd_f64(&rd) == 1.5);
	T_CHECK(gs_rd_bool(&rd) == true);
	T_CHECK(gs_rd_nil(&rd));
	T_EQ_INT(gs_rd_str(&rd, s, sizeof(s)), 5);
	T_CHECK(strcmp(s, "hello") == 0);
	b = gs_rd_binp(&rd, &n, 16);
	T_CHECK(b != NULL && n == 3 && b[2] == 2);
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
	gs_wr_free(&wr);
}

/* Exact encodings: the writer uses the smallest form. */
static void
test_bytes(void)
{
	uint8_t		buf[64];
	struct gs_wr	wr;
	static const uint8_t want[] = {
		0x94, 0x7f, 0xcc, 0x80, 0xff, 0xa2, 'h', 'i' };

	gs_wr_init_fixed(&wr, buf, sizeof(buf));
	gs_wr_array(&wr, 4);
	gs_wr_uint(&wr, 127);
	gs_wr_uint(&wr, 128);
	gs_wr_int(&wr, -1);
	gs_wr_str(&wr, "hi");
	T_ASSERT(wr.err == GS_OK);
	T_EQ_INT(wr.len, sizeof(want));
	T_CHECK(memcmp(buf, want, sizeof(want)) == 0);
}

static void
test_range_and_type(void)
{
	static const uint8_t	neg[] = { 0xff };		/* -1 */
	static const uint8_t	big[] = { 0xcd, 0x01, 0x00 };	/* 256 */
	static const uint8_t	str[] = { 0xa1, 'x' };
	struct gs_rd		rd;

	gs_rd_init(&rd, neg, sizeof(neg));
	(void)gs_rd_uint(&rd, 10);
	T_EQ_INT(rd.err, GS_ERANGE);
	gs_rd_init(&rd, big, sizeof(big));
	(void)gs_rd_uint(&rd, 255);
	T_EQ_INT(rd.err, GS_ERANGE);
	gs_rd_init(&rd, str, sizeof(str));
	(void)gs_rd_uint(&rd, 255);
	T_EQ_INT(rd.err, GS_ETYPE);
	/* The error sticks: a later valid read does nothing. */
	T_EQ_INT(gs_rd_str(&rd, (char[4]){0}, 4), 0);
	T_EQ_INT(rd.err, GS_ETYPE);
}

static void
test_string_limits(void)
{
	static const uint8_t	nul[] = { 0xa3, 'a', 0, 'b' };
	static const uint8_t	five[] = { 0xa5, 'a', 'b', 'c', 'd', 'e' };
	struct gs_rd		rd;
	char			s[5];

	gs_rd_init(&rd, nul, sizeof(nul));
	gs_rd_str(&rd, s, sizeof(s));
	T_EQ_INT(rd.err, GS_EINVAL);
	gs_rd_init(&rd, five, sizeof(five));
	gs_rd_str(&rd, s, sizeof(s));		/* needs 6 with the NUL */
	T_EQ_INT(rd.err, GS_ETOOBIG);
	T_EQ_INT(s[0], '\0');
}

/* A 6-byte frame claiming 2^32-1 elements is rejected before use. */
static void
test_oversized_declared(void)
{
	static const uint8_t	arr[] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01 };
	static const uint8_t	bin[] = { 0xc6, 0xff, 0xff, 0xff, 0xff, 0x01 };
	struct gs_rd		rd;
	size_t			n;

	gs_rd_init(&rd, arr, sizeof(arr));
	(void)gs_rd_array(&rd, UINT32_MAX);
	T_EQ_INT(rd.err, GS_ETRUNC);
	gs_rd_init(&rd, arr, sizeof(arr));
	(void)gs_rd_array(&rd, 100);
	T_EQ_INT(rd.err, GS_ETOOBIG);
	gs_rd_init(&rd, arr, sizeof(arr));
	gs_rd_skip(&rd);
	T_CHECK(rd.err != GS_OK);
	gs_rd_init(&rd, bin, sizeof(bin));
	T_CHECK(gs_rd_binp(&rd, &n, SIZE_MAX) == NULL);
	T_EQ_INT(rd.err, GS_ETRUNC);
}

static void
test_depth(void)
{
	uint8_t		buf[200];
	struct gs_rd	rd;

	memset(buf, 0x91, sizeof(buf));		/* [[[[...  */
	buf[sizeof(buf) - 1] = 0xc0;
	gs_rd_init(&rd, buf, sizeof(buf));
	gs_rd_skip(&rd);
	T_EQ_INT(rd.err, GS_EDEPTH);
	/* Exactly GS_MP_MAXDEPTH levels are fine. */
	gs_rd_init(&rd, buf + sizeof(buf) - 1 - GS_MP_MAXDEPTH,
	    GS_MP_MAXDEPTH + 1);
	gs_rd_skip(&rd);
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
}

static void
test_trailing_and_raw(void)
{
	static const uint8_t	b[] = { 0x92, 0x01, 0x92, 0x02, 0x03, 0x04 };
	struct gs_rd		rd;
	const uint8_t		*p;
	size_t			n;

	gs_rd_init(&rd, b, sizeof(b));
	p = gs_rd_raw(&rd, &n);
	T_CHECK(p == b && n == 5);
	T_EQ_INT(gs_rd_end(&rd), GS_ETRAIL);
}

/* Every prefix of a valid value fails cleanly; never reads past it. */
static void
test_truncated(void)
{
	struct gs_wr	wr;
	struct gs_rd	rd;
	size_t		cut;
	uint8_t		*copy;

	gs_wr_init(&wr, 0, 1024);
	gs_wr_map(&wr, 2);
	gs_wr_str(&wr, "a");
	gs_wr_array(&wr, 3);
	gs_wr_uint(&wr, 70000);
	gs_wr_f64(&wr, -2.25);
	gs_wr_bin(&wr, "xyz", 3);
	gs_wr_str(&wr, "b");
	gs_wr_int(&wr, -40000);
	T_ASSERT(wr.err == GS_OK);
	for (cut = 0; cut < wr.len; cut++) {
		copy = malloc(cut ? cut : 1);	/* exact size: ASan sees overreads */
		T_ASSERT(copy != NULL);
		memcpy(copy, wr.buf, cut);
		gs_rd_init(&rd, copy, cut);
		gs_rd_skip(&rd);
		T_CHECK(rd.err == GS_ETRUNC);
		free(copy);
	}
	gs_rd_init(&rd, wr.buf, wr.len);
	gs_rd_skip(&rd);
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
	gs_wr_free(&wr);
}

/* Random bytes: no crash, no overread (ASan), errors or values only. */
static void
test_garbage(void)
{
	uint8_t		*buf;
	struct gs_rd	rd;
	size_t		len, i;
	int		iter;
	FILE		*f;

	srand(7);
	f = fopen("/dev/null", "w");
	T_ASSERT(f != NULL);
	for (iter = 0; iter < 20000; iter++) {
		len = (size_t)(rand() % 64) + 1;
		buf = malloc(len);
		T_ASSERT(buf != NULL);
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)rand();
		gs_rd_init(&rd, buf, len);
		while (gs_rd_more(&rd))
			gs_rd_skip(&rd);
		gs_rd_init(&rd, buf, len);
		(void)gs_mp_to_json(&rd, f, -1);
		free(buf);
	}
	fclose(f);
}

static void
test_writer_cap(void)
{
	uint8_t		buf[4];
	struct gs_wr	wr;

	gs_wr_init_fixed(&wr, buf, sizeof(buf));
	gs_wr_str(&wr, "abcd");			/* 5 bytes */
	T_EQ_INT(wr.err, GS_ETOOBIG);
	gs_wr_uint(&wr, 1);			/* sticky */
	T_EQ_INT(wr.err, GS_ETOOBIG);
	gs_wr_reset(&wr);
	gs_wr_uint(&wr, 1);
	T_CHECK(wr.err == GS_OK && wr.len == 1);

	gs_wr_init(&wr, 1, 100);
	gs_wr_bin(&wr, (char[200]){0}, 200);
	T_EQ_INT(wr.err, GS_ETOOBIG);
	gs_wr_truncate(&wr, 0);
	gs_wr_bin(&wr, (char[50]){0}, 50);
	T_CHECK(wr.err == GS_OK && wr.len == 52);
	gs_wr_free(&wr);
}

static void
test_json(void)
{
	struct gs_wr	wr;
	struct gs_rd	rd;
	char		*out = NULL;
	size_t		outlen = 0;
	FILE		*f;

	gs_wr_init(&wr, 0, 1024);
	gs_wr_map(&wr, 3);
	gs_wr_str(&wr, "a\"b");
	gs_wr_array(&wr, 2);
	gs_wr_int(&wr, -3);
	gs_wr_nil(&wr);
	gs_wr_uint(&wr, 7);
	gs_wr_bool(&wr, false);
	gs_wr_str(&wr, "bin");
	gs_wr_bin(&wr, "hi!", 3);
	f = open_memstream(&out, &outlen);
	T_ASSERT(f != NULL);
	gs_rd_init(&rd, wr.buf, wr.len);
	T_EQ_INT(gs_mp_to_json(&rd, f, -1), GS_OK);
	fclose(f);
	T_CHECK(strcmp(out,
	    "{\"a\\\"b\":[-3,null],\"7\":false,\"bin\":\"aGkh\"}") == 0);
	free(out);
	gs_wr_free(&wr);
}

/* A count set after the items: the reader sees it. */
static void
test_count_later(void)
{
	struct gs_wr	wr;
	struct gs_rd	rd;
	size_t		at, at2;

	gs_wr_init(&wr, 16, 1024);
	at = gs_wr_count_begin(&wr, false);
	gs_wr_uint(&wr, 7);
	at2 = gs_wr_count_begin(&wr, true);
	gs_wr_str(&wr, "k");
	gs_wr_bool(&wr, true);
	gs_wr_count_end(&wr, at2, 1);
	gs_wr_uint(&wr, 9);
	gs_wr_count_end(&wr, at, 3);
	T_EQ_INT(wr.err, GS_OK);
	gs_rd_init(&rd, wr.buf, wr.len);
	T_EQ_INT(gs_rd_array(&rd, 10), 3);
	T_EQ_INT(gs_rd_uint(&rd, 100), 7);
	T_EQ_INT(gs_rd_map(&rd, 10), 1);
	gs_rd_skip(&rd);
	T_CHECK(gs_rd_bool(&rd));
	T_EQ_INT(gs_rd_uint(&rd, 100), 9);
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
	gs_wr_free(&wr);
}

T_MAIN(T(test_count_later), T(test_roundtrip), T(test_bytes), T(test_range_and_type),
    T(test_string_limits), T(test_oversized_declared), T(test_depth),
    T(test_trailing_and_raw), T(test_truncated), T(test_garbage),
    T(test_writer_cap), T(test_json))
