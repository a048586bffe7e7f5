/*
 * Password hashes with wolfCrypt's scrypt; the format, the bounds and
 * the thread rules are in pwhash.h.
 *
 * The default among OWASP's equivalent scrypt settings (Password
 * Storage Cheat Sheet), measured with wolfSSL 5.5.4 (Debian 12) on a
 * 2-core AMD EPYC VM: memory 128 N r, and time per hash alone and
 * with both cores hashing at once (a pool of two workers):
 *
 *	N     r  p	memory	alone	both cores
 *	2^17  8  1	128 MiB	0.55 s	0.71 s
 *	2^16  8  2	 64 MiB	0.52 s	0.59 s
 *	2^15  8  3	 32 MiB	0.37 s	0.47 s
 *	2^14  8  5	 16 MiB	0.30 s	0.44 s
 *	2^13  8 10	  8 MiB	0.30 s	0.43 s
 *
 * Memory is what a guessing attacker pays for and time is what we pay
 * for each login.  2^17 costs twice 2^16's memory for 20% more time
 * under load; below 2^15 the time stops falling while the attacker's
 * memory keeps halving.  2^16, r=8, p=2 it is: 64 MiB per worker, about
 * three logins a second per two cores.  (For scale: OpenSSL's scrypt
 * takes 0.65 s for the same setting on this machine.)
 */
#include <sys/random.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <wolfssl/options.h>	/* before any other wolfSSL header */
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/pwdbased.h>

#include "b64.h"
#include "err.h"
#include "pwhash.h"

/* What a stored string may hold; pwhash_make writes 16 and 32. */
#define SALT_MIN	8
#define SALT_MAX	64
#define HASH_MIN	16
#define HASH_MAX	64

const struct gs_pwhash_params pwhash_default = { .ln = 16, .r = 8, .p = 2 };

static const char *const result_names[PWHASH_RESULT_MAX] = {
	[PWHASH_OK] = "ok",
	[PWHASH_NOMATCH] = "nomatch",
	[PWHASH_EMALFORMED] = "malformed",
	[PWHASH_EINVAL] = "inval",
	[PWHASH_ETOOBIG] = "toobig",
	[PWHASH_ENOMEM] = "nomem",
	[PWHASH_ESYS] = "sys",
	[PWHASH_ECRYPTO] = "crypto",
};

const char *
pwhash_result_name(int r)
{
	if (r < 0 || r >= PWHASH_RESULT_MAX || result_names[r] == NULL)
		return "unknown";
	return result_names[r];
}

bool
pwhash_params_ok(const struct gs_pwhash_params *pw)
{
	uint64_t	n;

	if (pw->r < 1 || pw->r > PWHASH_R_MAX || pw->p < 1 ||
	    pw->p > PWHASH_P_MAX || pw->ln < 1 || pw->ln > PWHASH_LN_MAX ||
	    pw->ln >= 16 * pw->r)
		return false;
	n = (uint64_t)1 << pw->ln;
	return 128 * n * (uint64_t)pw->r <= PWHASH_MEM_MAX &&
	    n * (uint64_t)pw->r * (uint64_t)pw->p <= PWHASH_WORK_MAX;
}

static int
derive(const struct gs_pwhash_params *pw, const char *password, size_t len,
    const uint8_t *salt, size_t saltlen, uint8_t *out, size_t outlen)
{
	int	rc;

	rc = wc_scrypt(out, (const byte *)password, (int)len, salt,
	    (int)saltlen, pw->ln, pw->r, pw->p, (int)outlen);
	if (rc == 0)
		return PWHASH_OK;
	return rc == MEMORY_E ? PWHASH_ENOMEM : PWHASH_ECRYPTO;
}

int
pwhash_make(const struct gs_pwhash_params *pw, const char *password,
    size_t len, char *out, size_t cap)
{
	uint8_t	salt[PWHASH_SALT_LEN], hash[PWHASH_HASH_LEN];
	ssize_t	got;
	size_t	used, n;
	int	k, err;

	if (!pwhash_params_ok(pw) || len == 0 || len > INT_MAX)
		return PWHASH_EINVAL;
	do
		got = getrandom(salt, sizeof(salt), 0);
	while (got == -1 && errno == EINTR);
	if (got != (ssize_t)sizeof(salt))
		return PWHASH_ESYS;
	/* Everything but the hash first: no scrypt for a buffer too small. */
	k = snprintf(out, cap, "$scrypt$ln=%d,r=%d,p=%d$", pw->ln, pw->r,
	    pw->p);
	if (k < 0 || (size_t)k >= cap)
		return PWHASH_ETOOBIG;
	used = (size_t)k;
	if (gs_b64_encode(GS_B64_STD_NOPAD, salt, sizeof(salt), out + used,
	    cap - used, &n) != GS_OK)
		return PWHASH_ETOOBIG;
	used += n;
	if (cap - used < 1 + gs_b64_enclen(GS_B64_STD_NOPAD, sizeof(hash)) + 1)
		return PWHASH_ETOOBIG;
	out[used++] = '$';
	if ((err = derive(pw, password, len, salt, sizeof(salt), hash,
	    sizeof(hash))) == PWHASH_OK &&
	    gs_b64_encode(GS_B64_STD_NOPAD, hash, sizeof(hash), out + used,
	    cap - used, NULL) != GS_OK)
		err = PWHASH_ETOOBIG;		/* not reached: sized above */
	explicit_bzero(hash, sizeof(hash));
	return err;
}

/* A number in 1..999 without leading zeros at *s; *s moves past it. */
static int
parse_num(const char **s, int *out)
{
	const char	*p = *s;
	int		 v = 0, n;

	if (*p == '0')
		return -1;
	for (n = 0; n < 3 && *p >= '0' && *p <= '9'; n++, p++)
		v = v * 10 + (*p - '0');
	if (n == 0 || (*p >= '0' && *p <= '9'))
		return -1;
	*out = v;
	*s = p;
	return 0;
}

static int
parse_lit(const char **s, const char *lit)
{
	size_t	n = strlen(lit);

	if (strncmp(*s, lit, n) != 0)
		return -1;
	*s += n;
	return 0;
}

/* Split a stored string; every field checked, nothing trailing. */
static int
parse(const char *stored, struct gs_pwhash_params *pw, uint8_t *salt,
    size_t *saltlen, uint8_t *hash, size_t *hashlen)
{
	const char	*s = stored, *dollar;
	size_t		 len = strnlen(stored, PWHASH_STR_MAX);

	if (len == PWHASH_STR_MAX ||
	    parse_lit(&s, "$scrypt$ln=") != 0 || parse_num(&s, &pw->ln) != 0 ||
	    parse_lit(&s, ",r=") != 0 || parse_num(&s, &pw->r) != 0 ||
	    parse_lit(&s, ",p=") != 0 || parse_num(&s, &pw->p) != 0 ||
	    parse_lit(&s, "$") != 0 || !pwhash_params_ok(pw))
		return PWHASH_EMALFORMED;
	if ((dollar = strchr(s, '$')) == NULL ||
	    gs_b64_decode(GS_B64_STD_NOPAD, s, (size_t)(dollar - s), salt,
	    SALT_MAX, saltlen) != GS_OK || *saltlen < SALT_MIN)
		return PWHASH_EMALFORMED;
	s = dollar + 1;
	if (gs_b64_decode(GS_B64_STD_NOPAD, s, len - (size_t)(s - stored),
	    hash, HASH_MAX, hashlen) != GS_OK || *hashlen < HASH_MIN)
		return PWHASH_EMALFORMED;
	return PWHASH_OK;
}

/* a[n] == b[n] in time that depends on n only. */
static int
equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
	volatile uint8_t	d = 0;
	size_t			i;

	for (i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

int
pwhash_check(const char *stored, const char *password, size_t len)
{
	struct gs_pwhash_params	pw;
	uint8_t			salt[SALT_MAX], hash[HASH_MAX], mine[HASH_MAX];
	size_t			saltlen, hashlen;
	int			err;

	if ((err = parse(stored, &pw, salt, &saltlen, hash, &hashlen)) !=
	    PWHASH_OK)
		return err;
	if (len == 0 || len > INT_MAX)
		return PWHASH_NOMATCH;
	if ((err = derive(&pw, password, len, salt, saltlen, mine,
	    hashlen)) == PWHASH_OK && !equal_ct(mine, hash, hashlen))
		err = PWHASH_NOMATCH;
	explicit_bzero(mine, sizeof(mine));
	explicit_bzero(hash, sizeof(hash));
	return err;
}
