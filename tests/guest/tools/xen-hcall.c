/* xen-hcall: issues one hypercall from inside a Xen guest through the
 * kernel's privcmd driver and prints what the hypervisor answered.
 * Usage: xen-hcall OP [ARG0 [ARG1 ...]] -- numbers in C notation, or
 * @u32:N,M,... for a pointer to a zeroed 256-byte buffer starting with
 * those 32-bit values (one buffer per argument).
 * Prints "hypercall OP returned N" (N a negative errno on failure). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Linux's privcmd ABI (include/uapi/xen/privcmd.h). */
struct privcmd_hypercall {
	uint64_t op;
	uint64_t arg[5];
};
#define IOCTL_PRIVCMD_HYPERCALL \
	_IOC(_IOC_NONE, 'P', 0, sizeof(struct privcmd_hypercall))

int main(int argc, char **argv)
{
	struct privcmd_hypercall h = {0};
	long ret;
	int fd;

	if (argc < 2 || argc > 7) {
		fprintf(stderr, "usage: xen-hcall OP [ARG...]\n");
		return 2;
	}
	h.op = strtoull(argv[1], NULL, 0);
	static uint32_t bufs[5][64];

	for (int i = 2; i < argc; i++) {
		if (strncmp(argv[i], "@u32:", 5) == 0) {
			char *p = argv[i] + 5;

			for (int k = 0; k < 64 && *p; k++) {
				bufs[i - 2][k] = (uint32_t)strtoul(p, &p, 0);
				if (*p == ',')
					p++;
			}
			h.arg[i - 2] = (uint64_t)(uintptr_t)bufs[i - 2];
		} else {
			h.arg[i - 2] = strtoull(argv[i], NULL, 0);
		}
	}
	fd = open("/dev/xen/privcmd", O_RDWR);
	if (fd < 0) {
		perror("xen-hcall: /dev/xen/privcmd");
		return 2;
	}
	if (getenv("XEN_HCALL_DEBUG"))
		fprintf(stderr, "xen-hcall: fd %d, ioctl 0x%lx\n", fd,
			(unsigned long)IOCTL_PRIVCMD_HYPERCALL);
	ret = ioctl(fd, IOCTL_PRIVCMD_HYPERCALL, &h);
	if (ret < 0)
		ret = -errno;
	printf("hypercall %llu returned %ld\n", (unsigned long long)h.op, ret);
	return 0;
}
