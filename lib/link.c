/*
 * Listening and dialing the safe way (link.h).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "link.h"
#include "log.h"

#define LINK_PEM_MAX	(1024 * 1024)	/* bytes of one PEM file */

enum link_kind {
	LINK_OTHER,	/* not ours to judge: NNG says what is wrong */
	LINK_IPC,	/* a socket file */
	LINK_INPROC,	/* inside this process */
	LINK_LOCAL,	/* abstract: this host, no file mode */
	LINK_PLAIN,	/* tcp, ws: anyone who can reach the address */
	LINK_TLS,	/* tls+tcp, wss */
};

static const struct {
	const char	*scheme;
	enum link_kind	 kind;
} link_schemes[] = {
	{ "ipc", LINK_IPC },
	{ "inproc", LINK_INPROC },
	{ "abstract", LINK_LOCAL },
	{ "tcp", LINK_PLAIN }, { "tcp4", LINK_PLAIN }, { "tcp6", LINK_PLAIN },
	{ "ws", LINK_PLAIN }, { "ws4", LINK_PLAIN }, { "ws6", LINK_PLAIN },
	{ "tls+tcp", LINK_TLS }, { "tls+tcp4", LINK_TLS },
	{ "tls+tcp6", LINK_TLS },
	{ "wss", LINK_TLS }, { "wss4", LINK_TLS }, { "wss6", LINK_TLS },
};

/* The process's settings (gs_link_setup); the PEM texts are owned. */
static struct {
	struct gs_link_conf	 conf;
	char			*ca, *cert, *key;
	nng_tls_config		*server;	/* shared by listeners */
} link;
static char	link_why[512];		/* setup's last refusal */

static enum link_kind
link_kind(const char *url)
{
	const char	*end = strstr(url, "://");
	size_t		 i, n;

	if (end == NULL)
		return LINK_OTHER;
	n = (size_t)(end - url);
	for (i = 0; i < sizeof(link_schemes) / sizeof(link_schemes[0]); i++)
		if (strlen(link_schemes[i].scheme) == n &&
		    strncmp(link_schemes[i].scheme, url, n) == 0)
			return link_schemes[i].kind;
	return LINK_OTHER;
}

/* A whole PEM file, NUL-terminated, into *out (caller frees).  NULL,
 * or why not. */
static const char *
link_read(const char *what, const char *path, char **out)
{
	FILE	*f;
	char	*buf;
	size_t	 n;
	int	 bad;

	if ((f = fopen(path, "r")) == NULL) {
		(void)snprintf(link_why, sizeof(link_why), "%s %s: cannot "
		    "open: %s", what, path, strerror(errno));
		return link_why;
	}
	if ((buf = malloc(LINK_PEM_MAX + 1)) == NULL) {
		(void)fclose(f);
		return "out of memory";
	}
	n = fread(buf, 1, LINK_PEM_MAX + 1, f);
	bad = ferror(f);
	(void)fclose(f);
	if (bad || n > LINK_PEM_MAX || n == 0) {
		free(buf);
		(void)snprintf(link_why, sizeof(link_why), "%s %s: %s", what,
		    path, bad ? "cannot read" : n == 0 ? "empty" :
		    "larger than 1 MiB");
		return link_why;
	}
	buf[n] = '\0';
	/* Kept for the process's life: give back the rest of the cap. */
	if ((*out = realloc(buf, n + 1)) == NULL)
		*out = buf;
	return NULL;
}

void
gs_link_cleanup(void)
{
	if (link.server != NULL)
		nng_tls_config_free(link.server);
	free(link.ca);
	free(link.cert);
	free(link.key);
	memset(&link, 0, sizeof(link));
}

const char *
gs_link_setup(const struct gs_link_conf *conf)
{
	const char	*why;
	int		 n;

	gs_link_cleanup();
	link.conf = *conf;
	n = (conf->ca != NULL) + (conf->cert != NULL) + (conf->key != NULL);
	if (n == 0)
		return NULL;
	if (n != 3)
		return "TLS needs all three of --tls-ca, --tls-cert and "
		    "--tls-key";
	if ((why = link_read("CA file", conf->ca, &link.ca)) != NULL ||
	    (why = link_read("certificate", conf->cert, &link.cert)) !=
	    NULL ||
	    (why = link_read("key", conf->key, &link.key)) != NULL) {
		gs_link_cleanup();
		return why;
	}
	return NULL;
}

void
gs_link_opt_setup(const struct gs_opt_prog *p, const struct gs_link_conf *conf)
{
	const char	*why;

	if ((why = gs_link_setup(conf)) != NULL)
		gs_opt_fail(p, "%s", why);
}

void
gs_link_opt_check(const struct gs_opt_prog *p, const char *flag,
    const char *url, enum gs_link_use use)
{
	const char	*why;

	if (url != NULL && (why = gs_link_refuse(url, use)) != NULL)
		gs_opt_fail(p, "%s %s: %s", flag, url, why);
}

/* Every address host resolves to is loopback; "" and "*" are every
 * address.  -1 when it does not resolve. */
static int
link_loopback(const char *host)
{
	struct addrinfo	 hints, *res, *ai;
	const struct sockaddr_in6 *s6;
	const struct sockaddr_in *s4;
	uint32_t	 a;
	int		 all = 1;

	if (host[0] == '\0' || strcmp(host, "*") == 0)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			s4 = (const void *)ai->ai_addr;
			a = ntohl(s4->sin_addr.s_addr);
			if ((a >> 24) != 127)
				all = 0;
		} else if (ai->ai_family == AF_INET6) {
			s6 = (const void *)ai->ai_addr;
			if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
				all &= s6->sin6_addr.s6_addr[12] == 127;
			else if (!IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
				all = 0;
		} else
			all = 0;
	}
	freeaddrinfo(res);
	return all;
}

const char *
gs_link_refuse(const char *url, enum gs_link_use use)
{
	nng_url	*u;
	int	 lo;

	switch (link_kind(url)) {
	case LINK_TLS:
		if (link.ca == NULL)
			return "a tls+tcp:// url needs --tls-ca, --tls-cert "
			    "and --tls-key (GS_TLS_CA, GS_TLS_CERT, "
			    "GS_TLS_KEY)";
		return NULL;
	case LINK_PLAIN:
		if (use != GS_LINK_LISTEN || link.conf.trusted)
			return NULL;
		if (nng_url_parse(&u, url) != 0)
			return NULL;	/* NNG will say so */
		lo = link_loopback(u->u_hostname);
		nng_url_free(u);
		if (lo < 0)
			return "the listener's host does not resolve";
		if (lo == 0)
			return "a plain tcp:// listener on an address other "
			    "than loopback needs --trusted-network "
			    "(GS_TRUSTED_NETWORK=1); between hosts use "
			    "tls+tcp://";
		return NULL;
	default:
		return NULL;
	}
}

bool
gs_link_can_prove(const char *url)
{
	enum link_kind	k = link_kind(url);

	return k == LINK_IPC || k == LINK_INPROC || k == LINK_TLS;
}

/* A TLS configuration with our certificate, the CA, and the peer's
 * certificate required.  Caller frees (nng_tls_config_free). */
static int
link_tls(nng_tls_config **cfgp, nng_tls_mode mode, const char *server_name,
    const char **call)
{
	nng_tls_config	*cfg;
	int		 rv;

	*call = "nng_tls_config_alloc";
	if ((rv = nng_tls_config_alloc(&cfg, mode)) != 0)
		return rv;
	*call = "nng_tls_config_ca_chain";
	if ((rv = nng_tls_config_ca_chain(cfg, link.ca, NULL)) != 0)
		goto fail;
	*call = "nng_tls_config_own_cert";
	if ((rv = nng_tls_config_own_cert(cfg, link.cert, link.key,
	    NULL)) != 0)
		goto fail;
	*call = "nng_tls_config_auth_mode";
	if ((rv = nng_tls_config_auth_mode(cfg,
	    NNG_TLS_AUTH_MODE_REQUIRED)) != 0)
		goto fail;
	*call = "nng_tls_config_server_name";
	if (server_name != NULL &&
	    (rv = nng_tls_config_server_name(cfg, server_name)) != 0)
		goto fail;
	*cfgp = cfg;
	return 0;

 fail:
	nng_tls_config_free(cfg);
	return rv;
}

/* The socket file of an ipc listener: no permission beyond mode. */
static int
link_ipc_check(const char *url, mode_t mode, const char **call)
{
	struct stat	st;

	*call = "stat(ipc socket file)";
	if (stat(url + strlen("ipc://"), &st) == -1)
		return NNG_ENOENT;
	if ((st.st_mode & 0777 & ~mode) != 0) {
		*call = "ipc socket file has more permissions than asked";
		return NNG_EPERM;
	}
	return 0;
}

int
gs_link_listen(nng_socket s, const char *url, const char **call)
{
	enum link_kind	 k = link_kind(url);
	nng_listener	 l;
	mode_t		 mode = link.conf.ipc_group ? 0660 : 0600, old;
	const char	*why;
	int		 rv;

	if ((why = gs_link_refuse(url, GS_LINK_LISTEN)) != NULL) {
		gs_log_warnx("link refused url=%s why=\"%s\"", url, why);
		*call = "gs_link_refuse";
		return NNG_EPERM;
	}
	*call = "nng_listener_create";
	if ((rv = nng_listener_create(&l, s, url)) != 0)
		return rv;
	if (k == LINK_IPC) {
		*call = "nng_listener_set_int(ipc:permissions)";
		if ((rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS,
		    (int)mode)) != 0)
			goto fail;
	} else if (k == LINK_TLS) {
		if (link.server == NULL && (rv = link_tls(&link.server,
		    NNG_TLS_MODE_SERVER, NULL, call)) != 0)
			goto fail;
		*call = "nng_listener_set_ptr(tls-config)";
		if ((rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG,
		    link.server)) != 0)
			goto fail;
	}
	*call = "nng_listener_start";
	/* NNG binds, then chmods: no moment with a wider mode. */
	if (k == LINK_IPC)
		old = umask(0777 & ~mode);
	rv = nng_listener_start(l, 0);
	if (k == LINK_IPC)
		(void)umask(old);
	if (rv != 0)
		goto fail;
	if (k == LINK_IPC && (rv = link_ipc_check(url, mode, call)) != 0)
		goto fail;
	return 0;

 fail:
	(void)nng_listener_close(l);
	return rv;
}

int
gs_link_dial(nng_socket s, const char *url, int flags, const char **call)
{
	nng_tls_config	*cfg;
	nng_dialer	 d;
	nng_url		*u;
	const char	*why;
	int		 rv;

	if ((why = gs_link_refuse(url, GS_LINK_DIAL)) != NULL) {
		gs_log_warnx("link refused url=%s why=\"%s\"", url, why);
		*call = "gs_link_refuse";
		return NNG_EPERM;
	}
	*call = "nng_dialer_create";
	if ((rv = nng_dialer_create(&d, s, url)) != 0)
		return rv;
	if (link_kind(url) == LINK_TLS) {
		*call = "nng_url_parse";
		if ((rv = nng_url_parse(&u, url)) != 0)
			goto fail;
		rv = link_tls(&cfg, NNG_TLS_MODE_CLIENT, u->u_hostname, call);
		nng_url_free(u);
		if (rv != 0)
			goto fail;
		/* The dialer holds its own reference. */
		*call = "nng_dialer_set_ptr(tls-config)";
		rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
		nng_tls_config_free(cfg);
		if (rv != 0)
			goto fail;
	}
	*call = "nng_dialer_start";
	if ((rv = nng_dialer_start(d, flags)) != 0)
		goto fail;
	return 0;

 fail:
	(void)nng_dialer_close(d);
	return rv;
}

enum gs_link_proof
gs_link_pipe_proof(nng_pipe p)
{
	nng_sockaddr	sa;
	bool		verified;

	if (nng_pipe_get_addr(p, NNG_OPT_LOCADDR, &sa) != 0)
		return GS_LINK_UNPROVED;
	switch (sa.s_family) {
	case NNG_AF_INPROC:
	case NNG_AF_IPC:	/* through a socket file of our mode */
		return GS_LINK_PRIVATE;
	case NNG_AF_INET:
	case NNG_AF_INET6:
		if (nng_pipe_get_bool(p, NNG_OPT_TLS_VERIFIED,
		    &verified) == 0 && verified)
			return GS_LINK_VERIFIED;
		return GS_LINK_UNPROVED;
	default:		/* abstract: any process of the host */
		return GS_LINK_UNPROVED;
	}
}

const char *
gs_link_proof_name(enum gs_link_proof proof)
{
	switch (proof) {
	case GS_LINK_PRIVATE:
		return "private";
	case GS_LINK_VERIFIED:
		return "verified";
	default:
		return "unproved";
	}
}
