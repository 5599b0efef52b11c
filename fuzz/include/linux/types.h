/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace shim for the kernel's <linux/types.h>: the system's uapi
 * <linux/types.h> (which the include_next below finds, and which the uapi
 * <uapi/linux/migdev.h> also gets through this file) has __u8..__u64 and
 * __le16..__le64; this adds the kernel-internal names.  __u64 is
 * unsigned long long, as in the kernel, so "%llu" formats stay right.
 */
#ifndef MIGDEV_FUZZ_LINUX_TYPES_H
#define MIGDEV_FUZZ_LINUX_TYPES_H

#include_next <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;

/* What every kernel file has without asking. */
#include <linux/compiler.h>
#include <linux/bits.h>
#include <linux/wordpart.h>
#include <asm/byteorder.h>

#endif /* MIGDEV_FUZZ_LINUX_TYPES_H */
