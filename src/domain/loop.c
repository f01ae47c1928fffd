/* epoll-based event loop for the domain process's main thread. */
#include "domain/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define LOOP_MAX_FDS 64

struct loop_entry {
	int fd;
	loop_cb cb;
	void *arg;
};

static int loop_epfd = -1;
static struct loop_entry loop_entries[LOOP_MAX_FDS];

int loop_add(int fd, loop_cb cb, void *arg)
{
	struct epoll_event ev = {.events = EPOLLIN};
	unsigned i;

	if (loop_epfd < 0) {
		loop_epfd = epoll_create1(EPOLL_CLOEXEC);
		if (loop_epfd < 0)
			return -errno;
		for (i = 0; i < LOOP_MAX_FDS; i++)
			loop_entries[i].fd = -1;
	}
	for (i = 0; i < LOOP_MAX_FDS && loop_entries[i].fd >= 0; i++)
		;
	if (i == LOOP_MAX_FDS)
		return -ENOSPC;
	ev.data.u32 = i;
	if (epoll_ctl(loop_epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	loop_entries[i] = (struct loop_entry){fd, cb, arg};
	return 0;
}

void loop_del(int fd)
{
	for (unsigned i = 0; i < LOOP_MAX_FDS; i++) {
		if (loop_entries[i].fd == fd) {
			epoll_ctl(loop_epfd, EPOLL_CTL_DEL, fd, NULL);
			loop_entries[i].fd = -1;
		}
	}
}

int loop_run_once(uint64_t deadline_ns)
{
	struct epoll_event evs[16];
	int timeout = -1, n;

	if (deadline_ns) {
		struct timespec ts;
		uint64_t now;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
		timeout = deadline_ns <= now
				  ? 0
				  : (int)((deadline_ns - now + 999999) / 1000000);
	}
	n = epoll_wait(loop_epfd, evs, 16, timeout);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct loop_entry *e = &loop_entries[evs[i].data.u32];

		if (e->fd >= 0)
			e->cb(e->fd, e->arg);
	}
	return 0;
}
