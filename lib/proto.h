/*
 * The client wire protocol, version 2: what gs-gateway speaks with
 * clients, and what gs-sim builds snapshots and events in.  The
 * standard is man/gs-protocol.7; this header is its code (snapshot
 * bodies are in snap.h).
 *
 * A WebSocket binary message carries one or more protocol messages,
 * concatenated.  Each protocol message is a msgpack array whose first
 * element is its kind.  Decoders skip elements past the ones they know,
 * so later versions may append fields.
 */
#ifndef GS_PROTO_H
#define GS_PROTO_H

#include <stdbool.h>
#include <stdint.h>

#include "mp.h"
#include "snap.h"

#define GS_PROTO_VERSION	2
#define GS_WS_SUBPROTOCOL	"gs.v2"
/* Accepted at the handshake only so that a version 1 client's hello
 * can be answered with error "version" saying what this server speaks. */
#define GS_WS_SUBPROTOCOL_OLD	"gs.v1"

#define GS_NAME_MAX	32	/* player name, bytes, without NUL */
#define GS_ROOM_MAX	64	/* room name */
#define GS_TOKEN_MAX	2048
#define GS_TEXT_MAX	200	/* error text */
#define GS_INPUTS_MAX	8	/* inputs in one input message */
#define GS_INPUT_VALUES_MAX 8	/* values in one input (gs-game(3)) */
#define GS_MSG_FIELDS_MAX 64	/* elements in one message array */

/*
 * Sizes, as gs-protocol(7) "Limits" states them.  One protocol message,
 * in either direction, is at most GS_MSG_MAX bytes encoded (a WebSocket
 * message may carry several).  A snapshot's body is at most
 * GS_SNAP_BODY_MAX bytes, so that with its header it fits.
 */
#define GS_MSG_MAX		(64 * 1024)
/* [4, tick:u64, base:u64, ack:u32, bin32 header]: 1 + 1 + 9 + 9 + 5 + 5 */
#define GS_SNAPHDR_WIRE_MAX	30
#define GS_SNAP_BODY_MAX	(GS_MSG_MAX - GS_SNAPHDR_WIRE_MAX)

enum gs_msg_kind {
	GS_MSG_HELLO = 1,	/* c->s */
	GS_MSG_WELCOME = 2,	/* s->c, reliable */
	GS_MSG_INPUT = 3,	/* c->s, unreliable */
	GS_MSG_SNAPSHOT = 4,	/* s->c, unreliable */
	GS_MSG_PING = 5,	/* c->s */
	GS_MSG_PONG = 6,	/* s->c */
	GS_MSG_EVENT = 7,	/* s->c, reliable */
	GS_MSG_ERROR = 8,	/* s->c, reliable */
	GS_MSG_BYE = 10,	/* c->s */
	GS_MSG_ACK = 11,	/* c->s, unreliable: a snapshot received */
	GS_MSG_GAME = 12,	/* s->c, reliable: the game's declarations */
	GS_MSG_LOOK = 13,	/* c->s: a spectator's view centre */
};
const char	*gs_msg_name(int kind);	/* "hello", ...; "unknown" */

/* Error codes in error messages.  Fatal ones close the connection. */
enum gs_perr {
	GS_PERR_BADFRAME = 1,	/* not msgpack, or fields wrong */
	GS_PERR_TOOBIG = 2,	/* message over the size limit */
	GS_PERR_VERSION = 3,	/* fatal: unsupported protocol version */
	GS_PERR_NOAUTH = 4,	/* fatal: a token is required */
	GS_PERR_PROTOCOL = 5,	/* message not valid in this state */
	GS_PERR_ROOMFULL = 6,	/* fatal */
	GS_PERR_UNAVAILABLE = 7,/* fatal: no sim answers for the room */
	GS_PERR_SLOW = 8,	/* fatal: reliable queue over its cap */
	GS_PERR_RATELIMIT = 9,	/* too many messages */
	GS_PERR_SHUTDOWN = 10,	/* fatal: server going away */
	GS_PERR_KICKED = 11,	/* fatal: removed by an operator */
	GS_PERR_BADNAME = 12,	/* fatal: name or room not acceptable */
	GS_PERR_INTERNAL = 13,	/* fatal */
	GS_PERR_TOOMANY = 14,	/* fatal: too many bad messages */
	GS_PERR_ROOMCLOSED = 15,/* fatal: the room ended */
	GS_PERR_REFUSED = 16,	/* fatal: the game refused the player */
	GS_PERR_ROOMLIMIT = 17,	/* fatal: the address holds too many rooms */
};
const char	*gs_perr_name(int code);	/* "badframe", ... */

/* Event codes: 1 and 2 are the core's; the arena game sends 3. */
enum { GS_EV_JOINED = 1, GS_EV_LEFT = 2, GS_EV_SCORED = 3 };
const char	*gs_ev_name(int code);

struct gs_hello {
	uint32_t	version;
	char		name[GS_NAME_MAX + 1];
	char		room[GS_ROOM_MAX + 1];
	const char	*token;		/* borrowed from the frame; NULL: none */
	size_t		 tokenlen;
	bool		 watch;		/* a spectator */
};

struct gs_input {
	uint32_t	seq;		/* 1 up, never wraps; 0 is invalid */
	uint32_t	n;		/* values */
	int32_t		v[GS_INPUT_VALUES_MAX];
};

struct gs_welcome {
	uint32_t	version;
	uint64_t	player;
	char		room[GS_ROOM_MAX + 1];
	uint32_t	tick_rate;
	uint32_t	snapshot_rate;
	uint64_t	tick;
	uint64_t	server_us;	/* server wall clock, µs since epoch */
};

struct gs_snaphdr {
	uint64_t	tick;
	uint64_t	base;		/* the baseline's tick; 0: none */
	uint32_t	ack;		/* last input seq processed; 0: none */
};

/* The game message: what a client decodes snapshots and builds inputs
 * by.  Names are borrowed (put) or not read (get). */
struct gs_gameinfo {
	const char		*name, *version;
	double			 world_w, world_h;
	double			 radius;	/* view radius; 0: everything */
	struct gs_snap_schema	 schema;	/* cell, types, fields */
	const char		*type_name[GS_SNAP_TYPES_MAX];
	const char		*field_name[GS_SNAP_TYPES_MAX][GS_SNAP_FIELDS_MAX];
	uint32_t		 ninputs;
	const char		*input_name[GS_INPUT_VALUES_MAX];
	int32_t			 input_min[GS_INPUT_VALUES_MAX];
	int32_t			 input_max[GS_INPUT_VALUES_MAX];
	uint32_t		 input_cooldown[GS_INPUT_VALUES_MAX];
};

struct gs_event {
	uint64_t	tick;
	uint32_t	code;
	uint64_t	player;
	int64_t		value;			/* not JOINED or LEFT */
	char		name[GS_NAME_MAX + 1];	/* JOINED: the name */
};

struct gs_perror {
	uint32_t	code;
	char		text[GS_TEXT_MAX + 1];
};

/*
 * Reading a stream: gs_msg_begin() reads the array header and the kind
 * and returns the kind (0 on error), leaving *nfields = elements after
 * the kind.  Then the kind's gs_*_get() reads them; each skips extra
 * trailing fields and fails (rd->err) on missing or bad ones.
 */
int	gs_msg_begin(struct gs_rd *rd, uint32_t *nfields);
int	gs_hello_get(struct gs_rd *rd, uint32_t nf, struct gs_hello *h);
/* Reads up to GS_INPUTS_MAX inputs into in[]; returns their number. */
int	gs_input_get(struct gs_rd *rd, uint32_t nf, struct gs_input *in);
int	gs_ping_get(struct gs_rd *rd, uint32_t nf, uint64_t *t);
int	gs_bye_get(struct gs_rd *rd, uint32_t nf);
int	gs_welcome_get(struct gs_rd *rd, uint32_t nf, struct gs_welcome *w);
int	gs_pong_get(struct gs_rd *rd, uint32_t nf, uint64_t *t,
	    uint64_t *server_us);
/* Snapshot: the header and the body (borrowed from the frame). */
int	gs_snapshot_get(struct gs_rd *rd, uint32_t nf, struct gs_snaphdr *h,
	    const uint8_t **body, size_t *len);
int	gs_ack_get(struct gs_rd *rd, uint32_t nf, uint64_t *tick);
int	gs_look_get(struct gs_rd *rd, uint32_t nf, double *x, double *y);
/* The game message; GS_EINVAL for declarations out of bounds. */
int	gs_gameinfo_get(struct gs_rd *rd, uint32_t nf, struct gs_gameinfo *g);
int	gs_event_get(struct gs_rd *rd, uint32_t nf, struct gs_event *e);
int	gs_perror_get(struct gs_rd *rd, uint32_t nf, struct gs_perror *e);
/* Skip the rest of a message of a kind the reader does not handle. */
void	gs_msg_skip(struct gs_rd *rd, uint32_t nf);

/* Writers append one whole message to wr (errors are sticky in wr). */
void	gs_hello_put(struct gs_wr *wr, const struct gs_hello *h);
void	gs_input_put(struct gs_wr *wr, const struct gs_input *in, int n);
void	gs_ping_put(struct gs_wr *wr, uint64_t t);
void	gs_bye_put(struct gs_wr *wr);
void	gs_welcome_put(struct gs_wr *wr, const struct gs_welcome *w);
void	gs_pong_put(struct gs_wr *wr, uint64_t t, uint64_t server_us);
void	gs_snapshot_put(struct gs_wr *wr, const struct gs_snaphdr *h,
	    const void *body, size_t len);
void	gs_ack_put(struct gs_wr *wr, uint64_t tick);
void	gs_look_put(struct gs_wr *wr, double x, double y);
void	gs_gameinfo_put(struct gs_wr *wr, const struct gs_gameinfo *g);
void	gs_event_put(struct gs_wr *wr, const struct gs_event *e);
void	gs_perror_put(struct gs_wr *wr, uint32_t code, const char *text);

/* Names and rooms: 1..max bytes of [A-Za-z0-9_.-].  Returns bool. */
bool	gs_name_valid(const char *s, size_t max);

#endif
