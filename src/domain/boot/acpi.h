/* ACPI tables for a PVH guest: RSDP (revision 2), XSDT, FADT (revision 5,
 * HW_REDUCED_ACPI set, no SCI/PM timer), an empty DSDT and a MADT listing
 * one enabled processor-local APIC per vCPU (ACPI id = APIC id = vCPU
 * index), LAPIC at 0xFEE00000, no IOAPIC and no PIC (PCAT_COMPAT clear).
 * The DSDT holds \_S5; the FADT's sleep and reset registers are the I/O
 * ports below.
 * Written at GUEST_ACPI_GPA; every table's checksum is valid. */
#ifndef KXEN_DOMAIN_BOOT_ACPI_H
#define KXEN_DOMAIN_BOOT_ACPI_H

#include <stdint.h>

#include "../guest_mem.h"

#define ACPI_MAX_VCPUS 128

/* I/O ports of the FADT's registers, trapped by the domain process
 * (kxen's choice; a guest learns them from the FADT only).  Writing
 * (ACPI_S5_SLP_TYP << 2) | 0x20 to the sleep control register is the
 * guest's power-off; writing ACPI_RESET_VALUE to the reset register is
 * its reset. */
#define ACPI_SLEEP_CONTROL_PORT 0xb040
#define ACPI_SLEEP_STATUS_PORT 0xb041
#define ACPI_RESET_PORT 0xb042
#define ACPI_RESET_VALUE 0x01
#define ACPI_S5_SLP_TYP 5
#define ACPI_SLEEP_TYPE(v) (((v) >> 2) & 7)
#define ACPI_SLEEP_ENABLE 0x20

/* Returns 0 and the RSDP's gpa in *rsdp_gpa, -EINVAL for nr_vcpus 0 or
 * above ACPI_MAX_VCPUS, -EFAULT if the region is not guest RAM. */
int acpi_build(struct guest_mem *mem, unsigned nr_vcpus, uint64_t *rsdp_gpa);

#endif
