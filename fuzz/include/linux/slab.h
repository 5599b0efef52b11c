/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace shim for the kernel's <linux/slab.h>: malloc() and free(). */
#ifndef MIGDEV_FUZZ_LINUX_SLAB_H
#define MIGDEV_FUZZ_LINUX_SLAB_H

#include <stdlib.h>
#include <linux/gfp.h>

static inline void *kvmalloc(size_t n, gfp_t gfp)
{
	return gfp & __GFP_ZERO ? calloc(1, n) : malloc(n);
}

#define kmalloc(n, gfp)		kvmalloc(n, gfp)
#define kzalloc(n, gfp)		kvmalloc(n, (gfp) | __GFP_ZERO)
#define kvzalloc(n, gfp)	kvmalloc(n, (gfp) | __GFP_ZERO)
#define kcalloc(n, size, gfp)	kvmalloc((size_t)(n) * (size), (gfp) | __GFP_ZERO)
#define kfree(p)		free(p)
#define kvfree(p)		free(p)

#endif /* MIGDEV_FUZZ_LINUX_SLAB_H */
