/* Guest-physical memory of one domain, and the one checked accessor through
 * which all of kxen touches it.
 *
 * Layout (see docs/architecture.md): guest RAM is one host mapping.  The
 * first `low_size` bytes appear at guest-physical 0; anything above that
 * appears at 4 GiB, leaving the hole [low_size, 4 GiB) for the LAPIC and
 * other MMIO.  A guest never chooses where its RAM is, so the accessor only
 * has to check that the whole range lies inside one of the two parts. */
#ifndef KXEN_DOMAIN_GUEST_MEM_H
#define KXEN_DOMAIN_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_PAGE_SIZE 4096ULL
#define GUEST_4G (1ULL << 32)
/* RAM below 4 GiB stops here at most; the rest is mapped from 4 GiB up. */
#define GUEST_LOW_RAM_MAX 0xE0000000ULL

struct guest_mem {
	uint8_t *host;      /* host mapping of all guest RAM */
	int fd;             /* memfd holding it (file offset = host offset),
			       so that a daemon can map a single page of it */
	uint64_t size;      /* bytes of guest RAM */
	uint64_t low_size;  /* bytes of it at guest-physical [0, low_size) */
};

/* Splits `size` bytes of RAM into the low and high parts (no mapping;
 * fd set to -1). */
void gmem_layout(struct guest_mem *m, uint64_t size);

/* Creates `size` bytes of guest RAM in a memfd and maps it shared; returns
 * 0 or -errno.  The memfd lets kxend map just the xenstore ring page,
 * never the VM. */
int gmem_alloc(struct guest_mem *m, uint64_t size);
void gmem_free(struct guest_mem *m);

/* File offset in m->fd of guest-physical gpa, or -1 if not RAM. */
int64_t gmem_file_offset(const struct guest_mem *m, uint64_t gpa);

/* The checked accessor: a host pointer to guest-physical [gpa, gpa+len) or
 * NULL if any byte of it is not guest RAM, or the range wraps.  len 0 is
 * treated as 1.  The pointer stays valid while the domain's memory is
 * mapped. */
void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Copies between guest-physical memory and a host buffer; 0 or -EFAULT. */
int gmem_read(const struct guest_mem *m, uint64_t gpa, void *buf, size_t len);
int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *buf,
	       size_t len);

#endif
