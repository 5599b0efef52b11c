/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace shim for the kernel's <linux/mm.h>: 4 KiB pages from
 * aligned_alloc(), each with a struct page that knows its address.
 */
#ifndef MIGDEV_FUZZ_LINUX_MM_H
#define MIGDEV_FUZZ_LINUX_MM_H

#include <stdlib.h>
#include <string.h>
#include <linux/err.h>
#include <linux/gfp.h>

#define PAGE_SHIFT	12
#define PAGE_SIZE	4096UL	/* 1 << PAGE_SHIFT */

#define offset_in_page(p)	((unsigned long)(p) & (PAGE_SIZE - 1))

struct page {
	void *addr;
	int ref;
};

static inline struct page *alloc_page(gfp_t gfp)
{
	struct page *p = malloc(sizeof(*p));

	if (!p)
		return NULL;
	p->addr = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	if (!p->addr) {
		free(p);
		return NULL;
	}
	if (gfp & __GFP_ZERO)
		memset(p->addr, 0, PAGE_SIZE);
	p->ref = 1;
	return p;
}

/* A reference: the page goes when the last one does. */
static inline void get_page(struct page *p)
{
	p->ref++;
}

static inline void put_page(struct page *p)
{
	if (--p->ref)
		return;
	free(p->addr);
	free(p);
}

static inline void __free_page(struct page *p)
{
	put_page(p);
}

static inline void *page_address(const struct page *p)
{
	return p->addr;
}

#endif /* MIGDEV_FUZZ_LINUX_MM_H */
