/*
 * bench_relay: what one relay message between two processes costs, over
 * NNG (PUSH to PULL on ipc://, as gs-gateway and gs-sim talk) and over a
 * plain unix SOCK_SEQPACKET socket pair, the kernel's floor for the
 * same hand-off.
 *
 *	bench_relay nng|unix rate size seconds dir
 *
 * The parent sends `size`-byte messages at `rate` a second for
 * `seconds`, on absolute deadlines; a child receives them, waiting in
 * poll(2) on the socket's readiness as a loop thread does (NNG: its
 * RECVFD).  Each side reads its own getrusage(RUSAGE_SELF), which covers
 * all its threads, from its first message to its last, and prints one
 * line: CPU microseconds and context switches per message.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#define END_LEN		1	/* a message this long ends the run */
#define MAX_SIZE	65536

struct usage {
	double		cpu_us;
	long		csw;
};

static void
usage_now(struct usage *u)
{
	struct rusage	ru;

	(void)getrusage(RUSAGE_SELF, &ru);
	u->cpu_us = ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec +
	    ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
	u->csw = ru.ru_nvcsw + ru.ru_nivcsw;
}

static void
report(const char *side, const char *via, long n, const struct usage *a,
    const struct usage *b)
{
	if (n <= 0) {
		printf("%s %s messages=0\n", via, side);
		return;
	}
	printf("%s %s messages=%ld cpu_us_per_msg=%.1f csw_per_msg=%.2f\n",
	    via, side, n, (b->cpu_us - a->cpu_us) / n,
	    (double)(b->csw - a->csw) / n);
}

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "bench_relay: %s: %s\n", what, why);
	exit(1);
}

/* The receiving side: fd is what poll(2) waits on. */
struct rx {
	int		 fd;
	nng_socket	 sock;
	int		 unix_fd;
	uint8_t		*buf;
};

/* One message's length; 0 when none is waiting. */
static long
rx_one(struct rx *rx, int nng)
{
	nng_msg	*msg;
	long	 len;

	if (nng) {
		if (nng_recvmsg(rx->sock, &msg, NNG_FLAG_NONBLOCK) != 0)
			return 0;
		len = (long)nng_msg_len(msg);
		nng_msg_free(msg);
		return len;
	}
	len = recv(rx->unix_fd, rx->buf, MAX_SIZE, MSG_DONTWAIT);
	return len < 0 ? 0 : len;
}

static void
receiver(struct rx *rx, int nng, const char *via)
{
	struct usage	a = { 0 }, b;
	struct pollfd	pfd = { .fd = rx->fd, .events = POLLIN };
	long		n = 0, len;

	for (;;) {
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			die("poll", strerror(errno));
		while ((len = rx_one(rx, nng)) > 0) {
			if (len == END_LEN) {
				usage_now(&b);
				report("receiver", via, n - 1, &a, &b);
				return;
			}
			if (n++ == 0)
				usage_now(&a);
		}
	}
}

static void
deadline_add(struct timespec *t, long ns)
{
	t->tv_nsec += ns;
	while (t->tv_nsec >= 1000000000L) {
		t->tv_nsec -= 1000000000L;
		t->tv_sec++;
	}
}

int
main(int argc, char **argv)
{
	struct usage	 a, b;
	struct timespec	 next;
	struct rx	 rx = { .fd = -1, .unix_fd = -1 };
	nng_socket	 push;
	char		 url[512];
	int		 nng, rv, sv[2], fd, status;
	long		 rate, size, secs, i, total;
	uint8_t		*msgbuf;
	pid_t		 pid;

	if (argc != 6 || (strcmp(argv[1], "nng") != 0 &&
	    strcmp(argv[1], "unix") != 0)) {
		fprintf(stderr, "usage: bench_relay nng|unix rate size "
		    "seconds dir\n");
		return 2;
	}
	nng = strcmp(argv[1], "nng") == 0;
	rate = atol(argv[2]);
	size = atol(argv[3]);
	secs = atol(argv[4]);
	if (rate < 1 || rate > 1000000 || size <= END_LEN ||
	    size > MAX_SIZE || secs < 1)
		die("arguments", "want rate 1-1000000, size 2-65536, "
		    "seconds >= 1");
	(void)snprintf(url, sizeof(url), "ipc://%s/relay.ipc", argv[5]);
	if ((msgbuf = calloc(1, MAX_SIZE)) == NULL)
		die("calloc", strerror(errno));
	rx.buf = msgbuf;

	if (!nng && socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
		die("socketpair", strerror(errno));
	fflush(stdout);
	/* NNG's threads do not survive fork(): no NNG call before it. */
	if ((pid = fork()) < 0)
		die("fork", strerror(errno));
	if (pid == 0) {
		if (nng) {
			if ((rv = nng_pull0_open(&rx.sock)) != 0 ||
			    (rv = nng_listen(rx.sock, url, NULL, 0)) != 0 ||
			    (rv = nng_socket_get_int(rx.sock, NNG_OPT_RECVFD,
			    &rx.fd)) != 0)
				die("pull", nng_strerror(rv));
		} else {
			close(sv[1]);
			rx.fd = rx.unix_fd = sv[0];
		}
		receiver(&rx, nng, argv[1]);
		fflush(stdout);
		_exit(0);
	}

	if (nng) {
		if ((rv = nng_push0_open(&push)) != 0)
			die("push", nng_strerror(rv));
		/* The child listens once it has started: dial until it
		 * does. */
		for (i = 0; (rv = nng_dial(push, url, NULL, 0)) != 0; i++) {
			if (i == 500)
				die("dial", nng_strerror(rv));
			(void)nanosleep(&(struct timespec){ 0, 10000000L },
			    NULL);
		}
	} else {
		close(sv[0]);
		fd = sv[1];
	}

	total = rate * secs;
	(void)clock_gettime(CLOCK_MONOTONIC, &next);
	usage_now(&a);
	for (i = 0; i <= total; i++) {
		long	len = i == total ? END_LEN : size;

		if (nng) {
			nng_msg	*msg;

			if ((rv = nng_msg_alloc(&msg, (size_t)len)) != 0)
				die("nng_msg_alloc", nng_strerror(rv));
			memcpy(nng_msg_body(msg), msgbuf, (size_t)len);
			/* Blocking: the end message must not be lost. */
			if ((rv = nng_sendmsg(push, msg, 0)) != 0)
				die("nng_sendmsg", nng_strerror(rv));
		} else if (send(fd, msgbuf, (size_t)len, 0) != len)
			die("send", strerror(errno));
		if (i == total - 1)
			usage_now(&b);
		deadline_add(&next, 1000000000L / rate);
		(void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
		    NULL);
	}
	report("sender", argv[1], total, &a, &b);
	fflush(stdout);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		die("receiver", "failed");
	if (nng)
		(void)nng_close(push);
	free(msgbuf);
	return 0;
}
