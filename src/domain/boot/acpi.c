/* ACPI tables for a PVH guest (RSDP, XSDT, FADT, DSDT, MADT), composed in
 * a host buffer and copied to GUEST_ACPI_GPA in one write.
 *
 * Layout, each table 16-byte aligned, for n vCPUs (offsets from
 * GUEST_ACPI_GPA = 0xF2000):
 *
 *   0x000  RSDP   36 bytes  -> XSDT
 *   0x030  XSDT   52 bytes  -> FADT, MADT
 *   0x070  FADT  268 bytes  -> DSDT (32- and 64-bit pointers)
 *   0x180  DSDT   50 bytes  header and \_S5 (soft-off sleep type 5)
 *   0x1C0  MADT   44 + 8n bytes (n = 128: 1068 bytes, ends at 0x5EC)
 *
 * Linux reaches the RSDP through hvm_start_info.rsdp_paddr; the FADT's
 * HW_REDUCED_ACPI flag tells it there is no SCI, PM timer, PIC or legacy
 * PM blocks to look for, and the MADT gives it the CPUs to bring up.
 *
 * Power-off and reset: a PVH Linux guest has no Xen hook for either; it
 * powers off through ACPI S5 (\_S5 in the DSDT, then SLP_TYP|SLP_EN written
 * to the FADT's sleep control register) and resets through the FADT's reset
 * register.  Both registers are I/O ports the domain process traps
 * (ACPI_*_PORT in acpi.h). */
#include "acpi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"

/* Common header of every table but the RSDP. */
struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_header) == 36, "ACPI table header");

/* Root System Description Pointer, revision 2 (ACPI 2.0 and later). */
struct acpi_rsdp {
	char signature[8];
	uint8_t checksum; /* over the first 20 bytes */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* over all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP revision 2");
#define ACPI_RSDP_V1_LEN 20

/* Generic Address Structure. */
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_gas) == 12, "ACPI GAS");

/* Fixed ACPI Description Table, revision 5 (ACPI 5.1: minor version 1). */
struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 268, "FADT revision 5");
_Static_assert(__builtin_offsetof(struct acpi_fadt, iapc_boot_arch) == 109,
	       "FADT IAPC_BOOT_ARCH offset");
_Static_assert(__builtin_offsetof(struct acpi_fadt, flags) == 112,
	       "FADT Flags offset");
_Static_assert(__builtin_offsetof(struct acpi_fadt, x_dsdt) == 140,
	       "FADT X_DSDT offset");

#define ACPI_FADT_REVISION 5
#define ACPI_FADT_MINOR_VERSION 1
/* FADT Flags bit 20: no fixed hardware, no SCI, no PM blocks. */
#define ACPI_FADT_HW_REDUCED_ACPI (1u << 20)
/* FADT Flags bit 10: RESET_REG is supported. */
#define ACPI_FADT_RESET_REG_SUP (1u << 10)
/* IAPC_BOOT_ARCH.  Linux reads these (arch/x86/kernel/acpi/boot.c):
 *   bit 0 LEGACY_DEVICES clear: no PnP BIOS probing;
 *   bit 1 8042 clear: no i8042 keyboard controller (FADT revision >= 2);
 *   bit 2 VGA Not Present set: no probing of VGA ports and memory;
 *   bit 3 MSI Not Supported clear: we have no PCI either way;
 *   bit 5 CMOS RTC Not Present set: no RTC at ports 0x70/0x71, the guest
 *         takes wall-clock time from the Xen shared info page. */
#define ACPI_FADT_BOOT_VGA_NOT_PRESENT (1u << 2)
#define ACPI_FADT_BOOT_CMOS_RTC_NOT_PRESENT (1u << 5)

/* Multiple APIC Description Table, fixed part. */
struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_address;
	uint32_t flags; /* bit 0 PCAT_COMPAT: dual 8259 present */
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT fixed part");

/* MADT entry type 0: Processor Local APIC. */
struct acpi_madt_lapic {
	uint8_t type;
	uint8_t length;
	uint8_t acpi_processor_uid;
	uint8_t apic_id;
	uint32_t flags; /* bit 0 Enabled */
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_lapic) == 8, "MADT local APIC");

#define ACPI_MADT_REVISION 3
#define ACPI_MADT_TYPE_LAPIC 0
#define ACPI_MADT_LAPIC_ENABLED 1u

#define ACPI_XSDT_REVISION 1
#define ACPI_XSDT_ENTRIES 2
#define ACPI_XSDT_LEN (sizeof(struct acpi_header) + 8 * ACPI_XSDT_ENTRIES)
#define ACPI_DSDT_REVISION 2 /* 64-bit AML integers */

/* The DSDT's only content: Name (_S5, Package (4) { 5, 5, 0, 0 }), the
 * sleep type values for soft-off.  AML: NameOp "_S5_" PackageOp
 * PkgLength(8) NumElements(4) BytePrefix 5, BytePrefix 5, Zero, Zero. */
static const uint8_t acpi_dsdt_aml[] = {
	0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
	0x0a, ACPI_S5_SLP_TYP, 0x0a, ACPI_S5_SLP_TYP, 0x00, 0x00,
};
#define ACPI_DSDT_LEN (sizeof(struct acpi_header) + sizeof(acpi_dsdt_aml))

#define ACPI_ALIGN(x) (((x) + 15) & ~(size_t)15)
#define ACPI_OFF_RSDP 0
#define ACPI_OFF_XSDT ACPI_ALIGN(ACPI_OFF_RSDP + sizeof(struct acpi_rsdp))
#define ACPI_OFF_FADT ACPI_ALIGN(ACPI_OFF_XSDT + ACPI_XSDT_LEN)
#define ACPI_OFF_DSDT ACPI_ALIGN(ACPI_OFF_FADT + sizeof(struct acpi_fadt))
#define ACPI_OFF_MADT ACPI_ALIGN(ACPI_OFF_DSDT + ACPI_DSDT_LEN)
#define ACPI_MADT_LEN(n)                                                       \
	(sizeof(struct acpi_madt) + (n) * sizeof(struct acpi_madt_lapic))

_Static_assert(ACPI_OFF_MADT + ACPI_MADT_LEN(ACPI_MAX_VCPUS) <= GUEST_ACPI_SIZE,
	       "ACPI tables for ACPI_MAX_VCPUS fit GUEST_ACPI_SIZE");
/* The local APIC structure holds an 8-bit APIC id. */
_Static_assert(ACPI_MAX_VCPUS <= 255, "xAPIC ids only");

static uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

static void acpi_header_init(struct acpi_header *h, const char sig[4],
			     uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	h->checksum = 0;
	memcpy(h->oem_id, "KXEN  ", 6);
	memcpy(h->oem_table_id, "KXEN    ", 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "KXEN", 4);
	h->creator_revision = 1;
}

/* Sets the checksum of a table whose header `h` starts it. */
static void acpi_header_sum(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = acpi_checksum(h, h->length);
}

static void acpi_build_rsdp(uint8_t *buf)
{
	struct acpi_rsdp *r = (struct acpi_rsdp *)(buf + ACPI_OFF_RSDP);

	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, "KXEN  ", 6);
	r->revision = 2;
	r->rsdt_address = 0;
	r->length = sizeof(*r);
	r->xsdt_address = GUEST_ACPI_GPA + ACPI_OFF_XSDT;
	r->checksum = acpi_checksum(r, ACPI_RSDP_V1_LEN);
	r->extended_checksum = acpi_checksum(r, sizeof(*r));
}

static void acpi_build_xsdt(uint8_t *buf)
{
	struct acpi_header *h = (struct acpi_header *)(buf + ACPI_OFF_XSDT);
	uint64_t entry[ACPI_XSDT_ENTRIES] = {
	    GUEST_ACPI_GPA + ACPI_OFF_FADT,
	    GUEST_ACPI_GPA + ACPI_OFF_MADT,
	};

	acpi_header_init(h, "XSDT", ACPI_XSDT_LEN, ACPI_XSDT_REVISION);
	/* Entries follow the header unaligned (offset 36). */
	memcpy(h + 1, entry, sizeof(entry));
	acpi_header_sum(h);
}

/* A byte-wide register in system I/O space. */
static void acpi_gas_port(struct acpi_gas *g, uint16_t port)
{
	g->space_id = 1; /* SystemIO */
	g->bit_width = 8;
	g->bit_offset = 0;
	g->access_size = 1; /* byte access */
	g->address = port;
}

static void acpi_build_fadt(uint8_t *buf)
{
	struct acpi_fadt *f = (struct acpi_fadt *)(buf + ACPI_OFF_FADT);

	/* Everything not set here stays zero: no FACS (optional with
	 * HW-reduced ACPI), no SCI, no SMI command port, no PM or GPE
	 * blocks.  The sleep and reset registers are byte-wide I/O ports. */
	acpi_header_init(&f->h, "FACP", sizeof(*f), ACPI_FADT_REVISION);
	f->dsdt = GUEST_ACPI_GPA + ACPI_OFF_DSDT;
	f->x_dsdt = GUEST_ACPI_GPA + ACPI_OFF_DSDT;
	f->iapc_boot_arch = ACPI_FADT_BOOT_VGA_NOT_PRESENT |
			    ACPI_FADT_BOOT_CMOS_RTC_NOT_PRESENT;
	f->flags = ACPI_FADT_HW_REDUCED_ACPI | ACPI_FADT_RESET_REG_SUP;
	acpi_gas_port(&f->reset_reg, ACPI_RESET_PORT);
	f->reset_value = ACPI_RESET_VALUE;
	acpi_gas_port(&f->sleep_control_reg, ACPI_SLEEP_CONTROL_PORT);
	acpi_gas_port(&f->sleep_status_reg, ACPI_SLEEP_STATUS_PORT);
	f->minor_version = ACPI_FADT_MINOR_VERSION;
	acpi_header_sum(&f->h);
}

static void acpi_build_dsdt(uint8_t *buf)
{
	struct acpi_header *h = (struct acpi_header *)(buf + ACPI_OFF_DSDT);

	acpi_header_init(h, "DSDT", ACPI_DSDT_LEN, ACPI_DSDT_REVISION);
	memcpy(h + 1, acpi_dsdt_aml, sizeof(acpi_dsdt_aml));
	acpi_header_sum(h);
}

static void acpi_build_madt(uint8_t *buf, unsigned nr_vcpus)
{
	struct acpi_madt *m = (struct acpi_madt *)(buf + ACPI_OFF_MADT);
	struct acpi_madt_lapic *l = (struct acpi_madt_lapic *)(m + 1);
	unsigned i;

	acpi_header_init(&m->h, "APIC", ACPI_MADT_LEN(nr_vcpus),
			 ACPI_MADT_REVISION);
	m->lapic_address = (uint32_t)GUEST_LAPIC_GPA;
	m->flags = 0; /* no PCAT_COMPAT: there is no 8259 pair */
	for (i = 0; i < nr_vcpus; i++) {
		l[i].type = ACPI_MADT_TYPE_LAPIC;
		l[i].length = sizeof(l[i]);
		l[i].acpi_processor_uid = (uint8_t)i;
		l[i].apic_id = (uint8_t)i;
		l[i].flags = ACPI_MADT_LAPIC_ENABLED;
	}
	acpi_header_sum(&m->h);
}

int acpi_build(struct guest_mem *mem, unsigned nr_vcpus, uint64_t *rsdp_gpa)
{
	uint8_t *buf = NULL;
	int ret;

	if (nr_vcpus == 0 || nr_vcpus > ACPI_MAX_VCPUS)
		return -EINVAL;
	if (ACPI_OFF_MADT + ACPI_MADT_LEN(nr_vcpus) > GUEST_ACPI_SIZE)
		return -E2BIG;
	if (!gmem_ptr(mem, GUEST_ACPI_GPA, GUEST_ACPI_SIZE))
		return -EFAULT;

	buf = calloc(1, GUEST_ACPI_SIZE);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	acpi_build_rsdp(buf);
	acpi_build_xsdt(buf);
	acpi_build_fadt(buf);
	acpi_build_dsdt(buf);
	acpi_build_madt(buf, nr_vcpus);

	/* The whole region, so stale bytes between tables read as zero. */
	ret = gmem_write(mem, GUEST_ACPI_GPA, buf, GUEST_ACPI_SIZE);
	if (ret < 0)
		goto out;
	*rsdp_gpa = GUEST_ACPI_GPA + ACPI_OFF_RSDP;
out:
	free(buf);
	return ret;
}
