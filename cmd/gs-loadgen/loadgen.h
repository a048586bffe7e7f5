/*
 * gs-loadgen: headless clients that play by the client wire protocol
 * (lib/proto.h) over WebSocket or QUIC, under netem-style impairment,
 * in a scenario (play, churn, reconnect storm), and report what they
 * saw.
 *
 * One libev loop, one connection object per client (ws.h or lgquic.h,
 * as the URL's scheme says), one tick timer for everything periodic (ramp, timeouts, inputs, pings,
 * reconnects, scenario actions): N clients need no N tick timers.  The
 * impairment queues are the exception: each impaired direction of a
 * client has a timer armed at its next release time, because a
 * simulated delay measured at tick granularity would be a lie.
 *
 * What a client wants to send (want bits: hello, input, ping, bye)
 * leaves at once, as one WebSocket message or as QUIC datagrams and
 * stream bytes, or, while its connection still holds earlier bytes,
 * when the connection reports it writable.
 *
 * Every message a client sends leaves through lg_client_send() and
 * every message it receives enters through lg_client_deliver(): with
 * impairment they pass through the client's queues (impair.h), one per
 * direction and lane.  WebSocket has one lane, reliable and ordered
 * (TCP's model); QUIC's stream is that lane, and its datagrams the
 * unreliable one (the datagram model: real loss, duplicates, reorder).
 */
#ifndef LG_LOADGEN_H
#define LG_LOADGEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <ev.h>

#include "impair.h"
#include "lgquic.h"
#include "proto.h"
#include "ws.h"

#define LG_TX_MAX	1024		/* one outgoing WebSocket message */
#define LG_RX_MAX	(256 * 1024)	/* one incoming WebSocket message */
#define LG_REDUNDANCY	3		/* inputs repeated per input message */
#define LG_RTT_MAX	(1u << 20)	/* RTT samples kept (4 MiB) */
#define LG_E2E_MAX	(1u << 22)	/* e2e samples kept (16 MiB) */
#define LG_LOSS_MAX	(1u << 20)	/* losses remembered */
#define LG_E2E_RING	256		/* send times of the last inputs */
#define LG_PERR_MAX	32		/* error codes counted one by one */
#define LG_URL_MAX	512
#define LG_IMPAIR_MAX	16		/* -I arguments */
#define LG_HB		512		/* log buckets: 16 per power of 2 */
#define LG_BACKOFF_MIN_US 100000	/* reconnect backoff: 100 ms ... */
#define LG_BACKOFF_MAX_US 2000000	/* ... doubling up to 2 s */
#define LG_LATE_US	5000000		/* unrecovered losses this close to
					   the end are left out of the rate */
#define LG_RWND		(256 * 1024)	/* TCP model: receive window */
_Static_assert(LG_QUIC_RWND == LG_RWND, "one receive window");
#define LG_TIMER_SLOTS	16		/* timer expiries per input tick */
_Static_assert(LG_TX_MAX <= LG_WS_SEND_MAX, "a message fits one frame");

enum lg_state {
	LG_IDLE = 0,		/* not started yet (ramp) */
	LG_CONNECTING,		/* TCP + WebSocket handshake */
	LG_OPEN,		/* established, hello sent, no welcome yet */
	LG_WELCOMED,		/* playing */
	LG_WAIT,		/* between connections: reconnect at t_retry */
	LG_GONE,		/* done for the run */
};

/* -u's scheme: ws://, quic://, or http:// (GET /negotiate first, then
 * QUIC when offered, falling back to WebSocket). */
enum lg_transport { LG_TP_WS, LG_TP_QUIC, LG_TP_NEGOTIATE };

enum lg_scenario { LG_SC_PLAY, LG_SC_CHURN, LG_SC_RECONNECT,
	LG_SC_MATCHMAKE };

/* Want bits: what the next WRITEABLE callback packs. */
#define LG_W_HELLO	0x01
#define LG_W_INPUT	0x02
#define LG_W_PING	0x04
#define LG_W_BYE	0x08
#define LG_AXIS		127	/* the stick: each axis -127..127 */
/* Snapshots a client keeps as baselines: the server bases a delta on the
 * newest ack it has, and acks leave with the next input. */
#define LG_SNAPS	8

/* Latency samples: exact (up to a cap) plus a log histogram that is
 * used for percentiles once samples had to be dropped. */
struct lg_lat {
	uint32_t	*v;		/* µs, owned */
	size_t		 n, cap, max;
	uint64_t	 dropped;	/* samples not stored */
	uint64_t	 count;		/* all samples */
	uint32_t	 vmax;
	bool		 sorted;
	uint64_t	 hist[LG_HB];
};

/* A session lost during the run and whether it came back. */
struct lg_loss {
	uint64_t	t;		/* µs, monotonic */
	uint64_t	t_rec;		/* welcome again; 0: not (yet) */
};

struct lg;

struct lg_client {
	struct lg	*lg;
	int		 idx;
	bool		 live;		/* counted in lg->nlive */
	bool		 leaving;	/* churn: bye sent, rejoin after close */
	bool		 rejoin;	/* churn: the next welcome is a rejoin */
	enum lg_state	 state;
	unsigned	 want;
	char		 name[GS_NAME_MAX + 1];
	char		 room[GS_ROOM_MAX + 1];
	char		*token;		/* -A: its access token; else NULL */
	int8_t		 mx, my;	/* the constant stick */
	uint64_t	 rng;

	/* Impairment: drawn once per client, queues per connection, one
	 * per direction and lane (WebSocket uses the reliable one only). */
	struct lg_impair imp[LG_NDIR];
	struct lg_iq	 iq[LG_NDIR][LG_NLANES];
	ev_timer	 iqw[LG_NDIR];	/* armed at the lanes' next release */
	uint64_t	 iq_armed[LG_NDIR];	/* when; 0: not armed */

	uint64_t	 t_start;	/* µs, monotonic: this connect began */
	uint64_t	 t_welcome;	/* this session's welcome */
	uint64_t	 t_first;	/* first welcome in the run */
	uint64_t	 t_retry;	/* LG_WAIT: connect again then */
	int		 nretry;	/* connects since the last welcome */
	int64_t		 loss;		/* lg->losses index while lost; -1 */
	struct gs_welcome welcome;
	/* The game message of this session, and the snapshots decoded
	 * (ring, newest at snap_head). */
	bool		 have_game;
	struct gs_gameinfo game;
	struct gs_snap	 snaps[LG_SNAPS];
	unsigned	 snap_head;
	uint64_t	 ack_tick;	/* to send: newest decoded; 0 none */
	bool		 ack_due;
	uint64_t	 input_period;	/* µs between inputs */
	uint64_t	 next_input;
	uint64_t	 next_ping;

	uint32_t	 seq;		/* last input seq sent, this session */
	struct gs_input	 hist[LG_REDUNDANCY];	/* ring of the last inputs */
	int		 nhist;
	uint64_t	 sent[LG_E2E_RING];	/* send time of input seq */
	uint32_t	 e2e_next;	/* next seq waiting for its ack */

	/* Snapshot gaps, this session. */
	bool		 have_tick;
	uint64_t	 last_tick;
	double		 snap_every;	/* ticks between snapshots */

	/* Counted while the run lasts (not while closing). */
	bool		 connected, welcomed;	/* ever */
	uint64_t	 sessions;	/* welcomes */
	uint64_t	 losses, recovered;
	uint64_t	 snapshots;
	uint64_t	 events;
	uint64_t	 pongs;
	uint64_t	 bytes_in, bytes_out;
	uint64_t	 msgs_in, msgs_out;
	uint64_t	 welcomed_us;	/* time spent welcomed, ended sessions */
	uint32_t	 last_ack;

	/* The own player entity, this session: first and latest position.
	 * Each session with a second's worth of positions is judged. */
	bool		 have_pos;
	bool		 in_cone;	/* displacement was along the stick */
	bool		 in_cone_left;	/* and then left it: x1, y1 frozen */
	bool		 judged;	/* this session is in moves_ok/bad */
	int32_t		 x0, y0, x1, y1;
	uint64_t	 possnaps;	/* snapshots that held the entity */
	uint32_t	 moves_ok, moves_bad;

	uint32_t	 perr;		/* last fatal error code, this conn */
	char		 fail[GS_TEXT_MAX + 64];	/* fatal; "" if not */
	char		 last_why[GS_TEXT_MAX + 64];	/* last loss */

	/* The connection, reused: the one of tp, LG_TP_WS or LG_TP_QUIC
	 * (conf.transport's, or the one negotiated). */
	enum lg_transport tp;
	struct lg_ws	 ws;
	struct lg_quic	 quic;
};

struct lg_conf {
	char		 url[LG_URL_MAX];
	enum lg_transport transport;	/* by the URL's scheme */
	const char	*tls_ca;	/* --tls-ca; NULL: the system's */
	unsigned	 quic_dgrams;	/* --quic-datagrams */
	long long	 quic_migrate_ms;	/* --quic-migrate; 0: never */
	char		 host[256];
	char		 path[LG_URL_MAX];
	char		 hosthdr[300];	/* Host: header */
	int		 port;
	int		 nclients;
	int		 rate;		/* connects per second; 0: all at once */
	int		 per_room;
	const char	*room;		/* NULL: "lg-<k>" by per_room */
	long long	 duration_ms;
	long long	 welcome_ms;	/* not welcomed by then: try again */
	int		 json;
	int		 accounts;	/* -A: guest logins, then tokens */
	int		 motion;	/* -m: motion check decides the exit */
	int		 verbose;
	int		 quiet;
	enum lg_scenario scenario;
	double		 churn;		/* leaves per second */
	long long	 storm_ms;	/* reconnect: interval of the storms */
	double		 storm_frac;	/* reconnect: share dropped */
	struct lg_impair_spec impair[LG_NDIR];
	const char	*impair_arg[LG_IMPAIR_MAX];	/* borrowed argv */
	int		 nimpair;
	struct lg_slo	 slo;
};

enum lg_phase { LG_RUN, LG_CLOSING, LG_DONE };

/* What the report needs, computed once at the end. */
struct lg_sum {
	int		 started, connected, welcomed, snapped, moved;
	double		 snaps_s, bin_s, bout_s;	/* means per client */
	double		 msgs_in_s, msgs_out_s;	/* totals per second */
	double		 secs;			/* run length */
	uint64_t	 errors;		/* everything counted as one */
	uint64_t	 losses, recovered, late;	/* for the rate */
	uint64_t	 losses_all, recovered_all;
	double		 reconnect;		/* rate, 1 when no losses */
	double		 drop;			/* missed / expected */
	double		 rec_p50, rec_p95, rec_max;	/* ms to recover */
	bool		 have_rec;
	struct lg_metrics m;
	bool		 slo_ok[LG_SLO_MAX];
	int		 verdict;		/* exit status earned */
};

struct lg {
	struct lg_conf	 conf;
	struct ev_loop	*loop;
	struct lg_ws_target target;	/* the gateway, resolved once */
	struct lg_quic_target qtarget;	/* the same, for QUIC */
	struct lg_quic_stats qst;
	gnutls_certificate_credentials_t cred;	/* QUIC: trusted CAs */
	/* http:// (login.c, lg_negotiate): what /negotiate offered, and
	 * the clients whose QUIC handshake failed and who went on over
	 * WebSocket. */
	bool		 offer_quic, offer_ws;
	struct lg_conf	 neg[2];	/* their URLs: QUIC's, WebSocket's */
	uint64_t	 fallbacks;
	enum lg_phase	 phase;
	ev_timer	 tick;		/* ramp, timeouts, inputs, pings */
	ev_timer	 stop;		/* end of the run; end of the grace */
	ev_timer	 progress;	/* the live line, once a second */
	ev_signal	 sigint, sigterm, sigusr1;
	double		 tick_hz;	/* current rate of tick */
	uint64_t	 rng;
	bool		 impaired;	/* some -I given */

	struct lg_client *clients;	/* [conf.nclients], owned */
	int		 nstarted;
	int		 nlive;		/* clients with a connection */
	uint64_t	 t0;		/* µs, monotonic: start of the run */
	uint64_t	 t_end;		/* end of the run (duration or signal) */
	uint64_t	 t_last_tick;
	double		 churn_acc;	/* leaves owed */
	uint64_t	 next_storm;

	struct lg_lat	 rtt, e2e, rec;	/* rec: ms from loss to welcome */
	uint64_t	 win_rtt[LG_HB], win_e2e[LG_HB];	/* this second */
	struct lg_loss	*losses;	/* owned, up to LG_LOSS_MAX */
	size_t		 nlosses, losscap;
	uint64_t	 losses_dropped;

	uint64_t	 attempts;	/* reconnects tried after a loss */
	uint64_t	 churn_leaves, churn_rejoins;
	uint64_t	 storms, storm_drops;
	uint64_t	 snap_expected, snap_missed;
	uint64_t	 msgs_in, msgs_out;	/* protocol messages */
	struct lg_iq_stats iqst[LG_NLANES][LG_NDIR];

	uint64_t	 perrs[LG_PERR_MAX];	/* server errors by code */
	uint64_t	 badmsgs;	/* server messages we could not decode */
	struct gs_snap	 snap_scratch;	/* gs_snap_apply's working space */
	uint64_t	 connfail;	/* connects that failed */
	uint64_t	 timeouts;	/* not welcomed in time */

	/* The live line's previous totals. */
	uint64_t	 p_in, p_out, p_exp, p_miss;

	struct lg_sum	 sum;
};

/* client.c */
void	lg_client_init(struct lg *lg, struct lg_client *c, int idx);
void	lg_client_start(struct lg_client *c, uint64_t now);
/* Periodic work; returns true if the client is welcomed. */
bool	lg_client_tick(struct lg_client *c, uint64_t now, uint64_t slack);
/* Churn: bye, close, join again. */
void	lg_client_leave(struct lg_client *c);
/* Reconnect storm: drop the connection without a bye; a loss. */
void	lg_client_drop(struct lg_client *c, uint64_t now);
/* End of the run: say bye and close, or drop the connection attempt. */
void	lg_client_finish(struct lg_client *c);
/* The loop is over: end the connection now, whatever its state. */
void	lg_client_kill(struct lg_client *c);
void	lg_client_free(struct lg_client *c);
/* main.c: a client's connection is over (called once per connection). */
void	lg_gone(struct lg *lg);
/* main.c: the rate of the welcome may need a faster tick. */
void	lg_tick_rate(struct lg *lg, uint32_t hz);

/* report.c */
extern const char *const lg_transport_names[];
/* By enum lg_scenario, NULL-terminated: the -s names. */
extern const char *const lg_scenario_names[];
void	lg_lat_add(struct lg_lat *l, uint64_t us);
void	lg_hist_add(uint64_t *hist, uint64_t us);
/* Percentile p in [0, 1] of a histogram, in ms; -1 when empty. */
double	lg_hist_pct(const uint64_t *hist, double p);
void	lg_lat_free(struct lg_lat *l);
void	lg_lat_restart(struct lg_lat *l);
/* (dx, dy) is not zero and within 30 degrees of the stick (sx, sy). */
bool	lg_dir_ok(double dx, double dy, double sx, double sy);
/* This session's motion: 1 as asked, -1 not, 0 too short to judge. */
int	lg_session_moved(const struct lg_client *c);
/* The client moved along its stick in every judged session. */
bool	lg_client_moved(const struct lg_client *c);
/* Compute lg->sum; call once, after the run. */
void	lg_summarize(struct lg *lg);
void	lg_report_text(struct lg *lg, FILE *f);
int	lg_report_json(struct lg *lg, FILE *f);
/* The live line on f (a terminal), rewritten in place. */
void	lg_progress(struct lg *lg, FILE *f);

/* login.c: -A, before the loop.  0, or -1 (logged). */
int	lg_login_all(struct lg *lg);
/* GET /negotiate at conf's address and set the targets from it;
 * exits (status 1) when the answer offers nothing usable. */
void	lg_negotiate(struct lg *lg);
void	lg_resolve_addr(const char *host, int port, int socktype,
	    struct sockaddr_storage *ss, socklen_t *sslen);
/* -u: a URL into cf (main.c).  0, or -1 with why. */
int	lg_parse_url(struct lg_conf *cf, const char *url, char *why,
	    size_t whylen);

#endif
