/* Unit tests for grant tables as backends see them: frame placement and
 * gnttab_map_ref()'s checks of the guest's v1 and v2 entries. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <xen/grant_table.h>
#include <xen/memory.h>

#include "domain/domain.h"
#include "domain/gnttab.h"

#define RAM_MB 16
#define FRAME_GPFN 0x100   /* grant frame 0 placed on a RAM page */
#define STATUS_GPFN 0x101  /* v2 status frame 0 */
#define DATA_GPFN 0x200    /* the page the guest grants */

static struct domain_config cfg = {.name = "test", .domid = 7};

static int setup(void **state)
{
	struct domain *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	d->cfg = &cfg;
	d->vm_fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	assert_int_equal(gmem_alloc(&d->mem, (uint64_t)RAM_MB << 20), 0);
	assert_int_equal(gnttab_init(d), 0);
	assert_int_equal(gnttab_map_frame(d, 0, FRAME_GPFN), 0);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct domain *d = *state;

	gnttab_fini(d);
	gmem_free(&d->mem);
	free(d);
	return 0;
}

static struct grant_entry_v1 *v1_entry(struct domain *d, uint32_t ref)
{
	return (struct grant_entry_v1 *)gmem_ptr(&d->mem, FRAME_GPFN << 12,
						 4096) + ref;
}

struct v1_case {
	const char *name;
	uint16_t flags;
	uint16_t domid;
	uint32_t frame;
	uint32_t ref;
	bool write;
	int err;          /* expected */
};

static const struct v1_case v1_cases[] = {
	{"read of a plain grant", GTF_permit_access, 0, DATA_GPFN, 1, false, 0},
	{"write of a plain grant", GTF_permit_access, 0, DATA_GPFN, 2, true, 0},
	{"read of a read-only grant", GTF_permit_access | GTF_readonly, 0, DATA_GPFN, 3, false, 0},
	{"write of a read-only grant", GTF_permit_access | GTF_readonly, 0, DATA_GPFN, 4, true, -EACCES},
	{"granted to another domain", GTF_permit_access, 5, DATA_GPFN, 5, false, -EACCES},
	{"invalid entry", GTF_invalid, 0, DATA_GPFN, 6, false, -EACCES},
	{"transfer entry", GTF_accept_transfer, 0, DATA_GPFN, 7, false, -EACCES},
	{"frame beyond RAM", GTF_permit_access, 0, (RAM_MB << 8) + 1, 8, false, -EINVAL},
	{"frame at 4 GiB", GTF_permit_access, 0, 0x100000, 9, false, -EINVAL},
	{"ref beyond the placed frames", GTF_permit_access, 0, DATA_GPFN, 512, false, -EINVAL},
};

static void run_v1_case(void **state, const struct v1_case *c)
{
	struct domain *d = *state;
	struct grant_entry_v1 *e = NULL;
	uint8_t *page;
	int err = 1;

	if (c->ref < 512) {
		e = v1_entry(d, c->ref);
		e->flags = c->flags;
		e->domid = c->domid;
		e->frame = c->frame;
	}
	page = gnttab_map_ref(d, c->ref, c->write, &err);
	assert_int_equal(err, c->err);
	if (c->err) {
		assert_null(page);
		if (e) /* a refused map leaves the entry as it was */
			assert_int_equal(e->flags, c->flags);
		return;
	}
	assert_ptr_equal(page, gmem_ptr(&d->mem, (uint64_t)c->frame << 12, 4096));
	assert_true(e->flags & GTF_reading);
	assert_int_equal(!!(e->flags & GTF_writing), c->write);
	gnttab_unmap_ref(d, c->ref, c->write);
	assert_int_equal(e->flags, c->flags);
}

#define V1_TEST(i) \
	static void test_v1_##i(void **state) { run_v1_case(state, &v1_cases[i]); }
V1_TEST(0) V1_TEST(1) V1_TEST(2) V1_TEST(3) V1_TEST(4)
V1_TEST(5) V1_TEST(6) V1_TEST(7) V1_TEST(8) V1_TEST(9)

static void test_counts(void **state)
{
	struct domain *d = *state;
	struct grant_entry_v1 *e = v1_entry(d, 20);
	int err;

	e->flags = GTF_permit_access;
	e->domid = 0;
	e->frame = DATA_GPFN;
	assert_non_null(gnttab_map_ref(d, 20, true, &err));
	assert_non_null(gnttab_map_ref(d, 20, false, &err));
	assert_int_equal(e->flags, GTF_permit_access | GTF_reading | GTF_writing);
	gnttab_unmap_ref(d, 20, true);
	assert_int_equal(e->flags, GTF_permit_access | GTF_reading);
	gnttab_unmap_ref(d, 20, false);
	assert_int_equal(e->flags, GTF_permit_access);
	gnttab_unmap_ref(d, 20, false); /* one too many: ignored */
	assert_int_equal(e->flags, GTF_permit_access);
	assert_null(gnttab_map_ref(d, 0xffffffffu, false, &err));
	assert_int_equal(err, -EINVAL);
}

static void test_v2(void **state)
{
	struct domain *d = *state;
	union grant_entry_v2 *e;
	grant_status_t *st;
	int err;

	d->gnttab.version = 2;
	assert_int_equal(gnttab_map_frame(d, XENMAPIDX_grant_table_status | 0,
					  STATUS_GPFN), 0);
	e = (union grant_entry_v2 *)gmem_ptr(&d->mem, FRAME_GPFN << 12, 4096) + 3;
	st = (grant_status_t *)gmem_ptr(&d->mem, STATUS_GPFN << 12, 4096) + 3;
	e->hdr.flags = GTF_permit_access;
	e->hdr.domid = 0;
	e->full_page.frame = DATA_GPFN;
	assert_non_null(gnttab_map_ref(d, 3, true, &err));
	assert_int_equal(*st, GTF_reading | GTF_writing);
	gnttab_unmap_ref(d, 3, true);
	assert_int_equal(*st, 0);
	e->hdr.flags = GTF_permit_access | GTF_readonly;
	assert_null(gnttab_map_ref(d, 3, true, &err));
	assert_int_equal(err, -EACCES);
	/* v2 entries are 16 bytes: 256 per frame, only one frame placed. */
	assert_null(gnttab_map_ref(d, 256, false, &err));
	assert_int_equal(err, -EINVAL);
}

static void test_frame_placement(void **state)
{
	struct domain *d = *state;

	assert_int_equal(gnttab_map_frame(d, 0, 0), -EINVAL);
	assert_int_equal(gnttab_map_frame(d, 0, 0xF0), -EINVAL);  /* boot region */
	assert_int_equal(gnttab_map_frame(d, 0, 0xFEE00), -EINVAL); /* LAPIC */
	assert_int_equal(gnttab_map_frame(d, GNTTAB_MAX_FRAMES, 0x300), -EINVAL);
	/* Status frames exist in version 2 only. */
	assert_int_equal(gnttab_map_frame(d, XENMAPIDX_grant_table_status, 0x301),
			 -EINVAL);
	assert_int_equal(gnttab_nr_frames(&d->gnttab), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(i) cmocka_unit_test_setup_teardown(test_v1_##i, setup, teardown)
		T(0), T(1), T(2), T(3), T(4), T(5), T(6), T(7), T(8), T(9),
		cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_placement, setup, teardown),
	};

	return cmocka_run_group_tests_name("gnttab", tests, NULL, NULL);
}
