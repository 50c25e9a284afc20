/* jit_engine.h: LLVM 14 ORC compilation of one specialised kernel entry: the embedded kernel
 * bitcode, a tl_entry wrapper with shape constants, the CPU's attributes, default<O3>, LLJIT,
 * and the object it produced (for the code cache). Host only; core never includes it. */
#ifndef JIT_ENGINE_H
#define JIT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Argument param of the kernel becomes value in the specialised path; or, field_bytes > 0,
 * the field of that many bytes at byte offset in the struct param points to (a copy of the
 * struct with the field set is passed instead, so the constant reaches the inlined kernel). */
typedef struct {
	int param;
	int64_t value;
	unsigned offset, field_bytes;
} JitConst;
#define JIT_MAX_CONSTS 4

/* Pass-builder knobs of a variant (the tuning searches them). */
enum {
	JIT_KNOB_NO_UNROLL = 1u << 0,
	JIT_KNOB_NO_VECTORIZE = 1u << 1,
	JIT_KNOB_NO_SLP = 1u << 2,
	JIT_KNOB_NO_INTERLEAVE = 1u << 3,
};

typedef enum { JIT_TARGET_HOST, JIT_TARGET_KERNEL } JitTarget;

typedef struct {
	const char *source; /* the kernel function in the bitcode, e.g. "fdot_f32_avx512" */
	JitConst consts[JIT_MAX_CONSTS];
	int nconsts;
	uint32_t knobs; /* JIT_KNOB_* */
	/* Tuning knobs in the kernel: a source with one more argument than the slot (e.g.
	 * qdot_q8_avx512_tuned's prefetch distance), which the wrapper passes as this constant;
	 * has_tail false: the source has the slot's own signature. */
	bool has_tail;
	int64_t tail;
	JitTarget target;
	/* The size of the struct the field constants are in (they all share one param). */
	unsigned struct_bytes;
	/* Corrupts the specialised path: adds 1 to a float result; for a void kernel, flips bit
	 * 23 of the last field constant in the struct copy (a float's lowest exponent bit, e.g.
	 * the attention's scale doubles or halves), or, with no field constants, passes its last
	 * constant one less (a row pair's blocks per row). Tests of verification only. */
	bool plant_wrong;
} JitSpec;

typedef struct {
	void *fn;     /* tl_entry, callable (host target only) */
	uint8_t *obj; /* the ELF64 relocatable object (malloc'ed) */
	size_t obj_size;
	double compile_ms; /* bitcode to callable (or to object, kernel target) */
	void *jit;	   /* the LLJIT that owns fn */
} JitEntry;

/* Initialises LLVM and reads the embedded bitcode; 0, or -1 with the reason printed. */
int jit_engine_init(void);
/* Compiles spec; fallback is what tl_fallback resolves to in this process (the tier-1 entry).
 * 0, or -1 with the reason printed as one line. */
int jit_compile(const JitSpec *spec, void *fallback, JitEntry *out);
/* Frees the entry's code and object (fn must no longer be in use). */
void jit_release(JitEntry *e);

/* The host CPU name and features the host entries are compiled for, and the kernel target's.
 * (The bitcode's hash and LLVM's version a cache keys on: codecache_machine_this.) */
const char *jit_host_cpu(void);
const char *jit_host_features(void);
extern const char jit_kernel_cpu[], jit_kernel_features[];

#endif
