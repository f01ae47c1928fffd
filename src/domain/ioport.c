/* Port I/O policy of a PVH domain. */
#include "domain/ioport.h"

#include <string.h>
#include <xen/sched.h>

#include "backends/console.h"
#include "common/log.h"
#include "domain/boot/acpi.h"

#define XEN_DEBUG_IO_PORT 0xe9 /* HVM guests' early-boot text */
#define IO_DELAY_PORT 0x80     /* Linux's outb delay: ignored */
#define PIT_CH2_PORT 0x42
#define SYS_CTRL_PORT 0x61     /* NMI status / PIT channel 2 gate */
#define KBD_STATUS_PORT 0x64
#define KBD_CMD_RESET 0xfe

/* Linux probes for PCI, serial ports and more on every boot: that is not
 * a missing feature, so it is noted once at debug level only (Xen ignores
 * such accesses from PVH guests silently). */
static void ioport_note(uint16_t port, const char *dir)
{
	if (log_first_time("I/O port", port, dir[0]))
		log_debug("no device at I/O port 0x%x (%s)", port, dir);
}

bool ioport_access(struct vcpu *v, uint16_t port, bool write, uint8_t *data,
		   unsigned size)
{
	struct domain *d = v->dom;

	if (write) {
		switch (port) {
		case XEN_DEBUG_IO_PORT:
			console_debug_write(d, data, size);
			return true;
		case IO_DELAY_PORT:
		case ACPI_SLEEP_STATUS_PORT: /* clearing WAK_STS: nothing kept */
			return true;
		case ACPI_SLEEP_CONTROL_PORT:
			if ((data[0] & ACPI_SLEEP_ENABLE) &&
			    ACPI_SLEEP_TYPE(data[0]) == ACPI_S5_SLP_TYP) {
				domain_request_shutdown(d, SHUTDOWN_poweroff);
				return false;
			}
			log_unimplemented("ACPI sleep state", data[0], 0);
			return true;
		case ACPI_RESET_PORT:
			if (data[0] != ACPI_RESET_VALUE)
				return true;
			domain_request_shutdown(d, SHUTDOWN_reboot);
			return false;
		case KBD_STATUS_PORT:
			/* The 8042 pulse-reset command, Linux's second way
			 * to reboot after the ACPI reset register. */
			if (data[0] != KBD_CMD_RESET)
				return true;
			domain_request_shutdown(d, SHUTDOWN_reboot);
			return false;
		}
		ioport_note(port, "write");
		return true;
	}

	/* Reads.  Without a device the bus floats high (0xff), except where
	 * that answer would keep Linux spinning:
	 *  - PIT channel 2 reads 0: quick PIT calibration sees no counter
	 *    and gives up at once, instead of 50000 x 2 trapped reads that
	 *    take seconds; the TSC rate then comes from Xen's pvclock;
	 *  - port 0x61 reads with the channel 2 output bit (0x20) set, so the
	 *    slow calibration loop that waits for it ends;
	 *  - the 8042 status reads 0 (input buffer empty), so the keyboard
	 *    reset path never waits on a controller that is not there. */
	memset(data, 0xff, size);
	switch (port) {
	case PIT_CH2_PORT:
	case KBD_STATUS_PORT:
	case ACPI_SLEEP_STATUS_PORT:
		memset(data, 0, size);
		return true;
	case SYS_CTRL_PORT:
		data[0] = 0x20;
		return true;
	}
	ioport_note(port, "read");
	return true;
}
