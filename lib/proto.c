#include <math.h>
#include <string.h>

#include "err.h"
#include "proto.h"

const char *
gs_msg_name(int kind)
{
	switch (kind) {
	case GS_MSG_HELLO:	return "hello";
	case GS_MSG_WELCOME:	return "welcome";
	case GS_MSG_INPUT:	return "input";
	case GS_MSG_SNAPSHOT:	return "snapshot";
	case GS_MSG_PING:	return "ping";
	case GS_MSG_PONG:	return "pong";
	case GS_MSG_EVENT:	return "event";
	case GS_MSG_ERROR:	return "error";
	case GS_MSG_BYE:	return "bye";
	case GS_MSG_ACK:	return "ack";
	case GS_MSG_GAME:	return "game";
	case GS_MSG_LOOK:	return "look";
	default:		return "unknown";
	}
}

const char *
gs_perr_name(int code)
{
	static const char *const n[] = {
		[GS_PERR_BADFRAME] = "badframe",
		[GS_PERR_TOOBIG] = "toobig",
		[GS_PERR_VERSION] = "version",
		[GS_PERR_NOAUTH] = "noauth",
		[GS_PERR_PROTOCOL] = "protocol",
		[GS_PERR_ROOMFULL] = "roomfull",
		[GS_PERR_UNAVAILABLE] = "unavailable",
		[GS_PERR_SLOW] = "slow",
		[GS_PERR_RATELIMIT] = "ratelimit",
		[GS_PERR_SHUTDOWN] = "shutdown",
		[GS_PERR_KICKED] = "kicked",
		[GS_PERR_BADNAME] = "badname",
		[GS_PERR_INTERNAL] = "internal",
		[GS_PERR_TOOMANY] = "toomany",
		[GS_PERR_ROOMCLOSED] = "roomclosed",
		[GS_PERR_REFUSED] = "refused",
		[GS_PERR_ROOMLIMIT] = "roomlimit",
	};

	if (code <= 0 || (size_t)code >= sizeof(n) / sizeof(n[0]) ||
	    n[code] == NULL)
		return "unknown";
	return n[code];
}

const char *
gs_ev_name(int code)
{
	switch (code) {
	case GS_EV_JOINED:	return "joined";
	case GS_EV_LEFT:	return "left";
	case GS_EV_SCORED:	return "scored";
	default:		return "unknown";
	}
}

bool
gs_name_valid(const char *s, size_t max)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++) {
		char	c = s[i];

		if (i >= max)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		    c == '.'))
			return false;
	}
	return i > 0;
}

/* ----------------------------------------------------------- reading */

int
gs_msg_begin(struct gs_rd *rd, uint32_t *nfields)
{
	uint32_t	n;
	int		kind;

	*nfields = 0;
	n = gs_rd_array_n(rd, 1, GS_MSG_FIELDS_MAX);
	kind = (int)gs_rd_uint(rd, 255);
	if (rd->err != GS_OK)
		return 0;
	if (kind == 0) {
		gs_rd_fail(rd, GS_ERANGE);
		return 0;
	}
	*nfields = n - 1;
	return kind;
}

/* Check that nf >= want, then after the caller read `want` fields,
 * skip the ones past them (fields appended by later versions). */
static int
need(struct gs_rd *rd, uint32_t nf, uint32_t want)
{
	if (nf < want)
		return gs_rd_fail(rd, GS_ETRUNC);
	return rd->err;
}

static int
rest(struct gs_rd *rd, uint32_t nf, uint32_t read)
{
	for (; read < nf && rd->err == GS_OK; read++)
		gs_rd_skip(rd);
	return rd->err;
}

void
gs_msg_skip(struct gs_rd *rd, uint32_t nf)
{
	(void)rest(rd, nf, 0);
}

/* hello: [1, version, name, token|nil, room, watch?] */
int
gs_hello_get(struct gs_rd *rd, uint32_t nf, struct gs_hello *h)
{
	if (need(rd, nf, 4) != GS_OK)
		return rd->err;
	h->version = (uint32_t)gs_rd_uint(rd, UINT32_MAX);
	gs_rd_str(rd, h->name, sizeof(h->name));
	h->token = NULL;
	h->tokenlen = 0;
	if (!gs_rd_nil(rd))
		h->token = gs_rd_strp(rd, &h->tokenlen, GS_TOKEN_MAX);
	gs_rd_str(rd, h->room, sizeof(h->room));
	h->watch = false;
	if (nf < 5)
		return rd->err;
	h->watch = gs_rd_bool(rd);
	return rest(rd, nf, 5);
}

void
gs_hello_put(struct gs_wr *wr, const struct gs_hello *h)
{
	gs_wr_array(wr, h->watch ? 6 : 5);
	gs_wr_uint(wr, GS_MSG_HELLO);
	gs_wr_uint(wr, h->version);
	gs_wr_str(wr, h->name);
	if (h->token != NULL)
		gs_wr_strn(wr, h->token, h->tokenlen);
	else
		gs_wr_nil(wr);
	gs_wr_str(wr, h->room);
	if (h->watch)
		gs_wr_bool(wr, true);
}

/* input: [3, [[seq, v...], ...]]: 0 to GS_INPUT_VALUES_MAX values */
int
gs_input_get(struct gs_rd *rd, uint32_t nf, struct gs_input *in)
{
	uint32_t	n, i, k;

	if (need(rd, nf, 1) != GS_OK)
		return 0;
	n = gs_rd_array_n(rd, 1, GS_INPUTS_MAX);
	for (i = 0; i < n && rd->err == GS_OK; i++) {
		uint32_t	m = gs_rd_array_n(rd, 1,
		    1 + GS_INPUT_VALUES_MAX);

		in[i].seq = (uint32_t)gs_rd_uint(rd, UINT32_MAX);
		in[i].n = m > 0 ? m - 1 : 0;
		for (k = 0; k < in[i].n; k++)
			in[i].v[k] = (int32_t)gs_rd_int(rd, INT32_MIN,
			    INT32_MAX);
		for (; k < GS_INPUT_VALUES_MAX; k++)
			in[i].v[k] = 0;
	}
	if (rest(rd, nf, 1) != GS_OK)
		return 0;
	return (int)n;
}

void
gs_input_put(struct gs_wr *wr, const struct gs_input *in, int n)
{
	int		i;
	uint32_t	k;

	gs_wr_array(wr, 2);
	gs_wr_uint(wr, GS_MSG_INPUT);
	gs_wr_array(wr, (uint32_t)n);
	for (i = 0; i < n; i++) {
		gs_wr_array(wr, 1 + in[i].n);
		gs_wr_uint(wr, in[i].seq);
		for (k = 0; k < in[i].n; k++)
			gs_wr_int(wr, in[i].v[k]);
	}
}

/* The messages of one unsigned 64-bit field: ping [5, t], ack [11, tick]. */
static int
get_u64(struct gs_rd *rd, uint32_t nf, uint64_t *v)
{
	if (need(rd, nf, 1) != GS_OK)
		return rd->err;
	*v = gs_rd_uint(rd, UINT64_MAX);
	return rest(rd, nf, 1);
}

static void
put_u64(struct gs_wr *wr, int kind, uint64_t v)
{
	gs_wr_array(wr, 2);
	gs_wr_uint(wr, (uint64_t)kind);
	gs_wr_uint(wr, v);
}

/* ping: [5, t]; pong: [6, t, server_us] */
int
gs_ping_get(struct gs_rd *rd, uint32_t nf, uint64_t *t)
{
	return get_u64(rd, nf, t);
}

void
gs_ping_put(struct gs_wr *wr, uint64_t t)
{
	put_u64(wr, GS_MSG_PING, t);
}

int
gs_pong_get(struct gs_rd *rd, uint32_t nf, uint64_t *t, uint64_t *server_us)
{
	if (need(rd, nf, 2) != GS_OK)
		return rd->err;
	*t = gs_rd_uint(rd, UINT64_MAX);
	*server_us = gs_rd_uint(rd, UINT64_MAX);
	return rest(rd, nf, 2);
}

void
gs_pong_put(struct gs_wr *wr, uint64_t t, uint64_t server_us)
{
	gs_wr_array(wr, 3);
	gs_wr_uint(wr, GS_MSG_PONG);
	gs_wr_uint(wr, t);
	gs_wr_uint(wr, server_us);
}

/* bye: [10] */
int
gs_bye_get(struct gs_rd *rd, uint32_t nf)
{
	return rest(rd, nf, 0);
}

void
gs_bye_put(struct gs_wr *wr)
{
	gs_wr_array(wr, 1);
	gs_wr_uint(wr, GS_MSG_BYE);
}

/* welcome: [2, version, player, room, tick_rate, snapshot_rate, tick,
 *           server_us] */
int
gs_welcome_get(struct gs_rd *rd, uint32_t nf, struct gs_welcome *w)
{
	if (need(rd, nf, 7) != GS_OK)
		return rd->err;
	w->version = (uint32_t)gs_rd_uint(rd, UINT32_MAX);
	w->player = gs_rd_uint(rd, UINT64_MAX);
	gs_rd_str(rd, w->room, sizeof(w->room));
	w->tick_rate = (uint32_t)gs_rd_uint(rd, 1000);
	w->snapshot_rate = (uint32_t)gs_rd_uint(rd, 1000);
	w->tick = gs_rd_uint(rd, UINT64_MAX);
	w->server_us = gs_rd_uint(rd, UINT64_MAX);
	return rest(rd, nf, 7);
}

void
gs_welcome_put(struct gs_wr *wr, const struct gs_welcome *w)
{
	gs_wr_array(wr, 8);
	gs_wr_uint(wr, GS_MSG_WELCOME);
	gs_wr_uint(wr, w->version);
	gs_wr_uint(wr, w->player);
	gs_wr_str(wr, w->room);
	gs_wr_uint(wr, w->tick_rate);
	gs_wr_uint(wr, w->snapshot_rate);
	gs_wr_uint(wr, w->tick);
	gs_wr_uint(wr, w->server_us);
}

/* snapshot: [4, tick, age, ack, body:bin]: the baseline is the snapshot
 * of tick - age; age 0: none. */
int
gs_snapshot_get(struct gs_rd *rd, uint32_t nf, struct gs_snaphdr *h,
    const uint8_t **body, size_t *len)
{
	uint64_t	age;

	if (need(rd, nf, 4) != GS_OK)
		return rd->err;
	h->tick = gs_rd_uint(rd, UINT64_MAX);
	age = gs_rd_uint(rd, h->tick > 0 ? h->tick - 1 : 0);
	h->base = age != 0 ? h->tick - age : 0;
	h->ack = (uint32_t)gs_rd_uint(rd, UINT32_MAX);
	*body = gs_rd_binp(rd, len, GS_SNAP_BODY_MAX);
	return rest(rd, nf, 4);
}

void
gs_snapshot_put(struct gs_wr *wr, const struct gs_snaphdr *h,
    const void *body, size_t len)
{
	gs_wr_array(wr, 5);
	gs_wr_uint(wr, GS_MSG_SNAPSHOT);
	gs_wr_uint(wr, h->tick);
	gs_wr_uint(wr, h->base != 0 ? h->tick - h->base : 0);
	gs_wr_uint(wr, h->ack);
	gs_wr_bin(wr, body, len);
}

/* ack: [11, tick] */
int
gs_ack_get(struct gs_rd *rd, uint32_t nf, uint64_t *tick)
{
	return get_u64(rd, nf, tick);
}

void
gs_ack_put(struct gs_wr *wr, uint64_t tick)
{
	put_u64(wr, GS_MSG_ACK, tick);
}

/* look: [13, x, y]: numbers, integer or float */
static double
rd_number(struct gs_rd *rd)
{
	switch (gs_rd_type(rd)) {
	case GS_MP_UINT:
	case GS_MP_INT:
		return (double)gs_rd_int(rd, -((int64_t)1 << 53),
		    (int64_t)1 << 53);
	default:
		return gs_rd_f64(rd);
	}
}

int
gs_look_get(struct gs_rd *rd, uint32_t nf, double *x, double *y)
{
	if (need(rd, nf, 2) != GS_OK)
		return rd->err;
	*x = rd_number(rd);
	*y = rd_number(rd);
	if (rd->err == GS_OK && (!isfinite(*x) || !isfinite(*y)))
		return gs_rd_fail(rd, GS_ERANGE);
	return rest(rd, nf, 2);
}

void
gs_look_put(struct gs_wr *wr, double x, double y)
{
	gs_wr_array(wr, 3);
	gs_wr_uint(wr, GS_MSG_LOOK);
	gs_wr_f64(wr, x);
	gs_wr_f64(wr, y);
}

/*
 * game: [12, name, version, world_w, world_h, cell, radius,
 *        [[type, [[field, min, max], ...]], ...],
 *        [[input, min, max, cooldown], ...]]
 */
void
gs_gameinfo_put(struct gs_wr *wr, const struct gs_gameinfo *g)
{
	const struct gs_snap_schema	*s = &g->schema;
	unsigned			 t, i;

	gs_wr_array(wr, 9);
	gs_wr_uint(wr, GS_MSG_GAME);
	gs_wr_str(wr, g->name);
	gs_wr_str(wr, g->version);
	gs_wr_f64(wr, g->world_w);
	gs_wr_f64(wr, g->world_h);
	gs_wr_f64(wr, s->cell);
	gs_wr_f64(wr, g->radius);
	gs_wr_array(wr, s->ntypes);
	for (t = 0; t < s->ntypes; t++) {
		gs_wr_array(wr, 2);
		gs_wr_str(wr, g->type_name[t]);
		gs_wr_array(wr, s->nfields[t]);
		for (i = 0; i < s->nfields[t]; i++) {
			gs_wr_array(wr, 3);
			gs_wr_str(wr, g->field_name[t][i]);
			gs_wr_int(wr, s->min[t][i]);
			gs_wr_int(wr, s->max[t][i]);
		}
	}
	gs_wr_array(wr, g->ninputs);
	for (i = 0; i < g->ninputs; i++) {
		gs_wr_array(wr, 4);
		gs_wr_str(wr, g->input_name[i]);
		gs_wr_int(wr, g->input_min[i]);
		gs_wr_int(wr, g->input_max[i]);
		gs_wr_uint(wr, g->input_cooldown[i]);
	}
}

static void
skip_str(struct gs_rd *rd)
{
	size_t	len;

	(void)gs_rd_strp(rd, &len, 256);
}

int
gs_gameinfo_get(struct gs_rd *rd, uint32_t nf, struct gs_gameinfo *g)
{
	struct gs_snap_schema	*s = &g->schema;
	uint32_t		 t, i, m;

	memset(g, 0, sizeof(*g));
	if (need(rd, nf, 8) != GS_OK)
		return rd->err;
	skip_str(rd);
	skip_str(rd);
	g->world_w = rd_number(rd);
	g->world_h = rd_number(rd);
	s->cell = rd_number(rd);
	g->radius = rd_number(rd);
	s->ntypes = gs_rd_array(rd, GS_SNAP_TYPES_MAX);
	for (t = 0; t < s->ntypes && rd->err == GS_OK; t++) {
		m = gs_rd_array_n(rd, 2, GS_MSG_FIELDS_MAX);
		skip_str(rd);
		s->nfields[t] = gs_rd_array(rd, GS_SNAP_FIELDS_MAX);
		for (i = 0; i < s->nfields[t] && rd->err == GS_OK; i++) {
			uint32_t k = gs_rd_array_n(rd, 3, GS_MSG_FIELDS_MAX);

			skip_str(rd);
			s->min[t][i] = gs_rd_int(rd, INT64_MIN, INT64_MAX);
			s->max[t][i] = gs_rd_int(rd, INT64_MIN, INT64_MAX);
			(void)rest(rd, k, 3);
			if (s->min[t][i] > s->max[t][i])
				return gs_rd_fail(rd, GS_EINVAL);
		}
		(void)rest(rd, m, 2);
	}
	g->ninputs = gs_rd_array(rd, GS_INPUT_VALUES_MAX);
	for (i = 0; i < g->ninputs && rd->err == GS_OK; i++) {
		m = gs_rd_array_n(rd, 4, GS_MSG_FIELDS_MAX);
		skip_str(rd);
		g->input_min[i] = (int32_t)gs_rd_int(rd, INT32_MIN, INT32_MAX);
		g->input_max[i] = (int32_t)gs_rd_int(rd, INT32_MIN, INT32_MAX);
		g->input_cooldown[i] = (uint32_t)gs_rd_uint(rd, UINT32_MAX);
		(void)rest(rd, m, 4);
	}
	if (rd->err == GS_OK && (!(s->cell > 0) || !isfinite(s->cell) ||
	    !(g->world_w > 0) || !(g->world_h > 0) || !(g->radius >= 0)))
		return gs_rd_fail(rd, GS_EINVAL);
	return rest(rd, nf, 8);
}

/* event: [7, tick, code, player, arg]: arg is the name (JOINED), nil
 * (LEFT), or the game's integer (the arena's SCORED: the new score). */
int
gs_event_get(struct gs_rd *rd, uint32_t nf, struct gs_event *e)
{
	if (need(rd, nf, 4) != GS_OK)
		return rd->err;
	e->tick = gs_rd_uint(rd, UINT64_MAX);
	e->code = (uint32_t)gs_rd_uint(rd, UINT32_MAX);
	e->player = gs_rd_uint(rd, UINT64_MAX);
	e->value = 0;
	e->name[0] = '\0';
	switch (gs_rd_type(rd)) {
	case GS_MP_STR:
		gs_rd_str(rd, e->name, sizeof(e->name));
		break;
	case GS_MP_UINT:
	case GS_MP_INT:
		e->value = gs_rd_int(rd, INT64_MIN, INT64_MAX);
		break;
	default:
		gs_rd_skip(rd);
		break;
	}
	return rest(rd, nf, 4);
}

void
gs_event_put(struct gs_wr *wr, const struct gs_event *e)
{
	gs_wr_array(wr, 5);
	gs_wr_uint(wr, GS_MSG_EVENT);
	gs_wr_uint(wr, e->tick);
	gs_wr_uint(wr, e->code);
	gs_wr_uint(wr, e->player);
	switch (e->code) {
	case GS_EV_JOINED:
		gs_wr_str(wr, e->name);
		break;
	case GS_EV_LEFT:
		gs_wr_nil(wr);
		break;
	default:
		gs_wr_int(wr, e->value);	/* a game's event */
		break;
	}
}

/* error: [8, code, text] */
int
gs_perror_get(struct gs_rd *rd, uint32_t nf, struct gs_perror *e)
{
	const char	*p;
	size_t		 n;

	if (need(rd, nf, 2) != GS_OK)
		return rd->err;
	e->code = (uint32_t)gs_rd_uint(rd, UINT32_MAX);
	/* Accept long texts from newer servers, keep the first part. */
	if ((p = gs_rd_strp(rd, &n, 65535)) != NULL) {
		if (n > GS_TEXT_MAX)
			n = GS_TEXT_MAX;
		memcpy(e->text, p, n);
		e->text[n] = '\0';
	}
	return rest(rd, nf, 2);
}

void
gs_perror_put(struct gs_wr *wr, uint32_t code, const char *text)
{
	size_t	n = strlen(text);

	gs_wr_array(wr, 3);
	gs_wr_uint(wr, GS_MSG_ERROR);
	gs_wr_uint(wr, code);
	gs_wr_strn(wr, text, n > GS_TEXT_MAX ? GS_TEXT_MAX : n);
}
