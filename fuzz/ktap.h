/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The unit tests' results, KTAP-style: an "ok N what" or "not ok N what"
 * line each, and the "# Totals:" line that fuzz/run.sh adds up.  For one
 * program each (its state is static here).
 */
#ifndef MIGDEV_FUZZ_KTAP_H
#define MIGDEV_FUZZ_KTAP_H

#include <stdarg.h>
#include <stdio.h>
#include <linux/types.h>

static unsigned int nr_test, nr_pass, nr_fail;

static __printf(2, 3) void result(bool ok, const char *fmt, ...)
{
	va_list ap;

	nr_test++;
	if (ok)
		nr_pass++;
	else
		nr_fail++;
	printf("%sok %u ", ok ? "" : "not ", nr_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Print the totals: the exit status, 1 if any test failed. */
static int ktap_totals(void)
{
	printf("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:0 error:0\n",
	       nr_pass, nr_fail);
	return nr_fail ? 1 : 0;
}

#endif /* MIGDEV_FUZZ_KTAP_H */
