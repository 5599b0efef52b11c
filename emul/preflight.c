// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the pre-flight compatibility description, written, read and
 * judged (the format and the rules are in preflight.h).
 *
 * The parser takes what a user wrote to a sysfs file: any bytes.  It
 * reads them in place, never past @len, with its own number parsing, so
 * that it behaves the same in the kernel and in fuzz/.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/string.h>
#include <uapi/linux/migdev.h>

#include "preflight.h"

/* The keys, in the order a description has them. */
enum migdev_preflight_key {
	MIGDEV_PF_FORMAT,
	MIGDEV_PF_PCI,
	MIGDEV_PF_ABI,
	MIGDEV_PF_TYPE,
	MIGDEV_PF_QUEUES,
	MIGDEV_PF_DEVMEM,
	MIGDEV_PF_STREAM,
	MIGDEV_PF_ACCEPT,
	MIGDEV_PF_NR_KEYS
};

static const char * const migdev_preflight_keys[MIGDEV_PF_NR_KEYS] = {
	[MIGDEV_PF_FORMAT] = "migdev-compat",
	[MIGDEV_PF_PCI] = "pci",
	[MIGDEV_PF_ABI] = "abi",
	[MIGDEV_PF_TYPE] = "type",
	[MIGDEV_PF_QUEUES] = "queues",
	[MIGDEV_PF_DEVMEM] = "devmem",
	[MIGDEV_PF_STREAM] = "stream",
	[MIGDEV_PF_ACCEPT] = "accept",
};

/**
 * migdev_preflight_init() - describe a device of this module
 * @p: the description
 * @type: its mdev type's name
 * @nr_queues: its DMA queues
 * @devmem_size: its device memory, bytes
 * @minor: the stream minor version it emits
 * @accept_max: the newest stream minor version it takes (it takes every
 *		older one)
 */
void migdev_preflight_init(struct migdev_preflight *p, const char *type,
			   u32 nr_queues, u64 devmem_size, u16 minor,
			   u16 accept_max)
{
	memset(p, 0, sizeof(*p));
	p->vendor = MIGDEV_PCI_VENDOR_ID;
	p->device = MIGDEV_PCI_DEVICE_ID;
	p->abi = MIGDEV_ABI_VERSION;
	strscpy(p->type, type, sizeof(p->type));
	p->nr_queues = nr_queues;
	p->devmem_size = devmem_size;
	p->major = MIGDEV_STREAM_MAJOR;
	p->minor = minor;
	p->accept_min = 0;
	p->accept_max = accept_max;
}

/**
 * migdev_preflight_format() - the description as text
 * @p: the description
 * @buf: where to write it
 * @size: room in @buf, at least MIGDEV_PREFLIGHT_MAX
 *
 * Return: bytes written (without the NUL), or -ENOSPC.
 */
int migdev_preflight_format(const struct migdev_preflight *p, char *buf,
			    size_t size)
{
	int n;

	n = snprintf(buf, size,
		     "%s=%u\n%s=%04x:%04x\n%s=%u.%u\n%s=%s\n%s=%u\n%s=%llu\n%s=%u.%u\n%s=%u.%u-%u.%u\n",
		     migdev_preflight_keys[MIGDEV_PF_FORMAT], MIGDEV_PREFLIGHT_FORMAT,
		     migdev_preflight_keys[MIGDEV_PF_PCI], p->vendor, p->device,
		     migdev_preflight_keys[MIGDEV_PF_ABI], p->abi >> 16,
		     p->abi & 0xffff,
		     migdev_preflight_keys[MIGDEV_PF_TYPE], p->type,
		     migdev_preflight_keys[MIGDEV_PF_QUEUES], p->nr_queues,
		     migdev_preflight_keys[MIGDEV_PF_DEVMEM],
		     (unsigned long long)p->devmem_size,
		     migdev_preflight_keys[MIGDEV_PF_STREAM], p->major, p->minor,
		     migdev_preflight_keys[MIGDEV_PF_ACCEPT], p->major,
		     p->accept_min, p->major, p->accept_max);
	if (n < 0 || n >= size)
		return -ENOSPC;
	return n;
}

static __printf(4, 5) int migdev_preflight_no(int err, char *why,
					      size_t why_size,
					      const char *fmt, ...)
{
	va_list ap;

	if (why_size) {
		va_start(ap, fmt);
		vsnprintf(why, why_size, fmt, ap);
		va_end(ap);
	}
	return err;
}

/*
 * An unsigned number of @s[0..@len): decimal, or with @hex exactly four
 * hex digits.  False if it is anything else or above @max.
 */
static bool migdev_preflight_num(const char *s, size_t len, bool hex,
				 u64 max, u64 *val)
{
	unsigned int base = hex ? 16 : 10;
	u64 v = 0;
	size_t i;

	if (!len || (hex && len != 4) || (!hex && len > 20) ||
	    (!hex && len > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < len; i++) {
		unsigned int d;

		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (hex && s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else
			return false;
		if (v > (max - d) / base)
			return false;
		v = v * base + d;
	}
	*val = v;
	return true;
}

/* Two numbers of @s[0..@len) separated by @sep, each as above. */
static bool migdev_preflight_pair(const char *s, size_t len, char sep,
				  bool hex, u64 max, u64 *a, u64 *b)
{
	const char *at = memchr(s, sep, len);

	return at && migdev_preflight_num(s, at - s, hex, max, a) &&
	       migdev_preflight_num(at + 1, s + len - at - 1, hex, max, b);
}

/* One line's value into @p; false if it is not one @key takes. */
static bool migdev_preflight_value(struct migdev_preflight *p,
				   enum migdev_preflight_key key,
				   const char *v, size_t len)
{
	const char *dash;
	u64 a, b, c, d;

	switch (key) {
	case MIGDEV_PF_PCI:
		if (!migdev_preflight_pair(v, len, ':', true, U16_MAX, &a, &b))
			return false;
		p->vendor = a;
		p->device = b;
		return true;
	case MIGDEV_PF_ABI:
		if (!migdev_preflight_pair(v, len, '.', false, U16_MAX, &a, &b))
			return false;
		p->abi = a << 16 | b;
		return true;
	case MIGDEV_PF_TYPE:
		if (!len || len >= sizeof(p->type) || memchr(v, 0, len))
			return false;
		memcpy(p->type, v, len);
		p->type[len] = 0;
		return true;
	case MIGDEV_PF_QUEUES:
		if (!migdev_preflight_num(v, len, false, U32_MAX, &a))
			return false;
		p->nr_queues = a;
		return true;
	case MIGDEV_PF_DEVMEM:
		if (!migdev_preflight_num(v, len, false, U64_MAX, &a))
			return false;
		p->devmem_size = a;
		return true;
	case MIGDEV_PF_STREAM:
		if (!migdev_preflight_pair(v, len, '.', false, U16_MAX, &a, &b))
			return false;
		p->major = a;
		p->minor = b;
		return true;
	case MIGDEV_PF_ACCEPT:
		dash = memchr(v, '-', len);
		if (!dash ||
		    !migdev_preflight_pair(v, dash - v, '.', false, U16_MAX,
					   &a, &b) ||
		    !migdev_preflight_pair(dash + 1, v + len - dash - 1, '.',
					   false, U16_MAX, &c, &d) ||
		    a != p->major || c != p->major || b > d)
			return false;
		p->accept_min = b;
		p->accept_max = d;
		return true;
	default:
		return false;
	}
}

/**
 * migdev_preflight_parse() - read a description
 * @p: the description read
 * @text: what a user wrote
 * @len: its length; a last newline (and a NUL after it) is allowed
 * @why: what was wrong, for the log
 * @why_size: room in @why
 *
 * Every key once, in order, nothing else.  Its format must be
 * MIGDEV_PREFLIGHT_FORMAT: a newer one (from a newer module) is
 * -EPROTONOSUPPORT, since this module cannot judge it.
 *
 * Return: 0, -EINVAL or -EPROTONOSUPPORT.
 */
int migdev_preflight_parse(struct migdev_preflight *p, const char *text,
			   size_t len, char *why, size_t why_size)
{
	unsigned int key = 0;
	size_t at = 0;
	u64 format;

	memset(p, 0, sizeof(*p));
	while (len && !text[len - 1])
		len--;
	while (at < len) {
		const char *line = text + at, *nl, *eq;
		size_t n, klen;

		nl = memchr(line, '\n', len - at);
		n = nl ? nl - line : len - at;
		at += n + 1;
		if (key == MIGDEV_PF_NR_KEYS)
			return migdev_preflight_no(-EINVAL, why, why_size,
						   "line %u: more than a description (%u keys)",
						   key + 1, MIGDEV_PF_NR_KEYS);
		eq = memchr(line, '=', n);
		klen = strlen(migdev_preflight_keys[key]);
		if (!eq || eq - line != klen ||
		    memcmp(line, migdev_preflight_keys[key], klen))
			return migdev_preflight_no(-EINVAL, why, why_size,
						   "line %u: expected %s=",
						   key + 1,
						   migdev_preflight_keys[key]);
		if (key == MIGDEV_PF_FORMAT) {
			if (!migdev_preflight_num(eq + 1, line + n - eq - 1,
						  false, U16_MAX, &format))
				goto bad_value;
			if (format != MIGDEV_PREFLIGHT_FORMAT)
				return migdev_preflight_no(format > MIGDEV_PREFLIGHT_FORMAT ?
							   -EPROTONOSUPPORT : -EINVAL,
							   why, why_size,
							   "description format %llu, this module reads %u",
							   (unsigned long long)format,
							   MIGDEV_PREFLIGHT_FORMAT);
		} else if (!migdev_preflight_value(p, key, eq + 1,
						   line + n - eq - 1)) {
			goto bad_value;
		}
		key++;
		if (!nl)
			break;
	}
	if (key != MIGDEV_PF_NR_KEYS)
		return migdev_preflight_no(-EINVAL, why, why_size,
					   "no %s= (a description has %u keys)",
					   migdev_preflight_keys[key],
					   MIGDEV_PF_NR_KEYS);
	return 0;

bad_value:
	return migdev_preflight_no(-EINVAL, why, why_size,
				   "line %u: bad value for %s", key + 1,
				   migdev_preflight_keys[key]);
}

/**
 * migdev_preflight_accepts() - would @dst take a stream from @src?
 * @dst: the destination
 * @src: the source
 * @why: what differs, for the log
 * @why_size: room in @why
 *
 * Return: 0, -ENODEV (another device, type or geometry) or
 * -EPROTONOSUPPORT (a stream version or device ABI it does not take).
 */
int migdev_preflight_accepts(const struct migdev_preflight *dst,
			     const struct migdev_preflight *src, char *why,
			     size_t why_size)
{
	if (src->vendor != dst->vendor || src->device != dst->device)
		return migdev_preflight_no(-ENODEV, why, why_size,
					   "PCI device %04x:%04x, this is %04x:%04x",
					   src->vendor, src->device,
					   dst->vendor, dst->device);
	if (strcmp(src->type, dst->type))
		return migdev_preflight_no(-ENODEV, why, why_size,
					   "type %s, this is %s",
					   src->type, dst->type);
	if (src->nr_queues != dst->nr_queues ||
	    src->devmem_size != dst->devmem_size)
		return migdev_preflight_no(-ENODEV, why, why_size,
					   "%u queues and %llu bytes of device memory, this has %u and %llu",
					   src->nr_queues,
					   (unsigned long long)src->devmem_size,
					   dst->nr_queues,
					   (unsigned long long)dst->devmem_size);
	if (src->major != dst->major)
		return migdev_preflight_no(-EPROTONOSUPPORT, why, why_size,
					   "stream version %u.%u: major %u is not supported (this is %u)",
					   src->major, src->minor, src->major,
					   dst->major);
	if (src->minor > dst->accept_max || src->minor < dst->accept_min)
		return migdev_preflight_no(-EPROTONOSUPPORT, why, why_size,
					   "stream version %u.%u, this accepts %u.%u to %u.%u",
					   src->major, src->minor, dst->major,
					   dst->accept_min, dst->major,
					   dst->accept_max);
	if (src->abi >> 16 != dst->abi >> 16 || src->abi > dst->abi)
		return migdev_preflight_no(-EPROTONOSUPPORT, why, why_size,
					   "device ABI %u.%u, this is %u.%u",
					   src->abi >> 16, src->abi & 0xffff,
					   dst->abi >> 16, dst->abi & 0xffff);
	return 0;
}

/**
 * migdev_preflight_check() - read a description and judge it
 * @dst: the destination
 * @text: the source's description, as a user wrote it
 * @len: its length
 * @why: what was wrong or differs, for the log
 * @why_size: room in @why
 *
 * Return: 0 if @dst would take the source, else as
 * migdev_preflight_parse() or migdev_preflight_accepts() say.
 */
int migdev_preflight_check(const struct migdev_preflight *dst,
			   const char *text, size_t len, char *why,
			   size_t why_size)
{
	struct migdev_preflight src;
	int ret;

	ret = migdev_preflight_parse(&src, text, len, why, why_size);
	return ret ? ret : migdev_preflight_accepts(dst, &src, why, why_size);
}
