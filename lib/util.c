#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "util.h"

uint64_t
gs_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
gs_now_ms(void)
{
	return gs_now_us() / 1000u;
}

uint64_t
gs_wall_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int
gs_parse_ll(const char *s, long long min, long long max, long long *out)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s == '\0')
		return GS_EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || end == s)
		return GS_EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return GS_ERANGE;
	*out = v;
	return GS_OK;
}

int
gs_parse_ms(const char *s, long long unit_ms, long long min_ms,
    long long max_ms, long long *out)
{
	char	*end;
	double	 v, mul;

	if (s == NULL || *s == '\0')
		return GS_EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(v) || v < 0)
		return GS_EINVAL;
	if (*end == '\0')
		mul = (double)unit_ms;
	else if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "s") == 0)
		mul = 1000;
	else if (strcmp(end, "m") == 0)
		mul = 60000;
	else
		return GS_EINVAL;
	v *= mul;
	if (v < (double)min_ms || v > (double)max_ms)
		return GS_ERANGE;
	*out = (long long)(v + 0.5);
	return GS_OK;
}

int
gs_parse_ratio(const char *s, double *out)
{
	char	*end;
	double	 v;

	if (s == NULL || *s == '\0')
		return GS_EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(v))
		return GS_EINVAL;
	if (strcmp(end, "%") == 0)
		v /= 100;
	else if (*end != '\0')
		return GS_EINVAL;
	if (v < 0 || v > 1)
		return GS_ERANGE;
	*out = v;
	return GS_OK;
}

void
gs_usage_bad(const char *what, const char *val, const char *want,
    void (*usage)(void))
{
	fprintf(stderr, "%s: %s: bad value '%s' (want %s)\n", gs_log_prog(),
	    what, val, want);
	if (usage != NULL)
		usage();
	exit(GS_EXIT_USAGE);
}

static void
arg_fail(const char *what, const char *s, long long min, long long max,
    const char *unit, void (*usage)(void))
{
	char	want[96];

	(void)snprintf(want, sizeof(want), "%lld..%lld%s", min, max, unit);
	gs_usage_bad(what, s, want, usage);
}

long long
gs_arg_int(const char *what, const char *s, long long min, long long max,
    void (*usage)(void))
{
	long long	v;

	if (gs_parse_ll(s, min, max, &v) != GS_OK)
		arg_fail(what, s, min, max, "", usage);
	return v;
}

long long
gs_arg_ms(const char *what, const char *s, long long unit_ms,
    long long min_ms, long long max_ms, void (*usage)(void))
{
	long long	v;

	if (gs_parse_ms(s, unit_ms, min_ms, max_ms, &v) != GS_OK)
		arg_fail(what, s, min_ms, max_ms, " ms; units ms, s, m",
		    usage);
	return v;
}

const char *
gs_env(const char *name, const char *def)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? v : def;
}

int
gs_strlcpy(char *dst, const char *src, size_t cap)
{
	size_t	n = strlen(src);

	if (cap == 0)
		return GS_ETOOBIG;
	if (n >= cap) {
		memcpy(dst, src, cap - 1);
		dst[cap - 1] = '\0';
		return GS_ETOOBIG;
	}
	memcpy(dst, src, n + 1);
	return GS_OK;
}

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void
notify_systemd(void)
{
	const char		*path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un	 sun;
	socklen_t		 len;
	int			 fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (gs_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) != GS_OK) {
		gs_log_warnx("event=notify_failed reason=path_too_long");
		return;
	}
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';		/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		gs_log_warn("event=notify_failed call=socket");
		return;
	}
	if (sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&sun, len) == -1)
		gs_log_warn("event=notify_failed call=sendto");
	close(fd);
}

void
gs_notify_ready(int fd)
{
	if (fd >= 0) {
		if (write(fd, "\n", 1) != 1)
			gs_log_warn("event=notify_failed call=write fd=%d", fd);
		close(fd);
	}
	notify_systemd();
}

void
gs_signals_ignore(void)
{
	(void)signal(SIGTERM, SIG_IGN);
	(void)signal(SIGINT, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
}

uint64_t
gs_random_u64(void)
{
	uint64_t	v;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		gs_fatal(GS_EXIT_SYSTEM, "event=getrandom_failed");
	return v;
}
