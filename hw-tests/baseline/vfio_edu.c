#define _GNU_SOURCE
#include "vfio_edu.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int fail(const char *what) {
  fprintf(stderr, "vfio-baseline: %s: %s\n", what, strerror(errno));
  return -1;
}

static int group_of(const char *bdf) {
  char link[256], target[256];
  snprintf(link, sizeof link, "/sys/bus/pci/devices/%s/iommu_group", bdf);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 0) return fail(link);
  target[n] = 0;
  return atoi(basename(target));
}

int vfio_open(struct vfio_dev *d, const char *bdf) {
  memset(d, 0, sizeof *d);
  d->container = d->group = d->device = -1;
  int group = group_of(bdf);
  if (group < 0) return -1;
  char path[64];
  if ((d->container = open("/dev/vfio/vfio", O_RDWR)) < 0) return fail("/dev/vfio/vfio");
  if (ioctl(d->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) return fail("VFIO_GET_API_VERSION");
  if (ioctl(d->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1) return fail("TYPE1v2 missing");
  snprintf(path, sizeof path, "/dev/vfio/%d", group);
  if ((d->group = open(path, O_RDWR)) < 0) return fail(path);
  struct vfio_group_status status = {.argsz = sizeof status};
  if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &status) < 0) return fail("VFIO_GROUP_GET_STATUS");
  if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) { errno = EBUSY; return fail("group not viable"); }
  if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container) < 0) return fail("VFIO_GROUP_SET_CONTAINER");
  if (ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) return fail("VFIO_SET_IOMMU");
  if ((d->device = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, bdf)) < 0) return fail("VFIO_GROUP_GET_DEVICE_FD");

  struct vfio_region_info bar = {.argsz = sizeof bar, .index = VFIO_PCI_BAR0_REGION_INDEX};
  if (ioctl(d->device, VFIO_DEVICE_GET_REGION_INFO, &bar) < 0) return fail("GET_REGION_INFO bar0");
  void *map = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, d->device, (off_t)bar.offset);
  if (map == MAP_FAILED) return fail("mmap bar0");
  d->bar0 = map;
  d->bar0_size = bar.size;

  struct vfio_region_info cfg = {.argsz = sizeof cfg, .index = VFIO_PCI_CONFIG_REGION_INDEX};
  if (ioctl(d->device, VFIO_DEVICE_GET_REGION_INFO, &cfg) < 0) return fail("GET_REGION_INFO config");
  d->config_offset = cfg.offset;
  return 0;
}

void vfio_close(struct vfio_dev *d) {
  if (d->bar0) munmap((void *)d->bar0, d->bar0_size);
  if (d->device >= 0) close(d->device);
  if (d->group >= 0) close(d->group);
  if (d->container >= 0) close(d->container);
}

int vfio_config_write16(struct vfio_dev *d, unsigned off, uint16_t value) {
  if (pwrite(d->device, &value, 2, (off_t)(d->config_offset + off)) != 2) return fail("config write");
  return 0;
}

int vfio_config_read16(struct vfio_dev *d, unsigned off, uint16_t *value) {
  if (pread(d->device, value, 2, (off_t)(d->config_offset + off)) != 2) return fail("config read");
  return 0;
}

int vfio_set_irq_eventfds(struct vfio_dev *d, unsigned index, const int *fds, unsigned count) {
  size_t size = sizeof(struct vfio_irq_set) + sizeof(int) * count;
  struct vfio_irq_set *set = calloc(1, size);
  if (!set) return fail("calloc");
  set->argsz = (uint32_t)size;
  set->flags = (count ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE) | VFIO_IRQ_SET_ACTION_TRIGGER;
  set->index = index;
  set->start = 0;
  set->count = count;
  if (count) memcpy(set->data, fds, sizeof(int) * count);
  int rc = ioctl(d->device, VFIO_DEVICE_SET_IRQS, set);
  free(set);
  return rc < 0 ? fail("VFIO_DEVICE_SET_IRQS") : 0;
}

int vfio_unmask_intx(struct vfio_dev *d) {
  struct vfio_irq_set set = {
      .argsz = sizeof set,
      .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
      .index = VFIO_PCI_INTX_IRQ_INDEX,
      .start = 0,
      .count = 1,
  };
  return ioctl(d->device, VFIO_DEVICE_SET_IRQS, &set) < 0 ? fail("INTx unmask") : 0;
}

int vfio_map_dma(struct vfio_dev *d, void *vaddr, uint64_t iova, uint64_t size) {
  struct vfio_iommu_type1_dma_map map = {
      .argsz = sizeof map,
      .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
      .vaddr = (uint64_t)(uintptr_t)vaddr,
      .iova = iova,
      .size = size,
  };
  return ioctl(d->container, VFIO_IOMMU_MAP_DMA, &map) < 0 ? fail("VFIO_IOMMU_MAP_DMA") : 0;
}

int vfio_unmap_dma(struct vfio_dev *d, uint64_t iova, uint64_t size) {
  struct vfio_iommu_type1_dma_unmap unmap = {.argsz = sizeof unmap, .iova = iova, .size = size};
  return ioctl(d->container, VFIO_IOMMU_UNMAP_DMA, &unmap) < 0 ? fail("VFIO_IOMMU_UNMAP_DMA") : 0;
}
