/* Guest-physical memory: allocation and the checked accessor. */
#include "guest_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void gmem_layout(struct guest_mem *m, uint64_t size)
{
	m->fd = -1;
	m->size = size;
	m->low_size = size < GUEST_LOW_RAM_MAX ? size : GUEST_LOW_RAM_MAX;
}

int gmem_alloc(struct guest_mem *m, uint64_t size)
{
	void *p;
	int fd;

	gmem_layout(m, size);
	fd = memfd_create("kxen-guest-ram", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		 fd, 0);
	if (p == MAP_FAILED) {
		int err = -errno;

		close(fd);
		return err;
	}
	m->fd = fd;
	/* Guest memory never goes into a core dump of the host process. */
	madvise(p, size, MADV_DONTDUMP);
	m->host = p;
	return 0;
}

void gmem_free(struct guest_mem *m)
{
	if (m->host)
		munmap(m->host, m->size);
	if (m->fd >= 0)
		close(m->fd);
	m->host = NULL;
	m->fd = -1;
}

int64_t gmem_file_offset(const struct guest_mem *m, uint64_t gpa)
{
	uint8_t *p = gmem_ptr(m, gpa, 1);

	return p ? (int64_t)(p - m->host) : -1;
}

void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (len == 0)
		len = 1;
	if (__builtin_add_overflow(gpa, len, &end))
		return NULL;
	if (end <= m->low_size)
		return m->host + gpa;
	if (gpa >= GUEST_4G && end - GUEST_4G <= m->size - m->low_size)
		return m->host + m->low_size + (gpa - GUEST_4G);
	return NULL;
}

int gmem_read(const struct guest_mem *m, uint64_t gpa, void *buf, size_t len)
{
	void *p = gmem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *buf,
	       size_t len)
{
	void *p = gmem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}
