/* A guest core file's headers and notes (see elfcore.h).  Pure. */
#include "domain/elfcore.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>

#define ELFCORE_ROUND4(n) (((n) + 3u) & ~(size_t)3u)

/* Bytes one note takes: header, name (NUL included), descriptor, each
 * padded to 4 as the ELF64 note format of Linux cores has it. */
static size_t elfcore_note_len(const char *name, size_t desc_len)
{
	return sizeof(Elf64_Nhdr) + ELFCORE_ROUND4(strlen(name) + 1) +
	       ELFCORE_ROUND4(desc_len);
}

static uint8_t *elfcore_note(uint8_t *p, const char *name, uint32_t type,
			     const void *desc, size_t desc_len)
{
	Elf64_Nhdr nh = {
	    .n_namesz = (Elf64_Word)(strlen(name) + 1),
	    .n_descsz = (Elf64_Word)desc_len,
	    .n_type = type,
	};

	memcpy(p, &nh, sizeof(nh));
	p += sizeof(nh);
	memcpy(p, name, nh.n_namesz); /* the buffer is zeroed: padding */
	p += ELFCORE_ROUND4(nh.n_namesz);
	memcpy(p, desc, desc_len);
	return p + ELFCORE_ROUND4(desc_len);
}

int elfcore_build(const struct elfcore_region *regions, unsigned nr_regions,
		  const struct elfcore_cpu *cpus, unsigned nr_cpus,
		  const char *name, uint32_t domid, uint8_t **out,
		  struct elfcore_layout *lay)
{
	size_t phdrs_len, notes_len, at;
	char dom[128];
	uint64_t off;
	uint8_t *buf, *p;
	Elf64_Ehdr *eh;
	Elf64_Phdr *ph;

	*out = NULL;
	if (!nr_regions || nr_regions > ELFCORE_MAX_REGIONS ||
	    nr_cpus > ELFCORE_MAX_CPUS || (nr_cpus && !cpus))
		return -EINVAL;
	for (unsigned i = 0; i < nr_regions; i++)
		if (!regions[i].size)
			return -EINVAL;
	snprintf(dom, sizeof(dom), "name=%s\ndomid=%u\n", name ? name : "",
		 domid);
	phdrs_len = sizeof(Elf64_Phdr) * (1 + nr_regions);
	notes_len =
	    nr_cpus *
		(elfcore_note_len("CORE", sizeof(struct elf_prstatus)) +
		 elfcore_note_len("KXEN", sizeof(struct elfcore_kxen_cpu))) +
	    elfcore_note_len("KXEN", strlen(dom) + 1);
	at = sizeof(Elf64_Ehdr) + phdrs_len + notes_len;
	lay->hdr_len = (at + ELFCORE_ALIGN - 1) / ELFCORE_ALIGN * ELFCORE_ALIGN;
	buf = calloc(1, lay->hdr_len);
	if (!buf)
		return -ENOMEM;

	eh = (Elf64_Ehdr *)buf;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh->e_type = ET_CORE;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = (Elf64_Half)(1 + nr_regions);

	ph = (Elf64_Phdr *)(buf + sizeof(Elf64_Ehdr));
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = sizeof(Elf64_Ehdr) + phdrs_len;
	ph[0].p_filesz = notes_len;
	ph[0].p_align = 4;
	off = lay->hdr_len;
	for (unsigned i = 0; i < nr_regions; i++) {
		Elf64_Phdr *l = &ph[1 + i];

		l->p_type = PT_LOAD;
		l->p_flags = PF_R | PF_W | PF_X;
		l->p_offset = off;
		l->p_paddr = regions[i].gpa;
		l->p_filesz = l->p_memsz = regions[i].size;
		l->p_align = ELFCORE_ALIGN;
		lay->data_off[i] = off;
		off += (regions[i].size + ELFCORE_ALIGN - 1) / ELFCORE_ALIGN *
		       ELFCORE_ALIGN;
	}
	lay->file_size =
	    lay->data_off[nr_regions - 1] + regions[nr_regions - 1].size;

	p = buf + ph[0].p_offset;
	for (unsigned i = 0; i < nr_cpus; i++) {
		struct elf_prstatus pr;

		memset(&pr, 0, sizeof(pr));
		pr.pr_pid = (int)cpus[i].id + 1; /* as QEMU's: 0 means none */
		_Static_assert(sizeof(pr.pr_reg) == sizeof(cpus[i].regs),
			       "user_regs_struct is elf_gregset_t");
		memcpy(&pr.pr_reg, &cpus[i].regs, sizeof(pr.pr_reg));
		p = elfcore_note(p, "CORE", NT_PRSTATUS, &pr, sizeof(pr));
		p = elfcore_note(p, "KXEN", ELFCORE_NT_KXEN_CPU, &cpus[i].extra,
				 sizeof(cpus[i].extra));
	}
	elfcore_note(p, "KXEN", ELFCORE_NT_KXEN_DOMAIN, dom, strlen(dom) + 1);
	*out = buf;
	return 0;
}
