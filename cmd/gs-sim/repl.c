/*
 * Replication (repl.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "repl.h"

#define REPL_GRID_MAX	(1u << 22)	/* cells in a room's grid */

/* A visible entity a build considers. */
struct sim_repl_cand {
	uint64_t	 id;
	uint32_t	 slot;
	uint32_t	 off, len;	/* its record in r->bytes (len 0: none) */
	uint64_t	 held;		/* what the viewer will hold after */
	uint64_t	 old_held;	/* what it held before (0: nothing) */
	double		 prio;
	uint8_t		 want;		/* a record is to be sent */
	uint8_t		 full;		/* and it is a full one */
	uint8_t		 gapl;		/* id gap to the previous wanted */
	uint8_t		 in;		/* chosen within the budget */
	uint8_t		 had;		/* in the baseline */
};

static int
grow(void *pp, uint32_t *cap, uint32_t need, size_t size)
{
	void		**p = pp, *q;
	uint32_t	  c = *cap == 0 ? 64 : *cap;

	if (need <= *cap)
		return GS_OK;
	while (c < need)
		c *= 2;
	if ((q = realloc(*p, (size_t)c * size)) == NULL)
		return GS_ENOMEM;
	*p = q;
	*cap = c;
	return GS_OK;
}

int
sim_repl_init(struct sim_repl *r, const struct gs_game *g, double grid,
    double radius, size_t budget)
{
	unsigned	t, i;
	double		cells;

	memset(r, 0, sizeof(*r));
	r->schema.cell = g->pos_step * GS_SNAP_CELL_STEPS;
	r->q2g = g->pos_step / grid;
	r->schema.ntypes = g->ntypes;
	for (t = 0; t < g->ntypes; t++) {
		r->schema.nfields[t] = g->types[t].nfields;
		for (i = 0; i < g->types[t].nfields; i++) {
			r->schema.min[t][i] = g->types[t].fields[i].min;
			r->schema.max[t][i] = g->types[t].fields[i].max;
		}
	}
	r->radius = radius;
	r->budget = budget;
	cells = (floor(g->world_w / grid) + 1) * (floor(g->world_h / grid) + 1);
	if (!(grid > 0) || cells > REPL_GRID_MAX)
		return GS_EINVAL;
	r->gw = (uint32_t)floor(g->world_w / grid) + 1;
	r->gh = (uint32_t)floor(g->world_h / grid) + 1;
	if ((r->start = calloc((size_t)r->gw * r->gh + 1,
	    sizeof(*r->start))) == NULL)
		return GS_ENOMEM;
	return GS_OK;
}

void
sim_repl_free(struct sim_repl *r)
{
	unsigned	i;

	for (i = 0; i < SIM_REPL_FRAMES; i++)
		free(r->frame[i].e);
	free(r->all);
	free(r->cand);
	free(r->vis);
	free(r->rem);
	free(r->byprio);
	free(r->start);
	free(r->item);
	free(r->memo);
	free(r->bytes);
	memset(r, 0, sizeof(*r));
}

static int
pair_cmp(const void *a, const void *b)
{
	const struct sim_repl_pair	*x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* The grid cell of a quantized coordinate, clamped into the grid. */
static int64_t
grid_of(const struct sim_repl *r, double q, uint32_t n)
{
	double	c = floor(q * r->q2g);

	return c < 0 ? 0 : c >= n ? (int64_t)n - 1 : (int64_t)c;
}

static uint32_t
cell_of(const struct sim_repl *r, const struct gs_snap_ent *e)
{
	return (uint32_t)(grid_of(r, (double)e->qy, r->gh) * r->gw +
	    grid_of(r, (double)e->qx, r->gw));
}

int
sim_repl_frame(struct sim_repl *r, uint64_t tick, const struct sim_ents *es)
{
	struct sim_repl_frame	*f;
	const struct sim_ent	*e;
	struct gs_snap_ent	*q;
	uint32_t		 i, slot, c, ncells = r->gw * r->gh;

	uint32_t		 oldcap, oldmemo = r->memo_cap;
	bool			 same;

	r->cur = (r->cur + 1) % SIM_REPL_FRAMES;
	f = &r->frame[r->cur];
	f->tick = 0;
	oldcap = f->cap;
	if (grow(&f->e, &f->cap, es->cap, sizeof(*f->e)) != GS_OK ||
	    grow(&r->memo, &r->memo_cap, es->cap, sizeof(*r->memo)) != GS_OK ||
	    grow(&r->all, &r->all_cap, es->n + 1, sizeof(*r->all)) != GS_OK ||
	    grow(&r->item, &r->item_cap, es->n + 1, sizeof(*r->item)) !=
	    GS_OK)
		return GS_ENOMEM;
	/* New memo entries are of no frame (memo_of). */
	memset(r->memo + oldmemo, 0,
	    (size_t)(r->memo_cap - oldmemo) * sizeof(*r->memo));
	/* While no entity came or went, the frame this one replaces had
	 * the same live slots (and the list by id holds): each is written
	 * again below, and nothing needs clearing or sorting. */
	same = r->all_valid && r->all_changes == es->changes &&
	    f->changes == es->changes && oldcap == f->cap && f->cap != 0;
	if (!same)
		memset(f->e, 0, (size_t)f->cap * sizeof(*f->e));
	r->nbytes = 0;
	r->nshare = 0;
	for (i = 0; i < es->n; i++) {
		e = sim_ents_at(es, i);
		slot = (uint32_t)(e - es->e);
		q = &f->e[slot];
		q->id = e->id;
		q->type = (uint32_t)e->type + 1;
		q->qx = gs_snap_quantize(e->x, r->schema.cell);
		q->qy = gs_snap_quantize(e->y, r->schema.cell);
		memcpy(q->f, e->f, sizeof(q->f));
		if (!r->all_valid || r->all_changes != es->changes) {
			r->all[i].id = e->id;
			r->all[i].slot = slot;
		}
	}
	f->tick = tick;
	f->changes = es->changes;
	if (!r->all_valid || r->all_changes != es->changes) {
		qsort(r->all, es->n, sizeof(*r->all), pair_cmp);
		r->all_changes = es->changes;
		r->all_valid = true;
	}
	r->nall = es->n;

	/* The grid: count per cell, prefix sums, then place (by id). */
	memset(r->start, 0, ((size_t)ncells + 1) * sizeof(*r->start));
	for (i = 0; i < r->nall; i++)
		r->start[cell_of(r, &f->e[r->all[i].slot]) + 1]++;
	for (c = 0; c < ncells; c++)
		r->start[c + 1] += r->start[c];
	for (i = 0; i < r->nall; i++) {
		c = cell_of(r, &f->e[r->all[i].slot]);
		r->item[r->start[c]++] = r->all[i].slot;
	}
	/* Placing advanced each start to the next cell's: shift back. */
	for (c = ncells; c > 0; c--)
		r->start[c] = r->start[c - 1];
	r->start[0] = 0;
	return GS_OK;
}

/* The frame of tick, newest first: baselines are recent. */
static const struct sim_repl_frame *
frame_of(const struct sim_repl *r, uint64_t tick)
{
	unsigned	i, k;

	if (tick == 0)
		return NULL;
	for (i = 0, k = r->cur; i < SIM_REPL_FRAMES; i++) {
		if (r->frame[k].tick == tick)
			return &r->frame[k];
		k = k == 0 ? SIM_REPL_FRAMES - 1 : k - 1;
	}
	return NULL;
}

static int
bytes_reserve(struct sim_repl *r, size_t more)
{
	uint8_t	*p;
	size_t	 cap;

	if (r->bytes_cap - r->nbytes >= more)
		return GS_OK;
	cap = r->bytes_cap == 0 ? 4096 : r->bytes_cap;
	while (cap - r->nbytes < more)
		cap *= 2;
	if ((p = realloc(r->bytes, cap)) == NULL)
		return GS_ENOMEM;
	r->bytes = p;
	r->bytes_cap = cap;
	return GS_OK;
}

/* slot's records of the current frame, emptied if they are an older
 * frame's. */
static struct sim_repl_memo *
memo_of(struct sim_repl *r, uint32_t slot)
{
	struct sim_repl_memo	*m = &r->memo[slot];
	uint64_t		 tick = r->frame[r->cur].tick;

	if (m->tick != tick) {
		memset(m, 0, sizeof(*m));
		m->tick = tick;
	}
	return m;
}

/* The full record of slot in the current frame. */
static int
rec_full(struct sim_repl *r, uint32_t slot, uint32_t *off, uint32_t *len,
    struct sim_repl_stats *st)
{
	struct sim_repl_memo	*m = memo_of(r, slot);
	size_t			 n;

	if (m->full_len != 0) {
		st->shared++;
		*off = m->full_off;
		*len = m->full_len;
		return GS_OK;
	}
	if (bytes_reserve(r, GS_SNAP_RECORD_MAX) != GS_OK)
		return GS_ENOMEM;
	n = gs_snap_record_full(&r->schema, &r->frame[r->cur].e[slot],
	    r->bytes + r->nbytes, GS_SNAP_RECORD_MAX);
	m->full_off = *off = (uint32_t)r->nbytes;
	m->full_len = *len = (uint32_t)n;
	r->nbytes += n;
	return GS_OK;
}

/* The delta record of slot against its state in frame h (base); len 0:
 * unchanged. */
static int
rec_delta(struct sim_repl *r, uint32_t slot, uint64_t h,
    const struct gs_snap_ent *base, uint32_t *off, uint32_t *len,
    struct sim_repl_stats *st)
{
	struct sim_repl_memo	*m = memo_of(r, slot);
	size_t			 n;
	int			 k;

	for (k = 0; k < 2; k++)
		if (m->d_tick[k] == h) {
			st->shared++;
			*off = m->d_off[k];
			*len = m->d_len[k];
			return GS_OK;
		}
	if (bytes_reserve(r, GS_SNAP_RECORD_MAX) != GS_OK)
		return GS_ENOMEM;
	n = gs_snap_record_delta(&r->schema, base, &r->frame[r->cur].e[slot],
	    r->bytes + r->nbytes, GS_SNAP_RECORD_MAX);
	*off = (uint32_t)r->nbytes;
	*len = (uint32_t)n;
	r->nbytes += n;
	/* Kept for the next viewers, in a free entry if there is one. */
	for (k = 0; k < 2; k++)
		if (m->d_tick[k] == 0) {
			m->d_tick[k] = h;
			m->d_off[k] = *off;
			m->d_len[k] = *len;
			break;
		}
	return GS_OK;
}

void
sim_view_init(struct sim_view *v)
{
	memset(v, 0, sizeof(*v));
}

void
sim_view_free(struct sim_view *v)
{
	unsigned	i;

	for (i = 0; i < SIM_REPL_FRAMES; i++) {
		free(v->hist[i].e);
	}
	sim_view_init(v);
}

void
sim_view_center(struct sim_view *v, const struct sim_repl *r, double x,
    double y)
{
	v->qx = gs_snap_quantize(x, r->schema.cell);
	v->qy = gs_snap_quantize(y, r->schema.cell);
}

/* The snapshot of tick the viewer was sent, newest first: acks are of
 * recent ones. */
static struct sim_view_hist *
hist_of(struct sim_view *v, uint64_t tick)
{
	unsigned	i, k;

	if (tick == 0)
		return NULL;
	k = v->next == 0 ? SIM_REPL_FRAMES - 1 : v->next - 1;
	for (i = 0; i < SIM_REPL_FRAMES; i++) {
		if (v->hist[k].tick == tick)
			return &v->hist[k];
		k = k == 0 ? SIM_REPL_FRAMES - 1 : k - 1;
	}
	return NULL;
}

bool
sim_view_ack(struct sim_view *v, uint64_t tick)
{
	if (tick == 0) {	/* the client lost its baselines: start over */
		v->ack = 0;
		return true;
	}
	if (hist_of(v, tick) == NULL)
		return false;
	/* A late ack of an older snapshot changes nothing. */
	if (tick > v->ack)
		v->ack = tick;
	return true;
}

/* The visible entities of the current frame, ascending by id: the
 * frame's own list when the view is the whole world; returns how many,
 * or -1. */
static int64_t
visible(struct sim_repl *r, const struct sim_view *v,
    struct sim_repl_pair **out)
{
	const struct sim_repl_frame	*f = &r->frame[r->cur];
	const struct gs_snap_ent	*e;
	int64_t				 rq, x0, x1, y0, y1, cx, cy, dx, dy;
	uint32_t			 n = 0, i, c;
	double				 r2;

	if (r->radius <= 0) {
		*out = r->all;
		return r->nall;
	}
	if (grow(&r->vis, &r->vis_cap, r->nall + 1, sizeof(*r->vis)) != GS_OK)
		return -1;
	*out = r->vis;
	rq = gs_snap_quantize(r->radius, r->schema.cell);
	r2 = (double)rq * (double)rq;
	x0 = grid_of(r, (double)(v->qx - rq), r->gw);
	x1 = grid_of(r, (double)(v->qx + rq), r->gw);
	y0 = grid_of(r, (double)(v->qy - rq), r->gh);
	y1 = grid_of(r, (double)(v->qy + rq), r->gh);
	for (cy = y0; cy <= y1; cy++)
		for (cx = x0; cx <= x1; cx++) {
			c = (uint32_t)(cy * r->gw + cx);
			for (i = r->start[c]; i < r->start[c + 1]; i++) {
				e = &f->e[r->item[i]];
				dx = e->qx - v->qx;
				dy = e->qy - v->qy;
				if ((double)dx * dx + (double)dy * dy > r2)
					continue;
				r->vis[n].id = e->id;
				r->vis[n].slot = r->item[i];
				n++;
			}
		}
	qsort(r->vis, n, sizeof(*r->vis), pair_cmp);
	return n;
}

static size_t
uv_len(uint64_t v)
{
	size_t	n = 1;

	while (v > 0x7f) {
		v >>= 7;
		n++;
	}
	return n;
}

static int
cand_prio_cmp(const void *a, const void *b)
{
	const struct sim_repl_cand *const *x = a, *const *y = b;

	return (*x)->prio > (*y)->prio ? -1 : (*x)->prio < (*y)->prio;
}

static int
hist_reserve(struct sim_view_hist *h, uint32_t n)
{
	return grow(&h->e, &h->cap, n, sizeof(*h->e));
}

/* The body's size for the chosen records, with their real id gaps. */
static size_t
body_size(const struct sim_repl_cand *c, uint32_t nc, size_t removed_bytes,
    uint32_t nremoved)
{
	uint64_t	prev = 0;
	size_t		n = uv_len(nremoved) + removed_bytes;
	uint32_t	i, nup = 0;

	for (i = 0; i < nc; i++) {
		if (!c[i].want || !c[i].in)
			continue;
		n += uv_len(c[i].id - prev) + c[i].len;
		prev = c[i].id;
		nup++;
	}
	return n + uv_len(nup);
}

/* A body built for another viewer of the same frame on the same
 * baseline content: the same bytes, and the same history entry. */
static size_t
share_copy(struct sim_repl *r, const struct sim_repl_share *sh,
    struct sim_view *v, uint8_t *out, size_t cap, struct sim_repl_stats *st)
{
	struct sim_view_hist	*nh = &v->hist[v->next];

	if (sh->len > cap)
		return 0;
	nh->tick = 0;
	if (hist_reserve(nh, sh->h->n + 1) != GS_OK)
		return 0;
	memcpy(nh->e, sh->h->e, (size_t)sh->h->n * sizeof(*nh->e));
	nh->n = sh->h->n;
	nh->key = sh->key;
	nh->tick = sh->h->tick;
	v->next = (v->next + 1) % SIM_REPL_FRAMES;
	memcpy(out, r->bytes + sh->off, sh->len);
	st->base = sh->base;
	st->full = sh->full;
	st->delta = sh->delta;
	st->removed = sh->removed;
	st->shared = st->full + st->delta;
	st->body_shared = 1;
	return sh->len;
}

size_t
sim_repl_build(struct sim_repl *r, struct sim_view *v, uint8_t *out,
    size_t cap, struct sim_repl_stats *st)
{
	const struct sim_repl_frame	*now = &r->frame[r->cur], *fh;
	struct sim_view_hist		*base, *nh;
	struct sim_repl_pair		*vis;
	struct sim_repl_cand		*c, **byprio;
	uint64_t			 tick = now->tick, prev, hbase;
	uint64_t			 prevw = 0, last_h = 0, prevr = 0;
	uint64_t			 bkey;
	const struct sim_repl_frame	*last_fh = NULL;
	int64_t				 nv, dx, dy;
	uint32_t			 nb, bi, i, nc = 0, nrem = 0, nup = 0;
	size_t				 remb = 0, n, k, size, want = 0;
	double				 d;
	bool				 cut = false;

	memset(st, 0, sizeof(*st));
	base = hist_of(v, v->ack);
	/* A baseline is only usable while its own frame is kept. */
	if (base != NULL && frame_of(r, base->tick) == NULL)
		base = NULL;
	hbase = base != NULL ? base->tick : 0;
	st->base = hbase;
	bkey = base != NULL ? base->key : SIM_REPL_KEY_NONE;
	if (r->radius <= 0 && bkey != 0)
		for (i = 0; i < r->nshare; i++)
			if (r->share[i].base_key == bkey)
				return share_copy(r, &r->share[i], v, out, cap,
				    st);
	if ((nv = visible(r, v, &vis)) < 0)
		return 0;
	nb = base != NULL ? base->n : 0;
	if (grow(&r->cand, &r->cand_cap, (uint32_t)nv + 1, sizeof(*r->cand))
	    != GS_OK || grow(&r->rem, &r->rem_cap, nb + 1, sizeof(*r->rem)) !=
	    GS_OK)
		return 0;
	/* Each visible entity against the baseline (both ascending); the
	 * baseline's others are removals. */
	for (i = bi = 0; i <= (uint32_t)nv; i++) {
		uint64_t lim = i < (uint32_t)nv ? vis[i].id : UINT64_MAX;

		for (; bi < nb && base->e[bi].id < lim; bi++) {
			remb += uv_len(base->e[bi].id - prevr);
			prevr = r->rem[nrem++] = base->e[bi].id;
		}
		if (i == (uint32_t)nv)
			break;
		c = &r->cand[nc++];
		memset(c, 0, sizeof(*c));
		c->id = vis[i].id;
		c->slot = vis[i].slot;
		c->held = tick;
		fh = NULL;
		if (bi < nb && base->e[bi].id == vis[i].id) {
			c->had = 1;
			c->old_held = base->e[bi].held;
			/* Most entities were last sent in one frame: look
			 * it up once. */
			if (c->old_held != last_h) {
				last_h = c->old_held;
				last_fh = frame_of(r, last_h);
			}
			fh = last_fh;
			if (fh != NULL && (base->e[bi].slot >= fh->cap ||
			    fh->e[base->e[bi].slot].id != c->id))
				fh = NULL;
			if (fh != NULL && rec_delta(r, c->slot, c->old_held,
			    &fh->e[base->e[bi].slot], &c->off, &c->len, st) !=
			    GS_OK)
				return 0;
			bi++;
		}
		if (fh == NULL) {
			/* Entering, or its baseline state is gone. */
			if (rec_full(r, c->slot, &c->off, &c->len, st) != GS_OK)
				return 0;
			c->full = 1;
		}
		c->want = c->len != 0;
		c->in = c->want;
		if (c->want) {
			c->gapl = (uint8_t)uv_len(c->id - prevw);
			prevw = c->id;
			want += c->gapl + c->len;
			nup++;
		}
	}
	/* With every record in, the size is exact. */
	size = uv_len(nrem) + remb + uv_len(nup) + want;

	/* Over the budget: the nearest and the longest unsent first.  An
	 * entity never sent counts as unsent since the baseline. */
	if (r->budget > 0 && size > r->budget) {
		cut = true;
		if (grow(&r->byprio, &r->byprio_cap, nc + 1,
		    sizeof(*r->byprio)) != GS_OK)
			return 0;
		byprio = r->byprio;
		for (i = 0, k = 0; i < nc; i++) {
			c = &r->cand[i];
			if (!c->want)
				continue;
			dx = now->e[c->slot].qx - v->qx;
			dy = now->e[c->slot].qy - v->qy;
			d = sqrt((double)dx * dx + (double)dy * dy);
			c->prio = (double)(tick - (c->old_held != 0 ?
			    c->old_held : hbase)) /
			    (1.0 + d / GS_SNAP_CELL_STEPS);
			c->in = 0;
			byprio[k++] = c;
		}
		qsort(byprio, k, sizeof(*byprio), cand_prio_cmp);
		/* Greedy on an estimate (the gap to the previous candidate,
		 * which the gap to the previous record sent can exceed),
		 * then exact: the last chosen go until the body fits. */
		size = uv_len(nrem) + remb + uv_len(k);
		for (i = 0; i < k; i++) {
			c = byprio[i];
			if (size + c->gapl + c->len <= r->budget) {
				c->in = 1;
				size += c->gapl + c->len;
			} else
				st->cut++;
		}
		for (i = (uint32_t)k; i > 0 &&
		    body_size(r->cand, nc, remb, nrem) > r->budget; i--)
			if (byprio[i - 1]->in) {
				byprio[i - 1]->in = 0;
				st->cut++;
			}
	}
	if ((cut ? body_size(r->cand, nc, remb, nrem) : size) > cap)
		return 0;

	/* The new history entry, then the body. */
	nh = &v->hist[v->next];
	nh->tick = 0;
	if (hist_reserve(nh, nc + 1) != GS_OK)
		return 0;
	n = gs_snap_put_uv(out, cap, nrem);
	for (i = 0, prevr = 0; i < nrem; i++) {
		n += gs_snap_put_uv(out + n, cap - n, r->rem[i] - prevr);
		prevr = r->rem[i];
	}
	st->removed = nrem;
	for (i = nup = 0; i < nc; i++)
		nup += r->cand[i].want && r->cand[i].in;
	n += gs_snap_put_uv(out + n, cap - n, nup);
	prev = 0;
	nh->n = 0;
	for (i = 0; i < nc; i++) {
		c = &r->cand[i];
		if (c->want && c->in) {
			n += gs_snap_put_uv(out + n, cap - n, c->id - prev);
			prev = c->id;
			memcpy(out + n, r->bytes + c->off, c->len);
			n += c->len;
			if (c->full)
				st->full++;
			else
				st->delta++;
		} else if (c->want) {
			/* Left out: the viewer keeps what it had, if
			 * anything; held 0 is a state no frame holds, so
			 * its next record is a full one. */
			if (!c->had)
				continue;
			c->held = c->full ? 0 : c->old_held;
		}
		nh->e[nh->n].id = c->id;
		nh->e[nh->n].slot = c->slot;
		nh->e[nh->n].held = c->held;
		nh->n++;
	}
	nh->tick = tick;
	nh->key = 0;
	v->next = (v->next + 1) % SIM_REPL_FRAMES;
	/* Whole, and of the whole world: others holding what this viewer
	 * held get the same body. */
	if (r->radius <= 0 && bkey != 0 && !cut &&
	    r->nshare < SIM_REPL_SHARES && bytes_reserve(r, n) == GS_OK) {
		struct sim_repl_share	*sh = &r->share[r->nshare++];

		memcpy(r->bytes + r->nbytes, out, n);
		sh->base_key = bkey;
		/* Its content is canonical: every entity of the frame, at
		 * the frame's state, whoever it was built for. */
		sh->key = nh->key = SIM_REPL_KEY_FULL | tick;
		sh->base = hbase;
		sh->off = (uint32_t)r->nbytes;
		sh->len = (uint32_t)n;
		sh->h = nh;
		sh->full = st->full;
		sh->delta = st->delta;
		sh->removed = st->removed;
		r->nbytes += n;
	}
	return n;
}
