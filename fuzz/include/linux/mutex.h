/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace shim for the kernel's <linux/mutex.h>: a pthread mutex that
 * knows its owner, for lockdep_assert_held() (linux/lockdep.h).  No
 * signals here: the killable lock always takes it.
 */
#ifndef MIGDEV_FUZZ_LINUX_MUTEX_H
#define MIGDEV_FUZZ_LINUX_MUTEX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

/* Who holds a lock: an exclusive owner, or @count shared holders. */
struct fz_held {
	atomic_int count;
	pthread_t owner;
	bool exclusive;
};

static inline void fz_held_take(struct fz_held *h, bool exclusive)
{
	if (exclusive)
		h->owner = pthread_self();
	h->exclusive = exclusive;
	atomic_fetch_add(&h->count, 1);
}

static inline void fz_held_drop(struct fz_held *h)
{
	h->exclusive = false;
	atomic_fetch_sub(&h->count, 1);
}

/* Held by this thread, or (shared) by anyone. */
static inline bool fz_held(struct fz_held *h)
{
	return atomic_load(&h->count) > 0 &&
	       (!h->exclusive || pthread_equal(h->owner, pthread_self()));
}

struct mutex {
	pthread_mutex_t m;
	struct fz_held held;
};

static inline void mutex_init(struct mutex *l)
{
	pthread_mutex_init(&l->m, NULL);
	atomic_init(&l->held.count, 0);
	l->held.exclusive = false;
}

static inline void mutex_destroy(struct mutex *l)
{
	pthread_mutex_destroy(&l->m);
}

static inline void mutex_lock(struct mutex *l)
{
	pthread_mutex_lock(&l->m);
	fz_held_take(&l->held, true);
}

static inline int mutex_lock_killable(struct mutex *l)
{
	mutex_lock(l);
	return 0;
}

static inline void mutex_unlock(struct mutex *l)
{
	fz_held_drop(&l->held);
	pthread_mutex_unlock(&l->m);
}

#endif /* MIGDEV_FUZZ_LINUX_MUTEX_H */
