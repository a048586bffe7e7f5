/*
 * Rate limits by key: a token bucket per key (rate tokens a second, up
 * to burst), in a table whose size is fixed at creation.  The gateway's
 * HTTP calls by address and by account, gs-persist's chat messages by
 * account.
 *
 * Keys are byte strings: an address as gs_http_req_peer_key() gives it
 * (4 bytes for IPv4, 16 for IPv6: a client usually holds a whole IPv6
 * /64, so limit by its first 8 bytes), an account id, a name.  A key of
 * more than GS_LIMIT_KEY_MAX bytes is replaced by a 16-byte keyed digest
 * of it (SipHash-2-4-128), which other keys never equal.
 *
 * Time is the caller's: now_us from a monotonic clock (gs_now_us()),
 * never going back (if it does, no tokens are added).
 *
 * The table: cap slots (rounded up to a power of two), open addressing;
 * a key lives in one of the GS_LIMIT_PROBE slots that start at its hash, a
 * SipHash keyed with random bytes at creation so that a peer cannot aim
 * keys at one key's slots.  A key that is not there takes a slot among
 * them: an empty one; else one whose bucket has refilled (a full bucket
 * is the same as no entry: nothing is lost); else the one used longest
 * ago, whose key loses its state (counted in evicted) and starts again
 * with a full bucket when it comes back: an eviction can give a key
 * more than its share, never less.  So each call is O(GS_LIMIT_PROBE),
 * nothing is allocated after gs_limit_new(), and a key is never refused
 * because the table is full.  A key whose bucket is not full loses its
 * slot only to a new key all of whose other slots hold such keys too,
 * each used more recently.
 */
#ifndef GS_LIMIT_H
#define GS_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GS_LIMIT_KEY_MAX	16	/* longer keys are digested */
#define GS_LIMIT_PROBE	8	/* slots a key may live in */
#define GS_LIMIT_CAP_MAX	(1u << 24)

struct gs_limit_stats {
	uint64_t	allowed;
	uint64_t	limited;
	uint64_t	evicted;	/* a key's state lost for room */
	uint64_t	recycled;	/* a refilled key's slot reused */
};

struct gs_limit;

/*
 * A table of cap keys (1..GS_LIMIT_CAP_MAX, rounded up to a power of two)
 * refilling at rate tokens a second (> 0) up to burst (>= 1).  NULL
 * when an argument is out of range or memory runs out.
 */
struct gs_limit	*gs_limit_new(size_t cap, double rate, double burst);
void		 gs_limit_free(struct gs_limit *l);	/* NULL: a no-op */

/*
 * Take cost tokens from key[keylen]'s bucket at now_us: true if there
 * were enough (they are gone), false if not (none taken) with
 * *retry_after_s the seconds until there will be, rounded up, at least
 * 1 (and at most a day).  A cost over the burst takes a full bucket
 * (it is never refused for ever); a cost of 0 is always allowed and
 * changes nothing.
 * retry_after_s may be NULL.
 */
bool		 gs_limit_take(struct gs_limit *l, const void *key, size_t keylen,
		    uint64_t now_us, unsigned cost, unsigned *retry_after_s);

const struct gs_limit_stats *gs_limit_stats(const struct gs_limit *l);
/* Keys with state now (slots in use), for a gauge. */
size_t		 gs_limit_used(const struct gs_limit *l);

#endif
