// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: debugfs, /sys/kernel/debug/migdev/<uuid>/.
 *
 * devmem_dirty: reading it collects (reads and clears) the device-memory
 * dirty bitmap, as migration pre-copy will, and prints the dirty pages as
 * ranges of page indexes, one "first-last" per line.  The bitmap is
 * collected once per open(), so a reader that needs several read() calls
 * sees one consistent snapshot.  While a migration is saving the device
 * the bitmap is the migration's: open() fails with -EBUSY rather than
 * steal pages the migration must send.
 *
 * engine_pause: write 1 to pause the instance's DMA engine with
 * migdev_engine_pause() (what migration uses to quiesce it), 0 to resume.
 * Reading shows "paused <0|1> last_pause_ns <N>": how long the last pause
 * took to return, i.e. to wait for the chunk in execution.
 *
 * mig_fail: fault injection for the migration state machine.  Writing
 * "N" makes the next N arcs fail with -EIO (both front ends: v2 and the
 * v1 region); "N K" lets K arcs succeed first.  "0" disarms it.  Reading
 * shows "skip K fail N": what is still armed.
 *
 * stats: what the instance's migrations did, one "name value" per line,
 * readable at any time (it takes no lock the device uses): saved_bytes and
 * loaded_bytes (data_fd bytes read and taken, all sessions), arcs and
 * arcs_failed, precopy_rounds and stopcopy_bytes (the last saving
 * session's), quiesce_ns and stopcopy_ns (the last quiesce, and the last
 * stop-copy from the arc into STOP_COPY to the arc out), opaque_loaded
 * (bytes of opaque state the last stream loaded brought), refusals and
 * faults (streams refused, faults injected), and last_refusal: where and
 * why the last stream was refused ("-" if none was).
 *
 * opaque: device state that exists only once the device has stopped (a
 * GPU's firmware context): writing "BYTES [SEED]" (a multiple of 4096, at
 * most 256 MiB; 0 for none) makes every later stop-copy send that much
 * after device memory, as MIGDEV_TAG_OPAQUE records, which MIG_DATA_SIZE
 * counts and PRECOPY_INFO does not; the destination checks every byte.
 * Reading shows "bytes N seed S".
 *
 * faults: fault rules, faults.c.  writer: the device's writer, writer.c.
 *
 * Each waits killably for what it needs: a chunk, or an arc waiting for
 * one, may wait for its user's memory as long as the user likes.
 */
#include <linux/bitmap.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "migdev.h"
#include "../emul/stream.h"

static struct dentry *migdev_debugfs_dir;

struct migdev_dirty_snapshot {
	size_t len;
	char text[];
};

static int migdev_debugfs_dirty_open(struct inode *inode, struct file *file)
{
	struct migdev_device *mvdev = inode->i_private;
	struct migdev_devmem *dm = &mvdev->emul.devmem;
	unsigned long nbits = migdev_devmem_nr_pfns(dm), rs, re;
	struct migdev_dirty_snapshot *snap;
	unsigned long *bits;
	size_t cap, len = 0;
	u64 n;

	bits = bitmap_zalloc(nbits, GFP_KERNEL);
	if (!bits)
		return -ENOMEM;
	if (mutex_lock_killable(&mvdev->mig.state_mutex)) {
		bitmap_free(bits);
		return -EINTR;
	}
	if (mvdev->mig.save) {
		mutex_unlock(&mvdev->mig.state_mutex);
		bitmap_free(bits);
		return -EBUSY;
	}
	n = migdev_devmem_collect_dirty(dm, bits);
	mutex_unlock(&mvdev->mig.state_mutex);
	/* At most one range per two pages, each "a-b\n" of two numbers. */
	cap = min_t(u64, n, nbits / 2 + 1) * 24 + 1;
	snap = kvmalloc(struct_size(snap, text, cap), GFP_KERNEL);
	if (!snap) {
		bitmap_free(bits);
		return -ENOMEM;
	}
	for_each_set_bitrange(rs, re, bits, nbits)
		len += scnprintf(snap->text + len, cap - len, "%lu-%lu\n",
				 rs, re - 1);
	snap->len = len;
	bitmap_free(bits);
	file->private_data = snap;
	return 0;
}

static ssize_t migdev_debugfs_dirty_read(struct file *file, char __user *buf,
					 size_t count, loff_t *ppos)
{
	struct migdev_dirty_snapshot *snap = file->private_data;

	return simple_read_from_buffer(buf, count, ppos, snap->text, snap->len);
}

static int migdev_debugfs_dirty_release(struct inode *inode, struct file *file)
{
	kvfree(file->private_data);
	return 0;
}

static const struct file_operations migdev_debugfs_dirty_fops = {
	.owner = THIS_MODULE,
	.open = migdev_debugfs_dirty_open,
	.read = migdev_debugfs_dirty_read,
	.release = migdev_debugfs_dirty_release,
	.llseek = default_llseek,
};

static ssize_t migdev_debugfs_pause_read(struct file *file, char __user *buf,
					 size_t count, loff_t *ppos)
{
	struct migdev_device *mvdev = file->private_data;
	char text[64];
	int len;

	/* Two words, each read whole: no lock a stalled chunk may hold. */
	len = scnprintf(text, sizeof(text), "paused %d last_pause_ns %llu\n",
			migdev_engine_paused(&mvdev->emul),
			READ_ONCE(mvdev->debug.last_pause_ns));
	return simple_read_from_buffer(buf, count, ppos, text, len);
}

static ssize_t migdev_debugfs_pause_write(struct file *file, const char __user *buf,
					  size_t count, loff_t *ppos)
{
	struct migdev_device *mvdev = file->private_data;
	bool pause;
	u64 t0;
	int ret;

	ret = kstrtobool_from_user(buf, count, &pause);
	if (ret)
		return ret;
	/* Killable: a chunk may wait for its user's memory for ever. */
	if (pause) {
		t0 = ktime_get_ns();
		ret = migdev_engine_pause_killable(&mvdev->emul);
		if (!ret)
			WRITE_ONCE(mvdev->debug.last_pause_ns, ktime_get_ns() - t0);
	} else {
		ret = migdev_engine_resume_killable(&mvdev->emul);
	}
	return ret ? ret : count;
}

static const struct file_operations migdev_debugfs_pause_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = migdev_debugfs_pause_read,
	.write = migdev_debugfs_pause_write,
	.llseek = default_llseek,
};

static ssize_t migdev_debugfs_fail_read(struct file *file, char __user *buf,
					size_t count, loff_t *ppos)
{
	struct migdev_device *mvdev = file->private_data;
	char text[48];
	int len;

	if (mutex_lock_killable(&mvdev->mig.state_mutex))
		return -EINTR;
	len = scnprintf(text, sizeof(text), "skip %u fail %u\n",
			mvdev->mig.fail_skip, mvdev->mig.fail_count);
	mutex_unlock(&mvdev->mig.state_mutex);
	return simple_read_from_buffer(buf, count, ppos, text, len);
}

static ssize_t migdev_debugfs_fail_write(struct file *file, const char __user *buf,
					 size_t count, loff_t *ppos)
{
	struct migdev_device *mvdev = file->private_data;
	unsigned int fail, skip = 0;
	char text[32];
	int n;

	if (*ppos || !count || count >= sizeof(text))
		return -EINVAL;
	if (copy_from_user(text, buf, count))
		return -EFAULT;
	text[count] = 0;
	n = sscanf(text, "%u %u", &fail, &skip);
	if (n < 1)
		return -EINVAL;

	if (mutex_lock_killable(&mvdev->mig.state_mutex))
		return -EINTR;
	mvdev->mig.fail_count = fail;
	mvdev->mig.fail_skip = fail ? skip : 0;
	mutex_unlock(&mvdev->mig.state_mutex);
	return count;
}

static const struct file_operations migdev_debugfs_fail_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = migdev_debugfs_fail_read,
	.write = migdev_debugfs_fail_write,
	.llseek = default_llseek,
};

static ssize_t migdev_debugfs_opaque_read(struct file *file, char __user *buf,
					  size_t count, loff_t *ppos)
{
	struct migdev_device *mvdev = file->private_data;
	char text[64];
	int len;

	if (mutex_lock_killable(&mvdev->mig.state_mutex))
		return -EINTR;
	len = scnprintf(text, sizeof(text), "bytes %llu seed %llu\n",
			(u64)mvdev->mig.opaque_blocks * MIGDEV_STREAM_PAGE_SIZE,
			mvdev->mig.opaque_seed);
	mutex_unlock(&mvdev->mig.state_mutex);
	return simple_read_from_buffer(buf, count, ppos, text, len);
}

static ssize_t migdev_debugfs_opaque_write(struct file *file,
					   const char __user *buf,
					   size_t count, loff_t *ppos)
{
	struct migdev_device *mvdev = file->private_data;
	unsigned long long bytes, seed = 1;
	char text[64];
	int n;

	if (*ppos || !count || count >= sizeof(text))
		return -EINVAL;
	if (copy_from_user(text, buf, count))
		return -EFAULT;
	text[count] = 0;
	n = sscanf(text, "%llu %llu", &bytes, &seed);
	if (n < 1 || bytes % MIGDEV_STREAM_PAGE_SIZE ||
	    bytes > (u64)MIGDEV_OPAQUE_MAX_BLOCKS * MIGDEV_STREAM_PAGE_SIZE)
		return -EINVAL;

	if (mutex_lock_killable(&mvdev->mig.state_mutex))
		return -EINTR;
	mvdev->mig.opaque_blocks = bytes / MIGDEV_STREAM_PAGE_SIZE;
	mvdev->mig.opaque_seed = seed;
	mutex_unlock(&mvdev->mig.state_mutex);
	return count;
}

static const struct file_operations migdev_debugfs_opaque_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = migdev_debugfs_opaque_read,
	.write = migdev_debugfs_opaque_write,
	.llseek = default_llseek,
};

static int migdev_debugfs_stats_show(struct seq_file *m, void *v)
{
	struct migdev_device *mvdev = m->private;
	struct migdev_mig_stats *st = &mvdev->mig.stats;
	char reason[sizeof(st->reason)];

	seq_printf(m, "saved_bytes %lld\n", atomic64_read(&st->saved));
	seq_printf(m, "loaded_bytes %lld\n", atomic64_read(&st->loaded));
	seq_printf(m, "arcs %llu\n", READ_ONCE(st->arcs));
	seq_printf(m, "arcs_failed %llu\n", READ_ONCE(st->arcs_failed));
	seq_printf(m, "precopy_rounds %llu\n", READ_ONCE(st->precopy_rounds));
	seq_printf(m, "stopcopy_bytes %llu\n", READ_ONCE(st->stopcopy_bytes));
	seq_printf(m, "opaque_loaded %llu\n", READ_ONCE(st->opaque_loaded));
	seq_printf(m, "quiesce_ns %llu\n", READ_ONCE(st->quiesce_ns));
	seq_printf(m, "stopcopy_ns %llu\n", READ_ONCE(st->stopcopy_ns));
	seq_printf(m, "refusals %lld\n", atomic64_read(&st->refusals));
	seq_printf(m, "faults %lld\n", atomic64_read(&st->faults));
	spin_lock(&st->reason_lock);
	strscpy(reason, st->reason[0] ? st->reason : "-");
	spin_unlock(&st->reason_lock);
	seq_printf(m, "last_refusal %s\n", reason);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(migdev_debugfs_stats);

/**
 * migdev_debugfs_init() - create /sys/kernel/debug/migdev
 */
void migdev_debugfs_init(void)
{
	migdev_debugfs_dir = debugfs_create_dir("migdev", NULL);
}

/**
 * migdev_debugfs_exit() - remove /sys/kernel/debug/migdev
 */
void migdev_debugfs_exit(void)
{
	debugfs_remove_recursive(migdev_debugfs_dir);
}

/**
 * migdev_debugfs_add() - an instance's directory
 * @mvdev: instance, registered
 */
void migdev_debugfs_add(struct migdev_device *mvdev)
{
	mvdev->debug.dir = debugfs_create_dir(dev_name(mvdev->vdev.dev),
					      migdev_debugfs_dir);
	debugfs_create_file("devmem_dirty", 0400, mvdev->debug.dir, mvdev,
			    &migdev_debugfs_dirty_fops);
	debugfs_create_file("engine_pause", 0600, mvdev->debug.dir, mvdev,
			    &migdev_debugfs_pause_fops);
	debugfs_create_file("opaque", 0600, mvdev->debug.dir, mvdev,
			    &migdev_debugfs_opaque_fops);
	debugfs_create_file("mig_fail", 0600, mvdev->debug.dir, mvdev,
			    &migdev_debugfs_fail_fops);
	debugfs_create_file("stats", 0400, mvdev->debug.dir, mvdev,
			    &migdev_debugfs_stats_fops);
	migdev_faults_debugfs(mvdev, mvdev->debug.dir);
	migdev_writer_debugfs(mvdev, mvdev->debug.dir);
}

/**
 * migdev_debugfs_remove() - remove an instance's directory
 * @mvdev: instance
 */
void migdev_debugfs_remove(struct migdev_device *mvdev)
{
	debugfs_remove_recursive(mvdev->debug.dir);
}
