/*
 * Password hashes (cmd/gs-persist/pwhash.c): wolfCrypt's scrypt pinned
 * to RFC 7914 §12, stored strings made elsewhere (Python's hashlib)
 * checked here, round trips with small parameters (ln=4) for speed,
 * each field of a stored string broken in turn, the bounds on
 * parameters, and several threads at once.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/pwdbased.h>

#include "../../cmd/gs-persist/pwhash.h"
#include "t.h"

static const struct gs_pwhash_params fast = { .ln = 4, .r = 8, .p = 1 };

/* 88 characters: 66 bytes in base64; from the third on, 64 bytes. */
#define A88	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAA"

/* Made with Python 3's hashlib.scrypt (OpenSSL), salt bytes 0..15. */
#define KNOWN	"$scrypt$ln=4,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$" \
		"IZMORLo+NKM9sf3dDH1ZCk4hbDj0SQeYfTHU51eMJgU"
#define KNOWN_PW "correct horse battery staple"

static int
check(const char *stored, const char *pw)
{
	return pwhash_check(stored, pw, strlen(pw));
}

/* RFC 7914 §12: the first two vectors, through wc_scrypt itself. */
static void
test_rfc7914(void)
{
	static const uint8_t	v1[64] = {
		0x77, 0xd6, 0x57, 0x62, 0x38, 0x65, 0x7b, 0x20, 0x3b, 0x19,
		0xca, 0x42, 0xc1, 0x8a, 0x04, 0x97, 0xf1, 0x6b, 0x48, 0x44,
		0xe3, 0x07, 0x4a, 0xe8, 0xdf, 0xdf, 0xfa, 0x3f, 0xed, 0xe2,
		0x14, 0x42, 0xfc, 0xd0, 0x06, 0x9d, 0xed, 0x09, 0x48, 0xf8,
		0x32, 0x6a, 0x75, 0x3a, 0x0f, 0xc8, 0x1f, 0x17, 0xe8, 0xd3,
		0xe0, 0xfb, 0x2e, 0x0d, 0x36, 0x28, 0xcf, 0x35, 0xe2, 0x0c,
		0x38, 0xd1, 0x89, 0x06,
	};
	static const uint8_t	v2[64] = {
		0xfd, 0xba, 0xbe, 0x1c, 0x9d, 0x34, 0x72, 0x00, 0x78, 0x56,
		0xe7, 0x19, 0x0d, 0x01, 0xe9, 0xfe, 0x7c, 0x6a, 0xd7, 0xcb,
		0xc8, 0x23, 0x78, 0x30, 0xe7, 0x73, 0x76, 0x63, 0x4b, 0x37,
		0x31, 0x62, 0x2e, 0xaf, 0x30, 0xd9, 0x2e, 0x22, 0xa3, 0x88,
		0x6f, 0xf1, 0x09, 0x27, 0x9d, 0x98, 0x30, 0xda, 0xc7, 0x27,
		0xaf, 0xb9, 0x4a, 0x83, 0xee, 0x6d, 0x83, 0x60, 0xcb, 0xdf,
		0xa2, 0xcc, 0x06, 0x40,
	};
	uint8_t			out[64];

	T_EQ_INT(wc_scrypt(out, (const byte *)"", 0, (const byte *)"", 0, 4,
	    1, 1, 64), 0);
	T_CHECK(memcmp(out, v1, 64) == 0);
	T_EQ_INT(wc_scrypt(out, (const byte *)"password", 8,
	    (const byte *)"NaCl", 4, 10, 8, 16, 64), 0);
	T_CHECK(memcmp(out, v2, 64) == 0);
}

/* Strings made by another implementation check here. */
static void
test_known(void)
{
	T_EQ_INT(check(KNOWN, KNOWN_PW), PWHASH_OK);
	T_EQ_INT(check(KNOWN, "correct horse battery stapler"),
	    PWHASH_NOMATCH);
	T_EQ_INT(check(KNOWN, "correct horse battery stapl"), PWHASH_NOMATCH);
	/* the right password against a hash one bit off, in its first
	 * and in its last byte: every byte is compared */
	T_EQ_INT(check("$scrypt$ln=4,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$"
	    "IJMORLo+NKM9sf3dDH1ZCk4hbDj0SQeYfTHU51eMJgU", KNOWN_PW),
	    PWHASH_NOMATCH);
	T_EQ_INT(check("$scrypt$ln=4,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$"
	    "IZMORLo+NKM9sf3dDH1ZCk4hbDj0SQeYfTHU51eMJgQ", KNOWN_PW),
	    PWHASH_NOMATCH);
	/* the hash of the empty password: an empty password is refused
	 * before scrypt, never matched */
	T_EQ_INT(pwhash_check("$scrypt$ln=4,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$"
	    "AdfLIQlgszRE3k0QSFUyWVPW5fMbtvpjabg27VebhU0", "", 0),
	    PWHASH_NOMATCH);
	/* other parameters, a 64-byte hash, a NUL in the password */
	T_EQ_INT(pwhash_check("$scrypt$ln=5,r=2,p=3$c2FsdHNhbHRzYWx0c2FsdA$"
	    "LhzkivCN9Kkj5LXdppo8rGkxwWvLAVFlqGS9wVxKFO98HQlxgZk8GF5eF8vJj6vT"
	    "bPn12EP3SMwrKvLIOkuYuw", "pass\0word", 9), PWHASH_OK);
	T_EQ_INT(pwhash_check("$scrypt$ln=5,r=2,p=3$c2FsdHNhbHRzYWx0c2FsdA$"
	    "LhzkivCN9Kkj5LXdppo8rGkxwWvLAVFlqGS9wVxKFO98HQlxgZk8GF5eF8vJj6vT"
	    "bPn12EP3SMwrKvLIOkuYuw", "pass\0wore", 9), PWHASH_NOMATCH);
	T_EQ_INT(pwhash_check("$scrypt$ln=5,r=2,p=3$c2FsdHNhbHRzYWx0c2FsdA$"
	    "LhzkivCN9Kkj5LXdppo8rGkxwWvLAVFlqGS9wVxKFO98HQlxgZk8GF5eF8vJj6vT"
	    "bPn12EP3SMwrKvLIOkuYuw", "pass", 4), PWHASH_NOMATCH);
}

static void
test_round_trip(void)
{
	char	a[PWHASH_STR_MAX], b[PWHASH_STR_MAX];
	char	*salt, *hash;

	T_ASSERT(pwhash_make(&fast, "hunter2", 7, a, sizeof(a)) == PWHASH_OK);
	T_CHECK(strncmp(a, "$scrypt$ln=4,r=8,p=1$", 21) == 0);
	salt = a + 21;
	T_ASSERT((hash = strchr(salt, '$')) != NULL);
	T_EQ_INT(hash - salt, 22);		/* 16 bytes */
	T_EQ_INT(strlen(hash + 1), 43);		/* 32 bytes */
	T_EQ_INT(check(a, "hunter2"), PWHASH_OK);
	T_EQ_INT(check(a, "hunter3"), PWHASH_NOMATCH);
	T_EQ_INT(check(a, "Hunter2"), PWHASH_NOMATCH);
	T_EQ_INT(check(a, "hunter"), PWHASH_NOMATCH);
	T_EQ_INT(check(a, "hunter22"), PWHASH_NOMATCH);
	T_EQ_INT(pwhash_check(a, "hunter2", 0), PWHASH_NOMATCH);
	/* a new salt each time */
	T_ASSERT(pwhash_make(&fast, "hunter2", 7, b, sizeof(b)) == PWHASH_OK);
	T_CHECK(strcmp(a, b) != 0);
	T_CHECK(strncmp(a, b, 21 + 22) != 0);
	T_EQ_INT(check(b, "hunter2"), PWHASH_OK);
	/* bytes, not strings: NUL and high bytes */
	T_ASSERT(pwhash_make(&fast, "a\0b\xff", 4, a, sizeof(a)) ==
	    PWHASH_OK);
	T_EQ_INT(pwhash_check(a, "a\0b\xff", 4), PWHASH_OK);
	T_EQ_INT(pwhash_check(a, "a\0c\xff", 4), PWHASH_NOMATCH);
	T_EQ_INT(pwhash_check(a, "a", 1), PWHASH_NOMATCH);
}

static void
test_make_refuses(void)
{
	struct gs_pwhash_params	bad = fast;
	char			out[PWHASH_STR_MAX];
	size_t			len;

	T_EQ_INT(pwhash_make(&fast, "", 0, out, sizeof(out)), PWHASH_EINVAL);
	bad.ln = 0;
	T_EQ_INT(pwhash_make(&bad, "x", 1, out, sizeof(out)), PWHASH_EINVAL);
	bad = fast;
	bad.r = 9;
	T_EQ_INT(pwhash_make(&bad, "x", 1, out, sizeof(out)), PWHASH_EINVAL);
	bad = fast;
	bad.p = 0;
	T_EQ_INT(pwhash_make(&bad, "x", 1, out, sizeof(out)), PWHASH_EINVAL);
	/* the exact size fits; a byte less does not */
	T_ASSERT(pwhash_make(&fast, "x", 1, out, sizeof(out)) == PWHASH_OK);
	len = strlen(out);
	T_EQ_INT(pwhash_make(&fast, "x", 1, out, len + 1), PWHASH_OK);
	T_EQ_INT(strlen(out), len);
	T_EQ_INT(pwhash_make(&fast, "x", 1, out, len), PWHASH_ETOOBIG);
	T_EQ_INT(pwhash_make(&fast, "x", 1, out, 30), PWHASH_ETOOBIG);
	T_EQ_INT(pwhash_make(&fast, "x", 1, out, 10), PWHASH_ETOOBIG);
	T_EQ_INT(pwhash_make(&fast, "x", 1, out, 0), PWHASH_ETOOBIG);
}

static void
test_params(void)
{
	static const struct gs_pwhash_params	good[] = {
		{ 17, 8, 1 }, { 16, 8, 2 }, { 15, 8, 3 }, { 14, 8, 5 },
		{ 13, 8, 10 },			/* OWASP */
		{ 1, 1, 1 }, { 15, 1, 1 }, { 18, 8, 2 }, { 10, 8, 16 },
	};
	static const struct gs_pwhash_params	bad[] = {
		{ 0, 8, 1 }, { 16, 0, 1 }, { 16, 8, 0 }, { -1, 8, 1 },
		{ 16, 9, 1 }, { 10, 8, 17 },
		{ 16, 1, 1 },			/* wolfCrypt: ln < 16 r */
		{ 19, 8, 1 },			/* 512 MiB */
		{ 21, 1, 1 }, { 64, 8, 1 },
		{ 18, 8, 3 },			/* work 2^23 */
		{ 17, 8, 5 },
	};
	size_t					i;

	T_CHECK(pwhash_params_ok(&pwhash_default));
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		T_CHECK(pwhash_params_ok(&good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_CHECK(!pwhash_params_ok(&bad[i]));
}

/* KNOWN with the text from `from` through `to` (or through the end of
 * from) replaced. */
static const char *
edit(const char *from, const char *to, const char *with)
{
	static char	buf[2 * PWHASH_STR_MAX];
	const char	*a = strstr(KNOWN, from), *b;

	if (a == NULL)
		return "unused";
	b = to != NULL ? strstr(a + strlen(from), to) : a;
	if (b == NULL)
		return "unused";
	b += to != NULL ? strlen(to) : strlen(from);
	(void)snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(a - KNOWN), KNOWN,
	    with, b);
	return buf;
}

static void
test_malformed(void)
{
	static const char *const bad[] = {
		"",
		"$",
		"$scrypt$",
		("scrypt$ln=4,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$"
		    "IZMORLo+NKM9sf3dDH1ZCk4hbDj0SQeYfTHU51eMJgU"),
		/* the other parts, each wrong in one way */
		"$scrypt$ln=4,r=8,p=1$AAECAwQFBgcICQoLDA0ODw",
		"$scrypt$ln=4,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$",
		("$scrypt$ln=4,r=8,p=1$$"
		    "IZMORLo+NKM9sf3dDH1ZCk4hbDj0SQeYfTHU51eMJgU"),
		"$scrypt$ln=4,r=8,p=1",
		"$scrypt$ln=4,r=8,p=1$",
	};
	static const struct {
		const char	*from, *to, *with;
	} edits[] = {
		/* the identifier */
		{ "$scrypt$", NULL, "$Scrypt$" },
		{ "$scrypt$", NULL, "$scrypt2$" },
		{ "$scrypt$", NULL, "$argon2id$" },
		{ "$scrypt$", NULL, "$scrypt$$" },
		/* ln */
		{ "ln=4", NULL, "ln=" },
		{ "ln=4", NULL, "ln=04" },
		{ "ln=4", NULL, "ln=0" },
		{ "ln=4", NULL, "ln=-4" },
		{ "ln=4", NULL, "ln=+4" },
		{ "ln=4", NULL, "ln=x" },
		{ "ln=4", NULL, "ln=21" },
		{ "ln=4", NULL, "ln=1000" },
		{ "ln=4", NULL, "ln=99999999999" },
		{ "ln=4", NULL, "ln= 4" },
		{ "ln=4", NULL, "N=16" },
		{ "ln=4,", NULL, "" },
		/* r */
		{ "r=8", NULL, "r=" },
		{ "r=8", NULL, "r=0" },
		{ "r=8", NULL, "r=08" },
		{ "r=8", NULL, "r=9" },
		{ "r=8", NULL, "r=8.0" },
		{ ",r=8", NULL, "" },
		/* p */
		{ "p=1", NULL, "p=" },
		{ "p=1", NULL, "p=0" },
		{ "p=1", NULL, "p=17" },
		{ "p=1", NULL, "p=1,t=2" },
		{ ",p=1", NULL, "" },
		/* order and separators */
		{ "ln=4,r=8,p=1", NULL, "r=8,ln=4,p=1" },
		{ "ln=4,r=8,p=1", NULL, "ln=4;r=8;p=1" },
		{ "ln=4,r=8,p=1", NULL, "ln=4,r=8,p=1," },
		/* parameters past the bounds (memory, work) */
		{ "ln=4,r=8,p=1", NULL, "ln=20,r=8,p=1" },
		{ "ln=4,r=8,p=1", NULL, "ln=18,r=8,p=16" },
		{ "ln=4,r=8,p=1", NULL, "ln=16,r=1,p=1" },
		/* the salt */
		{ "AAECAwQFBgcICQoLDA0ODw", NULL, "AAECAwQFBgcICQoLDA0ODw==" },
		{ "AAECAwQFBgcICQoLDA0ODw", NULL, "AAECAwQFBgcICQoLDA0ODx" },
		{ "AAECAwQFBgcICQoLDA0ODw", NULL, "AAECAwQFBgcICQoLDA0OD" },
		{ "AAECAwQFBgcICQoLDA0ODw", NULL, "AAECAwQFBgcICQoL_A0ODw" },
		{ "AAECAwQFBgcICQoLDA0ODw", NULL, "AAECAwQFBgcIC QoLDA0ODw" },
		{ "AAECAwQFBgcICQoLDA0ODw", NULL, "AAECAwQFBg" },	/* 7 */
		{ "AAECAwQFBgcICQoLDA0ODw", NULL,			/* 65 */
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
		/* the hash */
		{ "IZMORLo+", NULL, "IZMORLo-" },
		{ "IZMORLo+", NULL, "IZMORLo*" },
		{ "IZMORLo+", NULL, "$IZMORLo+" },
		{ "MJgU", NULL, "MJgV" },			/* bits */
		{ "MJgU", NULL, "MJgU=" },
		{ "MJgU", NULL, "MJgU$" },
		{ "MJgU", NULL, "MJgU\n" },
		{ "MJgU", NULL, "MJgU " },
		{ "IZMORLo+", "MJgU", "AAAAAAAAAAAAAAAAAAA" },	/* 14 */
		{ "IZMORLo+", "MJgU", A88 },				/* 66 */
	};
	char	huge[PWHASH_STR_MAX + 8];
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_EQ_INT(check(bad[i], KNOWN_PW), PWHASH_EMALFORMED);
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		const char	*s = edit(edits[i].from, edits[i].to,
		    edits[i].with);
		int		 r = check(s, KNOWN_PW);

		if (r != PWHASH_EMALFORMED)
			fprintf(stderr, "edit %zu: %s: %s\n", i, s,
			    pwhash_result_name(r));
		T_EQ_INT(r, PWHASH_EMALFORMED);
	}
	/* a hash of another length decodes and compares unequal: not
	 * malformed (16 and 64 bytes, the least and the most taken) */
	T_EQ_INT(check(edit("IZMORLo+", "MJgU", "AAAAAAAAAAAAAAAAAAAAAA"),
	    KNOWN_PW), PWHASH_NOMATCH);
	T_EQ_INT(check(edit("IZMORLo+", "MJgU", &A88[2]), KNOWN_PW),
	    PWHASH_NOMATCH);
	/* and the text the edits start from is good */
	T_EQ_INT(check(edit("ln=4", NULL, "ln=4"), KNOWN_PW), PWHASH_OK);
	/* over PWHASH_STR_MAX, before anything else is read */
	memset(huge, 'A', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	memcpy(huge, KNOWN, strlen(KNOWN));
	T_EQ_INT(check(huge, KNOWN_PW), PWHASH_EMALFORMED);
}

struct worker {
	pthread_t	t;
	int		id, bad;
};

static void *
worker_run(void *arg)
{
	struct worker	*w = arg;
	char		 pw[32], out[PWHASH_STR_MAX];
	int		 i;

	for (i = 0; i < 20; i++) {
		(void)snprintf(pw, sizeof(pw), "pw-%d-%d", w->id, i);
		if (pwhash_make(&fast, pw, strlen(pw), out, sizeof(out)) !=
		    PWHASH_OK || check(out, pw) != PWHASH_OK ||
		    check(out, "other") != PWHASH_NOMATCH ||
		    check(KNOWN, KNOWN_PW) != PWHASH_OK)
			w->bad++;
	}
	return NULL;
}

static void
test_threads(void)
{
	struct worker	w[4];
	int		i, started = 0;

	for (i = 0; i < 4; i++) {
		w[i].id = i;
		w[i].bad = 0;
		if (pthread_create(&w[i].t, NULL, worker_run, &w[i]) == 0)
			started++;
		else
			break;
	}
	T_EQ_INT(started, 4);
	for (i = 0; i < started; i++) {
		T_CHECK(pthread_join(w[i].t, NULL) == 0);
		T_EQ_INT(w[i].bad, 0);
	}
}

static void
test_names(void)
{
	int	i;

	for (i = 0; i < PWHASH_RESULT_MAX; i++)
		T_CHECK(strcmp(pwhash_result_name(i), "unknown") != 0);
	T_CHECK(strcmp(pwhash_result_name(PWHASH_RESULT_MAX), "unknown") ==
	    0);
	T_CHECK(strcmp(pwhash_result_name(PWHASH_NOMATCH), "nomatch") == 0);
}

T_MAIN(T(test_rfc7914), T(test_known), T(test_round_trip),
    T(test_make_refuses), T(test_params), T(test_malformed),
    T(test_threads), T(test_names))
