/* The domain process's control channel: what the toolstack asks of a
 * running domain that xenstore cannot carry (pause, unpause, rename, its
 * state and accounting, waiting for its shutdown).  A Unix socket
 * $KXEN_RUN_DIR/domain-<domid>.sock, mode 0600, served on the main
 * thread's event loop; the wire format is in common/ctl_wire.h.
 *
 * Requests (one line each; replies "ok KEY=VALUE..." or "error ERRNO
 * MESSAGE"):
 *   info            name, domid, uuid, vcpus, memory (MiB), paused (the
 *                   pause count), shutdown (-1 or the SHUTDOWN_* reason),
 *                   boots, boot_time (epoch s), pty ("-" if none),
 *                   cpu_exited_ns, kernel, ramdisk, cmdline, on_poweroff,
 *                   on_reboot, on_crash, on_watchdog, disks, disk0...
 *   pause           as Xen's: counted; the first stops every vCPU
 *   unpause         EINVAL when not paused; the last one resumes
 *   rename NAME     the name the domain process uses from now on (its
 *                   xenstore tree after a reboot, its messages)
 *   wait-shutdown   "ok waiting boots=N" at once, then, when the guest
 *                   shuts down, "ok reason=R action=A"; the connection
 *                   just closes if the domain is destroyed instead
 *   stats           mem_kb (RAM less what the balloon gave back),
 *                   maxmem_kb, vbds=N and vbd0..: "DEVID,RD_REQ,WR_REQ,
 *                   OO_REQ,RD_SECT,WR_SECT", vifs=N and vif0..: "DEVID,
 *                   TX_PACKETS,TX_BYTES,RX_PACKETS,RX_BYTES" (the guest's
 *                   view: tx is what it sent); see backends/vbd.h, vif.h
 *   dump-core       with a descriptor of a regular file sent along the
 *                   request line (SCM_RIGHTS): the guest's core written
 *                   into it (domain/elfcore.h), the vCPUs stopped
 *                   meanwhile unless the domain is paused; "ok bytes=N
 *                   vcpus=N" (vCPUs whose registers are in it)
 *
 * Only the main thread calls these. */
#ifndef KXEN_DOMAIN_CONTROL_H
#define KXEN_DOMAIN_CONTROL_H

struct domain;
struct domain_config;

/* Creates the socket for cfg's domain and registers it with the event
 * loop, at start-up (before the first build; single-threaded: it sets the
 * umask around bind).  cfg stays the caller's; rename changes cfg->name.
 * Removes the socket and the dying marker at exit.  A failure is logged
 * and the domain runs without a control channel. */
void control_open(struct domain_config *cfg);
/* d has been built and started (again): boots is counted, boot_time set,
 * the pause count reset. */
void control_booted(struct domain *d);
/* The guest shut down for reason (SHUTDOWN_*), to be handled by action
 * (ACTION_*): waiters are told; unless the domain is kept (preserve) or
 * restarted, it is dying from now on. */
void control_shutdown(int reason, int action);
/* The domain is being destroyed: the socket goes, waiters see the
 * connection close, the dying marker appears until the process exits. */
void control_dying(void);

#endif
