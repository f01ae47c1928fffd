/* PV console backend (what xenconsoled does for a Xen domU): the guest's
 * console ring (HVM_PARAM_CONSOLE_PFN) and its event channel
 * (HVM_PARAM_CONSOLE_EVTCHN), connected to a log file, the process's
 * stdin/stdout and/or a pty. */
#ifndef KXEN_BACKENDS_CONSOLE_H
#define KXEN_BACKENDS_CONSOLE_H

#include <stddef.h>

struct domain;

/* Sets up the ring page, the event channel and the outputs named in the
 * domain's config, and registers with the event loop.  0 or -errno. */
int console_backend_create(struct domain *d);
void console_backend_destroy(struct domain *d);

/* Text the guest wrote through the debug port (0xE9) or CONSOLEIO_write:
 * goes to the same outputs.  Safe from any thread. */
void console_debug_write(struct domain *d, const void *buf, size_t len);

/* Path of the console pty, or NULL. */
const char *console_pty_path(struct domain *d);

#endif
