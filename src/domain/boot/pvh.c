/* PVH boot information: hvm_start_info v1, module list, memory map and
 * command line, built in host buffers and copied into guest memory. */
#include "pvh.h"

#include <errno.h>
#include <string.h>

#include "layout.h"

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info v1");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24,
	       "hvm_memmap_table_entry");

/* At most: low RAM, reserved boot region, RAM from 1 MiB, RAM from 4 GiB. */
#define PVH_MEMMAP_MAX 4
/* start_info, modlist and memory map share the page at GUEST_START_INFO_GPA. */
#define PVH_INFO_PAGE_SIZE GUEST_PAGE_SIZE

static unsigned pvh_memmap_add(struct hvm_memmap_table_entry *e, unsigned n,
			       uint64_t start, uint64_t end, uint32_t type)
{
	if (end <= start)
		return n;
	e[n].addr = start;
	e[n].size = end - start;
	e[n].type = type;
	e[n].reserved = 0;
	return n + 1;
}

int pvh_build_memmap(const struct guest_mem *mem,
		     struct hvm_memmap_table_entry *out, unsigned max)
{
	struct hvm_memmap_table_entry e[PVH_MEMMAP_MAX];
	uint64_t low = mem->low_size;
	unsigned n = 0;

	/* A guest smaller than 1 MiB only gets what it has of low memory;
	 * the boot region is always described, RAM or not. */
	n = pvh_memmap_add(e, n, 0,
			   low < GUEST_LOW_RAM_END ? low : GUEST_LOW_RAM_END,
			   XEN_HVM_MEMMAP_TYPE_RAM);
	n = pvh_memmap_add(e, n, GUEST_RESERVED_START, GUEST_RESERVED_END,
			   XEN_HVM_MEMMAP_TYPE_RESERVED);
	n = pvh_memmap_add(e, n, GUEST_RESERVED_END, low,
			   XEN_HVM_MEMMAP_TYPE_RAM);
	if (mem->size > low)
		n = pvh_memmap_add(e, n, GUEST_4G, GUEST_4G + (mem->size - low),
				   XEN_HVM_MEMMAP_TYPE_RAM);
	if (n > max)
		return -E2BIG;
	memcpy(out, e, n * sizeof(e[0]));
	return (int)n;
}

uint64_t pvh_place_initrd(const struct guest_mem *mem, uint64_t kernel_end,
			  uint64_t initrd_len)
{
	uint64_t floor, gpa;

	if (initrd_len == 0 || initrd_len > mem->low_size)
		return 0;
	if (__builtin_add_overflow(kernel_end, GUEST_PAGE_SIZE - 1, &floor))
		return 0;
	floor &= ~(GUEST_PAGE_SIZE - 1);
	if (floor < GUEST_KERNEL_MIN_GPA)
		floor = GUEST_KERNEL_MIN_GPA;
	gpa = (mem->low_size - initrd_len) & ~(GUEST_PAGE_SIZE - 1);
	if (gpa < floor)
		return 0;
	return gpa;
}

int pvh_build_start_info(struct guest_mem *mem, const struct pvh_boot *b,
			 uint64_t *start_info_gpa)
{
	struct hvm_memmap_table_entry map[PVH_MEMMAP_MAX];
	struct hvm_start_info si = {0};
	struct hvm_modlist_entry mod = {0};
	uint64_t modlist_gpa, memmap_gpa, end;
	size_t cmdline_len = 0;
	int nr_map, ret;

	if (b->cmdline) {
		cmdline_len = strlen(b->cmdline) + 1;
		if (cmdline_len > GUEST_CMDLINE_MAX)
			return -E2BIG;
	}
	if (b->initrd_len && !gmem_ptr(mem, b->initrd_gpa, b->initrd_len))
		return -EFAULT;

	nr_map = pvh_build_memmap(mem, map, PVH_MEMMAP_MAX);
	if (nr_map < 0)
		return nr_map;

	modlist_gpa = GUEST_START_INFO_GPA + sizeof(si);
	memmap_gpa = modlist_gpa + (b->initrd_len ? sizeof(mod) : 0);
	end = memmap_gpa + (uint64_t)nr_map * sizeof(map[0]);
	if (end > GUEST_START_INFO_GPA + PVH_INFO_PAGE_SIZE)
		return -E2BIG;

	si.magic = XEN_HVM_START_MAGIC_VALUE;
	si.version = 1;
	si.flags = 0;
	si.cmdline_paddr = b->cmdline ? GUEST_CMDLINE_GPA : 0;
	si.rsdp_paddr = b->rsdp_gpa;
	si.memmap_paddr = memmap_gpa;
	si.memmap_entries = (uint32_t)nr_map;
	if (b->initrd_len) {
		mod.paddr = b->initrd_gpa;
		mod.size = b->initrd_len;
		mod.cmdline_paddr = 0;
		si.nr_modules = 1;
		si.modlist_paddr = modlist_gpa;
	}

	ret = gmem_write(mem, GUEST_START_INFO_GPA, &si, sizeof(si));
	if (ret < 0)
		goto out;
	if (b->initrd_len) {
		ret = gmem_write(mem, modlist_gpa, &mod, sizeof(mod));
		if (ret < 0)
			goto out;
	}
	ret = gmem_write(mem, memmap_gpa, map, (size_t)nr_map * sizeof(map[0]));
	if (ret < 0)
		goto out;
	if (b->cmdline) {
		ret =
		    gmem_write(mem, GUEST_CMDLINE_GPA, b->cmdline, cmdline_len);
		if (ret < 0)
			goto out;
	}
	*start_info_gpa = GUEST_START_INFO_GPA;
out:
	return ret;
}
