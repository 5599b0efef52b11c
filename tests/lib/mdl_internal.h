/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libmigdev's own header, for its files only: the system headers they
 * use, and what they share that users of the library do not see.
 */
#ifndef MDL_INTERNAL_H
#define MDL_INTERNAL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/userfaultfd.h>

#include "migdev_lib.h"

#define MDL_DEVICES "/sys/bus/mdev/devices"

/* Print "libmigdev: " and the message, and exit(1). */
void mdl_die(const char *fmt, ...);

#endif /* MDL_INTERNAL_H */
