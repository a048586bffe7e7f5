/*
 * Base64 (RFC 4648); the variants and the strictness rules are in
 * b64.h.
 */
#include <stdint.h>
#include <string.h>

#include "b64.h"
#include "err.h"

static const char *
alphabet(int flags)
{
	return (flags & GS_B64_URLSAFE) ?
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" :
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

/* The 6-bit value of c in the variant's alphabet, or -1. */
static int
sextet(int flags, unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == ((flags & GS_B64_URLSAFE) ? '-' : '+'))
		return 62;
	if (c == ((flags & GS_B64_URLSAFE) ? '_' : '/'))
		return 63;
	return -1;
}

size_t
gs_b64_enclen(int flags, size_t n)
{
	size_t	rem = n % 3;

	if (n / 3 > (SIZE_MAX - 4) / 4)
		return SIZE_MAX;
	if (rem == 0 || !(flags & GS_B64_NOPAD))
		return (n / 3 + (rem != 0)) * 4;
	return n / 3 * 4 + rem + 1;
}

int
gs_b64_encode(int flags, const void *src, size_t n, char *dst, size_t cap,
    size_t *len)
{
	const char	*a = alphabet(flags);
	const uint8_t	*p = src;
	size_t		 need = gs_b64_enclen(flags, n), i;
	char		*q = dst;
	uint32_t	 v;

	if (need == SIZE_MAX || need >= cap)
		return GS_ETOOBIG;
	for (i = 0; n - i >= 3; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*q++ = a[v >> 18];
		*q++ = a[(v >> 12) & 63];
		*q++ = a[(v >> 6) & 63];
		*q++ = a[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		*q++ = a[v >> 18];
		*q++ = a[(v >> 12) & 63];
		if (!(flags & GS_B64_NOPAD)) {
			*q++ = '=';
			*q++ = '=';
		}
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		*q++ = a[v >> 18];
		*q++ = a[(v >> 12) & 63];
		*q++ = a[(v >> 6) & 63];
		if (!(flags & GS_B64_NOPAD))
			*q++ = '=';
	}
	*q = '\0';
	if (len != NULL)
		*len = (size_t)(q - dst);
	return GS_OK;
}

int
gs_b64_decode(int flags, const char *src, size_t n, uint8_t *dst,
    size_t cap, size_t *len)
{
	const unsigned char	*s = (const unsigned char *)src;
	size_t			 m = n, out, i, k;
	uint32_t		 v;
	int			 c;

	if (!(flags & GS_B64_NOPAD)) {
		if (n % 4 != 0)
			return GS_EINVAL;
		/* '=' anywhere else fails below as a bad character */
		if (m > 0 && s[m - 1] == '=')
			m--;
		if (m > 0 && s[m - 1] == '=' && n - m == 1)
			m--;
	}
	if (m % 4 == 1)
		return GS_EINVAL;
	out = m / 4 * 3 + (m % 4 == 0 ? 0 : m % 4 - 1);
	if (out > cap)
		return GS_ETOOBIG;
	for (i = 0, k = 0; i < m; ) {
		/* a group of 4 characters, or the last 2 or 3 */
		size_t	g = m - i < 4 ? m - i : 4, j;

		for (v = 0, j = 0; j < 4; j++) {
			if (j < g) {
				if ((c = sextet(flags, s[i + j])) < 0)
					return GS_EINVAL;
			} else
				c = 0;
			v = v << 6 | (uint32_t)c;
		}
		/* the unused bits of a short group's last character */
		if ((g == 2 && (v & 0xffff) != 0) ||
		    (g == 3 && (v & 0xff) != 0))
			return GS_EINVAL;
		dst[k++] = (uint8_t)(v >> 16);
		if (g > 2)
			dst[k++] = (uint8_t)(v >> 8);
		if (g > 3)
			dst[k++] = (uint8_t)v;
		i += g;
	}
	*len = out;
	return GS_OK;
}
