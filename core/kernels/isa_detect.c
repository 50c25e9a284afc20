/* isa_detect.c: which kernel variants this CPU can run, from CPUID and XCR0. */
#include "core/kernels/isa.h"

#include <stdint.h>

#include "core/kernels/cpu.h"

const char *isa_name(Isa isa)
{
	static const char *names[ISA_COUNT] = {"scalar", "avx2", "avxvnni", "avx512"};
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
	if (isa == ISA_AVXVNNI) { /* CPUID.(EAX=7,ECX=1):EAX bit 4, where leaf 7 has subleaf 1 */
		uint32_t r71[4] = {0};
		if (r7[0] >= 1)
			cpu_cpuid(7, 1, r71);
		return ymm && avx2 && f16c && ((r71[0] >> 4) & 1);
	}
	bool f = (r7[1] >> 16) & 1, bw = (r7[1] >> 30) & 1, vl = (r7[1] >> 31) & 1;
	bool vnni = (r7[2] >> 11) & 1;
	return isa == ISA_AVX512 && ymm && zmm && avx2 && f && bw && vl && vnni && f16c;
}

Isa isa_best(void)
{
	for (int i = ISA_COUNT - 1; i > ISA_SCALAR; i--)
		if (isa_supported((Isa)i))
			return (Isa)i;
	return ISA_SCALAR;
}

void isa_cpu_ident(CpuIdent *c)
{
	uint32_t r0[4], r1[4] = {0}, r7[4] = {0};
	cpu_cpuid(0, 0, r0);
	const uint32_t words[3] = {r0[1], r0[3], r0[2]}; /* "Genu" "ineI" "ntel" */
	for (int i = 0; i < 12; i++)
		c->vendor[i] = (char)(words[i / 4] >> (8 * (i % 4)));
	c->vendor[12] = 0;
	if (r0[0] >= 1)
		cpu_cpuid(1, 0, r1);
	if (r0[0] >= 7)
		cpu_cpuid(7, 0, r7);
	/* Display family and model: the extended fields count for families 6 and 15. */
	uint32_t family = (r1[0] >> 8) & 0xf, model = (r1[0] >> 4) & 0xf;
	if (family == 0xf)
		family += (r1[0] >> 20) & 0xff;
	if (family == 0x6 || family >= 0xf)
		model |= ((r1[0] >> 16) & 0xf) << 4;
	c->family = family;
	c->model = model;
	const uint32_t f[5] = {r1[2], r1[3], r7[1], r7[2], r7[3]};
	for (int i = 0; i < 5; i++)
		c->features[i] = f[i];
	c->xcr0 = (r1[2] >> 27) & 1 ? cpu_xgetbv(0) : 0;
}
