/* PVH kernel loader: an ELF vmlinux, or a bzImage whose compressed payload
 * holds one, is copied into guest memory as Xen's domain builder does.
 *
 * Accepted bzImage payloads: gzip, bzip2, LZ4 (legacy frame, as the kernel
 * builds it), xz, lzma and zstd, each decompressed through its Debian
 * library.  The ELF must be x86-64 and carry XEN_ELFNOTE_PHYS32_ENTRY
 * (note type 18, owner "Xen"); its PT_LOAD segments are placed at their
 * physical addresses (p_paddr), zero-filled up to p_memsz. */
#ifndef KXEN_DOMAIN_BOOT_KERNEL_H
#define KXEN_DOMAIN_BOOT_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "../guest_mem.h"

struct kernel_info {
	uint64_t entry;    /* 32-bit PVH entry point (guest-physical) */
	uint64_t paddr_lo; /* lowest guest-physical byte the kernel occupies */
	uint64_t paddr_hi; /* one past the highest, bss included */
	const char *format; /* "elf", "bzImage/gzip", "bzImage/lz4", ... */
};

/* Loads `image` (len bytes, caller keeps ownership) into `mem`.
 * Every segment must lie inside guest RAM at or above 1 MiB
 * (GUEST_KERNEL_MIN_GPA).  Returns 0, or -errno with a one-line human
 * explanation in err (for example "bzImage payload truncated: needs 8388608
 * bytes, file has 4096"): -ENOEXEC not a kernel, -EINVAL corrupt or
 * truncated, -ENOMEM does not fit, -ENOTSUP no PVH entry note. */
int kernel_load(const void *image, size_t len, struct guest_mem *mem,
		struct kernel_info *ki, char *err, size_t errlen);

/* Reads the file at path and calls kernel_load(). -errno on I/O error. */
int kernel_load_file(const char *path, struct guest_mem *mem,
		     struct kernel_info *ki, char *err, size_t errlen);

/* If image is a bzImage, decompresses its payload into a new malloc'd
 * buffer (*out, *outlen; caller frees) and sets *format; if it is already
 * an ELF, returns a malloc'd copy.  Same errors as kernel_load(). */
int kernel_extract_elf(const void *image, size_t len, uint8_t **out,
		       size_t *outlen, const char **format, char *err,
		       size_t errlen);

#endif
