/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace shim for the kernel's <linux/xxhash.h>: XXH64, one-shot and
 * streaming, written from the algorithm's specification (xxhash.com's
 * doc/xxhash_spec.md) rather than copied, so that the stream codec's
 * userspace builds check the kernel's lib/xxhash.c against an independent
 * implementation: a stream the tests frame here is verified by the
 * kernel's decoder, and the reverse.  Same names and state as the kernel's.
 */
#ifndef MIGDEV_FUZZ_LINUX_XXHASH_H
#define MIGDEV_FUZZ_LINUX_XXHASH_H

#include <string.h>
#include <linux/types.h>

#define XXH_P64_1 0x9E3779B185EBCA87ULL
#define XXH_P64_2 0xC2B2AE3D27D4EB4FULL
#define XXH_P64_3 0x165667B19E3779F9ULL
#define XXH_P64_4 0x85EBCA77C2B2AE63ULL
#define XXH_P64_5 0x27D4EB2F165667C5ULL

struct xxh64_state {
	u64 total_len;
	u64 v1;
	u64 v2;
	u64 v3;
	u64 v4;
	u64 mem64[4];
	u32 memsize;
};

static inline u64 xxh_rotl64(u64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline u64 xxh_read64(const u8 *p)
{
	u64 v;

	memcpy(&v, p, 8);	/* little-endian hosts only, as the shims */
	return v;
}

static inline u32 xxh_read32(const u8 *p)
{
	u32 v;

	memcpy(&v, p, 4);
	return v;
}

static inline u64 xxh64_round(u64 acc, u64 input)
{
	acc += input * XXH_P64_2;
	acc = xxh_rotl64(acc, 31);
	return acc * XXH_P64_1;
}

static inline u64 xxh64_merge(u64 acc, u64 val)
{
	acc ^= xxh64_round(0, val);
	return acc * XXH_P64_1 + XXH_P64_4;
}

/* The tail (under 32 bytes) and the avalanche, from accumulator @h. */
static inline u64 xxh64_finish(u64 h, const u8 *p, size_t len)
{
	while (len >= 8) {
		h ^= xxh64_round(0, xxh_read64(p));
		h = xxh_rotl64(h, 27) * XXH_P64_1 + XXH_P64_4;
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		h ^= (u64)xxh_read32(p) * XXH_P64_1;
		h = xxh_rotl64(h, 23) * XXH_P64_2 + XXH_P64_3;
		p += 4;
		len -= 4;
	}
	while (len--) {
		h ^= *p++ * XXH_P64_5;
		h = xxh_rotl64(h, 11) * XXH_P64_1;
	}
	h ^= h >> 33;
	h *= XXH_P64_2;
	h ^= h >> 29;
	h *= XXH_P64_3;
	h ^= h >> 32;
	return h;
}

static inline u64 xxh64_converge(const struct xxh64_state *s)
{
	u64 h = xxh_rotl64(s->v1, 1) + xxh_rotl64(s->v2, 7) +
		xxh_rotl64(s->v3, 12) + xxh_rotl64(s->v4, 18);

	h = xxh64_merge(h, s->v1);
	h = xxh64_merge(h, s->v2);
	h = xxh64_merge(h, s->v3);
	return xxh64_merge(h, s->v4);
}

static inline void xxh64_reset(struct xxh64_state *s, u64 seed)
{
	memset(s, 0, sizeof(*s));
	s->v1 = seed + XXH_P64_1 + XXH_P64_2;
	s->v2 = seed + XXH_P64_2;
	s->v3 = seed;
	s->v4 = seed - XXH_P64_1;
}

/* Whole 32-byte stripes of @p into the four lanes. */
static inline void xxh64_stripes(struct xxh64_state *s, const u8 *p, size_t n)
{
	for (; n >= 32; n -= 32, p += 32) {
		s->v1 = xxh64_round(s->v1, xxh_read64(p));
		s->v2 = xxh64_round(s->v2, xxh_read64(p + 8));
		s->v3 = xxh64_round(s->v3, xxh_read64(p + 16));
		s->v4 = xxh64_round(s->v4, xxh_read64(p + 24));
	}
}

static inline int xxh64_update(struct xxh64_state *s, const void *input,
			       size_t len)
{
	const u8 *p = input;
	size_t n;

	s->total_len += len;
	if (s->memsize) {
		n = 32 - s->memsize < len ? 32 - s->memsize : len;
		memcpy((u8 *)s->mem64 + s->memsize, p, n);
		s->memsize += n;
		p += n;
		len -= n;
		if (s->memsize < 32)
			return 0;
		xxh64_stripes(s, (const u8 *)s->mem64, 32);
		s->memsize = 0;
	}
	n = len & ~(size_t)31;
	xxh64_stripes(s, p, n);
	memcpy(s->mem64, p + n, len - n);
	s->memsize = len - n;
	return 0;
}

static inline u64 xxh64_digest(const struct xxh64_state *s)
{
	u64 h = s->total_len >= 32 ? xxh64_converge(s) : s->v3 + XXH_P64_5;

	return xxh64_finish(h + s->total_len, (const u8 *)s->mem64,
			    s->memsize);
}

static inline u64 xxh64(const void *input, size_t len, u64 seed)
{
	struct xxh64_state s;

	xxh64_reset(&s, seed);
	xxh64_update(&s, input, len);
	return xxh64_digest(&s);
}

#endif /* MIGDEV_FUZZ_LINUX_XXHASH_H */
