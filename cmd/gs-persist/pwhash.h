/*
 * Password hashes: scrypt (RFC 7914) through wolfCrypt, the only place
 * passwords are hashed.  Private to cmd/gs-persist.
 *
 * A stored hash is one self-describing string in the PHC string format
 * (github.com/P-H-C/phc-string-format), scrypt's parameters named as
 * other implementations name them:
 *
 *	$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>
 *
 * salt and hash in base64 without padding (b64.h, GS_B64_STD_NOPAD);
 * pwhash_make writes a 16-byte salt from getrandom(2) and a 32-byte
 * hash.  Since every string carries its parameters, the defaults can
 * change and old hashes still check; a caller that wants to upgrade
 * them re-hashes on a successful login.
 *
 * Parameters, for making and for checking alike, are bounded so that a
 * stored string cannot make a check allocate or compute without limit:
 * r in 1..8 (wolfCrypt's limit), p in 1..PWHASH_P_MAX, ln in 1..
 * PWHASH_LN_MAX and below 16 r (wolfCrypt's), memory 128 N r at most
 * PWHASH_MEM_MAX and work N r p at most PWHASH_WORK_MAX.
 *
 * Threads: both functions are safe to call from any number of threads
 * at once; they share no state.  Each takes about as long as scrypt
 * with the parameters (a few hundred ms with the defaults): never call
 * them on the loop thread.
 *
 * Secrets: the password is borrowed and never copied; the derived
 * bytes are zeroed before return.  The caller wipes the password.
 */
#ifndef PWHASH_H
#define PWHASH_H

#include <stdbool.h>
#include <stddef.h>

#define PWHASH_SALT_LEN	16		/* bytes written by pwhash_make */
#define PWHASH_HASH_LEN	32
#define PWHASH_LN_MAX	20
#define PWHASH_R_MAX	8
#define PWHASH_P_MAX	16
#define PWHASH_MEM_MAX	(256u << 20)	/* bytes: 128 N r */
#define PWHASH_WORK_MAX	(1u << 22)	/* N r p; the default is 2^20 */
#define PWHASH_STR_MAX	256		/* bytes of a stored string, NUL
					 * included: pwhash_make's out */

/* One result set for both functions. */
enum {
	PWHASH_OK = 0,		/* made; checked: the password matches */
	PWHASH_NOMATCH,		/* checked: another password (or len 0) */
	PWHASH_EMALFORMED,	/* the stored string is not one pwhash_make
				 * writes, or its parameters are out of
				 * bounds */
	PWHASH_EINVAL,		/* make: parameters out of bounds, len 0 */
	PWHASH_ETOOBIG,		/* make: out[cap] too small */
	PWHASH_ENOMEM,		/* scrypt's memory could not be had */
	PWHASH_ESYS,		/* getrandom(2) failed (errno is set) */
	PWHASH_ECRYPTO,		/* wolfCrypt failed otherwise */
	PWHASH_RESULT_MAX
};

/* scrypt's cost parameters: N = 2^ln, block size r, parallelism p. */
struct gs_pwhash_params {
	int	ln, r, p;
};

/* One of OWASP's equivalent settings, N=2^16, r=8, p=2: 64 MiB and
 * about 0.5 s per hash; pwhash.c has the figures of the others. */
extern const struct gs_pwhash_params pwhash_default;

/* Short lower-case name of a result ("nomatch", "malformed", ...). */
const char	*pwhash_result_name(int r);

/* Whether pw is within the bounds above. */
bool	pwhash_params_ok(const struct gs_pwhash_params *pw);

/*
 * Hash password[len] with a new random salt into out[cap] as a stored
 * string and a NUL (PWHASH_STR_MAX always suffices).  PWHASH_OK,
 * PWHASH_EINVAL, PWHASH_ETOOBIG, PWHASH_ENOMEM, PWHASH_ESYS or
 * PWHASH_ECRYPTO; on error out holds nothing usable.
 */
int	pwhash_make(const struct gs_pwhash_params *pw, const char *password,
	    size_t len, char *out, size_t cap);

/*
 * Whether password[len] is the one stored (a NUL-ended string of
 * pwhash_make's).  PWHASH_OK (it is), PWHASH_NOMATCH (it is not),
 * PWHASH_EMALFORMED, PWHASH_ENOMEM or PWHASH_ECRYPTO: grant access on
 * PWHASH_OK only.  The hashes are compared in constant time.
 */
int	pwhash_check(const char *stored, const char *password, size_t len);

#endif
