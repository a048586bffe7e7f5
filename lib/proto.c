#include <string.h>

#include "proto.h"

/* GS_ENTITIES_MAX is the most entities at their largest that fit one
 * message with the snapshot header: any fewer wastes the room, any more
 * makes snapshots that cannot be sent. */
_Static_assert(GS_SNAPHDR_WIRE_MAX + GS_ENTITIES_MAX * GS_ENTITY_WIRE_MAX <=
    GS_MSG_MAX, "GS_ENTITIES_MAX entities do not fit GS_MSG_MAX");
_Static_assert(GS_SNAPHDR_WIRE_MAX + (GS_ENTITIES_MAX + 1) *
    GS_ENTITY_WIRE_MAX > GS_MSG_MAX, "GS_ENTITIES_MAX is not the largest");
/* The header's array16 count holds GS_ENTITIES_MAX. */
_Static_assert(GS_ENTITIES_MAX <= UINT16_MAX, "snapshot header size");

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

/* hello: [1, version, name, token|nil, room] */
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
	return rest(rd, nf, 4);
}

void
gs_hello_put(struct gs_wr *wr, const struct gs_hello *h)
{
	gs_wr_array(wr, 5);
	gs_wr_uint(wr, GS_MSG_HELLO);
	gs_wr_uint(wr, h->version);
	gs_wr_str(wr, h->name);
	if (h->token != NULL)
		gs_wr_strn(wr, h->token, h->tokenlen);
	else
		gs_wr_nil(wr);
	gs_wr_str(wr, h->room);
}

/* input: [3, [[seq, mx, my, buttons], ...]] */
int
gs_input_get(struct gs_rd *rd, uint32_t nf, struct gs_input *in)
{
	uint32_t	n, i;

	if (need(rd, nf, 1) != GS_OK)
		return 0;
	n = gs_rd_array_n(rd, 1, GS_INPUTS_MAX);
	for (i = 0; i < n && rd->err == GS_OK; i++) {
		uint32_t	m = gs_rd_array_n(rd, 4, GS_MSG_FIELDS_MAX);

		in[i].seq = (uint32_t)gs_rd_uint(rd, UINT32_MAX);
		in[i].mx = (int8_t)gs_rd_int(rd, -GS_AXIS_MAX, GS_AXIS_MAX);
		in[i].my = (int8_t)gs_rd_int(rd, -GS_AXIS_MAX, GS_AXIS_MAX);
		in[i].buttons = (uint8_t)gs_rd_uint(rd, 255);
		(void)rest(rd, m, 4);
	}
	if (rest(rd, nf, 1) != GS_OK)
		return 0;
	return (int)n;
}

void
gs_input_put(struct gs_wr *wr, const struct gs_input *in, int n)
{
	int	i;

	gs_wr_array(wr, 2);
	gs_wr_uint(wr, GS_MSG_INPUT);
	gs_wr_array(wr, (uint32_t)n);
	for (i = 0; i < n; i++) {
		gs_wr_array(wr, 4);
		gs_wr_uint(wr, in[i].seq);
		gs_wr_int(wr, in[i].mx);
		gs_wr_int(wr, in[i].my);
		gs_wr_uint(wr, in[i].buttons);
	}
}

/* ping: [5, t]; pong: [6, t, server_us] */
int
gs_ping_get(struct gs_rd *rd, uint32_t nf, uint64_t *t)
{
	if (need(rd, nf, 1) != GS_OK)
		return rd->err;
	*t = gs_rd_uint(rd, UINT64_MAX);
	return rest(rd, nf, 1);
}

void
gs_ping_put(struct gs_wr *wr, uint64_t t)
{
	gs_wr_array(wr, 2);
	gs_wr_uint(wr, GS_MSG_PING);
	gs_wr_uint(wr, t);
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

/* snapshot: [4, tick, ack, full, [[id, type, x, y, value], ...]] */
int
gs_snaphdr_get(struct gs_rd *rd, uint32_t nf, struct gs_snaphdr *h)
{
	if (need(rd, nf, 4) != GS_OK)
		return rd->err;
	h->tick = gs_rd_uint(rd, UINT64_MAX);
	h->ack = (uint32_t)gs_rd_uint(rd, UINT32_MAX);
	h->full = gs_rd_bool(rd);
	h->nent = gs_rd_array(rd, GS_ENTITIES_MAX);
	return rd->err;
}

int
gs_entity_get(struct gs_rd *rd, struct gs_entity *e)
{
	uint32_t	m = gs_rd_array_n(rd, 5, GS_MSG_FIELDS_MAX);

	e->id = gs_rd_uint(rd, UINT64_MAX);
	e->type = (uint32_t)gs_rd_uint(rd, UINT32_MAX);
	e->x = (int32_t)gs_rd_int(rd, INT32_MIN, INT32_MAX);
	e->y = (int32_t)gs_rd_int(rd, INT32_MIN, INT32_MAX);
	e->value = gs_rd_int(rd, INT64_MIN, INT64_MAX);
	return rest(rd, m, 5);
}

int
gs_snapshot_end(struct gs_rd *rd, uint32_t nf)
{
	return rest(rd, nf, 4);
}

void
gs_snaphdr_put(struct gs_wr *wr, const struct gs_snaphdr *h)
{
	gs_wr_array(wr, 5);
	gs_wr_uint(wr, GS_MSG_SNAPSHOT);
	gs_wr_uint(wr, h->tick);
	gs_wr_uint(wr, h->ack);
	gs_wr_bool(wr, h->full);
	gs_wr_array(wr, h->nent);
}

void
gs_entity_put(struct gs_wr *wr, const struct gs_entity *e)
{
	gs_wr_array(wr, 5);
	gs_wr_uint(wr, e->id);
	gs_wr_uint(wr, e->type);
	gs_wr_int(wr, e->x);
	gs_wr_int(wr, e->y);
	gs_wr_int(wr, e->value);
}

/* event: [7, tick, code, player, arg]: arg is the name (JOINED), the
 * new score (SCORED) or nil. */
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
	case GS_EV_SCORED:
		gs_wr_int(wr, e->value);
		break;
	default:
		gs_wr_nil(wr);
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
