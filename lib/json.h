/*
 * JSON output, through jansson: the one place that turns values into
 * JSON text (gs-ctl's answers, gs-loadgen's report).  Whatever the
 * input, the output is valid JSON:
 *
 *   integers	numbers while within +-(2^53 - 1), the range a reader
 *		using IEEE doubles (JavaScript, jq) holds exactly;
 *		beyond it, strings of decimal digits ("18446744073709551615").
 *		A 64-bit id is therefore a number or a string by its
 *		value: read it with a conversion that takes both.
 *   floats	numbers; NaN and the infinities are null.
 *   strings	as they are; each byte that is not part of a valid UTF-8
 *		sequence becomes U+FFFD; NUL and control bytes are
 *		escaped (\u0000).
 *
 * From msgpack (gs_json_from_mp) also:
 *   bin	a string, the bytes in base64 (RFC 4648, with padding).
 *   ext	null.
 *   map keys	always strings: a string key as above, nil "null", a
 *		bool "true"/"false", a number as its JSON text, bin in
 *		base64, a container as its compact JSON text.  A key
 *		repeated in one map keeps its last value.
 *
 * Every constructor returns a new reference, or NULL when out of memory.
 */
#ifndef GS_JSON_H
#define GS_JSON_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "mp.h"

/* The largest integer JSON carries as a number here: 2^53 - 1. */
#define GS_JSON_INT_MAX	9007199254740991LL

json_t	*gs_json_uint(uint64_t v);
json_t	*gs_json_int(int64_t v);
json_t	*gs_json_real(double v);
json_t	*gs_json_strn(const char *s, size_t n);
json_t	*gs_json_str(const char *s);

/* j when building it went well (bad == 0), else NULL with j released:
 * collect the results of the calls that fill j with bad |= ..., then
 * return gs_json_built(j, bad). */
json_t	*gs_json_built(json_t *j, int bad);

/* obj[key] = v, v stolen (NULL: an error, after out of memory); key
 * made valid UTF-8 as a string is.  0, or -1 when out of memory. */
int	gs_json_set(json_t *obj, const char *key, json_t *v);

/*
 * Consume one msgpack value from rd and return it as JSON.  NULL when
 * rd fails (truncated, 0xc1, nested deeper than GS_MP_MAXDEPTH: rd->err
 * tells) or memory runs out (rd->err is then GS_ENOMEM).
 */
json_t	*gs_json_from_mp(struct gs_rd *rd);

/*
 * Write JSON value j into w as msgpack (objects as maps, keys as str,
 * integers as int, reals as float 64), at most levels containers deep
 * (j's own counted).  0, or -1 when j is deeper (w then holds part of
 * it: the caller discards w).  The reverse of gs_json_from_mp() for
 * what JSON can say.
 */
int	gs_json_to_mp(const json_t *j, struct gs_wr *w, int levels);

/* Write j to f and a newline: indent < 0 compact, else indented by
 * that many spaces (at most 31); floats with precision significant
 * digits (0: 17, every double exact).  GS_OK or GS_ESYS. */
int	gs_json_write(const json_t *j, FILE *f, int indent, int precision);

#endif
