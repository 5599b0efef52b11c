// SPDX-License-Identifier: GPL-2.0-only
/*
 * libmigdev (see migdev_lib.h): guest memory that stalls on purpose: a
 * userfaultfd page whose first access blocks until the test resolves it,
 * or one backed by a FUSE file whose daemon holds reads (fuse_stall.c).
 */
#include "mdl_internal.h"

int mdl_stall_init_at(struct mdl_stall *s, void *page)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	long psize = sysconf(_SC_PAGESIZE);

	s->page = MAP_FAILED;
	s->owned = !page;
	s->fuse = NULL;
	s->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (s->uffd < 0)
		return -errno;
	/* Faults say which thread took them, where the kernel can. */
	api.features = UFFD_FEATURE_THREAD_ID;
	if (ioctl(s->uffd, UFFDIO_API, &api)) {
		close(s->uffd);
		s->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
		api.api = UFFD_API;
		api.features = 0;
		if (s->uffd < 0 || ioctl(s->uffd, UFFDIO_API, &api))
			return -errno;
	}
	s->ptid = 0;
	s->page = page ? page : mmap(NULL, psize, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->page == MAP_FAILED)
		return -errno;
	reg.range.start = (uintptr_t)s->page;
	reg.range.len = psize;
	if (ioctl(s->uffd, UFFDIO_REGISTER, &reg))
		return -errno;
	return 0;
}

int mdl_stall_init(struct mdl_stall *s)
{
	return mdl_stall_init_at(s, NULL);
}

int mdl_stall_init_fuse_at(struct mdl_stall *s, void *page)
{
	long psize = sysconf(_SC_PAGESIZE);
	int fd, ret;

	s->uffd = -1;
	s->ptid = 0;
	s->page = MAP_FAILED;
	s->owned = !page;
	s->fuse = calloc(1, sizeof(*s->fuse));
	if (!s->fuse)
		return -ENOMEM;
	ret = mdl_fuse_start(s->fuse, 1 << 20);
	if (ret) {
		free(s->fuse);
		s->fuse = NULL;
		return ret;
	}
	s->fuse->fill = 0;
	mdl_fuse_freeze(s->fuse, 1);
	fd = open(s->fuse->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	s->page = mmap(page, psize, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | (page ? MAP_FIXED : 0), fd, 0);
	ret = s->page == MAP_FAILED ? -errno : 0;
	close(fd);
	return ret;
}

int mdl_stall_wait_fault(struct mdl_stall *s, int ms)
{
	struct pollfd p = { .fd = s->uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (s->fuse) {
		if (mdl_fuse_wait_held(s->fuse, 1, ms) < 1)
			return 0;
		s->ptid = s->fuse->held_tid;
		return 1;
	}

	if (poll(&p, 1, ms) != 1)
		return 0;
	if (read(s->uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT)
		return 0;
	s->ptid = msg.arg.pagefault.feat.ptid;
	return 1;
}

void mdl_stall_release(struct mdl_stall *s)
{
	struct uffdio_zeropage z = {
		.range = { .start = (uintptr_t)s->page,
			   .len = sysconf(_SC_PAGESIZE) },
	};

	if (s->fuse)
		mdl_fuse_freeze(s->fuse, 0);
	else
		ioctl(s->uffd, UFFDIO_ZEROPAGE, &z);
}

void mdl_stall_release_with(struct mdl_stall *s, const void *data)
{
	struct uffdio_copy c = {
		.dst = (uintptr_t)s->page, .src = (uintptr_t)data,
		.len = sysconf(_SC_PAGESIZE),
	};

	ioctl(s->uffd, UFFDIO_COPY, &c);
}

void mdl_stall_fini(struct mdl_stall *s)
{
	if (s->page != MAP_FAILED && s->owned)
		munmap(s->page, sysconf(_SC_PAGESIZE));
	if (s->uffd >= 0)
		close(s->uffd);
	if (s->fuse) {
		/* A page of the caller's is anonymous again. */
		if (s->page != MAP_FAILED && !s->owned)
			mmap(s->page, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		mdl_fuse_stop(s->fuse);
		free(s->fuse);
		s->fuse = NULL;
	}
}
