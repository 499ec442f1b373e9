// iommufd (/dev/iommu, Linux 6.2) and the VFIO device cdev (/dev/vfio/devices/vfioN, Linux 6.6):
// spec/pci-vfio.md C.5 "Flow: open cdev → BIND_IOMMUFD → IOAS_ALLOC → ATTACH_IOMMUFD_PT → IOAS_MAP".
#include <unistd.h>

#include <vector>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "sys.h"
#include "uapi.h"

namespace ddk {

namespace {

SysContext FdContext(const char* syscall, int fd) {
  SysContext ctx;
  ctx.syscall = syscall;
  ctx.fd = fd;
  return ctx;
}

Napi::Value OpenNode(const Napi::CallbackInfo& info, const std::string& path, const char* missing) {
  Napi::Env env = info.Env();
  const int fd = OpenRdwr(path);
  if (fd < 0) {
    SysContext ctx;
    ctx.syscall = "open";
    ctx.path = path;
    if (errno == ENOENT) ctx.hint = missing;
    return ThrowSys(env, errno, ctx);
  }
  return Napi::Number::New(env, fd);
}

// iommufdOpen(path = '/dev/iommu') → fd.
Napi::Value IommufdOpen(const Napi::CallbackInfo& info) {
  std::string path;
  if (!ArgOptString(info, 0, "path", "/dev/iommu", &path)) return info.Env().Undefined();
  return OpenNode(info, path, "no iommufd: needs Linux >= 6.2 with CONFIG_IOMMUFD (`modprobe iommufd`)");
}

// vfioCdevOpen(n | path) → fd of /dev/vfio/devices/vfio<n> (or the given path).
Napi::Value CdevOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  if (info[0].IsNumber()) {
    int64_t n = 0;
    if (!ArgInt(info, 0, "cdev", 0, INT32_MAX, &n)) return env.Undefined();
    path = "/dev/vfio/devices/vfio" + std::to_string(n);
  } else if (!ArgString(info, 0, "cdev", &path)) {
    return env.Undefined();
  }
  return OpenNode(info, path,
                  "no VFIO device cdev: needs Linux >= 6.6 with CONFIG_VFIO_DEVICE_CDEV and the device bound to vfio-pci");
}

// iommufdIoasAlloc(fd) → ioasId.
Napi::Value IoasAlloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  if (!ArgFd(info, 0, "ioctl(IOMMU_IOAS_ALLOC)", &fd)) return env.Undefined();
  uapi::iommu_ioas_alloc cmd{};
  cmd.size = sizeof cmd;
  if (Ioctl(fd, uapi::IOMMU_IOAS_ALLOC, &cmd) < 0) return ThrowSys(env, errno, FdContext("ioctl(IOMMU_IOAS_ALLOC)", fd));
  return Napi::Number::New(env, cmd.out_ioas_id);
}

// iommufdDestroy(fd, id): destroys any iommufd object (IOAS, HWPT…).
Napi::Value Destroy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  int64_t id = 0;
  if (!ArgFd(info, 0, "ioctl(IOMMU_DESTROY)", &fd) || !ArgInt(info, 1, "id", 0, UINT32_MAX, &id)) return env.Undefined();
  uapi::iommu_destroy cmd{};
  cmd.size = sizeof cmd;
  cmd.id = static_cast<uint32_t>(id);
  if (Ioctl(fd, uapi::IOMMU_DESTROY, &cmd) < 0) return ThrowSys(env, errno, FdContext("ioctl(IOMMU_DESTROY)", fd));
  return env.Undefined();
}

// iommufdIoasMap(fd, ioasId, vaddr, length, iova?, read = true, write = true) → the kernel's IOVA
// (bigint) when `iova` is undefined; with it, IOMMU_IOAS_MAP_FIXED_IOVA and undefined. Positional
// arguments (numbers or bigints): the DMA map path reads no object properties.
Napi::Value IoasMap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  int64_t ioas = 0;
  uint64_t vaddr = 0, length = 0, iova = 0;
  bool readable = true, writable = true;
  const bool fixed = !info[4].IsUndefined();
  if (!ArgFd(info, 0, "ioctl(IOMMU_IOAS_MAP)", &fd) || !ArgInt(info, 1, "ioasId", 0, UINT32_MAX, &ioas) ||
      !ArgU64(info, 2, "vaddr", &vaddr) || !ArgU64(info, 3, "length", &length) || (fixed && !ArgU64(info, 4, "iova", &iova)) ||
      !ArgOptBool(info, 5, "read", true, &readable) || !ArgOptBool(info, 6, "write", true, &writable)) {
    return env.Undefined();
  }
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  if (length == 0 || length % page || vaddr % page || iova % page) {
    return ThrowRange(env, "IOAS_MAP: vaddr, length and iova must be page-aligned and length > 0");
  }
  uapi::iommu_ioas_map cmd{};
  cmd.size = sizeof cmd;
  cmd.flags = (fixed ? uapi::IOMMU_IOAS_MAP_FIXED_IOVA : 0) | (readable ? uapi::IOMMU_IOAS_MAP_READABLE : 0) |
              (writable ? uapi::IOMMU_IOAS_MAP_WRITEABLE : 0);
  cmd.ioas_id = static_cast<uint32_t>(ioas);
  cmd.user_va = vaddr;
  cmd.length = length;
  cmd.iova = iova;
  if (Ioctl(fd, uapi::IOMMU_IOAS_MAP, &cmd) < 0) {
    SysContext ctx = FdContext("ioctl(IOMMU_IOAS_MAP)", fd);
    if (errno == ENOMEM || errno == EPERM) ctx.hint = "pinning the pages failed: " + MemlockHint();
    return ThrowSys(env, errno, ctx);
  }
  if (fixed) return env.Undefined();
  return Napi::BigInt::New(env, static_cast<uint64_t>(cmd.iova));
}

// iommufdIoasUnmap(fd, ioasId, iova, length) → bytes unmapped (a number: at most `length`).
Napi::Value IoasUnmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  int64_t ioas = 0;
  uint64_t iova = 0, length = 0;
  if (!ArgFd(info, 0, "ioctl(IOMMU_IOAS_UNMAP)", &fd) || !ArgInt(info, 1, "ioasId", 0, UINT32_MAX, &ioas) ||
      !ArgU64(info, 2, "iova", &iova) || !ArgU64(info, 3, "length", &length)) {
    return env.Undefined();
  }
  uapi::iommu_ioas_unmap cmd{};
  cmd.size = sizeof cmd;
  cmd.ioas_id = static_cast<uint32_t>(ioas);
  cmd.iova = iova;
  cmd.length = length;
  if (Ioctl(fd, uapi::IOMMU_IOAS_UNMAP, &cmd) < 0) return ThrowSys(env, errno, FdContext("ioctl(IOMMU_IOAS_UNMAP)", fd));
  return Napi::Number::New(env, static_cast<double>(cmd.length));
}

// iommufdIoasIovaRanges(fd, ioasId) → { alignment: bigint, ranges: [{ start, last }] } (inclusive last).
Napi::Value IoasIovaRanges(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  int64_t ioas = 0;
  if (!ArgFd(info, 0, "ioctl(IOMMU_IOAS_IOVA_RANGES)", &fd) || !ArgInt(info, 1, "ioasId", 0, UINT32_MAX, &ioas)) {
    return env.Undefined();
  }
  std::vector<uapi::iommu_iova_range> ranges(8);
  uapi::iommu_ioas_iova_ranges cmd{};
  for (int attempt = 0; attempt < 3; ++attempt) {
    cmd = {};
    cmd.size = sizeof cmd;
    cmd.ioas_id = static_cast<uint32_t>(ioas);
    cmd.num_iovas = static_cast<uint32_t>(ranges.size());
    cmd.allowed_iovas = reinterpret_cast<uintptr_t>(ranges.data());
    if (Ioctl(fd, uapi::IOMMU_IOAS_IOVA_RANGES, &cmd) == 0) break;
    // EMSGSIZE: num_iovas now holds how many there are; retry with room for them.
    if (errno != EMSGSIZE || cmd.num_iovas > 4096 || attempt == 2) {
      return ThrowSys(env, errno, FdContext("ioctl(IOMMU_IOAS_IOVA_RANGES)", fd));
    }
    ranges.resize(cmd.num_iovas);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("alignment", Napi::BigInt::New(env, static_cast<uint64_t>(cmd.out_iova_alignment)));
  Napi::Array list = Napi::Array::New(env);
  for (uint32_t i = 0; i < cmd.num_iovas && i < ranges.size(); ++i) {
    Napi::Object r = Napi::Object::New(env);
    r.Set("start", Napi::BigInt::New(env, static_cast<uint64_t>(ranges[i].start)));
    r.Set("last", Napi::BigInt::New(env, static_cast<uint64_t>(ranges[i].last)));
    list.Set(i, r);
  }
  out.Set("ranges", list);
  return out;
}

// vfioDeviceBindIommufd(deviceFd, iommufd) → devId. Unbind happens when the device fd is closed.
Napi::Value BindIommufd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1, iommufd = -1;
  if (!ArgFd(info, 0, "ioctl(VFIO_DEVICE_BIND_IOMMUFD)", &fd) || !ArgFd(info, 1, "ioctl(VFIO_DEVICE_BIND_IOMMUFD)", &iommufd)) {
    return env.Undefined();
  }
  uapi::vfio_device_bind_iommufd cmd{};
  cmd.argsz = uapi::kBindIommufdMinsz;  // without the 2025 token field: accepted by every 6.6+ kernel
  cmd.iommufd = iommufd;
  if (Ioctl(fd, uapi::VFIO_DEVICE_BIND_IOMMUFD, &cmd) < 0) {
    SysContext ctx = FdContext("ioctl(VFIO_DEVICE_BIND_IOMMUFD)", fd);
    if (errno == EBUSY) ctx.hint = "the device is already bound (or opened through its group)";
    return ThrowSys(env, errno, ctx);
  }
  return Napi::Number::New(env, cmd.out_devid);
}

// vfioDeviceAttachIommufdPt(deviceFd, ptId) → the pt id actually attached (the kernel may substitute
// an auto-created HWPT for an IOAS id).
Napi::Value AttachPt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  int64_t pt = 0;
  if (!ArgFd(info, 0, "ioctl(VFIO_DEVICE_ATTACH_IOMMUFD_PT)", &fd) || !ArgInt(info, 1, "ptId", 0, UINT32_MAX, &pt)) {
    return env.Undefined();
  }
  uapi::vfio_device_attach_iommufd_pt cmd{};
  cmd.argsz = uapi::kAttachPtMinsz;
  cmd.pt_id = static_cast<uint32_t>(pt);
  if (Ioctl(fd, uapi::VFIO_DEVICE_ATTACH_IOMMUFD_PT, &cmd) < 0) {
    return ThrowSys(env, errno, FdContext("ioctl(VFIO_DEVICE_ATTACH_IOMMUFD_PT)", fd));
  }
  return Napi::Number::New(env, cmd.pt_id);
}

// vfioDeviceDetachIommufdPt(deviceFd).
Napi::Value DetachPt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  if (!ArgFd(info, 0, "ioctl(VFIO_DEVICE_DETACH_IOMMUFD_PT)", &fd)) return env.Undefined();
  uapi::vfio_device_detach_iommufd_pt cmd{};
  cmd.argsz = uapi::kDetachPtMinsz;
  if (Ioctl(fd, uapi::VFIO_DEVICE_DETACH_IOMMUFD_PT, &cmd) < 0) {
    return ThrowSys(env, errno, FdContext("ioctl(VFIO_DEVICE_DETACH_IOMMUFD_PT)", fd));
  }
  return env.Undefined();
}

}  // namespace

void InitIommufd(Napi::Env env, Napi::Object exports) {
  exports.Set("iommufdOpen", Napi::Function::New(env, IommufdOpen, "iommufdOpen"));
  exports.Set("iommufdIoasAlloc", Napi::Function::New(env, IoasAlloc, "iommufdIoasAlloc"));
  exports.Set("iommufdDestroy", Napi::Function::New(env, Destroy, "iommufdDestroy"));
  exports.Set("iommufdIoasMap", Napi::Function::New(env, IoasMap, "iommufdIoasMap"));
  exports.Set("iommufdIoasUnmap", Napi::Function::New(env, IoasUnmap, "iommufdIoasUnmap"));
  exports.Set("iommufdIoasIovaRanges", Napi::Function::New(env, IoasIovaRanges, "iommufdIoasIovaRanges"));
  exports.Set("vfioCdevOpen", Napi::Function::New(env, CdevOpen, "vfioCdevOpen"));
  exports.Set("vfioDeviceBindIommufd", Napi::Function::New(env, BindIommufd, "vfioDeviceBindIommufd"));
  exports.Set("vfioDeviceAttachIommufdPt", Napi::Function::New(env, AttachPt, "vfioDeviceAttachIommufdPt"));
  exports.Set("vfioDeviceDetachIommufdPt", Napi::Function::New(env, DetachPt, "vfioDeviceDetachIommufdPt"));
}

}  // namespace ddk
