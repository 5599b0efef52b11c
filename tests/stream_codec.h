/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The module's own stream framing (emul/stream.c), linked into the tests
 * that write streams (tests/Makefile builds it against fuzz/include's
 * shims), so that what they send is framed as the kernel frames it and
 * cannot drift from it.  stream_codec.c checks these declarations against
 * emul/stream.h at build time.
 */
#ifndef MIGDEV_TESTS_STREAM_CODEC_H
#define MIGDEV_TESTS_STREAM_CODEC_H

#include <stddef.h>
#include <stdint.h>

/*
 * A record at @dst: its header, then @len bytes of @payload (NULL: the
 * payload is already in place after the header); the checksum of stream
 * minor @minor computed.  Returns the record's size.
 */
size_t migdev_stream_put_record(void *dst, uint16_t minor, uint32_t tag,
				uint32_t flags, const void *payload, size_t len);

/*
 * A payload's checksum in stream minor @minor: XXH64 from 1.4 (computed
 * by fuzz/include's own XXH64, so the kernel's lib/xxhash.c is checked
 * against an independent one), CRC-32C before.
 */
unsigned long long migdev_stream_sum(uint16_t minor, const void *data,
				     size_t len);

#endif /* MIGDEV_TESTS_STREAM_CODEC_H */
