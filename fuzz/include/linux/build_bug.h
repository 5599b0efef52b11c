/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace stand-in for the kernel's <linux/build_bug.h>: BUILD_BUG_ON. */
#ifndef MIGDEV_FUZZ_LINUX_BUILD_BUG_H
#define MIGDEV_FUZZ_LINUX_BUILD_BUG_H

/* A negative array size when @cond is true: the build fails. */
#define BUILD_BUG_ON(cond) ((void)sizeof(char[1 - 2 * !!(cond)]))

#endif
