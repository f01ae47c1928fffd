/* kxl dump-core's server half: the guest's memory and vCPU registers
 * written as an ELF core (layout in domain/elfcore.h) to a file the
 * toolstack opened and passed over the control channel. */
#ifndef KXEN_DOMAIN_DUMPCORE_H
#define KXEN_DOMAIN_DUMPCORE_H

#include <stdbool.h>
#include <stdint.h>

struct domain;

/* Writes d's core to fd (a regular file, truncated first).  The caller
 * has stopped the vCPUs (domain_pause) when regs is true: their registers
 * go into the notes; with regs false (they could not be stopped) the
 * notes have none.  Memory the guest gave back (ballooned: holes in the
 * memfd) and all-zero stretches are left as holes in the file, which
 * reads the same.  Main thread; blocks until written.  0 with *bytes (the
 * file's size) and *nr_regs (vCPUs whose registers were saved), or
 * -errno. */
int dumpcore_write(struct domain *d, int fd, bool regs, uint64_t *bytes,
		   unsigned *nr_regs);

#endif
