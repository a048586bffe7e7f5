/* Bounded parsing of flags and environment values. */
#include <string.h>

#include "err.h"
#include "http.h"
#include "log.h"
#include "t.h"
#include "util.h"

static void
test_parse_ll(void)
{
	long long	v = 7;

	T_EQ_INT(gs_parse_ll("42", 0, 100, &v), GS_OK);
	T_EQ_INT(v, 42);
	T_EQ_INT(gs_parse_ll("-5", -10, 10, &v), GS_OK);
	T_EQ_INT(v, -5);
	T_EQ_INT(gs_parse_ll("101", 0, 100, &v), GS_ERANGE);
	T_EQ_INT(gs_parse_ll("99999999999999999999", 0, 100, &v), GS_ERANGE);
	T_EQ_INT(gs_parse_ll("12x", 0, 100, &v), GS_EINVAL);
	T_EQ_INT(gs_parse_ll("", 0, 100, &v), GS_EINVAL);
	T_EQ_INT(gs_parse_ll(" ", 0, 100, &v), GS_EINVAL);
	T_EQ_INT(v, -5);		/* untouched on error */
}

static void
test_parse_ms(void)
{
	long long	v = 0;

	T_EQ_INT(gs_parse_ms("250ms", 1000, 0, 60000, &v), GS_OK);
	T_EQ_INT(v, 250);
	T_EQ_INT(gs_parse_ms("1.5s", 1000, 0, 60000, &v), GS_OK);
	T_EQ_INT(v, 1500);
	T_EQ_INT(gs_parse_ms("2", 1000, 0, 60000, &v), GS_OK);
	T_EQ_INT(v, 2000);
	T_EQ_INT(gs_parse_ms("1m", 1000, 0, 60000, &v), GS_OK);
	T_EQ_INT(v, 60000);
	T_EQ_INT(gs_parse_ms("2m", 1000, 0, 60000, &v), GS_ERANGE);
	T_EQ_INT(gs_parse_ms("3h", 1000, 0, 1 << 30, &v), GS_EINVAL);
	T_EQ_INT(gs_parse_ms("-1s", 1000, 0, 60000, &v), GS_EINVAL);
	T_EQ_INT(gs_parse_ms("nan", 1000, 0, 60000, &v), GS_EINVAL);
}

static void
test_parse_us_double(void)
{
	double	d = -1;

	T_EQ_INT(gs_parse_us("500us", 1000, 0, 3600e6, &d), GS_OK);
	T_CHECK(d == 500);
	T_EQ_INT(gs_parse_us("2.5", 1000, 0, 3600e6, &d), GS_OK);
	T_CHECK(d == 2500);			/* bare: the unit, ms */
	T_EQ_INT(gs_parse_us("1.5s", 1000, 0, 3600e6, &d), GS_OK);
	T_CHECK(d == 1.5e6);
	T_EQ_INT(gs_parse_us("61m", 1000, 0, 3600e6, &d), GS_ERANGE);
	T_EQ_INT(gs_parse_us("5 ms", 1000, 0, 3600e6, &d), GS_EINVAL);
	T_EQ_INT(gs_parse_us("inf", 1000, 0, 3600e6, &d), GS_EINVAL);
	T_CHECK(d == 1.5e6);			/* untouched on error */
	T_EQ_INT(gs_parse_ms("500us", 1, 0, 10, &(long long){ 0 }), GS_OK);

	T_EQ_INT(gs_parse_double("-2.5", -3, 3, &d), GS_OK);
	T_CHECK(d == -2.5);
	T_EQ_INT(gs_parse_double("4", -3, 3, &d), GS_ERANGE);
	T_EQ_INT(gs_parse_double("1e999", -3, 3, &d), GS_EINVAL);
	T_EQ_INT(gs_parse_double("1x", -3, 3, &d), GS_EINVAL);
	T_EQ_INT(gs_parse_double("", -3, 3, &d), GS_EINVAL);
}

/* The hash and the PRNG are pinned: gateways must agree on placement
 * across versions, and seeded runs must replay. */
static void
test_hash_rand(void)
{
	uint64_t	st = 0;
	double		u;
	int		i;

	T_CHECK(gs_hash_fnv1a("") == 0xcbf29ce484222325ULL);
	T_CHECK(gs_hash_fnv1a("a") == 0xaf63dc4c8601ec8cULL);
	T_CHECK(gs_hash_fnv1a("foobar") == 0x85944171f73967e8ULL);
	T_CHECK(gs_rand_next(&st) == 0xe220a8397b1dcdafULL);
	T_CHECK(gs_rand_next(&st) == 0x6e789e6aa1b965f4ULL);
	for (i = 0; i < 1000; i++) {
		u = gs_rand01(&st);
		T_CHECK(u >= 0 && u < 1);
	}
}

static void
test_parse_ratio(void)
{
	double	d = 0;

	T_EQ_INT(gs_parse_ratio("0.03", &d), GS_OK);
	T_CHECK(d == 0.03);
	T_EQ_INT(gs_parse_ratio("3%", &d), GS_OK);
	T_CHECK(d > 0.0299 && d < 0.0301);
	T_EQ_INT(gs_parse_ratio("150%", &d), GS_ERANGE);
	T_EQ_INT(gs_parse_ratio("3%%", &d), GS_EINVAL);
}

static void
test_http_addr(void)
{
	char		 buf[64];
	const char	*iface = "unset";
	int		 port = -1;

	T_EQ_INT(gs_http_parse_addr("8080", buf, sizeof(buf), &iface, &port),
	    GS_OK);
	T_CHECK(iface == NULL && port == 8080);
	T_EQ_INT(gs_http_parse_addr("127.0.0.1:0", buf, sizeof(buf), &iface,
	    &port), GS_OK);
	T_CHECK(iface != NULL && strcmp(iface, "127.0.0.1") == 0 && port == 0);
	T_EQ_INT(gs_http_parse_addr("[::1]:9", buf, sizeof(buf), &iface,
	    &port), GS_OK);
	T_CHECK(iface != NULL && strcmp(iface, "::1") == 0 && port == 9);
	T_EQ_INT(gs_http_parse_addr("*:80", buf, sizeof(buf), &iface, &port),
	    GS_OK);
	T_CHECK(iface == NULL && port == 80);
	T_EQ_INT(gs_http_parse_addr(":80", buf, sizeof(buf), &iface, &port),
	    GS_EINVAL);
	T_EQ_INT(gs_http_parse_addr("a:65536", buf, sizeof(buf), &iface,
	    &port), GS_EINVAL);
	T_EQ_INT(gs_http_parse_addr("averylonghostname:1", buf, 8, &iface,
	    &port), GS_EINVAL);
}

static void
test_strlcpy_and_ratelimit(void)
{
	char			b[4];
	struct gs_ratelimit	rl = { 0 };
	int			i, passed = 0;

	T_EQ_INT(gs_strlcpy(b, "abc", sizeof(b)), GS_OK);
	T_EQ_INT(gs_strlcpy(b, "abcd", sizeof(b)), GS_ETOOBIG);
	T_CHECK(strcmp(b, "abc") == 0);
	gs_log_init("test_util", GS_LOG_ERROR);
	for (i = 0; i < 100; i++)
		passed += gs_ratelimit_ok(&rl, 5);
	/* The first 5 pass; 100 calls cannot all fall in fresh windows. */
	T_CHECK(passed >= 5 && passed < 100);
}

T_MAIN(T(test_parse_ll), T(test_parse_ms), T(test_parse_us_double),
    T(test_hash_rand), T(test_parse_ratio), T(test_http_addr),
    T(test_strlcpy_and_ratelimit))
