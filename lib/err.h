/* Error codes shared by every lib module.  GS_OK is zero; errors are
 * positive so that a sticky "first error" field reads naturally. */
#ifndef GS_ERR_H
#define GS_ERR_H

enum {
	GS_OK = 0,
	GS_ETRUNC,	/* input ended inside a value */
	GS_ETYPE,	/* value of the wrong type */
	GS_ERANGE,	/* number outside the allowed range */
	GS_ETOOBIG,	/* string, container or buffer over its cap */
	GS_ETRAIL,	/* bytes left after the last expected value */
	GS_EDEPTH,	/* containers nested too deep */
	GS_ENOMEM,	/* allocation failed */
	GS_EINVAL,	/* malformed argument or value */
	GS_EAGAIN,	/* would block: queue full or no peer */
	GS_ECLOSED,	/* object closed while the operation was pending */
	GS_ETIMEDOUT,	/* no answer in time */
	GS_ENNG,	/* an NNG call failed (logged where it happened) */
	GS_ESYS,	/* a system call failed (errno is set) */
	GS_EPEER,	/* the peer answered with an error */
	GS_ERR_MAX
};

/* Short lower-case name of an error code ("trunc", "range", ...). */
const char	*gs_err_name(int err);

#endif
