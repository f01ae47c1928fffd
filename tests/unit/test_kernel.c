/* Unit tests for the PVH kernel loader (src/domain/boot/kernel.c) and the
 * payload decoders (decompress.c).  Every fixture is built here in memory:
 * a small x86-64 ELF with two PT_LOAD segments (one with bss) and the Xen
 * PHYS32_ENTRY note, wrapped into synthetic bzImages with each compressor.
 * The last cases load Debian's real kernel when it is installed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <bzlib.h>
#include <elf.h>
#include <errno.h>
#include <lz4.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xen/elfnote.h>
#include <zlib.h>
#include <zstd.h>

#include "domain/boot/decompress.h"
#include "domain/boot/kernel.h"
#include "domain/boot/layout.h"
#include "domain/guest_mem.h"

#define REAL_KERNEL "/boot/vmlinuz-6.1.0-50-cloud-amd64"
#define GUEST_MB 256ULL

/* The fixture ELF's layout (file offsets) and where it loads. */
#define FX_PHOFF 0x40
#define FX_NOTES 0x100
#define FX_SHOFF 0x180
#define FX_SEG1_OFF 0x1000
#define FX_SEG1_PA 0x200000ULL
#define FX_SEG1_SZ 0x1000
#define FX_SEG2_OFF 0x2000
#define FX_SEG2_PA 0x400000ULL
#define FX_SEG2_FILESZ 0x800
#define FX_SEG2_MEMSZ 0x3000
#define FX_ELF_SIZE 0x2800
#define FX_ENTRY (FX_SEG1_PA + 0x10)

/* bzImage fixture: setup sectors and payload placement. */
#define FX_BZ_SECTS 3
#define FX_BZ_POFF 0x200

enum fx_elf {
	EV_OK,
	EV_NOTE_SECTION, /* note only in an SHT_NOTE section */
	EV_DESC64,	 /* 8-byte entry descriptor */
	EV_NO_NOTE,
	EV_SEG_OUTSIDE, /* second segment above guest RAM */
	EV_SEG_LOW,	/* first segment in the reserved area below 1 MiB */
	EV_SEG_WRAP,	/* paddr + memsz wraps */
	EV_FILESZ_BIG,	/* p_filesz > p_memsz */
	EV_PHOFF_BEYOND,
	EV_PHNUM_HUGE,
	EV_PHENTSIZE,
	EV_TRUNC_SEG,	 /* file cut inside the second segment's bytes */
	EV_TRUNC_HDR,	 /* file cut inside the ELF header */
	EV_NOTE_CORRUPT, /* descsz runs past the note area */
	EV_NOTE_DESCSZ,	 /* PHYS32_ENTRY with a 2-byte descriptor */
	EV_NOTE_AREA_BEYOND,
	EV_ENTRY_OUTSIDE,
	EV_ELF32,
	EV_ARM64,
	EV_DYN,
};

enum fx_codec {
	CD_GZIP,	/* gzip plus the appended size */
	CD_GZIP_KERNEL, /* as the kernel builds it: ISIZE is the size */
	CD_BZIP2,
	CD_LZ4,
	CD_LZ4_MULTI, /* 4 KiB blocks, a repeated magic between blocks */
	CD_XZ,
	CD_LZMA,
	CD_ZSTD,
	CD_ZSTD_NOSIZE, /* frame without content size, as zstd(1) from a pipe */
	CD_COUNT,
};

enum fx_bz {
	BV_OK,
	BV_SECTS0,     /* setup_sects 0 means 4 */
	BV_FILE_CUT,   /* the file ends inside the payload */
	BV_STREAM_CUT, /* compressed stream cut, size still appended */
	BV_FLIP,       /* bytes flipped in the middle of the stream */
	BV_SIZE_BIG,   /* appended size larger than the data */
	BV_SIZE_SMALL, /* appended size smaller than the data */
	BV_SIZE_ZERO,
	BV_GARBAGE, /* extra bytes between stream and appended size */
	BV_OLD_PROTO,
	BV_BAD_MAGIC,
	BV_HUGE_OFFSET,
	BV_LZ4_BADBLOCK, /* first block claims 2 GiB */
	BV_NOT_ELF,	 /* payload decompresses to something else */
	BV_HDR_TRUNC,	 /* file ends inside the setup header */
};

enum fx_kind { K_ELF, K_BZ, K_RANDOM, K_SCRIPT, K_EMPTY };

struct kcase {
	const char *name;
	enum fx_kind kind;
	enum fx_elf ev;
	enum fx_codec cd;
	enum fx_bz bv;
	int want;	      /* 0 or -errno */
	const char *want_err; /* substring of err when want < 0 */
	uint64_t guest_mb;    /* 0: GUEST_MB */
};

typedef int (*fx_compress_fn)(const uint8_t *in, size_t len, uint8_t **out,
			      size_t *outlen);

struct fx_codec_desc {
	const char *label; /* kernel_info.format expected */
	fx_compress_fn fn;
	bool append_size;
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void fx_fill(uint8_t *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 37 + i * 13 + (i >> 5) + (i >> 11));
}

/* Writes one note at p; returns its padded size. */
static size_t fx_note(uint8_t *p, uint32_t type, const void *desc,
		      uint32_t descsz)
{
	put32(p, 4);
	put32(p + 4, descsz);
	put32(p + 8, type);
	memcpy(p + 12, "Xen", 4);
	memcpy(p + 16, desc, descsz);
	return 16 + ((descsz + 3) & ~3u);
}

/* The fixture ELF with one defect chosen by v; *len gets its size. */
static uint8_t *fx_elf(enum fx_elf v, size_t *len)
{
	uint8_t *b = calloc(1, FX_ELF_SIZE);
	Elf64_Ehdr eh;
	Elf64_Phdr ph[3];
	Elf64_Shdr sh[2];
	uint32_t entry32 = (uint32_t)FX_ENTRY;
	uint64_t entry64 = FX_ENTRY;
	size_t notes = 0, desc_off;

	assert_non_null(b);
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = 0xffffffff81000000ULL;
	eh.e_phoff = FX_PHOFF;
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 3;
	eh.e_shentsize = sizeof(Elf64_Shdr);

	memset(ph, 0, sizeof(ph));
	ph[0].p_type = PT_LOAD;
	ph[0].p_flags = PF_R | PF_X;
	ph[0].p_offset = FX_SEG1_OFF;
	ph[0].p_vaddr = 0xffffffff80000000ULL + FX_SEG1_PA;
	ph[0].p_paddr = FX_SEG1_PA;
	ph[0].p_filesz = FX_SEG1_SZ;
	ph[0].p_memsz = FX_SEG1_SZ;
	ph[0].p_align = 0x1000;
	ph[1].p_type = PT_LOAD;
	ph[1].p_flags = PF_R | PF_W;
	ph[1].p_offset = FX_SEG2_OFF;
	ph[1].p_vaddr = 0xffffffff80000000ULL + FX_SEG2_PA;
	ph[1].p_paddr = FX_SEG2_PA;
	ph[1].p_filesz = FX_SEG2_FILESZ;
	ph[1].p_memsz = FX_SEG2_MEMSZ;
	ph[1].p_align = 0x1000;

	/* A GUEST_OS note first, so the scan has to step over one. */
	notes += fx_note(b + FX_NOTES, XEN_ELFNOTE_GUEST_OS, "linux", 6);
	desc_off = FX_NOTES + notes + 16;
	if (v == EV_DESC64)
		notes += fx_note(b + FX_NOTES + notes, XEN_ELFNOTE_PHYS32_ENTRY,
				 &entry64, 8);
	else if (v != EV_NO_NOTE)
		notes += fx_note(b + FX_NOTES + notes, XEN_ELFNOTE_PHYS32_ENTRY,
				 &entry32, 4);
	ph[2].p_type = PT_NOTE;
	ph[2].p_offset = FX_NOTES;
	ph[2].p_filesz = notes;
	ph[2].p_align = 4;

	fx_fill(b + FX_SEG1_OFF, FX_SEG1_SZ, 1);
	fx_fill(b + FX_SEG2_OFF, FX_SEG2_FILESZ, 2);
	*len = FX_ELF_SIZE;

	switch (v) {
	case EV_NOTE_SECTION:
		ph[2].p_type = PT_NULL;
		memset(sh, 0, sizeof(sh));
		sh[1].sh_type = SHT_NOTE;
		sh[1].sh_offset = FX_NOTES;
		sh[1].sh_size = notes;
		sh[1].sh_addralign = 4;
		memcpy(b + FX_SHOFF, sh, sizeof(sh));
		eh.e_shoff = FX_SHOFF;
		eh.e_shnum = 2;
		break;
	case EV_SEG_OUTSIDE:
		ph[1].p_paddr = GUEST_MB << 20;
		break;
	case EV_SEG_LOW:
		ph[0].p_paddr = 0xF0000;
		break;
	case EV_SEG_WRAP:
		ph[1].p_paddr = 0xFFFFFFFFFFFFF000ULL;
		break;
	case EV_FILESZ_BIG:
		ph[1].p_filesz = FX_SEG2_MEMSZ + 1;
		break;
	case EV_PHOFF_BEYOND:
		eh.e_phoff = FX_ELF_SIZE - 100;
		break;
	case EV_PHNUM_HUGE:
		eh.e_phnum = 0xFFFE;
		break;
	case EV_PHENTSIZE:
		eh.e_phentsize = 32;
		break;
	case EV_TRUNC_SEG:
		*len = FX_SEG2_OFF + FX_SEG2_FILESZ / 2;
		break;
	case EV_TRUNC_HDR:
		*len = 40;
		break;
	case EV_NOTE_CORRUPT:
		put32(b + FX_NOTES + 4, 0x7FFFFFF0);
		break;
	case EV_NOTE_DESCSZ:
		put32(b + desc_off - 12, 2);
		break;
	case EV_NOTE_AREA_BEYOND:
		ph[2].p_offset = FX_ELF_SIZE - 8;
		break;
	case EV_ENTRY_OUTSIDE:
		put32(b + desc_off, 0x300000);
		break;
	case EV_ELF32:
		eh.e_ident[EI_CLASS] = ELFCLASS32;
		break;
	case EV_ARM64:
		eh.e_machine = EM_AARCH64;
		break;
	case EV_DYN:
		eh.e_type = ET_DYN;
		break;
	default:
		break;
	}
	memcpy(b, &eh, sizeof(eh));
	memcpy(b + FX_PHOFF, ph, sizeof(ph));
	return b;
}

static int fx_gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	z_stream zs;
	uLong bound;

	memset(&zs, 0, sizeof(zs));
	/* windowBits 31: deflate with the gzip wrapper. */
	if (deflateInit2(&zs, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	bound = deflateBound(&zs, len) + 32;
	*out = malloc(bound);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = *out;
	zs.avail_out = (uInt)bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&zs);
		return -1;
	}
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return 0;
}

static int fx_bzip2(const uint8_t *in, size_t len, uint8_t **out,
		    size_t *outlen)
{
	unsigned int n = (unsigned int)(len + len / 100 + 600);

	*out = malloc(n);
	if (BZ2_bzBuffToBuffCompress((char *)*out, &n, (char *)in,
				     (unsigned int)len, 9, 0, 0) != BZ_OK)
		return -1;
	*outlen = n;
	return 0;
}

/* The LZ4 legacy frame with blocks of `block` bytes; with `remagic` the
 * magic is repeated after the first block (a concatenated frame). */
static int fx_lz4_blocks(const uint8_t *in, size_t len, uint8_t **out,
			 size_t *outlen, size_t block, bool remagic)
{
	size_t nblocks = (len + block - 1) / block, pos = 4, i, n;
	size_t cap = 8 + nblocks * (8 + (size_t)LZ4_compressBound((int)block));
	int c;

	*out = malloc(cap);
	put32(*out, 0x184C2102);
	for (i = 0; i < len; i += block) {
		n = len - i < block ? len - i : block;
		c = LZ4_compress_default((const char *)in + i,
					 (char *)*out + pos + 4, (int)n,
					 LZ4_compressBound((int)n));
		if (c <= 0)
			return -1;
		put32(*out + pos, (uint32_t)c);
		pos += 4 + (size_t)c;
		if (remagic && i == 0) {
			put32(*out + pos, 0x184C2102);
			pos += 4;
		}
	}
	*outlen = pos;
	return 0;
}

static int fx_lz4(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	return fx_lz4_blocks(in, len, out, outlen, 8 << 20, false);
}

static int fx_lz4_multi(const uint8_t *in, size_t len, uint8_t **out,
			size_t *outlen)
{
	return fx_lz4_blocks(in, len, out, outlen, 4096, true);
}

static int fx_xz(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	lzma_options_lzma opt;
	lzma_filter filters[3];
	size_t cap = lzma_stream_buffer_bound(len), pos = 0;

	/* As the kernel's xz_wrap.sh: x86 BCJ, LZMA2, CRC32. */
	if (lzma_lzma_preset(&opt, 0))
		return -1;
	filters[0].id = LZMA_FILTER_X86;
	filters[0].options = NULL;
	filters[1].id = LZMA_FILTER_LZMA2;
	filters[1].options = &opt;
	filters[2].id = LZMA_VLI_UNKNOWN;
	filters[2].options = NULL;
	*out = malloc(cap);
	if (lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC32, NULL, in, len,
				      *out, &pos, cap) != LZMA_OK)
		return -1;
	*outlen = pos;
	return 0;
}

static int fx_lzma(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	lzma_stream ls = LZMA_STREAM_INIT;
	lzma_options_lzma opt;
	size_t cap = len + len / 2 + 4096;
	lzma_ret r;

	if (lzma_lzma_preset(&opt, 0) ||
	    lzma_alone_encoder(&ls, &opt) != LZMA_OK)
		return -1;
	*out = malloc(cap);
	ls.next_in = in;
	ls.avail_in = len;
	ls.next_out = *out;
	ls.avail_out = cap;
	do {
		r = lzma_code(&ls, LZMA_FINISH);
	} while (r == LZMA_OK);
	*outlen = cap - ls.avail_out;
	lzma_end(&ls);
	return r == LZMA_STREAM_END ? 0 : -1;
}

static int fx_zstd_common(const uint8_t *in, size_t len, uint8_t **out,
			  size_t *outlen, bool content_size)
{
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t cap = ZSTD_compressBound(len), r;

	*out = malloc(cap);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 19);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, content_size);
	r = ZSTD_compress2(cc, *out, cap, in, len);
	ZSTD_freeCCtx(cc);
	if (ZSTD_isError(r))
		return -1;
	*outlen = r;
	return 0;
}

static int fx_zstd(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	return fx_zstd_common(in, len, out, outlen, true);
}

static int fx_zstd_nosize(const uint8_t *in, size_t len, uint8_t **out,
			  size_t *outlen)
{
	return fx_zstd_common(in, len, out, outlen, false);
}

static const struct fx_codec_desc fx_codecs[CD_COUNT] = {
    [CD_GZIP] = {"bzImage/gzip", fx_gzip, true},
    [CD_GZIP_KERNEL] = {"bzImage/gzip", fx_gzip, false},
    [CD_BZIP2] = {"bzImage/bzip2", fx_bzip2, true},
    [CD_LZ4] = {"bzImage/lz4", fx_lz4, true},
    [CD_LZ4_MULTI] = {"bzImage/lz4", fx_lz4_multi, true},
    [CD_XZ] = {"bzImage/xz", fx_xz, true},
    [CD_LZMA] = {"bzImage/lzma", fx_lzma, true},
    [CD_ZSTD] = {"bzImage/zstd", fx_zstd, true},
    [CD_ZSTD_NOSIZE] = {"bzImage/zstd", fx_zstd_nosize, true},
};

/* Wraps an already compressed stream into a bzImage: boot sector, setup
 * header, a fake decompressor, the payload, its appended size, and some
 * bytes after it as in a real image. */
static uint8_t *fx_bz_wrap(const uint8_t *comp, size_t clen, bool append,
			   uint32_t size, unsigned sects, size_t *len)
{
	size_t pm = (size_t)((sects ? sects : 4) + 1) * 512;
	size_t plen = clen + (append ? 4 : 0);
	size_t n = pm + FX_BZ_POFF + plen + 0x80;
	uint8_t *b = calloc(1, n);

	assert_non_null(b);
	b[0x1F1] = (uint8_t)sects;
	b[0x1FE] = 0x55;
	b[0x1FF] = 0xAA;
	memcpy(b + 0x202, "HdrS", 4);
	b[0x206] = 0x0F;
	b[0x207] = 0x02;
	put32(b + 0x248, FX_BZ_POFF);
	put32(b + 0x24C, (uint32_t)plen);
	memset(b + pm, 0x90, FX_BZ_POFF);
	memcpy(b + pm + FX_BZ_POFF, comp, clen);
	if (append)
		put32(b + pm + FX_BZ_POFF + clen, size);
	memset(b + pm + FX_BZ_POFF + plen, 0xEE, 0x80);
	*len = n;
	return b;
}

static uint8_t *fx_bzimage(enum fx_elf ev, enum fx_codec cd, enum fx_bz bv,
			   size_t *len)
{
	const struct fx_codec_desc *c = &fx_codecs[cd];
	uint8_t *elf, *comp = NULL, *big, *img;
	size_t elflen, clen = 0, pm, i;
	uint32_t size;
	unsigned sects = bv == BV_SECTS0 ? 0 : FX_BZ_SECTS;

	elf = fx_elf(ev, &elflen);
	if (bv == BV_NOT_ELF)
		memcpy(elf, "#!/bin/sh\n", 10);
	assert_int_equal(c->fn(elf, elflen, &comp, &clen), 0);
	size = (uint32_t)elflen;
	switch (bv) {
	case BV_STREAM_CUT:
		clen /= 2;
		break;
	case BV_FLIP:
		for (i = clen / 2; i < clen / 2 + 8; i++)
			comp[i] ^= 0x5A;
		break;
	case BV_SIZE_BIG:
		size++;
		break;
	case BV_SIZE_SMALL:
		size--;
		break;
	case BV_SIZE_ZERO:
		size = 0;
		break;
	case BV_GARBAGE:
		big = realloc(comp, clen + 16);
		assert_non_null(big);
		comp = big;
		memset(comp + clen, 0xAB, 16);
		clen += 16;
		break;
	case BV_LZ4_BADBLOCK:
		put32(comp + 4, 0x7FFFFFFF);
		break;
	default:
		break;
	}
	img = fx_bz_wrap(comp, clen, c->append_size, size, sects, len);
	pm = (size_t)((sects ? sects : 4) + 1) * 512;
	switch (bv) {
	case BV_FILE_CUT:
		*len = pm + FX_BZ_POFF + clen / 2;
		break;
	case BV_OLD_PROTO:
		img[0x206] = 0x06;
		break;
	case BV_BAD_MAGIC:
		memset(img + pm + FX_BZ_POFF, 0, 4);
		break;
	case BV_HUGE_OFFSET:
		put32(img + 0x248, 0xFFFFFFF0);
		break;
	case BV_HDR_TRUNC:
		*len = 0x208;
		break;
	default:
		break;
	}
	free(comp);
	free(elf);
	return img;
}

static uint8_t *fx_build(const struct kcase *c, size_t *len)
{
	static const char script[] = "#!/bin/sh\necho not a kernel\n";
	uint8_t *b;
	size_t i;

	switch (c->kind) {
	case K_ELF:
		return fx_elf(c->ev, len);
	case K_BZ:
		return fx_bzimage(c->ev, c->cd, c->bv, len);
	case K_RANDOM:
		b = malloc(4096);
		srand(42);
		for (i = 0; i < 4096; i++)
			b[i] = (uint8_t)rand();
		*len = 4096;
		return b;
	case K_SCRIPT:
		b = malloc(sizeof(script));
		memcpy(b, script, sizeof(script) - 1);
		*len = sizeof(script) - 1;
		return b;
	case K_EMPTY:
	default:
		*len = 0;
		return malloc(1);
	}
}

/* Paints the fixture's guest ranges so a load must overwrite them. */
static void fx_paint(struct guest_mem *mem)
{
	memset(gmem_ptr(mem, FX_SEG1_PA, FX_SEG1_SZ), 0xCC, FX_SEG1_SZ);
	memset(gmem_ptr(mem, FX_SEG2_PA, FX_SEG2_MEMSZ), 0xCC, FX_SEG2_MEMSZ);
}

static bool fx_all(const uint8_t *p, size_t n, uint8_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* Asserts that guest memory holds the fixture exactly. */
static void fx_check_loaded(const struct guest_mem *mem,
			    const struct kernel_info *ki)
{
	uint8_t *ref;
	size_t reflen;

	ref = fx_elf(EV_OK, &reflen);
	assert_int_equal(ki->entry, FX_ENTRY);
	assert_int_equal(ki->paddr_lo, FX_SEG1_PA);
	assert_int_equal(ki->paddr_hi, FX_SEG2_PA + FX_SEG2_MEMSZ);
	assert_memory_equal(gmem_ptr(mem, FX_SEG1_PA, FX_SEG1_SZ),
			    ref + FX_SEG1_OFF, FX_SEG1_SZ);
	assert_memory_equal(gmem_ptr(mem, FX_SEG2_PA, FX_SEG2_FILESZ),
			    ref + FX_SEG2_OFF, FX_SEG2_FILESZ);
	assert_true(fx_all(gmem_ptr(mem, FX_SEG2_PA + FX_SEG2_FILESZ,
				    FX_SEG2_MEMSZ - FX_SEG2_FILESZ),
			   FX_SEG2_MEMSZ - FX_SEG2_FILESZ, 0));
	free(ref);
}

/* A rejected image must leave guest memory untouched. */
static void fx_check_untouched(const struct guest_mem *mem)
{
	assert_true(
	    fx_all(gmem_ptr(mem, FX_SEG1_PA, FX_SEG1_SZ), FX_SEG1_SZ, 0xCC));
	assert_true(fx_all(gmem_ptr(mem, FX_SEG2_PA, FX_SEG2_MEMSZ),
			   FX_SEG2_MEMSZ, 0xCC));
}

static void check_err_line(const char *err)
{
	assert_true(err[0] != '\0');
	assert_null(strchr(err, '\n'));
}

static const char *fx_expected_format(const struct kcase *c)
{
	return c->kind == K_BZ ? fx_codecs[c->cd].label : "elf";
}

static void test_case(void **state)
{
	const struct kcase *c = *state;
	struct guest_mem mem = {0};
	struct kernel_info ki;
	char err[256] = "";
	uint8_t *img;
	size_t len;
	int ret;

	img = fx_build(c, &len);
	assert_int_equal(
	    gmem_alloc(&mem, (c->guest_mb ? c->guest_mb : GUEST_MB) << 20), 0);
	if (mem.size >= FX_SEG2_PA + FX_SEG2_MEMSZ)
		fx_paint(&mem);
	memset(&ki, 0, sizeof(ki));
	ret = kernel_load(img, len, &mem, &ki, err, sizeof(err));
	if (ret != c->want)
		print_error("%s: got %d (%s), want %d\n", c->name, ret, err,
			    c->want);
	assert_int_equal(ret, c->want);
	if (c->want == 0) {
		assert_string_equal(ki.format, fx_expected_format(c));
		fx_check_loaded(&mem, &ki);
	} else {
		check_err_line(err);
		if (c->want_err && !strstr(err, c->want_err)) {
			print_error("%s: error \"%s\" lacks \"%s\"\n", c->name,
				    err, c->want_err);
			fail();
		}
		if (mem.size >= FX_SEG2_PA + FX_SEG2_MEMSZ)
			fx_check_untouched(&mem);
	}
	gmem_free(&mem);
	free(img);
}

#define ELF_CASE(n, v, rc, sub)                                                \
	{                                                                      \
		.name = n, .kind = K_ELF, .ev = v, .want = rc, .want_err = sub \
	}
#define BZ_CASE(n, c, v, rc, sub)                                              \
	{                                                                      \
		.name = n, .kind = K_BZ, .ev = EV_OK, .cd = c, .bv = v,        \
		.want = rc, .want_err = sub                                    \
	}

static const struct kcase kcases[] = {
    ELF_CASE("elf/plain", EV_OK, 0, NULL),
    ELF_CASE("elf/note-in-section", EV_NOTE_SECTION, 0, NULL),
    ELF_CASE("elf/entry-desc64", EV_DESC64, 0, NULL),
    ELF_CASE("elf/no-pvh-note", EV_NO_NOTE, -ENOTSUP,
	     "XEN_ELFNOTE_PHYS32_ENTRY"),
    ELF_CASE("elf/segment-outside-ram", EV_SEG_OUTSIDE, -ENOMEM,
	     "does not fit in guest RAM"),
    ELF_CASE("elf/segment-below-1m", EV_SEG_LOW, -EINVAL, "1 MiB"),
    ELF_CASE("elf/segment-wraps", EV_SEG_WRAP, -EINVAL, "segment 1"),
    ELF_CASE("elf/filesz-over-memsz", EV_FILESZ_BIG, -EINVAL, "segment 1"),
    ELF_CASE("elf/phdrs-beyond-eof", EV_PHOFF_BEYOND, -EINVAL,
	     "program header table"),
    ELF_CASE("elf/phnum-huge", EV_PHNUM_HUGE, -EINVAL, "program header table"),
    ELF_CASE("elf/phentsize-wrong", EV_PHENTSIZE, -EINVAL,
	     "program header table"),
    ELF_CASE("elf/truncated-segment", EV_TRUNC_SEG, -EINVAL, "beyond the end"),
    ELF_CASE("elf/truncated-header", EV_TRUNC_HDR, -EINVAL,
	     "ELF header truncated"),
    ELF_CASE("elf/note-descsz-corrupt", EV_NOTE_CORRUPT, -EINVAL, "runs past"),
    ELF_CASE("elf/note-descsz-2", EV_NOTE_DESCSZ, -EINVAL, "2-byte descriptor"),
    ELF_CASE("elf/note-area-beyond-eof", EV_NOTE_AREA_BEYOND, -EINVAL,
	     "PT_NOTE"),
    ELF_CASE("elf/entry-outside-segments", EV_ENTRY_OUTSIDE, -EINVAL,
	     "no loaded segment"),
    ELF_CASE("elf/elf32", EV_ELF32, -ENOEXEC, "x86-64"),
    ELF_CASE("elf/aarch64", EV_ARM64, -ENOEXEC, "x86-64"),
    ELF_CASE("elf/et-dyn", EV_DYN, -ENOEXEC, "ET_EXEC"),
    {.name = "elf/guest-too-small",
     .kind = K_ELF,
     .ev = EV_OK,
     .want = -ENOMEM,
     .want_err = "does not fit",
     .guest_mb = 4},

    BZ_CASE("bz/gzip", CD_GZIP, BV_OK, 0, NULL),
    BZ_CASE("bz/gzip-kernel-style", CD_GZIP_KERNEL, BV_OK, 0, NULL),
    BZ_CASE("bz/bzip2", CD_BZIP2, BV_OK, 0, NULL),
    BZ_CASE("bz/lz4", CD_LZ4, BV_OK, 0, NULL),
    BZ_CASE("bz/lz4-multiblock", CD_LZ4_MULTI, BV_OK, 0, NULL),
    BZ_CASE("bz/xz", CD_XZ, BV_OK, 0, NULL),
    BZ_CASE("bz/lzma", CD_LZMA, BV_OK, 0, NULL),
    BZ_CASE("bz/zstd", CD_ZSTD, BV_OK, 0, NULL),
    BZ_CASE("bz/zstd-no-content-size", CD_ZSTD_NOSIZE, BV_OK, 0, NULL),
    BZ_CASE("bz/setup-sects-0", CD_LZ4, BV_SECTS0, 0, NULL),

    BZ_CASE("bz/gzip-file-cut", CD_GZIP, BV_FILE_CUT, -EINVAL,
	    "payload truncated"),
    BZ_CASE("bz/lz4-file-cut", CD_LZ4, BV_FILE_CUT, -EINVAL,
	    "payload truncated"),
    BZ_CASE("bz/gzip-stream-cut", CD_GZIP, BV_STREAM_CUT, -EINVAL, "gzip"),
    BZ_CASE("bz/gzip-kernel-stream-cut", CD_GZIP_KERNEL, BV_STREAM_CUT, -EINVAL,
	    "bzImage"),
    BZ_CASE("bz/bzip2-stream-cut", CD_BZIP2, BV_STREAM_CUT, -EINVAL, "bzip2"),
    BZ_CASE("bz/lz4-stream-cut", CD_LZ4, BV_STREAM_CUT, -EINVAL, "truncated"),
    BZ_CASE("bz/lz4-multi-stream-cut", CD_LZ4_MULTI, BV_STREAM_CUT, -EINVAL,
	    "bzImage"),
    BZ_CASE("bz/xz-stream-cut", CD_XZ, BV_STREAM_CUT, -EINVAL, "xz"),
    BZ_CASE("bz/lzma-stream-cut", CD_LZMA, BV_STREAM_CUT, -EINVAL, "lzma"),
    BZ_CASE("bz/zstd-stream-cut", CD_ZSTD, BV_STREAM_CUT, -EINVAL, "zstd"),
    BZ_CASE("bz/gzip-corrupt", CD_GZIP, BV_FLIP, -EINVAL, "gzip"),
    BZ_CASE("bz/bzip2-corrupt", CD_BZIP2, BV_FLIP, -EINVAL, "bzip2"),
    BZ_CASE("bz/xz-corrupt", CD_XZ, BV_FLIP, -EINVAL, "xz"),
    BZ_CASE("bz/lz4-bad-block-size", CD_LZ4, BV_LZ4_BADBLOCK, -EINVAL,
	    "lz4: block"),
    BZ_CASE("bz/lz4-size-too-big", CD_LZ4, BV_SIZE_BIG, -EINVAL, "declares"),
    BZ_CASE("bz/zstd-size-too-big", CD_ZSTD_NOSIZE, BV_SIZE_BIG, -EINVAL,
	    "declares"),
    BZ_CASE("bz/lz4-size-too-small", CD_LZ4, BV_SIZE_SMALL, -EINVAL, "bzImage"),
    BZ_CASE("bz/xz-size-too-small", CD_XZ, BV_SIZE_SMALL, -EINVAL,
	    "larger than declared"),
    BZ_CASE("bz/zstd-size-too-small", CD_ZSTD, BV_SIZE_SMALL, -EINVAL,
	    "bzImage"),
    BZ_CASE("bz/size-zero", CD_BZIP2, BV_SIZE_ZERO, -EINVAL,
	    "uncompressed bytes"),
    BZ_CASE("bz/garbage-after-stream", CD_XZ, BV_GARBAGE, -EINVAL,
	    "unexpected bytes"),
    BZ_CASE("bz/old-protocol", CD_LZ4, BV_OLD_PROTO, -ENOEXEC, "too old"),
    BZ_CASE("bz/unknown-compression", CD_LZ4, BV_BAD_MAGIC, -ENOEXEC,
	    "format unknown"),
    BZ_CASE("bz/payload-offset-huge", CD_LZ4, BV_HUGE_OFFSET, -EINVAL,
	    "payload truncated"),
    BZ_CASE("bz/payload-not-elf", CD_ZSTD, BV_NOT_ELF, -ENOEXEC, "not an ELF"),
    BZ_CASE("bz/setup-header-truncated", CD_LZ4, BV_HDR_TRUNC, -EINVAL,
	    "setup header truncated"),
    {.name = "bz/elf-without-note",
     .kind = K_BZ,
     .ev = EV_NO_NOTE,
     .cd = CD_XZ,
     .bv = BV_OK,
     .want = -ENOTSUP,
     .want_err = "PHYS32_ENTRY"},

    {.name = "other/random-bytes",
     .kind = K_RANDOM,
     .want = -ENOEXEC,
     .want_err = "not a kernel"},
    {.name = "other/shell-script",
     .kind = K_SCRIPT,
     .want = -ENOEXEC,
     .want_err = "not a kernel"},
    {.name = "other/empty",
     .kind = K_EMPTY,
     .want = -ENOEXEC,
     .want_err = "empty"},
};

/* Cuts every codec's stream at many points and flips bytes at random:
 * each load must either succeed with the fixture's entry or fail with a
 * one-line message (valgrind checks that nothing is read out of bounds). */
static void test_fuzz(void **state)
{
	struct guest_mem mem = {0};
	struct kernel_info ki;
	unsigned seed = 12345, cd, k, fails = 0, oks = 0;
	uint8_t *elf, *comp, *img, *mut;
	size_t elflen, clen, len, cut, i;
	char err[256];
	int ret;

	assert_int_equal(gmem_alloc(&mem, GUEST_MB << 20), 0);
	elf = fx_elf(EV_OK, &elflen);
	for (cd = 0; cd < CD_COUNT; cd++) {
		assert_int_equal(fx_codecs[cd].fn(elf, elflen, &comp, &clen),
				 0);
		for (cut = 0; cut < clen; cut += cut < 64 ? 1 : 7) {
			img = fx_bz_wrap(comp, cut, true, (uint32_t)elflen,
					 FX_BZ_SECTS, &len);
			err[0] = '\0';
			ret =
			    kernel_load(img, len, &mem, &ki, err, sizeof(err));
			assert_true(ret <= 0);
			if (ret < 0) {
				check_err_line(err);
				fails++;
			}
			free(img);
		}
		mut = malloc(clen);
		for (k = 0; k < 150; k++) {
			memcpy(mut, comp, clen);
			for (i = 0; i < 1 + k % 4; i++) {
				seed = seed * 1103515245 + 12345;
				mut[(seed >> 8) % clen] ^=
				    (uint8_t)(1 + (seed >> 20) % 255);
			}
			img = fx_bz_wrap(mut, clen, true, (uint32_t)elflen,
					 FX_BZ_SECTS, &len);
			err[0] = '\0';
			ret =
			    kernel_load(img, len, &mem, &ki, err, sizeof(err));
			assert_true(ret <= 0);
			if (ret < 0) {
				check_err_line(err);
				fails++;
			} else {
				oks++;
			}
			free(img);
		}
		free(mut);
		free(comp);
	}
	print_message("fuzz: %u rejected, %u accepted mutants\n", fails, oks);
	assert_true(fails > 0);
	free(elf);
	gmem_free(&mem);
}

/* The decoders on their own: the table finds each format by magic, and
 * output never goes past the buffer it is given. */
static void test_decomp_direct(void **state)
{
	uint8_t *elf, *comp, *out;
	size_t elflen, clen, used, done;
	const struct decomp_format *f;
	char err[256];
	unsigned cd;

	elf = fx_elf(EV_OK, &elflen);
	for (cd = 0; cd < CD_COUNT; cd++) {
		assert_int_equal(fx_codecs[cd].fn(elf, elflen, &comp, &clen),
				 0);
		f = decomp_identify(comp, clen);
		assert_non_null(f);
		assert_string_equal(f->label, fx_codecs[cd].label);
		/* Exact output size. */
		out = malloc(elflen);
		assert_int_equal(decomp_run(f, comp, clen, out, elflen, &used,
					    &done, err, sizeof(err)),
				 0);
		assert_int_equal(used, clen);
		assert_int_equal(done, elflen);
		assert_memory_equal(out, elf, elflen);
		/* One byte short: an error, and only elflen - 1 written
		 * (valgrind catches a write past the buffer). */
		free(out);
		out = malloc(elflen - 1);
		assert_true(decomp_run(f, comp, clen, out, elflen - 1, &used,
				       &done, err, sizeof(err)) < 0);
		assert_true(done <= elflen - 1);
		check_err_line(err);
		free(out);
		free(comp);
	}
	assert_null(decomp_identify("\x7f"
				    "ELF",
				    4));
	assert_null(decomp_identify("\x1f", 1));
	free(elf);
}

static void test_extract_elf(void **state)
{
	uint8_t *elf, *img, *out;
	size_t elflen, len, outlen;
	const char *format = NULL;
	char err[256];

	elf = fx_elf(EV_OK, &elflen);
	assert_int_equal(kernel_extract_elf(elf, elflen, &out, &outlen, &format,
					    err, sizeof(err)),
			 0);
	assert_string_equal(format, "elf");
	assert_int_equal(outlen, elflen);
	assert_memory_equal(out, elf, elflen);
	assert_true(out != elf);
	free(out);

	img = fx_bzimage(EV_OK, CD_ZSTD, BV_OK, &len);
	assert_int_equal(kernel_extract_elf(img, len, &out, &outlen, &format,
					    err, sizeof(err)),
			 0);
	assert_string_equal(format, "bzImage/zstd");
	assert_int_equal(outlen, elflen);
	assert_memory_equal(out, elf, elflen);
	free(out);
	free(img);

	assert_int_equal(kernel_extract_elf("#!", 2, &out, &outlen, &format,
					    err, sizeof(err)),
			 -ENOEXEC);
	assert_null(out);
	free(elf);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/kxen-test-kernel-XXXXXX";
	struct guest_mem mem = {0};
	struct kernel_info ki;
	uint8_t *img;
	size_t len;
	char err[256];
	int fd;

	img = fx_bzimage(EV_OK, CD_BZIP2, BV_OK, &len);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, len), (ssize_t)len);
	close(fd);
	assert_int_equal(gmem_alloc(&mem, GUEST_MB << 20), 0);
	fx_paint(&mem);
	assert_int_equal(kernel_load_file(path, &mem, &ki, err, sizeof(err)),
			 0);
	assert_string_equal(ki.format, "bzImage/bzip2");
	fx_check_loaded(&mem, &ki);

	/* An empty file is not a kernel. */
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(kernel_load_file(path, &mem, &ki, err, sizeof(err)),
			 -ENOEXEC);
	check_err_line(err);
	unlink(path);

	assert_int_equal(kernel_load_file(path, &mem, &ki, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, path));
	assert_int_equal(kernel_load_file("/tmp", &mem, &ki, err, sizeof(err)),
			 -EINVAL);
	check_err_line(err);
	gmem_free(&mem);
	free(img);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Debian's cloud kernel: a bzImage whose payload is an ELF vmlinux with
 * the PVH note.  Skipped where it is not installed. */
static void test_real_kernel(void **state)
{
	struct guest_mem mem = {0};
	struct kernel_info ki, ki2;
	uint8_t *elf = NULL;
	size_t elflen;
	const char *format;
	char err[256] = "";
	double t0, t1;
	FILE *f;
	uint8_t *img;
	long flen;
	int ret;

	if (access(REAL_KERNEL, R_OK) != 0) {
		print_message("skipping: %s not readable\n", REAL_KERNEL);
		skip();
	}
	assert_int_equal(gmem_alloc(&mem, GUEST_MB << 20), 0);
	t0 = now_ms();
	ret = kernel_load_file(REAL_KERNEL, &mem, &ki, err, sizeof(err));
	t1 = now_ms();
	if (ret != 0)
		print_error("%s: %s\n", REAL_KERNEL, err);
	assert_int_equal(ret, 0);
	assert_true(strncmp(ki.format, "bzImage/", 8) == 0);
	assert_true(ki.paddr_lo >= GUEST_KERNEL_MIN_GPA);
	assert_true(ki.entry >= ki.paddr_lo && ki.entry < ki.paddr_hi);
	assert_true(ki.entry <= UINT32_MAX);

	f = fopen(REAL_KERNEL, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	flen = ftell(f);
	rewind(f);
	img = malloc((size_t)flen);
	assert_int_equal(fread(img, 1, (size_t)flen, f), (size_t)flen);
	fclose(f);
	assert_int_equal(kernel_extract_elf(img, (size_t)flen, &elf, &elflen,
					    &format, err, sizeof(err)),
			 0);
	print_message("real kernel %s: %s, %ld bytes, payload %zu bytes "
		      "decompressed, entry 0x%llx, occupies [0x%llx, 0x%llx), "
		      "loaded in %.1f ms\n",
		      REAL_KERNEL, ki.format, flen, elflen,
		      (unsigned long long)ki.entry,
		      (unsigned long long)ki.paddr_lo,
		      (unsigned long long)ki.paddr_hi, t1 - t0);

	/* The extracted vmlinux loads on its own, with the same result. */
	assert_int_equal(kernel_load(elf, elflen, &mem, &ki2, err, sizeof(err)),
			 0);
	assert_string_equal(ki2.format, "elf");
	assert_int_equal(ki2.entry, ki.entry);
	assert_int_equal(ki2.paddr_lo, ki.paddr_lo);
	assert_int_equal(ki2.paddr_hi, ki.paddr_hi);

	/* Truncated: the file ends in the middle of the payload. */
	assert_int_equal(
	    kernel_load(img, (size_t)flen / 2, &mem, &ki2, err, sizeof(err)),
	    -EINVAL);
	check_err_line(err);
	print_message("real kernel cut in half: %s\n", err);

	/* Too little guest RAM for it. */
	gmem_free(&mem);
	assert_int_equal(gmem_alloc(&mem, 16ULL << 20), 0);
	assert_int_equal(
	    kernel_load(img, (size_t)flen, &mem, &ki2, err, sizeof(err)),
	    -ENOMEM);
	check_err_line(err);
	print_message("real kernel in 16 MiB: %s\n", err);

	free(elf);
	free(img);
	gmem_free(&mem);
}

int main(void)
{
	size_t n = sizeof(kcases) / sizeof(kcases[0]), i;
	struct CMUnitTest *tests = calloc(n + 5, sizeof(*tests));
	int ret;

	for (i = 0; i < n; i++) {
		tests[i].name = kcases[i].name;
		tests[i].test_func = test_case;
		tests[i].initial_state = (void *)&kcases[i];
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_decomp_direct);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_extract_elf);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_load_file);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_fuzz);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_real_kernel);
	ret = _cmocka_run_group_tests("kernel", tests, n, NULL, NULL);
	free(tests);
	return ret;
}
