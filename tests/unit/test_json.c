/*
 * JSON output (lib/json.c): the 2^53 rule for integers, the values that
 * JSON cannot hold (invalid UTF-8, bin, NaN, non-string keys, ext) and
 * hostile msgpack, always giving valid JSON or nothing.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "mp.h"
#include "t.h"

/* The compact JSON of the msgpack in wr, or NULL (caller frees). */
static char *
compact(const struct gs_wr *wr, int *err)
{
	struct gs_rd	 rd;
	json_t		*j;
	char		*s;

	gs_rd_init(&rd, wr->buf, wr->len);
	j = gs_json_from_mp(&rd);
	*err = rd.err;
	if (j == NULL)
		return NULL;
	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	return s;
}

/* The msgpack in wr gives exactly want. */
static int
gives(struct gs_wr *wr, const char *want)
{
	char	*s;
	int	 err, ok;

	s = compact(wr, &err);
	ok = s != NULL && err == GS_OK && strcmp(s, want) == 0;
	if (!ok)
		fprintf(stderr, "got  %s (%d)\nwant %s\n", s != NULL ? s :
		    "NULL", err, want);
	free(s);
	gs_wr_free(wr);
	return ok;
}

static void
test_integers(void)
{
	struct gs_wr	wr;

	gs_wr_init(&wr, 64, 1024);
	gs_wr_array(&wr, 8);
	gs_wr_uint(&wr, 0);
	gs_wr_uint(&wr, 9007199254740991ULL);		/* 2^53 - 1 */
	gs_wr_uint(&wr, 9007199254740992ULL);		/* 2^53 */
	gs_wr_uint(&wr, UINT64_MAX);
	gs_wr_int(&wr, -1);
	gs_wr_int(&wr, -9007199254740991LL);
	gs_wr_int(&wr, -9007199254740992LL);
	gs_wr_int(&wr, INT64_MIN);
	T_CHECK(gives(&wr, "[0,9007199254740991,\"9007199254740992\","
	    "\"18446744073709551615\",-1,-9007199254740991,"
	    "\"-9007199254740992\",\"-9223372036854775808\"]"));

	/* A positive value in a signed encoding follows the same rule. */
	gs_wr_init(&wr, 64, 1024);
	gs_wr_raw(&wr, "\x92\xd3\x00\x20\x00\x00\x00\x00\x00\x00"
	    "\xd3\x00\x1f\xff\xff\xff\xff\xff\xff", 19);
	T_CHECK(gives(&wr, "[\"9007199254740992\",9007199254740991]"));
}

static void
test_floats(void)
{
	struct gs_wr	wr;

	gs_wr_init(&wr, 64, 1024);
	gs_wr_array(&wr, 6);
	gs_wr_f64(&wr, 1.5);
	gs_wr_f64(&wr, NAN);
	gs_wr_f64(&wr, INFINITY);
	gs_wr_f64(&wr, -INFINITY);
	gs_wr_f32(&wr, NAN);
	gs_wr_f64(&wr, -0.25);
	T_CHECK(gives(&wr, "[1.5,null,null,null,null,-0.25]"));
}

static void
test_strings(void)
{
	struct gs_wr	wr;

	gs_wr_init(&wr, 64, 1024);
	gs_wr_array(&wr, 9);
	gs_wr_strn(&wr, "\xff\xfe" "A", 3);		/* not UTF-8 at all */
	gs_wr_strn(&wr, "\xc0\xaf", 2);			/* overlong '/' */
	gs_wr_strn(&wr, "\xed\xa0\x80", 3);		/* a surrogate */
	gs_wr_strn(&wr, "x\xe2\x82", 3);		/* cut short */
	gs_wr_strn(&wr, "\xf4\x90\x80\x80", 4);		/* above U+10FFFF */
	gs_wr_strn(&wr, "\xe2\x82\xac\xf0\x9f\x8e\xb2", 7);	/* valid */
	gs_wr_strn(&wr, "a\0b", 3);
	gs_wr_strn(&wr, "\x01\x1f\x7f\"\\/", 6);
	gs_wr_strn(&wr, "", 0);
	T_CHECK(gives(&wr, "[\"\xef\xbf\xbd\xef\xbf\xbd" "A\","
	    "\"\xef\xbf\xbd\xef\xbf\xbd\","
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\","
	    "\"x\xef\xbf\xbd\xef\xbf\xbd\","
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\","
	    "\"\xe2\x82\xac\xf0\x9f\x8e\xb2\","
	    "\"a\\u0000b\","
	    "\"\\u0001\\u001F\x7f\\\"\\\\/\","
	    "\"\"]"));
}

static void
test_bin_ext_nil(void)
{
	struct gs_wr	wr;

	gs_wr_init(&wr, 64, 1024);
	gs_wr_array(&wr, 7);
	gs_wr_bin(&wr, "hi!", 3);
	gs_wr_bin(&wr, "a", 1);
	gs_wr_bin(&wr, "ab", 2);
	gs_wr_bin(&wr, "", 0);
	gs_wr_raw(&wr, "\xd4\x01\x00", 3);		/* fixext 1 */
	gs_wr_nil(&wr);
	gs_wr_bool(&wr, true);
	T_CHECK(gives(&wr, "[\"aGkh\",\"YQ==\",\"YWI=\",\"\",null,null,"
	    "true]"));
}

static void
test_keys(void)
{
	struct gs_wr	wr;

	gs_wr_init(&wr, 64, 1024);
	gs_wr_map(&wr, 12);
	gs_wr_nil(&wr);
	gs_wr_uint(&wr, 1);
	gs_wr_bool(&wr, true);
	gs_wr_uint(&wr, 2);
	gs_wr_uint(&wr, 7);
	gs_wr_uint(&wr, 3);
	gs_wr_int(&wr, -2);
	gs_wr_uint(&wr, 4);
	gs_wr_f64(&wr, 1.5);
	gs_wr_uint(&wr, 5);
	gs_wr_bin(&wr, "a", 1);
	gs_wr_uint(&wr, 6);
	gs_wr_array(&wr, 2);
	gs_wr_uint(&wr, 1);
	gs_wr_str(&wr, "\"");
	gs_wr_uint(&wr, 7);
	gs_wr_str(&wr, "dup");
	gs_wr_uint(&wr, 8);
	gs_wr_str(&wr, "dup");
	gs_wr_uint(&wr, 9);
	gs_wr_uint(&wr, UINT64_MAX);
	gs_wr_uint(&wr, 10);
	gs_wr_strn(&wr, "k\xff", 2);
	gs_wr_uint(&wr, 11);
	gs_wr_f64(&wr, NAN);
	gs_wr_uint(&wr, 12);
	/* nil and NaN both give "null": one key, the last value, in the
	 * first one's place. */
	T_CHECK(gives(&wr, "{\"null\":12,\"true\":2,\"7\":3,\"-2\":4,"
	    "\"1.5\":5,\"YQ==\":6,\"[1,\\\"\\\\\\\"\\\"]\":7,\"dup\":9,"
	    "\"18446744073709551615\":10,\"k\xef\xbf\xbd\":11}"));
}

static void
test_hostile(void)
{
	struct gs_wr	wr;
	struct gs_rd	rd;
	char		*out = NULL;
	size_t		 outlen = 0, i;
	FILE		*f;
	int		 err;

	/* Truncated: nothing, and the reader's error. */
	gs_wr_init(&wr, 64, 1024);
	gs_wr_array(&wr, 2);
	gs_wr_uint(&wr, 1);
	T_CHECK(compact(&wr, &err) == NULL && err == GS_ETRUNC);
	gs_wr_free(&wr);

	gs_wr_init(&wr, 64, 1024);
	gs_wr_raw(&wr, "\x91\xc1", 2);
	T_CHECK(compact(&wr, &err) == NULL && err == GS_ETYPE);
	gs_wr_free(&wr);

	gs_wr_init(&wr, 64, 1024);
	for (i = 0; i < GS_MP_MAXDEPTH + 2; i++)
		gs_wr_array(&wr, 1);
	gs_wr_nil(&wr);
	T_CHECK(compact(&wr, &err) == NULL && err == GS_EDEPTH);

	/* gs_mp_to_json writes nothing when the input is bad. */
	f = open_memstream(&out, &outlen);
	T_ASSERT(f != NULL);
	gs_rd_init(&rd, wr.buf, wr.len);
	T_EQ_INT(gs_mp_to_json(&rd, f, 2), GS_EDEPTH);
	fclose(f);
	T_EQ_INT(outlen, 0);
	free(out);
	gs_wr_free(&wr);
}

/* Random bytes: whatever converts must dump to text that a strict
 * parser reads back. */
static void
test_random_valid(void)
{
	uint8_t		 buf[96];
	struct gs_rd	 rd;
	json_t		*j, *back;
	json_error_t	 e;
	char		*s;
	size_t		 len, i;
	int		 iter, converted = 0;

	srand(11);
	for (iter = 0; iter < 20000; iter++) {
		len = (size_t)(rand() % (int)sizeof(buf)) + 1;
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)rand();
		if (iter % 2 == 0)
			buf[0] = (uint8_t)(0x80 | (buf[0] & 0x0f)); /* a map */
		gs_rd_init(&rd, buf, len);
		if ((j = gs_json_from_mp(&rd)) == NULL)
			continue;
		converted++;
		s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		T_ASSERT(s != NULL);
		back = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
		/* \u0000 in a key is valid JSON that jansson's own parser
		 * declines to read. */
		if (back == NULL && strstr(e.text, "NUL byte in object key") ==
		    NULL) {
			fprintf(stderr, "not valid JSON (%s): %s\n", e.text, s);
			T_CHECK(0);
		}
		json_decref(back);
		free(s);
		json_decref(j);
	}
	T_CHECK(converted > 1000);
}

static void
test_write(void)
{
	json_t	*o;
	char	*out = NULL;
	size_t	 outlen = 0;
	FILE	*f;

	o = json_object();
	T_ASSERT(o != NULL);
	T_EQ_INT(gs_json_set(o, "a\xff", gs_json_real(0.1 + 0.2)), 0);
	T_EQ_INT(gs_json_set(o, "b", gs_json_uint(UINT64_MAX)), 0);
	T_EQ_INT(gs_json_set(o, "c", NULL), -1);	/* out of memory */
	f = open_memstream(&out, &outlen);
	T_ASSERT(f != NULL);
	T_EQ_INT(gs_json_write(o, f, 2, 15), GS_OK);
	T_EQ_INT(gs_json_write(o, f, -1, 0), GS_OK);
	fclose(f);
	T_CHECK(strcmp(out, "{\n  \"a\xef\xbf\xbd\": 0.3,\n"
	    "  \"b\": \"18446744073709551615\"\n}\n"
	    "{\"a\xef\xbf\xbd\":0.30000000000000004,"
	    "\"b\":\"18446744073709551615\"}\n") == 0);
	free(out);
	json_decref(o);
}

T_MAIN(T(test_integers), T(test_floats), T(test_strings),
    T(test_bin_ext_nil), T(test_keys), T(test_hostile),
    T(test_random_valid), T(test_write))
