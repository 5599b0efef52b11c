// SPDX-License-Identifier: GPL-2.0-only
/*
 * mdl_hold [--until-request] UUID: open an instance through VFIO, print
 * "open", and hold it until killed.  Lets shell tests see what happens to
 * a device in use.
 *
 * With --until-request it also gives the device an eventfd for its
 * request interrupt (VFIO_PCI_REQ_IRQ_INDEX), as QEMU does, and when the
 * kernel asks it to let go (the instance or its parent is being removed)
 * prints "request", closes the device, prints "closed" and exits 0.
 */
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "migdev_lib.h"

int main(int argc, char **argv)
{
	int until_request = argc == 3 && !strcmp(argv[1], "--until-request");
	struct mdl_dev d;
	uint64_t count;
	int32_t efd;

	if (argc != 2 && !until_request) {
		fprintf(stderr, "usage: %s [--until-request] UUID\n", argv[0]);
		return 2;
	}
	mdl_open(argv[argc - 1], &d);
	if (!until_request) {
		printf("open\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0 || __mdl_set_irq_eventfds(&d, VFIO_PCI_REQ_IRQ_INDEX, 0, 1,
					      &efd)) {
		fprintf(stderr, "mdl_hold: cannot set the request eventfd\n");
		return 1;
	}
	printf("open\n");
	fflush(stdout);
	if (read(efd, &count, sizeof(count)) != sizeof(count)) {
		perror("mdl_hold: read of the request eventfd");
		return 1;
	}
	printf("request\n");
	fflush(stdout);
	mdl_close(&d);
	close(efd);
	printf("closed\n");
	fflush(stdout);
	return 0;
}
