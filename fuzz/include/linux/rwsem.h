/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace shim for the kernel's <linux/rwsem.h>: a pthread rwlock. */
#ifndef MIGDEV_FUZZ_LINUX_RWSEM_H
#define MIGDEV_FUZZ_LINUX_RWSEM_H

#include <pthread.h>
#include <linux/mutex.h>	/* struct fz_held */

struct rw_semaphore {
	pthread_rwlock_t l;
	struct fz_held held;
};

static inline void init_rwsem(struct rw_semaphore *s)
{
	pthread_rwlock_init(&s->l, NULL);
	atomic_init(&s->held.count, 0);
	s->held.exclusive = false;
}

static inline void down_read(struct rw_semaphore *s)
{
	pthread_rwlock_rdlock(&s->l);
	fz_held_take(&s->held, false);
}

static inline void up_read(struct rw_semaphore *s)
{
	fz_held_drop(&s->held);
	pthread_rwlock_unlock(&s->l);
}

static inline void down_write(struct rw_semaphore *s)
{
	pthread_rwlock_wrlock(&s->l);
	fz_held_take(&s->held, true);
}

static inline void up_write(struct rw_semaphore *s)
{
	fz_held_drop(&s->held);
	pthread_rwlock_unlock(&s->l);
}

/* As in the kernel, lockdep_assert_held() comes with it. */
#include <linux/lockdep.h>

#endif /* MIGDEV_FUZZ_LINUX_RWSEM_H */
