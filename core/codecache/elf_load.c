/* elf_load.c: loads one cache entry's ELF64 x86-64 relocatable object into executable memory:
 * every header, offset and index checked against the object's size before use, sections laid
 * out, symbols resolved (tl_fallback and four memory functions from outside), relocations
 * applied through a GOT and jump stubs built beside the code, the code sealed read+execute. */
#include "core/base/error.h"
#include "core/base/str.h"
#include "core/codecache/codecache.h"
#include "shim/platform.h"

/* The memory functions a compiled kernel may call: core's own on both targets. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

enum { EHDR = 64, SHDR = 64, SYM = 24, RELA = 24, PAGE = 4096 };
enum {
	SHT_PROGBITS = 1,
	SHT_SYMTAB = 2,
	SHT_STRTAB = 3,
	SHT_RELA = 4,
	SHT_NOBITS = 8,
	SHT_REL = 9
};
enum { SHF_ALLOC = 2, SHN_UNDEF = 0, SHN_ABS = 0xfff1, STT_FUNC = 2 };
/* Bounds that refuse absurd objects before any work: sections, and code+data bytes. */
enum { MAX_SECTIONS = 256 };
#define MAX_LOAD_BYTES CODECACHE_MAX_LOAD_BYTES

/* Relocation types handled (x86-64 psABI numbers). */
enum {
	R_64 = 1,
	R_PC32 = 2,
	R_PLT32 = 4,
	R_GOTPCREL = 9,
	R_32 = 10,
	R_32S = 11,
	R_GOTPCRELX = 41,
	R_REX_GOTPCRELX = 42
};

typedef struct {
	const uint8_t *obj;
	size_t size;
	uint16_t shnum;
	const uint8_t *sh;    /* the section header table */
	const uint8_t *names; /* section name string table */
	uint64_t names_size;
	uint32_t symtab;       /* section index of .symtab */
	const uint8_t *strtab; /* symbol names */
	uint64_t strtab_size;
	uint64_t nsym;
	uint64_t place[MAX_SECTIONS]; /* offset in the allocation; NOT_LOADED when not loaded */
	uint64_t code_bytes, data_at, total;
	uint64_t got_at, stubs_at;
} Elf;

#define NOT_LOADED UINT64_MAX

static const uint8_t *shdr(const Elf *e, uint32_t i)
{
	return e->sh + (size_t)i * SHDR;
}
static uint32_t sh_type(const Elf *e, uint32_t i)
{
	return load_u32(shdr(e, i) + 4);
}
static uint64_t sh_offset(const Elf *e, uint32_t i)
{
	return load_u64(shdr(e, i) + 24);
}
static uint64_t sh_size(const Elf *e, uint32_t i)
{
	return load_u64(shdr(e, i) + 32);
}

/* A NUL-terminated name at off inside a string table of n bytes, or NULL. */
static const char *str_at(const uint8_t *tab, uint64_t n, uint64_t off)
{
	for (uint64_t i = off; i < n; i++)
		if (!tab[i])
			return (const char *)tab + off;
	return NULL;
}

static const char *sec_name(const Elf *e, uint32_t i)
{
	const char *s = str_at(e->names, e->names_size, load_u32(shdr(e, i)));
	return s ? s : "?";
}

static int check_headers(Elf *e)
{
	const uint8_t *o = e->obj;
	if (e->size < EHDR || mem_cmp(o,
				      "\x7f"
				      "ELF",
				      4))
		return error_set("the object is not ELF");
	if (o[4] != 2 || o[5] != 1 || o[6] != 1)
		return error_set("the object is not ELF64 little-endian version 1");
	if (load_u16(o + 16) != 1 || load_u16(o + 18) != 62)
		return error_set("the object is not an x86-64 relocatable (ET_REL) file");
	uint64_t shoff = load_u64(o + 40);
	e->shnum = load_u16(o + 60);
	uint16_t shstrndx = load_u16(o + 62);
	if (load_u16(o + 58) != SHDR || e->shnum == 0 || e->shnum > MAX_SECTIONS ||
	    shoff > e->size || (uint64_t)e->shnum * SHDR > e->size - shoff)
		return error_set("the section header table is malformed or outside the object");
	e->sh = o + shoff;
	for (uint32_t i = 0; i < e->shnum; i++) {
		uint64_t off = sh_offset(e, i), n = sh_size(e, i);
		if (sh_type(e, i) != SHT_NOBITS && (off > e->size || n > e->size - off))
			return error_set("section %u lies outside the object", i);
	}
	if (shstrndx >= e->shnum || sh_type(e, shstrndx) != SHT_STRTAB)
		return error_set("the section name table is missing");
	e->names = o + sh_offset(e, shstrndx);
	e->names_size = sh_size(e, shstrndx);
	return 0;
}

/* Which sections are loaded, where, and the sizes of the code part (text, rodata, GOT and
 * stubs; sealed) and the data part (data, bss; left writable) behind it. */
static int plan_sections(Elf *e)
{
	uint64_t at[2] = {0, 0}; /* bytes so far in the code and data parts */
	uint32_t part_of[MAX_SECTIONS] = {0};
	for (uint32_t i = 0; i < e->shnum; i++) {
		e->place[i] = NOT_LOADED;
		const char *name = sec_name(e, i);
		uint32_t type = sh_type(e, i);
		if (!(load_u64(shdr(e, i) + 8) & SHF_ALLOC) || str_starts(name, ".eh_frame") ||
		    str_starts(name, ".note"))
			continue; /* not needed to run the code */
		int part = str_starts(name, ".text") || str_starts(name, ".rodata") ? 0
			   : str_starts(name, ".data") || str_starts(name, ".bss")  ? 1
										    : -1;
		if (part < 0 || (type != SHT_PROGBITS && type != SHT_NOBITS))
			return error_set("section %s cannot be loaded here", name);
		uint64_t align = load_u64(shdr(e, i) + 48), n = sh_size(e, i);
		if (align == 0)
			align = 1;
		if ((align & (align - 1)) || align > PAGE)
			return error_set("section %s has alignment %llu", name,
					 (unsigned long long)align);
		if (n > MAX_LOAD_BYTES)
			return error_set("section %s is too large", name);
		at[part] = (at[part] + align - 1) & ~(align - 1);
		e->place[i] = at[part];
		part_of[i] = (uint32_t)part;
		at[part] += n;
		if (at[part] > MAX_LOAD_BYTES)
			return error_set("the object's sections are too large");
	}
	/* The GOT (one 8-byte slot per symbol) and the stubs (8 bytes each) follow the code. */
	e->got_at = (at[0] + 7) & ~(uint64_t)7;
	e->stubs_at = e->got_at + e->nsym * 8;
	e->code_bytes = e->stubs_at + e->nsym * 8;
	e->data_at = (e->code_bytes + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	e->total = at[1] ? e->data_at + at[1] : e->code_bytes;
	if (e->total > MAX_LOAD_BYTES)
		return error_set("the object's sections are too large");
	for (uint32_t i = 0; i < e->shnum; i++)
		if (e->place[i] != NOT_LOADED && part_of[i] == 1)
			e->place[i] += e->data_at;
	return 0;
}

static int check_symtab(Elf *e)
{
	e->symtab = 0;
	for (uint32_t i = 0; i < e->shnum; i++)
		if (sh_type(e, i) == SHT_SYMTAB) {
			if (e->symtab)
				return error_set("the object has two symbol tables");
			e->symtab = i;
		}
	if (!e->symtab)
		return error_set("the object has no symbol table");
	uint32_t s = e->symtab, link = load_u32(shdr(e, s) + 40);
	if (load_u64(shdr(e, s) + 56) != SYM || sh_size(e, s) % SYM)
		return error_set("the symbol table has a bad entry size");
	if (link >= e->shnum || sh_type(e, link) != SHT_STRTAB)
		return error_set("the symbol table has no string table");
	e->nsym = sh_size(e, s) / SYM;
	e->strtab = e->obj + sh_offset(e, link);
	e->strtab_size = sh_size(e, link);
	if (e->nsym > (MAX_LOAD_BYTES / 16))
		return error_set("the object has too many symbols");
	return 0;
}

static const uint8_t *sym(const Elf *e, uint64_t i)
{
	return e->obj + sh_offset(e, e->symtab) + i * SYM;
}

static const char *sym_name(const Elf *e, uint64_t i)
{
	return str_at(e->strtab, e->strtab_size, load_u32(sym(e, i)));
}

/* Symbol i as messages name it: a section symbol (no name of its own) by its section. */
static const char *sym_label(const Elf *e, uint64_t i)
{
	const char *name = sym_name(e, i);
	uint16_t shndx = load_u16(sym(e, i) + 6);
	if (name && name[0])
		return name;
	return shndx && shndx < e->shnum ? sec_name(e, shndx) : "symbol 0";
}

/* The address an outside symbol resolves to; 0 with an error for any other name. */
static uintptr_t outside(const char *name, KernelFn fallback)
{
	if (str_eq(name, "tl_fallback")) {
		if (!fallback)
			error_set("tl_fallback: the slot has no entry to fall back to");
		return (uintptr_t)fallback;
	}
	const struct {
		const char *name;
		uintptr_t addr;
	} known[] = {{"memcpy", (uintptr_t)memcpy},
		     {"memset", (uintptr_t)memset},
		     {"memmove", (uintptr_t)memmove},
		     {"memcmp", (uintptr_t)memcmp}};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (str_eq(name, known[i].name))
			return known[i].addr;
	error_set("undefined symbol %s (only tl_fallback, memcpy, memset, memmove, memcmp may be)",
		  name);
	return 0;
}

/* Where a symbol's address comes from: the allocation, outside it (through a stub), or the
 * symbol's value itself (SHN_ABS, which no placement moves). */
typedef enum { SYM_HERE, SYM_OUTSIDE, SYM_ABSOLUTE } SymKind;

/* Symbol i's address given the allocation at base (base 0: offsets in the allocation). */
static int resolve(const Elf *e, uint64_t i, uintptr_t base, KernelFn fallback, uintptr_t *addr,
		   SymKind *kind)
{
	const uint8_t *s = sym(e, i);
	const char *name = sym_name(e, i);
	uint16_t shndx = load_u16(s + 6);
	uint64_t value = load_u64(s + 8);
	*kind = SYM_HERE;
	if (!name)
		return error_set("symbol %llu has a name outside the string table",
				 (unsigned long long)i);
	if (i == 0) {
		*addr = 0;
		*kind = SYM_ABSOLUTE;
		return 0;
	}
	if (shndx == SHN_UNDEF && str_eq(name, "_GLOBAL_OFFSET_TABLE_")) {
		*addr = base + (uintptr_t)e->got_at; /* named by PIC objects: the loader's GOT */
		return 0;
	}
	if (shndx == SHN_UNDEF) {
		*kind = SYM_OUTSIDE;
		*addr = outside(name, fallback);
		return *addr ? 0 : -1;
	}
	if (shndx == SHN_ABS) {
		*kind = SYM_ABSOLUTE;
		*addr = (uintptr_t)value;
		return 0;
	}
	if (shndx >= e->shnum) /* SHN_COMMON and the other special indexes too */
		return error_set("symbol %s is in a special section (%u)", name, shndx);
	if (e->place[shndx] == NOT_LOADED)
		return error_set("symbol %s is in section %s, which is not loaded", name,
				 sec_name(e, shndx));
	if (value > sh_size(e, shndx))
		return error_set("symbol %s lies outside its section", name);
	*addr = base + (uintptr_t)e->place[shndx] + (uintptr_t)value;
	return 0;
}

static const char *reloc_name(uint32_t type)
{
	static const char *names[] = {
	    "R_X86_64_NONE",	 "R_X86_64_64",	      "R_X86_64_PC32",	   "R_X86_64_GOT32",
	    "R_X86_64_PLT32",	 "R_X86_64_COPY",     "R_X86_64_GLOB_DAT", "R_X86_64_JUMP_SLOT",
	    "R_X86_64_RELATIVE", "R_X86_64_GOTPCREL", "R_X86_64_32",	   "R_X86_64_32S",
	    "R_X86_64_16",	 "R_X86_64_PC16",     "R_X86_64_8",	   "R_X86_64_PC8",
	    "R_X86_64_DTPMOD64", "R_X86_64_DTPOFF64", "R_X86_64_TPOFF64",  "R_X86_64_TLSGD",
	    "R_X86_64_TLSLD",	 "R_X86_64_DTPOFF32", "R_X86_64_GOTTPOFF", "R_X86_64_TPOFF32",
	    "R_X86_64_PC64",	 "R_X86_64_GOTOFF64", "R_X86_64_GOTPC32"};
	return type < sizeof names / sizeof names[0] ? names[type] : "an unknown type";
}

/* Bytes a handled relocation writes; 0 for a type that is not handled. */
static unsigned reloc_width(uint32_t type)
{
	switch (type) {
	case R_64:
		return 8;
	case R_PC32:
	case R_PLT32:
	case R_GOTPCREL:
	case R_32:
	case R_32S:
	case R_GOTPCRELX:
	case R_REX_GOTPCRELX:
		return 4;
	default:
		return 0;
	}
}

/* a + addend in two's complement: a file's addend may be anything, and a signed overflow
 * would let the compiler drop the range checks that follow. */
static int64_t wrap_add(uint64_t a, int64_t addend)
{
	return (int64_t)(a + (uint64_t)addend);
}

/* The 32-bit field a handled 4-byte relocation writes, or an error when the value does not
 * fit. Placement moves the code, its GOT and stubs together, so a PC-relative value is the
 * same at any base; an absolute one is known before placement only for an absolute symbol. */
static int field32(const Elf *e, uint32_t type, uint64_t si, int64_t v, uint32_t *field)
{
	bool fits =
	    type == R_32 ? v >= 0 && v <= (int64_t)UINT32_MAX : v >= INT32_MIN && v <= INT32_MAX;
	if (!fits)
		return error_set(type == R_32
				     ? "%s to %s does not fit: the code lies above 4 GB"
				     : "%s to %s is out of range (the code is too far from it)",
				 reloc_name(type), sym_label(e, si));
	*field = (uint32_t)v;
	return 0;
}

/* Applies (base != 0) or checks (base == 0) the relocations of RELA section r: with base 0
 * every value that does not depend on where the code lands is range-checked already, so
 * that only an absolute reference to the loaded code itself can fail after placement. */
static int relocate(const Elf *e, uint32_t r, uint8_t *base, KernelFn fallback)
{
	const uint8_t *h = shdr(e, r);
	uint32_t target = load_u32(h + 44);
	if (load_u32(h + 40) != e->symtab || load_u64(h + 56) != RELA || sh_size(e, r) % RELA ||
	    target >= e->shnum)
		return error_set("relocation section %s is malformed", sec_name(e, r));
	if (e->place[target] == NOT_LOADED)
		return 0; /* relocates a section that is not loaded (.eh_frame) */
	if (sh_type(e, target) == SHT_NOBITS)
		return error_set("relocation section %s relocates a bss section", sec_name(e, r));
	const uint8_t *rel = e->obj + sh_offset(e, r);
	for (uint64_t k = 0; k < sh_size(e, r) / RELA; k++, rel += RELA) {
		uint64_t off = load_u64(rel), info = load_u64(rel + 8);
		int64_t addend = (int64_t)load_u64(rel + 16);
		uint32_t type = (uint32_t)info;
		uint64_t si = info >> 32;
		unsigned width = reloc_width(type);
		if (!width)
			return error_set("relocation type %u (%s) is not handled", type,
					 reloc_name(type));
		if (si >= e->nsym)
			return error_set("a relocation names symbol %llu of %llu",
					 (unsigned long long)si, (unsigned long long)e->nsym);
		if (off > sh_size(e, target) || width > sh_size(e, target) - off)
			return error_set("a relocation points outside section %s",
					 sec_name(e, target));
		uintptr_t s = 0;
		SymKind kind = SYM_HERE;
		if (resolve(e, si, (uintptr_t)base, fallback, &s, &kind) < 0)
			return -1;
		uintptr_t p = (uintptr_t)base + (uintptr_t)(e->place[target] + off);
		uintptr_t stub = (uintptr_t)base + (uintptr_t)(e->stubs_at + si * 8);
		uintptr_t got = (uintptr_t)base + (uintptr_t)(e->got_at + si * 8);
		/* Calls and references to outside code go through the stub, which is in reach. */
		uintptr_t to = kind == SYM_OUTSIDE ? stub : s;
		uint32_t field = 0;
		switch (type) {
		case R_64:
			if (base)
				mem_copy(base + e->place[target] + off,
					 &(uint64_t){(uint64_t)s + (uint64_t)addend}, 8);
			continue;
		case R_PC32:
		case R_PLT32:
			/* distance to a fixed address: unknown until placed, and meaningless */
			if (kind == SYM_ABSOLUTE)
				return error_set("%s to the absolute symbol %s", reloc_name(type),
						 sym_label(e, si));
			if (field32(e, type, si, wrap_add(to - p, addend), &field) < 0)
				return -1;
			break;
		case R_GOTPCREL:
		case R_GOTPCRELX:
		case R_REX_GOTPCRELX:
			if (field32(e, type, si, wrap_add(got - p, addend), &field) < 0)
				return -1;
			break;
		default: /* R_32, R_32S */
			if ((base || kind == SYM_ABSOLUTE) &&
			    field32(e, type, si, wrap_add(to, addend), &field) < 0)
				return -1;
		}
		if (base)
			mem_copy(base + e->place[target] + off, &field, 4);
	}
	return 0;
}

/* Every relocation section: checked (base NULL) or applied. */
static int relocate_all(const Elf *e, uint8_t *base, KernelFn fallback)
{
	for (uint32_t i = 0; i < e->shnum; i++) {
		uint32_t type = sh_type(e, i), target = load_u32(shdr(e, i) + 44);
		if (type == SHT_REL && target < e->shnum && e->place[target] != NOT_LOADED)
			return error_set("REL (not RELA) relocations are not handled");
		if (type == SHT_RELA && relocate(e, i, base, fallback) < 0)
			return -1;
	}
	return 0;
}

/* The symbol index of the global tl_entry, defined in a loaded text section. */
static int find_entry(const Elf *e, uint64_t *index)
{
	for (uint64_t i = 1; i < e->nsym; i++) {
		const char *name = sym_name(e, i);
		uint16_t shndx = load_u16(sym(e, i) + 6);
		if (!name || !str_eq(name, "tl_entry"))
			continue;
		if ((sym(e, i)[4] >> 4) != 1 || (sym(e, i)[4] & 0xf) != STT_FUNC ||
		    shndx == SHN_UNDEF || shndx >= e->shnum || e->place[shndx] == NOT_LOADED ||
		    sh_type(e, shndx) != SHT_PROGBITS || !str_starts(sec_name(e, shndx), ".text") ||
		    load_u64(sym(e, i) + 8) >= sh_size(e, shndx))
			return error_set("tl_entry is not a global function in .text");
		*index = i;
		return 0;
	}
	return error_set("the object defines no tl_entry");
}

int codecache_load_object(const uint8_t *obj, size_t size, KernelFn fallback, size_t max_bytes,
			  KernelFn *entry, size_t *bytes)
{
	Elf e = {.obj = obj, .size = size};
	uint64_t entry_sym = 0;
	if (check_headers(&e) < 0 || check_symtab(&e) < 0 || plan_sections(&e) < 0 ||
	    find_entry(&e, &entry_sym) < 0)
		return -1;
	if (e.total > max_bytes)
		return error_set("it needs %llu bytes of memory, over the %zu left to this cache",
				 (unsigned long long)e.total, max_bytes);
	/* Every symbol resolves and every relocation is known and, as far as it does not depend
	 * on where the code lands, in range before memory is taken. */
	for (uint64_t i = 0; i < e.nsym; i++) {
		uintptr_t a = 0;
		SymKind kind;
		if (resolve(&e, i, 0, fallback, &a, &kind) < 0)
			return -1;
	}
	if (relocate_all(&e, NULL, fallback) < 0)
		return -1;
	/* Zeroed memory (platform.h): bss is not touched, so its pages cost nothing until used. */
	uint8_t *base = platform_code_alloc((size_t)e.total);
	if (!base)
		return -1;
	for (uint32_t i = 0; i < e.shnum; i++)
		if (e.place[i] != NOT_LOADED && sh_type(&e, i) != SHT_NOBITS)
			mem_copy(base + e.place[i], obj + sh_offset(&e, i), (size_t)sh_size(&e, i));
	/* GOT slot i holds symbol i's address; stub i jumps through it (jmp *rel32(%rip)). */
	for (uint64_t i = 0; i < e.nsym; i++) {
		uintptr_t a = 0;
		SymKind kind;
		resolve(&e, i, (uintptr_t)base, fallback, &a, &kind);
		mem_copy(base + e.got_at + i * 8, &(uint64_t){a}, 8);
		uint8_t *stub = base + e.stubs_at + i * 8;
		int32_t rel =
		    (int32_t)((int64_t)(e.got_at + i * 8) - (int64_t)(e.stubs_at + i * 8 + 6));
		const uint8_t jmp[2] = {0xff, 0x25};
		mem_copy(stub, jmp, 2);
		mem_copy(stub + 2, &rel, 4);
		stub[6] = stub[7] = 0xcc;
	}
	if (relocate_all(&e, base, fallback) < 0 ||
	    platform_code_seal(base, (size_t)e.code_bytes) < 0) {
		platform_code_free(base, (size_t)e.total); /* refused: nothing of it stays */
		return -1;
	}
	uintptr_t a = 0;
	SymKind kind;
	resolve(&e, entry_sym, (uintptr_t)base, fallback, &a, &kind);
	*entry = (KernelFn)a;
	*bytes = (size_t)e.total;
	return 0;
}
