/* make_test_cache.c: writes the code cache files tests/kcache.sh boots the kernel with: one
 * object defining tl_entry for a registry slot, keyed for both targets (so the host program
 * and the kernel each load their entry from the same file), or made wrong on purpose.
 * Usage: make_test_cache KIND SLOT OBJECT OUT, KIND one of
 *   good       the object as it is
 *   other-cpu  keyed to need a CPUID bit no x86 CPU sets (leaf 1 EDX bit 10, reserved)
 *   other-shape  keyed to a vector length of OTHER_SHAPE_COLS, which no model's layers have
 *   bad-reloc  its first relocation moved past the end of the section it patches
 *   hog        first an entry whose bss fills the kernel's whole code area and whose first
 *              relocation cannot fit once placed (R_X86_64_32S, addend 2^40), then the
 *              object as it is: the second loads only if the first gave its memory back */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codecache/codecache.h"
#include "jit/cache_writer.h"
#include "kernel/param.h"

#define RESERVED_EDX_BIT (1u << 10) /* CPUID leaf 1 EDX bit 10: reserved, always 0 */
#define OTHER_SHAPE_COLS 3	    /* a dim or hidden_dim no model has */

static int fail(const char *msg, const char *what)
{
	fprintf(stderr, "error: make_test_cache: %s%s\n", msg, what);
	return 1;
}

static unsigned char *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	unsigned char *buf = NULL;
	long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
	if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) &&
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*size = (size_t)n;
	return buf;
}

/* The ELF header of obj, whose section headers must lie inside its size bytes; 0 or -1. */
static int read_ehdr(const unsigned char *obj, size_t size, Elf64_Ehdr *eh)
{
	if (size < sizeof *eh)
		return -1;
	memcpy(eh, obj, sizeof *eh);
	if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > size ||
	    (size - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum)
		return -1;
	return 0;
}

/* Moves the first RELA entry's offset past the end of the section it relocates; 0 or -1. */
static int break_relocation(unsigned char *obj, size_t size)
{
	Elf64_Ehdr eh;
	if (read_ehdr(obj, size, &eh) < 0)
		return -1;
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr rel, target;
		memcpy(&rel, obj + eh.e_shoff + i * sizeof rel, sizeof rel);
		if (rel.sh_type != SHT_RELA || rel.sh_size < sizeof(Elf64_Rela) ||
		    rel.sh_info >= eh.e_shnum || rel.sh_offset > size - sizeof(Elf64_Rela))
			continue;
		memcpy(&target, obj + eh.e_shoff + rel.sh_info * sizeof target, sizeof target);
		Elf64_Rela r;
		memcpy(&r, obj + rel.sh_offset, sizeof r);
		r.r_offset = target.sh_size + 4096;
		memcpy(obj + rel.sh_offset, &r, sizeof r);
		return 0;
	}
	return -1;
}

/* The hog: bss of the code area less one page (the code's), first relocation far. 0 or -1. */
static int make_hog(unsigned char *obj, size_t size)
{
	Elf64_Ehdr eh;
	if (read_ehdr(obj, size, &eh) < 0)
		return -1;
	int bss = 0, rela = 0;
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;
		unsigned char *at = obj + eh.e_shoff + i * sizeof sh;
		memcpy(&sh, at, sizeof sh);
		if (sh.sh_type == SHT_NOBITS && !bss) {
			sh.sh_size = ((uint64_t)CODE_AREA_KIB << 10) - 4096;
			memcpy(at, &sh, sizeof sh);
			bss = 1;
		} else if (sh.sh_type == SHT_RELA && !rela && sh.sh_size >= sizeof(Elf64_Rela) &&
			   sh.sh_offset <= size - sizeof(Elf64_Rela)) {
			Elf64_Rela r;
			memcpy(&r, obj + sh.sh_offset, sizeof r);
			r.r_info = ELF64_R_INFO(ELF64_R_SYM(r.r_info), R_X86_64_32S);
			r.r_addend = (int64_t)1 << 40;
			memcpy(obj + sh.sh_offset, &r, sizeof r);
			rela = 1;
		}
	}
	return bss && rela ? 0 : -1;
}

static void key_for(CodeCacheKey *k, const char *slot, uint32_t target, const char *kind)
{
	memset(k, 0, sizeof *k);
	snprintf(k->slot, sizeof k->slot, "%s", slot);
	if (!strcmp(kind, "other-shape")) {
		k->rows = 1;
		k->cols = OTHER_SHAPE_COLS;
	}
	k->target = target;
	CodeCacheMachine m;
	codecache_machine_this(&m, target);
	if (target == CODECACHE_TARGET_HOST) {
		memcpy(k->vendor, m.vendor, sizeof k->vendor);
		k->family = m.family;
		k->model = m.model;
	}
	if (!strcmp(kind, "other-cpu"))
		k->features[1] = RESERVED_EDX_BIT;
	/* keyed as this build's JIT output (though cc compiled it), so that it loads */
	k->bitcode_hash = m.bitcode_hash;
	k->build_id = codecache_build_id();
	memcpy(k->compiler, m.compiler, sizeof k->compiler);
}

int main(int argc, char **argv)
{
	if (argc != 5)
		return fail(
		    "usage: make_test_cache good|other-cpu|other-shape|bad-reloc|hog SLOT OBJECT "
		    "OUT",
		    "");
	const char *kind = argv[1];
	if (strcmp(kind, "good") && strcmp(kind, "other-cpu") && strcmp(kind, "other-shape") &&
	    strcmp(kind, "bad-reloc") && strcmp(kind, "hog"))
		return fail("unknown kind ", kind);
	if (strlen(argv[2]) >= CODECACHE_SLOT_LEN)
		return fail("slot name too long: ", argv[2]);
	size_t size;
	unsigned char *obj = read_file(argv[3], &size);
	if (!obj)
		return fail("cannot read ", argv[3]);
	if (!strcmp(kind, "bad-reloc") && break_relocation(obj, size) < 0)
		return fail("no relocation to break in ", argv[3]);
	unsigned char *hog = NULL;
	if (!strcmp(kind, "hog") &&
	    (!(hog = malloc(size)) || (memcpy(hog, obj, size), make_hog(hog, size) < 0)))
		return fail("no bss and relocation to make a hog of in ", argv[3]);
	CodeCacheEntryIn in[4];
	int n = 0;
	for (int pass = hog ? 0 : 1; pass < 2; pass++)
		for (int t = 0; t < 2; t++, n++) {
			key_for(&in[n].key, argv[2],
				t ? CODECACHE_TARGET_HOST : CODECACHE_TARGET_KERNEL, kind);
			in[n].object = pass ? obj : hog;
			in[n].object_size = size;
		}
	char err[256];
	if (code_cache_write(argv[4], in, n, err, sizeof err) < 0)
		return fail("", err);
	free(hog);
	free(obj);
	return 0;
}
