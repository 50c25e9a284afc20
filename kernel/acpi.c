/* acpi.c: finds the CPUs (their local APIC IDs) from the firmware's tables: the ACPI MADT, else
 * the MultiProcessor table (Intel MP spec 1.4). Read before vm.c unmaps page 0 (the BIOS data
 * area names the EBDA); all tables sit below 4 GiB, which entry.S maps. */
#include "kernel/kernel.h"
#include "kernel/x86.h"

#define BDA_EBDA_SEGMENT 0x40e /* BIOS data area: the EBDA's real-mode segment */
#define BIOS_ROM_BASE 0xe0000
#define BIOS_ROM_SIZE 0x20000
#define BASE_MEM_LAST_KIB 0x9fc00 /* the MP spec's "last KiB of base memory" */
#define LOW_4G (1ull << 32)

struct __attribute__((packed)) acpi_header {
	char sig[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem[6], oem_table[8];
	uint32_t oem_revision, creator, creator_revision;
};

static const uint8_t *acpi_ptr(uint64_t pa)
{
	return (const uint8_t *)(uintptr_t)pa;
}

static int acpi_sum_ok(const uint8_t *p, uint32_t n)
{
	uint8_t sum = 0;
	for (uint32_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum == 0;
}

static int acpi_sig(const uint8_t *p, const char *sig, int n)
{
	for (int i = 0; i < n; i++)
		if (p[i] != (uint8_t)sig[i])
			return 0;
	return 1;
}

static uint32_t acpi_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The first structure in [base, base + size) on a 16-byte boundary that starts with sig (n bytes)
 * and whose first sum_len bytes sum to 0. */
static const uint8_t *acpi_scan(uint64_t base, uint64_t size, const char *sig, int n,
				uint32_t sum_len)
{
	for (uint64_t a = base; a + sum_len <= base + size; a += 16)
		if (acpi_sig(acpi_ptr(a), sig, n) && acpi_sum_ok(acpi_ptr(a), sum_len))
			return acpi_ptr(a);
	return 0;
}

static uint64_t acpi_ebda(void)
{
	return (load_u64(BDA_EBDA_SEGMENT) & 0xffff)
	       << 4; /* an asm load: GCC flags a fixed address */
}

static int acpi_add(uint32_t *ids, int n, int max, uint32_t id)
{
	for (int i = 0; i < n; i++)
		if (ids[i] == id)
			return n;
	if (n == max) {
		kprintf("kernel: smp: more than %d CPUs: APIC ID %u and later are not used\n", max,
			id);
		return n;
	}
	ids[n] = id;
	return n + 1;
}

/* MADT entries: type 0 (local APIC) and 9 (local x2APIC), enabled ones only. */
static int acpi_madt(const struct acpi_header *h, uint32_t *ids, int max)
{
	const uint8_t *p = (const uint8_t *)h + sizeof *h + 8,
		      *end = (const uint8_t *)h + h->length;
	int n = 0;
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		if (p[0] == 0 && p[1] >= 8 && (acpi_u32(p + 4) & 1))
			n = acpi_add(ids, n, max, p[3]);
		else if (p[0] == 9 && p[1] >= 16 && (acpi_u32(p + 8) & 1))
			n = acpi_add(ids, n, max, acpi_u32(p + 4));
		p += p[1];
	}
	return n;
}

static const struct acpi_header *acpi_table(uint64_t pa, const char *sig)
{
	if (pa == 0 || pa + sizeof(struct acpi_header) > LOW_4G)
		return 0;
	const struct acpi_header *h = (const struct acpi_header *)acpi_ptr(pa);
	if (!acpi_sig((const uint8_t *)h->sig, sig, 4) || h->length < sizeof *h ||
	    pa + h->length > LOW_4G || !acpi_sum_ok((const uint8_t *)h, h->length))
		return 0;
	return h;
}

static int acpi_find(uint32_t *ids, int max)
{
	const uint8_t *rsdp = acpi_scan(acpi_ebda(), 1024, "RSD PTR ", 8, 20);
	if (!rsdp)
		rsdp = acpi_scan(BIOS_ROM_BASE, BIOS_ROM_SIZE, "RSD PTR ", 8, 20);
	if (!rsdp)
		return 0;
	/* Revision 2+: the XSDT (64-bit entries); else the RSDT (32-bit entries). */
	uint64_t xsdt =
	    rsdp[15] >= 2 ? (uint64_t)acpi_u32(rsdp + 24) | (uint64_t)acpi_u32(rsdp + 28) << 32 : 0;
	const struct acpi_header *root = acpi_table(xsdt, "XSDT");
	int wide = root != 0;
	if (!root)
		root = acpi_table(acpi_u32(rsdp + 16), "RSDT");
	if (!root)
		return 0;
	int step = wide ? 8 : 4;
	const uint8_t *e = (const uint8_t *)root + sizeof *root;
	for (uint32_t off = 0; off + (uint32_t)step <= root->length - sizeof *root;
	     off += (uint32_t)step) {
		uint64_t pa = acpi_u32(e + off);
		if (wide)
			pa |= (uint64_t)acpi_u32(e + off + 4) << 32;
		const struct acpi_header *madt = acpi_table(pa, "APIC");
		if (madt)
			return acpi_madt(madt, ids, max);
	}
	return 0;
}

/* The MP floating pointer, then its configuration table's processor entries (type 0). */
static int acpi_mp_find(uint32_t *ids, int max)
{
	const uint8_t *fp = acpi_scan(acpi_ebda(), 1024, "_MP_", 4, 16);
	if (!fp)
		fp = acpi_scan(BASE_MEM_LAST_KIB, 1024, "_MP_", 4, 16);
	if (!fp)
		fp = acpi_scan(BIOS_ROM_BASE + 0x10000, 0x10000, "_MP_", 4, 16);
	if (!fp || acpi_u32(fp + 4) == 0) /* 0: a default configuration, which names no IDs */
		return 0;
	const uint8_t *cfg = acpi_ptr(acpi_u32(fp + 4));
	uint32_t len = (uint32_t)cfg[4] | (uint32_t)cfg[5] << 8;
	if (!acpi_sig(cfg, "PCMP", 4) || len < 44 || !acpi_sum_ok(cfg, len))
		return 0;
	int count = cfg[34] | cfg[35] << 8, n = 0;
	const uint8_t *p = cfg + 44, *end = cfg + len;
	for (int i = 0; i < count && p < end; i++) {
		if (p[0] == 0) {
			if (p[3] & 1) /* enabled */
				n = acpi_add(ids, n, max, p[1]);
			p += 20;
		} else {
			p += 8;
		}
	}
	return n;
}

int acpi_find_cpus(uint32_t *ids, int max, const char **source)
{
	int n = acpi_find(ids, max);
	*source = "ACPI MADT";
	if (n == 0) {
		n = acpi_mp_find(ids, max);
		*source = "MP table";
	}
	if (n == 0)
		*source = "none";
	return n;
}
