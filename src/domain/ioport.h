/* Port I/O from a PVH guest.  There are no legacy devices; the few ports
 * that matter are the FADT's power-off and reset registers, Xen's debug
 * port, and a handful whose answer decides how long Linux spins probing
 * for hardware that is not there. */
#ifndef KXEN_DOMAIN_IOPORT_H
#define KXEN_DOMAIN_IOPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/domain.h"

/* Handles one access of `size` bytes (1, 2 or 4) to `port`; for reads it
 * fills data.  Returns false if the vCPU must stop (power-off, reset). */
bool ioport_access(struct vcpu *v, uint16_t port, bool write, uint8_t *data,
		   unsigned size);

#endif
