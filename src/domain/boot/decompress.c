/* Kernel payload decompression: one decoder per format, found through a
 * table keyed by magic bytes.  Every decoder writes into the caller's
 * buffer, never past outlen, and reads only in[0, inlen). */
#include "decompress.h"

#include <bzlib.h>
#include <errno.h>
#include <limits.h>
#include <lz4.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "common/util.h"
#include "le.h"

/* zlib, bzip2 and LZ4 count bytes in unsigned or int; decomp_run() keeps
 * every size below this bound, so a single call covers a whole buffer. */
_Static_assert(DECOMP_MAX_SIZE <= INT_MAX, "sizes must fit an int");

/* liblzma may allocate at most this much (dictionary and state).  The
 * kernel's xz uses a 32 MiB dictionary and lzma -9 a 64 MiB one. */
#define DECOMP_LZMA_MEMLIMIT (256ULL << 20)

/* The LZ4 legacy frame: magic, then [u32 LE compressed size][block]
 * repeated; every block decodes to at most 8 MiB.  The frame has no end
 * marker.  Like the kernel's own decoder we take a zero size as the end
 * and a repeated magic as the start of a concatenated frame. */
#define DECOMP_LZ4_LEGACY_MAGIC 0x184C2102U
#define DECOMP_LZ4_LEGACY_BLOCK (8U << 20)



static int decomp_gzip(const uint8_t *in, size_t inlen, uint8_t *out,
		       size_t outlen, size_t *in_used, size_t *out_done,
		       char *err, size_t errlen)
{
	z_stream zs;
	int zr, ret;

	memset(&zs, 0, sizeof(zs));
	/* 16 + MAX_WBITS: the gzip wrapper only, with its CRC32 and length. */
	zr = inflateInit2(&zs, 16 + MAX_WBITS);
	if (zr != Z_OK) {
		errbuf_printf(err, errlen, "gzip: cannot start decoder (%d)", zr);
		return zr == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
	}
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)inlen;
	zs.next_out = out;
	zs.avail_out = (uInt)outlen;
	zr = inflate(&zs, Z_FINISH);
	*in_used = inlen - zs.avail_in;
	*out_done = outlen - zs.avail_out;
	switch (zr) {
	case Z_STREAM_END:
		ret = 0;
		break;
	case Z_MEM_ERROR:
		errbuf_printf(err, errlen, "gzip: out of memory");
		ret = -ENOMEM;
		break;
	case Z_BUF_ERROR:
		if (zs.avail_out == 0 && zs.avail_in > 0) {
			errbuf_printf(err, errlen,
				   "gzip: data decodes to more than %zu bytes",
				   outlen);
			ret = -EFBIG;
		} else {
			errbuf_printf(err, errlen,
				   "gzip: stream truncated after %zu bytes",
				   *in_used);
			ret = -EINVAL;
		}
		break;
	default:
		errbuf_printf(err, errlen, "gzip: corrupt data at byte %zu (%s)",
			   *in_used, zs.msg ? zs.msg : "unknown error");
		ret = -EINVAL;
		break;
	}
	inflateEnd(&zs);
	return ret;
}

static int decomp_bzip2(const uint8_t *in, size_t inlen, uint8_t *out,
			size_t outlen, size_t *in_used, size_t *out_done,
			char *err, size_t errlen)
{
	bz_stream bs;
	unsigned int before_in, before_out;
	int br, ret;

	memset(&bs, 0, sizeof(bs));
	br = BZ2_bzDecompressInit(&bs, 0, 0);
	if (br != BZ_OK) {
		errbuf_printf(err, errlen, "bzip2: cannot start decoder (%d)", br);
		return br == BZ_MEM_ERROR ? -ENOMEM : -EINVAL;
	}
	bs.next_in = (char *)in;
	bs.avail_in = (unsigned int)inlen;
	bs.next_out = (char *)out;
	bs.avail_out = (unsigned int)outlen;
	do {
		before_in = bs.avail_in;
		before_out = bs.avail_out;
		br = BZ2_bzDecompress(&bs);
	} while (br == BZ_OK &&
		 (bs.avail_in != before_in || bs.avail_out != before_out));
	*in_used = inlen - bs.avail_in;
	*out_done = outlen - bs.avail_out;
	switch (br) {
	case BZ_STREAM_END:
		ret = 0;
		break;
	case BZ_OK:
		if (bs.avail_out == 0 && bs.avail_in > 0) {
			errbuf_printf(err, errlen,
				   "bzip2: data decodes to more than %zu bytes",
				   outlen);
			ret = -EFBIG;
		} else {
			errbuf_printf(err, errlen,
				   "bzip2: stream truncated after %zu bytes",
				   *in_used);
			ret = -EINVAL;
		}
		break;
	case BZ_MEM_ERROR:
		errbuf_printf(err, errlen, "bzip2: out of memory");
		ret = -ENOMEM;
		break;
	default:
		errbuf_printf(err, errlen,
			   "bzip2: corrupt data near byte %zu (error %d)",
			   *in_used, br);
		ret = -EINVAL;
		break;
	}
	BZ2_bzDecompressEnd(&bs);
	return ret;
}

static int decomp_lz4(const uint8_t *in, size_t inlen, uint8_t *out,
		      size_t outlen, size_t *in_used, size_t *out_done,
		      char *err, size_t errlen)
{
	size_t pos = 4, done = 0, room;
	uint32_t csize;
	int n, ret = 0;

	/* Fewer than 5 bytes cannot hold a size and a block: whatever is
	 * left (in a bzImage, the appended length) is not ours. */
	while (inlen - pos > 4) {
		csize = le32_at(in + pos);
		if (csize == DECOMP_LZ4_LEGACY_MAGIC) {
			pos += 4;
			continue;
		}
		if (csize == 0) {
			pos += 4;
			break;
		}
		if (csize >
		    (uint32_t)LZ4_compressBound(DECOMP_LZ4_LEGACY_BLOCK)) {
			errbuf_printf(
			    err, errlen,
			    "lz4: block at byte %zu claims %u bytes, more "
			    "than any 8 MiB block needs",
			    pos, csize);
			ret = -EINVAL;
			goto out;
		}
		if (csize > inlen - pos - 4) {
			errbuf_printf(
			    err, errlen,
			    "lz4: block at byte %zu needs %u bytes, only "
			    "%zu left: stream truncated",
			    pos, csize, inlen - pos - 4);
			ret = -EINVAL;
			goto out;
		}
		room = outlen - done;
		if (room > DECOMP_LZ4_LEGACY_BLOCK)
			room = DECOMP_LZ4_LEGACY_BLOCK;
		n = LZ4_decompress_safe((const char *)in + pos + 4,
					(char *)out + done, (int)csize,
					(int)room);
		if (n < 0) {
			errbuf_printf(err, errlen,
				   "lz4: block at byte %zu is corrupt or "
				   "decodes past %zu bytes",
				   pos, outlen);
			ret = -EINVAL;
			goto out;
		}
		pos += 4 + (size_t)csize;
		done += (size_t)n;
	}
out:
	*in_used = pos;
	*out_done = done;
	return ret;
}

/* Shared by the xz and lzma decoders, which differ only in set-up. */
static int decomp_liblzma(const char *name, lzma_stream *ls, const uint8_t *in,
			  size_t inlen, uint8_t *out, size_t outlen,
			  size_t *in_used, size_t *out_done, char *err,
			  size_t errlen)
{
	lzma_ret lr;
	int ret;

	ls->next_in = in;
	ls->avail_in = inlen;
	ls->next_out = out;
	ls->avail_out = outlen;
	/* liblzma answers LZMA_BUF_ERROR once it can make no progress. */
	do {
		lr = lzma_code(ls, LZMA_FINISH);
	} while (lr == LZMA_OK);
	*in_used = inlen - ls->avail_in;
	*out_done = outlen - ls->avail_out;
	switch (lr) {
	case LZMA_STREAM_END:
		ret = 0;
		break;
	case LZMA_BUF_ERROR:
		if (ls->avail_out == 0 && ls->avail_in > 0) {
			errbuf_printf(err, errlen,
				   "%s: data decodes to more than %zu bytes",
				   name, outlen);
			ret = -EFBIG;
		} else {
			errbuf_printf(err, errlen,
				   "%s: stream truncated after %zu bytes", name,
				   *in_used);
			ret = -EINVAL;
		}
		break;
	case LZMA_MEM_ERROR:
		errbuf_printf(err, errlen, "%s: out of memory", name);
		ret = -ENOMEM;
		break;
	case LZMA_MEMLIMIT_ERROR:
		errbuf_printf(err, errlen,
			   "%s: stream needs more than %llu MiB to decode",
			   name, DECOMP_LZMA_MEMLIMIT >> 20);
		ret = -EINVAL;
		break;
	case LZMA_OPTIONS_ERROR:
		errbuf_printf(err, errlen, "%s: unsupported options in header",
			   name);
		ret = -EINVAL;
		break;
	case LZMA_FORMAT_ERROR:
		errbuf_printf(err, errlen, "%s: bad stream header", name);
		ret = -EINVAL;
		break;
	default:
		errbuf_printf(err, errlen,
			   "%s: corrupt data near byte %zu (liblzma %d)", name,
			   *in_used, (int)lr);
		ret = -EINVAL;
		break;
	}
	return ret;
}

static int decomp_xz(const uint8_t *in, size_t inlen, uint8_t *out,
		     size_t outlen, size_t *in_used, size_t *out_done,
		     char *err, size_t errlen)
{
	lzma_stream ls = LZMA_STREAM_INIT;
	lzma_ret lr;
	int ret;

	/* No LZMA_CONCATENATED: stop at the end of the first stream. */
	lr = lzma_stream_decoder(&ls, DECOMP_LZMA_MEMLIMIT, 0);
	if (lr != LZMA_OK) {
		errbuf_printf(err, errlen, "xz: cannot start decoder (%d)",
			   (int)lr);
		return lr == LZMA_MEM_ERROR ? -ENOMEM : -EINVAL;
	}
	ret = decomp_liblzma("xz", &ls, in, inlen, out, outlen, in_used,
			     out_done, err, errlen);
	lzma_end(&ls);
	return ret;
}

static int decomp_lzma(const uint8_t *in, size_t inlen, uint8_t *out,
		       size_t outlen, size_t *in_used, size_t *out_done,
		       char *err, size_t errlen)
{
	lzma_stream ls = LZMA_STREAM_INIT;
	lzma_ret lr;
	int ret;

	lr = lzma_alone_decoder(&ls, DECOMP_LZMA_MEMLIMIT);
	if (lr != LZMA_OK) {
		errbuf_printf(err, errlen, "lzma: cannot start decoder (%d)",
			   (int)lr);
		return lr == LZMA_MEM_ERROR ? -ENOMEM : -EINVAL;
	}
	ret = decomp_liblzma("lzma", &ls, in, inlen, out, outlen, in_used,
			     out_done, err, errlen);
	lzma_end(&ls);
	return ret;
}

static int decomp_zstd(const uint8_t *in, size_t inlen, uint8_t *out,
		       size_t outlen, size_t *in_used, size_t *out_done,
		       char *err, size_t errlen)
{
	ZSTD_DCtx *dctx = NULL;
	size_t frame, zr;
	int ret = 0;

	*in_used = 0;
	*out_done = 0;
	/* The whole output is in memory, so one frame decodes in one pass
	 * with no window buffer; first find where the frame ends, since
	 * other bytes may follow it. */
	frame = ZSTD_findFrameCompressedSize(in, inlen);
	if (ZSTD_isError(frame)) {
		errbuf_printf(err, errlen, "zstd: truncated or corrupt frame (%s)",
			   ZSTD_getErrorName(frame));
		ret = -EINVAL;
		goto out;
	}
	dctx = ZSTD_createDCtx();
	if (!dctx) {
		errbuf_printf(err, errlen, "zstd: out of memory");
		ret = -ENOMEM;
		goto out;
	}
	zr = ZSTD_decompressDCtx(dctx, out, outlen, in, frame);
	if (ZSTD_isError(zr)) {
		if (ZSTD_getErrorCode(zr) == ZSTD_error_dstSize_tooSmall) {
			errbuf_printf(err, errlen,
				   "zstd: data decodes to more than %zu bytes",
				   outlen);
			ret = -EFBIG;
		} else {
			errbuf_printf(err, errlen, "zstd: corrupt data (%s)",
				   ZSTD_getErrorName(zr));
			ret = -EINVAL;
		}
		goto out;
	}
	*in_used = frame;
	*out_done = zr;
out:
	ZSTD_freeDCtx(dctx);
	return ret;
}

static const struct decomp_format decomp_formats[] = {
    {"gzip", "bzImage/gzip", {0x1F, 0x8B}, 2, decomp_gzip},
    {"bzip2", "bzImage/bzip2", {'B', 'Z', 'h'}, 3, decomp_bzip2},
    {"lz4", "bzImage/lz4", {0x02, 0x21, 0x4C, 0x18}, 4, decomp_lz4},
    {"xz", "bzImage/xz", {0xFD, '7', 'z', 'X', 'Z', 0x00}, 6, decomp_xz},
    {"lzma", "bzImage/lzma", {0x5D, 0x00, 0x00}, 3, decomp_lzma},
    {"zstd", "bzImage/zstd", {0x28, 0xB5, 0x2F, 0xFD}, 4, decomp_zstd},
};

const struct decomp_format *decomp_identify(const void *in, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(decomp_formats) / sizeof(decomp_formats[0]);
	     i++) {
		const struct decomp_format *f = &decomp_formats[i];

		if (len >= f->magic_len &&
		    memcmp(in, f->magic, f->magic_len) == 0)
			return f;
	}
	return NULL;
}

int decomp_run(const struct decomp_format *fmt, const void *in, size_t inlen,
	       void *out, size_t outlen, size_t *in_used, size_t *out_done,
	       char *err, size_t errlen)
{
	*in_used = 0;
	*out_done = 0;
	if (inlen > DECOMP_MAX_SIZE || outlen > DECOMP_MAX_SIZE) {
		errbuf_printf(err, errlen,
			   "%s: %zu bytes in, %zu out: over the %llu MiB limit",
			   fmt->name, inlen, outlen, DECOMP_MAX_SIZE >> 20);
		return -EFBIG;
	}
	if (inlen < fmt->magic_len ||
	    memcmp(in, fmt->magic, fmt->magic_len) != 0) {
		errbuf_printf(err, errlen, "%s: missing magic bytes", fmt->name);
		return -EINVAL;
	}
	return fmt->decode(in, inlen, out, outlen, in_used, out_done, err,
			   errlen);
}
