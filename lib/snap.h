/*
 * Snapshot bodies of protocol version 2: quantized entity records,
 * full or as a delta against a baseline the client acknowledged.  The
 * standard is gs-protocol(7), "Snapshot body"; this is its code, used
 * by gs-sim to encode and by clients (gs-loadgen, the tests) to decode.
 *
 * A body is bytes (a msgpack bin in the snapshot message):
 *
 *   body    = nremoved:uv { id:uv } nupdates:uv { id:uv record }
 *   record  = mask:uv [type:uv] [pos] { field }
 *
 * Ids are ascending within each list and written as the gap from the
 * previous one (the first as itself).  uv is an unsigned LEB128 varint
 * and sv a signed one, zigzag-mapped first.  mask bit 0: position; bit 1:
 * type (a full record: the entity enters, or has no usable baseline);
 * bit 2+i: field i.  A full record has every bit of its type set and
 * carries the position as cell coordinates and 16-bit offsets
 * (cx:uv cy:uv ox:u16le oy:u16le) and each field as uv(value - min); a
 * delta record carries only what changed, the position as dqx:sv dqy:sv
 * and each field as sv(value - baseline value).
 *
 * Positions are quantized to q = round(x * 65536 / cell), so a cell is
 * 65536 steps; q = cx * 65536 + ox.
 */
#ifndef GS_SNAP_H
#define GS_SNAP_H

#include <stddef.h>
#include <stdint.h>

#define GS_SNAP_TYPES_MAX	16
#define GS_SNAP_FIELDS_MAX	8
#define GS_SNAP_CELL_STEPS	65536
/* Longest record: mask 2, type 3, cx and cy 10 each, ox and oy 2 each,
 * 8 fields of 10. */
#define GS_SNAP_RECORD_MAX	(2 + 3 + 10 + 10 + 2 + 2 + 8 * 10)
#define GS_SNAP_MASK_POS	0x01u
#define GS_SNAP_MASK_TYPE	0x02u
#define GS_SNAP_MASK_FIELD(i)	(0x04u << (i))

/* What a decoder must know of the game: from the welcome. */
struct gs_snap_schema {
	double		 cell;			/* world units per cell */
	unsigned	 ntypes;
	unsigned	 nfields[GS_SNAP_TYPES_MAX];
	int64_t		 min[GS_SNAP_TYPES_MAX][GS_SNAP_FIELDS_MAX];
	int64_t		 max[GS_SNAP_TYPES_MAX][GS_SNAP_FIELDS_MAX];
};

/* One entity as the wire carries it. */
struct gs_snap_ent {
	uint64_t	 id;
	uint32_t	 type;		/* wire number: 1 up */
	int64_t		 qx, qy;	/* quantized position, >= 0 */
	int64_t		 f[GS_SNAP_FIELDS_MAX];
};

/* A client's view: entities sorted by id. */
struct gs_snap {
	uint64_t		 tick;
	uint32_t		 n, cap;
	struct gs_snap_ent	*e;
};

int64_t	gs_snap_quantize(double x, double cell);
double	gs_snap_unquantize(int64_t q, double cell);

/* A varint into a byte buffer: returns the bytes written (at most 10),
 * or 0 when cap is too small. */
size_t	gs_snap_put_uv(uint8_t *p, size_t cap, uint64_t v);

/*
 * Records (without the id gap, which depends on the list it is in).
 * full: the whole entity; delta: what changed from base (same id and
 * type).  Return the length, 0 when nothing changed (delta only) or
 * cap is short; buf needs GS_SNAP_RECORD_MAX.
 */
size_t	gs_snap_record_full(const struct gs_snap_schema *s,
	    const struct gs_snap_ent *e, uint8_t *buf, size_t cap);
size_t	gs_snap_record_delta(const struct gs_snap_schema *s,
	    const struct gs_snap_ent *base, const struct gs_snap_ent *e,
	    uint8_t *buf, size_t cap);

void	gs_snap_init(struct gs_snap *sn);
void	gs_snap_free(struct gs_snap *sn);
int	gs_snap_copy(struct gs_snap *dst, const struct gs_snap *src);
/* The entity of id in sn, or NULL (binary search). */
struct gs_snap_ent *gs_snap_find(const struct gs_snap *sn, uint64_t id);

/*
 * Decode a body: out = base with the removals and records applied
 * (base NULL: a full snapshot, from nothing).  GS_OK, GS_ENOMEM, or
 * GS_EINVAL for a malformed body: bytes short or left over, ids not
 * ascending, a removal or delta for an entity base does not hold, an
 * undeclared type or field, a value outside its range.  scratch is
 * working space, kept for the next call; out, base and scratch are
 * three different snapshots.  out->tick is left to the caller.
 */
int	gs_snap_apply(const struct gs_snap_schema *s, const struct gs_snap *base,
	    const uint8_t *body, size_t len, struct gs_snap *out,
	    struct gs_snap *scratch);

#endif
