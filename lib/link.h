/*
 * Links between daemons: the one place where gs listens on or dials an
 * NNG url, so that what a url may be is decided once (gs(7), Links
 * between hosts).
 *
 * ipc://      a listener's socket file is mode 0600, or 0660 with
 *             ipc_group, from the moment it exists: NNG applies
 *             NNG_OPT_IPC_PERMISSIONS with chmod(2) after bind(2), so
 *             the listener starts under umask 077 (007) as well, and
 *             the file's mode is checked afterwards.
 * tls+tcp://  (and wss://) both ends show a certificate and check the
 *             other's against the CA file: a listener in server mode, a
 *             dialer in client mode with its own certificate as the
 *             client certificate, authentication required on both, and
 *             the dialer checks the server's name against the url host.
 *             Without the CA, certificate and key configured such a url
 *             is refused.
 * tcp://      (and ws://) plain: a listener on an address that is not
 *             loopback (hostnames are resolved; every address they
 *             resolve to must be loopback) is refused unless the
 *             network is declared trusted.  Dialing is not restricted.
 *
 * The settings are the process's (gs_link_setup(), once, before the
 * first listener or dialer): every program reads them from the same
 * flags and variables, GS_LINK_OPTS below.
 */
#ifndef GS_LINK_H
#define GS_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include <nng/nng.h>

#include "opt.h"

struct gs_link_conf {
	const char	*ca;		/* --tls-ca, GS_TLS_CA: PEM file */
	const char	*cert;		/* --tls-cert, GS_TLS_CERT: PEM file,
					 * certificate (and chain) */
	const char	*key;		/* --tls-key, GS_TLS_KEY: PEM file */
	int		 trusted;	/* --trusted-network */
	int		 ipc_group;	/* --ipc-group: 0660, not 0600 */
};

#define GS_LINK_PATH_MAX	4096

enum gs_link_use { GS_LINK_LISTEN, GS_LINK_DIAL };

/* The rows of a program's option table (opt.h) for a gs_link_conf
 * member m of its settings struct type t.  Dialers only (gs-ctl) take
 * GS_LINK_TLS_OPTS. */
#define GS_LINK_TLS_OPTS(t, m)						\
	{ 0, "tls-ca", "GS_TLS_CA", GS_OPT_STR,				\
	  GS_OPT_AT(t, m.ca), .max = GS_LINK_PATH_MAX },		\
	{ 0, "tls-cert", "GS_TLS_CERT", GS_OPT_STR,			\
	  GS_OPT_AT(t, m.cert), .max = GS_LINK_PATH_MAX },		\
	{ 0, "tls-key", "GS_TLS_KEY", GS_OPT_STR,			\
	  GS_OPT_AT(t, m.key), .max = GS_LINK_PATH_MAX }
#define GS_LINK_OPTS(t, m)						\
	GS_LINK_TLS_OPTS(t, m),						\
	{ 0, "ipc-group", "GS_IPC_GROUP", GS_OPT_BOOL,			\
	  GS_OPT_AT(t, m.ipc_group) },					\
	{ 0, "trusted-network", "GS_TRUSTED_NETWORK", GS_OPT_BOOL,	\
	  GS_OPT_AT(t, m.trusted) }

/*
 * Take the settings (copied) and read the TLS files now, so that a
 * missing or unreadable file is a start-up error.  Only some of the
 * three given is an error too.  Returns NULL, or why not (a static
 * or internal string, for gs_opt_fail()).
 */
const char	*gs_link_setup(const struct gs_link_conf *conf);
/* For a program's argument parsing: gs_link_setup(), then whether the
 * url of a flag (NULL: not given) may be used, each failure a usage
 * error of p (exit 100). */
void		 gs_link_opt_setup(const struct gs_opt_prog *p,
		    const struct gs_link_conf *conf);
void		 gs_link_opt_check(const struct gs_opt_prog *p,
		    const char *flag, const char *url, enum gs_link_use use);
/* Forget the settings and free what setup read (at exit). */
void		 gs_link_cleanup(void);

/*
 * Whether url may be used so under the settings: NULL, or why not.
 * Resolves the host of a plain tcp listener (blocking: at start-up).
 * An unknown scheme passes: NNG then says what is wrong with it.
 */
const char	*gs_link_refuse(const char *url, enum gs_link_use use);

/*
 * Listen on url with s, or dial it (flags: 0, or NNG_FLAG_NONBLOCK),
 * the safe way above.  Returns 0 or an NNG error, and *call names the
 * step that failed.  A url gs_link_refuse() refuses is logged with
 * why, and fails with NNG_EPERM.
 */
int		 gs_link_listen(nng_socket s, const char *url,
		    const char **call);
int		 gs_link_dial(nng_socket s, const char *url, int flags,
		    const char **call);

/* What the connection a message came over says of its sender. */
enum gs_link_proof {
	GS_LINK_UNPROVED = 0,	/* plain tcp, abstract: anyone who can
				 * connect */
	GS_LINK_PRIVATE,	/* ipc, from our own user (or root, or our
				 * group with ipc_group), or inproc */
	GS_LINK_VERIFIED,	/* tls: a certificate the CA signed */
};

enum gs_link_proof	 gs_link_pipe_proof(nng_pipe p);
const char		*gs_link_proof_name(enum gs_link_proof proof);

/* Whether a listener on url can tell who connects (ipc, inproc, tls):
 * a plain tcp listener cannot. */
bool		 gs_link_can_prove(const char *url);

#endif
