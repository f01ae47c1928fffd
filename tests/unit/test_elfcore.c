/* Unit tests for the guest core file's layout (src/domain/elfcore.h): the
 * ELF header, one PT_LOAD per region at aligned offsets with the guest-
 * physical address, the notes read back as a reader walks them (register
 * values where gdb finds them), the worked example's figures, and the
 * refusals. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <cmocka.h>

#include "domain/elfcore.h"

#define MiB (1ull << 20)

/* Walks the PT_NOTE segment of buf: calls fn for each note. */
static unsigned walk_notes(const uint8_t *buf, const Elf64_Phdr *ph,
			   void (*fn)(const Elf64_Nhdr *, const char *,
				      const uint8_t *, void *),
			   void *arg)
{
	size_t at = ph->p_offset, end = ph->p_offset + ph->p_filesz;
	unsigned n = 0;

	while (at < end) {
		const Elf64_Nhdr *nh = (const Elf64_Nhdr *)(buf + at);
		const char *name = (const char *)(nh + 1);
		const uint8_t *desc =
		    (const uint8_t *)name + ((nh->n_namesz + 3) & ~3u);

		assert_true(at + sizeof(*nh) <= end);
		assert_int_equal(name[nh->n_namesz - 1], '\0');
		fn(nh, name, desc, arg);
		at = (size_t)(desc - buf) + ((nh->n_descsz + 3) & ~3u);
		n++;
	}
	assert_int_equal(at, end);
	return n;
}

struct seen {
	unsigned prstatus, kxen_cpu, kxen_dom;
	uint64_t rip[4], cr3[4];
	int pid[4];
	char dom[128];
};

static void note_cb(const Elf64_Nhdr *nh, const char *name, const uint8_t *desc,
		    void *arg)
{
	struct seen *s = arg;

	if (!strcmp(name, "CORE") && nh->n_type == NT_PRSTATUS) {
		struct elf_prstatus pr;

		assert_int_equal(nh->n_descsz, sizeof(pr));
		memcpy(&pr, desc, sizeof(pr));
		s->pid[s->prstatus] = pr.pr_pid;
		/* rip is user_regs_struct's 17th register. */
		s->rip[s->prstatus++] = pr.pr_reg[16];
	} else if (!strcmp(name, "KXEN") && nh->n_type == ELFCORE_NT_KXEN_CPU) {
		struct elfcore_kxen_cpu k;

		assert_int_equal(nh->n_descsz, sizeof(k));
		memcpy(&k, desc, sizeof(k));
		s->cr3[s->kxen_cpu++] = k.cr3;
	} else if (!strcmp(name, "KXEN") &&
		   nh->n_type == ELFCORE_NT_KXEN_DOMAIN) {
		snprintf(s->dom, sizeof(s->dom), "%s", (const char *)desc);
		s->kxen_dom++;
	} else {
		fail_msg("unexpected note %s/%u", name, nh->n_type);
	}
}

/* The worked example of elfcore.h: 256 MiB, 2 vCPUs, "web". */
static void test_example(void **state)
{
	struct elfcore_region rg = {0, 256 * MiB};
	struct elfcore_cpu cpus[2];
	struct elfcore_layout lay;
	struct seen seen = {0};
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *ph;
	uint8_t *buf;

	(void)state;
	memset(cpus, 0, sizeof(cpus));
	cpus[0].id = 0;
	cpus[0].regs.rip = 0xffffffff81000000ull;
	cpus[0].extra.cr3 = 0x1234000;
	cpus[1].id = 1;
	cpus[1].regs.rip = 0xffffffff81abcdefull;
	cpus[1].extra.cr3 = 0x5678000;
	assert_int_equal(elfcore_build(&rg, 1, cpus, 2, "web", 3, &buf, &lay),
			 0);
	eh = (const Elf64_Ehdr *)buf;
	assert_memory_equal(eh->e_ident, ELFMAG, SELFMAG);
	assert_int_equal(eh->e_ident[EI_CLASS], ELFCLASS64);
	assert_int_equal(eh->e_ident[EI_DATA], ELFDATA2LSB);
	assert_int_equal(eh->e_type, ET_CORE);
	assert_int_equal(eh->e_machine, EM_X86_64);
	assert_int_equal(eh->e_phoff, 64);
	assert_int_equal(eh->e_phnum, 2);
	assert_int_equal(eh->e_phentsize, sizeof(Elf64_Phdr));
	ph = (const Elf64_Phdr *)(buf + eh->e_phoff);
	assert_int_equal(ph[0].p_type, PT_NOTE);
	assert_int_equal(ph[0].p_offset, 176);
	assert_int_equal(ph[0].p_filesz, 984);
	assert_int_equal(ph[1].p_type, PT_LOAD);
	assert_int_equal(ph[1].p_offset, 4096);
	assert_int_equal(ph[1].p_paddr, 0);
	assert_int_equal(ph[1].p_filesz, 256 * MiB);
	assert_int_equal(ph[1].p_memsz, 256 * MiB);
	assert_int_equal(lay.hdr_len, 4096);
	assert_int_equal(lay.data_off[0], 4096);
	assert_int_equal(lay.file_size, 4096 + 256 * MiB);
	assert_int_equal(walk_notes(buf, &ph[0], note_cb, &seen), 5);
	assert_int_equal(seen.prstatus, 2);
	assert_int_equal(seen.pid[0], 1);
	assert_int_equal(seen.pid[1], 2);
	assert_true(seen.rip[0] == 0xffffffff81000000ull);
	assert_true(seen.rip[1] == 0xffffffff81abcdefull);
	assert_int_equal(seen.kxen_cpu, 2);
	assert_int_equal(seen.cr3[1], 0x5678000);
	assert_int_equal(seen.kxen_dom, 1);
	assert_string_equal(seen.dom, "name=web\ndomid=3\n");
	/* Padding after the notes is zero. */
	for (size_t i = 176 + 984; i < lay.hdr_len; i++)
		assert_int_equal(buf[i], 0);
	free(buf);
}

/* RAM above 4 GiB: the second region starts at 4 GiB, its data right
 * after the first's (aligned); no vCPU notes when none are given. */
static void test_two_regions(void **state)
{
	struct elfcore_region rg[2] = {{0, 0xE0000000ull},
				       {1ull << 32, 512 * MiB + 4096}};
	struct elfcore_layout lay;
	struct seen seen = {0};
	const Elf64_Phdr *ph;
	uint8_t *buf;
	uint64_t sum = 0;

	(void)state;
	assert_int_equal(elfcore_build(rg, 2, NULL, 0, "big", 9, &buf, &lay),
			 0);
	ph = (const Elf64_Phdr *)(buf + sizeof(Elf64_Ehdr));
	assert_int_equal(((const Elf64_Ehdr *)buf)->e_phnum, 3);
	assert_int_equal(ph[2].p_paddr, 1ull << 32);
	assert_int_equal(ph[2].p_offset, lay.hdr_len + 0xE0000000ull);
	assert_int_equal(lay.data_off[1], ph[2].p_offset);
	for (int i = 1; i < 3; i++) {
		assert_int_equal(ph[i].p_offset % ELFCORE_ALIGN, 0);
		sum += ph[i].p_memsz;
	}
	assert_int_equal(sum, 0xE0000000ull + 512 * MiB + 4096);
	assert_int_equal(lay.file_size, ph[2].p_offset + ph[2].p_filesz);
	assert_int_equal(walk_notes(buf, &ph[0], note_cb, &seen), 1);
	assert_int_equal(seen.prstatus, 0);
	free(buf);
}

static void test_refusals(void **state)
{
	struct elfcore_region rg[ELFCORE_MAX_REGIONS + 1] = {{0, 4096}};
	struct elfcore_region zero = {0, 0};
	struct elfcore_cpu cpu = {0};
	struct elfcore_layout lay;
	uint8_t *buf = (uint8_t *)1;

	(void)state;
	assert_int_equal(elfcore_build(rg, 0, NULL, 0, "x", 1, &buf, &lay),
			 -EINVAL);
	assert_null(buf);
	assert_int_equal(elfcore_build(rg, ELFCORE_MAX_REGIONS + 1, NULL, 0,
				       "x", 1, &buf, &lay),
			 -EINVAL);
	assert_int_equal(elfcore_build(&zero, 1, NULL, 0, "x", 1, &buf, &lay),
			 -EINVAL);
	assert_int_equal(elfcore_build(rg, 1, NULL, 1, "x", 1, &buf, &lay),
			 -EINVAL);
	assert_int_equal(elfcore_build(rg, 1, &cpu, ELFCORE_MAX_CPUS + 1, "x",
				       1, &buf, &lay),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_example),
	    cmocka_unit_test(test_two_regions),
	    cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests_name("elfcore", tests, NULL, NULL);
}
