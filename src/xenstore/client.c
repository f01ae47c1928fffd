/* Client helpers for kxend's host socket: the default path and the
 * introduction handshake with descriptors (see client.h). */
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

int xs_client_default_path(char *buf, size_t len)
{
	const char *env = getenv("XENSTORED_PATH");
	int n;

	if (env)
		n = snprintf(buf, len, "%s", env);
	else if ((env = getenv("XENSTORED_RUNDIR")))
		n = snprintf(buf, len, "%s/socket", env);
	else
		n = snprintf(buf, len, "/var/run/xenstored/socket");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int xs_client_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char def[sizeof(sa.sun_path)];
	int fd, rc;

	if (!path) {
		rc = xs_client_default_path(def, sizeof(def));
		if (rc)
			return rc;
		path = def;
	}
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static int xs_client_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Sends one message (with fds when nfds > 0) and waits for its reply. */
static int xs_client_call(int fd, uint32_t type, const char *payload,
			  uint32_t len, const int *fds, int nfds)
{
	static uint32_t req_id = 0x4b58; /* any value; echoed back */
	struct xsd_sockmsg hdr = {type, ++req_id, 0, len}, rep;
	struct iovec iov[2] = {{&hdr, sizeof(hdr)}, {(void *)payload, len}};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(3 * sizeof(int))];
	} cbuf;
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
	struct cmsghdr *cm;
	char body[XENSTORE_PAYLOAD_MAX + 1];
	size_t i;
	ssize_t n;
	int rc;

	if (nfds) {
		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != sizeof(hdr) + len)
		return -EIO;
	for (;;) {
		rc = xs_client_read_all(fd, &rep, sizeof(rep));
		if (rc)
			return rc;
		if (rep.len > XENSTORE_PAYLOAD_MAX)
			return -EPROTO;
		rc = xs_client_read_all(fd, body, rep.len);
		if (rc)
			return rc;
		body[rep.len] = '\0';
		if (rep.type == XS_WATCH_EVENT || rep.req_id != hdr.req_id)
			continue;
		if (rep.type == type)
			return 0;
		if (rep.type != XS_ERROR)
			return -EPROTO;
		for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
			if (!strcmp(body, xsd_errors[i].errstring))
				return -xsd_errors[i].errnum;
		return -EPROTO;
	}
}

int xs_client_introduce(int fd, uint32_t domid, uint64_t gfn, uint32_t port,
			int memfd, int kickfd, int notifyfd)
{
	char payload[64];
	int fds[3] = {memfd, kickfd, notifyfd};
	int n = snprintf(payload, sizeof(payload), "%u%c%llu%c%u%c", domid, 0,
			 (unsigned long long)gfn, 0, port, 0);

	return xs_client_call(fd, XS_INTRODUCE, payload, (uint32_t)n, fds, 3);
}

int xs_client_release(int fd, uint32_t domid)
{
	char payload[16];
	int n = snprintf(payload, sizeof(payload), "%u%c", domid, 0);

	return xs_client_call(fd, XS_RELEASE, payload, (uint32_t)n, NULL, 0);
}
