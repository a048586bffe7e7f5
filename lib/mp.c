#include <stdlib.h>
#include <string.h>

#include "mp.h"

/* Big-endian loads; the caller has checked the length. */
static inline uint16_t
ld16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}
static inline uint32_t
ld32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t
ld64(const uint8_t *p)
{
	return (uint64_t)ld32(p) << 32 | ld32(p + 4);
}

int
gs_rd_fail(struct gs_rd *rd, int err)
{
	if (rd->err == GS_OK)
		rd->err = err;
	return rd->err;
}

/* Take n bytes; NULL (and GS_ETRUNC) if fewer are left. */
static const uint8_t *
rd_take(struct gs_rd *rd, size_t n)
{
	const uint8_t	*p;

	if (rd->err != GS_OK)
		return NULL;
	if (gs_rd_left(rd) < n) {
		gs_rd_fail(rd, GS_ETRUNC);
		return NULL;
	}
	p = rd->p;
	rd->p += n;
	return p;
}

enum gs_mp_type
gs_rd_type(const struct gs_rd *rd)
{
	uint8_t	b;

	if (rd->err != GS_OK || rd->p >= rd->end)
		return GS_MP_END;
	b = *rd->p;
	if (b <= 0x7f || b == 0xcc || b == 0xcd || b == 0xce || b == 0xcf)
		return GS_MP_UINT;
	if (b >= 0xe0 || (b >= 0xd0 && b <= 0xd3))
		return GS_MP_INT;
	if ((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb))
		return GS_MP_STR;
	if ((b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd)
		return GS_MP_ARRAY;
	if ((b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf)
		return GS_MP_MAP;
	switch (b) {
	case 0xc0:
		return GS_MP_NIL;
	case 0xc2:
	case 0xc3:
		return GS_MP_BOOL;
	case 0xc4:
	case 0xc5:
	case 0xc6:
		return GS_MP_BIN;
	case 0xca:
	case 0xcb:
		return GS_MP_FLOAT;
	case 0xc1:
		return GS_MP_BAD;
	default:		/* c7-c9 ext, d4-d8 fixext */
		return GS_MP_EXT;
	}
}

const char *
gs_mp_type_name(enum gs_mp_type t)
{
	static const char *const n[] = { "end", "nil", "bool", "uint", "int",
	    "float", "str", "bin", "array", "map", "ext", "bad" };

	return (unsigned)t < sizeof(n) / sizeof(n[0]) ? n[t] : "unknown";
}

/*
 * A container count must be plausible for the bytes left: every element
 * takes at least one byte (two for a map entry).  This rejects frames
 * that declare more than they can hold before anyone loops over them.
 */
static uint32_t
rd_container(struct gs_rd *rd, int map, uint32_t max)
{
	const uint8_t	*p;
	uint32_t	 n;
	uint8_t		 b;

	if ((p = rd_take(rd, 1)) == NULL)
		return 0;
	b = *p;
	if (!map && b >= 0x90 && b <= 0x9f)
		n = b & 0x0f;
	else if (map && b >= 0x80 && b <= 0x8f)
		n = b & 0x0f;
	else if (b == (map ? 0xde : 0xdc)) {
		if ((p = rd_take(rd, 2)) == NULL)
			return 0;
		n = ld16(p);
	} else if (b == (map ? 0xdf : 0xdd)) {
		if ((p = rd_take(rd, 4)) == NULL)
			return 0;
		n = ld32(p);
	} else {
		rd->p--;
		gs_rd_fail(rd, GS_ETYPE);
		return 0;
	}
	if (n > max) {
		gs_rd_fail(rd, GS_ETOOBIG);
		return 0;
	}
	if ((uint64_t)n * (map ? 2u : 1u) > gs_rd_left(rd)) {
		gs_rd_fail(rd, GS_ETRUNC);
		return 0;
	}
	return n;
}

uint32_t
gs_rd_array(struct gs_rd *rd, uint32_t max)
{
	return rd_container(rd, 0, max);
}

uint32_t
gs_rd_map(struct gs_rd *rd, uint32_t max)
{
	return rd_container(rd, 1, max);
}

uint32_t
gs_rd_array_n(struct gs_rd *rd, uint32_t min, uint32_t max)
{
	uint32_t	n = rd_container(rd, 0, max);

	if (rd->err == GS_OK && n < min)
		gs_rd_fail(rd, GS_ETRUNC);
	return rd->err == GS_OK ? n : 0;
}

/*
 * Read any integer.  *neg tells whether the value is negative; then
 * *mag holds it as int64 bits.  Returns 0 on error.
 */
static int
rd_integer(struct gs_rd *rd, uint64_t *u, int *neg)
{
	const uint8_t	*p;
	uint8_t		 b;

	if ((p = rd_take(rd, 1)) == NULL)
		return 0;
	b = *p;
	*neg = 0;
	if (b <= 0x7f) {
		*u = b;
		return 1;
	}
	if (b >= 0xe0) {
		*u = (uint64_t)(int64_t)(int8_t)b;
		*neg = 1;
		return 1;
	}
	switch (b) {
	case 0xcc:
		if ((p = rd_take(rd, 1)) == NULL)
			return 0;
		*u = p[0];
		return 1;
	case 0xcd:
		if ((p = rd_take(rd, 2)) == NULL)
			return 0;
		*u = ld16(p);
		return 1;
	case 0xce:
		if ((p = rd_take(rd, 4)) == NULL)
			return 0;
		*u = ld32(p);
		return 1;
	case 0xcf:
		if ((p = rd_take(rd, 8)) == NULL)
			return 0;
		*u = ld64(p);
		return 1;
	case 0xd0:
		if ((p = rd_take(rd, 1)) == NULL)
			return 0;
		*u = (uint64_t)(int64_t)(int8_t)p[0];
		break;
	case 0xd1:
		if ((p = rd_take(rd, 2)) == NULL)
			return 0;
		*u = (uint64_t)(int64_t)(int16_t)ld16(p);
		break;
	case 0xd2:
		if ((p = rd_take(rd, 4)) == NULL)
			return 0;
		*u = (uint64_t)(int64_t)(int32_t)ld32(p);
		break;
	case 0xd3:
		if ((p = rd_take(rd, 8)) == NULL)
			return 0;
		*u = ld64(p);
		break;
	default:
		rd->p--;
		gs_rd_fail(rd, GS_ETYPE);
		return 0;
	}
	/* Signed encodings may hold non-negative values. */
	*neg = (int64_t)*u < 0;
	return 1;
}

int64_t
gs_rd_int(struct gs_rd *rd, int64_t min, int64_t max)
{
	uint64_t	u;
	int64_t		v;
	int		neg;

	if (!rd_integer(rd, &u, &neg))
		return 0;
	if (!neg && u > INT64_MAX) {
		gs_rd_fail(rd, GS_ERANGE);
		return 0;
	}
	v = (int64_t)u;
	if (v < min || v > max) {
		gs_rd_fail(rd, GS_ERANGE);
		return 0;
	}
	return v;
}

uint64_t
gs_rd_uint(struct gs_rd *rd, uint64_t max)
{
	uint64_t	u;
	int		neg;

	if (!rd_integer(rd, &u, &neg))
		return 0;
	if (neg || u > max) {
		gs_rd_fail(rd, GS_ERANGE);
		return 0;
	}
	return u;
}

double
gs_rd_f64(struct gs_rd *rd)
{
	const uint8_t	*p;
	uint64_t	 u;
	uint32_t	 w;
	double		 d;
	float		 f;
	int		 neg;

	switch (gs_rd_type(rd)) {
	case GS_MP_UINT:
	case GS_MP_INT:
		if (!rd_integer(rd, &u, &neg))
			return 0;
		return neg ? (double)(int64_t)u : (double)u;
	case GS_MP_FLOAT:
		break;
	default:
		gs_rd_fail(rd, rd->p < rd->end ? GS_ETYPE : GS_ETRUNC);
		return 0;
	}
	if (*rd->p == 0xca) {
		if ((p = rd_take(rd, 5)) == NULL)
			return 0;
		w = ld32(p + 1);
		memcpy(&f, &w, sizeof(f));
		d = f;
	} else {
		if ((p = rd_take(rd, 9)) == NULL)
			return 0;
		u = ld64(p + 1);
		memcpy(&d, &u, sizeof(d));
	}
	return d;
}

bool
gs_rd_bool(struct gs_rd *rd)
{
	const uint8_t	*p;

	if ((p = rd_take(rd, 1)) == NULL)
		return false;
	if (*p == 0xc2 || *p == 0xc3)
		return *p == 0xc3;
	rd->p--;
	gs_rd_fail(rd, GS_ETYPE);
	return false;
}

bool
gs_rd_nil(struct gs_rd *rd)
{
	if (gs_rd_type(rd) != GS_MP_NIL)
		return false;
	rd->p++;
	return true;
}

/* String (str = 1) or bin (str = 0) header and bytes. */
static const uint8_t *
rd_bytes(struct gs_rd *rd, int str, size_t *len, size_t max)
{
	const uint8_t	*p;
	uint32_t	 n;
	uint8_t		 b;

	*len = 0;
	if ((p = rd_take(rd, 1)) == NULL)
		return NULL;
	b = *p;
	if (str && b >= 0xa0 && b <= 0xbf)
		n = b & 0x1f;
	else if (b == (str ? 0xd9 : 0xc4)) {
		if ((p = rd_take(rd, 1)) == NULL)
			return NULL;
		n = p[0];
	} else if (b == (str ? 0xda : 0xc5)) {
		if ((p = rd_take(rd, 2)) == NULL)
			return NULL;
		n = ld16(p);
	} else if (b == (str ? 0xdb : 0xc6)) {
		if ((p = rd_take(rd, 4)) == NULL)
			return NULL;
		n = ld32(p);
	} else {
		rd->p--;
		gs_rd_fail(rd, GS_ETYPE);
		return NULL;
	}
	if (n > max) {
		gs_rd_fail(rd, GS_ETOOBIG);
		return NULL;
	}
	if ((p = rd_take(rd, n)) == NULL)
		return NULL;
	*len = n;
	return p;
}

const char *
gs_rd_strp(struct gs_rd *rd, size_t *len, size_t max)
{
	return (const char *)rd_bytes(rd, 1, len, max);
}

const uint8_t *
gs_rd_binp(struct gs_rd *rd, size_t *len, size_t max)
{
	return rd_bytes(rd, 0, len, max);
}

size_t
gs_rd_str(struct gs_rd *rd, char *dst, size_t cap)
{
	const uint8_t	*p;
	size_t		 n;

	if (cap == 0) {
		gs_rd_fail(rd, GS_ETOOBIG);
		return 0;
	}
	dst[0] = '\0';
	if ((p = rd_bytes(rd, 1, &n, cap - 1)) == NULL)
		return 0;
	if (memchr(p, '\0', n) != NULL) {
		gs_rd_fail(rd, GS_EINVAL);
		return 0;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
	return n;
}

/* Skip the body of an ext value whose type byte was b. */
static void
rd_skip_ext(struct gs_rd *rd, uint8_t b)
{
	const uint8_t	*p;
	size_t		 n;

	switch (b) {
	case 0xd4: n = 1; break;
	case 0xd5: n = 2; break;
	case 0xd6: n = 4; break;
	case 0xd7: n = 8; break;
	case 0xd8: n = 16; break;
	case 0xc7:
		if ((p = rd_take(rd, 1)) == NULL)
			return;
		n = p[0];
		break;
	case 0xc8:
		if ((p = rd_take(rd, 2)) == NULL)
			return;
		n = ld16(p);
		break;
	default:	/* 0xc9 */
		if ((p = rd_take(rd, 4)) == NULL)
			return;
		n = ld32(p);
		break;
	}
	(void)rd_take(rd, n + 1);	/* type byte + data */
}

/*
 * Iterative, with a stack of the elements left per open container, so a
 * hostile depth cannot overflow the C stack.
 */
void
gs_rd_skip(struct gs_rd *rd)
{
	uint64_t	left[GS_MP_MAXDEPTH + 1];
	int		depth = 0;
	size_t		n;
	uint64_t	u;
	int		neg;

	left[0] = 1;
	while (rd->err == GS_OK) {
		while (depth > 0 && left[depth] == 0)
			depth--;
		if (left[depth] == 0)
			return;
		left[depth]--;
		switch (gs_rd_type(rd)) {
		case GS_MP_END:
			gs_rd_fail(rd, GS_ETRUNC);
			return;
		case GS_MP_BAD:
			gs_rd_fail(rd, GS_ETYPE);
			return;
		case GS_MP_NIL:
			rd->p++;
			break;
		case GS_MP_BOOL:
			(void)gs_rd_bool(rd);
			break;
		case GS_MP_UINT:
		case GS_MP_INT:
			(void)rd_integer(rd, &u, &neg);
			break;
		case GS_MP_FLOAT:
			(void)gs_rd_f64(rd);
			break;
		case GS_MP_STR:
			(void)rd_bytes(rd, 1, &n, SIZE_MAX);
			break;
		case GS_MP_BIN:
			(void)rd_bytes(rd, 0, &n, SIZE_MAX);
			break;
		case GS_MP_EXT:
			rd_skip_ext(rd, *rd->p++);
			break;
		case GS_MP_ARRAY:
		case GS_MP_MAP:
			if (depth == GS_MP_MAXDEPTH) {
				gs_rd_fail(rd, GS_EDEPTH);
				return;
			}
			if (gs_rd_type(rd) == GS_MP_MAP)
				n = 2 * (size_t)gs_rd_map(rd, UINT32_MAX);
			else
				n = gs_rd_array(rd, UINT32_MAX);
			if (rd->err != GS_OK)
				return;
			left[++depth] = n;
			break;
		}
	}
}

const uint8_t *
gs_rd_raw(struct gs_rd *rd, size_t *len)
{
	const uint8_t	*start = rd->p;

	gs_rd_skip(rd);
	if (rd->err != GS_OK) {
		*len = 0;
		return NULL;
	}
	*len = (size_t)(rd->p - start);
	return start;
}

int
gs_rd_end(struct gs_rd *rd)
{
	if (rd->err == GS_OK && rd->p != rd->end)
		rd->err = GS_ETRAIL;
	return rd->err;
}

/* ------------------------------------------------------------ writer */

static int
wr_grow(struct gs_wr *wr, size_t need)
{
	size_t	 ncap;
	uint8_t	*nbuf;

	if (need > wr->max || !wr->owned)
		return GS_ETOOBIG;
	ncap = wr->cap ? wr->cap : 64;
	while (ncap < need)
		ncap = ncap > wr->max / 2 ? wr->max : ncap * 2;
	if ((nbuf = realloc(wr->buf, ncap)) == NULL)
		return GS_ENOMEM;
	wr->buf = nbuf;
	wr->cap = ncap;
	return GS_OK;
}

/* msgpack_packer's write callback: append or set the sticky error. */
static int
wr_write_cb(void *data, const char *p, size_t n)
{
	struct gs_wr	*wr = data;
	int		 err;

	if (wr->err != GS_OK)
		return -1;
	if (n > wr->cap - wr->len) {
		if (n > SIZE_MAX - wr->len)
			err = GS_ETOOBIG;
		else
			err = wr_grow(wr, wr->len + n);
		if (err != GS_OK) {
			wr->err = err;
			return -1;
		}
	}
	memcpy(wr->buf + wr->len, p, n);
	wr->len += n;
	return 0;
}

void
gs_wr_init(struct gs_wr *wr, size_t initial, size_t max)
{
	memset(wr, 0, sizeof(*wr));
	wr->max = max;
	wr->owned = 1;
	if (initial > max)
		initial = max;
	if (initial > 0 && wr_grow(wr, initial) != GS_OK)
		wr->err = GS_ENOMEM;
	msgpack_packer_init(&wr->pk, wr, wr_write_cb);
}

void
gs_wr_init_fixed(struct gs_wr *wr, void *buf, size_t cap)
{
	memset(wr, 0, sizeof(*wr));
	wr->buf = buf;
	wr->cap = cap;
	wr->max = cap;
	msgpack_packer_init(&wr->pk, wr, wr_write_cb);
}

void
gs_wr_free(struct gs_wr *wr)
{
	if (wr->owned)
		free(wr->buf);
	wr->buf = NULL;
	wr->len = wr->cap = 0;
}

void
gs_wr_reset(struct gs_wr *wr)
{
	wr->len = 0;
	wr->err = GS_OK;
}

void
gs_wr_truncate(struct gs_wr *wr, size_t len)
{
	if (len <= wr->len) {
		wr->len = len;
		wr->err = GS_OK;
	}
}

void gs_wr_array(struct gs_wr *wr, uint32_t n)
{ (void)msgpack_pack_array(&wr->pk, n); }
void gs_wr_map(struct gs_wr *wr, uint32_t n)
{ (void)msgpack_pack_map(&wr->pk, n); }
void gs_wr_uint(struct gs_wr *wr, uint64_t v)
{ (void)msgpack_pack_uint64(&wr->pk, v); }
void gs_wr_int(struct gs_wr *wr, int64_t v)
{ (void)msgpack_pack_int64(&wr->pk, v); }
void gs_wr_f64(struct gs_wr *wr, double v)
{ (void)msgpack_pack_double(&wr->pk, v); }
void gs_wr_f32(struct gs_wr *wr, float v)
{ (void)msgpack_pack_float(&wr->pk, v); }
void gs_wr_nil(struct gs_wr *wr)
{ (void)msgpack_pack_nil(&wr->pk); }

void
gs_wr_bool(struct gs_wr *wr, bool v)
{
	(void)(v ? msgpack_pack_true(&wr->pk) : msgpack_pack_false(&wr->pk));
}

void
gs_wr_strn(struct gs_wr *wr, const char *s, size_t n)
{
	if (n > UINT32_MAX) {
		wr->err = wr->err ? wr->err : GS_ETOOBIG;
		return;
	}
	if (msgpack_pack_str(&wr->pk, n) == 0)
		(void)msgpack_pack_str_body(&wr->pk, s, n);
}

void
gs_wr_str(struct gs_wr *wr, const char *s)
{
	gs_wr_strn(wr, s, strlen(s));
}

void
gs_wr_bin(struct gs_wr *wr, const void *p, size_t n)
{
	if (n > UINT32_MAX) {
		wr->err = wr->err ? wr->err : GS_ETOOBIG;
		return;
	}
	if (msgpack_pack_bin(&wr->pk, n) == 0)
		(void)msgpack_pack_bin_body(&wr->pk, p, n);
}

void
gs_wr_raw(struct gs_wr *wr, const void *p, size_t n)
{
	(void)wr_write_cb(wr, p, n);
}

size_t
gs_wr_count_begin(struct gs_wr *wr, bool map)
{
	size_t	at = wr->len;

	if (map)
		gs_wr_map(wr, UINT32_MAX);	/* map32 */
	else
		gs_wr_array(wr, UINT32_MAX);	/* array32 */
	return at;
}

void
gs_wr_count_end(struct gs_wr *wr, size_t at, uint32_t n)
{
	if (wr->err != GS_OK || at + 5 > wr->len)
		return;
	wr->buf[at + 1] = (uint8_t)(n >> 24);
	wr->buf[at + 2] = (uint8_t)(n >> 16);
	wr->buf[at + 3] = (uint8_t)(n >> 8);
	wr->buf[at + 4] = (uint8_t)n;
}
