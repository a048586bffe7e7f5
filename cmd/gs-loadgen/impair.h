/*
 * Netem-style impairment at the message level, and SLO clauses.
 *
 * Nothing here knows about lws or libev: time is passed in (µs,
 * monotonic), randomness comes from a caller's state, so the queue and
 * the parsers can be driven by a unit test without sockets.
 *
 * An impairment spec is parsed once from the -I arguments (ranges
 * lo..hi), then each client draws its own values from it (struct
 * lg_impair), and each connection of the client feeds every message of
 * one direction through a queue (struct lg_iq) that gives it a release
 * time.  The queue's mode decides what loss, duplication and
 * reordering mean: on a reliable ordered transport (WebSocket over
 * TCP) nothing is lost or duplicated, only delayed as TCP would delay
 * it; on a datagram transport (QUIC's DATAGRAM frames) they are real.
 */
#ifndef LG_IMPAIR_H
#define LG_IMPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LG_IQ_MSGS_MAX	4096		/* messages held by one queue */
#define LG_IQ_BYTES_MAX	(8u << 20)	/* bytes held by one queue */
#define LG_RTO_MIN_US	200000		/* Linux TCP_RTO_MIN */
#define LG_RETX_MAX	6		/* retransmissions of one message */
#define LG_SLO_MAX	32		/* clauses */
#define LG_SLO_EXPR_MAX	64

enum lg_dir { LG_UP = 0, LG_DOWN = 1, LG_NDIR = 2 };

/* What the carrying transport does with a lost, duplicated or late
 * message: TCP repairs and orders, datagrams do not. */
enum lg_iq_mode { LG_IQ_RELIABLE_ORDERED, LG_IQ_DATAGRAM };

struct lg_range {
	double		lo, hi;
};

/* Keys of a spec; each is a range drawn per client. */
enum lg_key {
	LG_K_LOSS,		/* random loss, fraction */
	LG_K_GE_P,		/* Gilbert-Elliott: good -> bad */
	LG_K_GE_R,		/* bad -> good */
	LG_K_GE_H1,		/* loss in bad (1-h) */
	LG_K_GE_K1,		/* loss in good (1-k) */
	LG_K_DELAY,		/* µs */
	LG_K_JITTER,		/* µs, uniform in +-jitter */
	LG_K_DUP,		/* fraction */
	LG_K_REORDER,		/* fraction */
	LG_K_RATE,		/* bits per second; 0: unlimited */
	LG_NKEYS
};

/* One direction as given on the command line. */
struct lg_impair_spec {
	bool		 set[LG_NKEYS];
	struct lg_range	 v[LG_NKEYS];
};

/* One direction as drawn for one client. */
struct lg_impair {
	bool		 on;		/* any key in effect */
	bool		 ge;		/* Gilbert-Elliott loss in effect */
	double		 v[LG_NKEYS];
};

/* Counters of what the queues did; shared by every queue of a run. */
struct lg_iq_stats {
	uint64_t	msgs;		/* messages pushed */
	uint64_t	bytes;
	uint64_t	lost;		/* lost (datagram) or retransmitted (TCP) */
	uint64_t	retx;		/* TCP model: retransmissions, all rounds */
	uint64_t	dup;		/* duplicated (datagram) or counted (TCP) */
	uint64_t	reordered;
	uint64_t	hol;		/* held back behind an earlier message */
	uint64_t	overflow;	/* queue full: dropped */
};

struct lg_iq_ent {
	uint64_t	 t;		/* release time, µs */
	uint64_t	 n;		/* push order: ties release in order */
	uint8_t		*buf;		/* owned */
	size_t		 len;
};

struct lg_iq {
	enum lg_iq_mode		 mode;
	const struct lg_impair	*imp;		/* borrowed */
	struct lg_iq_stats	*st;		/* borrowed */
	uint64_t		*rng;		/* borrowed */
	uint64_t		 rtt_us;	/* the client's path RTT */
	struct lg_iq_ent	*heap;		/* min-heap on (t, n), owned */
	size_t			 n, cap, bytes;
	uint64_t		 seq;
	uint64_t		 link_free;	/* rate limit: link busy until */
	uint64_t		 last_t;	/* ordered: latest release */
	uint64_t		 last_in;	/* time of the last push */
	uint64_t		 gap_us;	/* EWMA of the push interval */
	bool			 ge_bad;	/* Gilbert-Elliott state */
};

const char	*lg_key_name(int key);

/*
 * Parse one -I argument, "[up:|down:]key=value[,key=value...]", into
 * spec[LG_UP] and spec[LG_DOWN] (no prefix: both).  Later keys replace
 * earlier ones.  Returns 0, or -1 with a message in err.
 */
int	lg_impair_parse(const char *arg, struct lg_impair_spec spec[LG_NDIR],
	    char *err, size_t errlen);
/* Draw a client's values: one uniform number per key, used for both
 * directions, so a client slow one way is slow the other way too. */
void	lg_impair_draw(const struct lg_impair_spec spec[LG_NDIR],
	    uint64_t *rng, struct lg_impair out[LG_NDIR]);
/* Path RTT of a drawn pair: delay up + delay down, at least 1 ms. */
uint64_t lg_impair_rtt_us(const struct lg_impair imp[LG_NDIR]);

/* The queue.  imp, st and rng are borrowed and must outlive it. */
void	lg_iq_init(struct lg_iq *q, enum lg_iq_mode mode,
	    const struct lg_impair *imp, uint64_t rtt_us, uint64_t *rng,
	    struct lg_iq_stats *st);
/*
 * A message of len bytes is sent (up) or arrives (down) at now: copy
 * it in with its release time.  Returns 0 (queued, or lost on a
 * datagram transport), or -1 if the queue is full or out of memory
 * (counted as overflow; the message is gone).
 */
int	lg_iq_push(struct lg_iq *q, uint64_t now, const void *buf,
	    size_t len);
/* Release time of the next message, or UINT64_MAX when empty. */
uint64_t lg_iq_next(const struct lg_iq *q);
/* The next message if due at now, else NULL.  Borrowed until pop. */
const struct lg_iq_ent *lg_iq_due(const struct lg_iq *q, uint64_t now);
/* Remove the next message; the caller takes ownership of its buffer. */
uint8_t	*lg_iq_pop(struct lg_iq *q, size_t *len);
/* Free everything queued: the connection is gone with it. */
void	lg_iq_clear(struct lg_iq *q);

/* ---------------------------------------------------------------- SLO */

enum lg_metric {
	LG_M_P50_RTT, LG_M_P95_RTT, LG_M_P99_RTT, LG_M_MAX_RTT,
	LG_M_P50_E2E, LG_M_P95_E2E, LG_M_P99_E2E,
	LG_M_DROP, LG_M_RECONNECT, LG_M_ERRORS, LG_M_SERVED,
	LG_NMETRICS
};
enum lg_op { LG_OP_LT, LG_OP_LE, LG_OP_GT, LG_OP_GE };

struct lg_slo_clause {
	char		expr[LG_SLO_EXPR_MAX];	/* as given, trimmed */
	int		metric;
	int		op;
	double		value;		/* ms, fraction or count */
};

struct lg_slo {
	struct lg_slo_clause	c[LG_SLO_MAX];
	int			n;
};

/* Measured values; have[m] false when there is nothing to measure. */
struct lg_metrics {
	double		v[LG_NMETRICS];
	bool		have[LG_NMETRICS];
};

const char	*lg_metric_name(int m);
/* "ms", "%" or "" : how a metric's value is shown. */
const char	*lg_metric_unit(int m);
/* Append the clauses of arg ("p95_rtt<120ms,drop<3%").  Returns 0, or
 * -1 with a message in err (and slo unchanged). */
int	lg_slo_parse(struct lg_slo *slo, const char *arg, char *err,
	    size_t errlen);
/* A clause holds; a metric without a value never holds. */
bool	lg_slo_holds(const struct lg_slo_clause *c,
	    const struct lg_metrics *m);

#endif
