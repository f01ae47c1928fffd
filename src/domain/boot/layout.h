/* Fixed guest-physical addresses of what the domain builder places for a
 * PVH guest.  All of it lies in [0xA0000, 0x100000), which the memory map
 * marks reserved (Linux's PVH entry also reserves that range itself), so
 * the guest never hands these pages to its allocator.
 *
 *   0xF0000  hvm_start_info, then the module list, then the memory map
 *   0xF1000  kernel command line (GUEST_CMDLINE_MAX bytes incl. NUL)
 *   0xF2000  ACPI tables: RSDP, XSDT, FADT, DSDT, MADT (GUEST_ACPI_SIZE)
 *   0xFD000  reserved for the xenstore ring (issue 3)
 *   0xFE000  PV console ring (HVM_PARAM_CONSOLE_PFN)
 *   0xFF000  xenstore ring (HVM_PARAM_STORE_PFN)
 */
#ifndef KXEN_DOMAIN_BOOT_LAYOUT_H
#define KXEN_DOMAIN_BOOT_LAYOUT_H

#define GUEST_LOW_RAM_END 0xA0000ULL      /* conventional memory ends */
#define GUEST_RESERVED_START 0xF0000ULL   /* our reserved boot region */
#define GUEST_RESERVED_END 0x100000ULL
#define GUEST_START_INFO_GPA 0xF0000ULL
#define GUEST_CMDLINE_GPA 0xF1000ULL
#define GUEST_CMDLINE_MAX 4096ULL
#define GUEST_ACPI_GPA 0xF2000ULL
#define GUEST_ACPI_SIZE 0x6000ULL
#define GUEST_CONSOLE_GPA 0xFE000ULL
#define GUEST_XENSTORE_GPA 0xFF000ULL
#define GUEST_KERNEL_MIN_GPA 0x100000ULL  /* nothing of a kernel below 1 MiB */
/* The LAPIC's MMIO page: never RAM. */
#define GUEST_LAPIC_GPA 0xFEE00000ULL

#endif
