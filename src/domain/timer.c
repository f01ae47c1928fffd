/* Periodic vCPU timers and domain watchdogs, driven by the main loop. */
#include "domain/timer.h"

#include <stdint.h>
#include <errno.h>
#include <unistd.h>
#include <xen/sched.h>

#include "common/log.h"

#define NR_WATCHDOGS 2 /* as Xen: NR_DOMAIN_WATCHDOG_TIMERS */

static void timer_wake_loop(struct domain *d)
{
	uint64_t one = 1;

	/* The main loop recomputes its sleep after any change. */
	if (write(d->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("waking the main loop");
}

long timer_set_periodic(struct domain *d, unsigned n, uint64_t period_ns)
{
	struct vcpu *v = &d->vcpus[n];

	pthread_mutex_lock(&d->lock);
	v->periodic_ns = period_ns;
	v->periodic_next = period_ns ? now_ns() + period_ns : 0;
	pthread_mutex_unlock(&d->lock);
	timer_wake_loop(d);
	return 0;
}

long timer_watchdog(struct domain *d, uint32_t id, uint32_t timeout_s)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_s * 1000000000ull;
	long ret = -EINVAL;

	pthread_mutex_lock(&d->lock);
	if (id == 0) {
		ret = timeout_s ? -EBUSY : -EINVAL;
		for (unsigned i = 0; timeout_s && i < NR_WATCHDOGS; i++) {
			if (!d->watchdog_deadline[i]) {
				d->watchdog_deadline[i] = deadline;
				ret = i + 1;
				break;
			}
		}
	} else if (id <= NR_WATCHDOGS && d->watchdog_deadline[id - 1]) {
		d->watchdog_deadline[id - 1] = timeout_s ? deadline : 0;
		ret = 0;
	}
	pthread_mutex_unlock(&d->lock);
	timer_wake_loop(d);
	return ret;
}

uint64_t timer_next_deadline(struct domain *d)
{
	uint64_t next = 0;

	if (atomic_load(&d->paused))
		return 0; /* nothing fires while paused */
	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < NR_WATCHDOGS; i++)
		if (d->watchdog_deadline[i] &&
		    (!next || d->watchdog_deadline[i] < next))
			next = d->watchdog_deadline[i];
	for (unsigned i = 0; i < d->nr_vcpus; i++)
		if (d->vcpus[i].periodic_next &&
		    (!next || d->vcpus[i].periodic_next < next))
			next = d->vcpus[i].periodic_next;
	pthread_mutex_unlock(&d->lock);
	return next;
}

void timer_run_expired(struct domain *d, uint64_t now)
{
	bool watchdog = false;

	if (atomic_load(&d->paused))
		return;
	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < NR_WATCHDOGS; i++) {
		if (d->watchdog_deadline[i] && d->watchdog_deadline[i] <= now) {
			d->watchdog_deadline[i] = 0;
			watchdog = true;
		}
	}
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *v = &d->vcpus[i];

		if (!v->periodic_next || v->periodic_next > now)
			continue;
		/* Missed ticks are not replayed (no_delay_for_missed_ticks). */
		while (v->periodic_next <= now)
			v->periodic_next += v->periodic_ns;
		if (v->timer_port) {
			pthread_mutex_unlock(&d->lock);
			evtchn_notify_guest(d, v->timer_port);
			pthread_mutex_lock(&d->lock);
		}
	}
	pthread_mutex_unlock(&d->lock);
	if (watchdog) {
		log_warnx("domain %s: watchdog expired", d->cfg->name);
		domain_request_shutdown(d, SHUTDOWN_watchdog);
	}
}

void timer_resume(struct domain *d, uint64_t paused_ns)
{
	uint64_t now = now_ns();

	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < NR_WATCHDOGS; i++)
		if (d->watchdog_deadline[i])
			d->watchdog_deadline[i] += paused_ns;
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *v = &d->vcpus[i];

		if (v->periodic_ns)
			v->periodic_next = now + v->periodic_ns;
	}
	pthread_mutex_unlock(&d->lock);
	timer_wake_loop(d);
}
