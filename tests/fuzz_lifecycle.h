/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * uapi_fuzz's lifecycle arena: VFIO's own objects (containers, groups,
 * device fds, iommufds, IOASes, vfio cdevs) opened, attached, used and
 * closed by any thread while the others use them, on instances of their
 * own.  See fuzz_lifecycle.c.
 */
#ifndef MIGDEV_FUZZ_LIFECYCLE_H
#define MIGDEV_FUZZ_LIFECYCLE_H

#include <stdint.h>

enum {
	LC_CONTAINER, LC_GROUP, LC_SET_CONTAINER, LC_SET_IOMMU, LC_IOMMU,
	LC_DEVICE, LC_DEVICE_IO, LC_IOMMUFD, LC_IOAS, LC_CDEV, NR_LC_OPS
};

/* The arguments of one operation, from uapi_fuzz's struct op. */
struct lc_args {
	uint32_t a, b, c, d;
	uint64_t x, y;
	uint32_t seed;
};

/*
 * Create the arena's instances: 0 or -errno.  Sets *@left_out to the
 * name of an operation left out on this kernel (a known kernel bug that
 * would oops it), else NULL.
 */
int lc_init(const char **left_out);
/* Whether operation @kind runs on this kernel. */
int lc_enabled(unsigned int kind);
long long lc_exec(unsigned int kind, const struct lc_args *o);
/* Close everything; 0 if every arena instance still works, else -errno. */
int lc_fini(void);

#endif /* MIGDEV_FUZZ_LIFECYCLE_H */
