/*
 * JSON output through jansson; the rules are in json.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "err.h"
#include "json.h"
#include "mp.h"

json_t *
gs_json_uint(uint64_t v)
{
	char	buf[24];

	if (v <= (uint64_t)GS_JSON_INT_MAX)
		return json_integer((json_int_t)v);
	(void)snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return json_string(buf);
}

json_t *
gs_json_int(int64_t v)
{
	char	buf[24];

	if (v >= -GS_JSON_INT_MAX && v <= GS_JSON_INT_MAX)
		return json_integer((json_int_t)v);
	(void)snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return json_string(buf);
}

json_t *
gs_json_real(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* Length of the valid UTF-8 sequence at p[0..n), n > 0; 0 if none
 * starts there (stray continuation, overlong form, surrogate, above
 * U+10FFFF, cut short). */
static size_t
utf8_seq(const uint8_t *p, size_t n)
{
	uint32_t	c;
	size_t		len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] < 0xc2)
		return 0;
	if (p[0] < 0xe0) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] < 0xf0) {
		len = 3;
		c = p[0] & 0x0f;
	} else if (p[0] < 0xf5) {
		len = 4;
		c = p[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return len;
}

/* s[n] as valid UTF-8 in a malloc'd buffer (caller frees), *outlen
 * its length; NULL when out of memory. */
static char *
utf8_clean(const char *s, size_t n, size_t *outlen)
{
	const uint8_t	*p = (const uint8_t *)s;
	char		*out, *q;
	size_t		 i, k;

	if (n > (SIZE_MAX - 1) / 3 || (out = malloc(n * 3 + 1)) == NULL)
		return NULL;
	for (q = out, i = 0; i < n; i += k) {
		if ((k = utf8_seq(p + i, n - i)) == 0) {
			memcpy(q, "\xef\xbf\xbd", 3);	/* U+FFFD */
			q += 3;
			k = 1;
			continue;
		}
		memcpy(q, p + i, k);
		q += k;
	}
	*q = '\0';
	*outlen = (size_t)(q - out);
	return out;
}

static bool
utf8_valid(const char *s, size_t n)
{
	const uint8_t	*p = (const uint8_t *)s;
	size_t		 i, k;

	for (i = 0; i < n; i += k)
		if ((k = utf8_seq(p + i, n - i)) == 0)
			return false;
	return true;
}

json_t *
gs_json_strn(const char *s, size_t n)
{
	json_t	*j;
	char	*c;
	size_t	 len;

	if (utf8_valid(s, n))
		return json_stringn_nocheck(s, n);
	if ((c = utf8_clean(s, n, &len)) == NULL)
		return NULL;
	j = json_stringn_nocheck(c, len);
	free(c);
	return j;
}

json_t *
gs_json_str(const char *s)
{
	return gs_json_strn(s, strlen(s));
}

json_t *
gs_json_built(json_t *j, int bad)
{
	if (bad) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int
gs_json_set(json_t *obj, const char *key, json_t *v)
{
	json_t	*k;
	size_t	 n;
	int	 rv;

	if (v == NULL)
		return -1;
	n = strlen(key);
	if (utf8_valid(key, n))		/* the usual case: no copy */
		return json_object_setn_new_nocheck(obj, key, n, v);
	if ((k = gs_json_str(key)) == NULL) {
		json_decref(v);
		return -1;
	}
	rv = json_object_setn_new_nocheck(obj, json_string_value(k),
	    json_string_length(k), v);
	json_decref(k);
	return rv;
}

/* ------------------------------------------------------ from msgpack */

/* msgpack bin as a JSON string of its base64; NULL when out of memory. */
static json_t *
bin_json(const uint8_t *p, size_t n)
{
	json_t	*j;
	char	*t;
	size_t	 cap, len;

	if ((cap = gs_b64_enclen(GS_B64_STD, n)) == SIZE_MAX ||
	    (t = malloc(cap + 1)) == NULL)
		return NULL;
	if (gs_b64_encode(GS_B64_STD, p, n, t, cap + 1, &len) != GS_OK) {
		free(t);		/* cannot happen: cap is exact */
		return NULL;
	}
	j = json_stringn_nocheck(t, len);
	free(t);
	return j;
}

static json_t	*mp_value(struct gs_rd *rd, int depth);

/* A JSON value's text as an object key; NULL when out of memory. */
static char *
mp_key_text(const json_t *j, size_t *len)
{
	char	*s;

	switch (json_typeof(j)) {
	case JSON_STRING:
		*len = json_string_length(j);
		if ((s = malloc(*len + 1)) != NULL)
			memcpy(s, json_string_value(j), *len + 1);
		return s;
	default:
		/* numbers, true, false, null and containers: their text */
		if ((s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY)) !=
		    NULL)
			*len = strlen(s);
		return s;
	}
}

static json_t *
mp_fail(struct gs_rd *rd, int err)
{
	gs_rd_fail(rd, err);
	return NULL;
}

static json_t *
mp_container(struct gs_rd *rd, int depth)
{
	json_t		*c, *k, *v;
	uint32_t	 n, i;
	char		*key;
	size_t		 klen;
	int		 map = gs_rd_type(rd) == GS_MP_MAP;

	n = map ? gs_rd_map(rd, UINT32_MAX) : gs_rd_array(rd, UINT32_MAX);
	if (rd->err != GS_OK)
		return NULL;
	if ((c = map ? json_object() : json_array()) == NULL)
		return mp_fail(rd, GS_ENOMEM);
	for (i = 0; i < n; i++) {
		if (!map) {
			if ((v = mp_value(rd, depth + 1)) == NULL ||
			    json_array_append_new(c, v) != 0)
				goto fail;
			continue;
		}
		if ((k = mp_value(rd, depth + 1)) == NULL)
			goto fail;
		key = mp_key_text(k, &klen);
		json_decref(k);
		if (key == NULL)
			goto fail;
		v = mp_value(rd, depth + 1);
		/* the key is valid UTF-8: made by gs_json_strn or jansson */
		if (v == NULL ||
		    json_object_setn_new_nocheck(c, key, klen, v) != 0) {
			free(key);
			goto fail;
		}
		free(key);
	}
	return c;
fail:
	json_decref(c);
	return mp_fail(rd, GS_ENOMEM);	/* unless rd failed first */
}

static json_t *
mp_value(struct gs_rd *rd, int depth)
{
	const char	*s;
	const uint8_t	*b;
	json_t		*j;
	size_t		 n;

	if (depth > GS_MP_MAXDEPTH)
		return mp_fail(rd, GS_EDEPTH);
	switch (gs_rd_type(rd)) {
	case GS_MP_END:
		return mp_fail(rd, rd->err != GS_OK ? rd->err : GS_ETRUNC);
	case GS_MP_BAD:
		return mp_fail(rd, GS_ETYPE);
	case GS_MP_NIL:
		(void)gs_rd_nil(rd);
		j = json_null();
		break;
	case GS_MP_BOOL:
		j = json_boolean(gs_rd_bool(rd));
		break;
	case GS_MP_UINT:
		j = gs_json_uint(gs_rd_uint(rd, UINT64_MAX));
		break;
	case GS_MP_INT:
		j = gs_json_int(gs_rd_int(rd, INT64_MIN, INT64_MAX));
		break;
	case GS_MP_FLOAT:
		j = gs_json_real(gs_rd_f64(rd));
		break;
	case GS_MP_STR:
		if ((s = gs_rd_strp(rd, &n, SIZE_MAX)) == NULL)
			return NULL;
		j = gs_json_strn(s, n);
		break;
	case GS_MP_BIN:
		if ((b = gs_rd_binp(rd, &n, SIZE_MAX)) == NULL)
			return NULL;
		if ((j = bin_json(b, n)) == NULL)
			return mp_fail(rd, GS_ENOMEM);
		break;
	case GS_MP_EXT:
		gs_rd_skip(rd);
		j = json_null();
		break;
	default:
		return mp_container(rd, depth);
	}
	if (rd->err != GS_OK) {
		json_decref(j);
		return NULL;
	}
	if (j == NULL)
		return mp_fail(rd, GS_ENOMEM);
	return j;
}

json_t *
gs_json_from_mp(struct gs_rd *rd)
{
	return mp_value(rd, 0);
}

/* ----------------------------------------------------------- output */

static size_t
json_flags(int indent, int precision)
{
	size_t	fl = JSON_ENCODE_ANY;

	if (indent < 0)
		fl |= JSON_COMPACT;
	else
		fl |= JSON_INDENT(indent > 31 ? 31 : indent);
	if (precision > 0)
		fl |= JSON_REAL_PRECISION(precision > 31 ? 31 : precision);
	return fl;
}

int
gs_json_write(const json_t *j, FILE *f, int indent, int precision)
{
	if (json_dumpf(j, f, json_flags(indent, precision)) != 0 ||
	    fputc('\n', f) == EOF)
		return GS_ESYS;
	return GS_OK;
}

/* Declared in mp.h, where the fuzzer and the msgpack tests find it. */
int
gs_mp_to_json(struct gs_rd *rd, FILE *f, int indent)
{
	json_t	*j;

	if ((j = gs_json_from_mp(rd)) == NULL)
		return rd->err != GS_OK ? rd->err : GS_ENOMEM;
	if (json_dumpf(j, f, json_flags(indent, 0)) != 0) {
		json_decref(j);
		return GS_ESYS;
	}
	json_decref(j);
	return rd->err;
}

int
gs_json_to_mp(const json_t *j, struct gs_wr *w, int levels)
{
	const char	*k;
	json_t		*v;
	size_t		 i, klen;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		if (levels <= 0)
			return -1;
		gs_wr_map(w, (uint32_t)json_object_size(j));
		/* jansson's foreach takes a non-const object; it does not
		 * change it. */
		json_object_keylen_foreach((json_t *)j, k, klen, v) {
			gs_wr_strn(w, k, klen);
			if (gs_json_to_mp(v, w, levels - 1) != 0)
				return -1;
		}
		return 0;
	case JSON_ARRAY:
		if (levels <= 0)
			return -1;
		gs_wr_array(w, (uint32_t)json_array_size(j));
		json_array_foreach(j, i, v)
			if (gs_json_to_mp(v, w, levels - 1) != 0)
				return -1;
		return 0;
	case JSON_STRING:
		gs_wr_strn(w, json_string_value(j), json_string_length(j));
		return 0;
	case JSON_INTEGER:
		gs_wr_int(w, json_integer_value(j));
		return 0;
	case JSON_REAL:
		gs_wr_f64(w, json_real_value(j));
		return 0;
	case JSON_TRUE:
	case JSON_FALSE:
		gs_wr_bool(w, json_is_true(j));
		return 0;
	case JSON_NULL:
		gs_wr_nil(w);
		return 0;
	}
	return -1;
}
