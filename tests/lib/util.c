// SPDX-License-Identifier: GPL-2.0-only
/*
 * libmigdev (see migdev_lib.h): what the rest of libmigdev shares: dying
 * with a message, the clock, CRC-32C as the device computes it, and noise.
 */
#include "mdl_internal.h"

void mdl_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "libmigdev: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	exit(1);
}

double mdl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint32_t mdl_crc32c(const void *buf, size_t len)
{
	static uint32_t table[256];
	const uint8_t *p = buf;
	uint32_t crc = ~0U;
	size_t i;

	if (!table[1]) {
		for (i = 0; i < 256; i++) {
			uint32_t c = i;
			int k;

			for (k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
			table[i] = c;
		}
	}
	for (i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

void mdl_fill_random(void *p, size_t n, unsigned int seed)
{
	uint32_t *w = p, x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < n / 4; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		w[i] = x;
	}
}
