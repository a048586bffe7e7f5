/*
 * One line per event on stderr:
 *
 *	prog[pid]: level: short message key=value key=value ...
 *
 * Callers write "short message key=value ...": a few words saying what
 * happened ("client closed", "inbox listen failed"), then every value
 * as a key=value pair, never inside the prose, so that a line can be
 * grepped and split by machine.  A value with spaces is quoted:
 * text="server shutting down".  The prefix is added here.
 */
#ifndef GS_LOG_H
#define GS_LOG_H

#include <stdint.h>

enum { GS_LOG_ERROR, GS_LOG_WARN, GS_LOG_INFO, GS_LOG_DEBUG };

/* prog is borrowed for the life of the process. */
void	gs_log_init(const char *prog, int level);
/* Parse "error", "warn", "info" or "debug"; -1 if none of them. */
int	gs_log_level_parse(const char *s);
const char *gs_log_prog(void);

void	gs_log(int level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
#define gs_log_error(...)	gs_log(GS_LOG_ERROR, __VA_ARGS__)
#define gs_log_info(...)	gs_log(GS_LOG_INFO, __VA_ARGS__)
#define gs_log_debug(...)	gs_log(GS_LOG_DEBUG, __VA_ARGS__)
void	gs_log_warnx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* As gs_log_warnx, and appends " err=\"<strerror(errno)>\"". */
void	gs_log_warn(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Log at error level and exit with status code (111 system, 1 runtime). */
void	gs_fatalx(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
/* As gs_fatalx, and appends strerror(errno). */
void	gs_fatal(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

/*
 * Rate limit for messages a peer can cause: at most burst lines per
 * second; the lines suppressed are counted and reported on the next line
 * that passes.  Zero-initialise.
 */
struct gs_ratelimit {
	uint64_t	window;		/* start of the current second, ms */
	unsigned	count;		/* lines in this window */
	unsigned	suppressed;	/* lines dropped since the last one */
};
/* Returns 1 if a line may be logged now, 0 if it is suppressed. */
int	gs_ratelimit_ok(struct gs_ratelimit *rl, unsigned burst);

#endif
