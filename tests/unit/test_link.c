/*
 * lib/link.c: which urls are refused, the mode of ipc socket files
 * from their first moment, TLS settings, what a pipe proves.
 */
#include <sys/stat.h>
#include <sys/syscall.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#include "link.h"
#include "t.h"
#include "tloop.h"

/*
 * NNG binds an ipc socket, then chmods it to NNG_OPT_IPC_PERMISSIONS.
 * This chmod() takes the place of the C library's for NNG too, and
 * notes the mode the file had just before: what it was born with.
 */
static mode_t	born_mode;
static int	chmods;

int
chmod(const char *path, mode_t mode)
{
	struct stat	st;

	if (stat(path, &st) == 0) {
		born_mode = st.st_mode & 0777;
		chmods++;
	}
	return (int)syscall(SYS_fchmodat, AT_FDCWD, path, mode, 0);
}

static void
conf_plain(int trusted, int group)
{
	struct gs_link_conf	c;

	memset(&c, 0, sizeof(c));
	c.trusted = trusted;
	c.ipc_group = group;
	T_CHECK(gs_link_setup(&c) == NULL);
}

static void
test_refuse_plain(void)
{
	conf_plain(0, 0);
	T_CHECK(gs_link_refuse("tcp://127.0.0.1:7001", GS_LINK_LISTEN) ==
	    NULL);
	T_CHECK(gs_link_refuse("tcp://127.1.2.3:7001", GS_LINK_LISTEN) ==
	    NULL);
	T_CHECK(gs_link_refuse("tcp://[::1]:7001", GS_LINK_LISTEN) == NULL);
	T_CHECK(gs_link_refuse("tcp://localhost:7001", GS_LINK_LISTEN) ==
	    NULL);
	T_CHECK(gs_link_refuse("tcp://0.0.0.0:7001", GS_LINK_LISTEN) != NULL);
	T_CHECK(gs_link_refuse("tcp4://0.0.0.0:7001", GS_LINK_LISTEN) !=
	    NULL);
	T_CHECK(gs_link_refuse("tcp://[::]:7001", GS_LINK_LISTEN) != NULL);
	T_CHECK(gs_link_refuse("tcp://:7001", GS_LINK_LISTEN) != NULL);
	T_CHECK(gs_link_refuse("tcp://*:7001", GS_LINK_LISTEN) != NULL);
	T_CHECK(gs_link_refuse("tcp://10.0.0.1:7001", GS_LINK_LISTEN) !=
	    NULL);
	T_CHECK(gs_link_refuse("ws://0.0.0.0:7001/x", GS_LINK_LISTEN) !=
	    NULL);
	/* Dialing is the other side's listener's business. */
	T_CHECK(gs_link_refuse("tcp://10.0.0.1:7001", GS_LINK_DIAL) == NULL);
	T_CHECK(gs_link_refuse("ipc:///tmp/x", GS_LINK_LISTEN) == NULL);
	T_CHECK(!gs_link_can_prove("tcp://127.0.0.1:7001"));
	T_CHECK(!gs_link_can_prove("abstract://gs"));
	T_CHECK(gs_link_can_prove("ipc:///tmp/x"));
	T_CHECK(gs_link_can_prove("tls+tcp://127.0.0.1:7001"));

	conf_plain(1, 0);
	T_CHECK(gs_link_refuse("tcp://0.0.0.0:7001", GS_LINK_LISTEN) == NULL);
	conf_plain(0, 0);
}

static void
test_refuse_tls(void)
{
	struct gs_link_conf	c;
	nng_socket		s;
	const char		*call;

	conf_plain(0, 0);
	T_CHECK(gs_link_refuse("tls+tcp://127.0.0.1:7001", GS_LINK_LISTEN) !=
	    NULL);
	T_CHECK(gs_link_refuse("tls+tcp://127.0.0.1:7001", GS_LINK_DIAL) !=
	    NULL);
	T_ASSERT(nng_pull0_open(&s) == 0);
	T_EQ_INT(gs_link_dial(s, "tls+tcp://127.0.0.1:7001",
	    NNG_FLAG_NONBLOCK, &call), NNG_EPERM);
	T_CHECK(strcmp(call, "gs_link_refuse") == 0);
	nng_close(s);

	/* Some of the three, or a file that is not there. */
	memset(&c, 0, sizeof(c));
	c.ca = "/nonexistent/ca.pem";
	T_CHECK(gs_link_setup(&c) != NULL);
	c.cert = c.key = "/nonexistent/x.pem";
	T_CHECK(gs_link_setup(&c) != NULL);
	T_CHECK(gs_link_refuse("tls+tcp://127.0.0.1:7001", GS_LINK_DIAL) !=
	    NULL);
	conf_plain(0, 0);
}

/* Listen on ipc under umask 000: the file is born owner-only and ends
 * with exactly the mode asked; the umask is ours again after. */
static void
ipc_mode(int group, mode_t want)
{
	char		 url[256], *path;
	struct stat	 st;
	nng_socket	 s;
	const char	*call;
	mode_t		 old;

	conf_plain(0, group);
	(void)snprintf(url, sizeof(url), "ipc://%s/s%d.in", t_tmpdir(), group);
	path = url + strlen("ipc://");
	old = umask(0);
	T_ASSERT(nng_pull0_open(&s) == 0);
	chmods = 0;
	T_EQ_INT(gs_link_listen(s, url, &call), 0);
	T_EQ_INT(umask(old), 0);		/* gave back what it took */
	T_ASSERT(stat(path, &st) == 0);
	T_EQ_INT(st.st_mode & 0777, want);
	T_EQ_INT(chmods, 1);
	T_EQ_INT(born_mode & 0007, 0);		/* never open to others */
	if (!group)
		T_EQ_INT(born_mode & 0077, 0);
	nng_close(s);
	conf_plain(0, 0);
}

static void
test_ipc_mode(void)
{
	ipc_mode(0, 0600);
}

static void
test_ipc_group_mode(void)
{
	ipc_mode(1, 0660);
}

/* What one message says of its pipe. */
static enum gs_link_proof
proof_of(const char *url)
{
	nng_socket		 pull, push;
	nng_msg			*m;
	const char		*call;
	enum gs_link_proof	 p = (enum gs_link_proof)-1;

	if (nng_pull0_open(&pull) != 0 || nng_push0_open(&push) != 0)
		return p;
	if (gs_link_listen(pull, url, &call) == 0 &&
	    gs_link_dial(push, url, 0, &call) == 0 &&
	    nng_send(push, "x", 1, 0) == 0 &&
	    nng_recvmsg(pull, &m, 0) == 0) {
		p = gs_link_pipe_proof(nng_msg_get_pipe(m));
		nng_msg_free(m);
	}
	nng_close(push);
	nng_close(pull);
	return p;
}

static void
test_pipe_proof(void)
{
	char	url[256];

	conf_plain(0, 0);
	(void)snprintf(url, sizeof(url), "ipc://%s/proof.in", t_tmpdir());
	T_EQ_INT(proof_of(url), GS_LINK_PRIVATE);
	T_EQ_INT(proof_of("inproc://gs-test-link"), GS_LINK_PRIVATE);
	T_EQ_INT(proof_of("abstract://gs-test-link"), GS_LINK_UNPROVED);
	T_CHECK(strcmp(gs_link_proof_name(GS_LINK_VERIFIED), "verified") ==
	    0);
}

T_MAIN(T(test_refuse_plain), T(test_refuse_tls), T(test_ipc_mode),
    T(test_ipc_group_mode), T(test_pipe_proof))
