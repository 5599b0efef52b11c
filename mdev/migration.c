// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the VFIO migration state machine (v2, data_fd).
 *
 * Every transition goes through vfio_mig_get_next_state() one arc at a
 * time; migdev_mig_step_locked() carries out one arc.  What the device does in
 * each state:
 *
 *   RUNNING, PRE_COPY          the engine runs
 *   RUNNING_P2P, PRE_COPY_P2P  the engine is paused: no new DMA, and the
 *                              descriptor in flight sits at a checkpoint
 *                              (the arc returns once no chunk executes);
 *                              no completion, so no interrupt
 *   STOP, STOP_COPY, RESUMING  also the clock stands still: no DMA, no
 *                              interrupt, no change of state, while config
 *                              space, MSI-X and SET_IRQS still work
 *
 * A failed arc leaves the device in the last state it reached, which
 * VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE then reports.  ERROR is reached only
 * when the v1 region (mig_v1.c) cannot undo a failed write, and is left
 * only by a reset.  The two front ends share this machine, one at a time.
 *
 * A reset (VFIO_DEVICE_RESET, or an FLR through config space) resets the
 * device and its migration together under state_mutex (migdev_mig_reset()).
 * It used to be deferred as in mlx5, the device cleared at once and the
 * migration state later by whoever held state_mutex; but then a commit
 * (RESUMING -> STOP) running meanwhile loaded migrated state into the
 * device just reset, and the reset's clearing of device memory raced the
 * commit's.  mlx5 defers because its reset comes from the PCI core with
 * locks held that its arcs take; ours comes from an ioctl or a config
 * write that hold nothing, and no arc waits on user memory while it holds
 * state_mutex.
 */
#include <linux/file.h>
#include <linux/timekeeping.h>

#include "migdev.h"
#include "trace.h"

static void migdev_mig_disable_files(struct migdev_device *mvdev)
{
	lockdep_assert_held(&mvdev->mig.state_mutex);
	if (mvdev->mig.save) {
		migdev_save_disable(mvdev->mig.save);
		mvdev->mig.save = NULL;
	}
	if (mvdev->mig.resume) {
		migdev_resume_disable(mvdev->mig.resume);
		mvdev->mig.resume = NULL;
	}
}

/* The v1 region, if any, forgets its migration too. */
static void migdev_mig_iface_reset(struct migdev_device *mvdev)
{
	if (mvdev->mig.iface)
		mvdev->mig.iface->reset_locked(mvdev);
}

/* Back to RUNNING with no migration, as after a reset. */
static void migdev_mig_reset_locked(struct migdev_device *mvdev)
{
	lockdep_assert_held(&mvdev->mig.state_mutex);
	migdev_mig_disable_files(mvdev);
	migdev_mig_iface_reset(mvdev);
	mvdev->mig.state = VFIO_DEVICE_STATE_RUNNING;
	migdev_emul_run(&mvdev->emul);
}

/**
 * migdev_mig_reset() - a reset: the device is cleared and its migration
 * starts over, at once and together
 * @mvdev: device
 * @kind: MIGDEV_RESET_DEVICE (VFIO_DEVICE_RESET) or MIGDEV_RESET_FLR (a
 *	  function-level reset initiated through config space)
 *
 * An FLR is a reset like any other, as in vfio-pci, where the PCI core's
 * reset_done() tells the migration driver (mlx5, pds) to go back to
 * RUNNING: taking it here keeps it out of a commit that loads state into
 * the device, and leaves no saving or resuming file working on a device
 * whose state is gone.
 *
 * Return: 0, or -EINTR if a fatal signal came while it waited for an arc.
 */
int migdev_mig_reset(struct migdev_device *mvdev, enum migdev_reset_kind kind)
{
	if (mutex_lock_killable(&mvdev->mig.state_mutex))
		return -EINTR;
	trace_migdev_reset(dev_name(mvdev->vdev.dev), kind);
	migdev_emul_reset(&mvdev->emul, kind);
	migdev_mig_reset_locked(mvdev);
	mutex_unlock(&mvdev->mig.state_mutex);
	return 0;
}

static struct file *migdev_mig_step_locked(struct migdev_device *mvdev,
					   enum vfio_device_mig_state new)
{
	enum vfio_device_mig_state cur = mvdev->mig.state;
	struct migdev_emul *e = &mvdev->emul;
	int ret;

	lockdep_assert_held(&mvdev->mig.state_mutex);

	/*
	 * RUNNING -> RUNNING_P2P, PRE_COPY -> PRE_COPY_P2P: quiesce.  Returns
	 * once no chunk executes; the descriptor in flight is checkpointed.
	 */
	if ((cur == VFIO_DEVICE_STATE_RUNNING &&
	     new == VFIO_DEVICE_STATE_RUNNING_P2P) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY &&
	     new == VFIO_DEVICE_STATE_PRE_COPY_P2P)) {
		u64 t0 = ktime_get_ns(), ns;
		struct migdev_fault f;
		bool slow = false;

		if (migdev_fault_check(mvdev, MIGDEV_FP_QUIESCE, cur, new, 0, &f)) {
			if (f.action == MIGDEV_FA_FAIL)
				return ERR_PTR(-(int)f.arg);
			slow = true;
		}
		migdev_engine_pause(e);
		/* A slow quiesce: the engine is paused, the arc takes longer. */
		if (slow && migdev_fault_act(&f)) {
			migdev_engine_resume(e);
			return ERR_PTR(-EINTR);
		}
		ns = ktime_get_ns() - t0;
		WRITE_ONCE(mvdev->mig.stats.quiesce_ns, ns);
		trace_migdev_quiesce(dev_name(mvdev->vdev.dev), ns);
		if (cur == VFIO_DEVICE_STATE_PRE_COPY)
			migdev_save_quiesce(mvdev->mig.save, true);
		return NULL;
	}

	/* RUNNING_P2P -> RUNNING: run again; held interrupts fire. */
	if (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	    new == VFIO_DEVICE_STATE_RUNNING) {
		migdev_emul_run(e);
		migdev_irq_resume(mvdev);
		return NULL;
	}

	/* PRE_COPY_P2P -> PRE_COPY */
	if (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	    new == VFIO_DEVICE_STATE_PRE_COPY) {
		migdev_engine_resume(e);
		migdev_save_quiesce(mvdev->mig.save, false);
		return NULL;
	}

	/*
	 * RUNNING_P2P -> STOP: the clock stops too, and interrupts the user
	 * has not read become pending again (migdev_irq_reclaim()).
	 */
	if (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	    new == VFIO_DEVICE_STATE_STOP) {
		migdev_emul_freeze_clock(e);
		migdev_irq_reclaim(mvdev);
		return NULL;
	}

	/* STOP -> RUNNING_P2P: the clock goes on; the engine stays paused. */
	if (cur == VFIO_DEVICE_STATE_STOP &&
	    new == VFIO_DEVICE_STATE_RUNNING_P2P) {
		migdev_emul_thaw_clock(e);
		return NULL;
	}

	/* RUNNING -> PRE_COPY, RUNNING_P2P -> PRE_COPY_P2P: saving starts. */
	if (cur == VFIO_DEVICE_STATE_RUNNING &&
	    new == VFIO_DEVICE_STATE_PRE_COPY)
		return migdev_save_open(mvdev, true);
	if (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	    new == VFIO_DEVICE_STATE_PRE_COPY_P2P) {
		struct file *f = migdev_save_open(mvdev, true);

		if (!IS_ERR(f))
			migdev_save_quiesce(mvdev->mig.save, true);
		return f;
	}

	/* PRE_COPY -> RUNNING, PRE_COPY_P2P -> RUNNING_P2P: saving ends. */
	if ((cur == VFIO_DEVICE_STATE_PRE_COPY &&
	     new == VFIO_DEVICE_STATE_RUNNING) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	     new == VFIO_DEVICE_STATE_RUNNING_P2P)) {
		migdev_mig_disable_files(mvdev);
		return NULL;
	}

	/* STOP -> STOP_COPY: a new data_fd with the whole device. */
	if (cur == VFIO_DEVICE_STATE_STOP &&
	    new == VFIO_DEVICE_STATE_STOP_COPY) {
		struct file *f = migdev_save_open(mvdev, false);

		if (IS_ERR(f))
			return f;
		ret = migdev_save_stop_copy(mvdev->mig.save);
		if (ret) {
			migdev_mig_disable_files(mvdev);
			fput(f);
			return ERR_PTR(ret);
		}
		return f;
	}

	/* PRE_COPY_P2P -> STOP_COPY: the same data_fd finishes the job. */
	if (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	    new == VFIO_DEVICE_STATE_STOP_COPY) {
		migdev_emul_freeze_clock(e);
		migdev_irq_reclaim(mvdev);
		ret = migdev_save_stop_copy(mvdev->mig.save);
		if (ret) {
			migdev_emul_thaw_clock(e);
			return ERR_PTR(ret);
		}
		return NULL;
	}

	/* STOP_COPY -> STOP: saving ends. */
	if (cur == VFIO_DEVICE_STATE_STOP_COPY &&
	    new == VFIO_DEVICE_STATE_STOP) {
		migdev_mig_disable_files(mvdev);
		return NULL;
	}

	/* STOP -> RESUMING: a data_fd to write the stream into. */
	if (cur == VFIO_DEVICE_STATE_STOP &&
	    new == VFIO_DEVICE_STATE_RESUMING)
		return migdev_resume_open(mvdev);

	/*
	 * RESUMING -> STOP: apply what was received, only if it is a whole
	 * and valid stream; otherwise stay in RESUMING, unchanged.
	 */
	if (cur == VFIO_DEVICE_STATE_RESUMING &&
	    new == VFIO_DEVICE_STATE_STOP) {
		ret = migdev_fault_here(mvdev, MIGDEV_FP_COMMIT, cur, new);
		if (!ret)
			ret = migdev_resume_commit(mvdev->mig.resume);
		if (ret)
			return ERR_PTR(ret);
		migdev_mig_disable_files(mvdev);
		return NULL;
	}

	WARN_ON(true);
	return ERR_PTR(-EINVAL);
}

/*
 * Fault injection (debugfs mig_fail): after fail_skip more arcs succeed,
 * the next fail_count arcs fail.
 */
static bool migdev_mig_inject_locked(struct migdev_device *mvdev)
{
	lockdep_assert_held(&mvdev->mig.state_mutex);
	if (!mvdev->mig.fail_count)
		return false;
	if (mvdev->mig.fail_skip) {
		mvdev->mig.fail_skip--;
		return false;
	}
	mvdev->mig.fail_count--;
	atomic64_inc(&mvdev->mig.stats.faults);
	trace_migdev_fault(dev_name(mvdev->vdev.dev), "arc", -EIO);
	return true;
}

/* Statistics of an arc from the current state to @next: @ret, @t0 on. */
static void migdev_mig_arc_done(struct migdev_device *mvdev,
				enum vfio_device_mig_state next, int ret,
				u64 t0)
{
	struct migdev_mig_stats *st = &mvdev->mig.stats;
	enum vfio_device_mig_state cur = mvdev->mig.state;
	u64 now = ktime_get_ns();

	trace_migdev_arc(dev_name(mvdev->vdev.dev), cur, next, ret, now - t0);
	WRITE_ONCE(st->arcs, st->arcs + 1);
	if (ret) {
		WRITE_ONCE(st->arcs_failed, st->arcs_failed + 1);
		return;
	}
	if (next == VFIO_DEVICE_STATE_STOP_COPY)
		st->stopcopy_start = now;
	else if (cur == VFIO_DEVICE_STATE_STOP_COPY && st->stopcopy_start)
		WRITE_ONCE(st->stopcopy_ns, now - st->stopcopy_start);
}

/*
 * A fault rule on the arc to @next (faults.c): NULL to take the arc, or
 * its failure; *@to_error if the device is to go to ERROR after it.
 */
static struct file *migdev_mig_arc_fault_locked(struct migdev_device *mvdev,
						enum vfio_device_mig_state next,
						bool *to_error)
{
	struct migdev_fault f;
	int ret;

	if (!migdev_fault_check(mvdev, MIGDEV_FP_ARC, mvdev->mig.state, next,
				0, &f))
		return NULL;
	if (f.action == MIGDEV_FA_ERROR) {
		*to_error = true;
		return ERR_PTR(-EIO);
	}
	ret = migdev_fault_act(&f);
	return ret ? ERR_PTR(ret) : NULL;
}

/**
 * migdev_mig_set_state_locked() - go to @new an arc at a time
 * @mvdev: device, state_mutex held
 * @new: the state to reach
 *
 * Both front ends come here: VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE and the
 * v1 migration region.  A failed arc leaves the device in the last state
 * it reached.
 *
 * Return: the new data_fd's file if the last arc opened one, NULL, or an
 * ERR_PTR.
 */
struct file *migdev_mig_set_state_locked(struct migdev_device *mvdev,
					 enum vfio_device_mig_state new)
{
	struct vfio_device *vdev = &mvdev->vdev;
	enum vfio_device_mig_state next;
	struct file *res = NULL;
	bool to_error;
	u64 t0;
	int ret;

	lockdep_assert_held(&mvdev->mig.state_mutex);
	/* Only a reset leaves ERROR (the core's table has no arc out of it). */
	if (mvdev->mig.state == VFIO_DEVICE_STATE_ERROR &&
	    new != VFIO_DEVICE_STATE_ERROR) {
		migdev_user_warn(mvdev, "migration: state %d refused: the device is in ERROR until reset\n",
				 new);
		return ERR_PTR(-EINVAL);
	}
	while (new != mvdev->mig.state) {
		ret = vfio_mig_get_next_state(vdev, mvdev->mig.state, new, &next);
		if (ret)
			return ERR_PTR(ret);
		t0 = ktime_get_ns();
		to_error = false;
		if (migdev_mig_inject_locked(mvdev)) {
			migdev_user_info(mvdev, "migration: arc %d -> %d fails by fault injection\n",
					 mvdev->mig.state, next);
			res = ERR_PTR(-EIO);
		} else {
			res = migdev_mig_arc_fault_locked(mvdev, next, &to_error);
			if (!res)
				res = migdev_mig_step_locked(mvdev, next);
		}
		migdev_mig_arc_done(mvdev, next, PTR_ERR_OR_ZERO(res), t0);
		if (IS_ERR(res) && to_error) {
			migdev_user_info(mvdev, "migration: arc %d -> %d fails by a fault rule, to ERROR\n",
					 mvdev->mig.state, next);
			migdev_mig_error_locked(mvdev);
			return res;
		}
		if (IS_ERR(res)) {
			migdev_user_err(mvdev, "migration: arc %d -> %d failed: %pe; device stays in state %d\n",
					mvdev->mig.state, next, res, mvdev->mig.state);
			return res;
		}
		mvdev->mig.state = next;
		if (WARN_ON(res && new != mvdev->mig.state)) {
			fput(res);
			return ERR_PTR(-EINVAL);
		}
	}
	return res;
}

/**
 * migdev_mig_error_locked() - a failure could not be undone: ERROR
 * @mvdev: device, state_mutex held
 *
 * The device is held still (no DMA, no interrupt, the clock stopped) and
 * its migration files stop working; only a reset brings it back.
 */
void migdev_mig_error_locked(struct migdev_device *mvdev)
{
	lockdep_assert_held(&mvdev->mig.state_mutex);
	migdev_mig_disable_files(mvdev);
	migdev_engine_pause(&mvdev->emul);
	migdev_emul_freeze_clock(&mvdev->emul);
	mvdev->mig.state = VFIO_DEVICE_STATE_ERROR;
	migdev_user_err(mvdev, "migration: device in ERROR until reset\n");
}

static struct file *migdev_mig_set_state(struct vfio_device *vdev,
					 enum vfio_device_mig_state new)
{
	struct migdev_device *mvdev = vdev_to_migdev(vdev);
	struct file *res;

	/* Killable: an arc may wait for a chunk stalled on user memory. */
	if (mutex_lock_killable(&mvdev->mig.state_mutex))
		return ERR_PTR(-EINTR);
	/* One interface at a time: the v1 region is migrating the device. */
	if (mvdev->mig.v1.active) {
		migdev_user_warn(mvdev,
				 "migration: state %d refused: the v1 migration region is in use (device_state 0x%x)\n",
				 new, mvdev->mig.v1.state);
		res = ERR_PTR(-EBUSY);
	} else {
		res = migdev_mig_set_state_locked(mvdev, new);
	}
	mutex_unlock(&mvdev->mig.state_mutex);
	return res;
}

static int migdev_mig_get_state(struct vfio_device *vdev,
				enum vfio_device_mig_state *state)
{
	struct migdev_device *mvdev = vdev_to_migdev(vdev);

	if (mutex_lock_killable(&mvdev->mig.state_mutex))
		return -EINTR;
	*state = mvdev->mig.state;
	mutex_unlock(&mvdev->mig.state_mutex);
	return 0;
}

static int migdev_mig_get_data_size(struct vfio_device *vdev,
				    unsigned long *stop_copy_length)
{
	struct migdev_device *mvdev = vdev_to_migdev(vdev);
	struct migdev_fault f;
	bool fired;
	int ret;

	fired = migdev_fault_check(mvdev, MIGDEV_FP_DATA_SIZE, 0, 0, 0, &f);
	ret = fired ? migdev_fault_act(&f) : 0;
	if (ret)
		return ret;
	if (mutex_lock_killable(&mvdev->mig.state_mutex))
		return -EINTR;
	*stop_copy_length = migdev_save_estimate(mvdev, mvdev->mig.save);
	mutex_unlock(&mvdev->mig.state_mutex);
	if (fired && f.action == MIGDEV_FA_SCALE)
		*stop_copy_length = migdev_fault_scale(*stop_copy_length, f.arg);
	trace_migdev_data_size(dev_name(mvdev->vdev.dev), *stop_copy_length);
	return 0;
}

static const struct vfio_migration_ops migdev_mig_ops = {
	.migration_set_state = migdev_mig_set_state,
	.migration_get_state = migdev_mig_get_state,
	.migration_get_data_size = migdev_mig_get_data_size,
};

/**
 * migdev_mig_init() - set up migration for a new device
 * @mvdev: device
 */
void migdev_mig_init(struct migdev_device *mvdev)
{
	mutex_init(&mvdev->mig.state_mutex);
	spin_lock_init(&mvdev->mig.save_wq_lock);
	spin_lock_init(&mvdev->mig.stats.reason_lock);
	mvdev->mig.state = VFIO_DEVICE_STATE_RUNNING;
	mvdev->mig.minor = migdev_stream_minor;
	mvdev->vdev.migration_flags = VFIO_MIGRATION_STOP_COPY |
				     VFIO_MIGRATION_P2P |
				     VFIO_MIGRATION_PRE_COPY;
	mvdev->vdev.mig_ops = &migdev_mig_ops;
}

/**
 * migdev_mig_open() - a user opens the device: RUNNING, no migration
 * @mvdev: device
 */
void migdev_mig_open(struct migdev_device *mvdev)
{
	mutex_lock(&mvdev->mig.state_mutex);
	migdev_mig_iface_reset(mvdev);
	mvdev->mig.state = VFIO_DEVICE_STATE_RUNNING;
	/* A user that closed a stopped device left its clock standing. */
	migdev_emul_thaw_clock(&mvdev->emul);
	mutex_unlock(&mvdev->mig.state_mutex);
}

/**
 * migdev_mig_close() - the user let go: migration files stop working
 * @mvdev: device
 */
void migdev_mig_close(struct migdev_device *mvdev)
{
	mutex_lock(&mvdev->mig.state_mutex);
	migdev_mig_disable_files(mvdev);
	if (mvdev->mig.iface)
		mvdev->mig.iface->close_locked(mvdev);
	mvdev->mig.state = VFIO_DEVICE_STATE_RUNNING;
	mutex_unlock(&mvdev->mig.state_mutex);
}
