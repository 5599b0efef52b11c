/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace shim for the kernel's <linux/bitmap.h> (and the bit
 * operations it brings): what emul/ uses, bit by bit.
 */
#ifndef MIGDEV_FUZZ_LINUX_BITMAP_H
#define MIGDEV_FUZZ_LINUX_BITMAP_H

#include <stdlib.h>
#include <string.h>
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

#define xchg(p, v)		__atomic_exchange_n(p, v, __ATOMIC_SEQ_CST)
#define hweight_long(w)		__builtin_popcountl(w)

/* The cursor of for_each_set_bitrange(): each argument used once. */
struct fz_bitrange {
	const unsigned long *b;
	unsigned long size, next;
};

static inline struct fz_bitrange fz_bitrange(const unsigned long *b,
					     unsigned long size)
{
	return (struct fz_bitrange){ .b = b, .size = size };
}

static inline bool fz_bitrange_next(struct fz_bitrange *r, unsigned long *rs,
				    unsigned long *re)
{
	*rs = find_next_bit(r->b, r->size, r->next);
	if (*rs >= r->size)
		return false;
	*re = find_next_zero_bit(r->b, r->size, *rs);
	r->next = *re;
	return true;
}

/* Each run [rs, re) of set bits of @b below @size. */
#define for_each_set_bitrange(rs, re, b, size)				\
	for (struct fz_bitrange __br = fz_bitrange(b, size);		\
	     fz_bitrange_next(&__br, &(rs), &(re));)

#define BITS_TO_LONGS(n)	(((n) + FZ_BITS_PER_LONG - 1) / FZ_BITS_PER_LONG)

static inline void bitmap_zero(unsigned long *b, unsigned int nbits)
{
	memset(b, 0, BITS_TO_LONGS(nbits) * sizeof(unsigned long));
}

static inline void set_bit(unsigned long nr, unsigned long *b)
{
	__atomic_fetch_or(&b[nr / FZ_BITS_PER_LONG], 1UL << (nr % FZ_BITS_PER_LONG),
			  __ATOMIC_SEQ_CST);
}

static inline bool test_and_set_bit(unsigned long nr, unsigned long *b)
{
	unsigned long m = 1UL << (nr % FZ_BITS_PER_LONG);

	return __atomic_fetch_or(&b[nr / FZ_BITS_PER_LONG], m,
				 __ATOMIC_SEQ_CST) & m;
}

static inline unsigned long *bitmap_zalloc(unsigned int nbits, unsigned int gfp)
{
	return calloc(BITS_TO_LONGS(nbits), sizeof(unsigned long));
}

static inline void bitmap_free(unsigned long *b)
{
	free(b);
}

static inline unsigned int bitmap_weight(const unsigned long *b,
					 unsigned int nbits)
{
	unsigned int i, w = 0;

	for (i = 0; i < nbits; i++)
		w += fz_test_bit(i, b);
	return w;
}

#endif /* MIGDEV_FUZZ_LINUX_BITMAP_H */
