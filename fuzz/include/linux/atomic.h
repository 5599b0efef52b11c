/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace shim for the kernel's <linux/atomic.h>: C11 atomics. */
#ifndef MIGDEV_FUZZ_LINUX_ATOMIC_H
#define MIGDEV_FUZZ_LINUX_ATOMIC_H

#include <stdatomic.h>
#include <stdbool.h>

/* The kernel's typedef names, without a typedef of our own. */
struct fz_atomic {
	atomic_int v;
};

struct fz_atomic_long {
	atomic_long v;
};

struct fz_atomic64 {
	atomic_llong v;
};

#define atomic_t	struct fz_atomic
#define atomic_long_t	struct fz_atomic_long
#define atomic64_t	struct fz_atomic64

#define atomic_set(a, i)	atomic_store(&(a)->v, i)
#define atomic_read(a)		atomic_load(&(a)->v)
#define atomic_inc(a)		atomic_fetch_add(&(a)->v, 1)
#define atomic_dec_and_test(a)	(atomic_fetch_sub(&(a)->v, 1) == 1)
#define atomic_long_set(a, i)	atomic_store(&(a)->v, i)
#define atomic_long_read(a)	atomic_load(&(a)->v)
#define atomic_long_inc(a)	atomic_fetch_add(&(a)->v, 1)
#define atomic_long_dec(a)	atomic_fetch_sub(&(a)->v, 1)
#define atomic64_set(a, i)	atomic_store(&(a)->v, i)
#define atomic64_read(a)	atomic_load(&(a)->v)
#define atomic64_inc(a)	atomic_fetch_add(&(a)->v, 1)

#endif /* MIGDEV_FUZZ_LINUX_ATOMIC_H */
