// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: mmap() of the device memory BAR.
 *
 * A mapping is built page by page in its fault handler: a fault allocates
 * the device-memory page if needed and maps it, read-only for a read
 * fault.  The first write through a mapping then faults again
 * (pfn_mkwrite), which marks the page dirty and makes the mapping writable.
 * Collecting the dirty bits makes those mappings fault again (see
 * migdev_devmem_collect_dirty()), so pre-copy sees every write, whichever
 * path it takes.  Region accesses, DMA and mappings all use the same
 * pages, so they agree.
 *
 * Through a mapping, a page costs memory once touched; through region
 * access and DMA, once written.  Before device memory is freed (reset),
 * every mapping of it is zapped; migdev_devmem_map() keeps a fault from
 * mapping a page that is being freed, and orders the dirty bit after the
 * writable mapping.
 */
#include <linux/mm.h>

#include "migdev.h"

/* One fault, as migdev_devmem_map() maps its page. */
struct migdev_mmap_fault {
	struct vm_fault *vmf;
	bool mkwrite;
	bool write;
	vm_fault_t ret;
};

static bool migdev_mmap_insert(void *arg, struct page *page)
{
	struct migdev_mmap_fault *f = arg;
	struct vm_fault *vmf = f->vmf;
	struct vm_area_struct *vma = vmf->vma;

	if (f->mkwrite) {
		/* A read-only mapping of this page becomes writable. */
		if (pte_pfn(vmf->orig_pte) != page_to_pfn(page)) {
			f->ret = VM_FAULT_NOPAGE;	/* stale: fault again */
			return false;
		}
		f->ret = 0;
	} else if (f->write) {
		f->ret = vmf_insert_pfn_prot(vma, vmf->address, page_to_pfn(page),
					     vm_get_page_prot(vma->vm_flags));
	} else {
		/* vm_page_prot is read-only: we asked for write notification. */
		f->ret = vmf_insert_pfn(vma, vmf->address, page_to_pfn(page));
	}
	return true;
}

static vm_fault_t migdev_mmap_map(struct vm_fault *vmf, bool mkwrite)
{
	struct vm_area_struct *vma = vmf->vma;
	struct migdev_device *mvdev = vma->vm_private_data;
	struct migdev_devmem *dm = &mvdev->emul.devmem;
	unsigned long base = migdev_region_offset(VFIO_PCI_BAR2_REGION_INDEX) >>
			     PAGE_SHIFT;
	unsigned long idx = vmf->pgoff - base;
	struct migdev_mmap_fault f = {
		.vmf = vmf, .mkwrite = mkwrite,
		.write = mkwrite || (vmf->flags & FAULT_FLAG_WRITE),
	};
	int ret;

	if (vmf->pgoff < base || idx >= migdev_devmem_nr_pfns(dm))
		return VM_FAULT_SIGBUS;
	ret = migdev_devmem_map(dm, idx, f.write, migdev_mmap_insert, &f);
	if (ret < 0) {
		/*
		 * The user's memory cgroup is full (device memory is charged
		 * there and never OOM-kills).  VM_FAULT_OOM would only retry
		 * the fault for ever: the access gets SIGBUS, as one to device
		 * memory the device cannot back.
		 */
		migdev_user_warn(mvdev,
				 "BAR2 page %lu: no memory to back it (%pe): SIGBUS\n",
				 idx, ERR_PTR(ret));
		return VM_FAULT_SIGBUS;
	}
	return f.ret;
}

static vm_fault_t migdev_mmap_fault(struct vm_fault *vmf)
{
	return migdev_mmap_map(vmf, false);
}

static vm_fault_t migdev_mmap_pfn_mkwrite(struct vm_fault *vmf)
{
	return migdev_mmap_map(vmf, true);
}

static const struct vm_operations_struct migdev_mmap_ops = {
	.fault = migdev_mmap_fault,
	.pfn_mkwrite = migdev_mmap_pfn_mkwrite,
};

/**
 * migdev_mmap() - mmap() on the device fd: BAR2 and the v1 data section,
 * shared only
 * @vdev: VFIO device
 * @vma: the new mapping
 *
 * Return: 0 or -EINVAL.
 */
int migdev_mmap(struct vfio_device *vdev, struct vm_area_struct *vma)
{
	struct migdev_device *mvdev = vdev_to_migdev(vdev);
	u64 pos = (u64)vma->vm_pgoff << PAGE_SHIFT;
	unsigned int index = pos >> MIGDEV_REGION_SHIFT;
	u64 off = pos & (migdev_region_offset(1) - 1);
	u64 size = vma->vm_end - vma->vm_start;

	if (index == MIGDEV_MIG_REGION_INDEX)
		return migdev_v1_mmap(mvdev, vma, off);
	if (index != VFIO_PCI_BAR2_REGION_INDEX) {
		migdev_user_err(mvdev,
				"mmap of region %u refused: only BAR2 (device memory) and the migration region's data section can be mapped\n",
				index);
		return -EINVAL;
	}
	if (off >= mvdev->emul.geom.devmem_size ||
	    size > mvdev->emul.geom.devmem_size - off) {
		migdev_user_err(mvdev,
				"mmap of 0x%llx bytes at 0x%llx of BAR2 refused: BAR2 has 0x%llx bytes\n",
				size, off, mvdev->emul.geom.devmem_size);
		return -EINVAL;
	}
	if (!(vma->vm_flags & VM_SHARED)) {
		migdev_user_err(mvdev,
				"private mmap of BAR2 refused: device memory is shared, map it MAP_SHARED\n");
		return -EINVAL;
	}
	vm_flags_set(vma, VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP | VM_IO);
	vma->vm_ops = &migdev_mmap_ops;
	vma->vm_private_data = mvdev;
	return 0;
}
