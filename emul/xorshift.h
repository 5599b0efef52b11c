/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: xorshift64, the generator behind everything migdev makes up and
 * a user may check: opaque state (the stream format names it), the
 * writer's blocks, and fault rules' probabilities.
 */
#ifndef MIGDEV_EMUL_XORSHIFT_H
#define MIGDEV_EMUL_XORSHIFT_H

#include <linux/types.h>

/* The next value from *@state, which must not be 0. */
static inline u64 migdev_xorshift64(u64 *state)
{
	u64 x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

#endif /* MIGDEV_EMUL_XORSHIFT_H */
