/*
 * Replication: what each viewer of a room (a player, or a spectator)
 * is sent each snapshot, as a protocol-2 snapshot body (lib/snap.h).
 *
 * At each snapshot the room's entities are quantized once, in the
 * game's position steps, into a frame (a ring of the last
 * SIM_REPL_FRAMES frames, indexed by entity storage slot) and binned
 * into a uniform grid of the operator's cell size.  A viewer sees the entities within its view radius of its
 * centre (all of them with radius 0).  Its body is a delta against the
 * last snapshot it acknowledged: the ids that left its view, full
 * records for entities that entered it (or whose baseline is gone),
 * and delta records for entities that changed.  Each record is encoded
 * once per frame and shared by every viewer that needs the same one
 * (the full record of an entity; its delta against a given frame), so a
 * viewer costs the merge of two sorted lists and copies.
 *
 * A byte budget per body caps what one viewer is sent: when the
 * changes do not fit, the ones sent are those nearest the viewer and
 * longest unsent.  An entity left out keeps, in the viewer's history,
 * the frame of the state the viewer holds for it, and the next delta is
 * taken against that state, so nothing is lost, only late.
 *
 * Pure code: no clock, no loop, no metrics (counts are returned).
 */
#ifndef SIM_REPL_H
#define SIM_REPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ents.h"
#include "snap.h"

#define SIM_REPL_FRAMES		32	/* snapshots kept as baselines */

/* The room's entities at one snapshot, by storage slot; id 0: none. */
struct sim_repl_frame {
	uint64_t		 tick;		/* 0: unused */
	uint32_t		 cap;		/* slots */
	struct gs_snap_ent	*e;
	uint64_t		 changes;	/* the storage's, when taken */
};

struct sim_repl_cand;
struct sim_view_hist;

#define SIM_REPL_SHARES		4	/* bodies shared per frame */
#define SIM_REPL_KEY_NONE	1	/* the key of "no baseline" */
/* The key of "every entity of frame T at T's state": this bit | T. */
#define SIM_REPL_KEY_FULL	((uint64_t)1 << 63)

struct sim_repl_share {
	uint64_t		 base_key;	/* what it was built on */
	uint64_t		 key;		/* what it makes */
	uint64_t		 base;		/* its baseline tick */
	uint32_t		 off, len;	/* the body, in bytes */
	const struct sim_view_hist *h;	/* the entry it made */
	uint32_t		 full, delta, removed;
};

/* An entity of the current frame: its id and storage slot. */
struct sim_repl_pair {
	uint64_t	 id;
	uint32_t	 slot;
};

/* A record encoded for this frame, shared by viewers (an entry of an
 * older frame's tick is empty). */
struct sim_repl_memo {
	uint64_t	 tick;
	uint32_t	 full_off, full_len;	/* len 0: not encoded yet */
	uint64_t	 d_tick[2];		/* delta against that frame */
	uint32_t	 d_off[2], d_len[2];	/* len 0 and tick set: same */
};

struct sim_repl {
	struct gs_snap_schema	 schema;	/* cell: 65536 steps */
	double			 q2g;		/* steps -> grid cells */
	double			 radius;	/* world units; 0: everything */
	size_t			 budget;	/* bytes per body */
	struct sim_repl_frame	 frame[SIM_REPL_FRAMES];
	unsigned		 cur;		/* frame[cur]: the newest */
	/* The current frame's entities, ascending by id, and the storage's
	 * change count they were taken at (the live slots are the same
	 * while it is). */
	struct sim_repl_pair	*all;
	uint32_t		 nall, all_cap;
	uint64_t		 all_changes;
	bool			 all_valid;
	/* Scratch of a build: candidates, and the visible entities. */
	struct sim_repl_cand	*cand;
	uint32_t		 cand_cap;
	struct sim_repl_cand	**byprio;	/* over the budget: by priority */
	uint32_t		 byprio_cap;
	struct sim_repl_pair	*vis;
	uint32_t		 vis_cap;
	uint64_t		*rem;		/* the removed ids */
	uint32_t		 rem_cap;
	/* The grid of the current frame: cell c holds
	 * item[start[c] .. start[c + 1]). */
	uint32_t		 gw, gh;
	uint32_t		*start, *item;
	uint32_t		 item_cap;
	/* Records of the current frame. */
	struct sim_repl_memo	*memo;		/* by slot */
	uint32_t		 memo_cap;
	uint8_t			*bytes;
	size_t			 nbytes, bytes_cap;
	/*
	 * Whole bodies of the current frame, shared by viewers that see
	 * the whole world and hold the same thing.  A snapshot of the
	 * whole world with nothing held back leaves its viewer holding
	 * every entity of the frame at the frame's state, whatever it was
	 * built on: its history entry gets the key SIM_REPL_KEY_FULL |
	 * tick.  Viewers whose baselines have the same key (or that have
	 * none) get the body built first on it this frame.
	 */
	struct sim_repl_share	 share[SIM_REPL_SHARES];
	unsigned		 nshare;
};

/* An entity a viewer holds: by id, at the state of frame held. */
struct sim_view_ent {
	uint64_t		 id;
	uint64_t		 held;		/* frame tick; 0: no frame */
	uint32_t		 slot;
};

/* A snapshot a viewer was sent: what it then held, ascending by id. */
struct sim_view_hist {
	uint64_t		 tick;		/* 0: unused */
	uint64_t		 key;		/* shared content; 0: its own */
	uint32_t		 n, cap;
	struct sim_view_ent	*e;
};

struct sim_view {
	int64_t			 qx, qy;	/* centre, quantized */
	uint64_t		 ack;		/* newest snapshot acknowledged */
	struct sim_view_hist	 hist[SIM_REPL_FRAMES];
	unsigned		 next;		/* hist slot for the next one */
};

/* What one build did, for the metrics. */
struct sim_repl_stats {
	uint32_t	 full, delta, removed, shared, cut;
	uint32_t	 body_shared;	/* the whole body was another's */
	uint64_t	 base;		/* baseline tick used; 0: none */
};

/* grid: the side of a grid cell, world units. */
int	 sim_repl_init(struct sim_repl *r, const struct gs_game *g,
	    double grid, double radius, size_t budget);
void	 sim_repl_free(struct sim_repl *r);
/* Quantize the room's entities into a new frame for tick. */
int	 sim_repl_frame(struct sim_repl *r, uint64_t tick,
	    const struct sim_ents *es);

void	 sim_view_init(struct sim_view *v);
void	 sim_view_free(struct sim_view *v);
void	 sim_view_center(struct sim_view *v, const struct sim_repl *r,
	    double x, double y);
/* The viewer acknowledged the snapshot of tick (0: it holds none, and
 * wants the next one whole).  false: not one it was sent lately
 * (ignored). */
bool	 sim_view_ack(struct sim_view *v, uint64_t tick);
/*
 * The body for v at the current frame into out (at most cap bytes);
 * returns its length, 0 on failure (out of memory, or cap too small
 * for the removals alone).  The snapshot is recorded in v's history.
 */
size_t	 sim_repl_build(struct sim_repl *r, struct sim_view *v,
	    uint8_t *out, size_t cap, struct sim_repl_stats *st);

#endif
