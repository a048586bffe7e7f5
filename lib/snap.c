/*
 * Snapshot bodies of protocol version 2 (snap.h, gs-protocol(7)).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "snap.h"

int64_t
gs_snap_quantize(double x, double cell)
{
	return llround(x * GS_SNAP_CELL_STEPS / cell);
}

double
gs_snap_unquantize(int64_t q, double cell)
{
	return (double)q * cell / GS_SNAP_CELL_STEPS;
}

size_t
gs_snap_put_uv(uint8_t *p, size_t cap, uint64_t v)
{
	size_t	n = 0;

	do {
		if (n == cap)
			return 0;
		p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
	return n;
}

static uint64_t
zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

/*
 * The writers below track the length in *n and mark overflow as
 * *n > cap, checked once at the end.
 */
static void
w_uv(uint8_t *buf, size_t cap, size_t *n, uint64_t v)
{
	size_t	k;

	if (*n > cap)
		return;
	if ((k = gs_snap_put_uv(buf + *n, cap - *n, v)) == 0)
		*n = cap + 1;
	else
		*n += k;
}

static void
w_u16(uint8_t *buf, size_t cap, size_t *n, uint16_t v)
{
	if (*n > cap || cap - *n < 2) {
		*n = cap + 1;
		return;
	}
	buf[(*n)++] = (uint8_t)v;
	buf[(*n)++] = (uint8_t)(v >> 8);
}

size_t
gs_snap_record_full(const struct gs_snap_schema *s,
    const struct gs_snap_ent *e, uint8_t *buf, size_t cap)
{
	unsigned	t = e->type - 1, i, nf = s->nfields[t];
	uint64_t	mask = GS_SNAP_MASK_POS | GS_SNAP_MASK_TYPE;
	size_t		n = 0;

	for (i = 0; i < nf; i++)
		mask |= GS_SNAP_MASK_FIELD(i);
	w_uv(buf, cap, &n, mask);
	w_uv(buf, cap, &n, e->type);
	w_uv(buf, cap, &n, (uint64_t)e->qx / GS_SNAP_CELL_STEPS);
	w_uv(buf, cap, &n, (uint64_t)e->qy / GS_SNAP_CELL_STEPS);
	w_u16(buf, cap, &n, (uint16_t)((uint64_t)e->qx % GS_SNAP_CELL_STEPS));
	w_u16(buf, cap, &n, (uint16_t)((uint64_t)e->qy % GS_SNAP_CELL_STEPS));
	for (i = 0; i < nf; i++)
		w_uv(buf, cap, &n, (uint64_t)(e->f[i] - s->min[t][i]));
	return n > cap ? 0 : n;
}

size_t
gs_snap_record_delta(const struct gs_snap_schema *s,
    const struct gs_snap_ent *base, const struct gs_snap_ent *e,
    uint8_t *buf, size_t cap)
{
	unsigned	t = e->type - 1, i, nf = s->nfields[t];
	uint64_t	mask = 0;
	size_t		n = 0;

	if (e->qx != base->qx || e->qy != base->qy)
		mask |= GS_SNAP_MASK_POS;
	for (i = 0; i < nf; i++)
		if (e->f[i] != base->f[i])
			mask |= GS_SNAP_MASK_FIELD(i);
	if (mask == 0)
		return 0;
	w_uv(buf, cap, &n, mask);
	if (mask & GS_SNAP_MASK_POS) {
		w_uv(buf, cap, &n, zigzag(e->qx - base->qx));
		w_uv(buf, cap, &n, zigzag(e->qy - base->qy));
	}
	for (i = 0; i < nf; i++)
		if (mask & GS_SNAP_MASK_FIELD(i))
			w_uv(buf, cap, &n,
			    zigzag((int64_t)((uint64_t)e->f[i] -
			    (uint64_t)base->f[i])));
	return n > cap ? 0 : n;
}

/* ------------------------------------------------------------ decoding */

struct snap_rd {
	const uint8_t	*p, *end;
	int		 bad;
};

static uint64_t
r_uv(struct snap_rd *r)
{
	uint64_t	v = 0;
	unsigned	shift = 0;
	uint8_t		b;

	do {
		if (r->p == r->end || shift > 63) {
			r->bad = 1;
			return 0;
		}
		b = *r->p++;
		if (shift == 63 && (b & 0x7e) != 0) {
			r->bad = 1;	/* beyond 64 bits */
			return 0;
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	return v;
}

static int64_t
r_sv(struct snap_rd *r)
{
	uint64_t	u = r_uv(r);

	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static uint16_t
r_u16(struct snap_rd *r)
{
	uint16_t	v;

	if (r->end - r->p < 2) {
		r->bad = 1;
		return 0;
	}
	v = (uint16_t)(r->p[0] | r->p[1] << 8);
	r->p += 2;
	return v;
}

void
gs_snap_init(struct gs_snap *sn)
{
	memset(sn, 0, sizeof(*sn));
}

void
gs_snap_free(struct gs_snap *sn)
{
	free(sn->e);
	gs_snap_init(sn);
}

static int
snap_reserve(struct gs_snap *sn, uint32_t n)
{
	struct gs_snap_ent	*e;
	uint32_t		 cap;

	if (n <= sn->cap)
		return GS_OK;
	cap = sn->cap == 0 ? 64 : sn->cap;
	while (cap < n)
		cap *= 2;
	if ((e = realloc(sn->e, (size_t)cap * sizeof(*e))) == NULL)
		return GS_ENOMEM;
	sn->e = e;
	sn->cap = cap;
	return GS_OK;
}

int
gs_snap_copy(struct gs_snap *dst, const struct gs_snap *src)
{
	if (snap_reserve(dst, src->n) != GS_OK)
		return GS_ENOMEM;
	if (src->n > 0)
		memcpy(dst->e, src->e, (size_t)src->n * sizeof(*dst->e));
	dst->n = src->n;
	dst->tick = src->tick;
	return GS_OK;
}

struct gs_snap_ent *
gs_snap_find(const struct gs_snap *sn, uint64_t id)
{
	uint32_t	lo = 0, hi = sn->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (sn->e[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sn->n && sn->e[lo].id == id ? &sn->e[lo] : NULL;
}

/* One record into *e (a copy of the baseline's entity, or zeroes for a
 * full record). */
static int
read_record(const struct gs_snap_schema *s, struct snap_rd *r,
    struct gs_snap_ent *e, int have_base)
{
	uint64_t	mask, type, cx, cy;
	unsigned	t, i, nf;

	mask = r_uv(r);
	if (mask & GS_SNAP_MASK_TYPE) {
		type = r_uv(r);
		if (r->bad || type == 0 || type > s->ntypes)
			return GS_EINVAL;
		e->type = (uint32_t)type;
		t = e->type - 1;
		nf = s->nfields[t];
		/* A full record carries everything. */
		if (mask != (GS_SNAP_MASK_POS | GS_SNAP_MASK_TYPE |
		    (((uint64_t)1 << nf) - 1) << 2))
			return GS_EINVAL;
		cx = r_uv(r);
		cy = r_uv(r);
		if (cx > (uint64_t)INT64_MAX / GS_SNAP_CELL_STEPS ||
		    cy > (uint64_t)INT64_MAX / GS_SNAP_CELL_STEPS)
			return GS_EINVAL;
		e->qx = (int64_t)(cx * GS_SNAP_CELL_STEPS + r_u16(r));
		e->qy = (int64_t)(cy * GS_SNAP_CELL_STEPS + r_u16(r));
		for (i = 0; i < GS_SNAP_FIELDS_MAX; i++)
			e->f[i] = 0;
		for (i = 0; i < nf; i++) {
			uint64_t v = r_uv(r);

			if (v > (uint64_t)(s->max[t][i] - s->min[t][i]))
				return GS_EINVAL;
			e->f[i] = s->min[t][i] + (int64_t)v;
		}
		return r->bad ? GS_EINVAL : GS_OK;
	}
	if (!have_base || mask == 0)
		return GS_EINVAL;
	t = e->type - 1;
	nf = s->nfields[t];
	if (mask >> (2 + nf) != 0)
		return GS_EINVAL;
	if (mask & GS_SNAP_MASK_POS) {
		e->qx += r_sv(r);
		e->qy += r_sv(r);
		if (e->qx < 0 || e->qy < 0)
			return GS_EINVAL;
	}
	for (i = 0; i < nf; i++) {
		if (!(mask & GS_SNAP_MASK_FIELD(i)))
			continue;
		e->f[i] = (int64_t)((uint64_t)e->f[i] + (uint64_t)r_sv(r));
		if (e->f[i] < s->min[t][i] || e->f[i] > s->max[t][i])
			return GS_EINVAL;
	}
	return r->bad ? GS_EINVAL : GS_OK;
}

int
gs_snap_apply(const struct gs_snap_schema *s, const struct gs_snap *base,
    const uint8_t *body, size_t len, struct gs_snap *out,
    struct gs_snap *scratch)
{
	struct snap_rd		 r = { body, body + len, 0 };
	struct gs_snap_ent	*surv, e;
	uint64_t		 nrem, nupd, id, k, gap;
	uint32_t		 bi = 0, nb = base != NULL ? base->n : 0;
	uint32_t		 ns, si;
	int			 rc = GS_OK;

	out->n = 0;
	nrem = r_uv(&r);
	if (r.bad || nrem > nb)
		return GS_EINVAL;
	/* The base without the removed ids (both ascending), into the
	 * scratch. */
	if (snap_reserve(scratch, nb + 1) != GS_OK)
		return GS_ENOMEM;
	surv = scratch->e;
	ns = 0;
	for (k = 0, id = 0; k < nrem; k++) {
		gap = r_uv(&r);
		if (r.bad || (k > 0 && gap == 0) || gap > UINT64_MAX - id)
			return GS_EINVAL;
		id += gap;
		while (bi < nb && base->e[bi].id < id)
			surv[ns++] = base->e[bi++];
		if (bi == nb || base->e[bi].id != id)
			return GS_EINVAL;	/* removal of an unknown id */
		bi++;
	}
	while (bi < nb)
		surv[ns++] = base->e[bi++];
	/* Then the updates merged in, into out. */
	nupd = r_uv(&r);
	if (r.bad || nupd > (uint64_t)(r.end - r.p))
		return GS_EINVAL;
	if (snap_reserve(out, ns + (uint32_t)nupd + 1) != GS_OK)
		return GS_ENOMEM;
	for (k = 0, id = 0, si = 0; k < nupd && rc == GS_OK; k++) {
		gap = r_uv(&r);
		if (r.bad || (k > 0 && gap == 0) || gap > UINT64_MAX - id)
			return GS_EINVAL;
		id += gap;
		while (si < ns && surv[si].id < id)
			out->e[out->n++] = surv[si++];
		if (si < ns && surv[si].id == id)
			e = surv[si++];
		else
			memset(&e, 0, sizeof(e));
		e.id = id;
		rc = read_record(s, &r, &e, e.type != 0);
		out->e[out->n++] = e;
	}
	if (rc != GS_OK)
		return rc;
	while (si < ns)
		out->e[out->n++] = surv[si++];
	if (r.bad || r.p != r.end)
		return GS_EINVAL;
	return GS_OK;
}
