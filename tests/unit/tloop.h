/*
 * Helpers for unit tests that run a libev loop over real NNG sockets:
 * a private temporary directory for ipc:// paths, removed at exit, and
 * a loop runner with a watchdog, so that a test that would hang fails.
 * The watchdog is generous: it only ends hangs, it times nothing.
 */
#ifndef TLOOP_H
#define TLOOP_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#define T_WATCHDOG_S	15.0

static char	t_tmpdir_path[64];

static void
t_tmpdir_remove(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[512];

	if ((d = opendir(t_tmpdir_path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", t_tmpdir_path,
		    de->d_name);
		(void)unlink(path);
	}
	(void)closedir(d);
	(void)rmdir(t_tmpdir_path);
}

/* The test's temporary directory, made on first use. */
static inline const char *
t_tmpdir(void)
{
	if (t_tmpdir_path[0] == '\0') {
		(void)snprintf(t_tmpdir_path, sizeof(t_tmpdir_path),
		    "/tmp/gs-test-XXXXXX");
		if (mkdtemp(t_tmpdir_path) == NULL) {
			perror("mkdtemp");
			exit(1);
		}
		atexit(t_tmpdir_remove);
	}
	return t_tmpdir_path;
}

static void
t_watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	*(int *)w->data = 1;
	ev_break(loop, EVBREAK_ALL);
}

/* Run the loop until *count >= want; 0 if the watchdog fired first. */
static inline int
run_until(struct ev_loop *loop, const int *count, int want)
{
	ev_timer	wd;
	int		fired = 0;

	ev_timer_init(&wd, t_watchdog_cb, T_WATCHDOG_S, 0.);
	wd.data = &fired;
	ev_timer_start(loop, &wd);
	while (*count < want && !fired)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &wd);
	if (fired)
		fprintf(stderr, "watchdog fired\n");
	return !fired;
}

#endif
