#include <stddef.h>

#include "err.h"

static const char *const names[GS_ERR_MAX] = {
	[GS_OK] = "ok",
	[GS_ETRUNC] = "trunc",
	[GS_ETYPE] = "type",
	[GS_ERANGE] = "range",
	[GS_ETOOBIG] = "toobig",
	[GS_ETRAIL] = "trail",
	[GS_EDEPTH] = "depth",
	[GS_ENOMEM] = "nomem",
	[GS_EINVAL] = "inval",
	[GS_EAGAIN] = "again",
	[GS_ECLOSED] = "closed",
	[GS_ETIMEDOUT] = "timedout",
	[GS_ENNG] = "nng",
	[GS_ESYS] = "sys",
	[GS_EPEER] = "peer",
};

const char *
gs_err_name(int err)
{
	if (err < 0 || err >= GS_ERR_MAX || names[err] == NULL)
		return "unknown";
	return names[err];
}
