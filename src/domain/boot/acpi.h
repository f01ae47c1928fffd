/* ACPI tables for a PVH guest: RSDP (revision 2), XSDT, FADT (revision 5,
 * HW_REDUCED_ACPI set, no SCI/PM timer), an empty DSDT and a MADT listing
 * one enabled processor-local APIC per vCPU (ACPI id = APIC id = vCPU
 * index), LAPIC at 0xFEE00000, no IOAPIC and no PIC (PCAT_COMPAT clear).
 * Written at GUEST_ACPI_GPA; every table's checksum is valid. */
#ifndef KXEN_DOMAIN_BOOT_ACPI_H
#define KXEN_DOMAIN_BOOT_ACPI_H

#include <stdint.h>

#include "../guest_mem.h"

#define ACPI_MAX_VCPUS 128

/* Returns 0 and the RSDP's gpa in *rsdp_gpa, -EINVAL for nr_vcpus 0 or
 * above ACPI_MAX_VCPUS, -EFAULT if the region is not guest RAM. */
int acpi_build(struct guest_mem *mem, unsigned nr_vcpus, uint64_t *rsdp_gpa);

#endif
