/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace shim for the kernel's <linux/xarray.h>: the calls emul/devmem.c
 * makes, over an array of (index, entry) kept sorted by index, under a
 * mutex as the kernel's is under its spinlock.  Value entries, errors and
 * reserved slots look as they do in the kernel: a reserved slot reads as
 * NULL, is skipped by the iterators, and takes a later store or cmpxchg
 * without allocating.  Iteration goes by index, so entries may be erased
 * under it.
 */
#ifndef MIGDEV_FUZZ_LINUX_XARRAY_H
#define MIGDEV_FUZZ_LINUX_XARRAY_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/gfp.h>
#include <linux/mm.h>	/* as the kernel's brings PAGE_SHIFT along */
#include <linux/types.h>

struct fz_xa_slot {
	unsigned long index;
	void *entry;		/* fz_xa_zero: reserved */
};

struct xarray {
	pthread_mutex_t lock;
	struct fz_xa_slot *slots;
	size_t n, cap;
};

#define XA_PRESENT	0u
static char fz_xa_zero_entry;
#define fz_xa_zero	((void *)&fz_xa_zero_entry)

static inline void *xa_mk_value(unsigned long v)
{
	return (void *)((v << 1) | 1);
}

static inline bool xa_is_value(const void *e)
{
	return (uintptr_t)e & 1;
}

static inline void *fz_xa_mk_err(int err)
{
	return (void *)(((long)err << 2) | 2);
}

static inline bool xa_is_err(const void *e)
{
	return ((uintptr_t)e & 3) == 2 && (long)e < 0 &&
	       (long)e >= -(4095L << 2);
}

static inline int xa_err(const void *e)
{
	return xa_is_err(e) ? (int)((long)e >> 2) : 0;
}

static inline void xa_init(struct xarray *xa)
{
	pthread_mutex_init(&xa->lock, NULL);
	xa->slots = NULL;
	xa->n = 0;
	xa->cap = 0;
}

static inline void xa_destroy(struct xarray *xa)
{
	pthread_mutex_lock(&xa->lock);
	free(xa->slots);
	xa->slots = NULL;
	xa->n = 0;
	xa->cap = 0;
	pthread_mutex_unlock(&xa->lock);
}

/* The position of the first slot with an index >= @index. */
static inline size_t fz_xa_pos(const struct xarray *xa, unsigned long index)
{
	size_t lo = 0, hi = xa->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (xa->slots[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Set slot @index to @e (NULL erases); the old entry, or an error. */
static inline void *fz_xa_set(struct xarray *xa, unsigned long index, void *e)
{
	size_t i = fz_xa_pos(xa, index);
	void *old;

	if (i < xa->n && xa->slots[i].index == index) {
		old = xa->slots[i].entry;
		if (e) {
			xa->slots[i].entry = e;
		} else {
			memmove(&xa->slots[i], &xa->slots[i + 1],
				(xa->n - i - 1) * sizeof(xa->slots[0]));
			xa->n--;
		}
		return old == fz_xa_zero ? NULL : old;
	}
	if (!e)
		return NULL;
	if (xa->n == xa->cap) {
		size_t cap = xa->cap ? 2 * xa->cap : 16;
		struct fz_xa_slot *s = realloc(xa->slots, cap * sizeof(*s));

		if (!s)
			return fz_xa_mk_err(-ENOMEM);
		xa->slots = s;
		xa->cap = cap;
	}
	memmove(&xa->slots[i + 1], &xa->slots[i],
		(xa->n - i) * sizeof(xa->slots[0]));
	xa->slots[i].index = index;
	xa->slots[i].entry = e;
	xa->n++;
	return NULL;
}

/* Slot @index's entry (fz_xa_zero if reserved), or NULL if it has none. */
static inline void *fz_xa_slot(const struct xarray *xa, unsigned long index)
{
	size_t i = fz_xa_pos(xa, index);

	return i < xa->n && xa->slots[i].index == index ?
	       xa->slots[i].entry : NULL;
}

/* What the kernel's xa_load() sees at @index: a reserved slot reads NULL. */
static inline void *fz_xa_get(const struct xarray *xa, unsigned long index)
{
	void *e = fz_xa_slot(xa, index);

	return e == fz_xa_zero ? NULL : e;
}

static inline void *xa_load(struct xarray *xa, unsigned long index)
{
	void *e;

	pthread_mutex_lock(&xa->lock);
	e = fz_xa_get(xa, index);
	pthread_mutex_unlock(&xa->lock);
	return e;
}

static inline void *xa_store(struct xarray *xa, unsigned long index, void *e,
			     gfp_t gfp)
{
	void *old;

	pthread_mutex_lock(&xa->lock);
	old = fz_xa_set(xa, index, e);
	pthread_mutex_unlock(&xa->lock);
	return old;
}

static inline void *xa_erase(struct xarray *xa, unsigned long index)
{
	return xa_store(xa, index, NULL, 0);
}

static inline void *xa_cmpxchg(struct xarray *xa, unsigned long index,
			       void *old, void *e, gfp_t gfp)
{
	void *cur, *ret;

	pthread_mutex_lock(&xa->lock);
	cur = fz_xa_get(xa, index);
	if (cur == old) {
		ret = fz_xa_set(xa, index, e);
		if (xa_is_err(ret))
			cur = ret;
	}
	pthread_mutex_unlock(&xa->lock);
	return cur;
}

static inline int xa_reserve(struct xarray *xa, unsigned long index, gfp_t gfp)
{
	void *ret = NULL;

	pthread_mutex_lock(&xa->lock);
	if (!fz_xa_slot(xa, index))
		ret = fz_xa_set(xa, index, fz_xa_zero);
	pthread_mutex_unlock(&xa->lock);
	return xa_err(ret);
}

static inline void xa_release(struct xarray *xa, unsigned long index)
{
	pthread_mutex_lock(&xa->lock);
	if (fz_xa_slot(xa, index) == fz_xa_zero)
		fz_xa_set(xa, index, NULL);
	pthread_mutex_unlock(&xa->lock);
}

/* The first entry at an index in [*@index, @max]: *@index becomes its index. */
static inline void *xa_find(struct xarray *xa, unsigned long *index,
			    unsigned long max, unsigned int filter)
{
	void *e = NULL;
	size_t i;

	pthread_mutex_lock(&xa->lock);
	for (i = fz_xa_pos(xa, *index); i < xa->n; i++) {
		if (xa->slots[i].index > max)
			break;
		if (xa->slots[i].entry != fz_xa_zero) {
			e = xa->slots[i].entry;
			*index = xa->slots[i].index;
			break;
		}
	}
	pthread_mutex_unlock(&xa->lock);
	return e;
}

static inline void *xa_find_after(struct xarray *xa, unsigned long *index,
				  unsigned long max, unsigned int filter)
{
	unsigned long next = *index + 1;
	void *e;

	if (*index == ULONG_MAX)
		return NULL;
	e = xa_find(xa, &next, max, filter);
	if (e)
		*index = next;
	return e;
}

/* The iterators' cursor: each macro argument is used once. */
struct fz_xa_it {
	struct xarray *xa;
	unsigned long next, last;
	bool done;
};

static inline struct fz_xa_it fz_xa_it(struct xarray *xa, unsigned long start,
				       unsigned long last)
{
	return (struct fz_xa_it){ .xa = xa, .next = start, .last = last };
}

/* The next entry into *@entry and its index into *@index; false at the end. */
static inline bool fz_xa_it_next(struct fz_xa_it *it, unsigned long *index,
				 void **entry)
{
	unsigned long i = it->next;
	void *e;

	if (it->done)
		return false;
	e = xa_find(it->xa, &i, it->last, XA_PRESENT);
	if (!e)
		return false;
	*index = i;
	*entry = e;
	it->done = i == ULONG_MAX;
	it->next = i + 1;
	return true;
}

#define xa_for_each_range(xa, index, entry, start, last)		\
	for (struct fz_xa_it __it = fz_xa_it(xa, start, last);		\
	     fz_xa_it_next(&__it, &(index), (void **)&(entry));)
#define xa_for_each_start(xa, index, entry, start)			\
	xa_for_each_range(xa, index, entry, start, ULONG_MAX)
#define xa_for_each(xa, index, entry)					\
	xa_for_each_start(xa, index, entry, 0)

#endif /* MIGDEV_FUZZ_LINUX_XARRAY_H */
