/* isa_detect.c: which kernel variants this CPU can run, from CPUID and XCR0. */
#include "core/kernels/isa.h"

#include <stdint.h>

#include "core/kernels/cpu.h"

const char *isa_name(Isa isa)
{
	static const char *names[ISA_COUNT] = {"scalar", "avx2", "avx512"};
	return isa >= 0 && isa < ISA_COUNT ? names[isa] : "?";
}

bool isa_supported(Isa isa)
{
	if (isa == ISA_SCALAR)
		return true;
	uint32_t r1[4], r7[4], r0[4];
	cpu_cpuid(0, 0, r0);
	if (r0[0] < 7)
		return false;
	cpu_cpuid(1, 0, r1);
	cpu_cpuid(7, 0, r7);
	bool osxsave = (r1[2] >> 27) & 1, avx = (r1[2] >> 28) & 1;
	if (!osxsave || !avx)
		return false;
	uint64_t xcr0 = cpu_xgetbv(0);
	bool ymm = (xcr0 & 0x6) == 0x6;	  /* SSE and AVX state enabled by the OS */
	bool zmm = (xcr0 & 0xe6) == 0xe6; /* plus opmask, ZMM_Hi256 and Hi16_ZMM */
	bool avx2 = (r7[1] >> 5) & 1, f16c = (r1[2] >> 29) & 1;
	if (isa == ISA_AVX2)
		return ymm && avx2 && f16c;
	bool f = (r7[1] >> 16) & 1, bw = (r7[1] >> 30) & 1, vl = (r7[1] >> 31) & 1;
	bool vnni = (r7[2] >> 11) & 1;
	return isa == ISA_AVX512 && ymm && zmm && avx2 && f && bw && vl && vnni && f16c;
}

Isa isa_best(void)
{
	return isa_supported(ISA_AVX512) ? ISA_AVX512
	       : isa_supported(ISA_AVX2) ? ISA_AVX2
					 : ISA_SCALAR;
}
