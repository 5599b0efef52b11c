// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: a writer inside the device, on demand (debugfs
 * migdev/<uuid>/writer).
 *
 * A GPU that renders dirties its memory by itself, at its own rate, and
 * a VMM's pre-copy must keep up with it or give up: convergence, the
 * downtime limit and the number of pre-copy rounds depend on it.  No
 * guest driver of a test can do that from inside the device.  The writer
 * can: it writes blocks of device memory at a set rate and pattern, as
 * the device, only while the device runs (a quiesced or stopped device
 * writes nothing), and every block it writes says what it is, so that
 * what a destination holds can be checked against what the source held
 * at switchover.  One line arms it:
 *
 *   off=BYTES len=BYTES rate=BLOCKS [pattern=sweep|hot|random] [hot=N]
 *   [seed=S]
 *
 * off and len: the range it writes, in whole 4 KiB blocks of device
 * memory (len 0 or absent: to the end).  rate: blocks a second, at most
 * MIGDEV_WRITER_MAX_RATE; 0 arms a range and writes nothing (a
 * destination's way to name the range its digest covers).  pattern:
 * sweep goes through the range in order, over and over (the default);
 * hot goes through its first N blocks only (hot=N, a hot set); random
 * picks blocks from a generator seeded with seed=S.  "stop" sets the rate
 * to 0.  Reading the file gives the settings, the blocks written, the
 * last block's sequence number, the times the writer found the device
 * paused, write errors, and the XXH64 of the range as it is now (zero
 * where never written), for comparing a source at switchover with its
 * destination.
 *
 * Each block holds: MIGDEV_WRITER_MAGIC, its page number in device memory,
 * its sequence number (the count of blocks the writer had written before
 * it), then xorshift64 words from a state of the seed, the page number and
 * the sequence number (Documentation/migdev.rst has the generator).
 *
 * The writer runs in the device's worker, a thread of the user's process
 * (worker.c), woken every MIGDEV_WRITER_TICK_MS by a timer; the memory it
 * allocates is the user's, as the engine's is.  Its writes go through
 * migdev_engine_self_write(), under the device's lock, so the engine's
 * pause stops them as it stops a chunk.
 *
 * Lock order: writer.lock, then emul.lock, then the devmem lock.  Nothing
 * takes writer.lock under another lock of the device.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xxhash.h>

#include "migdev.h"
#include "migdev_compat.h"
#include "../emul/xorshift.h"

#define MIGDEV_WRITER_BLOCK	4096
#define MIGDEV_WRITER_MAGIC	0x6d69676465767772ULL	/* "migdevwr" */
#define MIGDEV_WRITER_TICK_MS	10
/* 1 GiB/s: a bound on the CPU a rule takes from its user's thread. */
#define MIGDEV_WRITER_MAX_RATE	BIT(18)

enum migdev_writer_pattern {
	MIGDEV_WRITER_SWEEP,
	MIGDEV_WRITER_HOT,
	MIGDEV_WRITER_RANDOM,
};

static const char *const migdev_writer_patterns[] = {
	[MIGDEV_WRITER_SWEEP] = "sweep",
	[MIGDEV_WRITER_HOT] = "hot",
	[MIGDEV_WRITER_RANDOM] = "random",
};

/**
 * struct migdev_writer - the device's writer (allocated with its first
 * settings, freed with the device)
 * @lock: serialises the settings and a run of the writer
 * @mvdev: its device
 * @tick: wakes the worker to write what is due
 * @buf: one block, filled before each write
 * @off: first byte of the range
 * @blocks: blocks in the range
 * @rate: blocks a second; 0: none
 * @pattern: MIGDEV_WRITER_*
 * @hot: blocks of the hot set
 * @seed: the generator's seed, as written
 * @rng: the random pattern's state
 * @cursor: the next block of sweep and hot, in the range
 * @seq: blocks written, ever: the next block's sequence number
 * @errors: writes that failed (memory)
 * @paused: runs that found the device paused
 * @last_ns: when what is due was last counted
 */
struct migdev_writer {
	struct mutex lock; /* protects everything below */
	struct migdev_device *mvdev;
	struct delayed_work tick;
	u64 *buf;
	u64 off;
	u64 blocks;
	u64 rate;
	u32 pattern;
	u64 hot;
	u64 seed;
	u64 rng;
	u64 cursor;
	u64 seq;
	u64 errors;
	u64 paused;
	u64 last_ns;
};

/* Block contents: a header that names it, then words from its state. */
static void migdev_writer_fill(u64 *w, u64 seed, u64 page, u64 seq)
{
	u64 x = (seed ^ (page * 0x9e3779b97f4a7c15ULL) ^
		 (seq * 0xbf58476d1ce4e5b9ULL)) | 1;
	unsigned int i;

	w[0] = MIGDEV_WRITER_MAGIC;
	w[1] = page;
	w[2] = seq;
	for (i = 3; i < MIGDEV_WRITER_BLOCK / 8; i++)
		w[i] = migdev_xorshift64(&x);
}

static u64 migdev_writer_next(struct migdev_writer *wr)
{
	u64 b;

	switch (wr->pattern) {
	case MIGDEV_WRITER_RANDOM:
		return migdev_xorshift64(&wr->rng) % wr->blocks;
	case MIGDEV_WRITER_HOT:
		b = wr->cursor;
		wr->cursor = (b + 1) % wr->hot;
		return b;
	}
	b = wr->cursor;
	wr->cursor = (b + 1) % wr->blocks;
	return b;
}

static void migdev_writer_tick(struct work_struct *work)
{
	struct migdev_writer *wr = container_of(to_delayed_work(work),
						struct migdev_writer, tick);

	if (READ_ONCE(wr->rate) && migdev_worker_write_due(wr->mvdev))
		queue_delayed_work(migdev_system_wq, &wr->tick,
				   msecs_to_jiffies(MIGDEV_WRITER_TICK_MS));
}

/* Nothing is due from before now; with a rate, the timer starts at once. */
static void migdev_writer_restart_locked(struct migdev_writer *wr)
{
	lockdep_assert_held(&wr->lock);
	wr->last_ns = ktime_get_ns();
	if (wr->rate)
		mod_delayed_work(migdev_system_wq, &wr->tick, 0);
}

/**
 * migdev_writer_run() - write what is due (the worker, in the user's
 * process)
 * @mvdev: device
 */
void migdev_writer_run(struct migdev_device *mvdev)
{
	struct migdev_writer *wr = READ_ONCE(mvdev->writer);
	u64 now, due, i;
	int ret;

	if (!wr)
		return;
	mutex_lock(&wr->lock);
	now = ktime_get_ns();
	if (!wr->rate || now <= wr->last_ns)
		goto out;
	due = mul_u64_u64_div_u64(now - wr->last_ns, wr->rate, NSEC_PER_SEC);
	/* A late wake writes at most two ticks' worth: the rate, not a burst. */
	if (due > wr->rate * 2 * MIGDEV_WRITER_TICK_MS / MSEC_PER_SEC + 1) {
		due = wr->rate * 2 * MIGDEV_WRITER_TICK_MS / MSEC_PER_SEC + 1;
		wr->last_ns = now;
	} else {
		/* Keep the fraction of a block for the next run. */
		wr->last_ns += div64_u64(due * NSEC_PER_SEC, wr->rate);
	}
	for (i = 0; i < due; i++) {
		u64 off = wr->off + migdev_writer_next(wr) * MIGDEV_WRITER_BLOCK;

		migdev_writer_fill(wr->buf, wr->seed, off / MIGDEV_WRITER_BLOCK,
				   wr->seq);
		ret = migdev_engine_self_write(&mvdev->emul, off, wr->buf,
					       MIGDEV_WRITER_BLOCK);
		if (ret == -EAGAIN) {
			/* Paused: nothing is due until it runs again. */
			wr->paused++;
			wr->last_ns = now;
			break;
		}
		if (ret)
			wr->errors++;
		else
			wr->seq++;
		if (!(i % 16))
			cond_resched();
	}
out:
	mutex_unlock(&wr->lock);
}

/**
 * migdev_writer_open() - the worker started: the writer's timer runs, if
 * it has a rate
 * @mvdev: device
 */
void migdev_writer_open(struct migdev_device *mvdev)
{
	struct migdev_writer *wr = READ_ONCE(mvdev->writer);

	if (!wr)
		return;
	mutex_lock(&wr->lock);
	migdev_writer_restart_locked(wr);
	mutex_unlock(&wr->lock);
}

/* One line of settings into @wr; 0 or -EINVAL. */
static int migdev_writer_parse(struct migdev_writer *wr, char *line, u64 size)
{
	u64 off = 0, len = 0, rate = 0, hot = 0, seed = 1, v;
	u32 pattern = MIGDEV_WRITER_SWEEP;
	bool have_rate = false, is_hot;
	unsigned int i;
	char *tok, *val;

	line = strim(line);
	if (!strcmp(line, "stop")) {
		wr->rate = 0;
		return 0;
	}
	while ((tok = strsep(&line, " \t"))) {
		if (!*tok)
			continue;
		val = strchr(tok, '=');
		if (!val)
			return -EINVAL;
		*val++ = 0;
		if (!strcmp(tok, "pattern")) {
			for (i = 0; i < ARRAY_SIZE(migdev_writer_patterns); i++)
				if (!strcmp(val, migdev_writer_patterns[i]))
					break;
			if (i == ARRAY_SIZE(migdev_writer_patterns))
				return -EINVAL;
			pattern = i;
			continue;
		}
		if (kstrtou64(val, 0, &v))
			return -EINVAL;
		if (!strcmp(tok, "rate"))
			rate = v;
		if (!strcmp(tok, "off"))
			off = v;
		else if (!strcmp(tok, "len"))
			len = v;
		else if (!strcmp(tok, "rate") && v <= MIGDEV_WRITER_MAX_RATE)
			have_rate = true;
		else if (!strcmp(tok, "hot") && v)
			hot = v;
		else if (!strcmp(tok, "seed"))
			seed = v;
		else
			return -EINVAL;
	}
	if (!have_rate || off >= size || off % MIGDEV_WRITER_BLOCK ||
	    len % MIGDEV_WRITER_BLOCK || len > size - off)
		return -EINVAL;
	if (!len)
		len = size - off;
	/* hot= goes with pattern=hot, inside the range. */
	is_hot = pattern == MIGDEV_WRITER_HOT;
	if (is_hot != !!hot || hot > len / MIGDEV_WRITER_BLOCK)
		return -EINVAL;
	wr->off = off;
	wr->blocks = len / MIGDEV_WRITER_BLOCK;
	wr->rate = rate;
	wr->pattern = pattern;
	wr->hot = hot;
	wr->seed = seed;
	wr->rng = seed ?: 1;
	wr->cursor = 0;
	return 0;
}

static struct migdev_writer *migdev_writer_get(struct migdev_device *mvdev)
{
	struct migdev_writer *wr = READ_ONCE(mvdev->writer), *old;

	if (wr)
		return wr;
	wr = kzalloc(sizeof(*wr), GFP_KERNEL_ACCOUNT);
	if (!wr)
		return NULL;
	wr->buf = kmalloc(MIGDEV_WRITER_BLOCK, GFP_KERNEL_ACCOUNT);
	if (!wr->buf) {
		kfree(wr);
		return NULL;
	}
	mutex_init(&wr->lock);
	wr->mvdev = mvdev;
	INIT_DELAYED_WORK(&wr->tick, migdev_writer_tick);
	old = cmpxchg(&mvdev->writer, NULL, wr);
	if (old) {
		/* Two first writers: one writer. */
		kfree(wr->buf);
		kfree(wr);
		return old;
	}
	return wr;
}

static ssize_t migdev_writer_write(struct file *file, const char __user *buf,
				   size_t count, loff_t *ppos)
{
	struct migdev_device *mvdev = file->private_data;
	u64 size = mvdev->emul.geom.devmem_size;
	struct migdev_writer *wr;
	char line[160];
	int ret;

	if (!count || count >= sizeof(line))
		return -EINVAL;
	if (copy_from_user(line, buf, count))
		return -EFAULT;
	line[count] = 0;
	wr = migdev_writer_get(mvdev);
	if (!wr)
		return -ENOMEM;
	mutex_lock(&wr->lock);
	ret = migdev_writer_parse(wr, line, size);
	if (!ret)
		migdev_writer_restart_locked(wr);
	mutex_unlock(&wr->lock);
	return ret ?: count;
}

/* XXH64 of @blocks blocks of device memory from @off, as they are now. */
static u64 migdev_writer_digest(struct migdev_device *mvdev, u64 off,
				u64 blocks, void *buf)
{
	struct xxh64_state st;
	u64 i;

	xxh64_reset(&st, 0);
	for (i = 0; i < blocks; i++) {
		migdev_devmem_read(&mvdev->emul.devmem,
				   off + i * MIGDEV_WRITER_BLOCK, buf,
				   MIGDEV_WRITER_BLOCK);
		xxh64_update(&st, buf, MIGDEV_WRITER_BLOCK);
		if (!(i % 64))
			cond_resched();
	}
	return xxh64_digest(&st);
}

static ssize_t migdev_writer_read(struct file *file, char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct migdev_device *mvdev = file->private_data;
	struct migdev_writer *wr = READ_ONCE(mvdev->writer);
	u64 off = 0, blocks = 0;
	char text[320];
	void *buf;
	int len;

	buf = kmalloc(MIGDEV_WRITER_BLOCK, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (wr) {
		mutex_lock(&wr->lock);
		off = wr->off;
		blocks = wr->blocks;
		len = scnprintf(text, sizeof(text),
				"off=%llu len=%llu rate=%llu pattern=%s hot=%llu seed=%llu written=%llu errors=%llu paused=%llu",
				off, blocks * MIGDEV_WRITER_BLOCK, wr->rate,
				migdev_writer_patterns[wr->pattern], wr->hot,
				wr->seed, wr->seq, wr->errors, wr->paused);
		mutex_unlock(&wr->lock);
	} else {
		len = scnprintf(text, sizeof(text),
				"off=0 len=0 rate=0 pattern=sweep hot=0 seed=1 written=0 errors=0 paused=0");
	}
	/* Not under the lock: the writer runs on, as the device does. */
	len += scnprintf(text + len, sizeof(text) - len, " digest=%016llx\n",
			 migdev_writer_digest(mvdev, off, blocks, buf));
	kfree(buf);
	return simple_read_from_buffer(ubuf, count, ppos, text, len);
}

static const struct file_operations migdev_writer_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = migdev_writer_read,
	.write = migdev_writer_write,
	.llseek = default_llseek,
};

/**
 * migdev_writer_debugfs() - the instance's "writer" file
 * @mvdev: device
 * @dir: its debugfs directory
 */
void migdev_writer_debugfs(struct migdev_device *mvdev, struct dentry *dir)
{
	debugfs_create_file("writer", 0600, dir, mvdev, &migdev_writer_fops);
}

/**
 * migdev_writer_fini() - the device is released: no timer, no writer
 * @mvdev: device, closed
 */
void migdev_writer_fini(struct migdev_device *mvdev)
{
	struct migdev_writer *wr = mvdev->writer;

	if (!wr)
		return;
	cancel_delayed_work_sync(&wr->tick);
	mutex_destroy(&wr->lock);
	kfree(wr->buf);
	kfree(wr);
	mvdev->writer = NULL;
}
