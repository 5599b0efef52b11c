/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace shim for the kernel's <linux/kernel.h>, limited to what
 * emul/stream.c takes from it: ARRAY_SIZE(), vsnprintf() and va_list,
 * offsetof(), and (as in the kernel, indirectly) the byte-order helpers.
 */
#ifndef MIGDEV_FUZZ_LINUX_KERNEL_H
#define MIGDEV_FUZZ_LINUX_KERNEL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <asm/byteorder.h>
#include <linux/minmax.h>
#include <linux/types.h>
#include <linux/wordpart.h>

#define ARRAY_SIZE(arr)	(sizeof(arr) / sizeof((arr)[0]))

#endif /* MIGDEV_FUZZ_LINUX_KERNEL_H */
