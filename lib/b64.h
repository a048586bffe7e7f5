/*
 * Base64 (RFC 4648): the one encoder and decoder.  Three variants, by
 * flags:
 *
 *   GS_B64_STD		§4 alphabet (+ /), padded with '=': msgpack bin
 *			in JSON (json.h).
 *   GS_B64_URL		§5 alphabet (- _), no padding: JWS and JWT
 *			(RFC 7515 §2).
 *   GS_B64_STD_NOPAD	§4 alphabet, no padding: the PHC string format
 *			of stored password hashes.
 *
 * Decoding is strict: only the variant's own alphabet; no whitespace;
 * padded text a multiple of 4 characters with '=' only as its last one
 * or two; unpadded text never of length 4k+1 and never with '='; the
 * unused low bits of the last character zero, so that every byte
 * string has exactly one accepted text.  Neither direction runs in
 * constant time: not for secrets.  Neither allocates.
 */
#ifndef GS_B64_H
#define GS_B64_H

#include <stddef.h>
#include <stdint.h>

#define GS_B64_URLSAFE	0x1	/* - and _ in place of + and / */
#define GS_B64_NOPAD	0x2	/* no trailing '=' */

#define GS_B64_STD	 0
#define GS_B64_URL	(GS_B64_URLSAFE | GS_B64_NOPAD)
#define GS_B64_STD_NOPAD GS_B64_NOPAD

/* Characters of the text for n bytes, without the NUL; SIZE_MAX when
 * n is too large for the result to fit in a size_t. */
size_t	gs_b64_enclen(int flags, size_t n);

/*
 * Encode src[n] into dst as text and a NUL; *len (may be NULL) gets
 * the characters written, the NUL not counted.  GS_OK, or GS_ETOOBIG
 * when dst[cap] cannot hold gs_b64_enclen() + 1 (dst untouched).
 */
int	gs_b64_encode(int flags, const void *src, size_t n, char *dst,
	    size_t cap, size_t *len);

/*
 * Decode the text src[n] (no NUL needed) into dst[cap]; *len gets the
 * bytes written.  GS_OK; GS_EINVAL for text the variant does not
 * accept (see above); GS_ETOOBIG when the result would not fit in
 * cap (nothing written).  On error *len is untouched and dst holds
 * nothing the caller may use.
 */
int	gs_b64_decode(int flags, const char *src, size_t n, uint8_t *dst,
	    size_t cap, size_t *len);

#endif
