/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace shim for the kernel's <linux/bitmap.h>: what the stream's
 * encoder uses (finding runs of set bits, clearing them), bit by bit.
 */
#ifndef MIGDEV_FUZZ_LINUX_BITMAP_H
#define MIGDEV_FUZZ_LINUX_BITMAP_H

#include <linux/types.h>

#define FZ_BITS_PER_LONG	(8 * sizeof(unsigned long))

static inline bool fz_test_bit(unsigned long nr, const unsigned long *b)
{
	return b[nr / FZ_BITS_PER_LONG] >> (nr % FZ_BITS_PER_LONG) & 1;
}

static inline unsigned long find_next_bit(const unsigned long *b,
					  unsigned long size,
					  unsigned long off)
{
	for (; off < size; off++)
		if (fz_test_bit(off, b))
			return off;
	return size;
}

static inline unsigned long find_first_bit(const unsigned long *b,
					   unsigned long size)
{
	return find_next_bit(b, size, 0);
}

static inline unsigned long find_next_zero_bit(const unsigned long *b,
					       unsigned long size,
					       unsigned long off)
{
	for (; off < size; off++)
		if (!fz_test_bit(off, b))
			return off;
	return size;
}

static inline void bitmap_clear(unsigned long *b, unsigned int start,
				unsigned int len)
{
	for (; len; len--, start++)
		b[start / FZ_BITS_PER_LONG] &= ~(1UL << (start % FZ_BITS_PER_LONG));
}

#endif /* MIGDEV_FUZZ_LINUX_BITMAP_H */
