/*
 * The kernel's floor for the server side of the arena traffic: the same
 * connections, message sizes and rates as gs-loadgen against gs, carried
 * by plain loopback TCP with no gs code on either end.  Two processes,
 * which tests/bench/run pins to different CPUs and measures from /proc
 * (see tests/bench/METHOD.md):
 *
 *	bench_floor server [-o pong] [-p port] [-r hz] [-s snapshot]
 *	bench_floor client -n clients -p port [-g ping] [-i input] [-r hz]
 *	    [-t slots]
 *
 * The server listens on 127.0.0.1 and prints "port P" once it does; it
 * reads every connection with one level-triggered epoll, answers each
 * ping with a pong, and every 1/hz second writes one snapshot to every
 * connection.  It keeps no output queue: a short write drops the rest of
 * that message, a full socket the whole message, and both are counted
 * (the client does not parse what it gets, so a cut message is harmless).
 *
 * The client opens its connections, prints "connected N", then sends
 * each connection one input per tick and one ping a second, at a phase
 * of its own: as gs-loadgen does, a timer runs slots times a tick and
 * each wake-up serves the connections of that slot.  It reads and
 * discards what comes back.  A message its socket cannot take waits in
 * a small queue, so the server always sees whole messages.
 *
 * Client messages are [u16 length, little-endian, the whole message][u8
 * kind]['\0' padding]; server messages are framed the same way.
 *
 * Both sides: SIGUSR1 starts the measured window (counters are taken
 * from there), SIGTERM or SIGINT prints one line of key=value counts for
 * the window (since the start without SIGUSR1) on stdout and exits 0.
 */
#define _GNU_SOURCE		/* accept4 */

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "util.h"

#define FLOOR_MSG_MIN	3		/* u16 length + kind */
#define FLOOR_IN_MAX	4096		/* a client message, as gs-gateway -f */
#define FLOOR_OUT_MAX	65535		/* a server message (u16 length) */
#define FLOOR_QUEUE	4096		/* client's per-connection queue */
#define FLOOR_NEV	512		/* epoll events per wake-up */
#define FLOOR_SPARE_FDS	16		/* epoll, timer, stdio, listener */

#define FLOOR_INPUT	'I'
#define FLOOR_PING	'P'
#define FLOOR_SNAPSHOT	'S'
#define FLOOR_PONG	'O'

static volatile sig_atomic_t	floor_stop, floor_mark;

/* Counters; the window is the difference between two copies. */
struct floor_count {
	uint64_t	inputs, pings;		/* messages read or sent */
	uint64_t	snapshots, pongs;	/* written whole (server) */
	uint64_t	bytes_in, bytes_out;
	uint64_t	partial;	/* short write, rest dropped (server) */
	uint64_t	full;		/* socket full, message dropped */
	uint64_t	queued;		/* waited in the queue (client) */
	uint64_t	missed;		/* timer expiries run late */
	uint64_t	closed, bad, send_errors;
};

/* A server connection; fd < 0 marks the listener and the timer, which
 * share the epoll set. */
struct floor_conn {
	int		 fd;
	int		 idx;		/* in floor_srv.conns */
	size_t		 inlen;
	uint8_t		 in[FLOOR_IN_MAX];
};

struct floor_srv {
	int			 ep, lfd, tfd;
	struct floor_conn	 lsn, tmr;	/* epoll tags */
	struct floor_conn	**conns;	/* dense, conns[i]->idx == i */
	int			 nconns, maxconns;
	uint8_t			*snap, *pong;
	size_t			 snaplen, ponglen;
	struct floor_count	 cnt;
};

/* A client connection; the queue holds what its socket did not take. */
struct floor_cconn {
	int		 fd;
	bool		 wantout;
	size_t		 qlen;
	uint8_t		 q[FLOOR_QUEUE];
};

struct floor_cli {
	int			 ep, tfd, n;
	struct floor_cconn	*conns;		/* n of them */
	uint8_t			*input, *ping;
	size_t			 inputlen, pinglen;
	uint64_t		 slot;		/* timer expiries so far */
	int			 slots_tick, slots_s;
	struct floor_count	 cnt;
};

static void __attribute__((noreturn))
floor_usage(void)
{
	fprintf(stderr,
	    "usage: bench_floor server [-o pong] [-p port] [-r hz] [-s snapshot]\n"
	    "       bench_floor client -n clients -p port [-g ping] [-i input] [-r hz]\n"
	    "           [-t slots]\n");
	exit(GS_EXIT_USAGE);
}

static long long
floor_num(const char *flag, const char *s, long long min, long long max)
{
	long long	v;

	if (gs_parse_ll(s, min, max, &v) != GS_OK) {
		fprintf(stderr, "bench_floor: %s: want a whole number in "
		    "[%lld, %lld], not \"%s\"\n", flag, min, max, s);
		floor_usage();
	}
	return v;
}

static void
floor_on_signal(int sig)
{
	if (sig == SIGUSR1)
		floor_mark = 1;
	else
		floor_stop = 1;
}

/* No SA_RESTART: a signal ends epoll_wait with EINTR and the loop looks
 * at the flags. */
static void
floor_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = floor_on_signal;
	if (sigaction(SIGUSR1, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		gs_fatal(GS_EXIT_SYSTEM, "sigaction failed");
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		gs_fatal(GS_EXIT_SYSTEM, "sigaction failed");
}

/* Raise the soft limit of open files to the hard one; fail clearly if
 * that is below need.  Returns the new soft limit. */
static rlim_t
floor_nofile(rlim_t need)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		gs_fatal(GS_EXIT_SYSTEM, "getrlimit failed");
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			gs_fatal(GS_EXIT_SYSTEM, "setrlimit failed");
	}
	if (rl.rlim_cur < need)
		gs_fatalx(GS_EXIT_SYSTEM, "too few open files allowed "
		    "limit=%llu need=%llu (raise the hard limit: ulimit -Hn)",
		    (unsigned long long)rl.rlim_cur, (unsigned long long)need);
	return rl.rlim_cur;
}

/* A message of len bytes of the given kind; caller frees. */
static uint8_t *
floor_msg(size_t len, int kind)
{
	uint8_t	*m;

	if ((m = calloc(1, len)) == NULL)
		gs_fatal(GS_EXIT_SYSTEM, "calloc failed");
	m[0] = (uint8_t)(len & 0xff);
	m[1] = (uint8_t)(len >> 8);
	m[2] = (uint8_t)kind;
	return m;
}

static int
floor_timer(double hz)
{
	struct itimerspec	its;
	long long		ns = (long long)(1e9 / hz);
	int			fd;

	if ((fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)) == -1)
		gs_fatal(GS_EXIT_SYSTEM, "timerfd_create failed");
	its.it_interval.tv_sec = ns / 1000000000;
	its.it_interval.tv_nsec = ns % 1000000000;
	its.it_value = its.it_interval;
	if (timerfd_settime(fd, 0, &its, NULL) == -1)
		gs_fatal(GS_EXIT_SYSTEM, "timerfd_settime failed");
	return fd;
}

/* Expirations since the last call (0 if none). */
static uint64_t
floor_timer_read(int fd)
{
	uint64_t	n;

	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return 0;
	return n;
}

static void
floor_epoll_add(int ep, int fd, uint32_t events, void *ptr)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = ptr;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		gs_fatal(GS_EXIT_SYSTEM, "epoll_ctl failed fd=%d", fd);
}

static void
floor_nodelay(int fd)
{
	int	one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		gs_log_warn("TCP_NODELAY failed fd=%d", fd);
}

/* The measured window: the counts and the time at its start (the
 * start of the run, then each SIGUSR1). */
struct floor_window {
	struct floor_count	 mark;
	uint64_t		 t;
};

static void
floor_window_open(struct floor_window *w, const struct floor_count *cnt)
{
	w->mark = *cnt;
	w->t = gs_now_us();
}

/* One epoll_wait of the server's or the client's loop; a SIGUSR1 that
 * came meanwhile opens the window anew.  The events, or 0. */
static int
floor_wait(int ep, struct epoll_event *evs, struct floor_window *w,
    const struct floor_count *cnt)
{
	int	n;

	n = epoll_wait(ep, evs, FLOOR_NEV, -1);
	if (floor_mark) {
		floor_mark = 0;
		floor_window_open(w, cnt);
	}
	if (n == -1 && errno != EINTR)
		gs_fatal(GS_EXIT_SYSTEM, "epoll_wait failed");
	return n > 0 ? n : 0;
}

/* One line for the script: the window's counts. */
static void
floor_report(const char *side, const struct floor_window *w, int conns,
    const struct floor_count *b)
{
	const struct floor_count	*a = &w->mark;
	double				 secs;

	secs = (double)(gs_now_us() - w->t) / 1e6;
	printf("%s window_s=%.3f conns=%d inputs=%llu pings=%llu "
	    "snapshots=%llu pongs=%llu bytes_in=%llu bytes_out=%llu "
	    "partial=%llu full=%llu queued=%llu missed=%llu closed=%llu "
	    "bad=%llu send_errors=%llu\n", side, secs, conns,
	    (unsigned long long)(b->inputs - a->inputs),
	    (unsigned long long)(b->pings - a->pings),
	    (unsigned long long)(b->snapshots - a->snapshots),
	    (unsigned long long)(b->pongs - a->pongs),
	    (unsigned long long)(b->bytes_in - a->bytes_in),
	    (unsigned long long)(b->bytes_out - a->bytes_out),
	    (unsigned long long)(b->partial - a->partial),
	    (unsigned long long)(b->full - a->full),
	    (unsigned long long)(b->queued - a->queued),
	    (unsigned long long)(b->missed - a->missed),
	    (unsigned long long)(b->closed - a->closed),
	    (unsigned long long)(b->bad - a->bad),
	    (unsigned long long)(b->send_errors - a->send_errors));
	fflush(stdout);
}

/*
 * Server.
 */

/* Write msg[len] to c once.  No output queue: a short write drops the
 * rest of the message and a full socket all of it, counted.  A send
 * error is counted; the read side notices the closed connection. */
static void
floor_srv_send(struct floor_srv *s, struct floor_conn *c, const uint8_t *msg,
    size_t len, uint64_t *whole)
{
	ssize_t	n;

	n = send(c->fd, msg, len, MSG_NOSIGNAL);
	if (n == (ssize_t)len) {
		(*whole)++;
		s->cnt.bytes_out += len;
	} else if (n >= 0) {
		s->cnt.partial++;
		s->cnt.bytes_out += (uint64_t)n;
	} else if (errno == EAGAIN || errno == EWOULDBLOCK)
		s->cnt.full++;
	else
		s->cnt.send_errors++;
}

static void
floor_srv_close(struct floor_srv *s, struct floor_conn *c)
{
	struct floor_conn	*last = s->conns[s->nconns - 1];

	if (close(c->fd) == -1)
		gs_log_warn("close failed fd=%d", c->fd);
	last->idx = c->idx;
	s->conns[c->idx] = last;
	s->nconns--;
	s->cnt.closed++;
	free(c);
}

static void
floor_srv_accept(struct floor_srv *s)
{
	struct floor_conn	*c;
	int			 fd;

	for (;;) {
		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			if (errno == ECONNABORTED)
				continue;
			gs_log_warn("accept failed conns=%d", s->nconns);
			return;		/* EMFILE and the like: retried */
		}
		if (s->nconns == s->maxconns || (c = calloc(1, sizeof(*c))) ==
		    NULL) {
			gs_log_warnx("connection refused conns=%d", s->nconns);
			(void)close(fd);
			continue;
		}
		floor_nodelay(fd);
		c->fd = fd;
		c->idx = s->nconns;
		s->conns[s->nconns++] = c;
		floor_epoll_add(s->ep, fd, EPOLLIN, c);
	}
}

/* One read per wake-up (level-triggered: more comes next time), then
 * every whole message in the buffer. */
static void
floor_srv_read(struct floor_srv *s, struct floor_conn *c)
{
	size_t	off = 0, len;
	ssize_t	n;

	n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		floor_srv_close(s, c);
		return;
	}
	if (n < 0)
		return;
	s->cnt.bytes_in += (uint64_t)n;
	c->inlen += (size_t)n;
	while (c->inlen - off >= FLOOR_MSG_MIN) {
		len = (size_t)c->in[off] | (size_t)c->in[off + 1] << 8;
		if (len < FLOOR_MSG_MIN || len > FLOOR_IN_MAX) {
			s->cnt.bad++;
			floor_srv_close(s, c);
			return;
		}
		if (c->inlen - off < len)
			break;
		if (c->in[off + 2] == FLOOR_PING) {
			s->cnt.pings++;
			floor_srv_send(s, c, s->pong, s->ponglen,
			    &s->cnt.pongs);
		} else
			s->cnt.inputs++;
		off += len;
	}
	if (off > 0) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
}

static void
floor_srv_tick(struct floor_srv *s)
{
	uint64_t	n;
	int		i;

	if ((n = floor_timer_read(s->tfd)) == 0)
		return;
	s->cnt.missed += n - 1;		/* late ticks are not made up */
	for (i = 0; i < s->nconns; i++)
		floor_srv_send(s, s->conns[i], s->snap, s->snaplen,
		    &s->cnt.snapshots);
}

static void
floor_srv_listen(struct floor_srv *s, int port)
{
	struct sockaddr_in	sin;
	socklen_t		slen = sizeof(sin);
	int			one = 1;

	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd == -1)
		gs_fatal(GS_EXIT_SYSTEM, "socket failed");
	if (setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1)
		gs_fatal(GS_EXIT_SYSTEM, "SO_REUSEADDR failed");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s->lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		gs_fatal(GS_EXIT_SYSTEM, "bind failed port=%d", port);
	if (listen(s->lfd, SOMAXCONN) == -1)
		gs_fatal(GS_EXIT_SYSTEM, "listen failed");
	if (getsockname(s->lfd, (struct sockaddr *)&sin, &slen) == -1)
		gs_fatal(GS_EXIT_SYSTEM, "getsockname failed");
	printf("port %d\n", ntohs(sin.sin_port));
	fflush(stdout);
}

static int
floor_server(int argc, char **argv)
{
	struct floor_srv	 s;
	struct floor_window	 win;
	struct epoll_event	 evs[FLOOR_NEV];
	struct floor_conn	*c;
	rlim_t			 nofile;
	double			 hz = 30;
	int			 ch, i, n, port = 0;

	memset(&s, 0, sizeof(s));
	s.snaplen = 540;
	s.ponglen = 22;
	while ((ch = getopt(argc, argv, "o:p:r:s:")) != -1) {
		switch (ch) {
		case 'o':
			s.ponglen = (size_t)floor_num("-o", optarg,
			    FLOOR_MSG_MIN, FLOOR_OUT_MAX);
			break;
		case 'p':
			port = (int)floor_num("-p", optarg, 0, 65535);
			break;
		case 'r':
			hz = (double)floor_num("-r", optarg, 1, 1000);
			break;
		case 's':
			s.snaplen = (size_t)floor_num("-s", optarg,
			    FLOOR_MSG_MIN, FLOOR_OUT_MAX);
			break;
		default:
			floor_usage();
		}
	}
	if (optind != argc)
		floor_usage();
	nofile = floor_nofile(1024);
	s.maxconns = (int)GS_MIN(nofile, 1u << 20) - FLOOR_SPARE_FDS;
	if ((s.conns = calloc((size_t)s.maxconns, sizeof(*s.conns))) == NULL)
		gs_fatal(GS_EXIT_SYSTEM, "calloc failed");
	s.snap = floor_msg(s.snaplen, FLOOR_SNAPSHOT);
	s.pong = floor_msg(s.ponglen, FLOOR_PONG);
	if ((s.ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		gs_fatal(GS_EXIT_SYSTEM, "epoll_create1 failed");
	floor_signals();
	floor_srv_listen(&s, port);
	s.tfd = floor_timer(hz);
	s.lsn.fd = s.tmr.fd = -1;
	floor_epoll_add(s.ep, s.lfd, EPOLLIN, &s.lsn);
	floor_epoll_add(s.ep, s.tfd, EPOLLIN, &s.tmr);

	floor_window_open(&win, &s.cnt);
	while (!floor_stop) {
		n = floor_wait(s.ep, evs, &win, &s.cnt);
		for (i = 0; i < n; i++) {
			c = evs[i].data.ptr;
			if (c == &s.lsn)
				floor_srv_accept(&s);
			else if (c == &s.tmr)
				floor_srv_tick(&s);
			else
				floor_srv_read(&s, c);
		}
	}
	floor_report("server", &win, s.nconns, &s.cnt);
	/* The process exits: the kernel closes and frees the rest. */
	return GS_EXIT_OK;
}

/*
 * Client.
 */

static void
floor_cli_want(struct floor_cli *cl, struct floor_cconn *c, bool out)
{
	struct epoll_event	ev;

	if (c->wantout == out)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
	ev.data.ptr = c;
	if (epoll_ctl(cl->ep, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		gs_fatal(GS_EXIT_SYSTEM, "epoll_ctl failed fd=%d", c->fd);
	c->wantout = out;
}

static void
floor_cli_close(struct floor_cli *cl, struct floor_cconn *c)
{
	if (close(c->fd) == -1)
		gs_log_warn("close failed fd=%d", c->fd);
	c->fd = -1;
	cl->cnt.closed++;
}

/* Send the queue's head; what the socket does not take stays. */
static void
floor_cli_flush(struct floor_cli *cl, struct floor_cconn *c)
{
	ssize_t	n;

	n = send(c->fd, c->q, c->qlen, MSG_NOSIGNAL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			cl->cnt.send_errors++;
		return;
	}
	cl->cnt.bytes_out += (uint64_t)n;
	memmove(c->q, c->q + n, c->qlen - (size_t)n);
	c->qlen -= (size_t)n;
	floor_cli_want(cl, c, c->qlen > 0);
}

/* Send msg[len] whole: straight out, or behind what is queued.  A
 * message the queue cannot hold is dropped whole and counted. */
static void
floor_cli_send(struct floor_cli *cl, struct floor_cconn *c,
    const uint8_t *msg, size_t len)
{
	ssize_t	n = 0;

	if (c->fd < 0)
		return;
	if (c->qlen == 0) {
		n = send(c->fd, msg, len, MSG_NOSIGNAL);
		if (n == (ssize_t)len) {
			cl->cnt.bytes_out += len;
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				cl->cnt.send_errors++;
				return;
			}
			n = 0;
		}
		cl->cnt.bytes_out += (uint64_t)n;
	}
	if (sizeof(c->q) - c->qlen < len - (size_t)n) {
		cl->cnt.full++;
		return;
	}
	memcpy(c->q + c->qlen, msg + n, len - (size_t)n);
	c->qlen += len - (size_t)n;
	cl->cnt.queued++;
	floor_cli_want(cl, c, true);
}

/* Slot k of every tick serves the connections i with i % slots == k; a
 * ping slot of every second serves i % slots_s == that slot. */
static void
floor_cli_tick(struct floor_cli *cl)
{
	uint64_t	n;
	int		i, k;

	if ((n = floor_timer_read(cl->tfd)) == 0)
		return;
	cl->cnt.missed += n - 1;	/* late slots are not made up */
	k = (int)(cl->slot % (uint64_t)cl->slots_tick);
	for (i = k; i < cl->n; i += cl->slots_tick) {
		floor_cli_send(cl, &cl->conns[i], cl->input, cl->inputlen);
		cl->cnt.inputs++;
	}
	k = (int)(cl->slot % (uint64_t)cl->slots_s);
	for (i = k; i < cl->n; i += cl->slots_s) {
		floor_cli_send(cl, &cl->conns[i], cl->ping, cl->pinglen);
		cl->cnt.pings++;
	}
	cl->slot++;
}

static void
floor_cli_read(struct floor_cli *cl, struct floor_cconn *c)
{
	static uint8_t	buf[65536];
	ssize_t		n;

	n = read(c->fd, buf, sizeof(buf));
	if (n > 0)
		cl->cnt.bytes_in += (uint64_t)n;
	else if (n == 0 || (errno != EAGAIN && errno != EINTR))
		floor_cli_close(cl, c);
}

static void
floor_cli_connect(struct floor_cli *cl, int port)
{
	struct sockaddr_in	 sin;
	struct floor_cconn	*c;
	int			 i, fl;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < cl->n; i++) {
		c = &cl->conns[i];
		if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) == -1)
			gs_fatal(GS_EXIT_SYSTEM, "socket failed conn=%d", i);
		/* Blocking: loopback completes at once, and the listener's
		 * backlog holds what the server has not accepted yet. */
		if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
			gs_fatal(GS_EXIT_SYSTEM, "connect failed conn=%d "
			    "port=%d", i, port);
		if ((fl = fcntl(c->fd, F_GETFL)) == -1 ||
		    fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) == -1)
			gs_fatal(GS_EXIT_SYSTEM, "fcntl failed");
		floor_nodelay(c->fd);
		floor_epoll_add(cl->ep, c->fd, EPOLLIN, c);
	}
	printf("connected %d\n", cl->n);
	fflush(stdout);
}

static int
floor_client(int argc, char **argv)
{
	struct floor_cli	 cl;
	struct floor_window	 win;
	struct epoll_event	 evs[FLOOR_NEV];
	struct floor_cconn	*c, tmr;
	int			 ch, i, n, port = -1, hz = 30;

	memset(&cl, 0, sizeof(cl));
	cl.inputlen = 27;
	cl.pinglen = 17;
	cl.slots_tick = 16;		/* as gs-loadgen's LG_TIMER_SLOTS */
	while ((ch = getopt(argc, argv, "g:i:n:p:r:t:")) != -1) {
		switch (ch) {
		case 'g':
			cl.pinglen = (size_t)floor_num("-g", optarg,
			    FLOOR_MSG_MIN, FLOOR_IN_MAX);
			break;
		case 'i':
			cl.inputlen = (size_t)floor_num("-i", optarg,
			    FLOOR_MSG_MIN, FLOOR_IN_MAX);
			break;
		case 'n':
			cl.n = (int)floor_num("-n", optarg, 1, 100000);
			break;
		case 'p':
			port = (int)floor_num("-p", optarg, 1, 65535);
			break;
		case 'r':
			hz = (int)floor_num("-r", optarg, 1, 1000);
			break;
		case 't':
			cl.slots_tick = (int)floor_num("-t", optarg, 1, 100);
			break;
		default:
			floor_usage();
		}
	}
	if (optind != argc || cl.n == 0 || port < 0)
		floor_usage();
	cl.slots_s = hz * cl.slots_tick;
	(void)floor_nofile((rlim_t)cl.n + FLOOR_SPARE_FDS);
	if ((cl.conns = calloc((size_t)cl.n, sizeof(*cl.conns))) == NULL)
		gs_fatal(GS_EXIT_SYSTEM, "calloc failed");
	cl.input = floor_msg(cl.inputlen, FLOOR_INPUT);
	cl.ping = floor_msg(cl.pinglen, FLOOR_PING);
	if ((cl.ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		gs_fatal(GS_EXIT_SYSTEM, "epoll_create1 failed");
	floor_signals();
	floor_cli_connect(&cl, port);
	cl.tfd = floor_timer((double)cl.slots_s);
	tmr.fd = -1;
	floor_epoll_add(cl.ep, cl.tfd, EPOLLIN, &tmr);

	floor_window_open(&win, &cl.cnt);
	while (!floor_stop) {
		n = floor_wait(cl.ep, evs, &win, &cl.cnt);
		for (i = 0; i < n; i++) {
			c = evs[i].data.ptr;
			if (c == &tmr)
				floor_cli_tick(&cl);
			else if (c->fd < 0)
				continue;	/* closed earlier in this batch */
			else {
				if (evs[i].events & EPOLLOUT)
					floor_cli_flush(&cl, c);
				if (evs[i].events & (EPOLLIN | EPOLLHUP |
				    EPOLLERR))
					floor_cli_read(&cl, c);
			}
		}
	}
	floor_report("client", &win, cl.n, &cl.cnt);
	return GS_EXIT_OK;
}

int
main(int argc, char **argv)
{
	gs_log_init("bench_floor", GS_LOG_INFO);
	if (argc < 2)
		floor_usage();
	if (strcmp(argv[1], "server") == 0)
		return floor_server(argc - 1, argv + 1);
	if (strcmp(argv[1], "client") == 0)
		return floor_client(argc - 1, argv + 1);
	floor_usage();
}
