/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace shim for the kernel's <linux/gfp.h>: the flags, as bits. */
#ifndef MIGDEV_FUZZ_LINUX_GFP_H
#define MIGDEV_FUZZ_LINUX_GFP_H

#define gfp_t		unsigned int

#define __GFP_ZERO		0x1u
#define __GFP_RETRY_MAYFAIL	0x2u
#define __GFP_NOWARN		0x4u
#define GFP_KERNEL		0x10u
#define GFP_KERNEL_ACCOUNT	0x30u
#define GFP_NOWAIT		0x40u

#endif /* MIGDEV_FUZZ_LINUX_GFP_H */
