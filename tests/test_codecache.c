/* test_codecache.c: core/codecache and jit/cache_writer: a cache written and loaded back
 * (objects compiled at build time, no-PIC and PIC) replaces its slot with the reference's
 * bits; a flipped byte, a truncation, another CPU, build or shape, an unhandled relocation
 * and an undefined symbol are each refused, the slot left as it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base/error.h"
#include "core/base/str.h"
#include "core/codecache/codecache.h"
#include "core/formats/synth.h"
#include "core/kernels/dot.h"
#include "core/model/shapes.h"
#include "jit/cache_writer.h"
#include "shim/platform.h"
#include "tests.h"

/* The objects (tests/codecache_objs.S embeds them). */
extern const uint8_t cc_obj_nopic[], cc_obj_nopic_end[];
extern const uint8_t cc_obj_pic[], cc_obj_pic_end[];
extern const uint8_t cc_obj_undef[], cc_obj_undef_end[];

typedef float (*DotF32)(const float *w, const float *x, int n);

static int slot_of(const char *name)
{
	for (int i = 0; i < kernels_slot_count(); i++)
		if (str_eq(kernels_slot_name(i), name))
			return i;
	return -1;
}

/* A key for this machine and build: the slot, and every feature bit this CPU has. */
static CodeCacheKey key_here(const char *slot, const char *dtype)
{
	CodeCacheMachine m;
	codecache_machine_this(&m, (uint32_t)platform_code_target());
	CodeCacheKey k;
	memset(&k, 0, sizeof k);
	snprintf(k.slot, sizeof k.slot, "%s", slot);
	snprintf(k.dtype, sizeof k.dtype, "%s", dtype);
	k.target = m.target;
	memcpy(k.vendor, m.vendor, sizeof k.vendor);
	k.family = m.family;
	k.model = m.model;
	memcpy(k.features, m.features, sizeof k.features);
	k.xcr0 = m.xcr0;
	k.build_id = m.build_id;
	memcpy(k.compiler, m.compiler, sizeof k.compiler);
	k.bitcode_hash = m.bitcode_hash;
	return k;
}

/* Writes entries with code_cache_write and reads the file back (malloc'd; *size). */
static uint8_t *write_and_read(const CodeCacheEntryIn *in, int count, size_t *size)
{
	char path[] = "/tmp/tl_codecache_XXXXXX";
	int fd = mkstemp(path);
	ck_assert(fd >= 0);
	close(fd);
	char err[256];
	ck_assert_msg(code_cache_write(path, in, count, err, sizeof err) == 0, "write: %s", err);
	FILE *f = fopen(path, "rb");
	ck_assert(f);
	fseek(f, 0, SEEK_END);
	*size = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc(*size);
	ck_assert(buf && fread(buf, 1, *size, f) == *size);
	fclose(f);
	unlink(path);
	return buf;
}

static CodeCacheEntryIn entry_in(CodeCacheKey k, const uint8_t *obj, const uint8_t *end)
{
	CodeCacheEntryIn e = {k, obj, (size_t)(end - obj)};
	return e;
}

/* Applies the image and returns how many entries loaded; the dot_f32 slot is restored by
 * the caller's kernels_select. */
static int apply(const uint8_t *img, size_t size)
{
	CodeCacheMachine m;
	codecache_machine_this(&m, (uint32_t)platform_code_target());
	return codecache_apply("test cache", img, size, &m, NULL, NULL);
}

static void check_round_trip(const uint8_t *obj, const uint8_t *end)
{
	kernels_select(isa_best());
	KernelFn before = kernels_slot_get(slot_of("dot_f32"));
	DotF32 tier1 = kernels.dot_f32;
	CodeCacheEntryIn in = entry_in(key_here("dot_f32", "F32"), obj, end);
	size_t size;
	uint8_t *img = write_and_read(&in, 1, &size);
	ck_assert_int_eq(apply(img, size), 1);
	ck_assert_msg(kernels_slot_get(slot_of("dot_f32")) != before, "the slot was replaced");
	float w[100], x[100];
	for (int i = 0; i < 100; i++) {
		w[i] = (float)((i * 37) % 19) / 7.0f - 1.3f;
		x[i] = (float)((i * 11) % 23) / 3.0f - 3.1f;
	}
	for (int n = 1; n <= 100; n++) {
		float a = kernels.dot_f32(w, x, n), b = tier1(w, x, n);
		ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "n=%d: %a, tier 1 gives %a", n, a, b);
	}
	/* the probe: one specialised call (n == 64) was served, and the tables are in place */
	ck_assert_msg(kernels.dot_f32(NULL, NULL, -4) == 1.0f, "calls: %g",
		      kernels.dot_f32(NULL, NULL, -4));
	ck_assert(kernels.dot_f32(NULL, NULL, -1) == 1001.0f);
	free(img);
	kernels_select(isa_best());
}

START_TEST(test_round_trip_nopic)
{
	check_round_trip(cc_obj_nopic, cc_obj_nopic_end);
}
END_TEST

START_TEST(test_round_trip_pic)
{
	check_round_trip(cc_obj_pic, cc_obj_pic_end);
}
END_TEST

/* The image is refused whole or entry by entry: nothing loads, the slot keeps tier 1. */
static void expect_refused(const uint8_t *img, size_t size)
{
	kernels_select(isa_best());
	KernelFn before = kernels_slot_get(slot_of("dot_f32"));
	ck_assert_int_eq(apply(img, size), 0);
	ck_assert(kernels_slot_get(slot_of("dot_f32")) == before);
}

START_TEST(test_flipped_byte_and_truncation)
{
	CodeCacheEntryIn in = entry_in(key_here("dot_f32", "F32"), cc_obj_pic, cc_obj_pic_end);
	size_t size;
	uint8_t *img = write_and_read(&in, 1, &size);
	CodeCacheImage ci;
	for (size_t at = 0; at < size; at += 97) {
		img[at] ^= 0x10;
		ck_assert_msg(codecache_open(&ci, img, size) < 0, "flipped byte %zu accepted", at);
		if (at == 97 * 10) /* in the object: one refusal line */
			expect_refused(img, size);
		img[at] ^= 0x10;
	}
	ck_assert(strstr(error_message(), "checksum") || strstr(error_message(), "magic") ||
		  strstr(error_message(), "version") || strstr(error_message(), "bytes"));
	for (size_t cut = 0; cut < size; cut += size / 7 + 1)
		ck_assert(codecache_open(&ci, img, cut) < 0);
	expect_refused(img, size - 1);
	ck_assert_int_eq(codecache_open(&ci, img, size), 0);
	free(img);
}
END_TEST

START_TEST(test_other_cpu_build_features)
{
	CodeCacheMachine m;
	codecache_machine_this(&m, (uint32_t)platform_code_target());
	char why[256];
	CodeCacheKey k = key_here("dot_f32", "F32");
	ck_assert(codecache_key_matches(&k, &m, why, sizeof why));

	CodeCacheKey cpu = k;
	cpu.model ^= 1;
	ck_assert(!codecache_key_matches(&cpu, &m, why, sizeof why));
	ck_assert_msg(strstr(why, "another CPU"), "%s", why);

	CodeCacheKey build = k;
	build.build_id ^= 1;
	ck_assert(!codecache_key_matches(&build, &m, why, sizeof why));
	ck_assert_msg(strstr(why, "another build"), "%s", why);

	CodeCacheKey target = k;
	target.target ^= 1;
	ck_assert(!codecache_key_matches(&target, &m, why, sizeof why));

	/* another compiler or bitcode: compared when this build has the JIT (made bitcode) */
	CodeCacheKey compiler = k, bitcode = k;
	compiler.compiler[0] ^= 1;
	bitcode.bitcode_hash ^= 1;
#ifdef TL_HAVE_JIT
	ck_assert(m.bitcode_hash != 0 && m.compiler[0]);
	ck_assert(!codecache_key_matches(&compiler, &m, why, sizeof why));
	ck_assert_msg(strstr(why, "compiled by another compiler"), "%s", why);
	ck_assert(!codecache_key_matches(&bitcode, &m, why, sizeof why));
	ck_assert_msg(strstr(why, "compiled from other bitcode"), "%s", why);
#else
	ck_assert(m.bitcode_hash == 0);
	ck_assert(codecache_key_matches(&compiler, &m, why, sizeof why));
	ck_assert(codecache_key_matches(&bitcode, &m, why, sizeof why));
#endif

	CodeCacheKey feat = k;
	uint32_t lacking = ~m.features[2];
	feat.features[2] |= lacking & (0u - lacking); /* the lowest leaf 7 EBX bit it lacks */
	if (lacking) {
		ck_assert(!codecache_key_matches(&feat, &m, why, sizeof why));
		ck_assert_msg(strstr(why, "leaf 7 EBX"), "%s", why);
	}
	/* the same through a file: each entry refused on its own */
	CodeCacheEntryIn in[4] = {entry_in(cpu, cc_obj_pic, cc_obj_pic_end),
				  entry_in(build, cc_obj_pic, cc_obj_pic_end),
				  entry_in(target, cc_obj_pic, cc_obj_pic_end),
				  entry_in(bitcode, cc_obj_pic, cc_obj_pic_end)};
	size_t size;
	uint8_t *img = write_and_read(in, m.bitcode_hash ? 4 : 3, &size);
	expect_refused(img, size);
	free(img);
}
END_TEST

static bool small_runs(const void *model, const CodeCacheKey *k)
{
	return model_runs_shape(model, k->slot, k->dtype, (int)k->rows, (int)k->cols);
}

START_TEST(test_other_shapes)
{
	static Model m;
	ck_assert(synth_build(&m, "small", 1) == 0);
	ck_assert(model_state_init(&m, m.config.seq_len) == 0);
	const Tensor *wq = &m.weights.wq[0], *wk = &m.weights.wk[0], *wv = &m.weights.wv[0];
	const char *q8 = dtype_name(wq->type);
	ck_assert(model_runs_shape(&m, "dot_q8_0", q8, wq->rows, wq->cols));
	ck_assert(
	    model_runs_shape(&m, "dot_q8_0_tile", q8, wq->rows + wk->rows + wv->rows, wq->cols));
	ck_assert(!model_runs_shape(&m, "dot_q8_0", q8, wq->rows + 1, wq->cols));
	ck_assert(!model_runs_shape(&m, "dot_q8_0", "F16", wq->rows, wq->cols));
	ck_assert(model_runs_shape(&m, "rms_norm", "F32", 1, m.config.dim));
	ck_assert(!model_runs_shape(&m, "rms_norm", "F32", 1, m.config.dim + 3));

	kernels_select(isa_best());
	CodeCacheKey k = key_here("dot_f32", "F32");
	k.rows = 123;
	k.cols = 77;
	CodeCacheEntryIn in = entry_in(k, cc_obj_pic, cc_obj_pic_end);
	size_t size;
	uint8_t *img = write_and_read(&in, 1, &size);
	CodeCacheMachine here;
	codecache_machine_this(&here, (uint32_t)platform_code_target());
	KernelFn before = kernels_slot_get(slot_of("dot_f32"));
	ck_assert_int_eq(codecache_apply("shapes", img, size, &here, small_runs, &m), 0);
	ck_assert(kernels_slot_get(slot_of("dot_f32")) == before);
	free(img);
}
END_TEST

/* The first RELA entry of .rela.text in a copy of obj gets relocation type t. */
static uint8_t *with_reloc_type(const uint8_t *obj, size_t size, uint32_t t)
{
	uint8_t *o = malloc(size);
	memcpy(o, obj, size);
	uint64_t shoff = load_u64(o + 40);
	uint16_t shnum = load_u16(o + 60);
	for (uint16_t i = 0; i < shnum; i++) {
		const uint8_t *sh = o + shoff + 64u * i;
		if (load_u32(sh + 4) == 4 /* SHT_RELA */) {
			uint8_t *rel = o + load_u64(sh + 24);
			memcpy(rel + 8, &t, 4);
			return o;
		}
	}
	ck_abort_msg("no RELA section");
	return NULL;
}

START_TEST(test_unknown_relocation_and_undefined_symbol)
{
	KernelFn fn;
	size_t bytes, n = (size_t)(cc_obj_nopic_end - cc_obj_nopic);
	uint8_t *o = with_reloc_type(cc_obj_nopic, n, 25 /* R_X86_64_GOTOFF64 */);
	ck_assert_int_eq(codecache_load_object(o, n, (KernelFn)fdot_f32_ref,
					       CODECACHE_MAX_LOAD_BYTES, &fn, &bytes),
			 -1);
	ck_assert_msg(strstr(error_message(), "R_X86_64_GOTOFF64"), "%s", error_message());
	free(o);
	n = (size_t)(cc_obj_undef_end - cc_obj_undef);
	ck_assert_int_eq(codecache_load_object(cc_obj_undef, n, (KernelFn)fdot_f32_ref,
					       CODECACHE_MAX_LOAD_BYTES, &fn, &bytes),
			 -1);
	ck_assert_msg(strstr(error_message(), "tl_helper_elsewhere"), "%s", error_message());
	/* tl_fallback for a slot that has no entry is refused too */
	n = (size_t)(cc_obj_pic_end - cc_obj_pic);
	ck_assert_int_eq(
	    codecache_load_object(cc_obj_pic, n, NULL, CODECACHE_MAX_LOAD_BYTES, &fn, &bytes), -1);
	ck_assert_msg(strstr(error_message(), "tl_fallback"), "%s", error_message());
	/* and a whole file whose entry has the undefined symbol */
	CodeCacheEntryIn in = entry_in(key_here("dot_f32", "F32"), cc_obj_undef, cc_obj_undef_end);
	size_t size;
	uint8_t *img = write_and_read(&in, 1, &size);
	expect_refused(img, size);
	free(img);
}
END_TEST

/* Section i's header, symbol i, and RELA entry k of section i in an object copy o. */
static uint8_t *section(uint8_t *o, uint32_t i)
{
	return o + load_u64(o + 40) + 64u * i;
}
static uint32_t section_of_type(uint8_t *o, uint32_t type)
{
	for (uint32_t i = 0; i < load_u16(o + 60); i++)
		if (load_u32(section(o, i) + 4) == type)
			return i;
	ck_abort_msg("no section of type %u", type);
	return 0;
}
static uint8_t *symbol(uint8_t *o, uint32_t i)
{
	return o + load_u64(section(o, section_of_type(o, 2 /* SHT_SYMTAB */)) + 24) + 24u * i;
}
/* The first RELA entry of .rela.text of type t. */
static uint8_t *rela_of_type(uint8_t *o, uint32_t t)
{
	uint8_t *sh = section(o, section_of_type(o, 4 /* SHT_RELA */));
	uint8_t *rel = o + load_u64(sh + 24);
	for (uint64_t k = 0; k < load_u64(sh + 32) / 24; k++, rel += 24)
		if (load_u32(rel + 8) == t)
			return rel;
	ck_abort_msg("no relocation of type %u", t);
	return NULL;
}

/* A copy of the no-PIC object whose .bss claims bss_bytes (no bytes in the file). */
static uint8_t *with_big_bss(size_t *n, uint64_t bss_bytes)
{
	*n = (size_t)(cc_obj_nopic_end - cc_obj_nopic);
	uint8_t *o = malloc(*n);
	memcpy(o, cc_obj_nopic, *n);
	uint8_t *bss = section(o, section_of_type(o, 8 /* SHT_NOBITS */));
	memcpy(bss + 32, &bss_bytes, 8);
	return o;
}

/* This process's mapped memory (/proc/self/statm: pages) in bytes. */
static uint64_t mapped_bytes(void)
{
	unsigned long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	ck_assert(f && fscanf(f, "%lu", &pages) == 1);
	fclose(f);
	return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* An object refused after placement (an absolute reference to its own code that cannot fit)
 * gives its memory back: a hostile cache of many such entries, each claiming 60 MB of bss,
 * maps nothing in the end. */
START_TEST(test_refused_after_placement_gives_memory_back)
{
	size_t n;
	uint8_t *o = with_big_bss(&n, 60u << 20);
	uint8_t *rel = rela_of_type(o, 11 /* R_X86_64_32S */);
	int64_t far = (int64_t)1 << 40;
	memcpy(rel + 16, &far, 8);
	uint64_t before = mapped_bytes();
	for (int i = 0; i < 8; i++) {
		KernelFn fn;
		size_t bytes;
		ck_assert_int_eq(codecache_load_object(o, n, (KernelFn)fdot_f32_ref,
						       CODECACHE_MAX_LOAD_BYTES, &fn, &bytes),
				 -1);
		ck_assert_msg(strstr(error_message(), "out of range"), "%s", error_message());
	}
	/* the size may also shrink (valgrind's own mappings move): no growth is no growth */
	uint64_t after = mapped_bytes(), grown = after > before ? after - before : 0;
	ck_assert_msg(grown < (16u << 20), "8 refused objects left %llu bytes mapped",
		      (unsigned long long)grown);
	free(o);
}
END_TEST

/* A PC-relative reference to an absolute symbol is refused before any memory is taken. */
START_TEST(test_pc32_to_absolute_symbol_refused)
{
	size_t n = (size_t)(cc_obj_nopic_end - cc_obj_nopic);
	uint8_t *o = malloc(n);
	memcpy(o, cc_obj_nopic, n);
	uint8_t *rel = rela_of_type(o, 2 /* R_X86_64_PC32 */);
	uint16_t abs = 0xfff1; /* SHN_ABS */
	memcpy(symbol(o, (uint32_t)(load_u64(rel + 8) >> 32)) + 6, &abs, 2);
	KernelFn fn;
	size_t bytes;
	ck_assert_int_eq(codecache_load_object(o, n, (KernelFn)fdot_f32_ref,
					       CODECACHE_MAX_LOAD_BYTES, &fn, &bytes),
			 -1);
	ck_assert_msg(strstr(error_message(), "R_X86_64_PC32 to the absolute symbol"), "%s",
		      error_message());
	free(o);
}
END_TEST

/* The entries of one file take at most CODECACHE_MAX_LOAD_BYTES together: of three valid
 * entries claiming 30 MB of bss each, the third is refused. */
START_TEST(test_file_memory_budget)
{
	size_t n;
	uint8_t *o = with_big_bss(&n, 30u << 20);
	CodeCacheEntryIn in[3];
	for (int i = 0; i < 3; i++)
		in[i] = entry_in(key_here("dot_f32", "F32"), o, o + n);
	size_t size;
	uint8_t *img = write_and_read(in, 3, &size);
	kernels_select(isa_best());
	ck_assert_int_eq(apply(img, size), 2);
	kernels_select(isa_best());
	free(img);
	free(o);
}
END_TEST

START_TEST(test_writer_refuses_and_leaves_nothing)
{
	char err[256];
	CodeCacheEntryIn in = entry_in(key_here("dot_f32", "F32"), cc_obj_pic, cc_obj_pic_end);
	ck_assert_int_eq(code_cache_write("/nonexistent-dir/cache.tlcc", &in, 1, err, sizeof err),
			 -1);
	ck_assert_msg(strstr(err, "/nonexistent-dir/cache.tlcc"), "%s", err);
	in.object_size = 0;
	ck_assert_int_eq(code_cache_write("/tmp/unused.tlcc", &in, 1, err, sizeof err), -1);
	ck_assert(access("/tmp/unused.tlcc", F_OK) != 0);
}
END_TEST

Suite *codecache_suite(void)
{
	Suite *s = suite_create("codecache");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_round_trip_nopic);
	tcase_add_test(tc, test_round_trip_pic);
	tcase_add_test(tc, test_flipped_byte_and_truncation);
	tcase_add_test(tc, test_other_cpu_build_features);
	tcase_add_test(tc, test_other_shapes);
	tcase_add_test(tc, test_unknown_relocation_and_undefined_symbol);
	tcase_add_test(tc, test_writer_refuses_and_leaves_nothing);
	tcase_add_test(tc, test_refused_after_placement_gives_memory_back);
	tcase_add_test(tc, test_pc32_to_absolute_symbol_refused);
	tcase_add_test(tc, test_file_memory_budget);
	suite_add_tcase(s, tc);
	return s;
}
