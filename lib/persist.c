/* Shared parts of gs-persist's request API; see persist.h. */
#include "persist.h"
#include "util.h"

static const char *const pst_err_names[GS_PST_EMAX] = {
	[GS_PST_OK] = "ok",
	[GS_PST_EUNKNOWN] = "unknown",
	[GS_PST_EARGS] = "args",
	[GS_PST_ENOTFOUND] = "not_found",
	[GS_PST_ECONFLICT] = "conflict",
	[GS_PST_EAUTH] = "unauthorized",
	[GS_PST_EBANNED] = "banned",
	[GS_PST_EBUSY] = "busy",
	[GS_PST_EINTERNAL] = "internal",
	[GS_PST_EFORBIDDEN] = "forbidden",
};

const char *
gs_pst_err_name(unsigned code)
{
	return code < GS_NELEM(pst_err_names) ? pst_err_names[code] : "?";
}

int
gs_pst_username_valid(const char *s, size_t len)
{
	size_t	i;

	if (len < GS_PST_USER_MIN || len > GS_PST_USER_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}
