/*
 * Access tokens: JWTs (RFC 7519) in the JWS compact serialization,
 * signed with Ed25519 (alg "EdDSA", RFC 8037), through wolfCrypt.
 *
 * A token is
 *
 *	base64url(header) "." base64url(payload) "." base64url(signature)
 *
 * unpadded (b64.h, GS_B64_URL), at most GS_JWT_MAXLEN characters, with
 *
 *	header	{"alg":"EdDSA","typ":"JWT","kid":"<16 hex digits>"}
 *	payload	{"sub":"<digits>","name":"...","sid":"<digits>",
 *		 "iat":<seconds>,"exp":<seconds>}
 *
 * The kid is the first 8 bytes of SHA-256 of the raw 32-byte public
 * key in lower-case hex, so any holder of the public key can compute
 * it; a verifier picks the key by kid, which lets a new signing key
 * start while tokens of the old one are still alive (rotation: add the
 * new public key to every verifier, then switch the signer, then drop
 * the old key after the longest token lifetime).
 *
 * Verifying accepts exactly what signing makes, and a little more that
 * RFC 7515/7519 ask a reader to tolerate: other header members than
 * alg, typ and kid are ignored except "crit", which is refused (we
 * understand no extension); typ, if present, must be "JWT"; claims
 * other than the five above are ignored.  JSON must be valid UTF-8
 * without duplicate member names or NUL.  The payload's base64url is
 * checked with the rest of the token's shape, but its JSON is not
 * parsed before the signature has verified.
 *
 * Threads: a signer or a key set is used by one thread at a time (the
 * gateway's loop): wolfCrypt takes the key as writable in sign and
 * verify and promises nothing about concurrent use.  Distinct objects
 * may be used by distinct threads at once.
 *
 * Secrets: the private key lives only inside a signer and is zeroed
 * when the signer is freed; buffers that held it on the way (file
 * text, DER, seed) are zeroed before the loaders return.
 */
#ifndef GS_JWT_H
#define GS_JWT_H

#include <stddef.h>
#include <stdint.h>

#define GS_JWT_MAXLEN	1024	/* characters of a token, either way */
#define GS_JWT_KEYS_MAX	8	/* public keys in a verifying set */
#define GS_JWT_NAME_MAX	32	/* bytes of a display name */
#define GS_JWT_KID_LEN	16	/* hex digits of a kid */
#define GS_JWT_SEED_LEN	32	/* raw Ed25519 private key (RFC 8032) */
#define GS_JWT_PUB_LEN	32	/* raw Ed25519 public key */
#define GS_JWT_LEEWAY_MAX 3600	/* leeway_s is clamped into 0..this */
#define GS_JWT_KEYFILE_MAX 4096 /* bytes of a PEM key file */

/* Results of every function here.  Verification's reasons are apart
 * so that the gateway can count and report each. */
enum {
	GS_JWT_OK = 0,
	GS_JWT_EMALFORMED,	/* not 3 base64url parts of a JSON object
				 * header, a 64-byte signature and a JSON
				 * object payload; crit; typ not "JWT" */
	GS_JWT_ETOOBIG,		/* token over GS_JWT_MAXLEN; output over cap */
	GS_JWT_EALG,		/* alg missing or not "EdDSA" ("none"...) */
	GS_JWT_EKID,		/* kid missing or of no key in the set */
	GS_JWT_ESIG,		/* the signature does not verify */
	GS_JWT_ECLAIMS,		/* a claim missing, mistyped or out of
				 * range (see struct gs_jwt_claims) */
	GS_JWT_EEXPIRED,	/* exp <= now - leeway */
	GS_JWT_ENOTYET,		/* iat > now + leeway */
	GS_JWT_EKEY,		/* a key not loaded: file, format, set full,
				 * duplicate kid (why says which) */
	GS_JWT_ENOMEM,		/* allocation failed */
	GS_JWT_ECRYPTO,		/* wolfCrypt failed where it should not */
	GS_JWT_ERR_MAX
};

/* Short lower-case name of a result ("malformed", "expired", ...). */
const char	*gs_jwt_err_name(int err);

/*
 * What a token says.  Signing refuses and verifying reports
 * GS_JWT_ECLAIMS unless:
 *   sub, sid	in 1..UINT64_MAX; in JSON a string of decimal digits
 *		without leading zeros (64-bit ids do not fit a double);
 *   name	1..GS_JWT_NAME_MAX bytes of A-Z a-z 0-9 _ . -, NUL-ended;
 *   iat, exp	JSON integers, 0 <= iat < exp <= 2^53 - 1.
 */
struct gs_jwt_claims {
	uint64_t	sub;		/* account id */
	char		name[GS_JWT_NAME_MAX + 1];	/* display name */
	uint64_t	sid;		/* session: the refresh-token chain
					 * the token was issued from */
	int64_t		iat;		/* issued at, seconds since epoch */
	int64_t		exp;		/* expires at, the same */
};

/* ------------------------------------------------------------ signer */

struct gs_jwt_signer;

/*
 * Load the private key from a PEM file holding a PKCS#8 Ed25519 key
 * ("-----BEGIN PRIVATE KEY-----", as `openssl genpkey -algorithm
 * ed25519` writes it; not encrypted).  On success *out is a new
 * signer (caller frees with gs_jwt_signer_free).  On error *out is
 * untouched and why[whylen] holds "file=<path> reason=<word> ..."
 * for a log line.  GS_JWT_OK, GS_JWT_EKEY, GS_JWT_ENOMEM or
 * GS_JWT_ECRYPTO.
 */
int	gs_jwt_signer_load(struct gs_jwt_signer **out, const char *path,
	    char *why, size_t whylen);
/* The same from the raw 32-byte private key (tests, RFC 8037 A.1);
 * seed is borrowed and not zeroed: the caller's to wipe. */
int	gs_jwt_signer_from_seed(struct gs_jwt_signer **out,
	    const uint8_t seed[GS_JWT_SEED_LEN]);
/* Zero the key and free.  NULL is a no-op. */
void	gs_jwt_signer_free(struct gs_jwt_signer *s);
/* The signer's kid, NUL-ended; valid while s lives. */
const char	*gs_jwt_signer_kid(const struct gs_jwt_signer *s);
/* The signer's raw public key, to add it to a key set. */
void	gs_jwt_signer_public(const struct gs_jwt_signer *s,
	    uint8_t pub[GS_JWT_PUB_LEN]);

/*
 * Sign claims into out[cap] as a token and a NUL; *len (may be NULL)
 * gets its length.  GS_JWT_OK; GS_JWT_ECLAIMS (claims out of their
 * ranges); GS_JWT_ETOOBIG (cap too small: GS_JWT_MAXLEN + 1 always
 * suffices); GS_JWT_ENOMEM; GS_JWT_ECRYPTO.  On error out holds
 * nothing usable.
 */
int	gs_jwt_sign(struct gs_jwt_signer *s, const struct gs_jwt_claims *c,
	    char *out, size_t cap, size_t *len);
/*
 * The JWS of any header and payload bytes, taken as they are (the
 * signer's kid is not added): for known-answer tests and for tests
 * that need a validly signed token carrying something gs_jwt_sign
 * would refuse.  Results as gs_jwt_sign, without GS_JWT_ECLAIMS.
 */
int	gs_jwt_sign_raw(struct gs_jwt_signer *s, const void *hdr,
	    size_t hdrlen, const void *payload, size_t paylen, char *out,
	    size_t cap, size_t *len);

/* ------------------------------------------------------- key set */

struct gs_jwt_keys;

/* An empty set (caller frees with gs_jwt_keys_free); NULL when out of
 * memory. */
struct gs_jwt_keys	*gs_jwt_keys_new(void);
/* Free the set.  NULL is a no-op. */
void	gs_jwt_keys_free(struct gs_jwt_keys *k);
/*
 * Add the public key of a PEM file: a SubjectPublicKeyInfo ("-----BEGIN
 * PUBLIC KEY-----", `openssl pkey -pubout`), or a private key file as
 * gs_jwt_signer_load takes, whose public key is derived (one file for
 * both in development).  Errors as gs_jwt_signer_load; also
 * GS_JWT_EKEY when the set is full or already holds that kid.
 */
int	gs_jwt_keys_load(struct gs_jwt_keys *k, const char *path, char *why,
	    size_t whylen);
/* Add a raw public key (pub borrowed).  GS_JWT_OK, GS_JWT_EKEY (set
 * full, kid present) or GS_JWT_ECRYPTO. */
int	gs_jwt_keys_add(struct gs_jwt_keys *k,
	    const uint8_t pub[GS_JWT_PUB_LEN]);
/* Number of keys in the set. */
int	gs_jwt_keys_count(const struct gs_jwt_keys *k);

/*
 * Verify the token tok[len] (no NUL needed) against the key set k
 * (not NULL) at time now (seconds since the epoch), allowing clocks
 * leeway_s apart (clamped into 0..GS_JWT_LEEWAY_MAX).  On GS_JWT_OK
 * *out gets the claims; on any other result *out is untouched.  The
 * checks go in this order, so a token gets the first reason that
 * applies: length (ETOOBIG), shape and base64url of all three parts
 * and the header's JSON (EMALFORMED), alg (EALG), crit and typ
 * (EMALFORMED), kid (EKID), signature (ESIG), the payload's JSON
 * (EMALFORMED), claims (ECLAIMS), exp (EEXPIRED), iat (ENOTYET).
 * GS_JWT_ENOMEM when jansson runs out of memory; GS_JWT_ECRYPTO when
 * wolfCrypt fails for another reason than a bad signature.
 */
int	gs_jwt_verify(struct gs_jwt_keys *k, const char *tok, size_t len,
	    int64_t now, int64_t leeway_s, struct gs_jwt_claims *out);

#endif
