// SPDX-License-Identifier: GPL-2.0-only
/*
 * libmigdev (see migdev_lib.h): the v1 migration region as a client
 * drives it: device_state, and a stream through the data section in
 * segments.
 */
#include <stddef.h>

#include "mdl_internal.h"

#define RUN	VFIO_DEVICE_STATE_V1_RUNNING
#define SAV	VFIO_DEVICE_STATE_V1_SAVING
#define RES	VFIO_DEVICE_STATE_V1_RESUMING
#define NDMA	MIGDEV_MIG_STATE_V1_NDMA
#define MIG	MIGDEV_MIG_REGION_INDEX

void mdl_v1_segs_free(struct mdl_v1_segs *s)
{
	free(s->buf);
	free(s->sz);
	memset(s, 0, sizeof(*s));
}

int mdl_v1_segs_add(struct mdl_v1_segs *s, size_t len)
{
	if (s->len + len > s->cap) {
		size_t cap = (s->len + len) * 2 + (1 << 20);
		uint8_t *b = realloc(s->buf, cap);

		if (!b)
			return -ENOMEM;
		s->buf = b;
		s->cap = cap;
	}
	if (s->n == s->ncap) {
		size_t ncap = s->ncap * 2 + 64;
		uint32_t *sz = realloc(s->sz, ncap * sizeof(*sz));

		if (!sz)
			return -ENOMEM;
		s->sz = sz;
		s->ncap = ncap;
	}
	s->sz[s->n++] = len;
	return 0;
}

uint32_t mdl_v1_state(struct mdl_dev *d)
{
	uint32_t v = ~0u;

	if (mdl_pread(d, MIG, MDL_V1_STATE, &v, 4) != 4)
		return ~0u;
	return v;
}

int mdl_v1_set(struct mdl_dev *d, uint32_t v)
{
	ssize_t n = mdl_pwrite(d, MIG, MDL_V1_STATE, &v, 4);

	return n < 0 ? n : n == 4 ? 0 : -EIO;
}

int mdl_v1_get64(struct mdl_dev *d, unsigned int off, uint64_t *v)
{
	ssize_t n = mdl_pread(d, MIG, off, v, 8);

	return n < 0 ? n : n == 8 ? 0 : -EIO;
}

int mdl_v1_set64(struct mdl_dev *d, unsigned int off, uint64_t v)
{
	ssize_t n = mdl_pwrite(d, MIG, off, &v, 8);

	return n < 0 ? n : n == 8 ? 0 : -EIO;
}

/* The v2 state a device_state value stands for. */
uint32_t mdl_v1_to_v2(uint32_t v)
{
	if (v & RES)
		return VFIO_DEVICE_STATE_RESUMING;
	if (v & SAV) {
		if (!(v & RUN))
			return VFIO_DEVICE_STATE_STOP_COPY;
		return v & NDMA ? VFIO_DEVICE_STATE_PRE_COPY_P2P :
				  VFIO_DEVICE_STATE_PRE_COPY;
	}
	if (v & RUN)
		return v & NDMA ? VFIO_DEVICE_STATE_RUNNING_P2P :
				  VFIO_DEVICE_STATE_RUNNING;
	return VFIO_DEVICE_STATE_STOP;
}

/*
 * While SAVING: collect segments until pending_bytes is 0 (or, in
 * pre-copy, until a segment comes back empty), reading each in @chunk
 * byte pieces.
 */
int mdl_v1_drain(struct mdl_dev *d, struct mdl_v1_segs *s, size_t chunk)
{
	for (;;) {
		uint64_t pending, off, size, done;
		int ret;

		ret = mdl_v1_get64(d, MDL_V1_PENDING, &pending);
		if (ret || !pending)
			return ret;
		ret = mdl_v1_get64(d, MDL_V1_OFFSET, &off);
		if (!ret)
			ret = mdl_v1_get64(d, MDL_V1_SIZE, &size);
		if (ret)
			return ret;
		if (!size)
			return 0;
		ret = mdl_v1_segs_add(s, size);
		if (ret)
			return ret;
		for (done = 0; done < size;) {
			size_t n = size - done < chunk ? size - done : chunk;
			ssize_t r = mdl_pread(d, MIG, off + done, s->buf + s->len + done, n);

			if (r < 0)
				return r;
			if ((size_t)r != n)
				return -EIO;
			done += n;
		}
		s->len += size;
	}
}

/* While RESUMING: write the segments back, in order and size. */
int mdl_v1_put(struct mdl_dev *d, const uint8_t *buf, const uint32_t *sz,
	       size_t n, size_t chunk)
{
	size_t i, pos = 0;

	for (i = 0; i < n; i++) {
		uint64_t off, done;
		int ret = mdl_v1_get64(d, MDL_V1_OFFSET, &off);

		if (ret)
			return ret;
		for (done = 0; done < sz[i];) {
			size_t c = sz[i] - done < chunk ? sz[i] - done : chunk;
			ssize_t w = mdl_pwrite(d, MIG, off + done, buf + pos + done, c);

			if (w < 0)
				return w;
			done += c;
		}
		ret = mdl_v1_set64(d, MDL_V1_SIZE, sz[i]);
		if (ret)
			return ret;
		pos += sz[i];
	}
	return 0;
}

/* A stream in arbitrary segments: @seg bytes each, the last what is left. */
int mdl_v1_put_stream(struct mdl_dev *d, const uint8_t *buf, size_t len,
		      size_t seg)
{
	size_t pos;

	for (pos = 0; pos < len; pos += seg) {
		uint32_t sz = len - pos < seg ? len - pos : seg;
		int ret = mdl_v1_put(d, buf + pos, &sz, 1, 1 << 20);

		if (ret)
			return ret;
	}
	return 0;
}

/* Save from RUNNING through the region, stop-copy only: SAVING, drain, 0. */
int mdl_v1_save(struct mdl_dev *d, struct mdl_v1_segs *s)
{
	int ret = mdl_v1_set(d, SAV);

	if (!ret)
		ret = mdl_v1_drain(d, s, 1 << 20);
	if (!ret)
		ret = mdl_v1_set(d, 0);
	return ret;
}

/* Resume from RUNNING through the region and run. */
int mdl_v1_load(struct mdl_dev *d, const struct mdl_v1_segs *s)
{
	int ret = mdl_v1_set(d, RES);

	if (!ret)
		ret = mdl_v1_put(d, s->buf, s->sz, s->n, 1 << 20);
	if (!ret)
		ret = mdl_v1_set(d, RUN);
	return ret;
}
