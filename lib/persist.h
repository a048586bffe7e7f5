/*
 * The request API of gs-persist, the one owner of the database.
 *
 * Transport: NNG REQ/REP.  gs-persist listens with a raw REP socket, so
 * that any number of requests from any number of peers are in flight
 * at once; a caller uses REQ (lib/nngev.h gs_rpc, one context per
 * outstanding request) and may retry: every write below is either
 * idempotent or says what a retry does.
 *
 * Request:  msgpack array  [op:str, arg...]
 * Reply:    msgpack array  [status:uint, body]
 *           status GS_PST_OK: body is the op's result;
 *           otherwise body is a message str for people, and status
 *           the stable code (gs_pst_err_name) for programs.
 *
 * A reply means the transaction that holds the request's writes has
 * committed (group commit: the requests read in one loop iteration
 * share a transaction, each under its own savepoint, so one failing
 * request never undoes another).
 *
 * Ids are sqlite rowids, 1 and up.  Times are seconds since the epoch.
 * Strings are UTF-8 within the caps below.
 *
 * The ops, their arguments and their results are listed in
 * gs-persist(8), REQUESTS; this header holds what the programs share.
 */
#ifndef GS_PERSIST_H
#define GS_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "mp.h"

enum {
	GS_PST_OK = 0,
	GS_PST_EUNKNOWN,	/* no such op */
	GS_PST_EARGS,		/* missing or malformed arguments */
	GS_PST_ENOTFOUND,	/* the named object does not exist */
	GS_PST_ECONFLICT,	/* taken already (a username, a device) */
	GS_PST_EAUTH,		/* wrong password, bad or spent token */
	GS_PST_EBANNED,		/* the account is banned */
	GS_PST_EBUSY,		/* over capacity now; retry later */
	GS_PST_EINTERNAL,	/* the database failed; retry later */
	GS_PST_EFORBIDDEN,	/* not allowed to this caller */
	GS_PST_EMAX
};

/* "ok", "unknown", "args", "not_found", "conflict", "unauthorized",
 * "banned", "busy", "internal", "forbidden"; "?" for anything else.
 * Stable: these are the error codes of the HTTP API too. */
const char	*gs_pst_err_name(unsigned code);

/* Caps on arguments, checked by gs-persist and by callers. */
#define GS_PST_DEVICE_MAX	128	/* device id bytes */
#define GS_PST_USER_MIN		3	/* username bytes */
#define GS_PST_USER_MAX		32
#define GS_PST_PASS_MIN		8	/* password bytes */
#define GS_PST_PASS_MAX		1024
#define GS_PST_REFRESH_MAX	128	/* refresh token text */
#define GS_PST_REASON_MAX	256	/* a ban's reason */
/* A whole request, bytes, and gs-persist's NNG receive cap: room for a
 * checkpoint_put of GS_PST_CHECKPOINT_MAX bytes. */
#define GS_PST_REQ_MAX		(1u << 20)
#define GS_PST_AVATAR_MAX	256	/* a profile's avatar URL, bytes */
#define GS_PST_META_MAX		4096	/* a profile's metadata, JSON bytes */
#define GS_PST_JSON_DEPTH	16	/* nesting in metadata and results */
#define GS_PST_KEY_MAX		64	/* a stat's key, bytes */
#define GS_PST_STATS_MAX	256	/* stats of one account */
#define GS_PST_STATS_REQ_MAX	64	/* stats in one request */
#define GS_PST_MATCH_MAX	64	/* a match id, bytes */
#define GS_PST_RESULT_MAX	4096	/* a match result, JSON bytes */
#define GS_PST_PLAYERS_MAX	4096	/* accounts in one match result */
#define GS_PST_MATCHES_MAX	100	/* matches in one page */
/* A checkpoint's data, bytes: 4 KiB below 1 MiB, so that a request
 * carrying it fits GS_PST_REQ_MAX and a reply carrying it fits the
 * 1 MiB that NNG receives by default (a sim need not raise its cap). */
#define GS_PST_CHECKPOINT_MAX	((1u << 20) - 4096)
/* Friends, presence and chat. */
#define GS_PST_FRIENDS_MAX	1000	/* relations of one account (friends,
					 * requests, blocks): friend_list */
/* Accounts in one gateway's presence list: 9 bytes each at most, so a
 * full list fits GS_PST_REQ_MAX. */
#define GS_PST_PRESENCE_MAX	65536
#define GS_PST_PRESENCE_TTL_MAX	60	/* s a presence list may count */
#define GS_PST_GROUP_MAX	64	/* a group's name, bytes */
#define GS_PST_GROUPS_MAX	100	/* groups one account is in */
#define GS_PST_MEMBERS_MAX	1000	/* members of one group */
#define GS_PST_CHANNEL_MAX	70	/* a channel's name: "group:" + 64 */
#define GS_PST_CHAT_TEXT_MAX	500	/* a message, bytes of UTF-8 */
#define GS_PST_CHAT_PAGE_MAX	100	/* messages in one history page */

/*
 * Usernames: 3 to 32 bytes of a-z 0-9 _ . - (lower case: a login is
 * not case-sensitive, callers fold A-Z before sending).  Display names
 * follow the player-name rule of the wire protocol (gs_name_valid).
 */
int		 gs_pst_username_valid(const char *s, size_t len);

/*
 * The tokens a login returns, as the body map of guest, register,
 * login and refresh:
 *   {"account": id, "name": str, "access": str (JWT),
 *    "access_expires": s, "refresh": str, "refresh_expires": s,
 *    "created": bool (guest: a new account was made)}
 */

#endif
