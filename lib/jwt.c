/*
 * Access tokens: Ed25519 JWTs through wolfCrypt and jansson; the
 * format and the contracts are in jwt.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wolfssl/options.h>	/* before any other wolfSSL header */
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/hash.h>

#include <jansson.h>

#include "b64.h"
#include "err.h"
#include "json.h"
#include "jwt.h"

/* Decoded parts are at most 3/4 of the token. */
#define JWT_PART_MAX	(GS_JWT_MAXLEN / 4 * 3 + 2)
/* Characters of a signature in base64url. */
#define JWT_SIG_B64	86

struct gs_jwt_signer {
	ed25519_key	key;
	uint8_t		pub[GS_JWT_PUB_LEN];
	char		kid[GS_JWT_KID_LEN + 1];
	char		hdr[96];	/* the header's JSON text */
	size_t		hdrlen;
};

struct jwt_vkey {
	char		kid[GS_JWT_KID_LEN + 1];
	ed25519_key	key;		/* public part only */
};

struct gs_jwt_keys {
	int		n;
	struct jwt_vkey	k[GS_JWT_KEYS_MAX];
};

static const char *const err_names[GS_JWT_ERR_MAX] = {
	[GS_JWT_OK] = "ok",
	[GS_JWT_EMALFORMED] = "malformed",
	[GS_JWT_ETOOBIG] = "toobig",
	[GS_JWT_EALG] = "alg",
	[GS_JWT_EKID] = "kid",
	[GS_JWT_ESIG] = "signature",
	[GS_JWT_ECLAIMS] = "claims",
	[GS_JWT_EEXPIRED] = "expired",
	[GS_JWT_ENOTYET] = "notyet",
	[GS_JWT_EKEY] = "key",
	[GS_JWT_ENOMEM] = "nomem",
	[GS_JWT_ECRYPTO] = "crypto",
};

const char *
gs_jwt_err_name(int err)
{
	if (err < 0 || err >= GS_JWT_ERR_MAX || err_names[err] == NULL)
		return "unknown";
	return err_names[err];
}

/* ------------------------------------------------------------ claims */

static int
name_valid(const char *s)
{
	size_t	i;

	for (i = 0; i <= GS_JWT_NAME_MAX && s[i] != '\0'; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return i >= 1 && i <= GS_JWT_NAME_MAX;
}

/* The ranges of jwt.h, for signing and after verifying alike. */
static int
claims_valid(const struct gs_jwt_claims *c)
{
	return c->sub != 0 && c->sid != 0 && name_valid(c->name) &&
	    c->iat >= 0 && c->iat < c->exp && c->exp <= GS_JSON_INT_MAX;
}

/* A JSON string of decimal digits, no leading zero, in 1..UINT64_MAX. */
static int
claim_id(const json_t *j, uint64_t *out)
{
	const char	*s;
	uint64_t	 v = 0;
	size_t		 n, i;
	unsigned	 d;

	if (!json_is_string(j))
		return -1;
	s = json_string_value(j);
	n = json_string_length(j);
	if (n == 0 || n > 20 || s[0] == '0')
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int
claim_time(const json_t *j, int64_t *out)
{
	json_int_t	v;

	if (!json_is_integer(j))
		return -1;
	v = json_integer_value(j);
	if (v < 0 || v > GS_JSON_INT_MAX)
		return -1;
	*out = (int64_t)v;
	return 0;
}

static int
claims_get(const json_t *p, struct gs_jwt_claims *c)
{
	const json_t	*name = json_object_get(p, "name");

	if (claim_id(json_object_get(p, "sub"), &c->sub) != 0 ||
	    claim_id(json_object_get(p, "sid"), &c->sid) != 0 ||
	    claim_time(json_object_get(p, "iat"), &c->iat) != 0 ||
	    claim_time(json_object_get(p, "exp"), &c->exp) != 0 ||
	    !json_is_string(name) ||
	    json_string_length(name) > GS_JWT_NAME_MAX)
		return GS_JWT_ECLAIMS;
	/* jansson refused NUL inside strings: the copy ends where it does */
	memcpy(c->name, json_string_value(name), json_string_length(name) + 1);
	return claims_valid(c) ? GS_JWT_OK : GS_JWT_ECLAIMS;
}

/* ------------------------------------------------------------- keys */

/* The kid of a raw public key: SHA-256, first 8 bytes, lower hex. */
static int
kid_of(const uint8_t pub[GS_JWT_PUB_LEN], char kid[GS_JWT_KID_LEN + 1])
{
	static const char	hex[] = "0123456789abcdef";
	uint8_t			h[WC_SHA256_DIGEST_SIZE];
	int			i;

	if (wc_Sha256Hash(pub, GS_JWT_PUB_LEN, h) != 0)
		return GS_JWT_ECRYPTO;
	for (i = 0; i < GS_JWT_KID_LEN / 2; i++) {
		kid[2 * i] = hex[h[i] >> 4];
		kid[2 * i + 1] = hex[h[i] & 15];
	}
	kid[GS_JWT_KID_LEN] = '\0';
	return GS_JWT_OK;
}

/* key: an initialised key; seed imported and its public key derived
 * into pub.  On error the key is left for the caller to free. */
static int
key_from_seed(ed25519_key *key, const uint8_t *seed, uint8_t *pub)
{
	if (wc_ed25519_import_private_only(seed, GS_JWT_SEED_LEN, key) != 0 ||
	    wc_ed25519_make_public(key, pub, GS_JWT_PUB_LEN) != 0 ||
	    wc_ed25519_import_private_key(seed, GS_JWT_SEED_LEN, pub,
	    GS_JWT_PUB_LEN, key) != 0 ||
	    wc_ed25519_check_key(key) != 0)
		return GS_JWT_ECRYPTO;
	return GS_JWT_OK;
}

/* Write "file=<path> " and the formatted rest into why; return err. */
static int __attribute__((format(printf, 5, 6)))
key_fail(char *why, size_t whylen, const char *path, int err,
    const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (why == NULL || whylen == 0)
		return err;
	n = snprintf(why, whylen, "file=%s ", path);
	if (n < 0 || (size_t)n >= whylen)
		return err;
	va_start(ap, fmt);
	(void)vsnprintf(why + n, whylen - (size_t)n, fmt, ap);
	va_end(ap);
	return err;
}

/* Read a key file into buf[cap] (NUL-ended), *len its length. */
static int
key_file_read(const char *path, char *buf, size_t cap, size_t *len,
    char *why, size_t whylen)
{
	struct stat	st;
	ssize_t		r;
	size_t		n = 0;
	char		extra;
	int		fd, err = GS_JWT_OK;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return key_fail(why, whylen, path, GS_JWT_EKEY,
		    "reason=open err=\"%s\"", strerror(errno));
	if (fstat(fd, &st) == -1)
		err = key_fail(why, whylen, path, GS_JWT_EKEY,
		    "reason=fstat err=\"%s\"", strerror(errno));
	else if (!S_ISREG(st.st_mode))
		err = key_fail(why, whylen, path, GS_JWT_EKEY,
		    "reason=not_a_regular_file");
	while (err == GS_JWT_OK && n < cap - 1) {
		if ((r = read(fd, buf + n, cap - 1 - n)) == -1) {
			if (errno == EINTR)
				continue;
			err = key_fail(why, whylen, path, GS_JWT_EKEY,
			    "reason=read err=\"%s\"", strerror(errno));
		} else if (r == 0)
			break;
		else
			n += (size_t)r;
	}
	if (err == GS_JWT_OK && n == cap - 1 && read(fd, &extra, 1) != 0)
		err = key_fail(why, whylen, path, GS_JWT_EKEY,
		    "reason=file_too_large max=%zu", cap - 1);
	(void)close(fd);
	buf[n] = '\0';
	*len = n;
	return err;
}

/* The DER of the PEM's PUBLIC KEY block into der[cap]; its length, or
 * 0 when the text holds none (wc_KeyPemToDer would take one too, so
 * this is how the two kinds are told apart). */
static int
pem_public_der(const char *pem, size_t len, uint8_t *der, size_t cap)
{
	int	n;

	n = wc_PubKeyPemToDer((const unsigned char *)pem, (int)len, der,
	    (int)cap);
	return n > 0 ? n : 0;
}

/* The raw private key of the PEM text's PKCS#8 Ed25519 key. */
static int
pem_seed(const char *path, const char *pem, size_t len, int public_ok,
    uint8_t seed[GS_JWT_SEED_LEN], char *why, size_t whylen)
{
	ed25519_key	key;
	uint8_t		der[GS_JWT_KEYFILE_MAX];
	word32		idx = 0, sz = GS_JWT_SEED_LEN;
	int		n, rc, err = GS_JWT_OK;

	if ((n = wc_KeyPemToDer((const unsigned char *)pem, (int)len, der,
	    (int)sizeof(der), NULL)) <= 0)
		return key_fail(why, whylen, path, GS_JWT_EKEY,
		    "reason=%s wolfcrypt=%d", public_ok ? "no_pem_key" :
		    "no_pem_private_key", n);
	if (wc_ed25519_init(&key) != 0) {
		explicit_bzero(der, sizeof(der));
		return key_fail(why, whylen, path, GS_JWT_ECRYPTO,
		    "reason=ed25519_init");
	}
	if ((rc = wc_Ed25519PrivateKeyDecode(der, &idx, &key, (word32)n)) != 0)
		err = key_fail(why, whylen, path, GS_JWT_EKEY,
		    "reason=not_ed25519_private_key wolfcrypt=%d", rc);
	else if ((rc = wc_ed25519_export_private_only(&key, seed, &sz)) != 0 ||
	    sz != GS_JWT_SEED_LEN)
		err = key_fail(why, whylen, path, GS_JWT_ECRYPTO,
		    "reason=export_private wolfcrypt=%d", rc);
	wc_ed25519_free(&key);
	explicit_bzero(&key, sizeof(key));
	explicit_bzero(der, sizeof(der));
	return err;
}

/* ------------------------------------------------------------ signer */

int
gs_jwt_signer_from_seed(struct gs_jwt_signer **out,
    const uint8_t seed[GS_JWT_SEED_LEN])
{
	struct gs_jwt_signer	*s;
	json_t			*h;
	size_t			 n;
	int			 err;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return GS_JWT_ENOMEM;
	if (wc_ed25519_init(&s->key) != 0) {
		free(s);
		return GS_JWT_ECRYPTO;
	}
	if ((err = key_from_seed(&s->key, seed, s->pub)) != GS_JWT_OK ||
	    (err = kid_of(s->pub, s->kid)) != GS_JWT_OK) {
		gs_jwt_signer_free(s);
		return err;
	}
	if ((h = json_pack("{s:s, s:s, s:s}", "alg", "EdDSA", "typ", "JWT",
	    "kid", s->kid)) == NULL) {
		gs_jwt_signer_free(s);
		return GS_JWT_ENOMEM;
	}
	n = json_dumpb(h, s->hdr, sizeof(s->hdr), JSON_COMPACT);
	json_decref(h);
	if (n == 0 || n > sizeof(s->hdr)) {
		gs_jwt_signer_free(s);
		return GS_JWT_ENOMEM;	/* the text's length is fixed */
	}
	s->hdrlen = n;
	*out = s;
	return GS_JWT_OK;
}

int
gs_jwt_signer_load(struct gs_jwt_signer **out, const char *path, char *why,
    size_t whylen)
{
	char	pem[GS_JWT_KEYFILE_MAX];
	uint8_t	der[GS_JWT_KEYFILE_MAX], seed[GS_JWT_SEED_LEN];
	size_t	len;
	int	err;

	if ((err = key_file_read(path, pem, sizeof(pem), &len, why,
	    whylen)) != GS_JWT_OK)
		goto done;
	if (pem_public_der(pem, len, der, sizeof(der)) > 0) {
		err = key_fail(why, whylen, path, GS_JWT_EKEY,
		    "reason=public_key_not_private");
		goto done;
	}
	if ((err = pem_seed(path, pem, len, 0, seed, why, whylen)) !=
	    GS_JWT_OK)
		goto done;
	if ((err = gs_jwt_signer_from_seed(out, seed)) != GS_JWT_OK)
		(void)key_fail(why, whylen, path, err, "reason=%s",
		    gs_jwt_err_name(err));
done:
	explicit_bzero(pem, sizeof(pem));
	explicit_bzero(der, sizeof(der));
	explicit_bzero(seed, sizeof(seed));
	return err;
}

void
gs_jwt_signer_free(struct gs_jwt_signer *s)
{
	if (s == NULL)
		return;
	wc_ed25519_free(&s->key);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

const char *
gs_jwt_signer_kid(const struct gs_jwt_signer *s)
{
	return s->kid;
}

void
gs_jwt_signer_public(const struct gs_jwt_signer *s,
    uint8_t pub[GS_JWT_PUB_LEN])
{
	memcpy(pub, s->pub, GS_JWT_PUB_LEN);
}

int
gs_jwt_sign_raw(struct gs_jwt_signer *s, const void *hdr, size_t hdrlen,
    const void *payload, size_t paylen, char *out, size_t cap, size_t *len)
{
	uint8_t	sig[ED25519_SIG_SIZE];
	word32	siglen = sizeof(sig);
	size_t	hl, pl, need;

	/* Only tokens a verifier would take; this also bounds the sums. */
	if (hdrlen > GS_JWT_MAXLEN || paylen > GS_JWT_MAXLEN)
		return GS_JWT_ETOOBIG;
	hl = gs_b64_enclen(GS_B64_URL, hdrlen);
	pl = gs_b64_enclen(GS_B64_URL, paylen);
	need = hl + 1 + pl + 1 + JWT_SIG_B64;
	if (need > GS_JWT_MAXLEN || need >= cap)
		return GS_JWT_ETOOBIG;
	if (gs_b64_encode(GS_B64_URL, hdr, hdrlen, out, cap, NULL) != GS_OK ||
	    gs_b64_encode(GS_B64_URL, payload, paylen, out + hl + 1,
	    cap - hl - 1, NULL) != GS_OK)
		return GS_JWT_ETOOBIG;		/* not reached: sized above */
	out[hl] = '.';
	if (wc_ed25519_sign_msg((const byte *)out, (word32)(hl + 1 + pl), sig,
	    &siglen, &s->key) != 0 || siglen != sizeof(sig))
		return GS_JWT_ECRYPTO;
	out[hl + 1 + pl] = '.';
	if (gs_b64_encode(GS_B64_URL, sig, sizeof(sig), out + hl + 1 + pl + 1,
	    cap - (hl + 1 + pl + 1), NULL) != GS_OK)
		return GS_JWT_ETOOBIG;		/* not reached: sized above */
	if (len != NULL)
		*len = need;
	return GS_JWT_OK;
}

int
gs_jwt_sign(struct gs_jwt_signer *s, const struct gs_jwt_claims *c,
    char *out, size_t cap, size_t *len)
{
	char	pay[GS_JWT_MAXLEN], sub[24], sid[24];
	json_t	*j;
	size_t	 n;

	if (!claims_valid(c))
		return GS_JWT_ECLAIMS;
	(void)snprintf(sub, sizeof(sub), "%llu", (unsigned long long)c->sub);
	(void)snprintf(sid, sizeof(sid), "%llu", (unsigned long long)c->sid);
	if ((j = json_pack("{s:s, s:s, s:s, s:I, s:I}", "sub", sub, "name",
	    c->name, "sid", sid, "iat", (json_int_t)c->iat, "exp",
	    (json_int_t)c->exp)) == NULL)
		return GS_JWT_ENOMEM;
	n = json_dumpb(j, pay, sizeof(pay), JSON_COMPACT);
	json_decref(j);
	if (n == 0)
		return GS_JWT_ENOMEM;
	if (n > sizeof(pay))
		return GS_JWT_ETOOBIG;
	return gs_jwt_sign_raw(s, s->hdr, s->hdrlen, pay, n, out, cap, len);
}

/* ----------------------------------------------------------- key set */

struct gs_jwt_keys *
gs_jwt_keys_new(void)
{
	return calloc(1, sizeof(struct gs_jwt_keys));
}

void
gs_jwt_keys_free(struct gs_jwt_keys *k)
{
	int	i;

	if (k == NULL)
		return;
	for (i = 0; i < k->n; i++)
		wc_ed25519_free(&k->k[i].key);
	free(k);
}

int
gs_jwt_keys_count(const struct gs_jwt_keys *k)
{
	return k->n;
}

/* gs_jwt_keys_add, saying why in why[whylen] when given a path. */
static int
keys_add(struct gs_jwt_keys *k, const uint8_t pub[GS_JWT_PUB_LEN],
    const char *path, char *why, size_t whylen)
{
	struct jwt_vkey	*v;
	char		 kid[GS_JWT_KID_LEN + 1];
	int		 i, err;

	if (k->n == GS_JWT_KEYS_MAX)
		return key_fail(why, whylen, path, GS_JWT_EKEY,
		    "reason=key_set_full max=%d", GS_JWT_KEYS_MAX);
	if ((err = kid_of(pub, kid)) != GS_JWT_OK)
		return key_fail(why, whylen, path, err, "reason=sha256");
	for (i = 0; i < k->n; i++)
		if (strcmp(k->k[i].kid, kid) == 0)
			return key_fail(why, whylen, path, GS_JWT_EKEY,
			    "reason=duplicate_kid kid=%s", kid);
	v = &k->k[k->n];
	if (wc_ed25519_init(&v->key) != 0)
		return key_fail(why, whylen, path, GS_JWT_ECRYPTO,
		    "reason=ed25519_init");
	/* No check of the point here: wolfCrypt's check_key wants a
	 * private key; a public key off the curve verifies nothing. */
	if (wc_ed25519_import_public(pub, GS_JWT_PUB_LEN, &v->key) != 0) {
		wc_ed25519_free(&v->key);
		return key_fail(why, whylen, path, GS_JWT_EKEY,
		    "reason=bad_public_key");
	}
	memcpy(v->kid, kid, sizeof(kid));
	k->n++;
	return GS_JWT_OK;
}

int
gs_jwt_keys_add(struct gs_jwt_keys *k, const uint8_t pub[GS_JWT_PUB_LEN])
{
	return keys_add(k, pub, "-", NULL, 0);
}

/* The raw public key of a PEM SubjectPublicKeyInfo's DER. */
static int
der_public(const char *path, const uint8_t *der, int n,
    uint8_t pub[GS_JWT_PUB_LEN], char *why, size_t whylen)
{
	ed25519_key	key;
	word32		idx = 0, sz = GS_JWT_PUB_LEN;
	int		rc, err = GS_JWT_OK;

	if (wc_ed25519_init(&key) != 0)
		return key_fail(why, whylen, path, GS_JWT_ECRYPTO,
		    "reason=ed25519_init");
	if ((rc = wc_Ed25519PublicKeyDecode(der, &idx, &key, (word32)n)) != 0)
		err = key_fail(why, whylen, path, GS_JWT_EKEY,
		    "reason=not_ed25519_public_key wolfcrypt=%d", rc);
	else if ((rc = wc_ed25519_export_public(&key, pub, &sz)) != 0 ||
	    sz != GS_JWT_PUB_LEN)
		err = key_fail(why, whylen, path, GS_JWT_ECRYPTO,
		    "reason=export_public wolfcrypt=%d", rc);
	wc_ed25519_free(&key);
	return err;
}

/* The raw public key of a private key file's text. */
static int
pem_private_public(const char *path, const char *pem, size_t len,
    uint8_t pub[GS_JWT_PUB_LEN], char *why, size_t whylen)
{
	ed25519_key	key;
	uint8_t		seed[GS_JWT_SEED_LEN];
	int		err;

	if ((err = pem_seed(path, pem, len, 1, seed, why, whylen)) !=
	    GS_JWT_OK)
		return err;
	if (wc_ed25519_init(&key) != 0)
		err = key_fail(why, whylen, path, GS_JWT_ECRYPTO,
		    "reason=ed25519_init");
	else {
		if (key_from_seed(&key, seed, pub) != GS_JWT_OK)
			err = key_fail(why, whylen, path, GS_JWT_ECRYPTO,
			    "reason=make_public");
		wc_ed25519_free(&key);
	}
	explicit_bzero(&key, sizeof(key));
	explicit_bzero(seed, sizeof(seed));
	return err;
}

int
gs_jwt_keys_load(struct gs_jwt_keys *k, const char *path, char *why,
    size_t whylen)
{
	char	pem[GS_JWT_KEYFILE_MAX];
	uint8_t	der[GS_JWT_KEYFILE_MAX], pub[GS_JWT_PUB_LEN];
	size_t	len;
	int	n, err;

	if ((err = key_file_read(path, pem, sizeof(pem), &len, why,
	    whylen)) != GS_JWT_OK)
		goto done;
	if ((n = pem_public_der(pem, len, der, sizeof(der))) > 0)
		err = der_public(path, der, n, pub, why, whylen);
	else
		err = pem_private_public(path, pem, len, pub, why, whylen);
	if (err == GS_JWT_OK)
		err = keys_add(k, pub, path, why, whylen);
done:
	explicit_bzero(pem, sizeof(pem));	/* may be a private key */
	return err;
}

/* ------------------------------------------------------------ verify */

/* buf[n] as a JSON object (caller decrefs), or NULL with *err set. */
static json_t *
parse_object(const uint8_t *buf, size_t n, int *err)
{
	json_error_t	 e;
	json_t		*j;

	j = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, &e);
	if (j == NULL) {
		*err = json_error_code(&e) == json_error_out_of_memory ?
		    GS_JWT_ENOMEM : GS_JWT_EMALFORMED;
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		*err = GS_JWT_EMALFORMED;
		return NULL;
	}
	return j;
}

static int
str_is(const json_t *j, const char *s)
{
	size_t	n = strlen(s);

	return json_is_string(j) && json_string_length(j) == n &&
	    memcmp(json_string_value(j), s, n) == 0;
}

/* The header's alg, crit, typ and kid; *key the key of the kid. */
static int
header_check(const json_t *h, struct gs_jwt_keys *k, struct jwt_vkey **key)
{
	const json_t	*typ = json_object_get(h, "typ");
	const json_t	*kid = json_object_get(h, "kid");
	int		 i;

	if (!str_is(json_object_get(h, "alg"), "EdDSA"))
		return GS_JWT_EALG;
	if (json_object_get(h, "crit") != NULL ||
	    (typ != NULL && !str_is(typ, "JWT")))
		return GS_JWT_EMALFORMED;
	if (!json_is_string(kid))
		return GS_JWT_EKID;
	for (i = 0; i < k->n; i++)
		if (str_is(kid, k->k[i].kid)) {
			*key = &k->k[i];
			return GS_JWT_OK;
		}
	return GS_JWT_EKID;
}

int
gs_jwt_verify(struct gs_jwt_keys *k, const char *tok, size_t len,
    int64_t now, int64_t leeway_s, struct gs_jwt_claims *out)
{
	struct gs_jwt_claims	 c;
	struct jwt_vkey		*key = NULL;
	const char		*d1, *d2;
	uint8_t			 hdr[JWT_PART_MAX], pay[JWT_PART_MAX];
	uint8_t			 sig[ED25519_SIG_SIZE];
	size_t			 hl, pl, sl;
	json_t			*j;
	int			 err = GS_JWT_OK, res = 0, rc;

	if (len > GS_JWT_MAXLEN)
		return GS_JWT_ETOOBIG;
	/* exactly two dots, three parts none of them empty */
	if ((d1 = memchr(tok, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok))) == NULL ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)) != NULL ||
	    d1 == tok || d2 == d1 + 1 || d2 + 1 == tok + len)
		return GS_JWT_EMALFORMED;
	if (gs_b64_decode(GS_B64_URL, tok, (size_t)(d1 - tok), hdr,
	    sizeof(hdr), &hl) != GS_OK ||
	    gs_b64_decode(GS_B64_URL, d1 + 1, (size_t)(d2 - d1 - 1), pay,
	    sizeof(pay), &pl) != GS_OK ||
	    gs_b64_decode(GS_B64_URL, d2 + 1, len - (size_t)(d2 + 1 - tok),
	    sig, sizeof(sig), &sl) != GS_OK || sl != sizeof(sig))
		return GS_JWT_EMALFORMED;

	if ((j = parse_object(hdr, hl, &err)) == NULL)
		return err;
	err = header_check(j, k, &key);
	json_decref(j);
	if (err != GS_JWT_OK)
		return err;

	/* Over the text as received: header "." payload. */
	rc = wc_ed25519_verify_msg(sig, sizeof(sig), (const byte *)tok,
	    (word32)(d2 - tok), &res, &key->key);
	if (rc != 0 || res != 1) {
		/* BAD_FUNC_ARG: S not below the group order */
		if (rc == 0 || rc == SIG_VERIFY_E || rc == BAD_FUNC_ARG)
			return GS_JWT_ESIG;
		return GS_JWT_ECRYPTO;
	}

	if ((j = parse_object(pay, pl, &err)) == NULL)
		return err;
	err = claims_get(j, &c);
	json_decref(j);
	if (err != GS_JWT_OK)
		return err;
	if (leeway_s < 0)
		leeway_s = 0;
	else if (leeway_s > GS_JWT_LEEWAY_MAX)
		leeway_s = GS_JWT_LEEWAY_MAX;
	/* exp and iat are in 0..2^53-1: neither sum can overflow */
	if (c.exp + leeway_s <= now)
		return GS_JWT_EEXPIRED;
	if (c.iat - leeway_s > now)
		return GS_JWT_ENOTYET;
	*out = c;
	return GS_JWT_OK;
}
