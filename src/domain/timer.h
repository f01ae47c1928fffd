/* Timers kept in user space: periodic vCPU timers and the domain's
 * watchdogs.  (Singleshot timers, the ones Linux uses, run in KVM once
 * VIRQ_TIMER is bound: see vcpu_timer_bind.)  The main loop sleeps until
 * timer_next_deadline() and then calls timer_run_expired(). */
#ifndef KXEN_DOMAIN_TIMER_H
#define KXEN_DOMAIN_TIMER_H

#include <stdint.h>

#include "domain/domain.h"

/* Hands vCPU n's singleshot timer to KVM, delivering on `port`. */
int vcpu_timer_bind(struct domain *d, unsigned n, uint32_t port);

/* period_ns 0 stops vCPU n's periodic timer.  0 or -errno. */
long timer_set_periodic(struct domain *d, unsigned n, uint64_t period_ns);

/* SCHEDOP_watchdog: id 0 with a timeout arms a new watchdog and returns
 * its id (1-based); id N with a timeout re-arms it; with timeout 0 it is
 * removed.  Expiry shuts the domain down with SHUTDOWN_watchdog. */
long timer_watchdog(struct domain *d, uint32_t id, uint32_t timeout_s);

/* Earliest pending deadline (monotonic ns), or 0 if none or paused. */
uint64_t timer_next_deadline(struct domain *d);
/* Fires everything due at `now`; nothing while the domain is paused. */
void timer_run_expired(struct domain *d, uint64_t now);
/* After a pause of paused_ns: watchdogs keep the time they had left (a
 * paused guest cannot pet them), periodic timers restart from now. */
void timer_resume(struct domain *d, uint64_t paused_ns);

#endif
