/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace shim for the kernel's <linux/wait.h>: a condition variable.
 * The condition is not under the queue's mutex, so a waiter also looks
 * again every millisecond: a wake-up between its test and its sleep is
 * late, never lost.
 */
#ifndef MIGDEV_FUZZ_LINUX_WAIT_H
#define MIGDEV_FUZZ_LINUX_WAIT_H

#include <pthread.h>
#include <time.h>

struct fz_wait_queue_head {
	pthread_mutex_t m;
	pthread_cond_t c;
};

#define wait_queue_head_t	struct fz_wait_queue_head

static inline void init_waitqueue_head(wait_queue_head_t *wq)
{
	pthread_mutex_init(&wq->m, NULL);
	pthread_cond_init(&wq->c, NULL);
}

static inline void wake_up(wait_queue_head_t *wq)
{
	pthread_mutex_lock(&wq->m);
	pthread_cond_broadcast(&wq->c);
	pthread_mutex_unlock(&wq->m);
}

static inline void fz_wait_a_little(wait_queue_head_t *wq)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_nsec += 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&wq->m);
	pthread_cond_timedwait(&wq->c, &wq->m, &t);
	pthread_mutex_unlock(&wq->m);
}

/* No signals in userspace: 0 once @cond holds. */
#define wait_event_killable(wq, cond) ({				\
	while (!(cond))							\
		fz_wait_a_little(&(wq));				\
	0;								\
})

#endif /* MIGDEV_FUZZ_LINUX_WAIT_H */
