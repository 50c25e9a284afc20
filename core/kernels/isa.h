/* isa.h: the instruction-set variants kernels come in, the target attributes that compile
 * each (one definition, used by every kernel file), and their detection (isa_detect.c). */
#ifndef ISA_H
#define ISA_H

#include <stdbool.h>
#include <stdint.h>

/* In order of preference: isa_best() takes the last one supported, and an ISA without its own
 * version of a kernel family runs the one of the nearest ISA below it. */
typedef enum { ISA_SCALAR = 0, ISA_AVX2, ISA_AVXVNNI, ISA_AVX512, ISA_COUNT } Isa;

/* The features isa_supported() checks for each variant, so that a kernel compiled with one of
 * these attributes only ever runs where all of them are present. avx2: AVX2 and F16C (QEMU's
 * TCG has both since 7.2); avxvnni adds AVX-VNNI (vpdpbusd on ymm, VEX-encoded: Alder Lake
 * and later, Zen 5; not Zen 3 or QEMU's TCG); avx512 adds AVX-512 F, BW, VL and VNNI. */
#define ISA_TARGET_AVX2 __attribute__((target("avx2,f16c")))
#define ISA_TARGET_AVXVNNI __attribute__((target("avx2,f16c,avxvnni")))
#define ISA_TARGET_AVX512 __attribute__((target("avx2,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))

/* "scalar", "avx2", "avxvnni", "avx512". */
const char *isa_name(Isa isa);
/* The CPU has the instructions and the OS enabled their registers (XCR0). */
bool isa_supported(Isa isa);
/* The best supported variant. */
Isa isa_best(void);

/* The CPU as the code cache keys it (core/codecache): vendor string, display family and model,
 * the feature words CPUID leaf 1 ECX, EDX and leaf 7.0 EBX, ECX, EDX (0 where a leaf is
 * absent), and XCR0 (0 without OSXSAVE). */
typedef struct {
	char vendor[13];
	uint32_t family, model;
	uint32_t features[5];
	uint64_t xcr0;
} CpuIdent;
void isa_cpu_ident(CpuIdent *c);

#endif
