// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the pre-flight description parser (emul/preflight.c)
 * on any bytes, as a user may write to a migration_compat file.  Besides
 * the sanitizers, it checks that whatever parses is written back by
 * migdev_preflight_format() to text that parses to the same description,
 * and that a description takes itself exactly when its accept range holds
 * its own stream version.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "preflight.h"

int FUZZ_ENTRY(const u8 *data, size_t size);

int FUZZ_ENTRY(const u8 *data, size_t size)
{
	struct migdev_preflight p, q;
	char buf[MIGDEV_PREFLIGHT_MAX], why[MIGDEV_PREFLIGHT_WHY];
	char *text;
	int ret, n;
	bool self;

	/* A copy of exactly @size bytes, so ASan sees any read past them. */
	text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	ret = migdev_preflight_parse(&p, text, size, why, sizeof(why));
	free(text);
	if (ret != 0 && ret != -EINVAL && ret != -EPROTONOSUPPORT)
		abort();
	if (ret)
		return 0;
	n = migdev_preflight_format(&p, buf, sizeof(buf));
	if (n < 0 || migdev_preflight_parse(&q, buf, n, why, sizeof(why)) ||
	    memcmp(&p, &q, sizeof(p)))
		abort();
	self = p.accept_min <= p.minor && p.minor <= p.accept_max;
	if (!migdev_preflight_accepts(&p, &p, why, sizeof(why)) != self)
		abort();
	return 0;
}
