// ioctlNumbers() / structSizes(): what this build actually uses, so tests can compare it with
// spec/pci-vfio.md C.3/C.5 on the machine that runs them.
#include "exports.h"
#include "uapi.h"

namespace ddk {

namespace {

#define DDK_ENTRY(obj, name) obj.Set(#name, Napi::Number::New(env, static_cast<double>(uapi::name)))
#define DDK_SIZE(obj, name) obj.Set(#name, Napi::Number::New(env, static_cast<double>(sizeof(uapi::name))))

Napi::Value IoctlNumbers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  DDK_ENTRY(o, VFIO_GET_API_VERSION);
  DDK_ENTRY(o, VFIO_CHECK_EXTENSION);
  DDK_ENTRY(o, VFIO_SET_IOMMU);
  DDK_ENTRY(o, VFIO_GROUP_GET_STATUS);
  DDK_ENTRY(o, VFIO_GROUP_SET_CONTAINER);
  DDK_ENTRY(o, VFIO_GROUP_UNSET_CONTAINER);
  DDK_ENTRY(o, VFIO_GROUP_GET_DEVICE_FD);
  DDK_ENTRY(o, VFIO_DEVICE_GET_INFO);
  DDK_ENTRY(o, VFIO_DEVICE_GET_REGION_INFO);
  DDK_ENTRY(o, VFIO_DEVICE_GET_IRQ_INFO);
  DDK_ENTRY(o, VFIO_DEVICE_SET_IRQS);
  DDK_ENTRY(o, VFIO_DEVICE_RESET);
  DDK_ENTRY(o, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO);
  DDK_ENTRY(o, VFIO_IOMMU_GET_INFO);
  DDK_ENTRY(o, VFIO_DEVICE_PCI_HOT_RESET);
  DDK_ENTRY(o, VFIO_IOMMU_MAP_DMA);
  DDK_ENTRY(o, VFIO_IOMMU_UNMAP_DMA);
  DDK_ENTRY(o, VFIO_DEVICE_BIND_IOMMUFD);
  DDK_ENTRY(o, VFIO_DEVICE_ATTACH_IOMMUFD_PT);
  DDK_ENTRY(o, VFIO_DEVICE_DETACH_IOMMUFD_PT);
  DDK_ENTRY(o, IOMMU_DESTROY);
  DDK_ENTRY(o, IOMMU_IOAS_ALLOC);
  DDK_ENTRY(o, IOMMU_IOAS_ALLOW_IOVAS);
  DDK_ENTRY(o, IOMMU_IOAS_COPY);
  DDK_ENTRY(o, IOMMU_IOAS_IOVA_RANGES);
  DDK_ENTRY(o, IOMMU_IOAS_MAP);
  DDK_ENTRY(o, IOMMU_IOAS_UNMAP);
  return o;
}

Napi::Value StructSizes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  DDK_SIZE(o, vfio_info_cap_header);
  DDK_SIZE(o, vfio_group_status);
  DDK_SIZE(o, vfio_device_info);
  DDK_SIZE(o, vfio_region_info);
  DDK_SIZE(o, vfio_region_info_cap_sparse_mmap);
  DDK_SIZE(o, vfio_region_sparse_mmap_area);
  DDK_SIZE(o, vfio_region_info_cap_type);
  DDK_SIZE(o, vfio_irq_info);
  DDK_SIZE(o, vfio_irq_set);
  DDK_SIZE(o, vfio_pci_dependent_device);
  DDK_SIZE(o, vfio_pci_hot_reset_info);
  DDK_SIZE(o, vfio_pci_hot_reset);
  DDK_SIZE(o, vfio_iommu_type1_info);
  DDK_SIZE(o, vfio_iommu_type1_info_cap_iova_range);
  DDK_SIZE(o, vfio_iova_range);
  DDK_SIZE(o, vfio_iommu_type1_dma_map);
  DDK_SIZE(o, vfio_iommu_type1_dma_unmap);
  DDK_SIZE(o, vfio_device_bind_iommufd);
  DDK_SIZE(o, vfio_device_attach_iommufd_pt);
  DDK_SIZE(o, vfio_device_detach_iommufd_pt);
  DDK_SIZE(o, iommu_destroy);
  DDK_SIZE(o, iommu_ioas_alloc);
  DDK_SIZE(o, iommu_ioas_iova_ranges);
  DDK_SIZE(o, iommu_iova_range);
  DDK_SIZE(o, iommu_ioas_map);
  DDK_SIZE(o, iommu_ioas_unmap);
  return o;
}

#undef DDK_ENTRY
#undef DDK_SIZE

}  // namespace

void InitIntrospect(Napi::Env env, Napi::Object exports) {
  exports.Set("ioctlNumbers", Napi::Function::New(env, IoctlNumbers, "ioctlNumbers"));
  exports.Set("structSizes", Napi::Function::New(env, StructSizes, "structSizes"));
}

}  // namespace ddk
