// Legacy VFIO container (/dev/vfio/vfio, spec/pci-vfio.md C.5 "Legacy (group) flow"): open, API
// version, extensions, SET_IOMMU(TYPE1v2), IOMMU_GET_INFO with its capability chain, MAP/UNMAP_DMA.
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "sys.h"
#include "uapi.h"

namespace ddk {

namespace {

constexpr const char* kDefaultContainerPath = "/dev/vfio/vfio";
constexpr uint32_t kMaxInfoSize = 64 * 1024;  // bound on kernel-requested argsz for capability chains

SysContext FdContext(const char* syscall, int fd) {
  SysContext ctx;
  ctx.syscall = syscall;
  ctx.fd = fd;
  return ctx;
}

// vfioOpenContainer(path = '/dev/vfio/vfio') → fd. The path is injectable for tests.
Napi::Value OpenContainer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  if (!ArgOptString(info, 0, "path", kDefaultContainerPath, &path)) return env.Undefined();
  const int fd = OpenRdwr(path);
  if (fd < 0) {
    SysContext ctx;
    ctx.syscall = "open";
    ctx.path = path;
    if (errno == ENOENT) ctx.hint = "no VFIO container node: load the module (`modprobe vfio-pci`)";
    if (errno == EACCES || errno == EPERM) ctx.hint = "permission denied: run as root or make the node accessible to your user";
    return ThrowSys(env, errno, ctx);
  }
  return Napi::Number::New(env, fd);
}

// vfioGetApiVersion(fd) → VFIO_API_VERSION (0 on every kernel so far).
Napi::Value GetApiVersion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  if (!ArgFd(info, 0, "ioctl(VFIO_GET_API_VERSION)", &fd)) return env.Undefined();
  const int version = IoctlValue(fd, uapi::VFIO_GET_API_VERSION, 0);
  if (version < 0) return ThrowSys(env, errno, FdContext("ioctl(VFIO_GET_API_VERSION)", fd));
  return Napi::Number::New(env, version);
}

// vfioCheckExtension(fd, extension) → the kernel's answer (> 0 when supported).
Napi::Value CheckExtension(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  int64_t ext = 0;
  if (!ArgFd(info, 0, "ioctl(VFIO_CHECK_EXTENSION)", &fd) || !ArgInt(info, 1, "extension", 0, UINT32_MAX, &ext)) {
    return env.Undefined();
  }
  const int rc = IoctlValue(fd, uapi::VFIO_CHECK_EXTENSION, static_cast<unsigned long>(ext));
  if (rc < 0) return ThrowSys(env, errno, FdContext("ioctl(VFIO_CHECK_EXTENSION)", fd));
  return Napi::Number::New(env, rc);
}

// vfioSetIommu(fd, type = VFIO_TYPE1v2_IOMMU). Needs a group already attached to the container.
Napi::Value SetIommu(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  int64_t type = uapi::VFIO_TYPE1v2_IOMMU;
  if (!ArgFd(info, 0, "ioctl(VFIO_SET_IOMMU)", &fd)) return env.Undefined();
  if (!info[1].IsUndefined() && !ArgInt(info, 1, "type", 0, UINT32_MAX, &type)) return env.Undefined();
  if (IoctlValue(fd, uapi::VFIO_SET_IOMMU, static_cast<unsigned long>(type)) < 0) {
    SysContext ctx = FdContext("ioctl(VFIO_SET_IOMMU)", fd);
    if (errno == EPERM) {
      ctx.hint = "interrupt remapping is off; boot with intremap=on / intel_iommu=on, or set "
                 "vfio_iommu_type1.allow_unsafe_interrupts=1";
    } else if (errno == EINVAL) {
      ctx.hint = "attach a group first (VFIO_GROUP_SET_CONTAINER), and check the IOMMU type is supported";
    } else if (errno == ENODEV) {
      ctx.hint = "this IOMMU type is not available: is vfio_iommu_type1 loaded and the IOMMU enabled (intel_iommu=on / amd_iommu=on)?";
    }
    return ThrowSys(env, errno, ctx);
  }
  return env.Undefined();
}

// vfioIommuGetInfo(fd) → { flags, iovaPgsizes: bigint, iovaRanges: [{ start, end }], dmaAvail? }.
Napi::Value IommuGetInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  if (!ArgFd(info, 0, "ioctl(VFIO_IOMMU_GET_INFO)", &fd)) return env.Undefined();
  std::vector<uint8_t> buf(sizeof(uapi::vfio_iommu_type1_info));
  auto* head = reinterpret_cast<uapi::vfio_iommu_type1_info*>(buf.data());
  head->argsz = sizeof *head;
  if (Ioctl(fd, uapi::VFIO_IOMMU_GET_INFO, buf.data()) < 0) {
    return ThrowSys(env, errno, FdContext("ioctl(VFIO_IOMMU_GET_INFO)", fd));
  }
  // The kernel raises argsz when the capability chain did not fit; ask again with room for it.
  if (head->argsz > buf.size() && head->argsz <= kMaxInfoSize) {
    const uint32_t argsz = head->argsz;
    buf.assign(argsz, 0);
    head = reinterpret_cast<uapi::vfio_iommu_type1_info*>(buf.data());
    head->argsz = argsz;
    if (Ioctl(fd, uapi::VFIO_IOMMU_GET_INFO, buf.data()) < 0) {
      return ThrowSys(env, errno, FdContext("ioctl(VFIO_IOMMU_GET_INFO)", fd));
    }
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("flags", Napi::Number::New(env, head->flags));
  out.Set("iovaPgsizes", Napi::BigInt::New(env, static_cast<uint64_t>(head->iova_pgsizes)));
  Napi::Array ranges = Napi::Array::New(env);
  out.Set("iovaRanges", ranges);
  if (!(head->flags & uapi::VFIO_IOMMU_INFO_CAPS)) return out;
  const size_t size = std::min<size_t>(buf.size(), head->argsz);
  // Walk the chain; every offset is checked against the buffer (a corrupt chain must not read out of it).
  for (uint32_t off = head->cap_offset, hops = 0; off != 0 && hops < 64; ++hops) {
    if (off < sizeof *head || off + sizeof(uapi::vfio_info_cap_header) > size) break;
    const auto* cap = reinterpret_cast<const uapi::vfio_info_cap_header*>(buf.data() + off);
    if (cap->id == uapi::VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE &&
        off + sizeof(uapi::vfio_iommu_type1_info_cap_iova_range) <= size) {
      const auto* cr = reinterpret_cast<const uapi::vfio_iommu_type1_info_cap_iova_range*>(cap);
      for (uint32_t i = 0; i < cr->nr_iovas; ++i) {
        const size_t at = off + sizeof *cr + static_cast<size_t>(i) * sizeof(uapi::vfio_iova_range);
        if (at + sizeof(uapi::vfio_iova_range) > size) break;
        uapi::vfio_iova_range range;
        memcpy(&range, buf.data() + at, sizeof range);
        Napi::Object r = Napi::Object::New(env);
        r.Set("start", Napi::BigInt::New(env, static_cast<uint64_t>(range.start)));
        r.Set("end", Napi::BigInt::New(env, static_cast<uint64_t>(range.end)));
        ranges.Set(i, r);
      }
    } else if (cap->id == uapi::VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL &&
               off + sizeof(uapi::vfio_iommu_type1_info_dma_avail) <= size) {
      out.Set("dmaAvail", Napi::Number::New(env, reinterpret_cast<const uapi::vfio_iommu_type1_info_dma_avail*>(cap)->avail));
    }
    off = cap->next;
  }
  return out;
}

// vfioIommuMapDma(fd, iova, vaddr, size, read = true, write = true). Positional arguments (numbers
// or bigints): the DMA map path reads no object properties (each a string key lookup).
Napi::Value MapDma(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  if (!ArgFd(info, 0, "ioctl(VFIO_IOMMU_MAP_DMA)", &fd)) return env.Undefined();
  uapi::vfio_iommu_type1_dma_map map{};
  bool readable = true, writable = true;
  uint64_t iova = 0, vaddr = 0, size = 0;
  if (!ArgU64(info, 1, "iova", &iova) || !ArgU64(info, 2, "vaddr", &vaddr) || !ArgU64(info, 3, "size", &size) ||
      !ArgOptBool(info, 4, "read", true, &readable) || !ArgOptBool(info, 5, "write", true, &writable)) {
    return env.Undefined();
  }
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  if (size == 0 || size % page || iova % page || vaddr % page || iova + size < iova) {
    return ThrowRange(env, "MAP_DMA: iova, vaddr and size must be page-aligned, size > 0, and iova + size must not wrap");
  }
  map.argsz = sizeof map;
  map.flags = (readable ? uapi::VFIO_DMA_MAP_FLAG_READ : 0) | (writable ? uapi::VFIO_DMA_MAP_FLAG_WRITE : 0);
  map.iova = iova;
  map.vaddr = vaddr;
  map.size = size;
  if (Ioctl(fd, uapi::VFIO_IOMMU_MAP_DMA, &map) < 0) {
    SysContext ctx = FdContext("ioctl(VFIO_IOMMU_MAP_DMA)", fd);
    if (errno == ENOMEM || errno == EPERM) ctx.hint = "pinning the pages failed: " + MemlockHint();
    if (errno == EEXIST) ctx.hint = "the IOVA range overlaps an existing mapping; unmap it first";
    if (errno == ENOSPC) ctx.hint = "the IOMMU's DMA mapping limit is reached (vfio_iommu_type1.dma_entry_limit)";
    return ThrowSys(env, errno, ctx);
  }
  return env.Undefined();
}

// vfioIommuUnmapDma(fd, iova, size) → bytes unmapped (a number: at most `size`).
Napi::Value UnmapDma(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  uint64_t iova = 0, size = 0;
  if (!ArgFd(info, 0, "ioctl(VFIO_IOMMU_UNMAP_DMA)", &fd) || !ArgU64(info, 1, "iova", &iova) || !ArgU64(info, 2, "size", &size)) {
    return env.Undefined();
  }
  uapi::vfio_iommu_type1_dma_unmap unmap{};
  unmap.argsz = sizeof unmap;
  unmap.iova = iova;
  unmap.size = size;
  if (Ioctl(fd, uapi::VFIO_IOMMU_UNMAP_DMA, &unmap) < 0) {
    return ThrowSys(env, errno, FdContext("ioctl(VFIO_IOMMU_UNMAP_DMA)", fd));
  }
  return Napi::Number::New(env, static_cast<double>(unmap.size));
}

}  // namespace

void InitVfioContainer(Napi::Env env, Napi::Object exports) {
  exports.Set("vfioOpenContainer", Napi::Function::New(env, OpenContainer, "vfioOpenContainer"));
  exports.Set("vfioGetApiVersion", Napi::Function::New(env, GetApiVersion, "vfioGetApiVersion"));
  exports.Set("vfioCheckExtension", Napi::Function::New(env, CheckExtension, "vfioCheckExtension"));
  exports.Set("vfioSetIommu", Napi::Function::New(env, SetIommu, "vfioSetIommu"));
  exports.Set("vfioIommuGetInfo", Napi::Function::New(env, IommuGetInfo, "vfioIommuGetInfo"));
  exports.Set("vfioIommuMapDma", Napi::Function::New(env, MapDma, "vfioIommuMapDma"));
  exports.Set("vfioIommuUnmapDma", Napi::Function::New(env, UnmapDma, "vfioIommuUnmapDma"));
}

}  // namespace ddk
