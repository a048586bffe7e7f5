#include <string.h>

#include "relay.h"

const char *
gs_relay_name(int kind)
{
	switch (kind) {
	case GS_REL_JOIN:	return "join";
	case GS_REL_INPUT:	return "input";
	case GS_REL_LEAVE:	return "leave";
	case GS_REL_JOINED:	return "joined";
	case GS_REL_REJECT:	return "reject";
	case GS_REL_FRAME:	return "frame";
	case GS_REL_CLOSE:	return "close";
	case GS_REL_ACK:	return "ack";
	case GS_REL_LOOK:	return "look";
	case GS_REL_INPUT_ACK:	return "input_ack";
	default:		return "unknown";
	}
}

void
gs_relay_hdr_put(struct gs_wr *wr, const struct gs_relay_hdr *h)
{
	gs_wr_array(wr, 6);
	gs_wr_uint(wr, GS_RELAY_VERSION);
	gs_wr_str(wr, h->role);
	gs_wr_uint(wr, h->instance);
	gs_wr_str(wr, h->url);
	gs_wr_uint(wr, h->to_instance);
	gs_wr_str(wr, h->to_url);
}

int
gs_relay_hdr_get(struct gs_rd *rd, struct gs_relay_hdr *h)
{
	uint32_t	n, i;

	n = gs_rd_array_n(rd, 4, GS_MSG_FIELDS_MAX);
	if (gs_rd_uint(rd, UINT32_MAX) != GS_RELAY_VERSION)
		gs_rd_fail(rd, GS_ERANGE);
	gs_rd_str(rd, h->role, sizeof(h->role));
	h->instance = gs_rd_uint(rd, UINT64_MAX);
	gs_rd_str(rd, h->url, sizeof(h->url));
	/* Appended fields: absent from an older peer's header. */
	h->to_instance = 0;
	h->to_url[0] = '\0';
	if (n >= 6) {
		h->to_instance = gs_rd_uint(rd, UINT64_MAX);
		gs_rd_str(rd, h->to_url, sizeof(h->to_url));
	}
	for (i = n >= 6 ? 6 : 4; i < n && rd->err == GS_OK; i++)
		gs_rd_skip(rd);
	return rd->err;
}

/* Fields each kind needs after [kind, conn]. */
static uint32_t
relay_nfields(int kind)
{
	switch (kind) {
	case GS_REL_JOIN:	return 2;
	case GS_REL_INPUT:	return 1;	/* seq, then 0-8 values */
	case GS_REL_LEAVE:	return 0;
	case GS_REL_JOINED:	return 5;
	case GS_REL_REJECT:	return 2;
	case GS_REL_FRAME:	return 2;
	case GS_REL_CLOSE:	return 2;
	case GS_REL_ACK:	return 1;
	case GS_REL_LOOK:	return 2;
	case GS_REL_INPUT_ACK:	return 2;	/* tick, seq, then values */
	default:		return 0;
	}
}

int
gs_relay_get(struct gs_rd *outer, struct gs_relay_rec *r)
{
	struct gs_rd	 sub, *rd = &sub;
	const uint8_t	*rec;
	uint32_t	 n, want, i;
	const char	*p;
	size_t		 len;

	/* Frame first, decode second: a record with bad fields but sound
	 * framing costs only itself, not the rest of the batch. */
	if ((rec = gs_rd_raw(outer, &len)) == NULL)
		return outer->err;
	gs_rd_init(rd, rec, len);
	n = gs_rd_array_n(rd, 2, GS_MSG_FIELDS_MAX);
	r->kind = (int)gs_rd_uint(rd, 255);
	r->conn = gs_rd_uint(rd, UINT64_MAX);
	if (rd->err != GS_OK)
		return rd->err;
	want = relay_nfields(r->kind);
	if (n - 2 < want)
		return gs_rd_fail(rd, GS_ETRUNC);
	switch (r->kind) {
	case GS_REL_JOIN:
		gs_rd_str(rd, r->room, sizeof(r->room));
		gs_rd_str(rd, r->name, sizeof(r->name));
		/* watch and account were appended: missing are a player
		 * and no account */
		r->watch = n - 2 > want ? gs_rd_bool(rd) : false;
		if (n - 2 > want)
			want++;
		r->account = n - 2 > want ? gs_rd_uint(rd, INT64_MAX) : 0;
		if (n - 2 > want)
			want++;
		break;
	case GS_REL_INPUT_ACK:
	case GS_REL_INPUT:
		if (r->kind == GS_REL_INPUT_ACK)
			r->tick = gs_rd_uint(rd, UINT64_MAX);
		r->input.seq = (uint32_t)gs_rd_uint(rd, UINT32_MAX);
		if (n - 2 - want > GS_INPUT_VALUES_MAX)
			return gs_rd_fail(rd, GS_ETOOBIG);
		r->input.n = n - 2 - want;
		for (i = 0; i < GS_INPUT_VALUES_MAX; i++)
			r->input.v[i] = i < r->input.n ? (int32_t)gs_rd_int(rd,
			    INT32_MIN, INT32_MAX) : 0;
		want += r->input.n;
		break;
	case GS_REL_ACK:
		r->tick = gs_rd_uint(rd, UINT64_MAX);
		break;
	case GS_REL_LOOK:
		r->x = gs_rd_f64(rd);
		r->y = gs_rd_f64(rd);
		break;
	case GS_REL_LEAVE:
		break;
	case GS_REL_JOINED:
		r->player = gs_rd_uint(rd, UINT64_MAX);
		gs_rd_str(rd, r->room, sizeof(r->room));
		r->tick_rate = (uint32_t)gs_rd_uint(rd, 1000);
		r->snapshot_rate = (uint32_t)gs_rd_uint(rd, 1000);
		r->tick = gs_rd_uint(rd, UINT64_MAX);
		break;
	case GS_REL_REJECT:
	case GS_REL_CLOSE:
		r->code = (uint32_t)gs_rd_uint(rd, UINT32_MAX);
		r->text[0] = '\0';
		if ((p = gs_rd_strp(rd, &len, 65535)) != NULL) {
			if (len > GS_TEXT_MAX)
				len = GS_TEXT_MAX;
			memcpy(r->text, p, len);
			r->text[len] = '\0';
		}
		break;
	case GS_REL_FRAME:
		r->reliable = gs_rd_bool(rd);
		r->msg = gs_rd_binp(rd, &r->msglen, GS_RELAY_FRAME_MAX);
		break;
	default:
		break;		/* unknown: skipped below, caller counts */
	}
	for (i = 2 + want; i < n && rd->err == GS_OK; i++)
		gs_rd_skip(rd);
	return gs_rd_end(rd);
}

void
gs_relay_join_put(struct gs_wr *wr, uint64_t conn, const char *room,
    const char *name, bool watch, uint64_t account)
{
	gs_wr_array(wr, 6);
	gs_wr_uint(wr, GS_REL_JOIN);
	gs_wr_uint(wr, conn);
	gs_wr_str(wr, room);
	gs_wr_str(wr, name);
	gs_wr_bool(wr, watch);
	gs_wr_uint(wr, account);
}

void
gs_relay_input_put(struct gs_wr *wr, uint64_t conn, const struct gs_input *in)
{
	uint32_t	i;

	gs_wr_array(wr, 3 + in->n);
	gs_wr_uint(wr, GS_REL_INPUT);
	gs_wr_uint(wr, conn);
	gs_wr_uint(wr, in->seq);
	for (i = 0; i < in->n; i++)
		gs_wr_int(wr, in->v[i]);
}

void
gs_relay_input_ack_put(struct gs_wr *wr, uint64_t conn,
    const struct gs_input *in, uint64_t tick)
{
	uint32_t	i;

	gs_wr_array(wr, 4 + in->n);
	gs_wr_uint(wr, GS_REL_INPUT_ACK);
	gs_wr_uint(wr, conn);
	gs_wr_uint(wr, tick);
	gs_wr_uint(wr, in->seq);
	for (i = 0; i < in->n; i++)
		gs_wr_int(wr, in->v[i]);
}

void
gs_relay_ack_put(struct gs_wr *wr, uint64_t conn, uint64_t tick)
{
	gs_wr_array(wr, 3);
	gs_wr_uint(wr, GS_REL_ACK);
	gs_wr_uint(wr, conn);
	gs_wr_uint(wr, tick);
}

void
gs_relay_look_put(struct gs_wr *wr, uint64_t conn, double x, double y)
{
	gs_wr_array(wr, 4);
	gs_wr_uint(wr, GS_REL_LOOK);
	gs_wr_uint(wr, conn);
	gs_wr_f64(wr, x);
	gs_wr_f64(wr, y);
}

void
gs_relay_leave_put(struct gs_wr *wr, uint64_t conn)
{
	gs_wr_array(wr, 2);
	gs_wr_uint(wr, GS_REL_LEAVE);
	gs_wr_uint(wr, conn);
}

void
gs_relay_joined_put(struct gs_wr *wr, uint64_t conn, uint64_t player,
    const char *room, uint32_t tick_rate, uint32_t snapshot_rate,
    uint64_t tick)
{
	gs_wr_array(wr, 7);
	gs_wr_uint(wr, GS_REL_JOINED);
	gs_wr_uint(wr, conn);
	gs_wr_uint(wr, player);
	gs_wr_str(wr, room);
	gs_wr_uint(wr, tick_rate);
	gs_wr_uint(wr, snapshot_rate);
	gs_wr_uint(wr, tick);
}

static void
relay_code_text(struct gs_wr *wr, int kind, uint64_t conn, uint32_t code,
    const char *text)
{
	size_t	n = strlen(text);

	gs_wr_array(wr, 4);
	gs_wr_uint(wr, (uint64_t)kind);
	gs_wr_uint(wr, conn);
	gs_wr_uint(wr, code);
	gs_wr_strn(wr, text, n > GS_TEXT_MAX ? GS_TEXT_MAX : n);
}

void
gs_relay_reject_put(struct gs_wr *wr, uint64_t conn, uint32_t code,
    const char *text)
{
	relay_code_text(wr, GS_REL_REJECT, conn, code, text);
}

void
gs_relay_close_put(struct gs_wr *wr, uint64_t conn, uint32_t code,
    const char *text)
{
	relay_code_text(wr, GS_REL_CLOSE, conn, code, text);
}

void
gs_relay_frame_put(struct gs_wr *wr, uint64_t conn, bool reliable,
    const void *msg, size_t len)
{
	gs_wr_array(wr, 4);
	gs_wr_uint(wr, GS_REL_FRAME);
	gs_wr_uint(wr, conn);
	gs_wr_bool(wr, reliable);
	gs_wr_bin(wr, msg, len);
}

bool
gs_relay_answer_due(struct gs_relay_answers *a, uint64_t conn,
    uint64_t now_us)
{
	unsigned	i;

	for (i = 0; i < GS_RELAY_ANSWER_RING; i++) {
		if (a->conn[i] != conn)
			continue;
		if (now_us - a->at_us[i] < GS_RELAY_ANSWER_US)
			return false;
		a->at_us[i] = now_us;
		return true;
	}
	a->conn[a->next] = conn;
	a->at_us[a->next] = now_us;
	a->next = (a->next + 1) % GS_RELAY_ANSWER_RING;
	return true;
}
