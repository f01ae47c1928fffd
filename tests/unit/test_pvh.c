/* Unit tests for the PVH boot information builder (domain/boot/pvh.c):
 * memory map, initrd placement and start_info, as tables of named cases. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domain/boot/layout.h"
#include "domain/boot/pvh.h"
#include "domain/guest_mem.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define RAM XEN_HVM_MEMMAP_TYPE_RAM
#define RES XEN_HVM_MEMMAP_TYPE_RESERVED

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- memory map ---- */

struct memmap_case {
	const char *name;
	uint64_t size;
	unsigned max;
	int ret; /* entries, or -errno */
	struct hvm_memmap_table_entry want[4];
};

/* clang-format off */
static const struct memmap_case memmap_cases[] = {
	{"memmap_128M", 128 * MiB, 8, 3,
	 {{0, 0xA0000, RAM, 0},
	  {0xF0000, 0x10000, RES, 0},
	  {MiB, 127 * MiB, RAM, 0}}},
	{"memmap_256M", 256 * MiB, 8, 3,
	 {{0, 0xA0000, RAM, 0},
	  {0xF0000, 0x10000, RES, 0},
	  {MiB, 255 * MiB, RAM, 0}}},
	{"memmap_3_5G_exact", 0xE0000000ULL, 3, 3,
	 {{0, 0xA0000, RAM, 0},
	  {0xF0000, 0x10000, RES, 0},
	  {MiB, 0xE0000000ULL - MiB, RAM, 0}}},
	{"memmap_6G_high_part", 6 * GiB, 4, 4,
	 {{0, 0xA0000, RAM, 0},
	  {0xF0000, 0x10000, RES, 0},
	  {MiB, 0xE0000000ULL - MiB, RAM, 0},
	  {4 * GiB, 6 * GiB - 0xE0000000ULL, RAM, 0}}},
	{"memmap_128M_max_2_e2big", 128 * MiB, 2, -E2BIG, {{0}}},
	{"memmap_6G_max_3_e2big", 6 * GiB, 3, -E2BIG, {{0}}},
	{"memmap_max_0_e2big", 128 * MiB, 0, -E2BIG, {{0}}},
};
/* clang-format on */

static void test_memmap(void **state)
{
	const struct memmap_case *c = *state;
	struct hvm_memmap_table_entry out[8];
	struct guest_mem m = {0};
	int n, i;

	memset(out, 0xA5, sizeof(out));
	gmem_layout(&m, c->size);
	n = pvh_build_memmap(&m, out, c->max);
	assert_int_equal(n, c->ret);
	if (n < 0) {
		/* Nothing written past what the caller allowed. */
		for (i = (int)c->max; i < (int)ARRAY_SIZE(out); i++)
			assert_int_equal(out[i].type, 0xA5A5A5A5);
		return;
	}
	for (i = 0; i < n; i++) {
		assert_int_equal(out[i].addr, c->want[i].addr);
		assert_int_equal(out[i].size, c->want[i].size);
		assert_int_equal(out[i].type, c->want[i].type);
		assert_int_equal(out[i].reserved, 0);
		assert_true(out[i].size > 0);
		/* Sorted and non-overlapping. */
		if (i > 0)
			assert_true(out[i - 1].addr + out[i - 1].size <=
				    out[i].addr);
	}
}

/* ---- initrd placement ---- */

struct initrd_case {
	const char *name;
	uint64_t size;
	uint64_t kernel_end;
	uint64_t len;
	uint64_t want; /* 0: does not fit */
};

/* clang-format off */
static const struct initrd_case initrd_cases[] = {
	{"initrd_fits_top_of_low_ram", 128 * MiB, 16 * MiB + 123, 10 * MiB + 5,
	 (128 * MiB - (10 * MiB + 5)) & ~0xFFFULL},
	{"initrd_fits_exactly_at_kernel_end", 128 * MiB, 126 * MiB, 2 * MiB,
	 126 * MiB},
	{"initrd_6G_stays_below_low_size", 6 * GiB, 32 * MiB, 64 * MiB,
	 0xE0000000ULL - 64 * MiB},
	{"initrd_kernel_end_0_not_below_1M", 128 * MiB, 0, 4 * MiB,
	 124 * MiB},
	{"initrd_small_guest_would_go_below_1M", 2 * MiB, 0, MiB + MiB / 2,
	 0},
	{"initrd_too_big", 128 * MiB, 16 * MiB, 200 * MiB, 0},
	{"initrd_larger_than_free_space", 128 * MiB, 16 * MiB, 113 * MiB, 0},
	{"initrd_kernel_end_high", 128 * MiB, 127 * MiB, 2 * MiB, 0},
	{"initrd_kernel_end_rounds_past", 128 * MiB, 126 * MiB + 1, 2 * MiB,
	 0},
	{"initrd_kernel_end_wraps", 128 * MiB, UINT64_MAX - 10, MiB, 0},
	{"initrd_len_0", 128 * MiB, 16 * MiB, 0, 0},
};
/* clang-format on */

static void test_initrd(void **state)
{
	const struct initrd_case *c = *state;
	struct guest_mem m = {0};
	uint64_t gpa;

	gmem_layout(&m, c->size);
	gpa = pvh_place_initrd(&m, c->kernel_end, c->len);
	assert_int_equal(gpa, c->want);
	if (gpa) {
		assert_int_equal(gpa & 0xFFF, 0);
		assert_true(gpa >= c->kernel_end);
		assert_true(gpa >= GUEST_KERNEL_MIN_GPA);
		assert_true(gpa + c->len <= m.low_size);
	}
}

/* ---- start_info ---- */

struct start_info_case {
	const char *name;
	uint64_t mem_size;
	const char *cmdline; /* used unless cmdline_len is set */
	size_t cmdline_len;  /* build a string of this many 'x' */
	uint64_t initrd_gpa;
	uint64_t initrd_len;
	uint64_t rsdp_gpa;
	int ret;
};

/* clang-format off */
static const struct start_info_case start_info_cases[] = {
	{"start_info_no_initrd", 128 * MiB, "console=hvc0 root=/dev/xvda1", 0,
	 0, 0, 0xF2000, 0},
	{"start_info_with_initrd", 128 * MiB, "console=hvc0", 0, 100 * MiB,
	 5 * MiB + 17, 0xF2000, 0},
	{"start_info_no_cmdline_no_acpi", 128 * MiB, NULL, 0, 0, 0, 0, 0},
	{"start_info_6G_with_initrd", 6 * GiB, "quiet", 0, 0xD0000000ULL,
	 MiB, 0xF2000, 0},
	{"start_info_cmdline_max_fits", 128 * MiB, NULL, 4095, 0, 0, 0, 0},
	{"start_info_cmdline_too_long_e2big", 128 * MiB, NULL, 4096, 0, 0, 0,
	 -E2BIG},
	{"start_info_initrd_outside_ram_efault", 128 * MiB, "x", 0,
	 127 * MiB, 2 * MiB, 0, -EFAULT},
	{"start_info_guest_too_small_efault", 512 * 1024, "x", 0, 0, 0, 0,
	 -EFAULT},
};
/* clang-format on */

static void test_start_info(void **state)
{
	const struct start_info_case *c = *state;
	struct hvm_memmap_table_entry want_map[8], map[8];
	struct hvm_modlist_entry mod;
	struct hvm_start_info si;
	struct guest_mem m = {0};
	struct pvh_boot b = {0};
	uint64_t gpa = 0xDEAD, end;
	char *line = NULL, *p;
	char got[GUEST_CMDLINE_MAX];
	int n;

	assert_int_equal(gmem_alloc(&m, c->mem_size), 0);
	/* Dirty the boot pages so that every byte checked must be written. */
	p = gmem_ptr(&m, GUEST_START_INFO_GPA, 2 * GUEST_PAGE_SIZE);
	if (p)
		memset(p, 0xFF, 2 * GUEST_PAGE_SIZE);
	if (c->cmdline_len) {
		line = malloc(c->cmdline_len + 1);
		assert_non_null(line);
		memset(line, 'x', c->cmdline_len);
		line[c->cmdline_len] = '\0';
		b.cmdline = line;
	} else {
		b.cmdline = c->cmdline;
	}
	b.initrd_gpa = c->initrd_gpa;
	b.initrd_len = c->initrd_len;
	b.rsdp_gpa = c->rsdp_gpa;

	assert_int_equal(pvh_build_start_info(&m, &b, &gpa), c->ret);
	if (c->ret < 0) {
		assert_int_equal(gpa, 0xDEAD);
		goto out;
	}
	assert_int_equal(gpa, GUEST_START_INFO_GPA);
	assert_int_equal(gmem_read(&m, gpa, &si, sizeof(si)), 0);
	assert_int_equal(si.magic, XEN_HVM_START_MAGIC_VALUE);
	assert_int_equal(si.magic, 0x336ec578);
	assert_int_equal(si.version, 1);
	assert_int_equal(si.flags, 0);
	assert_int_equal(si.rsdp_paddr, c->rsdp_gpa);
	assert_int_equal(si.reserved, 0);

	/* Module list: one entry for the initrd, in the same page. */
	if (c->initrd_len) {
		assert_int_equal(si.nr_modules, 1);
		assert_int_equal(si.modlist_paddr,
				 GUEST_START_INFO_GPA + sizeof(si));
		assert_int_equal(
		    gmem_read(&m, si.modlist_paddr, &mod, sizeof(mod)), 0);
		assert_int_equal(mod.paddr, c->initrd_gpa);
		assert_int_equal(mod.size, c->initrd_len);
		assert_int_equal(mod.cmdline_paddr, 0);
		assert_int_equal(mod.reserved, 0);
	} else {
		assert_int_equal(si.nr_modules, 0);
		assert_int_equal(si.modlist_paddr, 0);
	}

	/* Memory map: what pvh_build_memmap gives, after the modlist. */
	n = pvh_build_memmap(&m, want_map, ARRAY_SIZE(want_map));
	assert_true(n > 0);
	assert_int_equal(si.memmap_entries, n);
	assert_int_equal(si.memmap_paddr,
			 GUEST_START_INFO_GPA + sizeof(si) +
			     (c->initrd_len ? sizeof(mod) : 0));
	end = si.memmap_paddr + n * sizeof(map[0]);
	assert_true(end <= GUEST_START_INFO_GPA + GUEST_PAGE_SIZE);
	assert_int_equal(
	    gmem_read(&m, si.memmap_paddr, map, n * sizeof(map[0])), 0);
	assert_memory_equal(map, want_map, n * sizeof(map[0]));

	/* Command line, NUL-terminated. */
	if (b.cmdline) {
		size_t len = strlen(b.cmdline) + 1;

		assert_int_equal(si.cmdline_paddr, GUEST_CMDLINE_GPA);
		assert_int_equal(gmem_read(&m, GUEST_CMDLINE_GPA, got, len), 0);
		assert_memory_equal(got, b.cmdline, len);
	} else {
		assert_int_equal(si.cmdline_paddr, 0);
	}
out:
	free(line);
	gmem_free(&m);
}

#define CASES(arr, fn, tests, n)                                               \
	do {                                                                   \
		for (size_t i_ = 0; i_ < ARRAY_SIZE(arr); i_++) {              \
			tests[n].name = arr[i_].name;                          \
			tests[n].test_func = fn;                               \
			tests[n].initial_state = (void *)&arr[i_];             \
			n++;                                                   \
		}                                                              \
	} while (0)

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(memmap_cases) +
				ARRAY_SIZE(initrd_cases) +
				ARRAY_SIZE(start_info_cases)];
	size_t n = 0;

	memset(tests, 0, sizeof(tests));
	CASES(memmap_cases, test_memmap, tests, n);
	CASES(initrd_cases, test_initrd, tests, n);
	CASES(start_info_cases, test_start_info, tests, n);
	return _cmocka_run_group_tests("pvh", tests, n, NULL, NULL);
}
