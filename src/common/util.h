/* Small helpers shared by kxen's components. */
#ifndef KXEN_COMMON_UTIL_H
#define KXEN_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Formats a one-line message into err (errlen bytes); does nothing when
 * err is NULL or errlen 0.  The error-buffer convention of the pure
 * modules, which do no logging themselves. */
void errbuf_printf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Asks the host kernel to fault in the whole pages of [p, p + len) that
 * are about to be written, in one call instead of one fault per page.
 * Only a speed-up: where MADV_POPULATE_WRITE is unknown (before Linux
 * 5.14) the pages fault in as usual. */
void mem_prefault(void *p, size_t len);

/* Reads the regular file at path, at most max bytes, into a new malloc'd
 * buffer (*buf, *len; the caller frees it; never NULL on success).  `what`
 * names the file in messages ("kernel", "ramdisk").  Returns 0 or -errno
 * with a message in err: cannot open, not a regular file, too big (-EFBIG),
 * no memory, read error. */
int file_read_all(const char *path, const char *what, size_t max,
		  uint8_t **buf, size_t *len, char *err, size_t errlen);

#endif
