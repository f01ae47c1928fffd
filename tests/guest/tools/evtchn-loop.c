/* evtchn-loop: exercises a guest's event channels end to end through
 * Linux's /dev/xen/evtchn: allocates an unbound port for itself
 * (EVTCHNOP_alloc_unbound), binds a second port to it
 * (EVTCHNOP_bind_interdomain), notifies each end from the other
 * (EVTCHNOP_send) and waits for the event on the other, then closes one
 * end (EVTCHNOP_close) and checks the channel is gone.
 * Prints "EVTCHN-..." lines; exit 0 only if every step worked. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
typedef uint16_t domid_t; /* used by the header, defined in xen.h */
#include <xen/sys/evtchn.h>

#define DOMID_SELF 0x7ff0u

/* Waits up to 2 s for one event; returns its port or -1. */
static int wait_event(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint32_t port;

	if (poll(&p, 1, 2000) != 1 || read(fd, &port, sizeof(port)) != sizeof(port))
		return -1;
	/* Writing the port back unmasks it (EVTCHNOP_unmask if pending). */
	if (write(fd, &port, sizeof(port)) != sizeof(port))
		return -1;
	return (int)port;
}

int main(void)
{
	struct ioctl_evtchn_bind_unbound_port ub = {.remote_domain = DOMID_SELF};
	struct ioctl_evtchn_bind_interdomain bi = {.remote_domain = DOMID_SELF};
	struct ioctl_evtchn_notify n;
	struct ioctl_evtchn_unbind u;
	int fd, a, b, got, ok = 1;

	fd = open("/dev/xen/evtchn", O_RDWR);
	if (fd < 0) {
		perror("evtchn-loop: /dev/xen/evtchn");
		return 2;
	}
	a = ioctl(fd, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &ub);
	printf("EVTCHN-ALLOC-UNBOUND %d\n", a);
	if (a <= 0)
		return 1;
	bi.remote_port = (unsigned)a;
	b = ioctl(fd, IOCTL_EVTCHN_BIND_INTERDOMAIN, &bi);
	printf("EVTCHN-BIND-INTERDOMAIN %d -> %d\n", b, a);
	if (b <= 0)
		return 1;

	n.port = (unsigned)b;
	ioctl(fd, IOCTL_EVTCHN_NOTIFY, &n);
	got = wait_event(fd);
	printf("EVTCHN-SEND %d: event on %d %s\n", b, got, got == a ? "OK" : "WRONG");
	ok &= got == a;

	n.port = (unsigned)a;
	ioctl(fd, IOCTL_EVTCHN_NOTIFY, &n);
	got = wait_event(fd);
	printf("EVTCHN-SEND %d: event on %d %s\n", a, got, got == b ? "OK" : "WRONG");
	ok &= got == b;

	/* Twice more, to see unmasking work: each event arrives once. */
	for (int i = 0; i < 2; i++) {
		n.port = (unsigned)b;
		ioctl(fd, IOCTL_EVTCHN_NOTIFY, &n);
		got = wait_event(fd);
		ok &= got == a;
	}
	printf("EVTCHN-REPEAT %s\n", ok ? "OK" : "WRONG");

	u.port = (unsigned)b;
	ok &= ioctl(fd, IOCTL_EVTCHN_UNBIND, &u) == 0;
	/* b is closed: a is unbound again, so sending on it is dropped. */
	n.port = (unsigned)a;
	ioctl(fd, IOCTL_EVTCHN_NOTIFY, &n);
	got = wait_event(fd);
	printf("EVTCHN-CLOSE %s\n", got == -1 ? "OK" : "WRONG");
	ok &= got == -1;
	printf("EVTCHN-%s\n", ok ? "ALL-OK" : "FAILED");
	return ok ? 0 : 1;
}
