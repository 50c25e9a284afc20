/* core_assert.h: CORE_ASSERT(cond), the run-time check of a documented precondition: on in
 * builds with -DCORE_CHECKS (SAN=1, the fuzz builds), compiled out otherwise. */
#ifndef CORE_ASSERT_H
#define CORE_ASSERT_H

#ifdef CORE_CHECKS
/* A broken precondition is a bug in core, not bad input: says where, then stops. Defined
 * with the log stream in core/io/console.c, so that core/base includes nothing. */
_Noreturn void core_assert_fail(const char *cond, const char *file, int line);

#define CORE_ASSERT(cond) ((cond) ? (void)0 : core_assert_fail(#cond, __FILE__, __LINE__))
#else
/* Not evaluated, but still type-checked, so that a check cannot rot in release builds. */
#define CORE_ASSERT(cond) ((void)sizeof(!(cond)))
#endif

#endif
