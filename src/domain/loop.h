/* The domain process's event loop (main thread): file descriptors with a
 * callback each, and a deadline for timers.  Not thread-safe: register
 * from the main thread only. */
#ifndef KXEN_DOMAIN_LOOP_H
#define KXEN_DOMAIN_LOOP_H

#include <stdint.h>

typedef void (*loop_cb)(int fd, void *arg);

/* Calls cb(fd, arg) whenever fd is readable.  0 or -errno. */
int loop_add(int fd, loop_cb cb, void *arg);
void loop_del(int fd);

/* Waits until an fd is ready or the monotonic deadline (ns, 0 = none)
 * passes, and runs the callbacks.  0, or -errno on a loop failure. */
int loop_run_once(uint64_t deadline_ns);

#endif
