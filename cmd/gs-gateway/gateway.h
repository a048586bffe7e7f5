/*
 * gs-gateway: the client edge.  Private to cmd/gs-gateway.
 *
 *   main.c    flags, start-up, signals, drain and exit
 *   client.c  the client protocol: hello, dispatch, welcome, queues,
 *             lanes, closing; it knows no transport
 *   queue.c   a client's outgoing queue and its lane rules
 *   ws.c      the WebSocket transport (libwebsockets)
 *   quic.c    the QUIC transport (ngtcp2, GnuTLS): -Q
 *   route.c   sims (outboxes), rooms, the inbox of sim records
 *   ops.c     metrics and control-socket commands
 *
 * Everything runs on the one libev loop.
 *
 * The transport seam.  A transport (struct gw_transport) owns its
 * connections and calls into client.c: gw_client_new() when one is
 * open, gw_client_recv() with each whole message the client sent,
 * gw_client_writable() when it may send after it was asked to say so,
 * gw_client_closed() once when the connection is gone.  client.c calls
 * back through the table: ready, want_write, send (a batch of whole
 * messages on a lane), close (with a gw_close class the transport maps
 * to its own codes) and abort.
 *
 * Writing.  Messages queued for a client during a loop iteration leave
 * at its end (gw_clients_flush, from an ev_prepare watcher), in one
 * send, straight away when the transport is ready: no round trip
 * through the event loop.  Only a transport that holds data back (its
 * socket was full) or a client that is closing waits for a writable
 * callback.
 *
 * Object lifetimes.  A client is malloc'd in gw_client_new() and freed
 * in gw_client_closed(), which a transport calls exactly once and
 * never from inside one of client.c's calls into it.  Anything that
 * wants a client gone (fatal error, sim CLOSE, kick, shutdown) calls
 * gw_client_close(), which only marks it GW_CLOSING, queues the error
 * and asks for a write; gw_client_writable() sends what is queued and
 * then asks the transport to close, and gw_client_closed() comes
 * later.  So a client pointer taken from the conn table stays valid
 * for the rest of the current callback.  A client that cannot be
 * written to is aborted GW_CLOSE_GRACE_S after it started closing.
 * A room lives while clients point at it; a sim lives for the process.
 */
#ifndef GW_GATEWAY_H
#define GW_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <libwebsockets.h>

#include "ctl.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "mp.h"
#include "nngev.h"
#include "proto.h"
#include "relay.h"

#include "breaker.h"
#include "jwt.h"
#include "limit.h"
#include "queue.h"

#define GW_BAD_MAX		16	/* bad messages before TOOMANY */
#define GW_OUTBOX_MAX		(1024 * 1024)	/* bytes in one relay batch */
#define GW_OUTBOX_SENDBUF	128	/* NNG_OPT_SENDBUF, messages */
/* Inputs for a sim wait this long for more before they leave as one
 * batch (JOIN and LEAVE never wait): each NNG message costs the sim and
 * NNG's threads several wake-ups, some 50-70 us of CPU on both sides
 * (doc/decisions.md).  About a sim's slot (33 ms / 8 at 30 Hz), so a
 * sim gets about one batch per slot; inputs wait for their room's tick
 * anyway. */
#define GW_RELAY_LINGER_MS	4
#define GW_INBOX_BUDGET		64	/* messages per inbox wake-up */
/* Records of a sim's batch relayed before the loop serves its clients
 * again (gs_inbox_cb): a sim's slot at 1,000 clients is some 125
 * snapshots, about a millisecond of writes that a ping would wait.  32
 * cost the gateway more loop iterations than it saved (decisions.md). */
#define GW_INBOX_CHUNK		64
#define GW_INBOX_RECVBUF	1024	/* NNG_OPT_RECVBUF, messages */
#define GW_DRAIN_MS		1000	/* at exit: wait for clients to go */
#define GW_CLOSE_GRACE_S	5	/* a closing client that cannot be
					 * written to is cut after this */
#define GW_WS_RX_CHUNK		256	/* lws receive buffer per client */
#define GW_CTL_LIST_MAX		1000	/* entries in "clients"/"rooms" */
/* The HTTP API (api.c). */
#define GW_API_INFLIGHT		1024	/* calls to gs-persist at once */
#define GW_API_TIMEOUT_MS	3000	/* one call, send to reply */
#define GW_API_RETRY_S		1	/* Retry-After when unavailable */
#define GW_API_LIMIT_KEYS	65536	/* addresses, accounts tracked */
#define GW_API_HASH_COST	5	/* login, register: limit tokens */
#define GW_API_BREAKER_FAILS	5	/* failures in a row: open */
#define GW_API_BREAKER_COOL_MS	2000	/* open for, before a probe */
#define GW_API_KEYS_MAX		8	/* -k files */
#define GW_ORIGINS_MAX		32	/* -o CORS origins */
#define GW_TOKEN_LEEWAY_S	30	/* clock skew allowed on iat, exp */
#define GW_LINK_FRESH_S		300	/* link: a token this young at most */
#define GW_REVOKED_POLL_S	1.0	/* revocations asked this often */
#define GW_FORGOTTEN_US		3000000ULL	/* at least: a playing
					 * client with no FRAME from a live
					 * sim for this long is forgotten */
#define GW_STALL_US		2000000ULL	/* sims check: a longer gap
					 * between the 1 s checks means our
					 * own loop stalled */
/* A client over its rate limits (-m, -y): each WebSocket message
 * dropped is a strike; this many within the window close it. */
#define GW_RL_STRIKES		20
#define GW_RL_WINDOW_S		10.
#define GW_RL_TELL_S		1.	/* a ratelimit error at most this
					 * often to one client */
#define GW_OWNERS		1024	/* hash slots of room owners */

enum gw_state {
	GW_HELLO,	/* waiting for hello */
	GW_JOINING,	/* JOIN sent to the sim */
	GW_PLAYING,	/* welcome sent */
	GW_CLOSING,	/* last frames out, then close */
	GW_NSTATES
};

/* Why a client is closed, as a transport-neutral class; WebSocket
 * maps it to a close code (gs-protocol(7), Close codes). */
enum gw_close {
	GW_CLOSE_NORMAL,	/* bye, or no error */
	GW_CLOSE_AWAY,		/* shutdown: the server is going away */
	GW_CLOSE_POLICY,	/* an error of the client's or a rule's */
	GW_CLOSE_INTERNAL	/* a server fault */
};

struct gw_client;

/*
 * A transport: how client.c reaches a client's connection.  conn is
 * the transport's own handle, given to gw_client_new().  None of these
 * may call back into client.c before returning.
 */
struct gw_transport {
	const char	*name;		/* "ws", for logs and metrics */
	/* Both lanes share one ordered stream: the whole queue leaves as
	 * one batch, in order.  Otherwise send() gets one message at a
	 * time, each with its lane, in the order queued. */
	bool		 one_stream;
	/* Spare bytes the transport may write before a batch; one_stream
	 * only (separate lanes: 0). */
	size_t		 headroom;
	/* Whether send() may be called now: nothing held back. */
	bool		(*ready)(void *conn);
	/* Call gw_client_writable() when the connection can take data. */
	void		(*want_write)(void *conn);
	/* Send buf[len]: whole protocol messages of one lane (one_stream),
	 * or exactly one message, with `headroom` writable bytes before
	 * buf.  0, or -1 when the connection is unusable
	 * (gw_client_closed() follows). */
	int		(*send)(void *conn, enum gw_lane lane, uint8_t *buf,
			    size_t len);
	/* Close after what was sent, with this class.  Called from inside
	 * gw_client_writable(). */
	void		(*close)(void *conn, enum gw_close why);
	/* Cut the connection now, without a goodbye. */
	void		(*abort)(void *conn);
};

struct gw_sim {
	char		*url;		/* borrowed from argv or env */
	unsigned	 index;		/* position in the -s list */
	struct gs_outbox ob;
	uint64_t	 instance;	/* last seen in its header; 0: none */
	uint64_t	 last_rx_us;	/* last batch from it (heartbeats too) */
	bool		 down;		/* silent past conf.sim_timeout */
	uint64_t	 restarts;	/* new instances seen */
	unsigned	 nclients;	/* JOINING or PLAYING on it */
	unsigned	 nplaying;	/* PLAYING on it */
	unsigned	 nrooms;
	/* Conns told LEAVE lately for records of clients we do not have
	 * (lib/relay.h, Convergence). */
	struct gs_relay_answers left;
};

struct gw_room {
	struct gw_room	*next;		/* hash chain */
	struct gw_sim	*sim;
	unsigned	 nclients;
	char		 name[GS_ROOM_MAX + 1];
	struct gw_owner	*owner;		/* who created it; NULL: no -g */
};

/* An address holding rooms it created (-g), while it holds any. */
struct gw_owner {
	struct gw_owner	*next;		/* hash chain */
	unsigned	 rooms;
	char		 addr[64];
};

/* A token bucket of a client's own (two in each client): tokens at
 * time last (ev_now). */
struct gw_bucket {
	double		 tokens;
	double		 last;
};

struct gw;

struct gw_client {
	struct gw	*gw;
	const struct gw_transport *t;
	void		*tconn;		/* the transport's handle */
	uint64_t	 conn;		/* id in relay records, never reused */
	enum gw_state	 state;
	char		 name[GS_NAME_MAX + 1];
	char		 peer[64];	/* address, for logs */
	char		 addr[64];	/* peer as a limit key: IPv6 cut to
					 * its /64 */
	struct gw_room	*room;		/* JOINING, PLAYING; else NULL */
	bool		 joined;	/* JOIN sent: LEAVE owed at detach */
	/* The hello deadline, then the join timeout, then the close
	 * grace: one timer, one deadline at a time. */
	ev_timer	 timer;
	uint64_t	 hello_us;	/* when JOIN was queued, gs_now_us */
	uint64_t	 frame_us;	/* PLAYING: welcome or last FRAME */
	uint64_t	 since_us;	/* connected at */
	unsigned	 nbad;
	uint32_t	 in_seq;	/* last input forwarded, this session */
	/* From the access token of hello; 0 in development mode
	 * without one. */
	uint64_t	 account;
	uint64_t	 sid;
	int64_t		 iat;

	struct gw_queue	 q;		/* leaves when writable */
	bool		 dirty;		/* on gw->dirty: flush at loop end */
	struct gw_client *dprev, *dnext;
	enum gw_close	 close_why;	/* when GW_CLOSING */
	uint64_t	 drops;		/* state frames dropped for it */

	/* Rate limits (-m, -y), strikes in the window since rl_window. */
	struct gw_bucket rl_msgs, rl_bytes;
	unsigned	 rl_strikes;
	double		 rl_window;
	double		 rl_told;	/* last ratelimit error queued */

	struct gw_client *hnext;	/* conn hash chain */
	struct gw_client *prev, *next;	/* all clients */
};

/* Labelled counters, indexed by message kind (0: other). */
#define GW_KINDS	14

/* Why a message for a client was never written to it. */
enum {
	GW_DROP_FULL,	/* its queue was full (unreliable only) */
	GW_DROP_CLOSED,	/* still queued when the connection closed */
	GW_DROP_GONE,	/* a sim's FRAME for a client gone, closing or
			 * not yet playing */
	GW_NDROPS
};

struct gw_metrics {
	struct gs_counter	*conns;
	struct gs_counter	*msgs_in[GW_KINDS];
	struct gs_counter	*msgs_out[GW_KINDS];
	struct gs_counter	*msgs_dropped[GW_KINDS][GW_NDROPS];
	struct gs_counter	*ws_in, *ws_out;
	struct gs_counter	*bytes_in, *bytes_out;
	struct gs_counter	*badframe, *toobig, *protoerr, *toomany;
	struct gs_counter	*state_drops, *slow_closes, *write_waits;
	struct gs_counter	*hello_timeouts, *join_timeouts;
	struct gs_counter	*rejects, *sim_closes;
	struct gs_counter	*kicks;
	struct gs_counter	*inputs_skipped;
	struct gs_counter	*rl_batches, *rl_records, *rl_bytes;
	struct gs_counter	*rl_drops, *rl_retries, *rl_full;
	struct gs_counter	*in_batches, *in_records, *in_bad;
	struct gs_counter	*in_unknown_conn, *in_stale;
	struct gs_counter	*in_misaddressed, *in_unknown_sim;
	struct gs_counter	*leaves_orphan, *rl_control_dropped;
	struct gs_counter	*api_requests, *api_limited, *api_breaker;
	struct gs_counter	*api_persist_fail, *api_persist_down;
	struct gs_counter	*tokens_bad, *tokens_revoked;
	struct gs_counter	*sim_restarts, *sim_silent, *forgotten;
	struct gs_hist		*join_seconds;
	/* Limits at the edge. */
	struct gs_counter	*lim_msgs, *lim_bytes, *lim_closes;
	struct gs_counter	*room_limited;
	struct gs_counter	*acc_accepted;
	struct gs_counter	*acc_refused[GS_HTTP_NREFUSALS];
	struct gs_counter	*acc_pauses_full, *acc_pauses_nofd;
	unsigned		 acc_open, acc_max, acc_paused;
	unsigned		 owners;	/* addresses holding rooms */
};

/* What a valid access token says (api.c). */
struct gw_token {
	uint64_t	 account;
	uint64_t	 sid;
	int64_t		 iat;
	char		 name[GS_NAME_MAX + 1];
};

/* Tokens of account (of session, or all when 0) issued at or before
 * not_before are refused. */
struct gw_revocation {
	uint64_t	 account;
	uint64_t	 session;
	int64_t		 not_before;
};

struct gw_api_conf {
	const char	*persist_url;	/* -P; NULL: no API calls */
	char		**keys;		/* -k: public key files */
	unsigned	 nkeys;
	double		 ip_rate;	/* -r: calls a second per address */
	double		 account_rate;	/* -R: per account */
};

struct gw_api {
	struct gw_api_conf conf;
	struct gs_jwt_keys *keys;	/* NULL: no -k */
	struct gs_rpc	*rpc;		/* NULL: no -P */
	unsigned	 inflight;
	struct breaker	 breaker;
	struct gs_limit	*by_ip;
	struct gs_limit	*by_account;
	struct gs_wr	 wr;		/* a request being packed */
	/* Revocations within the access tokens' life. */
	struct gw_revocation *revoked;
	size_t		 nrevoked, caprevoked;
	int64_t		 revoked_seq;	/* the last one seen */
	bool		 polling;
	int64_t		 access_ttl;	/* s, from gs-persist */
	ev_timer	 poll;
};

/* The QUIC transport (-Q and --quic-*). */
struct gw_quic_conf {
	const char	*addr;		/* "[addr:]port"; NULL: no QUIC */
	const char	*cert, *key;	/* PEM files */
	unsigned	 conns_max;
	unsigned	 handshakes_max;
	double		 idle;		/* seconds */
	double		 key_update;	/* seconds; 0: never */
};

struct gw_conf {
	bool		 dev;
	const char	*http_iface;	/* NULL: all */
	int		 http_port;
	const char	*inbox_url;
	const char	*ctl_url;
	size_t		 frame_max;	/* client -> server message cap */
	unsigned	 queue_frames;
	size_t		 queue_bytes;
	int		 sndbuf;	/* SO_SNDBUF per client; 0: kernel's */
	double		 join_timeout;	/* seconds */
	double		 sim_timeout;	/* seconds of silence: sim is dead */
	/* Per client: protocol messages and WebSocket payload bytes a
	 * second, and their bursts (-m, -y). */
	double		 msg_rate, msg_burst;
	double		 byte_rate, byte_burst;
	unsigned	 addr_rooms;	/* -g: rooms an address holds; 0: any */
};

struct gwq;

struct gw {
	struct ev_loop		*loop;
	struct gw_conf		 conf;
	uint64_t		 instance;
	uint64_t		 start_us;

	struct gs_http		*http;
	struct gwq		*quic;		/* NULL: no -Q */
	struct gs_inbox		 inbox;
	bool			 inbox_open;
	struct gs_post		 post;
	struct gs_ctl		*ctl;
	struct gs_metrics	*metrics;
	struct gw_metrics	 m;

	struct gw_sim		*sims;
	unsigned		 nsims;

	/* Clients: a list of all, and a hash by conn. */
	struct gw_client	*clients;
	unsigned		 nclients;
	unsigned		 nstate[GW_NSTATES];
	struct gw_client	**ctab;
	size_t			 ctabsz;	/* power of two */
	uint64_t		 next_conn;

	/* Rooms by name. */
	struct gw_room		**rtab;
	size_t			 rtabsz;	/* power of two */
	unsigned		 nrooms;
	/* Addresses holding rooms (-g), GW_OWNERS slots; NULL: no -g. */
	struct gw_owner		**otab;

	/* Clients with something to send; flushed before the loop sleeps. */
	struct gw_client	*dirty;
	ev_prepare		 flush;
	/* The queues' byte buffers, held only while bytes wait; trimmed
	 * by the heartbeat. */
	struct gw_qpool		 qpool;

	/* Scratch for frames the gateway writes itself. */
	struct gs_wr		 scratch;

	ev_timer		 heartbeat;
	uint64_t		 last_check_us;	/* gw_sims_check() */
	ev_signal		 sigterm, sigint, sighup;
	ev_timer		 drain_timer;
	ev_idle			 finish;
	bool			 ready;
	bool			 draining;	/* SIGTERM seen */
	bool			 finishing;	/* tearing down: no restart */

	struct gw_api		 api;

	struct gs_ratelimit	 rl_peer;	/* client-caused lines */
	struct gs_ratelimit	 rl_sim;	/* sim-caused lines */
};

/* client.c: called by transports */
/* A new connection from peer (an address, for logs).  NULL (logged)
 * when out of memory: the transport closes the connection. */
struct gw_client *gw_client_new(struct gw *gw, const struct gw_transport *t,
	    void *conn, const char *peer);
/* Whether new connections are welcome (not draining). */
bool	gw_accepting(const struct gw *gw);
/* One whole message from the client (a WebSocket message: one or more
 * protocol messages back to back). */
void	gw_client_recv(struct gw_client *c, const uint8_t *buf, size_t len);
/* A message the transport refused itself (too big, not binary):
 * answered with an error like a bad protocol message. */
void	gw_client_bad(struct gw_client *c, uint32_t code, const char *text);
/* The transport may send now (it asked through want_write).  Returns
 * -1 when a send failed: the transport closes the connection. */
int	gw_client_writable(struct gw_client *c);
/* The connection is gone: the client is freed. */
void	gw_client_closed(struct gw_client *c);

/* client.c: called by the rest of the gateway */
struct gw_client *gw_client_find(struct gw *gw, uint64_t conn);
/* Queue one whole protocol message (copied) on a lane.  State frames
 * may be dropped to make room; a reliable one that does not fit closes
 * the client with SLOW. */
void	gw_client_send(struct gw_client *c, const void *msg, size_t len,
	    enum gw_lane lane);
/* Queue an error message (code != 0) and close after it.  When code is
 * 0 close without one.  No-op on a client already closing. */
void	gw_client_close(struct gw_client *c, uint32_t code, const char *text);
/* The sim has forgotten this client: no LEAVE owed. */
void	gw_client_unjoin(struct gw_client *c);
void	gw_client_welcome(struct gw_client *c, const struct gs_relay_rec *r);
const char *gw_state_name(enum gw_state s);
/* Send what every client has queued (the ev_prepare watcher's job;
 * tests call it). */
void	gw_clients_flush(struct gw *gw);
void	gw_clients_init(struct gw *gw);
void	gw_clients_free(struct gw *gw);

/* ws.c: the WebSocket transport, lib/http.c's ws_cb. */
int	gw_ws_cb(void *arg, struct lws *wsi, enum lws_callback_reasons reason,
	    void *user, void *in, size_t len);
/* Its per-connection area (gs_http_conf.ws_user_size): lws zeroes it
 * before ESTABLISHED and frees it after CLOSED. */
struct gw_pss {
	struct gw_client *c;
	struct lws	*wsi;
	uint8_t		*rx;		/* one message, frame_max bytes */
	size_t		 rxlen;
	int		 rxskip;	/* discarding this message: why */
	bool		 close_pending;	/* close at the end of this write */
	bool		 close_started;	/* lws runs the close handshake */
	enum gw_close	 close_why;
};

/* quic.c: the QUIC transport.  NULL (logged) when it cannot start. */
struct gwq *gw_quic_open(struct gw *gw, const struct gw_quic_conf *conf);
int	gw_quic_port(const struct gwq *q);
/* Close every connection (1001) and the socket. */
void	gw_quic_close(struct gwq *q);

/* route.c */
void	gw_sims_open(struct gw *gw, char **urls, unsigned n);
void	gw_sims_close(struct gw *gw);
/* Room -> sim: FNV-1a 64 of the room name, modulo the number of sims. */
struct gw_sim *gw_route(struct gw *gw, const char *room);
/* Find or create; increments its client count.  NULL on malloc failure. */
struct gw_room *gw_room_ref(struct gw *gw, const char *name);
void	gw_room_unref(struct gw *gw, struct gw_room *rm);
/* Charge a room just created (one client) to addr: 0, or -1 when addr
 * holds conf.addr_rooms rooms already or memory ran out (the caller
 * unrefs the room, which is then freed). */
int	gw_room_claim(struct gw *gw, struct gw_room *rm, const char *addr);
void	gw_owners_free(struct gw *gw);
/* Append relay records to a sim's outbox.  Return GS_OK or GS_EAGAIN
 * (batch at its cap; counted). */
int	gw_relay_join(struct gw *gw, struct gw_sim *s, uint64_t conn,
	    const char *room, const char *name, bool watch,
	    uint64_t account);
int	gw_relay_input(struct gw *gw, struct gw_sim *s, uint64_t conn,
	    const struct gs_input *in);
int	gw_relay_leave(struct gw *gw, struct gw_sim *s, uint64_t conn);
int	gw_relay_ack(struct gw *gw, struct gw_sim *s, uint64_t conn,
	    uint64_t tick);
int	gw_relay_input_ack(struct gw *gw, struct gw_sim *s, uint64_t conn,
	    const struct gs_input *in, uint64_t tick);
int	gw_relay_look(struct gw *gw, struct gw_sim *s, uint64_t conn,
	    double x, double y);
void	gw_heartbeat(struct gw *gw);
/* Close the clients of sims that went silent (see route.c). */
void	gw_sims_check(struct gw *gw);
/* Count a message for a client that was never written; kind is a
 * gw_msg_kind_index(). */
void	gw_count_drop(struct gw *gw, unsigned kind, int reason);
/* gw_msg_kind_index() of the protocol message msg[len]. */
unsigned gw_msg_kind_of(const void *msg, size_t len);
size_t	gw_inbox_cb(void *arg, const uint8_t *buf, size_t len,
	    size_t from, enum gs_link_proof proof);
void	gw_relay_sync_metrics(void *gw);

/* api.c */
int	gw_api_open(struct gw *gw, const struct gw_api_conf *conf);
void	gw_api_close(struct gw *gw);
void	gw_api_cb(void *arg, struct gs_http_req *req);
/* Check an access token (hello, API calls): 0 and *out filled, or -1
 * and *why, a message for the client. */
int	gw_token_check(struct gw *gw, const char *text, size_t len,
	    struct gw_token *out, const char **why);

/* ops.c */
void	gw_metrics_init(struct gw *gw);
int	gw_msg_kind_index(int kind);
struct gs_ctl *gw_ctl_listen(struct gw *gw, const char *url);

#endif
