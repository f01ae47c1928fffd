/* In-memory decompression of kernel payloads: one decoder per format
 * (gzip, bzip2, LZ4 legacy frame, xz, lzma, zstd) behind a table keyed by
 * each format's magic bytes.  Pure: no I/O, no global state. */
#ifndef KXEN_DOMAIN_BOOT_DECOMPRESS_H
#define KXEN_DOMAIN_BOOT_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

/* Neither the compressed input nor the output may be larger than this. */
#define DECOMP_MAX_SIZE (512ULL << 20)

#define DECOMP_MAGIC_MAX 6

struct decomp_format {
	const char *name;  /* "gzip", "bzip2", "lz4", "xz", "lzma", "zstd" */
	const char *label; /* "bzImage/<name>", for kernel_info.format */
	uint8_t magic[DECOMP_MAGIC_MAX];
	size_t magic_len;
	/* Decodes one stream from in[0, inlen) into out[0, outlen).  Stops at
	 * the format's own end of stream (for the LZ4 legacy frame, which has
	 * none, when fewer than 5 input bytes are left), so bytes after the
	 * stream are left alone; sets *in_used and *out_done.  Returns 0,
	 * -EINVAL (corrupt or truncated), -EFBIG (more than outlen bytes of
	 * output) or -ENOMEM, with a one-line reason in err.  Callers go
	 * through decomp_run(), which bounds the sizes first. */
	int (*decode)(const uint8_t *in, size_t inlen, uint8_t *out,
		      size_t outlen, size_t *in_used, size_t *out_done,
		      char *err, size_t errlen);
};

/* Returns the format whose magic bytes start in[0, len), or NULL if none
 * does.  The result points into a static table. */
const struct decomp_format *decomp_identify(const void *in, size_t len);

/* Decodes `in` (inlen bytes) with fmt into the caller's buffer `out`
 * (outlen bytes), as decode above.  inlen and outlen must not exceed
 * DECOMP_MAX_SIZE (-EFBIG otherwise).  err (may be NULL) receives a
 * one-line reason that starts with the format's name. */
int decomp_run(const struct decomp_format *fmt, const void *in, size_t inlen,
	       void *out, size_t outlen, size_t *in_used, size_t *out_done,
	       char *err, size_t errlen);

#endif
