/*
 * Token buckets by key in a fixed table; the rules are in limit.h.
 *
 * A slot holds its bucket as it was at its last use (tokens at
 * last_us); the refill is worked out when the key comes back, so an
 * idle key costs nothing.  The hash is wolfSSL's SipHash (the one
 * keyed hash at hand: lib/util.h's FNV-1a takes NUL-terminated strings
 * and is unkeyed), over the key as given, or over its digest.
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/siphash.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

#include "limit.h"

#define LIMIT_DIGEST	(GS_LIMIT_KEY_MAX + 1)	/* keylen of a digest */

struct limit_slot {
	uint64_t	 last_us;	/* last take */
	double		 tokens;	/* in the bucket at last_us */
	uint8_t		 key[GS_LIMIT_KEY_MAX];
	uint8_t		 keylen;	/* LIMIT_DIGEST: key is a digest */
	bool		 used;
};

struct gs_limit {
	struct limit_slot	*slots;
	size_t			 mask;		/* slots - 1 */
	size_t			 used;
	double			 rate;		/* tokens per µs */
	double			 rate_s;	/* tokens per second */
	double			 burst;
	uint8_t			 hkey[SIPHASH_KEY_SIZE];
	uint8_t			 dkey[SIPHASH_KEY_SIZE];	/* digests */
	struct gs_limit_stats	 stats;
};

static void
limit_siphash(const uint8_t *hkey, const void *in, size_t len, uint8_t *out,
    unsigned char outlen)
{
	/* Fails only on bad arguments, which these are not. */
	if (wc_SipHash(hkey, in, (word32)len, out, outlen) != 0)
		gs_fatalx(GS_EXIT_SYSTEM, "limit: wc_SipHash failed len=%zu",
		    len);
}

struct gs_limit *
gs_limit_new(size_t cap, double rate, double burst)
{
	struct gs_limit	*l;
	size_t		 n = GS_LIMIT_PROBE;
	uint64_t	 r;
	int		 i;

	if (cap == 0 || cap > GS_LIMIT_CAP_MAX || !isfinite(rate) || rate <= 0 ||
	    !isfinite(burst) || burst < 1)
		return NULL;
	while (n < cap)
		n *= 2;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	if ((l->slots = calloc(n, sizeof(*l->slots))) == NULL) {
		free(l);
		return NULL;
	}
	l->mask = n - 1;
	l->rate = rate / 1e6;
	l->rate_s = rate;
	l->burst = burst;
	for (i = 0; i < SIPHASH_KEY_SIZE; i += 8) {
		r = gs_random_u64();
		memcpy(l->hkey + i, &r, 8);
		r = gs_random_u64();
		memcpy(l->dkey + i, &r, 8);
	}
	return l;
}

void
gs_limit_free(struct gs_limit *l)
{
	if (l == NULL)
		return;
	free(l->slots);
	free(l);
}

/* The bucket of s refilled to now_us. */
static double
limit_refill(const struct gs_limit *l, const struct limit_slot *s,
    uint64_t now_us)
{
	double	t = s->tokens;

	if (now_us > s->last_us)
		t += (double)(now_us - s->last_us) * l->rate;
	return t < l->burst ? t : l->burst;
}

/* key's slot: its own, or one taken for it (refilled to a full bucket). */
static struct limit_slot *
limit_slot(struct gs_limit *l, const uint8_t *key, uint8_t keylen,
    uint64_t now_us)
{
	struct limit_slot	*s, *empty = NULL, *full = NULL, *oldest = NULL;
	uint8_t			 h[8];
	uint64_t		 i0;
	size_t			 i;

	limit_siphash(l->hkey, key, keylen, h, sizeof(h));
	memcpy(&i0, h, sizeof(i0));
	for (i = 0; i < GS_LIMIT_PROBE; i++) {
		s = &l->slots[(i0 + i) & l->mask];
		if (!s->used) {
			if (empty == NULL)
				empty = s;
			continue;
		}
		if (s->keylen == keylen && memcmp(s->key, key,
		    keylen < GS_LIMIT_KEY_MAX ? keylen : GS_LIMIT_KEY_MAX) == 0)
			return s;
		if (full == NULL && limit_refill(l, s, now_us) >= l->burst)
			full = s;
		if (oldest == NULL || s->last_us < oldest->last_us)
			oldest = s;
	}
	if ((s = empty) != NULL)
		l->used++;
	else if ((s = full) != NULL)
		l->stats.recycled++;
	else {
		s = oldest;
		l->stats.evicted++;
	}
	memcpy(s->key, key, keylen < GS_LIMIT_KEY_MAX ? keylen : GS_LIMIT_KEY_MAX);
	s->keylen = keylen;
	s->used = true;
	s->tokens = l->burst;
	s->last_us = now_us;
	return s;
}

bool
gs_limit_take(struct gs_limit *l, const void *key, size_t keylen, uint64_t now_us,
    unsigned cost, unsigned *retry_after_s)
{
	struct limit_slot	*s;
	uint8_t			 digest[GS_LIMIT_KEY_MAX];
	double			 t, want, wait;

	if (cost == 0) {
		l->stats.allowed++;
		return true;
	}
	if (keylen > GS_LIMIT_KEY_MAX) {
		limit_siphash(l->dkey, key, keylen, digest, sizeof(digest));
		s = limit_slot(l, digest, LIMIT_DIGEST, now_us);
	} else
		s = limit_slot(l, key, (uint8_t)keylen, now_us);
	t = limit_refill(l, s, now_us);
	want = (double)cost < l->burst ? (double)cost : l->burst;
	if (now_us > s->last_us)
		s->last_us = now_us;
	if (t >= want) {
		s->tokens = t - want;
		l->stats.allowed++;
		return true;
	}
	s->tokens = t;
	l->stats.limited++;
	if (retry_after_s != NULL) {
		/* Less a hair, so that a float's last bit does not add a
		 * whole second. */
		wait = ceil((want - t) / l->rate_s - 1e-9);
		*retry_after_s = wait < 1 ? 1 :
		    wait > 86400 ? 86400 : (unsigned)wait;
	}
	return false;
}

const struct gs_limit_stats *
gs_limit_stats(const struct gs_limit *l)
{
	return &l->stats;
}

size_t
gs_limit_used(const struct gs_limit *l)
{
	return l->used;
}
