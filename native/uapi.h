// The Linux VFIO and iommufd uAPI this addon uses, declared here rather than taken from the build
// host's <linux/vfio.h>/<linux/iommufd.h>: those may predate iommufd (Linux 6.2) or the VFIO cdev
// (Linux 6.6), and prebuilds must not depend on the build host's kernel headers.
// Values: shared spec/pci-vfio.md C.3 (VFIO) and C.5 (iommufd); layouts: include/uapi/linux/vfio.h,
// include/uapi/linux/iommufd.h. Every struct size is checked below and exported by structSizes().
#pragma once

#include <linux/ioctl.h>
#include <cstddef>
#include <cstdint>

namespace uapi {

// ---- VFIO (spec C.3): _IO(';', 100 + n), no size/direction encoded.
constexpr unsigned kVfioType = ';';
constexpr unsigned kVfioBase = 100;
constexpr unsigned long VfioIo(unsigned nr) { return _IO(kVfioType, kVfioBase + nr); }

constexpr unsigned long VFIO_GET_API_VERSION = VfioIo(0);
constexpr unsigned long VFIO_CHECK_EXTENSION = VfioIo(1);
constexpr unsigned long VFIO_SET_IOMMU = VfioIo(2);
constexpr unsigned long VFIO_GROUP_GET_STATUS = VfioIo(3);
constexpr unsigned long VFIO_GROUP_SET_CONTAINER = VfioIo(4);
constexpr unsigned long VFIO_GROUP_UNSET_CONTAINER = VfioIo(5);
constexpr unsigned long VFIO_GROUP_GET_DEVICE_FD = VfioIo(6);
constexpr unsigned long VFIO_DEVICE_GET_INFO = VfioIo(7);
constexpr unsigned long VFIO_DEVICE_GET_REGION_INFO = VfioIo(8);
constexpr unsigned long VFIO_DEVICE_GET_IRQ_INFO = VfioIo(9);
constexpr unsigned long VFIO_DEVICE_SET_IRQS = VfioIo(10);
constexpr unsigned long VFIO_DEVICE_RESET = VfioIo(11);
constexpr unsigned long VFIO_DEVICE_GET_PCI_HOT_RESET_INFO = VfioIo(12);
constexpr unsigned long VFIO_IOMMU_GET_INFO = VfioIo(12);
constexpr unsigned long VFIO_DEVICE_PCI_HOT_RESET = VfioIo(13);
constexpr unsigned long VFIO_IOMMU_MAP_DMA = VfioIo(13);
constexpr unsigned long VFIO_IOMMU_UNMAP_DMA = VfioIo(14);
constexpr unsigned long VFIO_DEVICE_BIND_IOMMUFD = VfioIo(18);
constexpr unsigned long VFIO_DEVICE_ATTACH_IOMMUFD_PT = VfioIo(19);
constexpr unsigned long VFIO_DEVICE_DETACH_IOMMUFD_PT = VfioIo(20);

constexpr int VFIO_API_VERSION = 0;
constexpr uint32_t VFIO_TYPE1v2_IOMMU = 3;

constexpr uint32_t VFIO_GROUP_FLAGS_VIABLE = 1u << 0;
constexpr uint32_t VFIO_GROUP_FLAGS_CONTAINER_SET = 1u << 1;
constexpr uint32_t VFIO_REGION_INFO_FLAG_CAPS = 1u << 3;
constexpr uint16_t VFIO_REGION_INFO_CAP_SPARSE_MMAP = 1;
constexpr uint16_t VFIO_REGION_INFO_CAP_TYPE = 2;
constexpr uint16_t VFIO_REGION_INFO_CAP_MSIX_MAPPABLE = 3;
constexpr uint32_t VFIO_IRQ_SET_DATA_NONE = 1u << 0;
constexpr uint32_t VFIO_IRQ_SET_DATA_BOOL = 1u << 1;
constexpr uint32_t VFIO_IRQ_SET_DATA_EVENTFD = 1u << 2;
constexpr uint32_t VFIO_IRQ_SET_ACTION_MASK = 1u << 3;
constexpr uint32_t VFIO_IRQ_SET_ACTION_UNMASK = 1u << 4;
constexpr uint32_t VFIO_IRQ_SET_ACTION_TRIGGER = 1u << 5;
constexpr uint32_t VFIO_IRQ_SET_DATA_TYPE_MASK = 0x7;
constexpr uint32_t VFIO_IRQ_SET_ACTION_TYPE_MASK = 0x38;
constexpr uint32_t VFIO_IOMMU_INFO_CAPS = 1u << 1;
constexpr uint16_t VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE = 1;
constexpr uint16_t VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL = 3;
constexpr uint32_t VFIO_DMA_MAP_FLAG_READ = 1u << 0;
constexpr uint32_t VFIO_DMA_MAP_FLAG_WRITE = 1u << 1;

struct vfio_info_cap_header { uint16_t id; uint16_t version; uint32_t next; };
struct vfio_group_status { uint32_t argsz; uint32_t flags; };
struct vfio_device_info {
  uint32_t argsz, flags, num_regions, num_irqs, cap_offset, pad;
};
struct vfio_region_info {
  uint32_t argsz, flags, index, cap_offset;
  uint64_t size, offset;
};
struct vfio_region_sparse_mmap_area { uint64_t offset, size; };
struct vfio_region_info_cap_sparse_mmap {
  vfio_info_cap_header header;
  uint32_t nr_areas, reserved;
  // vfio_region_sparse_mmap_area areas[nr_areas] follows
};
struct vfio_region_info_cap_type { vfio_info_cap_header header; uint32_t type, subtype; };
struct vfio_irq_info { uint32_t argsz, flags, index, count; };
struct vfio_irq_set {
  uint32_t argsz, flags, index, start, count;
  // uint8_t data[] follows (bool: u8 per irq; eventfd: s32 per irq)
};
struct vfio_pci_dependent_device { uint32_t group_id_or_devid; uint16_t segment; uint8_t bus, devfn; };
struct vfio_pci_hot_reset_info {
  uint32_t argsz, flags, count;
  // vfio_pci_dependent_device devices[count] follows
};
struct vfio_pci_hot_reset {
  uint32_t argsz, flags, count;
  // int32_t group_fds[count] follows (count 0: the cdev flow, every device owned by this iommufd)
};
struct vfio_iommu_type1_info {
  uint32_t argsz, flags;
  uint64_t iova_pgsizes;
  uint32_t cap_offset, pad;
};
struct vfio_iova_range { uint64_t start, end; };
struct vfio_iommu_type1_info_cap_iova_range {
  vfio_info_cap_header header;
  uint32_t nr_iovas, reserved;
  // vfio_iova_range iova_ranges[nr_iovas] follows
};
struct vfio_iommu_type1_info_dma_avail { vfio_info_cap_header header; uint32_t avail; };
struct vfio_iommu_type1_dma_map { uint32_t argsz, flags; uint64_t vaddr, iova, size; };
struct vfio_iommu_type1_dma_unmap { uint32_t argsz, flags; uint64_t iova, size; };

// VFIO cdev (Linux 6.6, spec C.5). The token (BIND) and pasid (ATTACH/DETACH) fields are 2025
// additions; argsz is passed as the original size so 6.6-era kernels accept the call.
struct vfio_device_bind_iommufd { uint32_t argsz, flags; int32_t iommufd; uint32_t out_devid; uint64_t token_uuid_ptr; };
constexpr uint32_t kBindIommufdMinsz = offsetof(vfio_device_bind_iommufd, token_uuid_ptr);
struct vfio_device_attach_iommufd_pt { uint32_t argsz, flags, pt_id, pasid; };
constexpr uint32_t kAttachPtMinsz = offsetof(vfio_device_attach_iommufd_pt, pasid);
struct vfio_device_detach_iommufd_pt { uint32_t argsz, flags, pasid; };
constexpr uint32_t kDetachPtMinsz = offsetof(vfio_device_detach_iommufd_pt, pasid);

// ---- iommufd (spec C.5): /dev/iommu, _IO(';', 0x80 + n).
constexpr unsigned long IommufdIo(unsigned nr) { return _IO(kVfioType, 0x80 + nr); }
constexpr unsigned long IOMMU_DESTROY = IommufdIo(0);
constexpr unsigned long IOMMU_IOAS_ALLOC = IommufdIo(1);
constexpr unsigned long IOMMU_IOAS_ALLOW_IOVAS = IommufdIo(2);
constexpr unsigned long IOMMU_IOAS_COPY = IommufdIo(3);
constexpr unsigned long IOMMU_IOAS_IOVA_RANGES = IommufdIo(4);
constexpr unsigned long IOMMU_IOAS_MAP = IommufdIo(5);
constexpr unsigned long IOMMU_IOAS_UNMAP = IommufdIo(6);

constexpr uint32_t IOMMU_IOAS_MAP_FIXED_IOVA = 1u << 0;
constexpr uint32_t IOMMU_IOAS_MAP_WRITEABLE = 1u << 1;
constexpr uint32_t IOMMU_IOAS_MAP_READABLE = 1u << 2;

struct iommu_destroy { uint32_t size, id; };
struct iommu_ioas_alloc { uint32_t size, flags, out_ioas_id; };
struct iommu_iova_range { uint64_t start, last; };
struct iommu_ioas_iova_ranges {
  uint32_t size, ioas_id, num_iovas, reserved;
  uint64_t allowed_iovas;  // user pointer to iommu_iova_range[num_iovas]
  uint64_t out_iova_alignment;
};
struct iommu_ioas_map {
  uint32_t size, flags, ioas_id, reserved;
  uint64_t user_va, length, iova;
};
struct iommu_ioas_unmap { uint32_t size, ioas_id; uint64_t iova, length; };

static_assert(sizeof(vfio_info_cap_header) == 8, "vfio_info_cap_header");
static_assert(sizeof(vfio_group_status) == 8, "vfio_group_status");
static_assert(sizeof(vfio_device_info) == 24, "vfio_device_info (spec C.3: 24 bytes)");
static_assert(sizeof(vfio_region_info) == 32, "vfio_region_info (spec C.3: 32 bytes)");
static_assert(offsetof(vfio_region_info, size) == 16 && offsetof(vfio_region_info, offset) == 24, "region info");
static_assert(sizeof(vfio_region_info_cap_sparse_mmap) == 16, "sparse mmap cap header");
static_assert(sizeof(vfio_region_sparse_mmap_area) == 16, "sparse mmap area");
static_assert(sizeof(vfio_region_info_cap_type) == 16, "region type cap");
static_assert(sizeof(vfio_irq_info) == 16, "vfio_irq_info (spec C.3: 16 bytes)");
static_assert(sizeof(vfio_irq_set) == 20, "vfio_irq_set header (spec C.3: 20 bytes)");
static_assert(sizeof(vfio_pci_dependent_device) == 8, "dependent device");
static_assert(sizeof(vfio_pci_hot_reset_info) == 12, "hot reset info header");
static_assert(sizeof(vfio_pci_hot_reset) == 12, "hot reset header");
static_assert(sizeof(vfio_iommu_type1_info) == 24, "type1 info");
static_assert(sizeof(vfio_iommu_type1_info_cap_iova_range) == 16, "iova range cap header");
static_assert(sizeof(vfio_iova_range) == 16, "iova range");
static_assert(sizeof(vfio_iommu_type1_dma_map) == 32, "dma map (spec C.3: 32 bytes)");
static_assert(sizeof(vfio_iommu_type1_dma_unmap) == 24, "dma unmap");
static_assert(sizeof(vfio_device_bind_iommufd) == 24 && kBindIommufdMinsz == 16, "bind iommufd");
static_assert(sizeof(vfio_device_attach_iommufd_pt) == 16 && kAttachPtMinsz == 12, "attach pt");
static_assert(sizeof(vfio_device_detach_iommufd_pt) == 12 && kDetachPtMinsz == 8, "detach pt");
static_assert(sizeof(iommu_destroy) == 8, "iommu_destroy");
static_assert(sizeof(iommu_ioas_alloc) == 12, "iommu_ioas_alloc");
static_assert(sizeof(iommu_ioas_iova_ranges) == 32, "iommu_ioas_iova_ranges");
static_assert(sizeof(iommu_iova_range) == 16, "iommu_iova_range");
static_assert(sizeof(iommu_ioas_map) == 40, "iommu_ioas_map");
static_assert(sizeof(iommu_ioas_unmap) == 24, "iommu_ioas_unmap");

}  // namespace uapi
