/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace shim for the kernel's <linux/lockdep.h>: lockdep_assert_held()
 * checks what the shims can tell: that a mutex (linux/mutex.h) or a
 * rw_semaphore taken for write (linux/rwsem.h) is held by this thread, or
 * the rw_semaphore for read by anyone.
 */
#ifndef MIGDEV_FUZZ_LINUX_LOCKDEP_H
#define MIGDEV_FUZZ_LINUX_LOCKDEP_H

#include <linux/compiler.h>
#include <linux/mutex.h>

#define lockdep_assert_held(l)	((void)WARN_ON(!fz_held(&(l)->held)))

#endif /* MIGDEV_FUZZ_LINUX_LOCKDEP_H */
