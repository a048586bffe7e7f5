/*
 * Room traffic between gs-gateway and gs-sim, carried in outbox batches
 * (nngev.h): every NNG message is a header followed by records, each a
 * msgpack array [kind, ...].  A gateway dials a PUSH to each sim's
 * inbox; a sim dials a PUSH back to the inbox named in the header.
 *
 * Header:  [GS_RELAY_VERSION, role:str "gw"|"sim", instance:uint,
 *           reply_url:str, to_instance:uint, to_url:str]
 *   instance is random per process start: a sim that sees a new
 *   instance for a gateway url drops the players of the old one, and a
 *   gateway that sees a new instance for a sim closes the clients it
 *   had placed there.  Both send a header-only batch to each peer
 *   every second as a heartbeat (a sim: to every gateway it knows).
 *   to_instance is the receiver's instance as the sender last saw it
 *   (0: not known yet).  A receiver skips the records of a batch
 *   addressed to another instance of itself: they were queued for a
 *   process that is gone (NNG may hold batches for a dead peer and
 *   deliver them to its successor on the same address), and connection
 *   ids repeat across restarts.
 *   to_url is the address the sender uses for the receiver: a gateway
 *   puts the -s url it dialed, a sim echoes the to_url of the gateway's
 *   batches (the url of that gateway's -s flag), so that a gateway can
 *   tell which of its sims a batch comes from even when the sim's
 *   reply_url (its -i, say tcp://0.0.0.0:7001) is not that address.
 *   The two fields were appended in version 1 and may be missing from
 *   an older peer's header: they read as 0 and "".
 *
 * gateway -> sim
 *   JOIN   [1, conn:uint, room:str, name:str, watch:bool, account:uint]
 *          reliable; account (appended: missing is 0) is the player's
 *          from its access token, 0 in development mode without one
 *          (watch appended: missing means a player)
 *   INPUT  [2, conn, seq:uint, value:int ...]  state; 0-8 values
 *   LEAVE  [3, conn]                                    reliable
 *   ACK    [8, conn, tick:uint]   the client has the snapshot of tick
 *   LOOK   [9, conn, x:float, y:float]  a spectator's view centre
 *   INPUT_ACK [10, conn, tick:uint, seq:uint, value:int ...]  an INPUT
 *          and the ACK that came with it, in one record (a client
 *          sends both each tick)
 * sim -> gateway
 *   JOINED [4, conn, player:uint, room:str, tick_rate:uint,
 *           snapshot_rate:uint, tick:uint]             reliable
 *   REJECT [5, conn, code:uint (enum gs_perr), text:str] reliable
 *   FRAME  [6, conn, reliable:bool, msg:bin]  a whole client message
 *           (snapshot, event) that the gateway forwards unchanged
 *   CLOSE  [7, conn, code:uint, text:str]   sim ends the player's stay
 */
#ifndef GS_RELAY_H
#define GS_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "mp.h"
#include "proto.h"

#define GS_RELAY_VERSION	1
#define GS_URL_MAX		256
#define GS_RELAY_FRAME_MAX	GS_MSG_MAX	/* one client message */

enum gs_relay_kind {
	GS_REL_JOIN = 1,
	GS_REL_INPUT = 2,
	GS_REL_LEAVE = 3,
	GS_REL_JOINED = 4,
	GS_REL_REJECT = 5,
	GS_REL_FRAME = 6,
	GS_REL_CLOSE = 7,
	GS_REL_ACK = 8,
	GS_REL_LOOK = 9,
	GS_REL_INPUT_ACK = 10,
};
const char	*gs_relay_name(int kind);

struct gs_relay_hdr {
	char		role[8];
	uint64_t	instance;
	char		url[GS_URL_MAX];
	uint64_t	to_instance;	/* 0: any */
	char		to_url[GS_URL_MAX];	/* "": not given */
};

/* A decoded record.  Pointers are borrowed from the message. */
struct gs_relay_rec {
	int		kind;
	uint64_t	conn;
	uint64_t	player;			/* JOINED */
	char		room[GS_ROOM_MAX + 1];	/* JOIN, JOINED */
	char		name[GS_NAME_MAX + 1];	/* JOIN */
	bool		watch;			/* JOIN */
	uint64_t	account;		/* JOIN; 0: none */
	double		x, y;			/* LOOK */
	struct gs_input	input;			/* INPUT, INPUT_ACK */
	uint32_t	tick_rate, snapshot_rate;	/* JOINED */
	uint64_t	tick;			/* JOINED, ACK, INPUT_ACK */
	uint32_t	code;			/* REJECT, CLOSE */
	char		text[GS_TEXT_MAX + 1];	/* REJECT, CLOSE */
	bool		reliable;		/* FRAME */
	const uint8_t	*msg;			/* FRAME */
	size_t		 msglen;
};

/*
 * Convergence.  Each side answers a record for a connection it does
 * not have, so that a record lost on the way (or a peer that forgot)
 * cannot leave a player in a room with nobody behind it, or a client
 * waiting on a room that forgot it: a gateway answers JOINED and FRAME
 * with LEAVE, a sim answers INPUT, INPUT_ACK, ACK and LOOK with CLOSE.
 * A stream of records for one such connection gets one answer a
 * second, not one each: gs_relay_answer_due() says when to answer.
 */
#define GS_RELAY_ANSWER_RING	32
#define GS_RELAY_ANSWER_US	1000000ULL	/* re-answer after this */

struct gs_relay_answers {
	uint64_t	conn[GS_RELAY_ANSWER_RING];	/* 0: free */
	uint64_t	at_us[GS_RELAY_ANSWER_RING];
	unsigned	next;
};

/* Whether conn is owed an answer now (and if so, remember that it
 * gets one at now_us).  Zero the struct to start, or to forget. */
bool	gs_relay_answer_due(struct gs_relay_answers *a, uint64_t conn,
	    uint64_t now_us);

/* Pack a header into wr (used once, at outbox open). */
void	gs_relay_hdr_put(struct gs_wr *wr, const struct gs_relay_hdr *h);
int	gs_relay_hdr_get(struct gs_rd *rd, struct gs_relay_hdr *h);

/*
 * Read one record.  Unknown kinds are skipped and returned as their kind
 * with nothing else filled in (the caller counts them).  On error: if
 * rd->err is set the batch cannot be framed any further (stop); if
 * rd->err is still GS_OK only this record was bad, and the next record
 * can be read.
 */
int	gs_relay_get(struct gs_rd *rd, struct gs_relay_rec *r);

void	gs_relay_join_put(struct gs_wr *wr, uint64_t conn, const char *room,
	    const char *name, bool watch, uint64_t account);
void	gs_relay_ack_put(struct gs_wr *wr, uint64_t conn, uint64_t tick);
void	gs_relay_input_ack_put(struct gs_wr *wr, uint64_t conn,
	    const struct gs_input *in, uint64_t tick);
void	gs_relay_look_put(struct gs_wr *wr, uint64_t conn, double x,
	    double y);
void	gs_relay_input_put(struct gs_wr *wr, uint64_t conn,
	    const struct gs_input *in);
void	gs_relay_leave_put(struct gs_wr *wr, uint64_t conn);
void	gs_relay_joined_put(struct gs_wr *wr, uint64_t conn, uint64_t player,
	    const char *room, uint32_t tick_rate, uint32_t snapshot_rate,
	    uint64_t tick);
void	gs_relay_reject_put(struct gs_wr *wr, uint64_t conn, uint32_t code,
	    const char *text);
void	gs_relay_close_put(struct gs_wr *wr, uint64_t conn, uint32_t code,
	    const char *text);
/* FRAME: msg[len] is a whole client message (already packed). */
void	gs_relay_frame_put(struct gs_wr *wr, uint64_t conn, bool reliable,
	    const void *msg, size_t len);

#endif
