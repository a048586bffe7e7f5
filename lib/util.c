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

/* A finite number at the start of s; *end after it. */
static int
parse_number(const char *s, double *v, char **end)
{
	if (s == NULL || *s == '\0')
		return GS_EINVAL;
	errno = 0;
	*v = strtod(s, end);
	if (*end == s || errno == ERANGE || !isfinite(*v))
		return GS_EINVAL;
	return GS_OK;
}

int
gs_parse_us(const char *s, double unit_us, double min_us, double max_us,
    double *out_us)
{
	static const struct {
		const char	*unit;
		double		 us;
	} units[] = {
		{ "us", 1 }, { "ms", 1e3 }, { "s", 1e6 }, { "m", 60e6 },
	};
	char	*end;
	double	 v, mul;
	size_t	 i;

	if (parse_number(s, &v, &end) != GS_OK || v < 0)
		return GS_EINVAL;
	mul = unit_us;
	if (*end != '\0') {
		for (i = 0; i < GS_NELEM(units); i++)
			if (strcmp(end, units[i].unit) == 0)
				break;
		if (i == GS_NELEM(units))
			return GS_EINVAL;
		mul = units[i].us;
	}
	v *= mul;
	if (v < min_us || v > max_us)
		return GS_ERANGE;
	*out_us = v;
	return GS_OK;
}

int
gs_parse_ms(const char *s, long long unit_ms, long long min_ms,
    long long max_ms, long long *out)
{
	double	us;
	int	err;

	if ((err = gs_parse_us(s, (double)unit_ms * 1e3, (double)min_ms * 1e3,
	    (double)max_ms * 1e3, &us)) != GS_OK)
		return err;
	*out = (long long)(us / 1e3 + 0.5);
	return GS_OK;
}

int
gs_parse_double(const char *s, double min, double max, double *out)
{
	char	*end;
	double	 v;

	if (parse_number(s, &v, &end) != GS_OK || *end != '\0')
		return GS_EINVAL;
	if (v < min || v > max)
		return GS_ERANGE;
	*out = v;
	return GS_OK;
}

int
gs_parse_ratio(const char *s, double *out)
{
	char	*end;
	double	 v;

	if (parse_number(s, &v, &end) != GS_OK)
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
		gs_log_warnx("notify failed reason=path_too_long");
		return;
	}
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';		/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		gs_log_warn("notify failed call=socket");
		return;
	}
	if (sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&sun, len) == -1)
		gs_log_warn("notify failed call=sendto");
	close(fd);
}

void
gs_notify_ready(int fd)
{
	if (fd >= 0) {
		if (write(fd, "\n", 1) != 1)
			gs_log_warn("notify failed call=write fd=%d", fd);
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
		gs_fatal(GS_EXIT_SYSTEM, "getrandom failed");
	return v;
}

uint64_t
gs_hash_fnv1a(const char *s)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t
gs_rand_next(uint64_t *state)
{
	uint64_t	z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double
gs_rand01(uint64_t *state)
{
	return (double)(gs_rand_next(state) >> 11) * 0x1.0p-53;
}
