#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static const char	*log_prog = "gs";
static int		 log_level = GS_LOG_INFO;
static const char *const level_names[] = { "error", "warn", "info", "debug" };

void
gs_log_init(const char *prog, int level)
{
	log_prog = prog;
	log_level = level;
}

const char *
gs_log_prog(void)
{
	return log_prog;
}

int
gs_log_level_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < GS_NELEM(level_names); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

/* One write(2) per line so lines from several processes sharing a
 * terminal or pipe do not interleave. */
static void
log_emit(int level, const char *fmt, va_list ap, const char *tail)
{
	char	line[1024];
	int	n, m;

	n = snprintf(line, sizeof(line), "%s[%ld]: %s: ", log_prog,
	    (long)getpid(), level_names[level]);
	if (n < 0)
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		return;
	n = (size_t)(n + m) >= sizeof(line) ? (int)sizeof(line) - 1 : n + m;
	if (tail != NULL) {
		m = snprintf(line + n, sizeof(line) - (size_t)n,
		    " err=\"%s\"", tail);
		if (m > 0)
			n = (size_t)(n + m) >= sizeof(line) ?
			    (int)sizeof(line) - 1 : n + m;
	}
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void
gs_log(int level, const char *fmt, ...)
{
	va_list	ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	log_emit(level, fmt, ap, NULL);
	va_end(ap);
}

void
gs_log_warnx(const char *fmt, ...)
{
	va_list	ap;

	if (GS_LOG_WARN > log_level)
		return;
	va_start(ap, fmt);
	log_emit(GS_LOG_WARN, fmt, ap, NULL);
	va_end(ap);
}

void
gs_log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	if (GS_LOG_WARN > log_level)
		return;
	va_start(ap, fmt);
	log_emit(GS_LOG_WARN, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
gs_fatalx(int code, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(GS_LOG_ERROR, fmt, ap, NULL);
	va_end(ap);
	exit(code);
}

void
gs_fatal(int code, const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_emit(GS_LOG_ERROR, fmt, ap, strerror(saved));
	va_end(ap);
	exit(code);
}

int
gs_ratelimit_ok(struct gs_ratelimit *rl, unsigned burst)
{
	uint64_t	now = gs_now_ms();

	if (now - rl->window >= 1000) {
		rl->window = now;
		rl->count = 0;
	}
	if (rl->count >= burst) {
		rl->suppressed++;
		return 0;
	}
	rl->count++;
	if (rl->suppressed > 0) {
		gs_log_warnx("log lines suppressed lines=%u", rl->suppressed);
		rl->suppressed = 0;
	}
	return 1;
}
