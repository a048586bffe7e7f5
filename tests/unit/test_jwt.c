/*
 * Access tokens (lib/jwt.c): the RFC 8037 A.4 known answer, round
 * trips, every verification result with a token that differs from a
 * good one in that respect only, the boundaries of time and length,
 * and key files (fixed PEM data below, written to a temporary
 * directory: no openssl process).
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "b64.h"
#include "err.h"
#include "jwt.h"
#include "t.h"

#define NOW	1700000000LL

/* RFC 8037 A.1: d and x, as bytes. */
static const uint8_t rfc_d[32] = {
	0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
	0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
	0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
};
static const uint8_t rfc_x[32] = {
	0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
	0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
	0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
};
/* sha256(x)[0..8) in hex */
#define RFC_KID	"21fe31dfa154a261"

/* Made once with openssl genpkey -algorithm ed25519 / pkey -pubout;
 * KEY_A_KID and KEY_B_KID computed apart (Python hashlib) from the raw
 * public keys. */
static const char key_a_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIC3NP4J+g0XEdjHtyMSgG+aWsr5wePAbAGTKqtmOtPob\n"
    "-----END PRIVATE KEY-----\n";
static const char key_a_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAo+RcV1ShlWmG9WWOLtnRSsaCGJWxkBk+di5riv6waYw=\n"
    "-----END PUBLIC KEY-----\n";
#define KEY_A_KID	"e4f7582d4561a6b3"
static const char key_b_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAluYkR4Q0TFp+jmWBSGkKUS0g3rOAB8hNdAj+D/w/KRc=\n"
    "-----END PUBLIC KEY-----\n";
#define KEY_B_KID	"ff725360a677259a"
/* A P-256 key: a private key of the wrong kind. */
static const char key_ec_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgTItayH+vvSBi/PP4\n"
    "ZW3hcuKitAlrg7TZSqPeV9ogC1ehRANCAASt5dgi9cPt5rXbSkyjpP6HXrabGQl+\n"
    "nVG+j7Z7JdFNf6K+WEOH9xkrAP75bOfARgu182jJ99Ffcf0HKyYz8rMa\n"
    "-----END PRIVATE KEY-----\n";

static const struct gs_jwt_claims good = {
	.sub = 42, .name = "ann.b-c_9", .sid = 7,
	.iat = NOW - 60, .exp = NOW + 840,
};

/* The RFC key as signer and its public key as the only key of *k. */
static struct gs_jwt_signer *
setup(struct gs_jwt_keys **k)
{
	struct gs_jwt_signer	*s = NULL;

	*k = NULL;
	if (gs_jwt_signer_from_seed(&s, rfc_d) != GS_JWT_OK)
		return NULL;
	if ((*k = gs_jwt_keys_new()) == NULL ||
	    gs_jwt_keys_add(*k, rfc_x) != GS_JWT_OK) {
		gs_jwt_signer_free(s);
		gs_jwt_keys_free(*k);
		return NULL;
	}
	return s;
}

static void
teardown(struct gs_jwt_signer *s, struct gs_jwt_keys *k)
{
	gs_jwt_signer_free(s);
	gs_jwt_keys_free(k);
}

/* A validly signed token of header and payload JSON text. */
static int
raw(struct gs_jwt_signer *s, const char *hdr, const char *pay, char *out,
    size_t cap)
{
	return gs_jwt_sign_raw(s, hdr, strlen(hdr), pay, strlen(pay), out,
	    cap, NULL);
}

/* The header gs_jwt_sign writes for the RFC key. */
#define HDR	"{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"" RFC_KID "\"}"
#define CLAIMS(sub, name, sid, iat, exp)				\
	"{\"sub\":" sub ",\"name\":" name ",\"sid\":" sid		\
	",\"iat\":" iat ",\"exp\":" exp "}"
#define PAY	CLAIMS("\"42\"", "\"ann\"", "\"7\"", "1699999940", \
	"1700000840")

/* Verify hdr.pay signed with the RFC key at NOW, leeway 0. */
static int
verify_raw(const char *hdr, const char *pay)
{
	struct gs_jwt_keys	*k;
	struct gs_jwt_signer	*s;
	struct gs_jwt_claims	 c;
	char			 tok[GS_JWT_MAXLEN + 1];
	int			 err;

	if ((s = setup(&k)) == NULL)
		return -1;
	if ((err = raw(s, hdr, pay, tok, sizeof(tok))) == GS_JWT_OK)
		err = gs_jwt_verify(k, tok, strlen(tok), NOW, 0, &c);
	else
		err = -2;
	teardown(s, k);
	return err;
}

static int
verify_text(struct gs_jwt_keys *k, const char *tok)
{
	struct gs_jwt_claims	c;

	return gs_jwt_verify(k, tok, strlen(tok), NOW, 0, &c);
}

static void
test_rfc8037(void)
{
	struct gs_jwt_keys	*k;
	struct gs_jwt_signer	*s;
	uint8_t			 pub[GS_JWT_PUB_LEN];
	char			 tok[GS_JWT_MAXLEN + 1];
	size_t			 len;

	T_ASSERT((s = setup(&k)) != NULL);
	gs_jwt_signer_public(s, pub);
	T_CHECK(memcmp(pub, rfc_x, sizeof(pub)) == 0);
	T_CHECK(strcmp(gs_jwt_signer_kid(s), RFC_KID) == 0);
	T_EQ_INT(raw(s, "{\"alg\":\"EdDSA\"}", "Example of Ed25519 signing",
	    tok, sizeof(tok)), GS_JWT_OK);
	T_CHECK(strcmp(tok, "eyJhbGciOiJFZERTQSJ9."
	    "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
	    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5B"
	    "hVsPt9g7sVvpAr_MuM0KAg") == 0);
	/* A.5's token carries no kid: no key is picked for it */
	T_EQ_INT(verify_text(k, tok), GS_JWT_EKID);
	T_EQ_INT(gs_jwt_sign_raw(s, "{}", 2, "x", 1, tok, sizeof(tok), &len),
	    GS_JWT_OK);
	T_EQ_INT(len, strlen(tok));
	teardown(s, k);
}

/* The text of part i (0 header, 1 payload) of tok, decoded. */
static int
part(const char *tok, int i, char *out, size_t cap)
{
	const char	*p = tok, *e;
	size_t		 n;

	while (i-- > 0)
		p = strchr(p, '.') + 1;
	e = strchr(p, '.');
	if (gs_b64_decode(GS_B64_URL, p, (size_t)(e - p), (uint8_t *)out,
	    cap - 1, &n) != GS_OK)
		return -1;
	out[n] = '\0';
	return 0;
}

static void
test_round_trip(void)
{
	struct gs_jwt_keys	*k;
	struct gs_jwt_signer	*s;
	struct gs_jwt_claims	 c, big;
	char			 tok[GS_JWT_MAXLEN + 1], text[GS_JWT_MAXLEN];
	size_t			 len;

	T_ASSERT((s = setup(&k)) != NULL);
	T_EQ_INT(gs_jwt_sign(s, &good, tok, sizeof(tok), &len), GS_JWT_OK);
	T_EQ_INT(len, strlen(tok));
	T_EQ_INT(part(tok, 0, text, sizeof(text)), 0);
	T_CHECK(strcmp(text, HDR) == 0);
	T_EQ_INT(part(tok, 1, text, sizeof(text)), 0);
	T_CHECK(strcmp(text, "{\"sub\":\"42\",\"name\":\"ann.b-c_9\","
	    "\"sid\":\"7\",\"iat\":1699999940,\"exp\":1700000840}") == 0);
	memset(&c, 0xee, sizeof(c));
	T_EQ_INT(gs_jwt_verify(k, tok, len, NOW, 0, &c), GS_JWT_OK);
	T_EQ_INT(c.sub, 42);
	T_EQ_INT(c.sid, 7);
	T_CHECK(strcmp(c.name, "ann.b-c_9") == 0);
	T_EQ_INT(c.iat, good.iat);
	T_EQ_INT(c.exp, good.exp);

	/* The extremes of every field. */
	big = good;
	big.sub = UINT64_MAX;
	big.sid = UINT64_MAX;
	memset(big.name, 'Z', GS_JWT_NAME_MAX);
	big.name[GS_JWT_NAME_MAX] = '\0';
	big.iat = 0;
	big.exp = 9007199254740991LL;
	T_EQ_INT(gs_jwt_sign(s, &big, tok, sizeof(tok), &len), GS_JWT_OK);
	T_EQ_INT(gs_jwt_verify(k, tok, len, NOW, 0, &c), GS_JWT_OK);
	T_CHECK(c.sub == UINT64_MAX && c.sid == UINT64_MAX);
	T_CHECK(strcmp(c.name, big.name) == 0);
	T_EQ_INT(c.exp, big.exp);
	T_EQ_INT(c.iat, 0);
	teardown(s, k);
}

/* A token that verifies, then the same with one thing changed. */
static void
test_tampered(void)
{
	static const uint8_t	L[32] = {	/* the group order, LE */
		0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c,
		0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0x10,
	};
	struct gs_jwt_keys	*k;
	struct gs_jwt_signer	*s;
	struct gs_jwt_claims	 c, other = good;
	char			 tok[GS_JWT_MAXLEN + 1];
	char			 tok2[GS_JWT_MAXLEN + 1];
	char			 tok3[2 * GS_JWT_MAXLEN], h64[128];
	char			*sig, *sig2, *dot;
	uint8_t			 raw_sig[64];
	size_t			 n;
	unsigned		 carry, i;

	T_ASSERT((s = setup(&k)) != NULL);
	T_ASSERT(gs_jwt_sign(s, &good, tok, sizeof(tok), NULL) == GS_JWT_OK);
	T_EQ_INT(verify_text(k, tok), GS_JWT_OK);
	sig = strrchr(tok, '.') + 1;

	/* another payload under the first token's signature */
	other.sub = 43;
	T_ASSERT(gs_jwt_sign(s, &other, tok2, sizeof(tok2), NULL) ==
	    GS_JWT_OK);
	sig2 = strrchr(tok2, '.') + 1;
	memcpy(sig2, sig, strlen(sig) + 1);
	T_EQ_INT(verify_text(k, tok2), GS_JWT_ESIG);

	/* one payload character changed */
	memcpy(tok2, tok, sizeof(tok));
	dot = strchr(tok2, '.');
	dot[5] = dot[5] == 'A' ? 'B' : 'A';
	T_EQ_INT(verify_text(k, tok2), GS_JWT_ESIG);

	/* one signature character changed, R and S */
	memcpy(tok2, tok, sizeof(tok));
	sig2 = strrchr(tok2, '.') + 1;
	sig2[10] = sig2[10] == 'A' ? 'B' : 'A';
	T_EQ_INT(verify_text(k, tok2), GS_JWT_ESIG);
	memcpy(tok2, tok, sizeof(tok));
	sig2 = strrchr(tok2, '.') + 1;
	sig2[60] = sig2[60] == 'A' ? 'B' : 'A';
	T_EQ_INT(verify_text(k, tok2), GS_JWT_ESIG);

	/* the same signature with S + L: valid in arithmetic, refused as
	 * not canonical (RFC 8032 §5.1.7) */
	memcpy(tok2, tok, sizeof(tok));
	sig2 = strrchr(tok2, '.') + 1;
	T_ASSERT(gs_b64_decode(GS_B64_URL, sig2, strlen(sig2), raw_sig,
	    sizeof(raw_sig), &n) == GS_OK && n == 64);
	for (carry = 0, i = 0; i < 32; i++) {
		carry += (unsigned)raw_sig[32 + i] + L[i];
		raw_sig[32 + i] = (uint8_t)carry;
		carry >>= 8;
	}
	T_ASSERT(gs_b64_encode(GS_B64_URL, raw_sig, 64, sig2,
	    sizeof(tok2) - (size_t)(sig2 - tok2), NULL) == GS_OK);
	T_EQ_INT(verify_text(k, tok2), GS_JWT_ESIG);

	/* another header, alg still EdDSA, under the signature made
	 * for the first */
	T_ASSERT(raw(s, "{\"alg\":\"EdDSA\",\"kid\":\"" RFC_KID "\"}", PAY,
	    tok2, sizeof(tok2)) == GS_JWT_OK);
	T_ASSERT(gs_b64_encode(GS_B64_URL, HDR, strlen(HDR), h64,
	    sizeof(h64), NULL) == GS_OK);
	(void)snprintf(tok3, sizeof(tok3), "%s%s", h64, strchr(tok2, '.'));
	T_EQ_INT(verify_text(k, tok3), GS_JWT_ESIG);

	/* and the untouched token still verifies: nothing above was
	 * refused for a reason other than the change */
	T_EQ_INT(gs_jwt_verify(k, tok, strlen(tok), NOW, 0, &c), GS_JWT_OK);
	teardown(s, k);
}

static void
test_alg(void)
{
	struct gs_jwt_keys	*k;
	struct gs_jwt_signer	*s;
	char			 tok[GS_JWT_MAXLEN + 1], *dot;

	T_EQ_INT(verify_raw(HDR, PAY), GS_JWT_OK);
	T_EQ_INT(verify_raw("{\"alg\":\"none\",\"kid\":\"" RFC_KID "\"}",
	    PAY), GS_JWT_EALG);
	T_EQ_INT(verify_raw("{\"alg\":\"HS256\",\"kid\":\"" RFC_KID "\"}",
	    PAY), GS_JWT_EALG);
	T_EQ_INT(verify_raw("{\"alg\":\"Ed25519\",\"kid\":\"" RFC_KID "\"}",
	    PAY), GS_JWT_EALG);
	T_EQ_INT(verify_raw("{\"alg\":\"eddsa\",\"kid\":\"" RFC_KID "\"}",
	    PAY), GS_JWT_EALG);
	T_EQ_INT(verify_raw("{\"kid\":\"" RFC_KID "\"}", PAY), GS_JWT_EALG);
	T_EQ_INT(verify_raw("{\"alg\":null,\"kid\":\"" RFC_KID "\"}", PAY),
	    GS_JWT_EALG);
	T_EQ_INT(verify_raw("{\"alg\":[\"EdDSA\"],\"kid\":\"" RFC_KID "\"}",
	    PAY), GS_JWT_EALG);

	/* The classic: alg none and no signature at all. */
	T_ASSERT((s = setup(&k)) != NULL);
	T_ASSERT(raw(s, "{\"alg\":\"none\",\"kid\":\"" RFC_KID "\"}", PAY,
	    tok, sizeof(tok)) == GS_JWT_OK);
	dot = strrchr(tok, '.');
	dot[1] = '\0';
	T_EQ_INT(verify_text(k, tok), GS_JWT_EMALFORMED);
	teardown(s, k);
}

static void
test_kid(void)
{
	struct gs_jwt_keys	*k;
	struct gs_jwt_signer	*s, *s2;
	struct gs_jwt_claims	 c;
	uint8_t			 seed2[32], pub2[32];
	char			 tok[GS_JWT_MAXLEN + 1];

	T_EQ_INT(verify_raw("{\"alg\":\"EdDSA\"}", PAY), GS_JWT_EKID);
	T_EQ_INT(verify_raw("{\"alg\":\"EdDSA\",\"kid\":\"0000000000000000\"}",
	    PAY), GS_JWT_EKID);
	T_EQ_INT(verify_raw("{\"alg\":\"EdDSA\",\"kid\":\"21FE31DFA154A261\"}",
	    PAY), GS_JWT_EKID);
	T_EQ_INT(verify_raw("{\"alg\":\"EdDSA\",\"kid\":21}", PAY),
	    GS_JWT_EKID);

	/* A second signer: unknown until its key joins the set, then
	 * tokens of both keys verify (rotation). */
	T_ASSERT((s = setup(&k)) != NULL);
	memset(seed2, 0x5a, sizeof(seed2));
	T_ASSERT(gs_jwt_signer_from_seed(&s2, seed2) == GS_JWT_OK);
	T_CHECK(strcmp(gs_jwt_signer_kid(s2), RFC_KID) != 0);
	T_ASSERT(gs_jwt_sign(s2, &good, tok, sizeof(tok), NULL) == GS_JWT_OK);
	T_EQ_INT(verify_text(k, tok), GS_JWT_EKID);
	gs_jwt_signer_public(s2, pub2);
	T_EQ_INT(gs_jwt_keys_add(k, pub2), GS_JWT_OK);
	T_EQ_INT(gs_jwt_keys_count(k), 2);
	T_EQ_INT(gs_jwt_verify(k, tok, strlen(tok), NOW, 0, &c), GS_JWT_OK);
	T_ASSERT(gs_jwt_sign(s, &good, tok, sizeof(tok), NULL) == GS_JWT_OK);
	T_EQ_INT(gs_jwt_verify(k, tok, strlen(tok), NOW, 0, &c), GS_JWT_OK);
	/* the same key twice is a mistake in the configuration */
	T_EQ_INT(gs_jwt_keys_add(k, pub2), GS_JWT_EKEY);
	T_EQ_INT(gs_jwt_keys_count(k), 2);
	gs_jwt_signer_free(s2);
	teardown(s, k);
}

static void
test_time(void)
{
	struct gs_jwt_keys	*k;
	struct gs_jwt_signer	*s;
	struct gs_jwt_claims	 c, t = good;
	char			 tok[GS_JWT_MAXLEN + 1];
	size_t			 n;

	T_ASSERT((s = setup(&k)) != NULL);
	t.iat = 1000;
	t.exp = 2000;
	T_ASSERT(gs_jwt_sign(s, &t, tok, sizeof(tok), &n) == GS_JWT_OK);
	/* exp <= now - leeway: expired */
	T_EQ_INT(gs_jwt_verify(k, tok, n, 1999, 0, &c), GS_JWT_OK);
	T_EQ_INT(gs_jwt_verify(k, tok, n, 2000, 0, &c), GS_JWT_EEXPIRED);
	T_EQ_INT(gs_jwt_verify(k, tok, n, 2029, 30, &c), GS_JWT_OK);
	T_EQ_INT(gs_jwt_verify(k, tok, n, 2030, 30, &c), GS_JWT_EEXPIRED);
	T_EQ_INT(gs_jwt_verify(k, tok, n, NOW, 30, &c), GS_JWT_EEXPIRED);
	/* iat > now + leeway: not yet valid */
	T_EQ_INT(gs_jwt_verify(k, tok, n, 1000, 0, &c), GS_JWT_OK);
	T_EQ_INT(gs_jwt_verify(k, tok, n, 999, 0, &c), GS_JWT_ENOTYET);
	T_EQ_INT(gs_jwt_verify(k, tok, n, 970, 30, &c), GS_JWT_OK);
	T_EQ_INT(gs_jwt_verify(k, tok, n, 969, 30, &c), GS_JWT_ENOTYET);
	T_EQ_INT(gs_jwt_verify(k, tok, n, 0, 30, &c), GS_JWT_ENOTYET);
	/* leeway clamped into 0..GS_JWT_LEEWAY_MAX */
	T_EQ_INT(gs_jwt_verify(k, tok, n, 999, -5, &c), GS_JWT_ENOTYET);
	T_EQ_INT(gs_jwt_verify(k, tok, n, 2000, -5, &c), GS_JWT_EEXPIRED);
	T_EQ_INT(gs_jwt_verify(k, tok, n, 2000 + GS_JWT_LEEWAY_MAX - 1,
	    INT64_MAX, &c), GS_JWT_OK);
	T_EQ_INT(gs_jwt_verify(k, tok, n, 2000 + GS_JWT_LEEWAY_MAX,
	    INT64_MAX, &c), GS_JWT_EEXPIRED);
	T_EQ_INT(gs_jwt_verify(k, tok, n, INT64_MIN, INT64_MAX, &c),
	    GS_JWT_ENOTYET);
	T_EQ_INT(gs_jwt_verify(k, tok, n, INT64_MAX, INT64_MAX, &c),
	    GS_JWT_EEXPIRED);
	/* a good token that has expired is reported as such, not as bad */
	T_EQ_INT(gs_jwt_verify(k, tok, n, 5000, 0, &c), GS_JWT_EEXPIRED);
	teardown(s, k);
}

static void
test_malformed(void)
{
	struct gs_jwt_keys	*k;
	struct gs_jwt_signer	*s;
	struct gs_jwt_claims	 c;
	char			 tok[GS_JWT_MAXLEN + 1], bad[2 * GS_JWT_MAXLEN];
	char			*d1, *d2;
	uint8_t			 sig[65];
	size_t			 n, sl;

	T_ASSERT((s = setup(&k)) != NULL);
	T_ASSERT(gs_jwt_sign(s, &good, tok, sizeof(tok), &n) == GS_JWT_OK);
	d1 = strchr(tok, '.');
	d2 = strrchr(tok, '.');

	/* base64url: a character of another alphabet in each part,
	 * padding, whitespace */
#define WITH(pos, ch) do {						\
	memcpy(bad, tok, n + 1);					\
	bad[(pos) - tok] = (ch);					\
	T_EQ_INT(gs_jwt_verify(k, bad, n, NOW, 0, &c),			\
	    GS_JWT_EMALFORMED);						\
} while (0)
	WITH(tok + 3, '+');
	WITH(d1 + 3, '/');
	WITH(d2 + 3, '=');
	WITH(d1 - 1, '=');
	WITH(d2 + 20, ' ');
	WITH(d1 + 1, '\0');
#undef WITH
	/* base64url with nonzero unused bits in the signature's last
	 * character: same bytes, other text */
	memcpy(bad, tok, n + 1);
	bad[n - 1] = bad[n - 1] == 'A' ? 'B' : bad[n - 1] ^ 1;
	T_EQ_INT(verify_text(k, bad), GS_JWT_EMALFORMED);

	/* dots: too few, too many, empty parts */
	T_EQ_INT(verify_text(k, ""), GS_JWT_EMALFORMED);
	T_EQ_INT(verify_text(k, "."), GS_JWT_EMALFORMED);
	T_EQ_INT(verify_text(k, ".."), GS_JWT_EMALFORMED);
	memcpy(bad, tok, (size_t)(d2 - tok));
	bad[d2 - tok] = '\0';
	T_EQ_INT(verify_text(k, bad), GS_JWT_EMALFORMED);	/* h.p */
	(void)snprintf(bad, sizeof(bad), "%s.", tok);
	T_EQ_INT(verify_text(k, bad), GS_JWT_EMALFORMED);	/* h.p.s. */
	(void)snprintf(bad, sizeof(bad), "%s.%s", tok, d2 + 1);
	T_EQ_INT(verify_text(k, bad), GS_JWT_EMALFORMED);	/* h.p.s.s */
	(void)snprintf(bad, sizeof(bad), "%.*s.%s", (int)(d1 - tok), tok,
	    d1);
	T_EQ_INT(verify_text(k, bad), GS_JWT_EMALFORMED);	/* h..p.s */
	(void)snprintf(bad, sizeof(bad), "%s", d1);
	T_EQ_INT(verify_text(k, bad), GS_JWT_EMALFORMED);	/* .p.s */
	(void)snprintf(bad, sizeof(bad), "%.*s.%s", (int)(d1 - tok), tok,
	    d2);
	T_EQ_INT(verify_text(k, bad), GS_JWT_EMALFORMED);	/* h..s */
	/* a signature of 63 and of 65 bytes, canonical base64url */
	T_ASSERT(gs_b64_decode(GS_B64_URL, d2 + 1, strlen(d2 + 1), sig,
	    sizeof(sig) - 1, &sl) == GS_OK && sl == 64);
	memcpy(bad, tok, (size_t)(d2 + 1 - tok));
	T_ASSERT(gs_b64_encode(GS_B64_URL, sig, 63, bad + (d2 + 1 - tok),
	    sizeof(bad) - (size_t)(d2 + 1 - tok), NULL) == GS_OK);
	T_EQ_INT(verify_text(k, bad), GS_JWT_EMALFORMED);
	sig[64] = 0;
	T_ASSERT(gs_b64_encode(GS_B64_URL, sig, 65, bad + (d2 + 1 - tok),
	    sizeof(bad) - (size_t)(d2 + 1 - tok), NULL) == GS_OK);
	T_EQ_INT(verify_text(k, bad), GS_JWT_EMALFORMED);

	/* the length is capped before anything is decoded */
	memset(bad, 'A', GS_JWT_MAXLEN + 1);
	bad[GS_JWT_MAXLEN + 1] = '\0';
	T_EQ_INT(verify_text(k, bad), GS_JWT_ETOOBIG);
	T_EQ_INT(gs_jwt_verify(k, tok, GS_JWT_MAXLEN + 1, NOW, 0, &c),
	    GS_JWT_ETOOBIG);
	teardown(s, k);

	/* JSON that is not one object, validly signed */
	T_EQ_INT(verify_raw("[\"EdDSA\"]", PAY), GS_JWT_EMALFORMED);
	T_EQ_INT(verify_raw("\"EdDSA\"", PAY), GS_JWT_EMALFORMED);
	T_EQ_INT(verify_raw("{\"alg\":\"EdDSA\"", PAY), GS_JWT_EMALFORMED);
	T_EQ_INT(verify_raw(HDR "x", PAY), GS_JWT_EMALFORMED);
	T_EQ_INT(verify_raw(HDR, "[1]"), GS_JWT_EMALFORMED);
	T_EQ_INT(verify_raw(HDR, "42"), GS_JWT_EMALFORMED);
	T_EQ_INT(verify_raw(HDR, "null"), GS_JWT_EMALFORMED);
	T_EQ_INT(verify_raw(HDR, "Example of Ed25519 signing"),
	    GS_JWT_EMALFORMED);
	T_EQ_INT(verify_raw(HDR, PAY " {}"), GS_JWT_EMALFORMED);
	T_EQ_INT(verify_raw(HDR, "{\"sub\":\"42\",\"sub\":\"43\"}"),
	    GS_JWT_EMALFORMED);			/* duplicate member */
	T_EQ_INT(verify_raw(HDR, "{\"name\":\"\xff\"}"), GS_JWT_EMALFORMED);
	/* header members we do not take */
	T_EQ_INT(verify_raw("{\"alg\":\"EdDSA\",\"kid\":\"" RFC_KID
	    "\",\"crit\":[\"exp\"]}", PAY), GS_JWT_EMALFORMED);
	T_EQ_INT(verify_raw("{\"alg\":\"EdDSA\",\"kid\":\"" RFC_KID
	    "\",\"typ\":\"at+jwt\"}", PAY), GS_JWT_EMALFORMED);
	T_EQ_INT(verify_raw("{\"alg\":\"EdDSA\",\"kid\":\"" RFC_KID
	    "\",\"alg\":\"EdDSA\"}", PAY), GS_JWT_EMALFORMED);
	/* and those we ignore */
	T_EQ_INT(verify_raw("{\"alg\":\"EdDSA\",\"kid\":\"" RFC_KID
	    "\",\"x5u\":\"http://a\"}", PAY), GS_JWT_OK);
}

/* The longest token sign_raw makes verifies; a byte more is refused. */
static void
test_length(void)
{
	struct gs_jwt_keys	*k;
	struct gs_jwt_signer	*s;
	struct gs_jwt_claims	 c;
	char			 tok[GS_JWT_MAXLEN + 1], pay[GS_JWT_MAXLEN];
	size_t			 pad, len, best = 0, n;
	int			 err = GS_JWT_OK;

	T_ASSERT((s = setup(&k)) != NULL);
	for (pad = 0; pad < GS_JWT_MAXLEN && err == GS_JWT_OK; pad++) {
		n = (size_t)snprintf(pay, sizeof(pay), "%.*s,\"pad\":\"%*s\"}",
		    (int)strlen(PAY) - 1, PAY, (int)pad, "");
		err = gs_jwt_sign_raw(s, HDR, strlen(HDR), pay, n, tok,
		    sizeof(tok), &len);
		if (err == GS_JWT_OK) {
			T_EQ_INT(gs_jwt_verify(k, tok, len, NOW, 0, &c),
			    GS_JWT_OK);
			best = len;
		}
	}
	T_EQ_INT(err, GS_JWT_ETOOBIG);
	T_CHECK(best >= GS_JWT_MAXLEN - 1 && best <= GS_JWT_MAXLEN);

	/* output capacity: the exact size and one short */
	T_ASSERT(gs_jwt_sign(s, &good, tok, sizeof(tok), &len) == GS_JWT_OK);
	T_EQ_INT(gs_jwt_sign(s, &good, tok, len + 1, &n), GS_JWT_OK);
	T_EQ_INT(n, len);
	T_EQ_INT(gs_jwt_sign(s, &good, tok, len, &n), GS_JWT_ETOOBIG);
	T_EQ_INT(gs_jwt_sign(s, &good, tok, 0, &n), GS_JWT_ETOOBIG);
	teardown(s, k);
}

static void
test_claims(void)
{
	struct gs_jwt_keys	*k;
	struct gs_jwt_signer	*s;
	struct gs_jwt_claims	 t;
	char			 tok[GS_JWT_MAXLEN + 1];
	size_t			 i;
	static const char *const bad[] = {
		/* sub not a digit string */
		CLAIMS("42", "\"ann\"", "\"7\"", "1", "2"),
		CLAIMS("\"42a\"", "\"ann\"", "\"7\"", "1", "2"),
		CLAIMS("\"-42\"", "\"ann\"", "\"7\"", "1", "2"),
		CLAIMS("\"+42\"", "\"ann\"", "\"7\"", "1", "2"),
		CLAIMS("\" 42\"", "\"ann\"", "\"7\"", "1", "2"),
		CLAIMS("\"042\"", "\"ann\"", "\"7\"", "1", "2"),
		CLAIMS("\"0\"", "\"ann\"", "\"7\"", "1", "2"),
		CLAIMS("\"\"", "\"ann\"", "\"7\"", "1", "2"),
		CLAIMS("\"18446744073709551616\"", "\"ann\"", "\"7\"", "1",
		    "2"),
		CLAIMS("\"99999999999999999999\"", "\"ann\"", "\"7\"", "1",
		    "2"),
		CLAIMS("\"4e2\"", "\"ann\"", "\"7\"", "1", "2"),
		CLAIMS("null", "\"ann\"", "\"7\"", "1", "2"),
		/* sid the same */
		CLAIMS("\"42\"", "\"ann\"", "7", "1", "2"),
		CLAIMS("\"42\"", "\"ann\"", "\"0\"", "1", "2"),
		CLAIMS("\"42\"", "\"ann\"", "\"7x\"", "1", "2"),
		/* name */
		CLAIMS("\"42\"", "\"\"", "\"7\"", "1", "2"),
		CLAIMS("\"42\"", "\"a b\"", "\"7\"", "1", "2"),
		CLAIMS("\"42\"", "\"\xc3\xa9\"", "\"7\"", "1", "2"),
		CLAIMS("\"42\"", "\"a/b\"", "\"7\"", "1", "2"),
		CLAIMS("\"42\"", "\"0123456789abcdef0123456789abcdefX\"",
		    "\"7\"", "1", "2"),
		CLAIMS("\"42\"", "\"a\\u0000b\"", "\"7\"", "1", "2"),
		CLAIMS("\"42\"", "42", "\"7\"", "1", "2"),
		/* times */
		CLAIMS("\"42\"", "\"ann\"", "\"7\"", "1.5", "2"),
		CLAIMS("\"42\"", "\"ann\"", "\"7\"", "1", "2.0"),
		CLAIMS("\"42\"", "\"ann\"", "\"7\"", "\"1\"", "2"),
		CLAIMS("\"42\"", "\"ann\"", "\"7\"", "-1", "2"),
		CLAIMS("\"42\"", "\"ann\"", "\"7\"", "2", "2"),
		CLAIMS("\"42\"", "\"ann\"", "\"7\"", "3", "2"),
		CLAIMS("\"42\"", "\"ann\"", "\"7\"", "1", "9007199254740992"),
		CLAIMS("\"42\"", "\"ann\"", "\"7\"", "1",
		    "99999999999999999999"),
		"{\"sub\":\"42\",\"name\":\"ann\",\"sid\":\"7\",\"iat\":1}",
		"{\"sub\":\"42\",\"name\":\"ann\",\"sid\":\"7\",\"exp\":2}",
		"{}",
	};

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int	err = verify_raw(HDR, bad[i]);

		/* jansson refuses \u0000 and numbers past its range
		 * as JSON: malformed, still refused */
		if (err != GS_JWT_ECLAIMS && err != GS_JWT_EMALFORMED)
			fprintf(stderr, "claims %zu: %s\n", i, bad[i]);
		T_CHECK(err == GS_JWT_ECLAIMS ||
		    (err == GS_JWT_EMALFORMED && (strstr(bad[i], "u0000") ||
		    strstr(bad[i], "99999999999999999999,") ||
		    strstr(bad[i], "99999999999999999999}"))));
	}
	/* a control: a good payload through the same path */
	T_EQ_INT(verify_raw(HDR, CLAIMS("\"42\"", "\"ann\"", "\"7\"", "1",
	    "2")), GS_JWT_EEXPIRED);
	T_EQ_INT(verify_raw(HDR, CLAIMS("\"42\"", "\"ann\"", "\"7\"",
	    "1699999999", "9007199254740991")), GS_JWT_OK);
	T_EQ_INT(verify_raw(HDR, "{\"sub\":\"42\",\"name\":\"ann\","
	    "\"sid\":\"7\",\"iat\":1699999999,\"exp\":1700000001,"
	    "\"aud\":\"x\",\"nested\":{\"a\":[1]}}"), GS_JWT_OK);

	/* signing refuses the same */
	T_ASSERT((s = setup(&k)) != NULL);
#define REFUSED(field, v) do {						\
	t = good;							\
	t.field = (v);							\
	T_EQ_INT(gs_jwt_sign(s, &t, tok, sizeof(tok), NULL),		\
	    GS_JWT_ECLAIMS);						\
} while (0)
	REFUSED(sub, 0);
	REFUSED(sid, 0);
	REFUSED(iat, -1);
	REFUSED(exp, good.iat);
	REFUSED(exp, 9007199254740992LL);
	REFUSED(name[0], '\0');
	REFUSED(name[1], ' ');
	REFUSED(name[1], '"');
	REFUSED(name[1], '\x80');
#undef REFUSED
	t = good;
	memset(t.name, 'a', sizeof(t.name));	/* no NUL within 33 */
	T_EQ_INT(gs_jwt_sign(s, &t, tok, sizeof(tok), NULL), GS_JWT_ECLAIMS);
	teardown(s, k);
}

/* ------------------------------------------------------- key files */

static char	tdir[200];

static const char *
put(const char *name, const char *text)
{
	static char	path[4][256];
	static int	next;
	char		*p = path[next++ % 4];
	FILE		*f;

	(void)snprintf(p, sizeof(path[0]), "%s/%s", tdir, name);
	if ((f = fopen(p, "w")) == NULL)
		return p;
	(void)fputs(text, f);
	(void)fclose(f);
	return p;
}

static void
test_pem(void)
{
	struct gs_jwt_signer	*s = NULL, *s2 = (void *)&s;
	struct gs_jwt_keys	*k, *k2;
	struct gs_jwt_claims	 c;
	char			 why[256], tok[GS_JWT_MAXLEN + 1], big[5000];
	uint8_t			 pub[32];
	const char		*p;
	int			 i;

	(void)snprintf(tdir, sizeof(tdir), "%s/test_jwt.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	T_ASSERT(mkdtemp(tdir) != NULL);
	T_ASSERT((k = gs_jwt_keys_new()) != NULL);
	T_ASSERT((k2 = gs_jwt_keys_new()) != NULL);

	/* a private key file signs; its public key file verifies */
	T_EQ_INT(gs_jwt_signer_load(&s, put("a.pem", key_a_pem), why,
	    sizeof(why)), GS_JWT_OK);
	T_ASSERT(s != NULL);
	T_CHECK(strcmp(gs_jwt_signer_kid(s), KEY_A_KID) == 0);
	T_EQ_INT(gs_jwt_keys_load(k, put("a.pub", key_a_pub), why,
	    sizeof(why)), GS_JWT_OK);
	T_EQ_INT(gs_jwt_keys_load(k, put("b.pub", key_b_pub), why,
	    sizeof(why)), GS_JWT_OK);
	T_EQ_INT(gs_jwt_keys_count(k), 2);
	T_ASSERT(gs_jwt_sign(s, &good, tok, sizeof(tok), NULL) == GS_JWT_OK);
	T_EQ_INT(gs_jwt_verify(k, tok, strlen(tok), NOW, 0, &c), GS_JWT_OK);
	/* the private key file verifies too (its public key derived) */
	T_EQ_INT(gs_jwt_keys_load(k2, put("a.pem", key_a_pem), why,
	    sizeof(why)), GS_JWT_OK);
	T_EQ_INT(gs_jwt_verify(k2, tok, strlen(tok), NOW, 0, &c), GS_JWT_OK);
	/* b's key alone does not */
	gs_jwt_keys_free(k2);
	T_ASSERT((k2 = gs_jwt_keys_new()) != NULL);
	T_EQ_INT(gs_jwt_keys_load(k2, put("b.pub", key_b_pub), why,
	    sizeof(why)), GS_JWT_OK);
	T_EQ_INT(gs_jwt_verify(k2, tok, strlen(tok), NOW, 0, &c),
	    GS_JWT_EKID);

	/* errors name the file and the reason; *out untouched */
#define LOAD_FAILS(call, reason) do {					\
	why[0] = '\0';							\
	T_EQ_INT((call), GS_JWT_EKEY);					\
	T_CHECK(strstr(why, "file=") == why);				\
	T_CHECK(strstr(why, tdir) != NULL);				\
	T_CHECK(strstr(why, "reason=" reason) != NULL);			\
	if (strstr(why, "reason=" reason) == NULL)			\
		fprintf(stderr, "why: %s\n", why);			\
} while (0)
	LOAD_FAILS(gs_jwt_keys_load(k, put("a2.pub", key_a_pub), why,
	    sizeof(why)), "duplicate_kid");
	LOAD_FAILS(gs_jwt_keys_load(k, put("a2.pem", key_a_pem), why,
	    sizeof(why)), "duplicate_kid");
	LOAD_FAILS(gs_jwt_signer_load(&s2, put("b.pub", key_b_pub), why,
	    sizeof(why)), "public_key_not_private");
	LOAD_FAILS(gs_jwt_signer_load(&s2, put("ec.pem", key_ec_pem), why,
	    sizeof(why)), "not_ed25519_private_key");
	LOAD_FAILS(gs_jwt_keys_load(k, put("ec.pem", key_ec_pem), why,
	    sizeof(why)), "not_ed25519_private_key");
	LOAD_FAILS(gs_jwt_signer_load(&s2, put("junk.pem", "hello\n"), why,
	    sizeof(why)), "no_pem_private_key");
	LOAD_FAILS(gs_jwt_keys_load(k, put("empty.pem", ""), why,
	    sizeof(why)), "no_pem_key");
	LOAD_FAILS(gs_jwt_keys_load(k, put("trunc.pem", "-----BEGIN PUBLIC"
	    " KEY-----\nMCowBQYDK2VwAyEAluYkR4Q0TFp+jmWBSGkKUS0g3rOAB8hNdAj+\n"
	    "-----END PUBLIC KEY-----\n"), why, sizeof(why)),
	    "not_ed25519_public_key");
	memset(big, '#', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	LOAD_FAILS(gs_jwt_keys_load(k, put("big.pem", big), why,
	    sizeof(why)), "file_too_large");
	p = put("none/x.pem", "");
	LOAD_FAILS(gs_jwt_signer_load(&s2, p, why, sizeof(why)), "open");
	LOAD_FAILS(gs_jwt_keys_load(k, tdir, why, sizeof(why)),
	    "not_a_regular_file");
	T_CHECK(s2 == (void *)&s);
	T_EQ_INT(gs_jwt_keys_count(k), 2);
	/* a short why is cut, not overrun; NULL is allowed */
	memset(why, 'x', sizeof(why));
	T_EQ_INT(gs_jwt_keys_load(k, p, why, 8), GS_JWT_EKEY);
	T_CHECK(strlen(why) == 7);
	T_EQ_INT(gs_jwt_keys_load(k, p, NULL, 0), GS_JWT_EKEY);

	/* the set holds GS_JWT_KEYS_MAX keys */
	for (i = 2; i < GS_JWT_KEYS_MAX; i++) {
		memset(pub, i, sizeof(pub));
		T_EQ_INT(gs_jwt_keys_add(k, pub), GS_JWT_OK);
	}
	memset(pub, 0x77, sizeof(pub));
	T_EQ_INT(gs_jwt_keys_add(k, pub), GS_JWT_EKEY);
	gs_jwt_keys_free(k);
	T_ASSERT((k = gs_jwt_keys_new()) != NULL);
	for (i = 0; i < GS_JWT_KEYS_MAX; i++) {
		memset(pub, i + 1, sizeof(pub));
		T_EQ_INT(gs_jwt_keys_add(k, pub), GS_JWT_OK);
	}
	LOAD_FAILS(gs_jwt_keys_load(k, put("a3.pub", key_a_pub), why,
	    sizeof(why)), "key_set_full");
#undef LOAD_FAILS

	gs_jwt_signer_free(s);
	gs_jwt_signer_free(NULL);
	gs_jwt_keys_free(k);
	gs_jwt_keys_free(k2);
	gs_jwt_keys_free(NULL);
	{
		static const char *const names[] = { "a.pem", "a.pub",
		    "b.pub", "a2.pub", "a2.pem", "ec.pem", "junk.pem",
		    "empty.pem", "trunc.pem", "big.pem", "a3.pub" };
		size_t	j;

		for (j = 0; j < sizeof(names) / sizeof(names[0]); j++)
			T_CHECK(unlink(put(names[j], "")) == 0);
		T_CHECK(rmdir(tdir) == 0);
	}
}

static void
test_err_names(void)
{
	int	i;

	for (i = 0; i < GS_JWT_ERR_MAX; i++)
		T_CHECK(strcmp(gs_jwt_err_name(i), "unknown") != 0);
	T_CHECK(strcmp(gs_jwt_err_name(GS_JWT_ERR_MAX), "unknown") == 0);
	T_CHECK(strcmp(gs_jwt_err_name(-1), "unknown") == 0);
	T_CHECK(strcmp(gs_jwt_err_name(GS_JWT_EEXPIRED), "expired") == 0);
}

T_MAIN(T(test_rfc8037), T(test_round_trip), T(test_tampered), T(test_alg),
    T(test_kid), T(test_time), T(test_malformed), T(test_length),
    T(test_claims), T(test_pem), T(test_err_names))
