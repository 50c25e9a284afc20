/* cpu.h: the few x86 instructions core runs itself (cpuid, xgetbv, lfence), as static inline
 * wrappers, so that no other core file carries inline assembly. All are unprivileged. */
#ifndef CPU_H
#define CPU_H

#include <stdbool.h>
#include <stdint.h>

/* Runs CPUID leaf/subleaf; r[] gets eax, ebx, ecx, edx. */
static inline void cpu_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(subleaf));
}

/* Reads extended control register xcr (0 = XCR0); only valid when CPUID.1:ECX.OSXSAVE is set. */
static inline uint64_t cpu_xgetbv(uint32_t xcr)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(xcr));
	return ((uint64_t)hi << 32) | lo;
}

/* Keeps later instructions from starting before earlier ones finished (used after rdtscp so
 * that the timed code does not begin before the timestamp is taken). */
static inline void cpu_lfence(void)
{
	__asm__ volatile("lfence" ::: "memory");
}

/* Highest extended CPUID leaf, so that callers never read an absent one. */
static inline uint32_t cpu_max_extended_leaf(void)
{
	uint32_t r[4];
	cpu_cpuid(0x80000000u, 0, r);
	return r[0];
}

/* RDTSCP is present: CPUID 0x80000001 EDX bit 27. */
static inline bool cpu_has_rdtscp(void)
{
	uint32_t r[4];
	if (cpu_max_extended_leaf() < 0x80000001u)
		return false;
	cpu_cpuid(0x80000001u, 0, r);
	return (r[3] >> 27) & 1;
}

/* The TSC ticks at a constant rate in all power states: CPUID 0x80000007 EDX bit 8. */
static inline bool cpu_has_invariant_tsc(void)
{
	uint32_t r[4];
	if (cpu_max_extended_leaf() < 0x80000007u)
		return false;
	cpu_cpuid(0x80000007u, 0, r);
	return (r[3] >> 8) & 1;
}

#endif
