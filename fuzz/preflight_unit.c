// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the pre-flight compatibility description
 * (emul/preflight.c): what it writes, what it reads, and what it takes.
 * The kernel's sysfs files around it are tested in the VM
 * (tests/sysfs_test.c, migration_compat).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/kernel.h>
#include <uapi/linux/migdev.h>

#include "ktap.h"
#include "preflight.h"

/* A description of a migdev-small instance, a piece at a time. */
#define HEAD	"migdev-compat=1\npci=1b36:0110\nabi=1.2\n"
#define GEOM	"type=migdev-small\nqueues=1\ndevmem=4194304\n"
#define STREAM	"stream=1.4\n"
#define ACCEPT	"accept=1.0-1.4"

static struct migdev_preflight desc_small(u16 minor)
{
	struct migdev_preflight p;

	migdev_preflight_init(&p, "migdev-small", 1, 4 << 20, minor, minor);
	return p;
}

static int check(const struct migdev_preflight *dst, const char *text)
{
	char why[MIGDEV_PREFLIGHT_WHY];

	return migdev_preflight_check(dst, text, strlen(text), why, sizeof(why));
}

static void test_format(void)
{
	struct migdev_preflight p = desc_small(4), q;
	char buf[MIGDEV_PREFLIGHT_MAX], why[MIGDEV_PREFLIGHT_WHY];
	int n = migdev_preflight_format(&p, buf, sizeof(buf));

	result(n > 0 && !strcmp(buf, HEAD GEOM STREAM ACCEPT "\n"),
	       "format: the documented text");
	result(migdev_preflight_format(&p, buf, 20) == -ENOSPC,
	       "format: too little room is -ENOSPC");
	n = migdev_preflight_format(&p, buf, sizeof(buf));
	result(!migdev_preflight_parse(&q, buf, n, why, sizeof(why)) &&
	       !memcmp(&p, &q, sizeof(p)), "parse: what format wrote");
	/* As sysfs hands it over: NUL after the text. */
	result(!migdev_preflight_parse(&q, buf, n + 1, why, sizeof(why)),
	       "parse: a NUL after the text");
	result(!migdev_preflight_parse(&q, buf, n - 1, why, sizeof(why)),
	       "parse: without the last newline");
}

static void test_accepts(void)
{
	struct migdev_preflight a = desc_small(4), b = desc_small(3), m;
	char buf[MIGDEV_PREFLIGHT_MAX], why[MIGDEV_PREFLIGHT_WHY];

	migdev_preflight_init(&m, "migdev-medium", 2, 64 << 20, 4, 4);
	result(!migdev_preflight_accepts(&a, &a, why, sizeof(why)),
	       "accepts: itself");
	result(!migdev_preflight_accepts(&a, &b, why, sizeof(why)),
	       "accepts: an older stream version");
	result(migdev_preflight_accepts(&b, &a, why, sizeof(why)) ==
	       -EPROTONOSUPPORT && strstr(why, "stream version 1.4"),
	       "accepts: a newer stream version is -EPROTONOSUPPORT (%s)", why);
	result(migdev_preflight_accepts(&a, &m, why, sizeof(why)) == -ENODEV &&
	       strstr(why, "type migdev-medium"),
	       "accepts: another type is -ENODEV (%s)", why);
	m = a;
	m.devmem_size <<= 1;
	result(migdev_preflight_accepts(&a, &m, why, sizeof(why)) == -ENODEV,
	       "accepts: other geometry is -ENODEV");
	m = a;
	m.device++;
	result(migdev_preflight_accepts(&a, &m, why, sizeof(why)) == -ENODEV,
	       "accepts: another PCI device is -ENODEV");
	m = a;
	m.abi++;
	result(migdev_preflight_accepts(&a, &m, why, sizeof(why)) ==
	       -EPROTONOSUPPORT, "accepts: a newer device ABI is -EPROTONOSUPPORT");
	m = a;
	m.abi--;
	result(!migdev_preflight_accepts(&a, &m, why, sizeof(why)),
	       "accepts: an older device ABI minor");
	migdev_preflight_format(&a, buf, sizeof(buf));
	result(!check(&a, buf) && check(&b, buf) == -EPROTONOSUPPORT,
	       "check: parse, then accepts");
}

static void test_refused(void)
{
	static const struct { const char *text; int err; } cases[] = {
		{ "", -EINVAL },
		{ "\n", -EINVAL },
		{ "migdev-compat=1\n", -EINVAL },
		{ "migdev-compat=2\n", -EPROTONOSUPPORT },
		{ "migdev-compat=99999999999999999999999\n", -EINVAL },
		{ "pci=1b36:0110\n", -EINVAL },
		{ HEAD GEOM STREAM "\n", -EINVAL },
		{ HEAD GEOM STREAM ACCEPT "\n\n", -EINVAL },
		{ HEAD GEOM STREAM ACCEPT "\nx=1\n", -EINVAL },
		{ HEAD GEOM ACCEPT STREAM "\n", -EINVAL },
		{ HEAD "type=migdev-small\nqueues= 1\ndevmem=4194304\n" STREAM ACCEPT "\n",
		  -EINVAL },
		{ HEAD GEOM STREAM ACCEPT "\r\n", -EINVAL },
		{ HEAD "type=migdev-small-and-a-name-that-is-too-long\nqueues=1\ndevmem=4194304\n"
		  STREAM ACCEPT "\n", -EINVAL },
		{ HEAD GEOM STREAM ACCEPT, 0 },
	};
	struct migdev_preflight a = desc_small(4);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		result(check(&a, cases[i].text) == cases[i].err,
		       "refused: case %u is %d", i, cases[i].err);
	/* A NUL inside the text, and a NUL inside the type. */
	result(migdev_preflight_check(&a, "migdev-compat=1\0\n", 17, NULL, 0) ==
	       -EINVAL, "refused: a NUL inside a line (no reason asked for)");
}

int main(void)
{
	printf("KTAP version 1\n");
	test_format();
	test_accepts();
	test_refused();
	printf("1..%u\n", nr_test);
	return ktap_totals();
}
