/* Minimal VFIO type1 access to one PCI function: just what the baseline measures, no policy.
 * Flow per spec/pci-vfio.md C.5 (container → group → SET_CONTAINER → SET_IOMMU → device fd). */
#ifndef VFIO_DDK_VFIO_EDU_H
#define VFIO_DDK_VFIO_EDU_H
#include <stddef.h>
#include <stdint.h>

struct vfio_dev {
  int container, group, device;
  volatile uint32_t *bar0;   /* mmapped BAR0 */
  size_t bar0_size;
  uint64_t config_offset;    /* region offset of the config space for pread/pwrite */
};

/* Each returns 0, or -1 after printing what failed (with errno) to stderr. */
int vfio_open(struct vfio_dev *d, const char *bdf);
void vfio_close(struct vfio_dev *d);
int vfio_config_write16(struct vfio_dev *d, unsigned off, uint16_t value);
int vfio_config_read16(struct vfio_dev *d, unsigned off, uint16_t *value);
/* Routes vectors [0, count) of `index` to `fds` (DATA_EVENTFD | ACTION_TRIGGER); count 0 disables. */
int vfio_set_irq_eventfds(struct vfio_dev *d, unsigned index, const int *fds, unsigned count);
/* DATA_NONE | ACTION_UNMASK on INTx. */
int vfio_unmask_intx(struct vfio_dev *d);
int vfio_map_dma(struct vfio_dev *d, void *vaddr, uint64_t iova, uint64_t size);
int vfio_unmap_dma(struct vfio_dev *d, uint64_t iova, uint64_t size);
#endif
