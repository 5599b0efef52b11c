// SPDX-License-Identifier: GPL-2.0-only
/*
 * mdl_hold UUID: open an instance through VFIO, print "open", and hold it
 * until killed.  Lets shell tests see what happens to a device in use.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "migdev_lib.h"

int main(int argc, char **argv)
{
	struct mdl_dev d;

	if (argc != 2) {
		fprintf(stderr, "usage: %s UUID\n", argv[0]);
		return 2;
	}
	mdl_open(argv[1], &d);
	printf("open\n");
	fflush(stdout);
	for (;;)
		pause();
}
