/* Unit tests for the ACPI table builder (domain/boot/acpi.c): the tables
 * are read back from guest memory byte by byte, at the offsets the ACPI
 * specification gives, and walked from the RSDP as Linux does. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain/boot/acpi.h"
#include "domain/boot/layout.h"
#include "domain/guest_mem.h"

#define MiB (1ULL << 20)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define HDR_LEN 36
#define FADT_FLAGS_HW_REDUCED (1u << 20)

struct acpi_case {
	const char *name;
	uint64_t mem_size;
	unsigned nr_vcpus;
	int ret;
};

/* clang-format off */
static const struct acpi_case acpi_cases[] = {
	{"acpi_1_vcpu", 128 * MiB, 1, 0},
	{"acpi_2_vcpus", 128 * MiB, 2, 0},
	{"acpi_8_vcpus", 128 * MiB, 8, 0},
	{"acpi_128_vcpus", 128 * MiB, 128, 0},
	{"acpi_0_vcpus_einval", 128 * MiB, 0, -EINVAL},
	{"acpi_129_vcpus_einval", 128 * MiB, 129, -EINVAL},
	{"acpi_guest_512K_efault", 512 * 1024, 1, -EFAULT},
	{"acpi_region_half_ram_efault", GUEST_ACPI_GPA + 0x1000, 2, -EFAULT},
};
/* clang-format on */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static int all_zero(const uint8_t *p, size_t len)
{
	while (len--)
		if (*p++)
			return 0;
	return 1;
}

/* Checks a table's header at gpa and returns a host pointer to the table.
 * The whole table must lie in the ACPI region, 16-byte aligned. */
static const uint8_t *check_table(const struct guest_mem *m, uint64_t gpa,
				  const char *sig, uint8_t rev)
{
	const uint8_t *t;
	uint32_t len;

	assert_true(gpa >= GUEST_ACPI_GPA);
	assert_true(gpa + HDR_LEN <= GUEST_ACPI_GPA + GUEST_ACPI_SIZE);
	assert_int_equal(gpa % 16, 0);
	t = gmem_ptr(m, gpa, HDR_LEN);
	assert_non_null(t);
	assert_memory_equal(t, sig, 4);
	len = rd32(t + 4);
	assert_true(len >= HDR_LEN);
	assert_true(gpa + len <= GUEST_ACPI_GPA + GUEST_ACPI_SIZE);
	assert_int_equal(t[8], rev);
	assert_int_equal(sum8(t, len), 0);
	assert_memory_equal(t + 10, "KXEN  ", 6);
	assert_memory_equal(t + 16, "KXEN    ", 8);
	assert_int_equal(rd32(t + 24), 1);
	assert_memory_equal(t + 28, "KXEN", 4);
	assert_int_equal(rd32(t + 32), 1);
	return t;
}

/* Every table seen, to check that none overlaps another. */
struct acpi_span {
	uint64_t gpa, len;
};

static void span_add(struct acpi_span *s, int *n, uint64_t gpa, uint64_t len)
{
	int i;

	for (i = 0; i < *n; i++)
		assert_true(gpa + len <= s[i].gpa ||
			    s[i].gpa + s[i].len <= gpa);
	s[*n].gpa = gpa;
	s[*n].len = len;
	(*n)++;
}

/* A byte-wide SystemIO generic address at `port`. */
static void check_gas_port(const uint8_t *g, uint16_t port)
{
	assert_int_equal(g[0], 1); /* SystemIO */
	assert_int_equal(g[1], 8);
	assert_int_equal(g[2], 0);
	assert_int_equal(g[3], 1);
	assert_int_equal(rd64(g + 4), port);
}

static void check_fadt(const struct guest_mem *m, const uint8_t *f,
		       struct acpi_span *s, int *ns)
{
	uint32_t len = rd32(f + 4);
	uint16_t boot_arch = rd16(f + 109);
	uint64_t dsdt;
	const uint8_t *d;

	assert_true(f[8] == 5 || f[8] == 6);
	assert_int_equal(len, f[8] == 6 ? 276 : 268);
	assert_true(rd32(f + 112) & FADT_FLAGS_HW_REDUCED);
	/* Minor version: 5.1 or 6.x. */
	assert_true(f[8] == 6 || f[131] == 1);
	/* No FACS, no SCI, no SMI, no PM/GPE blocks: offsets 36 and 44..107,
	 * with the DSDT pointer at 40 the only non-zero field before. */
	assert_int_equal(rd32(f + 36), 0);
	assert_true(all_zero(f + 44, 108 - 44));
	/* IAPC_BOOT_ARCH: no legacy devices, no 8042, VGA not present. */
	assert_int_equal(boot_arch & 0x3, 0);
	assert_true(boot_arch & (1u << 2));
	assert_int_equal(rd64(f + 132), 0);	   /* X_FIRMWARE_CTRL */
	assert_true(all_zero(f + 148, 244 - 148)); /* X_ PM blocks */
	/* Reset register (offset 116) and value (128), flag bit 10. */
	assert_true(rd32(f + 112) & (1u << 10));
	check_gas_port(f + 116, ACPI_RESET_PORT);
	assert_int_equal(f[128], ACPI_RESET_VALUE);
	/* Sleep control (244) and status (256): how the guest powers off. */
	check_gas_port(f + 244, ACPI_SLEEP_CONTROL_PORT);
	check_gas_port(f + 256, ACPI_SLEEP_STATUS_PORT);

	dsdt = rd64(f + 140);
	assert_int_equal(dsdt, rd32(f + 40));
	d = check_table(m, dsdt, "DSDT", 2);
	/* The DSDT defines \_S5 as Package { 5, 5, 0, 0 }. */
	assert_int_equal(rd32(d + 4), HDR_LEN + 14);
	assert_memory_equal(d + HDR_LEN, "\x08_S5_\x12\x08\x04\x0a\x05\x0a\x05\x00\x00", 14);
	span_add(s, ns, dsdt, HDR_LEN + 14);
}

static void check_madt(const uint8_t *t, unsigned n)
{
	uint32_t len = rd32(t + 4), off;
	unsigned count = 0;

	assert_int_equal(len, 44 + 8 * n);
	assert_int_equal(rd32(t + 36), GUEST_LAPIC_GPA);
	assert_int_equal(rd32(t + 40), 0); /* no PCAT_COMPAT */
	for (off = 44; off < len; off += t[off + 1]) {
		assert_true(off + 2 <= len);
		assert_int_equal(t[off], 0); /* Processor Local APIC */
		assert_int_equal(t[off + 1], 8);
		assert_int_equal(t[off + 2], count);	/* ACPI processor UID */
		assert_int_equal(t[off + 3], count);	/* APIC id */
		assert_int_equal(rd32(t + off + 4), 1); /* enabled */
		count++;
	}
	assert_int_equal(off, len);
	assert_int_equal(count, n);
}

static void test_acpi(void **state)
{
	const struct acpi_case *c = *state;
	struct guest_mem m = {0};
	uint64_t rsdp = 0xDEAD, xsdt, e;
	const uint8_t *r, *x, *t;
	struct acpi_span spans[8];
	int i, ns = 0, seen_fadt = 0, seen_madt = 0;

	assert_int_equal(gmem_alloc(&m, c->mem_size), 0);
	assert_int_equal(acpi_build(&m, c->nr_vcpus, &rsdp), c->ret);
	if (c->ret < 0) {
		assert_int_equal(rsdp, 0xDEAD);
		goto out;
	}

	/* RSDP, revision 2: both checksums. */
	assert_int_equal(rsdp, GUEST_ACPI_GPA);
	r = gmem_ptr(&m, rsdp, 36);
	assert_non_null(r);
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(sum8(r, 20), 0);
	assert_memory_equal(r + 9, "KXEN  ", 6);
	assert_int_equal(r[15], 2);
	assert_int_equal(rd32(r + 16), 0); /* RsdtAddress */
	assert_int_equal(rd32(r + 20), 36);
	assert_int_equal(sum8(r, 36), 0);
	assert_true(all_zero(r + 33, 3));
	xsdt = rd64(r + 24);
	span_add(spans, &ns, rsdp, 36);

	/* XSDT: 64-bit pointers to FACP and APIC, nothing else. */
	x = check_table(&m, xsdt, "XSDT", 1);
	assert_int_equal(rd32(x + 4), HDR_LEN + 2 * 8);
	span_add(spans, &ns, xsdt, rd32(x + 4));
	for (i = 0; i < 2; i++) {
		e = rd64(x + HDR_LEN + 8 * i);
		t = gmem_ptr(&m, e, 4);
		assert_non_null(t);
		if (!memcmp(t, "FACP", 4)) {
			t = check_table(&m, e, "FACP", t[8]);
			span_add(spans, &ns, e, rd32(t + 4));
			check_fadt(&m, t, spans, &ns);
			seen_fadt++;
		} else {
			t = check_table(&m, e, "APIC", t[8]);
			span_add(spans, &ns, e, rd32(t + 4));
			check_madt(t, c->nr_vcpus);
			seen_madt++;
		}
	}
	assert_int_equal(seen_fadt, 1);
	assert_int_equal(seen_madt, 1);
out:
	gmem_free(&m);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(acpi_cases)];
	size_t i;

	memset(tests, 0, sizeof(tests));
	for (i = 0; i < ARRAY_SIZE(acpi_cases); i++) {
		tests[i].name = acpi_cases[i].name;
		tests[i].test_func = test_acpi;
		tests[i].initial_state = (void *)&acpi_cases[i];
	}
	return _cmocka_run_group_tests("acpi", tests, ARRAY_SIZE(tests), NULL,
				       NULL);
}
