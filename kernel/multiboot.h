/* multiboot.h: the Multiboot 1 boot information the loader (QEMU -kernel) hands over. */
#ifndef KERNEL_MULTIBOOT_H
#define KERNEL_MULTIBOOT_H

#define MB_HEADER_MAGIC 0x1BADB002 /* in the image's header */
#define MB_BOOT_MAGIC 0x2BADB002   /* in eax at entry */

/* mb_info.flags bits: which fields are valid. */
#define MB_INFO_MEM (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_MMAP (1u << 6)

#define MB_MMAP_AVAILABLE 1 /* mb_mmap_entry.type of usable RAM */

#ifndef __ASSEMBLER__
#include <stdint.h>

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper; /* KiB below 1 MiB / above 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline; /* physical address of a NUL-terminated string */
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
};

struct mb_module {
	uint32_t mod_start, mod_end; /* [start, end) physical */
	uint32_t string;	     /* the module's command line */
	uint32_t reserved;
};

/* size counts the bytes after itself; entries are walked by size + 4. */
struct __attribute__((packed)) mb_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
};
#endif

#endif
