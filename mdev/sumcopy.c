// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: copy to or from a user's buffer and checksum in one pass.
 *
 * A data_fd read sends device memory as DEVMEM records whose checksum
 * (XXH64, stream 1.4) must be of the bytes the user gets, and the device
 * may write its memory meanwhile (pre-copy).  Copying a page into a kernel
 * buffer, checksumming it there and copying it out again takes three
 * passes; here each 8 bytes are loaded once, stored to the user and added
 * to the checksum: one pass, which is what memcpy() costs.  A data_fd
 * write does the same the other way, from the user's buffer (which other
 * threads may change meanwhile) into the page the stream's data goes to.
 *
 * The four lanes of XXH64 are those of the kernel's lib/xxhash.c, whose
 * struct xxh64_state this continues: xxh64_update() takes what does not
 * fill a 32-byte stripe, and xxh64_digest() ends it.
 */
#include <linux/kernel.h>
#include <linux/uaccess.h>
#include <linux/xxhash.h>

#include "migdev.h"

#define MIGDEV_XXH_PRIME64_1	0x9E3779B185EBCA87ULL
#define MIGDEV_XXH_PRIME64_2	0xC2B2AE3D27D4EB4FULL

static __always_inline u64 migdev_sumcopy_round(u64 acc, u64 input)
{
	acc += input * MIGDEV_XXH_PRIME64_2;
	acc = rol64(acc, 31);
	return acc * MIGDEV_XXH_PRIME64_1;
}

/* Fewer than 32 bytes, through a copy on the stack (each byte read once). */
static int migdev_sumcopy_small(struct xxh64_state *st, void __user *dst,
				const void *src, size_t len)
{
	u8 tmp[32];

	memcpy(tmp, src, len);
	if (copy_to_user(dst, tmp, len))
		return -EFAULT;
	xxh64_update(st, tmp, len);
	return 0;
}

/*
 * Whole stripes, @len a multiple of 32, with the state on a stripe's
 * boundary.  No calls between user_write_access_begin() and _end().
 */
static int migdev_sumcopy_stripes(struct xxh64_state *st, void __user *dst,
				  const u8 *src, size_t len)
{
	u64 v1 = st->v1, v2 = st->v2, v3 = st->v3, v4 = st->v4;
	__le64 __user *d = dst;
	const __le64 *s = (const __le64 *)src;
	size_t i;

	if (!user_write_access_begin(dst, len))
		return -EFAULT;
	for (i = 0; i < len / 8; i += 4) {
		/* Loaded once: what is stored is what is summed. */
		__le64 a = READ_ONCE(s[i]), b = READ_ONCE(s[i + 1]);
		__le64 c = READ_ONCE(s[i + 2]), e = READ_ONCE(s[i + 3]);

		unsafe_put_user(a, d + i, efault);
		unsafe_put_user(b, d + i + 1, efault);
		unsafe_put_user(c, d + i + 2, efault);
		unsafe_put_user(e, d + i + 3, efault);
		v1 = migdev_sumcopy_round(v1, le64_to_cpu(a));
		v2 = migdev_sumcopy_round(v2, le64_to_cpu(b));
		v3 = migdev_sumcopy_round(v3, le64_to_cpu(c));
		v4 = migdev_sumcopy_round(v4, le64_to_cpu(e));
	}
	user_write_access_end();
	st->v1 = v1;
	st->v2 = v2;
	st->v3 = v3;
	st->v4 = v4;
	st->total_len += len;
	return 0;

efault:
	user_write_access_end();
	return -EFAULT;
}

/* Fewer than 32 bytes from the user, through a copy on the stack. */
static int migdev_sumcopy_small_from(struct xxh64_state *st, void *dst,
				     const void __user *src, size_t len)
{
	u8 tmp[32];

	if (copy_from_user(tmp, src, len))
		return -EFAULT;
	memcpy(dst, tmp, len);
	xxh64_update(st, tmp, len);
	return 0;
}

/* As migdev_sumcopy_stripes(), from the user. */
static int migdev_sumcopy_stripes_from(struct xxh64_state *st, void *dst,
				       const void __user *src, size_t len)
{
	u64 v1 = st->v1, v2 = st->v2, v3 = st->v3, v4 = st->v4;
	const __le64 __user *s = src;
	__le64 *d = dst;
	size_t i;

	if (!user_read_access_begin(src, len))
		return -EFAULT;
	for (i = 0; i < len / 8; i += 4) {
		/* Loaded once: what is stored is what is summed. */
		__le64 a, b, c, e;

		unsafe_get_user(a, s + i, efault);
		unsafe_get_user(b, s + i + 1, efault);
		unsafe_get_user(c, s + i + 2, efault);
		unsafe_get_user(e, s + i + 3, efault);
		d[i] = a;
		d[i + 1] = b;
		d[i + 2] = c;
		d[i + 3] = e;
		v1 = migdev_sumcopy_round(v1, le64_to_cpu(a));
		v2 = migdev_sumcopy_round(v2, le64_to_cpu(b));
		v3 = migdev_sumcopy_round(v3, le64_to_cpu(c));
		v4 = migdev_sumcopy_round(v4, le64_to_cpu(e));
	}
	user_read_access_end();
	st->v1 = v1;
	st->v2 = v2;
	st->v3 = v3;
	st->v4 = v4;
	st->total_len += len;
	return 0;

efault:
	user_read_access_end();
	return -EFAULT;
}

/*
 * @n bytes between kernel memory @k and the user's @u, in the direction
 * @to_user: whole stripes when @n is at least one (it is then a multiple
 * of 32), else a piece of a stripe through the stack.
 */
static int migdev_sumcopy_piece(struct xxh64_state *st, void *k,
				void __user *u, size_t n, bool to_user)
{
	if (n >= 32)
		return to_user ? migdev_sumcopy_stripes(st, u, k, n) :
				 migdev_sumcopy_stripes_from(st, k, u, n);
	return to_user ? migdev_sumcopy_small(st, u, k, n) :
			 migdev_sumcopy_small_from(st, k, u, n);
}

/* Either way: the stripe begun before, whole stripes, what is left. */
static int migdev_sumcopy(struct xxh64_state *st, void *k, void __user *u,
			  size_t len, bool to_user)
{
	size_t n;
	int ret;

	if (st->memsize) {
		/* Finish the stripe begun before. */
		n = min_t(size_t, len, 32 - st->memsize);
		ret = migdev_sumcopy_piece(st, k, u, n, to_user);
		if (ret)
			return ret;
		k += n;
		u += n;
		len -= n;
	}
	n = len & ~(size_t)31;
	if (n) {
		ret = migdev_sumcopy_piece(st, k, u, n, to_user);
		if (ret)
			return ret;
	}
	if (len > n)
		return migdev_sumcopy_piece(st, k + n, u + n, len - n, to_user);
	return 0;
}

/**
 * migdev_sumcopy_to_user() - copy to the user and add to an XXH64
 * @st: the running checksum (xxh64_reset() and any xxh64_update() before)
 * @dst: the user's buffer
 * @src: the bytes, in kernel memory that may change meanwhile; 8-byte
 *	 aligned where a stripe starts in them
 * @len: how many
 *
 * Each byte of @src is read once: @st gets exactly what @dst gets.
 *
 * Return: 0, or -EFAULT with @st and a prefix of @dst undefined.
 */
int migdev_sumcopy_to_user(struct xxh64_state *st, void __user *dst,
			   const void *src, size_t len)
{
	/* Only read: the one path takes the kernel side unqualified. */
	return migdev_sumcopy(st, (void *)src, dst, len, true);
}

/**
 * migdev_sumcopy_from_user() - copy from the user and add to an XXH64
 * @st: the running checksum (xxh64_reset() and any xxh64_update() before)
 * @dst: kernel memory, 8-byte aligned where a stripe starts in it
 * @src: the user's buffer, which may change meanwhile
 * @len: how many bytes
 *
 * Each byte of @src is read once: @st gets exactly what @dst gets.
 *
 * Return: 0, or -EFAULT with @st and a prefix of @dst undefined.
 */
int migdev_sumcopy_from_user(struct xxh64_state *st, void *dst,
			     const void __user *src, size_t len)
{
	return migdev_sumcopy(st, dst, (void __user *)src, len, false);
}
