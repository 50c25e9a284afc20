/* features.h: the one table of what a run used beyond the kernel records (model formats,
 * weight types, ISA, tokenizer, chat, export, --quant, sampling kinds), recorded where each is
 * used; the profile lists it, and `make image` keeps only what a profile saw.
 *
 * A full build keeps every feature. A shrunk image is built with -DIMAGE_SHRINK and
 * -DIMAGE_KEEP_<NAME>=0|1 for every row (tools/image_flags.sh writes them from the profile);
 * FEATURE_NEED(NAME) then folds to a constant refusal for a dropped feature, so the code behind
 * it is unreachable and the linker drops it. */
#ifndef FEATURES_H
#define FEATURES_H

/* X(NAME, "json name", "what a run needing it uses"): the JSON name is NAME in lower case. */
#define FEATURE_TABLE(X)                                                                           \
	X(GGUF, "gguf", "a GGUF model or vocabulary")                                              \
	X(LLAMA2C, "llama2c", "a llama2.c checkpoint")                                             \
	X(SYNTHETIC, "synthetic", "the synthetic model")                                           \
	X(QUANTIZE, "quantize", "--quant")                                                         \
	X(DTYPE_F32, "dtype_f32", "F32 weights")                                                   \
	X(DTYPE_F16, "dtype_f16", "F16 weights")                                                   \
	X(DTYPE_Q8_0, "dtype_q8_0", "Q8_0 weights")                                                \
	X(DTYPE_INT8, "dtype_int8", "int8 weights")                                                \
	X(DTYPE_KQUANT, "dtype_kquant", "Q4_0..Q5_1 or K-quant weights")                           \
	X(ISA_SCALAR, "isa_scalar", "the scalar kernels")                                          \
	X(ISA_AVX2, "isa_avx2", "the AVX2 kernels")                                                \
	X(ISA_AVXVNNI, "isa_avxvnni", "the AVX-VNNI kernels")                                      \
	X(ISA_AVX512, "isa_avx512", "the AVX-512 kernels")                                         \
	X(TOKENIZER, "tokenizer", "a vocabulary (text in or out)")                                 \
	X(CHAT, "chat", "--chat")                                                                  \
	X(EXPORT, "export", "--export-gguf")                                                       \
	X(CODE_CACHE, "code_cache", "--code-cache")                                                \
	X(SAMPLE, "sample", "sampling at a temperature above 0")                                   \
	X(TOP_K, "top_k", "--top-k")                                                               \
	X(TOP_P, "top_p", "--top-p")                                                               \
	X(MIN_P, "min_p", "--min-p")                                                               \
	X(REPEAT_PENALTY, "repeat_penalty", "--repeat-penalty")

typedef enum {
#define FEATURE_ENUM(name, json, what) FEAT_##name,
	FEATURE_TABLE(FEATURE_ENUM)
#undef FEATURE_ENUM
	    FEAT_COUNT
} Feature;

#ifdef IMAGE_SHRINK
#define FEATURE_KEPT(name) (IMAGE_KEEP_##name)
#else
#define FEATURE_KEPT(name) 1
#endif

/* Marks f used; 0. */
int feature_mark(Feature f);
/* Sets the error for a run that needs f in an image without it; -1. */
int feature_refuse_error(Feature f);
static inline int feature_refuse(Feature f)
{
	feature_refuse_error(f);
	return -1;
}
/* 0 after marking the feature used, or -1 (error set) in an image built without it; a
 * compile-time -1 there, so what follows a failed check is dropped from the image. */
#define FEATURE_NEED(name)                                                                         \
	(FEATURE_KEPT(name) ? feature_mark(FEAT_##name) : feature_refuse(FEAT_##name))

/* Whether f was used since start; its JSON name. */
int feature_used(Feature f);
const char *feature_name(Feature f);

#endif
