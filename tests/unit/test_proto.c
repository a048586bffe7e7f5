/* Client protocol and relay codecs: the example bytes of gs-protocol(7),
 * round trips, forward-compatible extra fields, hostile input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "relay.h"
#include "t.h"

/* The hello of the EXAMPLES section of gs-protocol(7):
 * [1, 2, "ann", nil, "lobby"] */
static const uint8_t hello_bytes[] = {
	0x95, 0x01, 0x02, 0xa3, 'a', 'n', 'n', 0xc0,
	0xa5, 'l', 'o', 'b', 'b', 'y' };

static void
test_hello_bytes(void)
{
	struct gs_rd	rd = GS_RD_INIT(hello_bytes, sizeof(hello_bytes));
	struct gs_hello	h;
	struct gs_wr	wr;
	uint8_t		buf[64];
	uint32_t	nf;

	T_EQ_INT(gs_msg_begin(&rd, &nf), GS_MSG_HELLO);
	T_EQ_INT(gs_hello_get(&rd, nf, &h), GS_OK);
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
	T_EQ_INT(h.version, 2);
	T_CHECK(!h.watch);
	T_CHECK(strcmp(h.name, "ann") == 0 && strcmp(h.room, "lobby") == 0);
	T_CHECK(h.token == NULL);

	gs_wr_init_fixed(&wr, buf, sizeof(buf));
	gs_hello_put(&wr, &h);
	T_CHECK(wr.err == GS_OK && wr.len == sizeof(hello_bytes) &&
	    memcmp(buf, hello_bytes, wr.len) == 0);
}

/* [3, [[7, 127, -127, 1]]]: seq 7 and three values */
static const uint8_t input_bytes[] = {
	0x92, 0x03, 0x91, 0x94, 0x07, 0x7f, 0xd0, 0x81, 0x01 };

static void
test_input_bytes(void)
{
	struct gs_rd	rd = GS_RD_INIT(input_bytes, sizeof(input_bytes));
	struct gs_input	in[GS_INPUTS_MAX];
	uint32_t	nf;

	T_EQ_INT(gs_msg_begin(&rd, &nf), GS_MSG_INPUT);
	T_EQ_INT(gs_input_get(&rd, nf, in), 1);
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
	T_CHECK(in[0].seq == 7 && in[0].n == 3 && in[0].v[0] == 127 &&
	    in[0].v[1] == -127 && in[0].v[2] == 1 && in[0].v[3] == 0);
}

/* A spectator's hello, an ack and a look round-trip. */
static void
test_watch_ack_look(void)
{
	struct gs_hello	h, h2;
	struct gs_wr	wr;
	struct gs_rd	rd;
	uint64_t	tick = 0;
	double		x = 0, y = 0;
	uint32_t	nf;

	memset(&h, 0, sizeof(h));
	h.version = GS_PROTO_VERSION;
	(void)snprintf(h.name, sizeof(h.name), "eve");
	(void)snprintf(h.room, sizeof(h.room), "r");
	h.watch = true;
	gs_wr_init(&wr, 0, 256);
	gs_hello_put(&wr, &h);
	gs_ack_put(&wr, 1234567);
	gs_look_put(&wr, 12.5, 900);
	T_ASSERT(wr.err == GS_OK);
	gs_rd_init(&rd, wr.buf, wr.len);
	T_EQ_INT(gs_msg_begin(&rd, &nf), GS_MSG_HELLO);
	T_EQ_INT(gs_hello_get(&rd, nf, &h2), GS_OK);
	T_CHECK(h2.watch && strcmp(h2.name, "eve") == 0);
	T_EQ_INT(gs_msg_begin(&rd, &nf), GS_MSG_ACK);
	T_EQ_INT(gs_ack_get(&rd, nf, &tick), GS_OK);
	T_EQ_INT(tick, 1234567);
	T_EQ_INT(gs_msg_begin(&rd, &nf), GS_MSG_LOOK);
	T_EQ_INT(gs_look_get(&rd, nf, &x, &y), GS_OK);
	T_CHECK(x == 12.5 && y == 900);
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
	gs_wr_free(&wr);
}

/* The game message carries what a client decodes and inputs by. */
static void
test_gameinfo(void)
{
	struct gs_gameinfo	g, g2;
	struct gs_wr		wr;
	struct gs_rd		rd;
	uint32_t		nf;

	memset(&g, 0, sizeof(g));
	g.name = "arena";
	g.version = "1";
	g.world_w = 2000;
	g.world_h = 1500;
	g.radius = 300;
	g.schema.cell = 1024;
	g.schema.ntypes = 2;
	g.type_name[0] = "player";
	g.type_name[1] = "pickup";
	g.schema.nfields[0] = 1;
	g.field_name[0][0] = "score";
	g.schema.min[0][0] = 0;
	g.schema.max[0][0] = (int64_t)1 << 53;
	g.schema.nfields[1] = 0;
	g.ninputs = 2;
	g.input_name[0] = "mx";
	g.input_name[1] = "my";
	g.input_min[0] = g.input_min[1] = -127;
	g.input_max[0] = g.input_max[1] = 127;
	g.input_cooldown[1] = 3;
	gs_wr_init(&wr, 0, 1024);
	gs_gameinfo_put(&wr, &g);
	T_ASSERT(wr.err == GS_OK);
	gs_rd_init(&rd, wr.buf, wr.len);
	T_EQ_INT(gs_msg_begin(&rd, &nf), GS_MSG_GAME);
	T_EQ_INT(gs_gameinfo_get(&rd, nf, &g2), GS_OK);
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
	T_CHECK(g2.world_w == 2000 && g2.world_h == 1500 && g2.radius == 300);
	T_CHECK(g2.schema.cell == 1024 && g2.schema.ntypes == 2 &&
	    g2.schema.nfields[0] == 1 && g2.schema.nfields[1] == 0 &&
	    g2.schema.max[0][0] == (int64_t)1 << 53);
	T_CHECK(g2.ninputs == 2 && g2.input_min[1] == -127 &&
	    g2.input_max[0] == 127 && g2.input_cooldown[1] == 3);
	/* A cell of 0 is refused. */
	g.schema.cell = 0;
	gs_wr_reset(&wr);
	gs_gameinfo_put(&wr, &g);
	gs_rd_init(&rd, wr.buf, wr.len);
	(void)gs_msg_begin(&rd, &nf);
	T_EQ_INT(gs_gameinfo_get(&rd, nf, &g2), GS_EINVAL);
	gs_wr_free(&wr);
}

static void
test_input_limits(void)
{
	/* a value of 2^31 is beyond int32 */
	static const uint8_t axis[] = { 0x92, 0x03, 0x91, 0x92, 0x01, 0xce,
	    0x80, 0x00, 0x00, 0x00 };
	/* ten values: over GS_INPUT_VALUES_MAX */
	static const uint8_t many[] = { 0x92, 0x03, 0x91, 0x9b, 0x01,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	/* nine inputs: over GS_INPUTS_MAX */
	uint8_t		nine[2 + 1 + 9 * 5];
	struct gs_rd	rd;
	struct gs_input	in[GS_INPUTS_MAX];
	uint32_t	nf;
	size_t		i, o = 0;

	gs_rd_init(&rd, axis, sizeof(axis));
	(void)gs_msg_begin(&rd, &nf);
	T_EQ_INT(gs_input_get(&rd, nf, in), 0);
	T_EQ_INT(rd.err, GS_ERANGE);
	gs_rd_init(&rd, many, sizeof(many));
	(void)gs_msg_begin(&rd, &nf);
	T_EQ_INT(gs_input_get(&rd, nf, in), 0);
	T_EQ_INT(rd.err, GS_ETOOBIG);

	nine[o++] = 0x92;
	nine[o++] = 0x03;
	nine[o++] = 0x99;
	for (i = 0; i < 9; i++) {
		nine[o++] = 0x94;
		nine[o++] = (uint8_t)i;
		nine[o++] = 0;
		nine[o++] = 0;
		nine[o++] = 0;
	}
	gs_rd_init(&rd, nine, o);
	(void)gs_msg_begin(&rd, &nf);
	T_EQ_INT(gs_input_get(&rd, nf, in), 0);
	T_EQ_INT(rd.err, GS_ETOOBIG);
}

static void
test_server_messages(void)
{
	struct gs_wr		wr;
	struct gs_rd		rd;
	struct gs_welcome	w = { 2, 42, "lobby", 30, 15, 900, 1700000000000000u };
	struct gs_welcome	w2;
	struct gs_snaphdr	sh = { 901, 897, 17 }, sh2;
	static const uint8_t	body[] = { 0x00, 0x01, 0x07, 0x05, 0x80,
	    0x28, 0x03, 0x04 };
	const uint8_t		*b;
	size_t			 blen;
	struct gs_event		ev = { 902, GS_EV_JOINED, 43, 0, "bob" }, ev2;
	struct gs_perror	pe;
	uint64_t		t, srv;
	uint32_t		nf;

	gs_wr_init(&wr, 0, 4096);
	gs_welcome_put(&wr, &w);
	gs_snapshot_put(&wr, &sh, body, sizeof(body));
	gs_event_put(&wr, &ev);
	gs_pong_put(&wr, 5, 6);
	gs_perror_put(&wr, GS_PERR_BADFRAME, "bad");
	T_ASSERT(wr.err == GS_OK);

	gs_rd_init(&rd, wr.buf, wr.len);
	T_EQ_INT(gs_msg_begin(&rd, &nf), GS_MSG_WELCOME);
	T_EQ_INT(gs_welcome_get(&rd, nf, &w2), GS_OK);
	T_CHECK(w2.player == 42 && strcmp(w2.room, "lobby") == 0 &&
	    w2.tick_rate == 30 && w2.snapshot_rate == 15 && w2.tick == 900 &&
	    w2.server_us == w.server_us);
	T_EQ_INT(gs_msg_begin(&rd, &nf), GS_MSG_SNAPSHOT);
	T_EQ_INT(gs_snapshot_get(&rd, nf, &sh2, &b, &blen), GS_OK);
	T_CHECK(sh2.tick == 901 && sh2.base == 897 && sh2.ack == 17);
	T_CHECK(blen == sizeof(body) && memcmp(b, body, blen) == 0);
	T_EQ_INT(gs_msg_begin(&rd, &nf), GS_MSG_EVENT);
	T_EQ_INT(gs_event_get(&rd, nf, &ev2), GS_OK);
	T_CHECK(ev2.code == GS_EV_JOINED && ev2.player == 43 &&
	    strcmp(ev2.name, "bob") == 0);
	T_EQ_INT(gs_msg_begin(&rd, &nf), GS_MSG_PONG);
	T_EQ_INT(gs_pong_get(&rd, nf, &t, &srv), GS_OK);
	T_CHECK(t == 5 && srv == 6);
	T_EQ_INT(gs_msg_begin(&rd, &nf), GS_MSG_ERROR);
	T_EQ_INT(gs_perror_get(&rd, nf, &pe), GS_OK);
	T_CHECK(pe.code == GS_PERR_BADFRAME && strcmp(pe.text, "bad") == 0);
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
	gs_wr_free(&wr);
}

/* A later version may append fields: [5, t, "extra", [1, 2]]. */
static void
test_extra_fields(void)
{
	static const uint8_t b[] = { 0x94, 0x05, 0x09, 0xa1, 'x', 0x92,
	    0x01, 0x02, 0x91, 0x0a };
	struct gs_rd	rd = GS_RD_INIT(b, sizeof(b));
	uint64_t	t = 0;
	uint32_t	nf;

	T_EQ_INT(gs_msg_begin(&rd, &nf), GS_MSG_PING);
	T_EQ_INT(gs_ping_get(&rd, nf, &t), GS_OK);
	T_EQ_INT(t, 9);
	T_EQ_INT(gs_msg_begin(&rd, &nf), GS_MSG_BYE);
	T_EQ_INT(gs_bye_get(&rd, nf), GS_OK);
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
}

/* Decode a stream the way the gateway does; returns messages read. */
static int
decode_client_stream(const uint8_t *buf, size_t len, int *err)
{
	struct gs_rd	rd = GS_RD_INIT(buf, len);
	struct gs_hello	h;
	struct gs_input	in[GS_INPUTS_MAX];
	uint64_t	t;
	uint32_t	nf;
	int		n = 0;

	while (gs_rd_more(&rd)) {
		switch (gs_msg_begin(&rd, &nf)) {
		case GS_MSG_HELLO:
			(void)gs_hello_get(&rd, nf, &h);
			break;
		case GS_MSG_INPUT:
			(void)gs_input_get(&rd, nf, in);
			break;
		case GS_MSG_PING:
			(void)gs_ping_get(&rd, nf, &t);
			break;
		case 0:
			break;
		default:
			gs_msg_skip(&rd, nf);
			break;
		}
		if (rd.err == GS_OK)
			n++;
	}
	*err = rd.err;
	return n;
}

static void
test_truncated_stream(void)
{
	uint8_t	all[sizeof(hello_bytes) + sizeof(input_bytes)];
	uint8_t	*copy;
	size_t	cut;
	int	err, n;

	memcpy(all, hello_bytes, sizeof(hello_bytes));
	memcpy(all + sizeof(hello_bytes), input_bytes, sizeof(input_bytes));
	T_EQ_INT(decode_client_stream(all, sizeof(all), &err), 2);
	T_EQ_INT(err, GS_OK);
	for (cut = 1; cut < sizeof(all); cut++) {
		if (cut == sizeof(hello_bytes))
			continue;
		copy = malloc(cut);
		T_ASSERT(copy != NULL);
		memcpy(copy, all, cut);
		n = decode_client_stream(copy, cut, &err);
		T_CHECK(err != GS_OK);
		T_CHECK(n == (cut > sizeof(hello_bytes) ? 1 : 0));
		free(copy);
	}
}

static void
test_garbage_stream(void)
{
	uint8_t	*buf;
	size_t	len, i;
	int	iter, err;

	srand(11);
	for (iter = 0; iter < 20000; iter++) {
		len = (size_t)(rand() % 48) + 1;
		buf = malloc(len);
		T_ASSERT(buf != NULL);
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)rand();
		if (iter & 1)
			buf[0] = (uint8_t)(0x91 + rand() % 5);	/* array */
		(void)decode_client_stream(buf, len, &err);
		free(buf);
	}
}

static void
test_relay(void)
{
	struct gs_wr		wr;
	struct gs_rd		rd;
	struct gs_relay_hdr	h = { "gw", 99, "ipc:///tmp/gw.in", 5,
				    "ipc:///tmp/sim.in" }, h2;
	struct gs_relay_rec	r;
	struct gs_input		in = { 5, 3, { -3, 4, 2 } };
	static const uint8_t	frame[] = { 0x91, 0x0a };

	gs_wr_init(&wr, 0, 4096);
	gs_relay_hdr_put(&wr, &h);
	gs_relay_join_put(&wr, 1, "lobby", "ann", true, 42);
	gs_relay_input_put(&wr, 1, &in);
	gs_relay_ack_put(&wr, 1, 99);
	gs_relay_input_ack_put(&wr, 1, &in, 77);
	gs_relay_look_put(&wr, 1, 1.5, 2.5);
	gs_relay_joined_put(&wr, 1, 77, "lobby", 30, 30, 12);
	gs_relay_frame_put(&wr, 1, true, frame, sizeof(frame));
	gs_relay_reject_put(&wr, 2, GS_PERR_ROOMFULL, "full");
	gs_relay_leave_put(&wr, 1);
	T_ASSERT(wr.err == GS_OK);

	gs_rd_init(&rd, wr.buf, wr.len);
	T_EQ_INT(gs_relay_hdr_get(&rd, &h2), GS_OK);
	T_CHECK(h2.instance == 99 && strcmp(h2.url, h.url) == 0 &&
	    strcmp(h2.role, "gw") == 0 && h2.to_instance == 5 &&
	    strcmp(h2.to_url, "ipc:///tmp/sim.in") == 0);
	T_EQ_INT(gs_relay_get(&rd, &r), GS_OK);
	T_CHECK(r.kind == GS_REL_JOIN && r.conn == 1 && r.watch &&
	    r.account == 42 && strcmp(r.room, "lobby") == 0 &&
	    strcmp(r.name, "ann") == 0);
	T_EQ_INT(gs_relay_get(&rd, &r), GS_OK);
	T_CHECK(r.kind == GS_REL_INPUT && r.input.seq == 5 &&
	    r.input.n == 3 && r.input.v[0] == -3 && r.input.v[1] == 4 &&
	    r.input.v[2] == 2);
	T_EQ_INT(gs_relay_get(&rd, &r), GS_OK);
	T_CHECK(r.kind == GS_REL_ACK && r.tick == 99);
	T_EQ_INT(gs_relay_get(&rd, &r), GS_OK);
	T_CHECK(r.kind == GS_REL_INPUT_ACK && r.tick == 77 &&
	    r.input.seq == 5 && r.input.n == 3 && r.input.v[0] == -3 &&
	    r.input.v[2] == 2);
	T_EQ_INT(gs_relay_get(&rd, &r), GS_OK);
	T_CHECK(r.kind == GS_REL_LOOK && r.x == 1.5 && r.y == 2.5);
	T_EQ_INT(gs_relay_get(&rd, &r), GS_OK);
	T_CHECK(r.kind == GS_REL_JOINED && r.player == 77 && r.tick == 12);
	T_EQ_INT(gs_relay_get(&rd, &r), GS_OK);
	T_CHECK(r.kind == GS_REL_FRAME && r.reliable && r.msglen == 2 &&
	    memcmp(r.msg, frame, 2) == 0);
	T_EQ_INT(gs_relay_get(&rd, &r), GS_OK);
	T_CHECK(r.kind == GS_REL_REJECT && r.code == GS_PERR_ROOMFULL &&
	    strcmp(r.text, "full") == 0);
	T_EQ_INT(gs_relay_get(&rd, &r), GS_OK);
	T_CHECK(r.kind == GS_REL_LEAVE && r.conn == 1);
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
	gs_wr_free(&wr);
}

static void
test_relay_hostile(void)
{
	/* unknown kind 99 with two extra fields: skipped, kind reported */
	static const uint8_t unk[] = { 0x94, 0x63, 0x01, 0xc0, 0xc0 };
	/* a version-1 header of four fields, from an older peer */
	static const uint8_t old4[] = { 0x94, 0x01, 0xa2, 'g', 'w', 0x07,
	    0xa1, 'u' };
	/* wrong header version */
	static const uint8_t hdr[] = { 0x94, 0x02, 0xa2, 'g', 'w', 0x01,
	    0xa0 };
	/* JOIN missing the name */
	static const uint8_t shortj[] = { 0x93, 0x01, 0x01, 0xa1, 'r' };
	/* a JOIN of four fields (no watch) is a player's */
	static const uint8_t oldj[] = { 0x94, 0x01, 0x01, 0xa1, 'r', 0xa1,
	    'n' };
	struct gs_rd		rd;
	struct gs_relay_rec	r;
	struct gs_relay_hdr	h;

	gs_rd_init(&rd, unk, sizeof(unk));
	T_EQ_INT(gs_relay_get(&rd, &r), GS_OK);
	T_EQ_INT(r.kind, 99);
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
	gs_rd_init(&rd, old4, sizeof(old4));
	T_EQ_INT(gs_relay_hdr_get(&rd, &h), GS_OK);
	T_CHECK(h.instance == 7 && h.to_instance == 0 && h.to_url[0] == 0);
	gs_rd_init(&rd, hdr, sizeof(hdr));
	T_EQ_INT(gs_relay_hdr_get(&rd, &h), GS_ERANGE);
	gs_rd_init(&rd, shortj, sizeof(shortj));
	T_EQ_INT(gs_relay_get(&rd, &r), GS_ETRUNC);
	T_EQ_INT(rd.err, GS_OK);	/* framing intact: go on */
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
	gs_rd_init(&rd, oldj, sizeof(oldj));
	T_EQ_INT(gs_relay_get(&rd, &r), GS_OK);
	T_CHECK(r.kind == GS_REL_JOIN && !r.watch && r.account == 0 &&
	    strcmp(r.name, "n") == 0);
}

/* A record with a bad field costs only itself; broken framing stops. */
static void
test_relay_bad_record_midbatch(void)
{
	/* INPUT with a value of 2^31, then a LEAVE */
	static const uint8_t b[] = { 0x94, 0x02, 0x01, 0x01, 0xce, 0x80, 0x00,
	    0x00, 0x00, 0x92, 0x03, 0x01 };
	static const uint8_t broken[] = { 0x96, 0x02, 0x01 };
	struct gs_rd		rd = GS_RD_INIT(b, sizeof(b));
	struct gs_relay_rec	r;

	T_EQ_INT(gs_relay_get(&rd, &r), GS_ERANGE);
	T_EQ_INT(rd.err, GS_OK);
	T_EQ_INT(gs_relay_get(&rd, &r), GS_OK);
	T_CHECK(r.kind == GS_REL_LEAVE && r.conn == 1);
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
	gs_rd_init(&rd, broken, sizeof(broken));
	T_EQ_INT(gs_relay_get(&rd, &r), GS_ETRUNC);
	T_EQ_INT(rd.err, GS_ETRUNC);
}

/* The largest snapshot header, field by field at its longest
 * encoding, is exactly the size proto.h plans with, and the largest
 * body fits with it in one message. */
static void
test_snapshot_max(void)
{
	struct gs_wr		wr;
	struct gs_rd		rd;
	struct gs_snaphdr	h = { UINT64_MAX, 1, UINT32_MAX }, h2;
	static uint8_t		body[GS_SNAP_BODY_MAX];
	const uint8_t		*b;
	size_t			 blen;
	uint32_t		 nf;

	gs_wr_init(&wr, 0, GS_MSG_MAX);
	gs_snapshot_put(&wr, &h, body, 0);
	T_ASSERT(wr.err == GS_OK);
	T_EQ_INT(wr.len, GS_SNAPHDR_WIRE_MAX - 3);	/* bin8, not bin32 */
	gs_wr_reset(&wr);
	gs_snapshot_put(&wr, &h, body, sizeof(body));
	T_ASSERT(wr.err == GS_OK);
	T_CHECK(wr.len <= GS_MSG_MAX);
	gs_rd_init(&rd, wr.buf, wr.len);
	T_EQ_INT(gs_msg_begin(&rd, &nf), GS_MSG_SNAPSHOT);
	T_EQ_INT(gs_snapshot_get(&rd, nf, &h2, &b, &blen), GS_OK);
	T_CHECK(h2.tick == UINT64_MAX && h2.base == 1 &&
	    blen == sizeof(body));
	gs_wr_free(&wr);
	T_CHECK(GS_RELAY_FRAME_MAX >= GS_MSG_MAX);
}

/* Sequence numbers are unsigned 32-bit: 2^32 - 1 is the last, 2^32 a
 * bad field (gs-protocol(7) "Sequence numbers"). */
static void
test_seq_range(void)
{
	/* [3, [[0xffffffff, 0, 0, 0]]] and the same with 2^32 */
	static const uint8_t last[] = { 0x92, 0x03, 0x91, 0x94, 0xce, 0xff,
	    0xff, 0xff, 0xff, 0x00, 0x00, 0x00 };
	static const uint8_t over[] = { 0x92, 0x03, 0x91, 0x94, 0xcf, 0x00,
	    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
	struct gs_rd	rd;
	struct gs_input	in[GS_INPUTS_MAX];
	uint32_t	nf;

	gs_rd_init(&rd, last, sizeof(last));
	(void)gs_msg_begin(&rd, &nf);
	T_EQ_INT(gs_input_get(&rd, nf, in), 1);
	T_EQ_INT(gs_rd_end(&rd), GS_OK);
	T_CHECK(in[0].seq == UINT32_MAX);
	gs_rd_init(&rd, over, sizeof(over));
	(void)gs_msg_begin(&rd, &nf);
	T_EQ_INT(gs_input_get(&rd, nf, in), 0);
	T_EQ_INT(rd.err, GS_ERANGE);
}

static void
test_names(void)
{
	T_CHECK(gs_name_valid("ann_1.b-c", GS_NAME_MAX));
	T_CHECK(!gs_name_valid("", GS_NAME_MAX));
	T_CHECK(!gs_name_valid("a b", GS_NAME_MAX));
	T_CHECK(!gs_name_valid("abcd", 3));
	T_CHECK(gs_name_valid("abc", 3));
	T_CHECK(strcmp(gs_perr_name(GS_PERR_SLOW), "slow") == 0);
	T_CHECK(strcmp(gs_perr_name(999), "unknown") == 0);
	T_CHECK(strcmp(gs_msg_name(GS_MSG_SNAPSHOT), "snapshot") == 0);
}

T_MAIN(T(test_hello_bytes), T(test_input_bytes), T(test_input_limits),
    T(test_watch_ack_look), T(test_gameinfo),
    T(test_server_messages), T(test_extra_fields), T(test_truncated_stream),
    T(test_garbage_stream), T(test_relay), T(test_relay_hostile), T(test_relay_bad_record_midbatch),
    T(test_snapshot_max), T(test_seq_range),
    T(test_names))
