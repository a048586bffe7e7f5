/*
 * Base64 (lib/b64.c): the RFC 4648 §10 vectors in the three variants,
 * round trips of every length and byte, and text the strict decoder
 * must refuse: other alphabet, bad padding, bad lengths, non-canonical
 * trailing bits, whitespace, a too small buffer.
 */
#include <stdint.h>
#include <string.h>

#include "b64.h"
#include "err.h"
#include "t.h"

static const struct {
	const char	*in;
	const char	*std;		/* §10, padded */
} rfc[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

/* src decodes under flags to exactly want[wn]. */
static int
decodes(int flags, const char *src, const void *want, size_t wn)
{
	uint8_t	buf[64];
	size_t	len = 12345;

	if (gs_b64_decode(flags, src, strlen(src), buf, sizeof(buf), &len) !=
	    GS_OK)
		return 0;
	return len == wn && memcmp(buf, want, wn) == 0;
}

/* src is refused under flags with err, *len untouched. */
static int
refused(int flags, const char *src, int err)
{
	uint8_t	buf[64];
	size_t	len = 12345;

	return gs_b64_decode(flags, src, strlen(src), buf, sizeof(buf),
	    &len) == err && len == 12345;
}

static void
test_rfc4648_vectors(void)
{
	char	out[16], unpadded[16];
	size_t	i, len, n;

	for (i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
		n = strlen(rfc[i].in);
		T_EQ_INT(gs_b64_enclen(GS_B64_STD, n), strlen(rfc[i].std));
		T_EQ_INT(gs_b64_encode(GS_B64_STD, rfc[i].in, n, out,
		    sizeof(out), &len), GS_OK);
		T_CHECK(strcmp(out, rfc[i].std) == 0);
		T_EQ_INT(len, strlen(rfc[i].std));
		T_CHECK(decodes(GS_B64_STD, rfc[i].std, rfc[i].in, n));

		/* The unpadded variants: the same text without '='; these
		 * inputs hold no character where the alphabets differ. */
		memcpy(unpadded, rfc[i].std, strlen(rfc[i].std) + 1);
		unpadded[strcspn(unpadded, "=")] = '\0';
		T_EQ_INT(gs_b64_enclen(GS_B64_URL, n), strlen(unpadded));
		T_EQ_INT(gs_b64_encode(GS_B64_URL, rfc[i].in, n, out,
		    sizeof(out), &len), GS_OK);
		T_CHECK(strcmp(out, unpadded) == 0);
		T_EQ_INT(len, strlen(unpadded));
		T_CHECK(decodes(GS_B64_URL, unpadded, rfc[i].in, n));
		T_EQ_INT(gs_b64_encode(GS_B64_STD_NOPAD, rfc[i].in, n, out,
		    sizeof(out), NULL), GS_OK);
		T_CHECK(strcmp(out, unpadded) == 0);
		T_CHECK(decodes(GS_B64_STD_NOPAD, unpadded, rfc[i].in, n));
	}
}

/* The two characters where the alphabets differ: 0xfb 0xff is "+/8"
 * in §4 and "-_8" in §5; each decoder refuses the other's. */
static void
test_alphabets(void)
{
	static const uint8_t	b[] = { 0xfb, 0xff };
	char			out[8];

	T_EQ_INT(gs_b64_encode(GS_B64_STD, b, 2, out, sizeof(out), NULL),
	    GS_OK);
	T_CHECK(strcmp(out, "+/8=") == 0);
	T_EQ_INT(gs_b64_encode(GS_B64_URL, b, 2, out, sizeof(out), NULL),
	    GS_OK);
	T_CHECK(strcmp(out, "-_8") == 0);
	T_EQ_INT(gs_b64_encode(GS_B64_STD_NOPAD, b, 2, out, sizeof(out),
	    NULL), GS_OK);
	T_CHECK(strcmp(out, "+/8") == 0);
	T_CHECK(decodes(GS_B64_STD, "+/8=", b, 2));
	T_CHECK(decodes(GS_B64_URL, "-_8", b, 2));
	T_CHECK(refused(GS_B64_STD, "-_8=", GS_EINVAL));
	T_CHECK(refused(GS_B64_URL, "+/8", GS_EINVAL));
	T_CHECK(refused(GS_B64_STD_NOPAD, "-_8", GS_EINVAL));
	/* each character alone */
	T_CHECK(refused(GS_B64_STD, "-/8=", GS_EINVAL));
	T_CHECK(refused(GS_B64_STD, "+_8=", GS_EINVAL));
	T_CHECK(refused(GS_B64_URL, "+_8", GS_EINVAL));
	T_CHECK(refused(GS_B64_URL, "-/8", GS_EINVAL));
}

/* Every length 0..48 of every byte value, in each variant. */
static void
test_round_trip(void)
{
	static const int	variants[] = { GS_B64_STD, GS_B64_URL,
	    GS_B64_STD_NOPAD };
	uint8_t			src[48], back[48];
	char			text[80];
	size_t			n, v, tl, bl, i;

	for (v = 0; v < 3; v++)
		for (n = 0; n <= sizeof(src); n++) {
			for (i = 0; i < n; i++)
				src[i] = (uint8_t)(i * 89 + n * 7 + v);
			T_ASSERT(gs_b64_encode(variants[v], src, n, text,
			    sizeof(text), &tl) == GS_OK);
			T_EQ_INT(tl, gs_b64_enclen(variants[v], n));
			T_EQ_INT(strlen(text), tl);
			T_ASSERT(gs_b64_decode(variants[v], text, tl, back,
			    sizeof(back), &bl) == GS_OK);
			T_EQ_INT(bl, n);
			T_CHECK(memcmp(back, src, n) == 0);
		}
	for (i = 0; i < 256; i++) {
		uint8_t	one = (uint8_t)i;

		T_ASSERT(gs_b64_encode(GS_B64_URL, &one, 1, text,
		    sizeof(text), &tl) == GS_OK);
		T_CHECK(decodes(GS_B64_URL, text, &one, 1));
	}
}

static void
test_padding(void)
{
	/* padded text needs its padding, unpadded text refuses it */
	T_CHECK(refused(GS_B64_STD, "Zg", GS_EINVAL));
	T_CHECK(refused(GS_B64_STD, "Zg=", GS_EINVAL));
	T_CHECK(refused(GS_B64_STD, "Zm8", GS_EINVAL));
	T_CHECK(refused(GS_B64_URL, "Zg==", GS_EINVAL));
	T_CHECK(refused(GS_B64_URL, "Zm8=", GS_EINVAL));
	T_CHECK(refused(GS_B64_STD_NOPAD, "Zg==", GS_EINVAL));
	/* '=' where no padding may be */
	T_CHECK(refused(GS_B64_STD, "Zm9v====", GS_EINVAL));
	T_CHECK(refused(GS_B64_STD, "Zg===", GS_EINVAL));
	T_CHECK(refused(GS_B64_STD, "Z===", GS_EINVAL));
	T_CHECK(refused(GS_B64_STD, "====", GS_EINVAL));
	T_CHECK(refused(GS_B64_STD, "Zg==Zm8=", GS_EINVAL));
	T_CHECK(refused(GS_B64_STD, "Z=g=", GS_EINVAL));
	T_CHECK(refused(GS_B64_STD, "=Zm9", GS_EINVAL));
	/* one character past a group is never a byte */
	T_CHECK(refused(GS_B64_URL, "Z", GS_EINVAL));
	T_CHECK(refused(GS_B64_URL, "Zm9vY", GS_EINVAL));
	T_CHECK(refused(GS_B64_STD_NOPAD, "Zm9vY", GS_EINVAL));
}

/* "Zg" is "f"; "Zh".."Zv" carry the same byte with nonzero unused
 * bits, as do "Zm9" and "Zm+": one accepted text per byte string. */
static void
test_trailing_bits(void)
{
	T_CHECK(decodes(GS_B64_URL, "Zg", "f", 1));
	T_CHECK(refused(GS_B64_URL, "Zh", GS_EINVAL));
	T_CHECK(refused(GS_B64_URL, "Zv", GS_EINVAL));
	T_CHECK(refused(GS_B64_STD, "Zh==", GS_EINVAL));
	T_CHECK(decodes(GS_B64_URL, "Zm8", "fo", 2));
	T_CHECK(refused(GS_B64_URL, "Zm9", GS_EINVAL));
	T_CHECK(refused(GS_B64_STD, "Zm9=", GS_EINVAL));
	T_CHECK(refused(GS_B64_STD_NOPAD, "Zm+", GS_EINVAL));
}

static void
test_garbage(void)
{
	uint8_t	buf[8];
	size_t	len = 7;

	T_CHECK(refused(GS_B64_STD, "Zm9v\n", GS_EINVAL));
	T_CHECK(refused(GS_B64_STD, "Zm 9v", GS_EINVAL));
	T_CHECK(refused(GS_B64_STD, "Zm9v Zg==", GS_EINVAL));
	T_CHECK(refused(GS_B64_URL, "Zm9v.", GS_EINVAL));
	T_CHECK(refused(GS_B64_URL, " Zm9", GS_EINVAL));
	T_CHECK(refused(GS_B64_URL, "Zm\x80v", GS_EINVAL));
	T_CHECK(refused(GS_B64_URL, "Zm9\xff", GS_EINVAL));
	T_CHECK(refused(GS_B64_STD, "Zm9*", GS_EINVAL));
	/* a NUL inside the counted text is a bad character, not an end */
	T_EQ_INT(gs_b64_decode(GS_B64_URL, "Zm\0v", 4, buf, sizeof(buf),
	    &len), GS_EINVAL);
	T_EQ_INT(len, 7);
	/* the empty text is the empty string */
	T_EQ_INT(gs_b64_decode(GS_B64_URL, "", 0, buf, 0, &len), GS_OK);
	T_EQ_INT(len, 0);
}

/* Output caps: exact fits, one short, and nothing written when short. */
static void
test_caps(void)
{
	uint8_t	buf[6];
	char	out[9];
	size_t	len = 99;

	memset(out, 'x', sizeof(out));
	T_EQ_INT(gs_b64_encode(GS_B64_STD, "foobar", 6, out, 8, &len),
	    GS_ETOOBIG);			/* 8 characters + NUL */
	T_EQ_INT(len, 99);
	T_CHECK(out[0] == 'x');
	T_EQ_INT(gs_b64_encode(GS_B64_STD, "foobar", 6, out, 9, &len), GS_OK);
	T_EQ_INT(len, 8);
	T_EQ_INT(gs_b64_encode(GS_B64_URL, "f", 1, out, 2, &len), GS_ETOOBIG);
	T_EQ_INT(gs_b64_encode(GS_B64_URL, "f", 1, out, 0, &len), GS_ETOOBIG);
	T_EQ_INT(gs_b64_encode(GS_B64_URL, "", 0, out, 1, &len), GS_OK);
	T_EQ_INT(len, 0);
	T_CHECK(out[0] == '\0');

	memset(buf, 0xaa, sizeof(buf));
	len = 99;
	T_EQ_INT(gs_b64_decode(GS_B64_STD, "Zm9vYmFy", 8, buf, 5, &len),
	    GS_ETOOBIG);
	T_EQ_INT(len, 99);
	T_CHECK(buf[0] == 0xaa);
	T_EQ_INT(gs_b64_decode(GS_B64_STD, "Zm9vYmE=", 8, buf, 5, &len),
	    GS_OK);
	T_EQ_INT(len, 5);
	T_EQ_INT(gs_b64_decode(GS_B64_URL, "Zm9vYmE", 7, buf, 4, &len),
	    GS_ETOOBIG);
	T_EQ_INT(gs_b64_enclen(GS_B64_STD, SIZE_MAX), SIZE_MAX);
	T_EQ_INT(gs_b64_enclen(GS_B64_URL, SIZE_MAX / 4 * 3), SIZE_MAX);
	T_EQ_INT(gs_b64_encode(GS_B64_URL, "", SIZE_MAX, out, sizeof(out),
	    &len), GS_ETOOBIG);
}

T_MAIN(T(test_rfc4648_vectors), T(test_alphabets), T(test_round_trip),
    T(test_padding), T(test_trailing_bits), T(test_garbage), T(test_caps))
