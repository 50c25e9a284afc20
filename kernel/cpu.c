/* cpu.c: FPU, SSE and XSAVE/AVX/AVX-512 state, enabled from CPUID before any float code runs
 * (on every CPU the same way), page protection (NX, CR0.WP), and the boot CPU's features the
 * rest of the kernel asks about. */
#include "kernel/kernel.h"
#include "kernel/x86.h"

#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16) /* read-only pages bind ring 0 too (sealed code, kernel/vm.c) */
#define MSR_EFER 0xc0000080
#define EFER_NXE (1ull << 11) /* the page tables' execute-disable bit is honoured */
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_OSXSAVE (1ull << 18)

#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)
#define XCR0_AVX512 (7ull << 5) /* opmask, ZMM_Hi256, Hi16_ZMM */

#define MXCSR_DEFAULT 0x1f80 /* all exceptions masked, round to nearest: as on Linux */

static struct cpu_features boot_feat;

const struct cpu_features *cpu_features(void)
{
	return &boot_feat;
}

/* Sets this CPU's control registers, x87/SSE state and XCR0 from its CPUID; fills *f. */
static void cpu_setup(struct cpu_features *f)
{
	struct cpu_features feat = {0};
	struct cpuid_regs l1 = cpuid(1, 0);
	struct cpuid_regs l7 = cpuid(0, 0).eax >= 7 ? cpuid(7, 0) : (struct cpuid_regs){0, 0, 0, 0};
	uint32_t ext_max = cpuid(0x80000000, 0).eax;
	struct cpuid_regs e1 =
	    ext_max >= 0x80000001 ? cpuid(0x80000001, 0) : (struct cpuid_regs){0, 0, 0, 0};

	feat.sse = (l1.edx >> 25) & 1;
	feat.xsave = (l1.ecx >> 26) & 1;
	feat.hypervisor = (l1.ecx >> 31) & 1;
	feat.pdpe1gb = (e1.edx >> 26) & 1;
	feat.nx = (e1.edx >> 20) & 1;

	write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE | CR0_WP);
	if (feat.nx)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	fninit();
	ldmxcsr(MXCSR_DEFAULT);

	if (feat.xsave && ((l1.ecx >> 28) & 1)) {
		uint64_t supported = cpuid(0xd, 0).eax | ((uint64_t)cpuid(0xd, 0).edx << 32);
		uint64_t xcr0 = XCR0_X87 | XCR0_SSE | XCR0_AVX;
		write_cr4(read_cr4() | CR4_OSXSAVE);
		if (((l7.ebx >> 16) & 1) && (supported & XCR0_AVX512) == XCR0_AVX512)
			xcr0 |= XCR0_AVX512;
		if ((supported & xcr0) == xcr0) {
			xsetbv(0, xcr0);
			feat.xcr0 = xgetbv(0);
			feat.avx = 1;
			feat.avx2 = (l7.ebx >> 5) & 1;
			feat.avx512f = (xcr0 & XCR0_AVX512) == XCR0_AVX512;
		}
	}
	*f = feat;
}

uint64_t cpu_init_ap(void)
{
	struct cpu_features f;
	cpu_setup(&f);
	return f.xcr0;
}

void cpu_init(void)
{
	cpu_setup(&boot_feat);
	kprintf("kernel: cpu: SSE on (CR0.MP, CR4.OSFXSR|OSXMMEXCPT, MXCSR 0x%x)", MXCSR_DEFAULT);
	if (boot_feat.avx)
		kprintf("; XSAVE on, XCR0 0x%lx (x87 SSE AVX%s); AVX2 %s, AVX-512F %s\n",
			(unsigned long)boot_feat.xcr0,
			boot_feat.avx512f ? " opmask ZMM_Hi256 Hi16_ZMM" : "",
			boot_feat.avx2 ? "yes" : "no", boot_feat.avx512f ? "yes" : "no");
	else
		kprintf("; no XSAVE/AVX: SSE only\n");
}
