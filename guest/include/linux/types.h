/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few <linux/types.h> names that include/uapi/linux/migdev.h uses, for
 * the freestanding 32-bit guest (no system headers: the host has no i386
 * multilib).  x86 is little-endian, so __leN are plain integers here.
 */
#ifndef _MIGDEV_GUEST_LINUX_TYPES_H
#define _MIGDEV_GUEST_LINUX_TYPES_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

typedef u16 __u16;
typedef u32 __u32;
typedef u64 __u64;
typedef u16 __le16;
typedef u32 __le32;
typedef u64 __le64;

#endif
