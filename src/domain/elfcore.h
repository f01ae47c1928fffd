/* The layout of a guest core file (kxl dump-core): an x86_64 ELF64 core
 * whose headers this module builds, without I/O, so that the layout is
 * unit-tested (tests/unit/test_elfcore.c).  domain/dumpcore.c writes it.
 *
 * What is in the file (readable by readelf, gdb and crash as QEMU's
 * dump-guest-memory output is; Xen's own xc_domain_dumpcore format, with
 * its .xen_* sections, is not reproduced):
 *
 *   ELF header           ET_CORE, EM_X86_64, one program header per
 *                        region plus one PT_NOTE
 *   program headers      PT_NOTE first, then one PT_LOAD per guest RAM
 *                        region: p_paddr = guest-physical address,
 *                        p_vaddr 0 (the guest's virtual mappings are its
 *                        own), p_filesz = p_memsz = its size
 *   notes                per vCPU: NT_PRSTATUS ("CORE", struct
 *                        elf_prstatus, pr_pid = vCPU id + 1, the
 *                        general registers in user_regs_struct order) and
 *                        a "KXEN" note of type ELFCORE_NT_KXEN_CPU
 *                        (struct elfcore_kxen_cpu: control registers,
 *                        EFER, segment bases); then one "KXEN" note of
 *                        type ELFCORE_NT_KXEN_DOMAIN: "name=..\ndomid=..\n"
 *   padding              to ELFCORE_ALIGN
 *   region data          each region's bytes, at ELFCORE_ALIGN-aligned
 *                        offsets, in order
 *
 * Worked example: 256 MiB of RAM (one region at 0), 2 vCPUs, name "web":
 * header 64 + 2 program headers 112 = 176; notes 2 * (20 + 336 + 20 + 96)
 * + (20 + 20) = 984; region data at 4096 (1160 rounded up), file size
 * 4096 + 256 MiB. */
#ifndef KXEN_DOMAIN_ELFCORE_H
#define KXEN_DOMAIN_ELFCORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

#define ELFCORE_ALIGN 4096u
#define ELFCORE_MAX_REGIONS 8
#define ELFCORE_MAX_CPUS 64

/* Types of kxen's own notes: readers such as bfd (gdb, objdump) match
 * core note types without looking at the owner's name, so they stay out
 * of the NT_* numbers Linux cores use. */
#define ELFCORE_NT_KXEN_CPU 0x4b580001u
#define ELFCORE_NT_KXEN_DOMAIN 0x4b580002u

/* A "KXEN" per-vCPU note's descriptor: what NT_PRSTATUS has no room for. */
struct elfcore_kxen_cpu {
	uint32_t vcpu;
	uint32_t pad;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
	uint64_t fs_base, gs_base, kernel_gs_base; /* kernel_gs_base: 0 */
	uint64_t gdt_base, idt_base;
};
_Static_assert(sizeof(struct elfcore_kxen_cpu) == 96, "kxen cpu note");

struct elfcore_region {
	uint64_t gpa;  /* guest-physical start */
	uint64_t size; /* bytes */
};

struct elfcore_cpu {
	uint32_t id;
	struct user_regs_struct regs;
	struct elfcore_kxen_cpu extra;
};

struct elfcore_layout {
	size_t hdr_len;				/* headers + notes + padding */
	uint64_t data_off[ELFCORE_MAX_REGIONS]; /* each region's offset */
	uint64_t file_size;
};

/* Builds the file's first lay->hdr_len bytes (ELF header, program
 * headers, notes, zero padding) into a buffer it allocates (*out, the
 * caller's to free), and the layout.  cpus may be NULL with nr_cpus 0 (no
 * register notes: the vCPUs could not be stopped).  0, or -EINVAL (no
 * region, too many, a zero-sized one, more than ELFCORE_MAX_CPUS cpus),
 * -ENOMEM. */
int elfcore_build(const struct elfcore_region *regions, unsigned nr_regions,
		  const struct elfcore_cpu *cpus, unsigned nr_cpus,
		  const char *name, uint32_t domid, uint8_t **out,
		  struct elfcore_layout *lay);

#endif
