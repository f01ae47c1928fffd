/* PVH boot information: hvm_start_info (version 1), module list (initrd),
 * memory map and command line, written at the fixed addresses of layout.h.
 * Pure: writes into guest memory through guest_mem, no other I/O. */
#ifndef KXEN_DOMAIN_BOOT_PVH_H
#define KXEN_DOMAIN_BOOT_PVH_H

#include <stdint.h>
#include <xen/xen.h>
#include <xen/arch-x86/hvm/start_info.h>

#include "../guest_mem.h"

struct pvh_boot {
	const char *cmdline;  /* may be NULL */
	uint64_t initrd_gpa;  /* ignored when initrd_len is 0 */
	uint64_t initrd_len;
	uint64_t rsdp_gpa;    /* 0: no ACPI */
};

/* Fills `out` (room for max entries) with the guest's memory map for the
 * RAM layout of `mem`: RAM [0, 0xA0000), reserved [0xF0000, 1 MiB), RAM
 * [1 MiB, low_size), RAM [4 GiB, ...) if any.  Returns the number of
 * entries, or -E2BIG if max is too small. */
int pvh_build_memmap(const struct guest_mem *mem,
		     struct hvm_memmap_table_entry *out, unsigned max);

/* Chooses where the initrd goes: page-aligned, as high as possible in low
 * RAM, above kernel_end.  Returns the gpa, or 0 if it does not fit. */
uint64_t pvh_place_initrd(const struct guest_mem *mem, uint64_t kernel_end,
			  uint64_t initrd_len);

/* Writes start_info, modlist, memmap and cmdline.  Returns 0 and sets
 * *start_info_gpa (the value for EBX at entry), or -E2BIG if the command
 * line does not fit GUEST_CMDLINE_MAX, -EFAULT if the layout is not RAM. */
int pvh_build_start_info(struct guest_mem *mem, const struct pvh_boot *b,
			 uint64_t *start_info_gpa);

#endif
