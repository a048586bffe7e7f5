/*
 * The circuit breaker; the rules are in breaker.h.
 */
#include <string.h>

#include "breaker.h"

#define BREAKER_COOL_MIN_US	1000ULL
#define BREAKER_COOL_GROWTH	16	/* cool_max_us = cool_us * this */

void
breaker_init(struct breaker *b, unsigned fails, uint64_t cool_us)
{
	memset(b, 0, sizeof(*b));
	b->state = BREAKER_CLOSED;
	b->fails_max = fails > 0 ? fails : 1;
	b->cool_us = cool_us > BREAKER_COOL_MIN_US ? cool_us :
	    BREAKER_COOL_MIN_US;
	b->cool_max_us = b->cool_us * BREAKER_COOL_GROWTH;
	b->cool_now_us = b->cool_us;
	b->probes_max = 1;
}

void
breaker_set_probes(struct breaker *b, unsigned probes, uint64_t cool_max_us)
{
	b->probes_max = probes > 0 ? probes : 1;
	b->cool_max_us = cool_max_us > b->cool_us ? cool_max_us : b->cool_us;
	if (b->cool_now_us > b->cool_max_us)
		b->cool_now_us = b->cool_max_us;
}

static void
breaker_open(struct breaker *b, uint64_t now_us)
{
	b->state = BREAKER_OPEN;
	b->opens++;
	b->out = 0;
	b->until_us = now_us + b->cool_now_us;
}

/* The seconds from now_us to until_us, rounded up, at least 1. */
static unsigned
breaker_wait_s(uint64_t now_us, uint64_t until_us)
{
	uint64_t	us = until_us > now_us ? until_us - now_us : 0;
	uint64_t	s = (us + 999999) / 1000000;

	return s > 0 ? (unsigned)s : 1;
}

bool
breaker_allow(struct breaker *b, uint64_t now_us, unsigned *retry_after_s)
{
	unsigned	retry;

	if (b->state == BREAKER_OPEN && now_us >= b->until_us) {
		b->state = BREAKER_HALF_OPEN;
		b->out = 0;
		b->since_us = now_us;
	}
	switch (b->state) {
	case BREAKER_CLOSED:
		return true;
	case BREAKER_HALF_OPEN:
		if (b->out < b->probes_max) {
			b->out++;
			b->probes++;
			return true;
		}
		if (now_us >= b->since_us &&
		    now_us - b->since_us >= b->cool_max_us) {
			/* The probes' outcomes never came: failed. */
			breaker_done(b, now_us, false);
			retry = breaker_wait_s(now_us, b->until_us);
		} else
			retry = 1;
		break;
	case BREAKER_OPEN:
	default:
		retry = breaker_wait_s(now_us, b->until_us);
		break;
	}
	b->rejections++;
	if (retry_after_s != NULL)
		*retry_after_s = retry;
	return false;
}

void
breaker_done(struct breaker *b, uint64_t now_us, bool ok)
{
	switch (b->state) {
	case BREAKER_CLOSED:
		if (ok)
			b->fails = 0;
		else if (++b->fails >= b->fails_max) {
			b->fails = 0;
			breaker_open(b, now_us);
		}
		break;
	case BREAKER_HALF_OPEN:		/* a probe's, or taken as one */
		if (ok) {
			b->state = BREAKER_CLOSED;
			b->fails = 0;
			b->out = 0;
			b->cool_now_us = b->cool_us;
		} else {
			b->cool_now_us = b->cool_now_us * 2 < b->cool_max_us ?
			    b->cool_now_us * 2 : b->cool_max_us;
			breaker_open(b, now_us);
		}
		break;
	case BREAKER_OPEN:
	default:
		break;			/* from before it opened */
	}
}

const char *
breaker_state_name(enum breaker_state s)
{
	switch (s) {
	case BREAKER_CLOSED:
		return "closed";
	case BREAKER_OPEN:
		return "open";
	case BREAKER_HALF_OPEN:
		return "half-open";
	default:
		return "?";
	}
}
