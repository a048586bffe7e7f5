/*
 * lib/quic.c: the varints of RFC 9000 section 16 and the receiving side
 * of the framed stream (gs_quic_rx), which must hand over the same
 * messages however the stream is cut into receives.
 */
#include <stdlib.h>
#include <string.h>

#include "quic.h"
#include "t.h"

/* ------------------------------------------------------------ varints */

/* Each boundary of the four lengths, and the largest value. */
static const struct {
	uint64_t	v;
	size_t		len;
} t_bounds[] = {
	{ 0, 1 }, { 63, 1 },
	{ 64, 2 }, { 16383, 2 },
	{ 16384, 4 }, { (1ULL << 30) - 1, 4 },
	{ 1ULL << 30, 8 }, { GS_QUIC_VARINT_MAX, 8 },
};

static void
test_varint_bounds(void)
{
	uint8_t		b[8];
	uint64_t	v;
	size_t		i, n, k;

	for (i = 0; i < sizeof(t_bounds) / sizeof(t_bounds[0]); i++) {
		T_EQ_INT(gs_quic_varint_len(t_bounds[i].v), t_bounds[i].len);
		memset(b, 0xee, sizeof(b));
		n = gs_quic_varint_put(b, t_bounds[i].v);
		T_EQ_INT(n, t_bounds[i].len);
		/* The two high bits name the length. */
		T_EQ_INT(1u << (b[0] >> 6), n);
		/* Bytes past the integer are untouched. */
		for (k = n; k < sizeof(b); k++)
			T_EQ_INT(b[k], 0xee);
		v = 12345;
		T_EQ_INT(gs_quic_varint_get(b, n, &v), n);
		T_CHECK(v == t_bounds[i].v);
		/* Any shorter read holds only part of it. */
		for (k = 0; k < n; k++)
			T_EQ_INT(gs_quic_varint_get(b, k, &v), 0);
		/* Bytes after it are not read. */
		T_EQ_INT(gs_quic_varint_get(b, sizeof(b), &v), n);
		T_CHECK(v == t_bounds[i].v);
	}
}

/* The examples of RFC 9000 appendix A.1, a non-minimal one included. */
static void
test_varint_rfc(void)
{
	static const struct {
		uint8_t		b[8];
		size_t		len;
		uint64_t	v;
	} ex[] = {
		{ { 0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c }, 8,
		  151288809941952652ULL },
		{ { 0x9d, 0x7f, 0x3e, 0x7d }, 4, 494878333 },
		{ { 0x7b, 0xbd }, 2, 15293 },
		{ { 0x25 }, 1, 37 },
		{ { 0x40, 0x25 }, 2, 37 },
	};
	uint8_t		out[8];
	uint64_t	v;
	size_t		i;

	for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		T_EQ_INT(gs_quic_varint_get(ex[i].b, ex[i].len, &v),
		    ex[i].len);
		T_CHECK(v == ex[i].v);
		if (i == 4)
			continue;	/* we write the shortest form */
		T_EQ_INT(gs_quic_varint_put(out, ex[i].v), ex[i].len);
		T_CHECK(memcmp(out, ex[i].b, ex[i].len) == 0);
	}
}

/* Every value near a boundary round-trips in the shortest form. */
static void
test_varint_roundtrip(void)
{
	static const uint64_t	edge[] = { 64, 16384, 1ULL << 30, 1ULL << 62 };
	uint8_t			b[8];
	uint64_t		v, x;
	size_t			i;
	int			d;

	for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
		for (d = -3; d <= 3; d++) {
			x = edge[i] + (uint64_t)(int64_t)d;
			if (x > GS_QUIC_VARINT_MAX)
				continue;
			T_EQ_INT(gs_quic_varint_put(b, x),
			    gs_quic_varint_len(x));
			T_EQ_INT(gs_quic_varint_get(b, sizeof(b), &v),
			    gs_quic_varint_len(x));
			T_CHECK(v == x);
			T_EQ_INT(gs_quic_varint_len(x), x < edge[i] ?
			    (i == 0 ? 1 : 2u << (i - 1)) : 2u << i);
		}
}

/* ------------------------------------------------------------- stream */

#define T_MSGS	16

/* What a feed handed over. */
struct t_got {
	int			 n;
	enum gs_quic_rx_status	 st[T_MSGS];
	size_t			 len[T_MSGS];
	uint8_t			*msg[T_MSGS];	/* copies; NULL for errors */
	const uint8_t		*at[T_MSGS];	/* where it lay */
};

static void
t_collect(void *arg, enum gs_quic_rx_status st, const uint8_t *msg,
    size_t len)
{
	struct t_got	*g = arg;

	if (g->n == T_MSGS)
		return;
	g->st[g->n] = st;
	g->len[g->n] = len;
	g->at[g->n] = msg;
	g->msg[g->n] = NULL;
	if (msg != NULL && (g->msg[g->n] = malloc(len)) != NULL)
		memcpy(g->msg[g->n], msg, len);
	g->n++;
}

static void
t_got_free(struct t_got *g)
{
	int	i;

	for (i = 0; i < g->n; i++)
		free(g->msg[i]);
	g->n = 0;
}

/* A stream: messages each behind its varint length. */
struct t_stream {
	uint8_t		*b;
	size_t		 len;
	int		 n;
	size_t		 mlen[T_MSGS];
	enum gs_quic_rx_status want[T_MSGS];
};

/* Append a message of len bytes (byte k is seed + k), reported as st;
 * a TOOBIG or EMPTY one is reported without bytes. */
static void
t_add(struct t_stream *s, size_t len, uint8_t seed,
    enum gs_quic_rx_status st)
{
	size_t	k;

	s->b = realloc(s->b, s->len + 8 + len);
	if (s->b == NULL)
		abort();
	s->len += gs_quic_varint_put(s->b + s->len, len);
	for (k = 0; k < len; k++)
		s->b[s->len + k] = (uint8_t)(seed + k);
	s->len += len;
	s->mlen[s->n] = len;
	s->want[s->n] = st;
	s->n++;
}

/* g holds exactly the messages of s. */
static int
t_same(const struct t_stream *s, const struct t_got *g)
{
	size_t	off = 0, k, hl;
	int	i, bad = 0;

	if (g->n != s->n)
		return 0;
	for (i = 0; i < s->n; i++) {
		hl = gs_quic_varint_len(s->mlen[i]);
		bad |= g->st[i] != s->want[i] || g->len[i] != s->mlen[i];
		if (s->want[i] == GS_QUIC_RX_OK) {
			bad |= g->msg[i] == NULL;
			for (k = 0; !bad && k < s->mlen[i]; k++)
				bad |= g->msg[i][k] != s->b[off + hl + k];
		} else
			bad |= g->at[i] != NULL;
		off += hl + s->mlen[i];
	}
	return !bad;
}

/* Feed s cut at cut (two receives), from separate buffers, as the
 * network would hand them over. */
static int
t_feed_cut(const struct t_stream *s, size_t max, size_t cut,
    struct t_got *g)
{
	struct gs_quic_rx	 rx;
	uint8_t			*a, *b;
	int			 rv;

	a = malloc(cut + 1);
	b = malloc(s->len - cut + 1);
	if (a == NULL || b == NULL)
		abort();
	memcpy(a, s->b, cut);
	memcpy(b, s->b + cut, s->len - cut);
	gs_quic_rx_init(&rx, max);
	rv = gs_quic_rx_feed(&rx, a, cut, t_collect, g);
	rv |= gs_quic_rx_feed(&rx, b, s->len - cut, t_collect, g);
	/* Everything was whole: nothing is held. */
	rv |= rx.buf != NULL || rx.nhdr != 0 || rx.skip != 0 || rx.want != 0;
	gs_quic_rx_free(&rx);
	free(a);
	free(b);
	return rv;
}

/* s fed at every cut: the same messages whatever the cut. */
static void
t_every_cut(const struct t_stream *s, size_t max)
{
	struct t_got	g = { .n = 0 };
	size_t		cut;

	for (cut = 0; cut <= s->len; cut++) {
		T_EQ_INT(t_feed_cut(s, max, cut, &g), 0);
		if (!t_same(s, &g)) {
			T_CHECK(!"messages differ");
			fprintf(stderr, "  cut at %zu\n", cut);
			t_got_free(&g);
			break;
		}
		t_got_free(&g);
	}
}

/* Messages of every header length, cut at every byte: the same
 * messages whatever the cut. */
static void
test_rx_every_cut(void)
{
	struct t_stream	s = { .b = NULL };

	t_add(&s, 1, 1, GS_QUIC_RX_OK);
	t_add(&s, 63, 2, GS_QUIC_RX_OK);
	t_add(&s, 64, 3, GS_QUIC_RX_OK);		/* 2-byte length */
	t_add(&s, 300, 4, GS_QUIC_RX_OK);
	t_add(&s, 16384, 5, GS_QUIC_RX_OK);		/* 4-byte length */
	t_add(&s, 2, 6, GS_QUIC_RX_OK);
	t_every_cut(&s, 20000);
	free(s.b);
}

/* One byte per receive: the worst case of every cut at once. */
static void
test_rx_bytewise(void)
{
	struct t_stream		 s = { .b = NULL };
	struct t_got		 g = { .n = 0 };
	struct gs_quic_rx	 rx;
	uint8_t			 byte;
	size_t			 i;

	t_add(&s, 5, 7, GS_QUIC_RX_OK);
	t_add(&s, 0, 0, GS_QUIC_RX_EMPTY);
	t_add(&s, 200, 8, GS_QUIC_RX_TOOBIG);
	t_add(&s, 70, 9, GS_QUIC_RX_OK);
	gs_quic_rx_init(&rx, 100);
	for (i = 0; i < s.len; i++) {
		byte = s.b[i];
		T_EQ_INT(gs_quic_rx_feed(&rx, &byte, 1, t_collect, &g), 0);
	}
	T_CHECK(t_same(&s, &g));
	gs_quic_rx_free(&rx);
	t_got_free(&g);
	free(s.b);
}

/* A message over max is skipped to its end and reported with its
 * length, the messages around it are whole, at every cut. */
static void
test_rx_toobig(void)
{
	struct t_stream	s = { .b = NULL };

	t_add(&s, 10, 1, GS_QUIC_RX_OK);
	t_add(&s, 101, 2, GS_QUIC_RX_TOOBIG);
	t_add(&s, 100, 3, GS_QUIC_RX_OK);		/* exactly max */
	t_add(&s, 20000, 4, GS_QUIC_RX_TOOBIG);		/* 4-byte length */
	t_add(&s, 3, 5, GS_QUIC_RX_OK);
	t_every_cut(&s, 100);
	free(s.b);
}

/* A length of 0 is reported and the stream goes on; a too-big length
 * of the largest varint is reported without being read. */
static void
test_rx_empty_and_huge(void)
{
	struct gs_quic_rx	rx;
	struct t_got		g = { .n = 0 };
	uint8_t			b[32];
	size_t			n = 0;

	b[n++] = 0;				/* empty */
	b[n++] = 2; b[n++] = 'h'; b[n++] = 'i';
	b[n++] = 0x40; b[n++] = 0;		/* empty, 2-byte form */
	gs_quic_rx_init(&rx, 64);
	T_EQ_INT(gs_quic_rx_feed(&rx, b, n, t_collect, &g), 0);
	T_ASSERT(g.n == 3);
	T_CHECK(g.st[0] == GS_QUIC_RX_EMPTY && g.len[0] == 0 &&
	    g.at[0] == NULL);
	T_CHECK(g.st[1] == GS_QUIC_RX_OK && g.len[1] == 2 &&
	    memcmp(g.msg[1], "hi", 2) == 0);
	T_CHECK(g.st[2] == GS_QUIC_RX_EMPTY);
	t_got_free(&g);

	n = gs_quic_varint_put(b, GS_QUIC_VARINT_MAX);
	T_EQ_INT(gs_quic_rx_feed(&rx, b, n, t_collect, &g), 0);
	T_ASSERT(g.n == 1);
	T_CHECK(g.st[0] == GS_QUIC_RX_TOOBIG &&
	    g.len[0] == (size_t)GS_QUIC_VARINT_MAX);
	/* Everything after it belongs to it. */
	T_CHECK(rx.skip == GS_QUIC_VARINT_MAX);
	T_EQ_INT(gs_quic_rx_feed(&rx, b, 4, t_collect, &g), 0);
	T_EQ_INT(g.n, 1);
	t_got_free(&g);
	gs_quic_rx_free(&rx);
}

/* Whole messages in one receive are handed over where they lie, in
 * order; only one cut across receives is copied. */
static void
test_rx_in_place(void)
{
	struct gs_quic_rx	rx;
	struct t_got		g = { .n = 0 };
	uint8_t			b[64];
	size_t			n = 0;

	b[n++] = 3; memcpy(b + n, "one", 3); n += 3;
	b[n++] = 3; memcpy(b + n, "two", 3); n += 3;
	b[n++] = 5; memcpy(b + n, "three", 5); n += 5;
	b[n++] = 4; memcpy(b + n, "fo", 2); n += 2;	/* cut */
	gs_quic_rx_init(&rx, 64);
	T_EQ_INT(gs_quic_rx_feed(&rx, b, n, t_collect, &g), 0);
	T_ASSERT(g.n == 3);
	T_CHECK(g.at[0] == b + 1 && g.at[1] == b + 5 && g.at[2] == b + 9);
	T_CHECK(memcmp(g.msg[2], "three", 5) == 0);
	T_CHECK(rx.buf != NULL && rx.have == 2 && rx.want == 4);
	T_EQ_INT(gs_quic_rx_feed(&rx, (const uint8_t *)"ur", 2, t_collect,
	    &g), 0);
	T_ASSERT(g.n == 4);
	T_CHECK(g.len[3] == 4 && memcmp(g.msg[3], "four", 4) == 0);
	T_CHECK(rx.buf == NULL);
	t_got_free(&g);
	/* Freed with a message half read: no leak (ASan), reusable. */
	T_EQ_INT(gs_quic_rx_feed(&rx, b + 14, 3, t_collect, &g), 0);
	T_CHECK(rx.buf != NULL);
	gs_quic_rx_free(&rx);
	T_CHECK(rx.buf == NULL && rx.want == 0);
	T_EQ_INT(gs_quic_rx_feed(&rx, b, 4, t_collect, &g), 0);
	T_CHECK(g.n == 1 && g.len[0] == 3);
	t_got_free(&g);
	gs_quic_rx_free(&rx);
}

T_MAIN(T(test_varint_bounds), T(test_varint_rfc), T(test_varint_roundtrip),
    T(test_rx_every_cut), T(test_rx_bytewise), T(test_rx_toobig),
    T(test_rx_empty_and_huge), T(test_rx_in_place))
