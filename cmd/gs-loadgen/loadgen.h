/*
 * gs-loadgen: headless WebSocket clients that play by the client wire
 * protocol (lib/proto.h) and report what they saw.
 *
 * One libev loop, one lws context without a listening port, one timer
 * for everything periodic (ramp, timeouts, inputs, pings): N clients
 * need no N timers.  A client never writes outside its WRITEABLE
 * callback: the timer sets want bits and asks lws for a writable
 * callback, which packs everything wanted into one WebSocket message.
 *
 * Every byte a client sends leaves through lg_client_send() and every
 * message it receives enters through lg_client_recv(): per-client
 * impairment (delay, loss, duplication, bandwidth) will sit there.
 */
#ifndef LG_LOADGEN_H
#define LG_LOADGEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <ev.h>
#include <libwebsockets.h>

#include "proto.h"

#define LG_TX_MAX	1024		/* one outgoing WebSocket message */
#define LG_RX_MAX	(256 * 1024)	/* one incoming WebSocket message */
#define LG_REDUNDANCY	3		/* inputs repeated per input message */
#define LG_RTT_MAX	(1u << 20)	/* RTT samples kept (4 MiB) */
#define LG_PERR_MAX	32		/* error codes counted one by one */
#define LG_URL_MAX	512

enum lg_state {
	LG_IDLE = 0,		/* not started yet (ramp) */
	LG_CONNECTING,		/* TCP + WebSocket handshake */
	LG_OPEN,		/* established, hello sent, no welcome yet */
	LG_WELCOMED,		/* playing */
	LG_GONE,		/* connection over (any reason) */
};

/* Want bits: what the next WRITEABLE callback packs. */
#define LG_W_HELLO	0x01
#define LG_W_INPUT	0x02
#define LG_W_PING	0x04
#define LG_W_BYE	0x08

struct lg;

struct lg_client {
	struct lg	*lg;
	int		 idx;
	struct lws	*wsi;		/* NULL when no connection exists */
	bool		 live;		/* counted in lg->nlive */
	bool		 timed_out;	/* not welcomed in time: being killed */
	enum lg_state	 state;
	unsigned	 want;
	char		 name[GS_NAME_MAX + 1];
	char		 room[GS_ROOM_MAX + 1];
	int8_t		 mx, my;	/* the constant stick */

	uint64_t	 t_start;	/* µs, monotonic: connect began */
	uint64_t	 t_welcome;
	uint64_t	 t_gone;	/* 0 while connected */
	struct gs_welcome welcome;
	uint64_t	 input_period;	/* µs between inputs */
	uint64_t	 next_input;
	uint64_t	 next_ping;

	uint32_t	 seq;		/* last input seq sent */
	struct gs_input	 hist[LG_REDUNDANCY];	/* ring of the last inputs */
	int		 nhist;

	/* Counted while the run lasts (not while closing). */
	bool		 connected, welcomed;
	uint64_t	 snapshots;
	uint64_t	 events;
	uint64_t	 pongs;
	uint64_t	 bytes_in, bytes_out;
	uint64_t	 msgs_in;
	uint32_t	 last_ack;

	/* The own player entity: first and latest position seen. */
	bool		 have_pos;
	bool		 in_cone;	/* displacement was along the stick */
	bool		 in_cone_left;	/* and then left it: x1, y1 frozen */
	int32_t		 x0, y0, x1, y1;
	uint64_t	 possnaps;	/* snapshots that held the entity */

	uint32_t	 perr;		/* last error code from the server */
	char		 fail[GS_TEXT_MAX + 64];	/* why it failed; "" if it did not */

	uint8_t		*rx;		/* reassembly of fragments, owned */
	size_t		 rxlen;
	uint8_t		 tx[LWS_PRE + LG_TX_MAX];
};

struct lg_conf {
	char		 url[LG_URL_MAX];
	char		 host[256];
	char		 path[LG_URL_MAX];
	char		 hosthdr[300];	/* Host: header */
	int		 port;
	int		 nclients;
	int		 rate;		/* connects per second; 0: all at once */
	int		 per_room;
	const char	*room;		/* NULL: "lg-<k>" by per_room */
	long long	 duration_ms;
	long long	 welcome_ms;	/* not welcomed by then: failed */
	int		 json;
	int		 motion;	/* -m: motion check decides the exit */
	int		 verbose;
};

enum lg_phase { LG_RUN, LG_CLOSING, LG_DONE };

struct lg {
	struct lg_conf	 conf;
	struct ev_loop	*loop;
	struct lws_context *ctx;
	enum lg_phase	 phase;
	ev_timer	 tick;		/* ramp, timeouts, inputs, pings */
	ev_timer	 stop;		/* end of the run; end of the grace */
	ev_signal	 sigint, sigterm;
	double		 tick_hz;	/* current rate of tick */

	struct lg_client *clients;	/* [conf.nclients], owned */
	int		 nstarted;
	int		 nlive;		/* clients with a connection */
	uint64_t	 t0;		/* µs, monotonic: start of the run */
	uint64_t	 t_end;		/* end of the run (duration or signal) */

	uint32_t	*rtt;		/* µs samples, owned, up to LG_RTT_MAX */
	size_t		 nrtt, rttcap;
	uint64_t	 rtt_dropped;

	uint64_t	 perrs[LG_PERR_MAX];	/* server errors by code */
	uint64_t	 badmsgs;	/* server messages we could not decode */
	uint64_t	 connfail;	/* connects that failed */
	uint64_t	 timeouts;	/* not welcomed in time */
};

/* client.c */
extern const struct lws_protocols lg_protocols[];
void	lg_client_init(struct lg *lg, struct lg_client *c, int idx);
void	lg_client_start(struct lg_client *c, uint64_t now);
/* Periodic work; returns true if the client is welcomed. */
bool	lg_client_tick(struct lg_client *c, uint64_t now, uint64_t slack);
/* End of the run: say bye and close, or drop the connection attempt. */
void	lg_client_finish(struct lg_client *c);
void	lg_client_free(struct lg_client *c);
/* main.c: a client's connection is over (called once per connection). */
void	lg_gone(struct lg *lg);
/* main.c: the rate of the welcome may need a faster tick. */
void	lg_tick_rate(struct lg *lg, uint32_t hz);

/* report.c */
/* (dx, dy) is not zero and within 30 degrees of the stick (sx, sy). */
bool	lg_dir_ok(double dx, double dy, double sx, double sy);
/* The client moved along its stick within 30 degrees and not zero. */
bool	lg_client_moved(const struct lg_client *c);
void	lg_report_text(struct lg *lg, FILE *f);
int	lg_report_json(struct lg *lg, FILE *f);
/* Exit status the run earns: GS_EXIT_OK or GS_EXIT_RUNTIME. */
int	lg_verdict(const struct lg *lg);

#endif
