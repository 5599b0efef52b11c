/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace shim for the kernel's <linux/highmem.h>: every page is mapped. */
#ifndef MIGDEV_FUZZ_LINUX_HIGHMEM_H
#define MIGDEV_FUZZ_LINUX_HIGHMEM_H

#include <linux/mm.h>

#define kmap_local_page(p)	page_address(p)
#define kunmap_local(a)		((void)(a))

static inline void memcpy_from_page(char *to, struct page *page,
				    size_t offset, size_t len)
{
	memcpy(to, (char *)page_address(page) + offset, len);
}

static inline void memcpy_to_page(struct page *page, size_t offset,
				  const char *from, size_t len)
{
	memcpy((char *)page_address(page) + offset, from, len);
}

#endif /* MIGDEV_FUZZ_LINUX_HIGHMEM_H */
