/* jit_engine.c: one specialised kernel entry from the embedded bitcode to machine code with
 * LLVM 14's C API (see jit_engine.h). */
#include "jit/jit_engine.h"

#include <llvm-c/BitReader.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <llvm/Config/llvm-config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const char jit_kernels_bc[], jit_kernels_bc_end[];

/* QEMU 7.2's TCG "-cpu max" (kernel/run-qemu.sh) has up to AVX2 and F16C, no AVX-512 and no
 * FMA in use here: kernel-target entries are built for that baseline. */
const char jit_kernel_cpu[] = "x86-64";
const char jit_kernel_features[] =
    "+sse,+sse2,+sse3,+ssse3,+sse4.1,+sse4.2,+popcnt,+avx,+avx2,+f16c,-avx512f";

static char *host_cpu, *host_features;
static LLVMTargetRef target;
static char *triple;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Prints LLVM's message for err (consumed) after what; returns -1. */
static int llvm_fail(const char *what, LLVMErrorRef err)
{
	char *msg = err ? LLVMGetErrorMessage(err) : NULL;
	fprintf(stderr, "jit: %s: %s\n", what, msg ? msg : "failed");
	if (msg)
		LLVMDisposeErrorMessage(msg);
	return -1;
}

int jit_engine_init(void)
{
	if (target)
		return 0;
	/* the asm parser: the attention's softmax timing reads the cycle counter by inline asm */
	if (LLVMInitializeNativeTarget() || LLVMInitializeNativeAsmPrinter() ||
	    LLVMInitializeNativeAsmParser())
		return llvm_fail("no native target in this LLVM", NULL);
	triple = LLVMGetDefaultTargetTriple();
	char *msg = NULL;
	if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
		fprintf(stderr, "jit: %s: %s\n", triple, msg);
		LLVMDisposeMessage(msg);
		return -1;
	}
	host_cpu = LLVMGetHostCPUName();
	host_features = LLVMGetHostCPUFeatures();
	return 0;
}

const char *jit_host_cpu(void)
{
	return host_cpu;
}

const char *jit_host_features(void)
{
	return host_features;
}

/* A machine for the target: the host's CPU or the kernel's baseline, small code model (so the
 * object needs no 64-bit absolute addresses), static relocations for the kernel. */
static LLVMTargetMachineRef make_tm(JitTarget t)
{
	bool host = t == JIT_TARGET_HOST;
	return LLVMCreateTargetMachine(target, triple, host ? host_cpu : jit_kernel_cpu,
				       host ? host_features : jit_kernel_features,
				       LLVMCodeGenLevelAggressive,
				       host ? LLVMRelocPIC : LLVMRelocStatic, LLVMCodeModelSmall);
}

static void set_string_attr(LLVMContextRef ctx, LLVMValueRef f, const char *k, const char *v)
{
	LLVMRemoveStringAttributeAtIndex(f, LLVMAttributeFunctionIndex, k, (unsigned)strlen(k));
	LLVMAddAttributeAtIndex(
	    f, LLVMAttributeFunctionIndex,
	    LLVMCreateStringAttribute(ctx, k, (unsigned)strlen(k), v, (unsigned)strlen(v)));
}

static void add_enum_attr(LLVMContextRef ctx, LLVMValueRef f, const char *name)
{
	unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
	LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
				LLVMCreateEnumAttribute(ctx, kind, 0));
}

static void remove_enum_attr(LLVMValueRef f, const char *name)
{
	unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
	LLVMRemoveEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, kind);
}

/* Builds tl_entry (the source's signature, without its tuning argument when it has one): the
 * shape constants equal -> the source with the constants in their place and the tuning
 * constant after them (inlined), otherwise tl_fallback with the arguments as given. */
static int build_wrapper(LLVMModuleRef m, const JitSpec *spec)
{
	LLVMContextRef ctx = LLVMGetModuleContext(m);
	LLVMValueRef src = LLVMGetNamedFunction(m, spec->source);
	if (!src || LLVMIsDeclaration(src)) {
		fprintf(stderr, "jit: no kernel '%s' in the embedded bitcode\n", spec->source);
		return -1;
	}
	LLVMTypeRef src_ty = LLVMGlobalGetValueType(src), params[16];
	unsigned n_src = LLVMCountParamTypes(src_ty);
	if (n_src > 16 || n_src < (unsigned)spec->has_tail)
		return -1;
	LLVMGetParamTypes(src_ty, params);
	unsigned n = n_src - (unsigned)spec->has_tail;
	LLVMTypeRef fty = LLVMFunctionType(LLVMGetReturnType(src_ty), params, n, 0);
	LLVMValueRef entry = LLVMAddFunction(m, "tl_entry", fty);
	LLVMValueRef fb = LLVMAddFunction(m, "tl_fallback", fty);
	LLVMValueRef args[16], spec_args[16];
	LLVMGetParams(entry, args);
	memcpy(spec_args, args, sizeof args);
	LLVMBuilderRef b = LLVMCreateBuilderInContext(ctx);
	LLVMBasicBlockRef bb0 = LLVMAppendBasicBlockInContext(ctx, entry, "check");
	LLVMBasicBlockRef bb_spec = LLVMAppendBasicBlockInContext(ctx, entry, "specialised");
	LLVMBasicBlockRef bb_fb = LLVMAppendBasicBlockInContext(ctx, entry, "fallback");
	LLVMPositionBuilderAtEnd(b, bb0);
	LLVMValueRef all = LLVMConstInt(LLVMInt1TypeInContext(ctx), 1, 0);
	LLVMTypeRef i8 = LLVMInt8TypeInContext(ctx);
	bool is_void = LLVMGetTypeKind(LLVMGetReturnType(fty)) == LLVMVoidTypeKind;
	LLVMValueRef copy = NULL; /* the struct copy of the field constants, in the entry block */
	int last_plain = -1;	  /* the last constant passed as an argument */
	for (int i = 0; i < spec->nconsts; i++) {
		const JitConst *c = &spec->consts[i];
		if (c->param < 0 || (unsigned)c->param >= n ||
		    (c->field_bytes && (LLVMGetTypeKind(params[c->param]) != LLVMPointerTypeKind ||
					c->offset + c->field_bytes > spec->struct_bytes))) {
			LLVMDisposeBuilder(b);
			return -1;
		}
		if (!c->field_bytes) {
			LLVMValueRef k =
			    LLVMConstInt(LLVMTypeOf(args[c->param]), (uint64_t)c->value, 1);
			spec_args[c->param] = k;
			last_plain = i;
			all = LLVMBuildAnd(b, all,
					   LLVMBuildICmp(b, LLVMIntEQ, args[c->param], k, ""), "");
			continue;
		}
		if (!copy) { /* aligned as any C struct may need (the kernel's own loads assume it)
			      */
			copy = LLVMBuildArrayAlloca(
			    b, i8, LLVMConstInt(LLVMInt32TypeInContext(ctx), spec->struct_bytes, 0),
			    "copy");
			LLVMSetAlignment(copy, 16);
		}
		LLVMTypeRef fty_i = LLVMIntTypeInContext(ctx, 8 * c->field_bytes);
		LLVMValueRef k = LLVMConstInt(fty_i, (uint64_t)c->value, 1);
		LLVMValueRef at = LLVMConstInt(LLVMInt64TypeInContext(ctx), c->offset, 0);
		LLVMValueRef p = LLVMBuildBitCast(b, args[c->param], LLVMPointerType(i8, 0), "");
		LLVMValueRef fp = LLVMBuildBitCast(b, LLVMBuildInBoundsGEP2(b, i8, p, &at, 1, ""),
						   LLVMPointerType(fty_i, 0), "");
		all = LLVMBuildAnd(
		    b, all, LLVMBuildICmp(b, LLVMIntEQ, LLVMBuildLoad2(b, fty_i, fp, ""), k, ""),
		    "");
	}
	LLVMBuildCondBr(b, all, bb_spec, bb_fb);
	LLVMPositionBuilderAtEnd(b, bb_spec);
	for (int i = 0, copied = 0; copy && i < spec->nconsts; i++) {
		const JitConst *c = &spec->consts[i];
		if (!c->field_bytes)
			continue;
		if (!copied++) /* the struct as given, then the constants over its fields */
			LLVMBuildMemCpy(
			    b, copy, 8,
			    LLVMBuildBitCast(b, args[c->param], LLVMPointerType(i8, 0), ""), 8,
			    LLVMConstInt(LLVMInt64TypeInContext(ctx), spec->struct_bytes, 0));
		uint64_t v = (uint64_t)c->value;
		if (spec->plant_wrong && is_void && i == spec->nconsts - 1)
			v ^= 1u << 23;
		LLVMTypeRef fty_i = LLVMIntTypeInContext(ctx, 8 * c->field_bytes);
		LLVMValueRef at = LLVMConstInt(LLVMInt64TypeInContext(ctx), c->offset, 0);
		LLVMBuildStore(b, LLVMConstInt(fty_i, v, 1),
			       LLVMBuildBitCast(b, LLVMBuildInBoundsGEP2(b, i8, copy, &at, 1, ""),
						LLVMPointerType(fty_i, 0), ""));
		spec_args[c->param] = LLVMBuildBitCast(b, copy, params[c->param], "");
	}
	if (spec->plant_wrong && is_void && !copy && last_plain >= 0) {
		/* no field to corrupt: the last shape constant one less (a block or a row fewer:
		 * wrong results, nothing read past the inputs) */
		const JitConst *c = &spec->consts[last_plain];
		spec_args[c->param] = LLVMConstInt(params[c->param], (uint64_t)(c->value - 1), 1);
	}
	if (spec->has_tail)
		spec_args[n] = LLVMConstInt(params[n], (uint64_t)spec->tail, 1);
	LLVMValueRef r = LLVMBuildCall2(b, src_ty, src, spec_args, n_src, "");
	if (spec->plant_wrong && LLVMGetTypeKind(LLVMGetReturnType(fty)) == LLVMFloatTypeKind)
		r = LLVMBuildFAdd(b, r, LLVMConstReal(LLVMFloatTypeInContext(ctx), 1.0), "");
	is_void ? LLVMBuildRetVoid(b) : LLVMBuildRet(b, r);
	LLVMPositionBuilderAtEnd(b, bb_fb);
	LLVMValueRef r2 = LLVMBuildCall2(b, fty, fb, args, n, "");
	LLVMSetTailCall(r2, 1);
	is_void ? LLVMBuildRetVoid(b) : LLVMBuildRet(b, r2);
	LLVMDisposeBuilder(b);
	remove_enum_attr(src, "noinline");
	remove_enum_attr(src, "optnone");
	add_enum_attr(ctx, src, "alwaysinline");
	return 0;
}

/* Everything but tl_entry internal (so O3 specialises the inlined copy and drops the rest);
 * every function gets the target's CPU and features, the kernel's also no red zone. */
static void prepare_module(LLVMModuleRef m, JitTarget t)
{
	LLVMContextRef ctx = LLVMGetModuleContext(m);
	bool host = t == JIT_TARGET_HOST;
	for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f)) {
		if (LLVMIsDeclaration(f))
			continue;
		const char *name = LLVMGetValueName(f);
		if (strcmp(name, "tl_entry") != 0)
			LLVMSetLinkage(f, LLVMInternalLinkage);
		set_string_attr(ctx, f, "target-cpu", host ? host_cpu : jit_kernel_cpu);
		set_string_attr(ctx, f, "target-features",
				host ? host_features : jit_kernel_features);
		if (!host)
			add_enum_attr(ctx, f, "noredzone");
	}
	for (LLVMValueRef g = LLVMGetFirstGlobal(m); g; g = LLVMGetNextGlobal(g))
		if (!LLVMIsDeclaration(g))
			LLVMSetLinkage(g, LLVMInternalLinkage);
}

static int optimise(LLVMModuleRef m, const JitSpec *spec)
{
	LLVMTargetMachineRef tm = make_tm(spec->target);
	LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
	LLVMPassBuilderOptionsSetLoopUnrolling(po, !(spec->knobs & JIT_KNOB_NO_UNROLL));
	LLVMPassBuilderOptionsSetLoopVectorization(po, !(spec->knobs & JIT_KNOB_NO_VECTORIZE));
	LLVMPassBuilderOptionsSetSLPVectorization(po, !(spec->knobs & JIT_KNOB_NO_SLP));
	LLVMPassBuilderOptionsSetLoopInterleaving(po, !(spec->knobs & JIT_KNOB_NO_INTERLEAVE));
	LLVMErrorRef err = LLVMRunPasses(m, "globaldce,default<O3>", tm, po);
	LLVMDisposePassBuilderOptions(po);
	LLVMDisposeTargetMachine(tm);
	return err ? llvm_fail("default<O3>", err) : 0;
}

/* The bitcode, parsed afresh into ctx (each entry owns its module). */
static LLVMModuleRef parse_bitcode(LLVMContextRef ctx)
{
	LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRange(
	    jit_kernels_bc, (size_t)(jit_kernels_bc_end - jit_kernels_bc), "kernels.bc", 0);
	LLVMModuleRef m = NULL;
	if (LLVMParseBitcodeInContext2(ctx, buf, &m))
		m = NULL;
	LLVMDisposeMemoryBuffer(buf);
	if (!m)
		fprintf(stderr, "jit: the embedded bitcode does not parse\n");
	return m;
}

/* The object transform's copy of each object the JIT links (one per entry). */
static LLVMErrorRef keep_object(void *ctx, LLVMMemoryBufferRef *obj)
{
	JitEntry *e = ctx;
	size_t n = LLVMGetBufferSize(*obj);
	free(e->obj);
	e->obj = malloc(n);
	if (e->obj) {
		memcpy(e->obj, LLVMGetBufferStart(*obj), n);
		e->obj_size = n;
	}
	return NULL;
}

/* The process's memcpy and friends, and nothing else, for the JIT's objects. */
static int allow_symbol(void *ctx, LLVMOrcSymbolStringPoolEntryRef sym)
{
	(void)ctx;
	const char *s = LLVMOrcSymbolStringPoolEntryStr(sym);
	return !strcmp(s, "memcpy") || !strcmp(s, "memset") || !strcmp(s, "memmove") ||
	       !strcmp(s, "memcmp");
}

static int emit_object(LLVMModuleRef m, JitEntry *out)
{
	LLVMTargetMachineRef tm = make_tm(JIT_TARGET_KERNEL);
	LLVMMemoryBufferRef buf = NULL;
	char *msg = NULL;
	int r = 0;
	if (LLVMTargetMachineEmitToMemoryBuffer(tm, m, LLVMObjectFile, &msg, &buf)) {
		fprintf(stderr, "jit: object for the kernel target: %s\n", msg);
		LLVMDisposeMessage(msg);
		r = -1;
	} else {
		keep_object(out, &buf);
		LLVMDisposeMemoryBuffer(buf);
	}
	LLVMDisposeTargetMachine(tm);
	return r;
}

static int link_host(LLVMOrcThreadSafeContextRef tsc, LLVMModuleRef m, void *fallback,
		     JitEntry *out)
{
	LLVMOrcLLJITBuilderRef jb = LLVMOrcCreateLLJITBuilder();
	LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(
	    jb, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(make_tm(JIT_TARGET_HOST)));
	LLVMOrcLLJITRef j;
	LLVMErrorRef err = LLVMOrcCreateLLJIT(&j, jb);
	if (err) {
		LLVMDisposeModule(m);
		return llvm_fail("LLJIT", err);
	}
	out->jit = j;
	LLVMOrcObjectTransformLayerSetTransform(LLVMOrcLLJITGetObjTransformLayer(j), keep_object,
						out);
	LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(j);
	LLVMJITCSymbolMapPair fb = {
	    LLVMOrcLLJITMangleAndIntern(j, "tl_fallback"),
	    {(LLVMOrcExecutorAddress)(uintptr_t)fallback,
	     {LLVMJITSymbolGenericFlagsExported | LLVMJITSymbolGenericFlagsCallable, 0}}};
	LLVMOrcMaterializationUnitRef fb_unit = LLVMOrcAbsoluteSymbols(&fb, 1);
	err = LLVMOrcJITDylibDefine(jd, fb_unit);
	if (err) /* a failed define leaves the unit to us */
		LLVMOrcDisposeMaterializationUnit(fb_unit);
	LLVMOrcDefinitionGeneratorRef gen = NULL;
	if (!err)
		err = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
		    &gen, LLVMOrcLLJITGetGlobalPrefix(j), allow_symbol, NULL);
	if (err) {
		LLVMDisposeModule(m);
		return llvm_fail("symbols", err);
	}
	LLVMOrcJITDylibAddGenerator(jd, gen);
	err = LLVMOrcLLJITAddLLVMIRModule(j, jd, LLVMOrcCreateNewThreadSafeModule(m, tsc));
	LLVMOrcExecutorAddress addr = 0;
	if (!err)
		err = LLVMOrcLLJITLookup(j, &addr, "tl_entry");
	if (err)
		return llvm_fail("compile", err);
	out->fn = (void *)(uintptr_t)addr;
	return 0;
}

int jit_compile(const JitSpec *spec, void *fallback, JitEntry *out)
{
	*out = (JitEntry){0};
	double t0 = now_ms();
	LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
	LLVMContextRef ctx = LLVMOrcThreadSafeContextGetContext(tsc);
	LLVMModuleRef m = parse_bitcode(ctx);
	int r = m ? 0 : -1;
	if (!r && build_wrapper(m, spec) < 0)
		r = -1;
	if (!r) {
		prepare_module(m, spec->target);
		r = optimise(m, spec);
	}
	if (!r && spec->target == JIT_TARGET_KERNEL) {
		r = emit_object(m, out);
		LLVMDisposeModule(m);
	} else if (!r) {
		r = link_host(tsc, m, fallback, out); /* the JIT owns m from here */
	} else if (m) {
		LLVMDisposeModule(m);
	}
	LLVMOrcDisposeThreadSafeContext(tsc);
	out->compile_ms = now_ms() - t0;
	if (r < 0)
		jit_release(out);
	return r;
}

void jit_release(JitEntry *e)
{
	if (e->jit) {
		LLVMErrorRef err = LLVMOrcDisposeLLJIT(e->jit);
		if (err)
			llvm_fail("release", err);
	}
	free(e->obj);
	*e = (JitEntry){0};
}
