// SPDX-License-Identifier: GPL-2.0-only
/*
 * A FUSE file system of one file whose reads the test can freeze: the
 * daemon (a thread here, on /dev/fuse directly, no libfuse) reads the
 * FUSE_READ request and holds it unanswered.  A thread that faults on a
 * page of the file then waits as it would on a hung network file system,
 * uninterruptibly once the request has reached the daemon: what a VMM
 * whose guest memory is a MAP_SHARED mapping of such a file does to the
 * device.  See migdev_lib.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "migdev_lib.h"

#define FS_BUF		(FUSE_MIN_READ_BUFFER + (1u << 20))
#define FS_FILE_INO	2
/*
 * ENOSYS, as FUSE asks of a daemon for an opcode it does not implement
 * (the kernel then stops sending it): FUSE's meaning, not a syscall's.
 */
#define FS_NOT_IMPLEMENTED	38

static void fs_attr(struct mdl_fuse *f, uint64_t ino, struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->nlink = 1;
	a->blksize = 4096;
	if (ino == FUSE_ROOT_ID) {
		a->mode = S_IFDIR | 0755;
	} else {
		a->mode = S_IFREG | 0666;
		a->size = f->size;
		a->blocks = f->size / 512;
	}
}

static void fs_reply(struct mdl_fuse *f, uint64_t unique, int error,
		     const void *data, size_t len)
{
	struct fuse_out_header h = { .error = error, .unique = unique };
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)data, .iov_len = error ? 0 : len },
	};

	h.len = sizeof(h) + iov[1].iov_len;
	if (writev(f->fd, iov, 2) < 0)
		f->errors++;
}

/* Answer a read: the file's bytes are the byte pattern @f->fill. */
static void fs_read_reply(struct mdl_fuse *f, uint64_t unique, uint64_t off,
			  uint32_t size)
{
	uint8_t *data;

	if (off >= f->size)
		size = 0;
	else if (size > f->size - off)
		size = f->size - off;
	data = malloc(size ? size : 1);
	if (!data)
		return;
	memset(data, f->fill, size);
	fs_reply(f, unique, 0, data, size);
	free(data);
}

static void *fs_daemon(void *arg)
{
	struct mdl_fuse *f = arg;
	uint8_t *buf = malloc(FS_BUF);

	if (!buf)
		return NULL;
	/*
	 * Touched now: a fault here later could wait for the mmap_lock behind
	 * a writer that waits for a reader this daemon holds.
	 */
	memset(buf, 0, FS_BUF);
	for (;;) {
		struct fuse_in_header *in = (void *)buf;
		struct pollfd p = { .fd = f->fd, .events = POLLIN };
		void *body = buf + sizeof(*in);
		ssize_t n;

		/* A read of /dev/fuse would outlive a close: poll, and look. */
		if (__atomic_load_n(&f->stopping, __ATOMIC_ACQUIRE))
			break;
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(f->fd, buf, FS_BUF);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < (ssize_t)sizeof(*in))
			break;	/* unmounted or aborted */
		switch (in->opcode) {
		case FUSE_INIT: {
			struct fuse_init_in *ii = body;
			struct fuse_init_out o = {
				.major = FUSE_KERNEL_VERSION,
				.minor = ii->minor < FUSE_KERNEL_MINOR_VERSION ?
					 ii->minor : FUSE_KERNEL_MINOR_VERSION,
				.max_readahead = ii->max_readahead,
				.max_write = 128 << 10,
			};

			fs_reply(f, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_LOOKUP: {
			struct fuse_entry_out o = {
				.nodeid = FS_FILE_INO, .generation = 1,
				.entry_valid = 3600, .attr_valid = 3600,
			};

			if (in->nodeid != FUSE_ROOT_ID || strcmp(body, "f")) {
				fs_reply(f, in->unique, -ENOENT, NULL, 0);
				break;
			}
			fs_attr(f, FS_FILE_INO, &o.attr);
			fs_reply(f, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_GETATTR:
		case FUSE_SETATTR: {
			struct fuse_attr_out o = { .attr_valid = 3600 };

			fs_attr(f, in->nodeid, &o.attr);
			fs_reply(f, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_OPEN: {
			/* Keep the cache: an open must not wait for a frozen page. */
			struct fuse_open_out o = {
				.fh = 1, .open_flags = FOPEN_KEEP_CACHE,
			};

			fs_reply(f, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_READ: {
			struct fuse_read_in *ri = body;

			pthread_mutex_lock(&f->lock);
			if (f->frozen && f->nheld < MDL_FUSE_HELD) {
				f->held[f->nheld].unique = in->unique;
				f->held[f->nheld].off = ri->offset;
				f->held[f->nheld].size = ri->size;
				f->held_tid = in->pid;
				f->nheld++;
				pthread_cond_broadcast(&f->cond);
				pthread_mutex_unlock(&f->lock);
				break;
			}
			pthread_mutex_unlock(&f->lock);
			fs_read_reply(f, in->unique, ri->offset, ri->size);
			break;
		}
		case FUSE_WRITE: {
			struct fuse_write_in *wi = body;
			struct fuse_write_out o = { .size = wi->size };

			fs_reply(f, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_FLUSH:
		case FUSE_RELEASE:
		case FUSE_FSYNC:
			fs_reply(f, in->unique, 0, NULL, 0);
			break;
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break;	/* no reply */
		default:
			fs_reply(f, in->unique, -FS_NOT_IMPLEMENTED, NULL, 0);
			break;
		}
	}
	free(buf);
	return NULL;
}

int mdl_fuse_start(struct mdl_fuse *f, size_t size)
{
	char opts[128];
	int ret;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->size = size;
	f->fill = 0x5a;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	snprintf(f->dir, sizeof(f->dir), "/tmp/migdev-fuse.XXXXXX");
	if (!mkdtemp(f->dir))
		return -errno;
	snprintf(f->path, sizeof(f->path), "%s/f", f->dir);
	f->fd = open("/dev/fuse", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (f->fd < 0) {
		ret = errno == ENOENT ? -ENODEV : -errno;
		rmdir(f->dir);
		return ret;
	}
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other", f->fd);
	if (mount("migdev-fuse", f->dir, "fuse", MS_NOSUID | MS_NODEV, opts)) {
		ret = -errno;
		close(f->fd);
		rmdir(f->dir);
		return ret;
	}
	f->mounted = 1;
	ret = pthread_create(&f->daemon, NULL, fs_daemon, f);
	if (ret) {
		mdl_fuse_stop(f);
		return -ret;
	}
	f->running = 1;
	return 0;
}

void mdl_fuse_freeze(struct mdl_fuse *f, int on)
{
	unsigned int i, n;
	struct mdl_fuse_read held[MDL_FUSE_HELD];

	pthread_mutex_lock(&f->lock);
	f->frozen = on;
	n = on ? 0 : f->nheld;
	memcpy(held, f->held, sizeof(held));
	if (!on)
		f->nheld = 0;
	pthread_mutex_unlock(&f->lock);
	/* Thawed: the reads held are answered now. */
	for (i = 0; i < n; i++)
		fs_read_reply(f, held[i].unique, held[i].off, held[i].size);
}

int mdl_fuse_wait_held(struct mdl_fuse *f, unsigned int want, int ms)
{
	struct timespec ts;
	int held;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&f->lock);
	while (f->nheld < want &&
	       pthread_cond_timedwait(&f->cond, &f->lock, &ts) == 0)
		;
	held = f->nheld;
	pthread_mutex_unlock(&f->lock);
	return held;
}

void mdl_fuse_stop(struct mdl_fuse *f)
{
	if (f->running) {
		mdl_fuse_freeze(f, 0);
		__atomic_store_n(&f->stopping, 1, __ATOMIC_RELEASE);
		pthread_join(f->daemon, NULL);
	}
	f->running = 0;
	if (f->mounted)
		umount2(f->dir, MNT_DETACH);
	f->mounted = 0;
	/* The last reference to the connection: it is aborted. */
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	rmdir(f->dir);
}

/* Abort the connection of @f through fusectl, as root can. */
static int fs_abort(struct mdl_fuse *f)
{
	char path[96];
	struct stat st;
	int fd, ret = 0;

	if (stat(f->dir, &st))
		return -errno;
	snprintf(path, sizeof(path), "/sys/fs/fuse/connections/%u/abort",
		 minor(st.st_dev));
	if (access(path, F_OK) &&
	    mount("fusectl", "/sys/fs/fuse/connections", "fusectl", 0, NULL) &&
	    errno != EBUSY)
		return -errno;
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, "1", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

int mdl_fuse_kill(struct mdl_fuse *f, int abort)
{
	if (abort)
		return fs_abort(f);
	/* The daemon goes, with the reads it holds unanswered. */
	if (f->running) {
		__atomic_store_n(&f->stopping, 1, __ATOMIC_RELEASE);
		pthread_join(f->daemon, NULL);
		f->running = 0;
	}
	pthread_mutex_lock(&f->lock);
	f->nheld = 0;
	f->frozen = 0;
	pthread_mutex_unlock(&f->lock);
	/* Its last /dev/fuse descriptor: the kernel aborts the connection. */
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	return 0;
}
