/* PVH kernel loader: unwraps a bzImage, checks an x86-64 ELF, finds its
 * Xen PHYS32_ENTRY note and copies its PT_LOAD segments into guest memory.
 *
 * The image is untrusted.  Everything is checked before the first byte is
 * written to the guest, so a rejected kernel leaves guest memory as it was;
 * all offsets and sizes are bounded by the buffer they index, in 64-bit
 * arithmetic that cannot wrap. */
#include "kernel.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xen/elfnote.h>

#include "decompress.h"
#include "common/util.h"
#include "layout.h"
#include "le.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "kernel.c reads little-endian ELF structures in place"
#endif

/* The bzImage setup header (boot protocol, arch/x86/boot/header.S). */
#define KERNEL_BZ_SETUP_SECTS 0x1F1 /* u8: 512-byte setup sectors, 0 = 4 */
#define KERNEL_BZ_BOOT_FLAG 0x1FE   /* u16: 0xAA55 */
#define KERNEL_BZ_HDRS 0x202	    /* "HdrS" */
#define KERNEL_BZ_VERSION 0x206	    /* u16: protocol version */
#define KERNEL_BZ_PAYLOAD_OFF 0x248 /* u32: from the protected-mode part */
#define KERNEL_BZ_PAYLOAD_LEN 0x24C /* u32: includes the appended size */
#define KERNEL_BZ_HDR_END 0x250
#define KERNEL_BZ_MIN_VERSION 0x0208 /* first with payload_offset/length */

/* No kernel image file is read if it is larger than this. */
#define KERNEL_MAX_FILE DECOMP_MAX_SIZE





/* True if [off, off + size) lies inside a buffer of len bytes. */
static bool kernel_in_bounds(uint64_t off, uint64_t size, size_t len)
{
	return off <= len && size <= len - off;
}

static bool kernel_is_elf(const uint8_t *p, size_t len)
{
	return len >= SELFMAG && memcmp(p, ELFMAG, SELFMAG) == 0;
}

static bool kernel_is_bzimage(const uint8_t *p, size_t len)
{
	return len >= KERNEL_BZ_HDRS + 4 &&
	       le16_at(p + KERNEL_BZ_BOOT_FLAG) == 0xAA55 &&
	       memcmp(p + KERNEL_BZ_HDRS, "HdrS", 4) == 0;
}


/* Decompresses a bzImage's payload into a new buffer (*out, *outlen). */
static int kernel_bzimage_unpack(const uint8_t *p, size_t len, uint8_t **out,
				 size_t *outlen, const char **format, char *err,
				 size_t errlen)
{
	const struct decomp_format *fmt;
	char why[200] = "";
	uint8_t *buf = NULL;
	uint64_t pm, start;
	uint32_t poff, plen, size;
	size_t used, done;
	unsigned sects;
	uint16_t version;
	int ret;

	*out = NULL;
	*outlen = 0;
	if (len < KERNEL_BZ_HDR_END) {
		errbuf_printf(
		    err, errlen,
		    "bzImage setup header truncated: %zu bytes, needs %d", len,
		    KERNEL_BZ_HDR_END);
		ret = -EINVAL;
		goto out;
	}
	version = le16_at(p + KERNEL_BZ_VERSION);
	if (version < KERNEL_BZ_MIN_VERSION) {
		errbuf_printf(err, errlen,
			   "bzImage boot protocol %u.%02u is too old: need "
			   "2.08 or later for the payload fields",
			   version >> 8, version & 0xFF);
		ret = -ENOEXEC;
		goto out;
	}
	sects = p[KERNEL_BZ_SETUP_SECTS] ? p[KERNEL_BZ_SETUP_SECTS] : 4;
	pm = ((uint64_t)sects + 1) * 512;
	poff = le32_at(p + KERNEL_BZ_PAYLOAD_OFF);
	plen = le32_at(p + KERNEL_BZ_PAYLOAD_LEN);
	start = pm + poff;
	if (!kernel_in_bounds(start, plen, len)) {
		errbuf_printf(err, errlen,
			   "bzImage payload truncated: needs %llu bytes, file "
			   "has %zu",
			   (unsigned long long)(start + plen), len);
		ret = -EINVAL;
		goto out;
	}
	fmt = decomp_identify(p + start, plen);
	if (!fmt) {
		errbuf_printf(err, errlen,
			   "bzImage payload format unknown (starts with "
			   "%02x %02x %02x %02x)",
			   plen > 0 ? p[start] : 0, plen > 1 ? p[start + 1] : 0,
			   plen > 2 ? p[start + 2] : 0,
			   plen > 3 ? p[start + 3] : 0);
		ret = -ENOEXEC;
		goto out;
	}
	if (plen < fmt->magic_len + 4) {
		errbuf_printf(err, errlen,
			   "bzImage %s payload of %u bytes is "
			   "too short",
			   fmt->name, plen);
		ret = -EINVAL;
		goto out;
	}
	/* The build appends the uncompressed length (for gzip, it is the
	 * gzip trailer's own length field). */
	size = le32_at(p + start + plen - 4);
	if (size == 0 || size > DECOMP_MAX_SIZE) {
		errbuf_printf(err, errlen,
			   "bzImage payload declares %u uncompressed bytes "
			   "(limit %llu MiB)",
			   size, DECOMP_MAX_SIZE >> 20);
		ret = -EINVAL;
		goto out;
	}
	buf = malloc(size);
	if (!buf) {
		errbuf_printf(err, errlen,
			   "no memory for the %u-byte decompressed kernel",
			   size);
		ret = -ENOMEM;
		goto out;
	}
	mem_prefault(buf, size);
	ret = decomp_run(fmt, p + start, plen, buf, size, &used, &done, why,
			 sizeof(why));
	if (ret == -EFBIG) {
		errbuf_printf(err, errlen,
			   "bzImage payload larger than declared: %s", why);
		ret = -EINVAL;
		goto out;
	}
	if (ret < 0) {
		errbuf_printf(err, errlen, "bzImage payload: %s", why);
		goto out;
	}
	if (done != size) {
		errbuf_printf(err, errlen,
			   "bzImage %s payload decompressed to %zu bytes, but "
			   "declares %u",
			   fmt->name, done, size);
		ret = -EINVAL;
		goto out;
	}
	/* Only the appended length may follow the compressed stream. */
	if (plen - used > 4) {
		errbuf_printf(err, errlen,
			   "bzImage %s payload has %zu unexpected bytes after "
			   "its end",
			   fmt->name, plen - used - 4);
		ret = -EINVAL;
		goto out;
	}
	*out = buf;
	*outlen = size;
	*format = fmt->label;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	return ret;
}

/* Finds the ELF inside `image`: *elf points either into image itself or,
 * for a bzImage, into a new buffer returned in *owned (caller frees). */
static int kernel_unwrap(const uint8_t *image, size_t len, const uint8_t **elf,
			 size_t *elflen, uint8_t **owned, const char **format,
			 char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t buflen = 0;
	int ret;

	*owned = NULL;
	if (len == 0) {
		errbuf_printf(err, errlen, "not a kernel: the image is empty");
		return -ENOEXEC;
	}
	if (kernel_is_elf(image, len)) {
		*elf = image;
		*elflen = len;
		*format = "elf";
		return 0;
	}
	if (!kernel_is_bzimage(image, len)) {
		errbuf_printf(err, errlen,
			   "not a kernel: neither an ELF nor a bzImage (%zu "
			   "bytes, starting %02x %02x %02x %02x)",
			   len, image[0], len > 1 ? image[1] : 0,
			   len > 2 ? image[2] : 0, len > 3 ? image[3] : 0);
		return -ENOEXEC;
	}
	ret = kernel_bzimage_unpack(image, len, &buf, &buflen, format, err,
				    errlen);
	if (ret < 0)
		return ret;
	if (!kernel_is_elf(buf, buflen)) {
		errbuf_printf(err, errlen,
			   "bzImage payload (%s) is not an ELF vmlinux",
			   *format);
		free(buf);
		return -ENOEXEC;
	}
	*elf = buf;
	*elflen = buflen;
	*owned = buf;
	return 0;
}

/* Scans one note area (a PT_NOTE segment or SHT_NOTE section) for the Xen
 * PHYS32_ENTRY note.  Each note is namesz, descsz, type (u32 each), then
 * the name and the descriptor, each padded to `align`. */
static int kernel_note_scan(const uint8_t *p, uint64_t size, uint64_t align,
			    bool *found, uint64_t *entry, char *err,
			    size_t errlen)
{
	uint64_t off = 0, name_off, desc_off, next;
	uint32_t namesz, descsz, type;

	while (size - off >= 12) {
		namesz = le32_at(p + off);
		descsz = le32_at(p + off + 4);
		type = le32_at(p + off + 8);
		name_off = off + 12;
		desc_off = name_off + ((namesz + align - 1) & ~(align - 1));
		if (desc_off > size || descsz > size - desc_off) {
			errbuf_printf(err, errlen,
				   "ELF note at offset %llu (namesz %u, descsz "
				   "%u) runs past its %llu-byte note area",
				   (unsigned long long)off, namesz, descsz,
				   (unsigned long long)size);
			return -EINVAL;
		}
		if (namesz == 4 && memcmp(p + name_off, "Xen", 4) == 0 &&
		    type == XEN_ELFNOTE_PHYS32_ENTRY) {
			if (descsz == 4) {
				*entry = le32_at(p + desc_off);
			} else if (descsz == 8) {
				*entry = le64_at(p + desc_off);
			} else {
				errbuf_printf(
				    err, errlen,
				    "Xen PHYS32_ENTRY note has a %u-byte "
				    "descriptor, expected 4 or 8",
				    descsz);
				return -EINVAL;
			}
			*found = true;
			return 0;
		}
		next = desc_off + ((descsz + align - 1) & ~(align - 1));
		if (next >= size)
			break;
		off = next;
	}
	return 0;
}

/* ELF64 notes are 4-byte aligned in practice; an area that says 8 (the
 * GNU property notes) pads to 8. */
static uint64_t kernel_note_align(uint64_t a)
{
	return a == 8 ? 8 : 4;
}

static int kernel_find_entry(const uint8_t *elf, size_t len,
			     const Elf64_Ehdr *eh, uint64_t *entry, char *err,
			     size_t errlen)
{
	Elf64_Phdr ph;
	Elf64_Shdr sh;
	bool found = false;
	unsigned i;
	int ret;

	for (i = 0; i < eh->e_phnum && !found; i++) {
		memcpy(&ph, elf + eh->e_phoff + (uint64_t)i * sizeof(ph),
		       sizeof(ph));
		if (ph.p_type != PT_NOTE)
			continue;
		if (!kernel_in_bounds(ph.p_offset, ph.p_filesz, len)) {
			errbuf_printf(err, errlen,
				   "ELF PT_NOTE %u [0x%llx, +0x%llx) lies "
				   "beyond the end of the image (%zu bytes)",
				   i, (unsigned long long)ph.p_offset,
				   (unsigned long long)ph.p_filesz, len);
			return -EINVAL;
		}
		ret = kernel_note_scan(elf + ph.p_offset, ph.p_filesz,
				       kernel_note_align(ph.p_align), &found,
				       entry, err, errlen);
		if (ret < 0)
			return ret;
	}
	/* Without a PT_NOTE that has it, look at the SHT_NOTE sections. */
	if (!found && eh->e_shoff != 0 && eh->e_shnum != 0) {
		if (eh->e_shentsize != sizeof(Elf64_Shdr) ||
		    !kernel_in_bounds(
			eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(sh), len)) {
			errbuf_printf(err, errlen,
				   "ELF section header table (offset 0x%llx, "
				   "%u entries of %u bytes) is corrupt",
				   (unsigned long long)eh->e_shoff, eh->e_shnum,
				   eh->e_shentsize);
			return -EINVAL;
		}
		for (i = 0; i < eh->e_shnum && !found; i++) {
			memcpy(&sh,
			       elf + eh->e_shoff + (uint64_t)i * sizeof(sh),
			       sizeof(sh));
			if (sh.sh_type != SHT_NOTE)
				continue;
			if (!kernel_in_bounds(sh.sh_offset, sh.sh_size, len)) {
				errbuf_printf(err, errlen,
					   "ELF note section %u lies beyond "
					   "the end of the image",
					   i);
				return -EINVAL;
			}
			ret =
			    kernel_note_scan(elf + sh.sh_offset, sh.sh_size,
					     kernel_note_align(sh.sh_addralign),
					     &found, entry, err, errlen);
			if (ret < 0)
				return ret;
		}
	}
	if (!found) {
		errbuf_printf(err, errlen,
			   "kernel has no PVH entry: no \"Xen\" ELF note of "
			   "type XEN_ELFNOTE_PHYS32_ENTRY (%d); build it with "
			   "CONFIG_PVH",
			   XEN_ELFNOTE_PHYS32_ENTRY);
		return -ENOTSUP;
	}
	if (*entry > UINT32_MAX) {
		errbuf_printf(err, errlen,
			   "PVH entry 0x%llx is above 4 GiB; it must be a "
			   "32-bit address",
			   (unsigned long long)*entry);
		return -EINVAL;
	}
	return 0;
}

static int kernel_check_header(const uint8_t *elf, size_t len, Elf64_Ehdr *eh,
			       char *err, size_t errlen)
{
	if (len < sizeof(*eh)) {
		errbuf_printf(err, errlen,
			   "ELF header truncated: %zu bytes, needs %zu", len,
			   sizeof(*eh));
		return -EINVAL;
	}
	memcpy(eh, elf, sizeof(*eh));
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64) {
		errbuf_printf(err, errlen,
			   "ELF is not an x86-64 kernel (class %u, data %u, "
			   "machine %u)",
			   eh->e_ident[EI_CLASS], eh->e_ident[EI_DATA],
			   eh->e_machine);
		return -ENOEXEC;
	}
	if (eh->e_type != ET_EXEC) {
		errbuf_printf(err, errlen,
			   "ELF type %u is not an executable (ET_EXEC)",
			   eh->e_type);
		return -ENOEXEC;
	}
	if (eh->e_phnum == 0 || eh->e_phnum == PN_XNUM ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    !kernel_in_bounds(
		eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), len)) {
		errbuf_printf(err, errlen,
			   "ELF program header table (offset 0x%llx, %u "
			   "entries of %u bytes) is corrupt or beyond the end "
			   "of the image (%zu bytes)",
			   (unsigned long long)eh->e_phoff, eh->e_phnum,
			   eh->e_phentsize, len);
		return -EINVAL;
	}
	return 0;
}

/* Checks every PT_LOAD segment against the image and guest RAM, and that
 * the entry lies in one; fills paddr_lo/hi. */
static int kernel_check_segments(const uint8_t *elf, size_t len,
				 const Elf64_Ehdr *eh,
				 const struct guest_mem *mem, uint64_t entry,
				 struct kernel_info *ki, char *err,
				 size_t errlen)
{
	uint64_t lo = UINT64_MAX, hi = 0, end;
	bool entry_ok = false;
	unsigned i, nload = 0;
	Elf64_Phdr ph;

	for (i = 0; i < eh->e_phnum; i++) {
		memcpy(&ph, elf + eh->e_phoff + (uint64_t)i * sizeof(ph),
		       sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		nload++;
		if (ph.p_filesz > ph.p_memsz ||
		    !kernel_in_bounds(ph.p_offset, ph.p_filesz, len)) {
			errbuf_printf(err, errlen,
				   "ELF segment %u (file 0x%llx+0x%llx, memsz "
				   "0x%llx) is corrupt or beyond the end of "
				   "the image (%zu bytes)",
				   i, (unsigned long long)ph.p_offset,
				   (unsigned long long)ph.p_filesz,
				   (unsigned long long)ph.p_memsz, len);
			return -EINVAL;
		}
		if (__builtin_add_overflow(ph.p_paddr, ph.p_memsz, &end) ||
		    ph.p_paddr < GUEST_KERNEL_MIN_GPA ||
		    (ph.p_paddr < GUEST_RESERVED_END &&
		     end > GUEST_RESERVED_START)) {
			errbuf_printf(err, errlen,
				   "ELF segment %u at 0x%llx (0x%llx bytes) "
				   "must lie at or above 1 MiB",
				   i, (unsigned long long)ph.p_paddr,
				   (unsigned long long)ph.p_memsz);
			return -EINVAL;
		}
		if (!gmem_ptr(mem, ph.p_paddr, ph.p_memsz)) {
			errbuf_printf(err, errlen,
				   "ELF segment %u [0x%llx, 0x%llx) does not "
				   "fit in guest RAM (%llu MiB)",
				   i, (unsigned long long)ph.p_paddr,
				   (unsigned long long)end,
				   (unsigned long long)(mem->size >> 20));
			return -ENOMEM;
		}
		if (entry >= ph.p_paddr && entry < end)
			entry_ok = true;
		if (ph.p_paddr < lo)
			lo = ph.p_paddr;
		if (end > hi)
			hi = end;
	}
	if (nload == 0) {
		errbuf_printf(err, errlen, "ELF has no PT_LOAD segment");
		return -EINVAL;
	}
	if (!entry_ok) {
		errbuf_printf(err, errlen,
			   "PVH entry 0x%llx lies in no loaded segment",
			   (unsigned long long)entry);
		return -EINVAL;
	}
	ki->paddr_lo = lo;
	ki->paddr_hi = hi;
	return 0;
}

static int kernel_load_elf(const uint8_t *elf, size_t len,
			   struct guest_mem *mem, struct kernel_info *ki,
			   char *err, size_t errlen)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	uint8_t *dst;
	unsigned i;
	int ret;

	ret = kernel_check_header(elf, len, &eh, err, errlen);
	if (ret < 0)
		return ret;
	ret = kernel_find_entry(elf, len, &eh, &ki->entry, err, errlen);
	if (ret < 0)
		return ret;
	ret = kernel_check_segments(elf, len, &eh, mem, ki->entry, ki, err,
				    errlen);
	if (ret < 0)
		return ret;
	/* Every segment was checked above; now copy. */
	for (i = 0; i < eh.e_phnum; i++) {
		memcpy(&ph, elf + eh.e_phoff + (uint64_t)i * sizeof(ph),
		       sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		dst = gmem_ptr(mem, ph.p_paddr, ph.p_memsz);
		mem_prefault(dst, ph.p_memsz);
		memcpy(dst, elf + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}
	return 0;
}

int kernel_load(const void *image, size_t len, struct guest_mem *mem,
		struct kernel_info *ki, char *err, size_t errlen)
{
	const uint8_t *elf;
	uint8_t *owned = NULL;
	struct kernel_info info;
	size_t elflen;
	int ret;

	memset(&info, 0, sizeof(info));
	ret = kernel_unwrap(image, len, &elf, &elflen, &owned, &info.format,
			    err, errlen);
	if (ret < 0)
		goto out;
	ret = kernel_load_elf(elf, elflen, mem, &info, err, errlen);
	if (ret < 0)
		goto out;
	*ki = info;
out:
	free(owned);
	return ret;
}

int kernel_extract_elf(const void *image, size_t len, uint8_t **out,
		       size_t *outlen, const char **format, char *err,
		       size_t errlen)
{
	const uint8_t *elf;
	uint8_t *owned = NULL;
	size_t elflen;
	int ret;

	*out = NULL;
	*outlen = 0;
	ret = kernel_unwrap(image, len, &elf, &elflen, &owned, format, err,
			    errlen);
	if (ret < 0)
		goto out;
	if (!owned) {
		owned = malloc(elflen);
		if (!owned) {
			errbuf_printf(err, errlen, "no memory to copy the ELF");
			ret = -ENOMEM;
			goto out;
		}
		memcpy(owned, elf, elflen);
	}
	*out = owned;
	*outlen = elflen;
	owned = NULL;
out:
	free(owned);
	return ret;
}

int kernel_load_file(const char *path, struct guest_mem *mem,
		     struct kernel_info *ki, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t size;
	int ret;

	ret = file_read_all(path, "kernel", KERNEL_MAX_FILE, &buf, &size, err,
			    errlen);
	if (ret)
		return ret;
	ret = kernel_load(buf, size, mem, ki, err, errlen);
	free(buf);
	return ret;
}
