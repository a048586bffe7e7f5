/*
 * A tiny unit-test harness.  Each test is a function; T_CHECK records a
 * failure and goes on, T_ASSERT returns from the test.  main() is
 * T_MAIN(test, test, ...); it prints one line per failed check and
 * closes with "N passed, N failed" (tests, not checks).
 */
#ifndef T_H
#define T_H

#include <stdio.h>
#include <string.h>

static int t_failed_checks;

#define T_CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: %s: check failed: %s\n",	\
		    __FILE__, __LINE__, __func__, #c);			\
		t_failed_checks++;					\
	}								\
} while (0)
#define T_ASSERT(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: %s: assertion failed: %s\n",	\
		    __FILE__, __LINE__, __func__, #c);			\
		t_failed_checks++;					\
		return;							\
	}								\
} while (0)
#define T_EQ_INT(a, b) do {						\
	long long t_a_ = (long long)(a), t_b_ = (long long)(b);		\
	if (t_a_ != t_b_) {						\
		fprintf(stderr, "%s:%d: %s: %s == %lld, want %lld\n",	\
		    __FILE__, __LINE__, __func__, #a, t_a_, t_b_);	\
		t_failed_checks++;					\
	}								\
} while (0)

struct t_case {
	const char	*name;
	void		(*fn)(void);
};
#define T(fn)	{ #fn, fn }

static inline int
t_run(const char *prog, const struct t_case *c, size_t n)
{
	size_t	i, passed = 0, failed = 0;

	for (i = 0; i < n; i++) {
		int before = t_failed_checks;

		c[i].fn();
		if (t_failed_checks == before)
			passed++;
		else {
			failed++;
			fprintf(stderr, "%s: FAIL %s\n", prog, c[i].name);
		}
	}
	printf("%s: %zu passed, %zu failed\n", prog, passed, failed);
	return failed ? 1 : 0;
}

#define T_MAIN(...)							\
int main(void)								\
{									\
	static const struct t_case t_cases_[] = { __VA_ARGS__ };	\
	return t_run(__FILE__, t_cases_,				\
	    sizeof(t_cases_) / sizeof(t_cases_[0]));			\
}

#endif
