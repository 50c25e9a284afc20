/* key.c: this machine as the code cache keys it, and whether an entry's key may run here. */
#include "core/base/fmt.h"
#include "core/base/str.h"
#include "core/codecache/codecache.h"
#include "core/kernels/isa.h"
/* CODECACHE_COMPILER and CODECACHE_BITCODE_HASH, written by the Makefile (README.md). */
#include "codecache_compiler.h"

void codecache_machine_this(CodeCacheMachine *m, uint32_t target)
{
	CpuIdent c;
	isa_cpu_ident(&c);
	m->target = target;
	mem_copy(m->vendor, c.vendor, sizeof m->vendor);
	m->family = c.family;
	m->model = c.model;
	for (int i = 0; i < CODECACHE_FEATURE_WORDS; i++)
		m->features[i] = c.features[i];
	m->xcr0 = c.xcr0;
	m->build_id = codecache_build_id();
	fmt_format(m->compiler, sizeof m->compiler, "%s", CODECACHE_COMPILER);
	m->bitcode_hash = CODECACHE_BITCODE_HASH;
}

static const char *target_name(uint32_t t)
{
	return t == CODECACHE_TARGET_KERNEL ? "the kernel" : "the host";
}

static bool refuse(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vformat(why, cap, fmt, ap);
	va_end(ap);
	return false;
}

bool codecache_key_matches(const CodeCacheKey *k, const CodeCacheMachine *m, char *why, size_t cap)
{
	static const char *word_names[CODECACHE_FEATURE_WORDS] = {
	    "leaf 1 ECX", "leaf 1 EDX", "leaf 7 EBX", "leaf 7 ECX", "leaf 7 EDX"};
	if (k->build_id != m->build_id)
		return refuse(why, cap,
			      "written by another build (build id %016llx, this is %016llx)",
			      (unsigned long long)k->build_id, (unsigned long long)m->build_id);
	/* Same sources, but another compiler or bitcode would give other code: recompile. */
	if (m->bitcode_hash && !str_eq(k->compiler, m->compiler))
		return refuse(why, cap, "compiled by another compiler (%s, this build has %s)",
			      k->compiler, m->compiler);
	if (m->bitcode_hash && k->bitcode_hash != m->bitcode_hash)
		return refuse(
		    why, cap, "compiled from other bitcode (hash %016llx, this build's is %016llx)",
		    (unsigned long long)k->bitcode_hash, (unsigned long long)m->bitcode_hash);
	if (k->target != m->target)
		return refuse(why, cap, "compiled for %s, this is %s", target_name(k->target),
			      target_name(m->target));
	if (k->target == CODECACHE_TARGET_HOST &&
	    (!str_eq(k->vendor, m->vendor) || k->family != m->family || k->model != m->model))
		return refuse(why, cap,
			      "compiled for another CPU (%s family %u model %u, this is %s family "
			      "%u model %u)",
			      k->vendor, k->family, k->model, m->vendor, m->family, m->model);
	for (int i = 0; i < CODECACHE_FEATURE_WORDS; i++) {
		uint32_t missing = k->features[i] & ~m->features[i];
		if (missing)
			return refuse(why, cap,
				      "needs CPU features this CPU lacks (CPUID %s bits %08x)",
				      word_names[i], missing);
	}
	uint64_t missing = k->xcr0 & ~m->xcr0;
	if (missing)
		return refuse(why, cap,
			      "needs register state the OS did not enable (XCR0 bits %llx)",
			      (unsigned long long)missing);
	return true;
}
