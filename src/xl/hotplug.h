/* Device hot-plug through xenstore, shared by kxl block-* and network-*
 * (src/xl/hotplug.c). */
#ifndef KXEN_XL_HOTPLUG_H
#define KXEN_XL_HOTPLUG_H

#include <stdbool.h>
#include <stdint.h>

#include "xl/devnodes.h"

struct xs_handle;
struct kxl_dom;

/* How long kxl waits for a backend to take or release a device. */
#define KXL_DEV_WAIT_S 15

/* xs_read of the path fmt makes (malloc'd value, NULL if absent). */
char *kxl_readf(struct xs_handle *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same as a decimal number, def if absent. */
int kxl_readf_int(struct xs_handle *h, int def, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Finds a running domain by name or id; prints why not. 0 or -ENOENT. */
int kxl_find_dom(const char *arg, struct kxl_dom *d);

/* Writes a device's directories (fill calls devnodes_*_add on w) in one
 * transaction, retried on EAGAIN.  0, or -EIO with the reason printed. */
int kxl_dev_write(struct xs_handle *h,
		  int (*fill)(const struct devnodes_writer *w, void *arg),
		  void *arg);

/* Waits up to seconds until be/state is one of want (a bitmask of
 * 1 << state) or be goes; the last state seen, 0 when gone. */
int kxl_dev_wait_state(struct xs_handle *h, const char *be, unsigned want,
		       int seconds);

/* After kxl_dev_write: 0 once the backend took the device (InitWait or
 * Connected); otherwise prints its hotplug-error, removes both
 * directories and returns -EIO.  what names the device ("disk xvdb"). */
int kxl_dev_wait_attached(struct xs_handle *h, uint32_t domid,
			  const char *be, const char *fe, const char *what);

/* The detach sequence: online=0 and Closing, wait for Closed, remove both
 * directories (also without Closed when force).  0, -ENOENT (no such
 * device), -EBUSY (not released), each with its message printed. */
int kxl_dev_detach(struct xs_handle *h, uint32_t domid, const char *be,
		   const char *fe, bool force, const char *what);

#endif
