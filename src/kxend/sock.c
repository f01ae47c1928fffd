/* kxend's host transport: the Unix stream socket libxenstore connects to.
 * Every client on it is dom0 (privileged): the socket is mode 0600, so only
 * root on the host reaches it.  Descriptors may come with a message
 * (SCM_RIGHTS), for INTRODUCE only (see src/xenstore/client.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "kxend.h"

#define SOCK_MAX_FDS 8

struct kxend_sock {
	struct kxend_client base; /* first: the wire connection's owner */
	struct kxend_fd ev;
	struct kxend_sock *next;
	int fds[SOCK_MAX_FDS]; /* came with the message being received */
	int nfds;
	bool fds_valid; /* nfds may be 0: none came */
	bool want_out;	/* EPOLLOUT registered */
};

static void sock_close_fds(struct kxend_sock *s)
{
	while (s->nfds > 0)
		close(s->fds[--s->nfds]);
	s->fds_valid = false;
}

int sock_take_fds(struct kxend_sock *s, int *fds, int max)
{
	int n = s->fds_valid ? s->nfds : 0, i;

	for (i = 0; i < n && i < max; i++)
		fds[i] = s->fds[i];
	for (; i < n; i++)
		close(s->fds[i]);
	s->nfds = 0;
	s->fds_valid = false;
	return n;
}

void sock_free(struct kxend *k, struct kxend_sock *s)
{
	struct kxend_sock **pp;

	for (pp = &k->socks; *pp && *pp != s; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = s->next;
	kxend_unwatch_fd(k, &s->ev);
	close(s->ev.fd);
	sock_close_fds(s);
	xs_wire_conn_free(s->base.wc);
	free(s);
}

void sock_reap(struct kxend *k)
{
	struct kxend_sock *s, *next;

	for (s = k->socks; s; s = next) {
		next = s->next;
		if (s->base.dead) {
			kxend_undirty(k, &s->base);
			sock_free(k, s);
		}
	}
}

void sock_close_all(struct kxend *k)
{
	while (k->socks)
		sock_free(k, k->socks);
}

/* Reads what is there and handles each complete message.  Descriptors
 * belong to the first message completed after they arrived (the sender
 * attaches them to the sendmsg() that starts that message). */
static void sock_read(struct kxend *k, struct kxend_sock *s)
{
	char buf[16384];
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(SOCK_MAX_FDS * sizeof(int))];
	} cbuf;
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf.b,
			     .msg_controllen = sizeof(cbuf.b)};
	struct cmsghdr *cm;
	size_t off = 0, used;
	ssize_t n;
	int rc, i, cnt;

	n = recvmsg(s->ev.fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	for (cm = CMSG_FIRSTHDR(&msg); n >= 0 && cm;
	     cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		sock_close_fds(s);
		for (i = 0; i < cnt; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(fd));
			if (s->nfds < SOCK_MAX_FDS)
				s->fds[s->nfds++] = fd;
			else
				close(fd);
		}
		s->fds_valid = true;
	}
	if (n >= 0 && (msg.msg_flags & MSG_CTRUNC)) {
		/* Too many descriptors: the message gets none. */
		sock_close_fds(s);
		s->fds_valid = true;
	}
	if (n <= 0) {
		s->base.dead = true;
		return;
	}
	while (off < (size_t)n) {
		rc =
		    xs_wire_feed(s->base.wc, buf + off, (size_t)n - off, &used);
		off += used;
		if (rc < 0) {
			log_warnx("socket client sent a message over %u bytes; "
				  "dropped",
				  XENSTORE_PAYLOAD_MAX);
			s->base.dead = true;
			return;
		}
		if (rc == 1)
			sock_close_fds(s); /* unused ones go */
	}
}

void sock_flush(struct kxend *k, struct kxend_sock *s)
{
	const void *p;
	size_t len;
	ssize_t n;
	bool want;

	while ((p = xs_wire_out_peek(s->base.wc, &len, NULL))) {
		n = send(s->ev.fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN)
				s->base.dead = true;
			break;
		}
		xs_wire_out_advance(s->base.wc, (size_t)n);
	}
	if (xs_wire_overflowed(s->base.wc) && !s->base.dead) {
		log_warnx("socket client left over 16 MiB of events unread; "
			  "dropped");
		s->base.dead = true;
	}
	want = xs_wire_out_bytes(s->base.wc) > 0 && !s->base.dead;
	if (want != s->want_out) {
		s->want_out = want;
		kxend_modify_fd(k, &s->ev, EPOLLIN | (want ? EPOLLOUT : 0));
	}
}

static void sock_event(struct kxend *k, struct kxend_fd *f, uint32_t events)
{
	struct kxend_sock *s =
	    (struct kxend_sock *)((char *)f - offsetof(struct kxend_sock, ev));

	if (events & EPOLLIN)
		sock_read(k, s);
	else if (events & (EPOLLHUP | EPOLLERR))
		s->base.dead = true;
	if (events & EPOLLOUT || s->base.dead)
		kxend_mark_dirty(k, &s->base);
}

static void sock_accept(struct kxend *k, struct kxend_fd *f, uint32_t events)
{
	struct kxend_sock *s;
	int fd;

	fd = accept4(f->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept");
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto out;
	s->base.kind = KXEND_SOCK;
	s->ev.fd = fd;
	s->ev.fn = sock_event;
	s->base.wc = xs_wire_conn_new(k->wire, 0, true, s);
	if (!s->base.wc || kxend_watch_fd(k, &s->ev, EPOLLIN))
		goto out;
	s->next = k->socks;
	k->socks = s;
	s = NULL;
	fd = -1;
out:
	if (s) {
		log_warnx("no memory for a socket client");
		xs_wire_conn_free(s->base.wc);
		free(s);
	}
	if (fd >= 0)
		close(fd);
}

/* Is a kxend (or anything) answering at path? */
static bool sock_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return false;
	alive = !connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	return alive;
}

int sock_listen(struct kxend *k, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(sa.sun_path)], *slash;
	struct stat st;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_warnx("socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			log_warn("cannot create %s", dir);
	}
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("%s exists and is not a socket", path);
			return -EEXIST;
		}
		if (sock_alive(&sa)) {
			log_warnx("another xenstore daemon is listening at %s",
				  path);
			return -EADDRINUSE;
		}
		unlink(path); /* left behind by a killed kxend */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) ||
	    listen(fd, 64)) {
		rc = -errno;
		log_warn("cannot listen at %s", path);
		close(fd);
		return rc;
	}
	k->listen.fd = fd;
	k->listen.fn = sock_accept;
	rc = kxend_watch_fd(k, &k->listen, EPOLLIN);
	if (rc)
		close(fd);
	return rc;
}
