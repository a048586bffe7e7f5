/*
 * Bounded msgpack reading and writing.
 *
 * Reading: struct gs_rd is a cursor over (pointer, length).  Every read
 * checks the bytes left before it touches them; the first error sticks
 * (later reads return zero values and do nothing), so a decoder reads
 * all its fields and checks once, with gs_rd_end() rejecting trailing
 * bytes.  Nothing allocates.  Containers carry declared counts that
 * are checked against a caller's cap and against the bytes left.
 *
 * Writing: struct gs_wr packs through msgpack-c's msgpack_packer into a
 * buffer with a hard cap.  Going over the cap sets a sticky GS_ETOOBIG.
 *
 * Why our own reader rather than msgpack_unpack(): the unpacker builds
 * an object tree in a zone sized by the declared counts of the input,
 * so a 5-byte frame claiming a 4-billion-element array asks for 64 GiB.
 * Pulling typed fields straight from the bytes is bounded and
 * allocation-free on the per-frame hot path.
 */
#ifndef GS_MP_H
#define GS_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "err.h"

#define GS_MP_MAXDEPTH	32	/* nesting accepted by gs_rd_skip() */

enum gs_mp_type {
	GS_MP_END = 0,		/* no bytes left (or a sticky error) */
	GS_MP_NIL, GS_MP_BOOL, GS_MP_UINT, GS_MP_INT, GS_MP_FLOAT,
	GS_MP_STR, GS_MP_BIN, GS_MP_ARRAY, GS_MP_MAP, GS_MP_EXT,
	GS_MP_BAD		/* 0xc1, never used by msgpack */
};

struct gs_rd {
	const uint8_t	*p;
	const uint8_t	*end;
	int		 err;
};
#define GS_RD_INIT(buf, len) { (const uint8_t *)(buf), \
	(const uint8_t *)(buf) + (len), GS_OK }

static inline void
gs_rd_init(struct gs_rd *rd, const void *buf, size_t len)
{
	rd->p = buf;
	rd->end = rd->p + len;
	rd->err = GS_OK;
}
static inline size_t
gs_rd_left(const struct gs_rd *rd)
{
	return (size_t)(rd->end - rd->p);
}
/* True while bytes are left and no error has occurred. */
static inline bool
gs_rd_more(const struct gs_rd *rd)
{
	return rd->err == GS_OK && rd->p < rd->end;
}
/* Set the sticky error unless one is set already; returns rd->err. */
int		gs_rd_fail(struct gs_rd *rd, int err);

/* Type of the next value, without consuming it. */
enum gs_mp_type	gs_rd_type(const struct gs_rd *rd);
const char	*gs_mp_type_name(enum gs_mp_type t);

/* Container headers: the count, which must be <= max (GS_ETOOBIG). */
uint32_t	gs_rd_array(struct gs_rd *rd, uint32_t max);
uint32_t	gs_rd_map(struct gs_rd *rd, uint32_t max);
/* Read an array header whose count must be in [min, max]. */
uint32_t	gs_rd_array_n(struct gs_rd *rd, uint32_t min, uint32_t max);

/* Integers of either sign encoding, range-checked (GS_ERANGE). */
int64_t		gs_rd_int(struct gs_rd *rd, int64_t min, int64_t max);
uint64_t	gs_rd_uint(struct gs_rd *rd, uint64_t max);
/* Any number (int or float) as a double. */
double		gs_rd_f64(struct gs_rd *rd);
bool		gs_rd_bool(struct gs_rd *rd);
/* Consumes a nil and returns true; otherwise consumes nothing. */
bool		gs_rd_nil(struct gs_rd *rd);

/* String or bin bytes, borrowed from the buffer; *len is its length.
 * Longer than max: GS_ETOOBIG.  Returns NULL on error. */
const char	*gs_rd_strp(struct gs_rd *rd, size_t *len, size_t max);
const uint8_t	*gs_rd_binp(struct gs_rd *rd, size_t *len, size_t max);
/* Copy a string into dst[cap] NUL-terminated.  Strings of cap bytes or
 * more, and strings holding a NUL byte, are errors.  Returns length. */
size_t		gs_rd_str(struct gs_rd *rd, char *dst, size_t cap);

/* Skip one value of any type (containers recursively, up to
 * GS_MP_MAXDEPTH).  gs_rd_raw() does the same and returns the span. */
void		gs_rd_skip(struct gs_rd *rd);
const uint8_t	*gs_rd_raw(struct gs_rd *rd, size_t *len);

/* GS_OK if no error occurred and no bytes are left; else the error
 * (GS_ETRAIL for leftovers). */
int		gs_rd_end(struct gs_rd *rd);

/*
 * Writer.  Either growing (malloc'd, doubling up to max) or fixed (over
 * a caller's buffer, never allocates).  len is the bytes written.
 */
struct gs_wr {
	uint8_t		*buf;
	size_t		 len;
	size_t		 cap;
	size_t		 max;
	int		 err;
	int		 owned;		/* buf is ours to realloc and free */
	msgpack_packer	 pk;
};

void	gs_wr_init(struct gs_wr *wr, size_t initial, size_t max);
void	gs_wr_init_fixed(struct gs_wr *wr, void *buf, size_t cap);
void	gs_wr_free(struct gs_wr *wr);
/* Forget the contents and the error, keep the buffer. */
void	gs_wr_reset(struct gs_wr *wr);
/* Cut back to an earlier length (to undo a partly written record). */
void	gs_wr_truncate(struct gs_wr *wr, size_t len);

void	gs_wr_array(struct gs_wr *wr, uint32_t n);
void	gs_wr_map(struct gs_wr *wr, uint32_t n);
void	gs_wr_uint(struct gs_wr *wr, uint64_t v);
void	gs_wr_int(struct gs_wr *wr, int64_t v);
void	gs_wr_f64(struct gs_wr *wr, double v);
void	gs_wr_f32(struct gs_wr *wr, float v);
void	gs_wr_bool(struct gs_wr *wr, bool v);
void	gs_wr_nil(struct gs_wr *wr);
void	gs_wr_str(struct gs_wr *wr, const char *s);
void	gs_wr_strn(struct gs_wr *wr, const char *s, size_t n);
void	gs_wr_bin(struct gs_wr *wr, const void *p, size_t n);
/*
 * A map or an array whose count is known only once its items are
 * written: begin writes a 32-bit header and returns where it is; end
 * sets its count (a no-op after an error).
 */
size_t	gs_wr_count_begin(struct gs_wr *wr, bool map);
void	gs_wr_count_end(struct gs_wr *wr, size_t at, uint32_t n);
/* Append bytes that already are msgpack (a value from gs_rd_raw()). */
void	gs_wr_raw(struct gs_wr *wr, const void *p, size_t n);

/*
 * Write one value read from rd as JSON to f, by the rules of json.h
 * (where it is implemented, with jansson); nothing is written when rd
 * fails.  indent < 0: compact; else pretty-printed.  Returns rd->err,
 * or GS_ENOMEM / GS_ESYS.
 */
#include <stdio.h>
int	gs_mp_to_json(struct gs_rd *rd, FILE *f, int indent);

#endif
