// SPDX-License-Identifier: GPL-2.0-only
/*
 * What an instance shows of what it did: the tracepoints
 * (/sys/kernel/tracing/events/migdev/) and the statistics (debugfs
 * migdev/<uuid>/stats).  A DMA copy, a migration with pre-copy from one
 * instance to another, a corrupted stream, a reset and an injected fault,
 * each checked in the trace against what the test itself saw (bytes read
 * and written, the answers of the ioctls, the arcs, the refusal), and the
 * statistics against the trace.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "migdev_lib.h"

#define TRACING	"/sys/kernel/tracing"
#define BAR2	VFIO_PCI_BAR2_REGION_INDEX

FIXTURE(trace) {
	char su[MDL_UUID_LEN], du[MDL_UUID_LEN];
	struct mdl_dev src, dst;
	char *text;		/* the trace, once read */
};

static int tracing_write(const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), TRACING "/%s", file);
	return mdl_sysfs_write(path, val);
}

FIXTURE_SETUP(trace)
{
	struct stat st;

	self->src.fd = -1;
	self->dst.fd = -1;
	self->text = NULL;
	if (stat(TRACING "/events", &st))
		mount("nodev", TRACING, "tracefs", 0, NULL);
	if (stat(TRACING "/events", &st))
		SKIP(return, "no tracefs: a kernel without CONFIG_TRACING");
	/* With tracing, the module's events must be there. */
	ASSERT_EQ(0, stat(TRACING "/events/migdev/migdev_arc/format", &st));
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, self->su));
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, self->du));
	ASSERT_EQ(0, __mdl_open(self->su, &self->src));
	ASSERT_EQ(0, __mdl_open(self->du, &self->dst));
	ASSERT_EQ(0, tracing_write("buffer_size_kb", "8192"));
	ASSERT_EQ(0, tracing_write("trace", ""));
	ASSERT_EQ(0, tracing_write("events/migdev/enable", "1"));
}

FIXTURE_TEARDOWN(trace)
{
	tracing_write("events/migdev/enable", "0");
	free(self->text);
	mdl_close(&self->src);
	mdl_close(&self->dst);
	if (mdl_exists(self->su))
		__mdl_remove(self->su);
	if (mdl_exists(self->du))
		__mdl_remove(self->du);
}

/* The whole trace buffer, as text. */
static char *read_trace(void)
{
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap + 1);
	ssize_t n;
	int fd = open(TRACING "/trace", O_RDONLY);

	if (fd < 0 || !buf)
		return NULL;
	while ((n = read(fd, buf + len, cap - len)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			if (!buf)
				break;
		}
	}
	close(fd);
	if (buf)
		buf[len] = 0;
	return buf;
}

/*
 * Lines of event @event about instance @uuid that contain @what (any, if
 * NULL); @cb, if set, is given each one.
 */
static unsigned int lines(const char *text, const char *event,
			  const char *uuid, const char *what,
			  void (*cb)(const char *line, void *arg), void *arg)
{
	char tag[64];
	unsigned int n = 0;
	const char *p;

	snprintf(tag, sizeof(tag), " %s: %s", event, uuid);
	for (p = text; p && *p; ) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char line[512];

		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = 0;
			if (strstr(line, tag) && (!what || strstr(line, what))) {
				n++;
				if (cb)
					cb(line, arg);
			}
		}
		p = end ? end + 1 : NULL;
	}
	return n;
}

/* The value after "@key=" in @line. */
static long long field(const char *line, const char *key)
{
	char k[32];
	const char *p;

	snprintf(k, sizeof(k), " %s=", key);
	p = strstr(line, k);
	return p ? strtoll(p + strlen(k), NULL, 0) : -1;
}

static void print_line(const char *line, void *arg)
{
	printf("# %s\n", line);
}

struct io_sum {
	long long bytes;	/* sum of ret > 0 */
	long long total;	/* the last total= */
	unsigned int calls;
};

static void sum_io(const char *line, void *arg)
{
	struct io_sum *s = arg;
	long long ret = field(line, "ret");

	if (ret > 0)
		s->bytes += ret;
	s->total = field(line, "total");
	s->calls++;
}

/* One of the instance's statistics (debugfs migdev/<uuid>/stats). */
static long long stat_of(const char *uuid, const char *name, char *text,
			 size_t len)
{
	char path[256], buf[1024], key[64];
	const char *p;

	snprintf(path, sizeof(path), "/sys/kernel/debug/migdev/%s/stats", uuid);
	if (mdl_sysfs_read(path, buf, sizeof(buf)))
		return -1;
	snprintf(key, sizeof(key), "%s ", name);
	for (p = buf; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, key, strlen(key))) {
			if (text) {
				snprintf(text, len, "%s", p + strlen(key));
				text[strcspn(text, "\n")] = 0;
			}
			return strtoll(p + strlen(key), NULL, 0);
		}
	}
	return -1;
}

TEST_F_TIMEOUT(trace, migration_dma_refusal_reset_fault, 300)
{
	static uint8_t page[4096];
	uint64_t initial = 0, dirty = 0, size = 0;
	size_t cap = 4 << 20, len = 0, stopcopy = 0;
	uint8_t *s = malloc(cap);
	struct io_sum rd = {}, wr = {}, bad = {};
	struct mdl_queue q;
	struct mdl_dma a, b;
	char want[128], reason[256], path[256];
	struct migdev_desc d;
	unsigned int i, arcs;
	ssize_t n;
	int fd;

	ASSERT_NE(NULL, s);

	/* A DMA copy on the source. */
	mdl_bus_master(&self->src, 1);
	ASSERT_EQ(0, __mdl_queue_init(&self->src, 0, 8, &q));
	ASSERT_EQ(0, __mdl_dma_map(&self->src, 1 << 16, &a));
	ASSERT_EQ(0, __mdl_dma_map(&self->src, 1 << 16, &b));
	d = mdl_desc(MIGDEV_OP_COPY, a.iova, b.iova, 1 << 16, 0);
	d.cookie = htole64(0x7ace);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_wait(&q, mdl_submit(&q, &d), 60000));
	mdl_queue_fini(&q);
	mdl_dma_free(&self->src, &a);
	mdl_dma_free(&self->src, &b);

	/* Pre-copy, then stop-copy through PRE_COPY_P2P, on the same fd. */
	for (i = 0; i < 16; i++) {
		memset(page, 0x40 + i, sizeof(page));
		mdl_pwrite(&self->src, BAR2, (uint64_t)i << 12, page, sizeof(page));
	}
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	ASSERT_EQ(0, __mdl_precopy_info(fd, &initial, &dirty));
	ASSERT_EQ(0, __mdl_mig_data_size(&self->src, &size));
	while ((n = read(fd, s + len, 8192)) > 0)
		len += n;
	ASSERT_EQ(ENOMSG, errno);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY_P2P, NULL));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_STOP_COPY, NULL));
	while ((n = read(fd, s + len, 1 << 16)) > 0) {
		len += n;
		stopcopy += n;
	}
	ASSERT_EQ(0, n);
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));

	/* Into the destination; then a corrupted copy; then a reset. */
	ASSERT_EQ(0, mdl_load(&self->dst, s, len, 5000));
	s[len - 200] ^= 0x01;
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_RESUMING, &fd));
	EXPECT_EQ(-EBADMSG, mdl_write_all(fd, s, len, 1 << 20));
	close(fd);
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));

	/* An injected fault: the next arc of the source fails. */
	snprintf(path, sizeof(path), "/sys/kernel/debug/migdev/%s/mig_fail",
		 self->su);
	ASSERT_EQ(0, mdl_sysfs_write(path, "1"));
	EXPECT_EQ(-EIO, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_STOP, NULL));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, mdl_mig_get(&self->src));

	ASSERT_EQ(0, tracing_write("events/migdev/enable", "0"));
	self->text = read_trace();
	ASSERT_NE(NULL, self->text);

	/* For the record: what the source's migration looked like. */
	lines(self->text, "migdev_arc", self->su, NULL, print_line, NULL);
	lines(self->text, "migdev_precopy_info", self->su, NULL, print_line, NULL);
	lines(self->text, "migdev_data_size", self->su, NULL, print_line, NULL);

	/* The engine's descriptor, start and end. */
	EXPECT_EQ(1, lines(self->text, "migdev_desc_start", self->su,
			   "opcode=1 len=65536 cookie=0x7ace", NULL, NULL));
	EXPECT_EQ(1, lines(self->text, "migdev_desc_done", self->su,
			   "status=1 bytes=65536 cookie=0x7ace", NULL, NULL));

	/* Every arc the source took, and the one that failed. */
	EXPECT_EQ(1, lines(self->text, "migdev_arc", self->su,
			   "RUNNING -> PRE_COPY ret=0", NULL, NULL));
	EXPECT_EQ(1, lines(self->text, "migdev_arc", self->su,
			   "PRE_COPY -> PRE_COPY_P2P ret=0", NULL, NULL));
	EXPECT_EQ(1, lines(self->text, "migdev_arc", self->su,
			   "PRE_COPY_P2P -> STOP_COPY ret=0", NULL, NULL));
	EXPECT_EQ(1, lines(self->text, "migdev_arc", self->su,
			   "STOP_COPY -> STOP ret=0", NULL, NULL));
	EXPECT_EQ(1, lines(self->text, "migdev_arc", self->su,
			   "RUNNING -> RUNNING_P2P ret=-5", NULL, NULL));
	EXPECT_EQ(1, lines(self->text, "migdev_fault", self->su, "arc err=-5",
			   NULL, NULL));
	EXPECT_EQ(1, lines(self->text, "migdev_quiesce", self->su, NULL, NULL,
			   NULL));

	/* What the ioctls answered, as they answered it. */
	snprintf(want, sizeof(want), "initial=%llu dirty=%llu flags=0x0 ret=0",
		 (unsigned long long)initial, (unsigned long long)dirty);
	arcs = lines(self->text, "migdev_precopy_info", self->su, want, NULL,
		     NULL);
	EXPECT_EQ(1, arcs) TH_LOG("want %s", want);
	if (arcs != 1)
		lines(self->text, "migdev_precopy_info", self->su, NULL,
		      print_line, NULL);
	snprintf(want, sizeof(want), "stop_copy_length=%llu",
		 (unsigned long long)size);
	EXPECT_LE(1, lines(self->text, "migdev_data_size", self->su, want,
			   NULL, NULL)) TH_LOG("want %s", want);

	/* Every byte read, and every byte written, once. */
	lines(self->text, "migdev_save_read", self->su, NULL, sum_io, &rd);
	EXPECT_EQ((long long)len, rd.bytes);
	EXPECT_EQ((long long)len, rd.total);
	lines(self->text, "migdev_resume_write", self->du, NULL, sum_io, &wr);
	EXPECT_GE(wr.calls, (len + 4999) / 5000);
	/* The good stream's writes, then the bad one's: its total restarts. */
	EXPECT_EQ(1, lines(self->text, "migdev_resume_write", self->du, "ret=-74",
			   sum_io, &bad));
	EXPECT_EQ(1, lines(self->text, "migdev_arc", self->du,
			   "RESUMING -> STOP ret=0", NULL, NULL));

	/* The refusal, with the reason the log gives, and the reset. */
	EXPECT_EQ(1, lines(self->text, "migdev_resume_refused", self->du,
			   "checksum mismatch", NULL, NULL));
	EXPECT_EQ(1, lines(self->text, "migdev_reset", self->du,
			   "VFIO_DEVICE_RESET", NULL, NULL));
	EXPECT_EQ(0, lines(self->text, "migdev_resume_refused", self->su, NULL,
			   NULL, NULL));

	/* The statistics say the same. */
	EXPECT_EQ((long long)len, stat_of(self->su, "saved_bytes", NULL, 0));
	EXPECT_EQ((long long)stopcopy, stat_of(self->su, "stopcopy_bytes", NULL, 0));
	arcs = lines(self->text, "migdev_arc", self->su, NULL, NULL, NULL);
	EXPECT_EQ(arcs, stat_of(self->su, "arcs", NULL, 0));
	EXPECT_EQ(1, stat_of(self->su, "arcs_failed", NULL, 0));
	EXPECT_EQ(1, stat_of(self->su, "faults", NULL, 0));
	EXPECT_EQ(0, stat_of(self->su, "refusals", NULL, 0));
	EXPECT_LT(0, stat_of(self->su, "stopcopy_ns", NULL, 0));
	stat_of(self->su, "last_refusal", reason, sizeof(reason));
	EXPECT_STREQ("-", reason);
	EXPECT_EQ((long long)len + bad.total,
		  stat_of(self->du, "loaded_bytes", NULL, 0));
	EXPECT_EQ(1, stat_of(self->du, "refusals", NULL, 0));
	stat_of(self->du, "last_refusal", reason, sizeof(reason));
	EXPECT_NE(NULL, strstr(reason, "checksum mismatch")) TH_LOG("%s", reason);
	free(s);
}

TEST_HARNESS_MAIN
