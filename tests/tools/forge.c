/*
 * forge: a process that is no gateway PUSHes a batch to a sim's inbox
 * with a forged gateway header (role "gw", a random instance, a reply
 * url of its choosing) and forged JOINs, for tests/integration/links.sh.
 *
 *	forge [-l] [-j joins] [-n batches] [-w ms] inbox_url reply_url
 *
 * -l listens on reply_url first (PULL) and reports every connection
 * made to it: "dialed" on a line of its own as it happens, and
 * "connections=N" at the end, after waiting -w ms (default 500) past
 * the last batch.  TLS settings come from GS_TLS_CA, GS_TLS_CERT and
 * GS_TLS_KEY, as for the daemons.  Exit 0 when every batch was handed
 * to NNG, 1 otherwise, 100 on bad usage.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/supplemental/util/platform.h>

#include "err.h"
#include "link.h"
#include "log.h"
#include "mp.h"
#include "relay.h"
#include "util.h"

static atomic_int	forge_dialed;

static void
forge_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)p;
	(void)arg;
	if (ev != NNG_PIPE_EV_ADD_POST)
		return;
	atomic_fetch_add(&forge_dialed, 1);
	(void)printf("dialed\n");
	(void)fflush(stdout);
}

static void __attribute__((noreturn))
usage(void)
{
	(void)fprintf(stderr, "usage: forge [-l] [-j joins] [-n batches] "
	    "[-w ms] inbox_url reply_url\n");
	exit(GS_EXIT_USAGE);
}

static long long
num(const char *s, long long max)
{
	long long	v;

	if (gs_parse_ll(s, 0, max, &v) != GS_OK)
		usage();
	return v;
}

int
main(int argc, char **argv)
{
	struct gs_link_conf	 lc;
	struct gs_relay_hdr	 h;
	struct gs_wr		 wr;
	nng_socket		 push, pull = NNG_SOCKET_INITIALIZER;
	const char		*call, *why, *inbox, *reply;
	long long		 joins = 3, batches = 1, wait_ms = 500, b, j;
	int			 ch, listen = 0, rv, failed = 0;
	char			 name[32];

	gs_log_init("forge", GS_LOG_WARN);
	while ((ch = getopt(argc, argv, "j:ln:w:")) != -1) {
		switch (ch) {
		case 'j':
			joins = num(optarg, 1000);
			break;
		case 'l':
			listen = 1;
			break;
		case 'n':
			batches = num(optarg, 1000);
			break;
		case 'w':
			wait_ms = num(optarg, 600000);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	inbox = argv[optind];
	reply = argv[optind + 1];

	memset(&lc, 0, sizeof(lc));
	lc.ca = getenv("GS_TLS_CA");
	lc.cert = getenv("GS_TLS_CERT");
	lc.key = getenv("GS_TLS_KEY");
	if ((why = gs_link_setup(&lc)) != NULL) {
		(void)fprintf(stderr, "forge: %s\n", why);
		return GS_EXIT_USAGE;
	}
	if (listen && ((rv = nng_pull0_open(&pull)) != 0 ||
	    (rv = nng_pipe_notify(pull, NNG_PIPE_EV_ADD_POST, forge_pipe_cb,
	    NULL)) != 0 || (rv = gs_link_listen(pull, reply, &call)) != 0)) {
		(void)fprintf(stderr, "forge: listen %s: %s\n", reply,
		    nng_strerror(rv));
		return GS_EXIT_SYSTEM;
	}
	call = "nng_push0_open";
	if ((rv = nng_push0_open(&push)) != 0 ||
	    (rv = nng_socket_set_ms(push, NNG_OPT_SENDTIMEO, 2000)) != 0 ||
	    (rv = gs_link_dial(push, inbox, 0, &call)) != 0) {
		(void)fprintf(stderr, "forge: dial %s: %s: %s\n", inbox, call,
		    nng_strerror(rv));
		return GS_EXIT_RUNTIME;
	}

	memset(&h, 0, sizeof(h));
	(void)gs_strlcpy(h.role, "gw", sizeof(h.role));
	h.instance = gs_random_u64();
	(void)gs_strlcpy(h.url, reply, sizeof(h.url));
	(void)gs_strlcpy(h.to_url, inbox, sizeof(h.to_url));
	gs_wr_init(&wr, 1024, 1024 * 1024);
	for (b = 0; b < batches; b++) {
		gs_wr_reset(&wr);
		gs_relay_hdr_put(&wr, &h);
		for (j = 0; j < joins; j++) {
			(void)snprintf(name, sizeof(name), "forged%lld", j);
			gs_relay_join_put(&wr, (uint64_t)(b * joins + j + 1),
			    "forged", name, false, 0);
		}
		if (wr.err != GS_OK ||
		    (rv = nng_send(push, wr.buf, wr.len, 0)) != 0) {
			(void)fprintf(stderr, "forge: send: %s\n",
			    wr.err != GS_OK ? gs_err_name(wr.err) :
			    nng_strerror(rv));
			failed = 1;
		}
	}
	gs_wr_free(&wr);
	/* nng_close may drop what is still queued: give it time to go. */
	nng_msleep((nng_duration)wait_ms);
	(void)nng_close(push);
	if (listen) {
		(void)nng_close(pull);
		(void)printf("connections=%d\n", atomic_load(&forge_dialed));
	}
	gs_link_cleanup();
	return failed ? GS_EXIT_RUNTIME : GS_EXIT_OK;
}
