/*
 * The game seam: loading a plugin (dlopen), the host table it calls,
 * faults, and the live reload.
 *
 * A host call that breaks the interface (gs-game(3), "Invariants") is
 * ignored and faults the room: the first reason is kept and logged,
 * the core makes no further call into the game for that room, and the
 * room is ended at its next wake-up (room.c), where freeing it is
 * safe.  A reload is all or nothing: every room's world is saved with
 * the old code and loaded with the new before any is swapped, so a new
 * plugin that fails anywhere leaves every room on the old one.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"
#include "util.h"

#define GAME_LOG_BURST	20	/* game log lines per second */

static inline struct sim_room *
room_of(struct gs_room *r)
{
	return (struct sim_room *)(void *)r;
}

struct gs_room *
sim_gs_room(struct sim_room *room)
{
	return (struct gs_room *)(void *)room;
}

void
sim_room_fault(struct sim_room *room, const char *fmt, ...)
{
	struct sim	*sim = room->sim;
	va_list		 ap;

	if (room->fault[0] != '\0')
		return;		/* the first reason is the one to read */
	va_start(ap, fmt);
	(void)vsnprintf(room->fault, sizeof(room->fault), fmt, ap);
	va_end(ap);
	if (room->fault[0] == '\0')
		(void)gs_strlcpy(room->fault, "fault", sizeof(room->fault));
	gs_counter_inc(sim->st.game_faults);
	gs_log_error("game fault room=%s game=%s version=%s why=\"%s\"",
	    room->name, room->game->name, room->game->version, room->fault);
}

/* ------------------------------------------------------- the host table */

static void
host_log(struct gs_room *r, int level, const char *fmt, ...)
{
	struct sim_room	*room = room_of(r);
	char		 buf[512];
	va_list		 ap;

	if (level < GS_GAME_LOG_ERROR || level > GS_GAME_LOG_DEBUG)
		level = GS_GAME_LOG_ERROR;
	/* Debug lines are the level's to filter; the others are capped. */
	if (level <= GS_LOG_INFO &&
	    !gs_ratelimit_ok(&room->sim->rl_game, GAME_LOG_BURST))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	gs_log(level, "game log room=%s game=%s text=\"%s\"", room->name,
	    room->game->name, buf);
}

static void
host_event(struct gs_room *r, uint32_t code, uint64_t player, int64_t value)
{
	struct sim_room	*room = room_of(r);

	if (room->fault[0] != '\0')
		return;
	if (code == GS_EV_JOINED || code == GS_EV_LEFT) {
		sim_room_fault(room, "event: code %u is the core's", code);
		return;
	}
	sim_room_event(room, NULL, code, player, value, NULL);
}

static uint64_t
host_random(struct gs_room *r)
{
	return gs_rand_next(&room_of(r)->rng);
}

static uint64_t
host_tick(struct gs_room *r)
{
	return room_of(r)->tick;
}

static uint64_t
host_now_us(struct gs_room *r)
{
	return gs_wall_us();
}

static gs_ent
host_spawn(struct gs_room *r, unsigned type, int slot)
{
	struct sim_room	*room = room_of(r);
	uint64_t	 id;
	gs_ent		 h;
	int		 rc;

	if (room->fault[0] != '\0')
		return 0;
	if (room->loading) {
		sim_room_fault(room, "spawn: called from load, which finds "
		    "the entities in place");
		return 0;
	}
	if (slot == GS_GAME_NOBODY)
		id = room->next_ent_id;
	else if (slot >= 0 && (unsigned)slot < room->sim->conf.room_players &&
	    room->slot[slot] != NULL)
		id = room->slot[slot]->id;
	else if (slot >= 0 && (unsigned)slot < room->sim->conf.room_players &&
	    room->joining != NULL && room->joining->slot == (unsigned)slot)
		id = room->joining->id;
	else {
		sim_room_fault(room, "spawn: slot %d has no player", slot);
		return 0;
	}
	rc = sim_ents_spawn(&room->ents, type, slot,
	    room->sim->conf.room_players, id, &h);
	if (rc != SIM_ENT_OK) {
		sim_room_fault(room, "spawn: type %u slot %d: %s", type + 1,
		    slot, sim_ents_err(rc));
		return 0;
	}
	if (slot == GS_GAME_NOBODY)
		room->next_ent_id++;
	return h;
}

static void
host_despawn(struct gs_room *r, gs_ent e)
{
	struct sim_room	*room = room_of(r);
	int		 rc;

	if (room->fault[0] != '\0')
		return;
	if (room->loading)
		sim_room_fault(room, "despawn: called from load");
	else if ((rc = sim_ents_despawn(&room->ents, e)) != SIM_ENT_OK)
		sim_room_fault(room, "despawn: handle %#x: %s", e,
		    sim_ents_err(rc));
}

static void
host_move(struct gs_room *r, gs_ent e, double x, double y)
{
	struct sim_room	*room = room_of(r);
	int		 rc;

	if (room->fault[0] == '\0' &&
	    (rc = sim_ents_move(&room->ents, e, x, y)) != SIM_ENT_OK)
		sim_room_fault(room, "move: handle %#x to (%g, %g): %s", e, x,
		    y, sim_ents_err(rc));
}

static void
host_set(struct gs_room *r, gs_ent e, unsigned field, int64_t v)
{
	struct sim_room	*room = room_of(r);
	int		 rc;

	if (room->fault[0] == '\0' &&
	    (rc = sim_ents_set(&room->ents, e, field, v)) != SIM_ENT_OK)
		sim_room_fault(room, "set: handle %#x field %u = %lld: %s", e,
		    field, (long long)v, sim_ents_err(rc));
}

const struct gs_host sim_host = {
	.abi = GS_GAME_ABI,
	.size = sizeof(struct gs_host),
	.log = host_log,
	.event = host_event,
	.random = host_random,
	.tick = host_tick,
	.now_us = host_now_us,
	.spawn = host_spawn,
	.despawn = host_despawn,
	.move = host_move,
	.set = host_set,
};

/* ------------------------------------------------------------ loading */

/*
 * A name without a slash is a game installed with gs:
 * <directory of gs-sim>/../lib/gs/games/NAME.so, which holds for the
 * build tree (build/bin, build/lib/gs/games) and for an installation
 * (PREFIX/bin, PREFIX/lib/gs/games) alike.
 */
static int
game_path(const char *spec, char *path, size_t len, char *err,
    size_t errlen)
{
	char	exe[PATH_MAX], *slash;
	ssize_t	n;

	if (strchr(spec, '/') != NULL) {
		if (gs_strlcpy(path, spec, len) != GS_OK) {
			(void)snprintf(err, errlen, "path too long");
			return -1;
		}
		return 0;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0) {
		(void)snprintf(err, errlen, "readlink /proc/self/exe: %s",
		    strerror(errno));
		return -1;
	}
	exe[n] = '\0';
	/* PREFIX/bin/gs-sim -> PREFIX (the link is resolved already). */
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	if ((size_t)snprintf(path, len, "%s/lib/gs/games/%s.so", exe,
	    spec) >= len) {
		(void)snprintf(err, errlen, "path too long");
		return -1;
	}
	return 0;
}

int
sim_game_open(const char *spec, struct sim_plugin *pl, char *err,
    size_t errlen)
{
	const struct gs_game	*g;
	char			 why[256];
	void			*dl;

	memset(pl, 0, sizeof(*pl));
	if (game_path(spec, pl->path, sizeof(pl->path), err, errlen) != 0)
		return -1;
	(void)dlerror();
	if ((dl = dlopen(pl->path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		(void)snprintf(err, errlen, "%s", dlerror());
		return -1;
	}
	if ((g = dlsym(dl, "gs_game")) == NULL) {
		(void)snprintf(err, errlen, "%s: no symbol gs_game (not a gs "
		    "game plugin?)", pl->path);
		(void)dlclose(dl);
		return -1;
	}
	if (sim_schema_check(g, why, sizeof(why)) != 0) {
		(void)snprintf(err, errlen, "%s: %s", pl->path, why);
		(void)dlclose(dl);
		return -1;
	}
	pl->dl = dl;
	pl->game = g;
	return 0;
}

void
sim_game_close(struct sim_plugin *pl)
{
	if (pl->dl != NULL && dlclose(pl->dl) != 0)
		gs_log_warnx("dlclose failed path=%s why=\"%s\"", pl->path,
		    dlerror());
	memset(pl, 0, sizeof(*pl));
}

/* ------------------------------------------------------------- saving */

/*
 * The world's state into sim->save (grown as needed).  Returns its
 * length, or 0 after faulting the room.
 */
static size_t
game_save(struct sim_room *room, const struct gs_game *g, void *world)
{
	struct sim	*sim = room->sim;
	uint8_t		*p;
	size_t		 n, m;

	n = g->save(world, sim->save, sim->save_cap);
	if (n == 0 || n > GS_GAME_SAVE_MAX) {
		sim_room_fault(room, "save returned %zu bytes (1 to %u allowed)",
		    n, GS_GAME_SAVE_MAX);
		return 0;
	}
	if (n <= sim->save_cap)
		return n;
	if ((p = realloc(sim->save, n)) == NULL) {
		gs_log_warn("realloc save bytes=%zu", n);
		return 0;
	}
	sim->save = p;
	sim->save_cap = n;
	if ((m = g->save(world, sim->save, sim->save_cap)) != n) {
		sim_room_fault(room, "save returned %zu bytes, then %zu for "
		    "the same world", n, m);
		return 0;
	}
	return n;
}

/*
 * The world of g loaded from buf, or NULL: the new code could not
 * restore it, or it touched the entities from load (a fault, which
 * falls on the load, not on the room's running world: it is cleared
 * and *why says it).
 */
static void *
game_load(struct sim_room *room, const struct gs_game *g, const uint8_t *buf,
    size_t len, char *why, size_t whylen)
{
	struct gs_room_conf	 conf;
	void			*w;
	char			 fault[sizeof(room->fault)];

	sim_room_conf(room, &conf);
	(void)memcpy(fault, room->fault, sizeof(fault));
	room->loading = 1;
	w = g->load(sim_gs_room(room), &sim_host, &conf, buf, len);
	room->loading = 0;
	if (room->fault[0] != '\0' && fault[0] == '\0') {
		(void)snprintf(why, whylen, "%s", room->fault);
		room->fault[0] = '\0';
		if (w != NULL)
			g->destroy(w);
		return NULL;
	}
	if (w == NULL)
		(void)snprintf(why, whylen, "load returned NULL");
	return w;
}

/*
 * Check that the world's save bytes are what its own code restores:
 * load them into a second world with the same code and save that.
 * Returns the length (the bytes in sim->save), or 0 after faulting the
 * room.
 */
static size_t
game_save_checked(struct sim_room *room)
{
	struct sim		*sim = room->sim;
	const struct gs_game	*g = room->game;
	uint8_t			*copy;
	size_t			 n, m;
	void			*w2;
	char			 why[GS_TEXT_MAX];
	int			 same;

	if ((n = game_save(room, g, room->world)) == 0)
		return 0;
	if ((copy = malloc(n)) == NULL) {
		gs_log_warn("malloc save bytes=%zu", n);
		return 0;
	}
	memcpy(copy, sim->save, n);
	if ((w2 = game_load(room, g, copy, n, why, sizeof(why))) == NULL) {
		sim_room_fault(room, "its own save bytes do not load: %s",
		    why);
		free(copy);
		return 0;
	}
	m = game_save(room, g, w2);
	same = m == n && memcmp(copy, sim->save, n) == 0;
	g->destroy(w2);
	if (!same && room->fault[0] == '\0')
		sim_room_fault(room, "save bytes change through load and save "
		    "(%zu bytes, then %zu)", n, m);
	if (same)
		memcpy(sim->save, copy, n);
	free(copy);
	return same ? n : 0;
}

/* ------------------------------------------------------ the game message */

int
sim_game_msg(struct sim *sim)
{
	const struct gs_game	*g = sim->game;
	struct gs_gameinfo	 gi;
	unsigned		 t, i;

	memset(&gi, 0, sizeof(gi));
	gi.name = g->name;
	gi.version = g->version;
	gi.world_w = g->world_w;
	gi.world_h = g->world_h;
	gi.radius = sim->conf.radius;
	gi.schema.cell = g->pos_step * GS_SNAP_CELL_STEPS;
	gi.schema.ntypes = g->ntypes;
	for (t = 0; t < g->ntypes; t++) {
		gi.type_name[t] = g->types[t].name;
		gi.schema.nfields[t] = g->types[t].nfields;
		for (i = 0; i < g->types[t].nfields; i++) {
			gi.field_name[t][i] = g->types[t].fields[i].name;
			gi.schema.min[t][i] = g->types[t].fields[i].min;
			gi.schema.max[t][i] = g->types[t].fields[i].max;
		}
	}
	gi.ninputs = g->ninputs;
	for (i = 0; i < g->ninputs; i++) {
		gi.input_name[i] = g->inputs[i].name;
		gi.input_min[i] = g->inputs[i].min;
		gi.input_max[i] = g->inputs[i].max;
		gi.input_cooldown[i] = g->inputs[i].cooldown;
	}
	gs_wr_reset(&sim->gamemsg);
	gs_gameinfo_put(&sim->gamemsg, &gi);
	return sim->gamemsg.err;
}

/* --------------------------------------------------------- the reload */

/*
 * Each room: save with the old code (checked), load with the new into
 * room->reload_world.  A room whose old code cannot save it is faulted
 * and ends now; that is the old game's failure, not the new one's, and
 * does not hold the others back.  Anything else failing undoes it all.
 */
int
sim_game_reload(struct sim *sim, const char *spec, char *err, size_t errlen)
{
	struct sim_plugin	 np;
	struct sim_room		*room, *next;
	char			 why[256];
	unsigned		 n = 0, ended = 0;
	size_t			 len;
	uint64_t		 t0 = gs_now_us();

	if (sim_game_open(spec, &np, why, sizeof(why)) != 0) {
		(void)snprintf(err, errlen, "cannot load %s: %s", spec, why);
		goto fail;
	}
	if (np.dl == sim->plugin.dl) {
		/* dlopen(3) hands out the loaded object again for the
		 * same file: nothing new would run. */
		(void)snprintf(err, errlen, "%s is the game running now: "
		    "install the new build as a new file (install(1), or "
		    "cp then mv), not over the old one", np.path);
		goto fail;
	}
	if (sim_schema_same(sim->game, np.game, why, sizeof(why)) != 0) {
		(void)snprintf(err, errlen, "%s declares other entities or "
		    "inputs than %s %s: %s", np.path, sim->game->name,
		    sim->game->version, why);
		goto fail;
	}
	for (room = sim->rooms; room != NULL; room = next) {
		next = room->next;
		if (room->fault[0] == '\0' &&
		    (len = game_save_checked(room)) != 0) {
			room->reload_world = game_load(room, np.game,
			    sim->save, len, why, sizeof(why));
			if (room->reload_world == NULL) {
				(void)snprintf(err, errlen, "room %s: %s %s "
				    "cannot load its state: %s", room->name,
				    np.game->name, np.game->version, why);
				goto undo;
			}
			n++;
		} else if (room->fault[0] != '\0') {
			sim_room_end_fault(room);	/* frees room */
			ended++;
		} else {
			(void)snprintf(err, errlen, "room %s: out of memory",
			    room->name);
			goto undo;
		}
	}
	/* Every room restored: swap. */
	for (room = sim->rooms; room != NULL; room = room->next) {
		room->game->destroy(room->world);
		room->world = room->reload_world;
		room->reload_world = NULL;
		room->game = np.game;
		/* The declarations are the same, but the old ones go
		 * with the old object. */
		room->ents.game = np.game;
	}
	/* ms: how long every room waited, between two of its ticks. */
	gs_log_info("game reloaded game=%s version=%s path=%s rooms=%u "
	    "rooms_ended=%u old_version=%s old_path=%s ms=%.2f",
	    np.game->name, np.game->version, np.path, n, ended,
	    sim->game->version, sim->plugin.path,
	    (double)(gs_now_us() - t0) / 1e3);
	sim_game_close(&sim->plugin);
	sim->plugin = np;
	sim->game = np.game;
	/* Same declarations; the name and version may have changed. */
	(void)sim_game_msg(sim);
	gs_counter_inc(sim->st.reloads);
	return 0;

undo:
	for (room = sim->rooms; room != NULL; room = room->next)
		if (room->reload_world != NULL) {
			np.game->destroy(room->reload_world);
			room->reload_world = NULL;
		}
fail:
	if (np.dl != NULL)
		sim_game_close(&np);
	gs_counter_inc(sim->st.reloads_failed);
	gs_log_warnx("game reload failed spec=%s why=\"%s\"", spec, err);
	return -1;
}
