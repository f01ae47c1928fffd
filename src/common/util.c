/* Small helpers shared by kxen's components. */
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void errbuf_printf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void mem_prefault(void *p, size_t len)
{
#ifdef MADV_POPULATE_WRITE
	uintptr_t start, end, page = (uintptr_t)getpagesize();

	start = ((uintptr_t)p + page - 1) & ~(page - 1);
	end = ((uintptr_t)p + len) & ~(page - 1);
	if (end > start)
		madvise((void *)start, end - start, MADV_POPULATE_WRITE);
#else
	(void)p;
	(void)len;
#endif
}

int file_read_all(const char *path, const char *what, size_t max,
		  uint8_t **bufp, size_t *lenp, char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	struct stat st;
	size_t size, got = 0;
	ssize_t n;
	int fd, ret = 0;

	*bufp = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		errbuf_printf(err, errlen, "cannot open %s %s: %s", what, path,
			      strerror(-ret));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		errbuf_printf(err, errlen, "cannot stat %s %s: %s", what, path,
			      strerror(-ret));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		errbuf_printf(err, errlen, "%s %s is not a regular file", what,
			      path);
		ret = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		errbuf_printf(err, errlen,
			      "%s %s is %lld bytes, over the %zu MiB limit",
			      what, path, (long long)st.st_size, max >> 20);
		ret = -EFBIG;
		goto out;
	}
	size = (size_t)st.st_size;
	buf = malloc(size ? size : 1);
	if (!buf) {
		errbuf_printf(err, errlen, "no memory to read %s %s", what,
			      path);
		ret = -ENOMEM;
		goto out;
	}
	mem_prefault(buf, size);
	while (got < size) {
		n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			errbuf_printf(err, errlen, "cannot read %s %s: %s", what,
				      path, strerror(-ret));
			goto out;
		}
		if (n == 0) {
			errbuf_printf(err, errlen,
				      "%s %s shrank while being read", what,
				      path);
			ret = -EIO;
			goto out;
		}
		got += (size_t)n;
	}
	*bufp = buf;
	*lenp = size;
	buf = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}
