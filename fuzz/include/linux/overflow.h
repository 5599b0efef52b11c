/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace shim for the kernel's <linux/overflow.h>: check_add_overflow()
 * is the same compiler builtin there (minus the kernel's type checks).
 */
#ifndef MIGDEV_FUZZ_LINUX_OVERFLOW_H
#define MIGDEV_FUZZ_LINUX_OVERFLOW_H

#define check_add_overflow(a, b, d)	__builtin_add_overflow(a, b, d)
#define check_sub_overflow(a, b, d)	__builtin_sub_overflow(a, b, d)
#define check_mul_overflow(a, b, d)	__builtin_mul_overflow(a, b, d)

#endif /* MIGDEV_FUZZ_LINUX_OVERFLOW_H */
