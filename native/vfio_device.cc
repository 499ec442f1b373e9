// VFIO device fd queries and resets (spec/pci-vfio.md C.3): DEVICE_GET_INFO, GET_REGION_INFO with its
// capability chain (sparse mmap areas, region type, MSIX_MAPPABLE), GET_IRQ_INFO, DEVICE_RESET,
// GET_PCI_HOT_RESET_INFO, PCI_HOT_RESET.
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

constexpr uint32_t kMaxInfoSize = 64 * 1024;  // bound on kernel-requested argsz
// A bus has at most 256 functions and the kernel takes at most one group per affected device
// (vfio_pci_ioctl_pci_hot_reset_groups refuses a count above the device count with EINVAL).
constexpr uint32_t kMaxHotResetGroups = 256;

SysContext FdContext(const char* syscall, int fd) {
  SysContext ctx;
  ctx.syscall = syscall;
  ctx.fd = fd;
  return ctx;
}

// vfioDeviceGetInfo(fd) → { flags, numRegions, numIrqs }.
Napi::Value DeviceGetInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  if (!ArgFd(info, 0, "ioctl(VFIO_DEVICE_GET_INFO)", &fd)) return env.Undefined();
  uapi::vfio_device_info dev{};
  dev.argsz = sizeof dev;
  if (Ioctl(fd, uapi::VFIO_DEVICE_GET_INFO, &dev) < 0) {
    return ThrowSys(env, errno, FdContext("ioctl(VFIO_DEVICE_GET_INFO)", fd));
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("flags", Napi::Number::New(env, dev.flags));
  out.Set("numRegions", Napi::Number::New(env, dev.num_regions));
  out.Set("numIrqs", Napi::Number::New(env, dev.num_irqs));
  return out;
}

void ParseRegionCaps(Napi::Env env, const std::vector<uint8_t>& buf, uint32_t first, Napi::Object out) {
  const size_t size = buf.size();
  Napi::Array sparse;
  for (uint32_t off = first, hops = 0; off != 0 && hops < 64; ++hops) {
    if (off < sizeof(uapi::vfio_region_info) || off + sizeof(uapi::vfio_info_cap_header) > size) break;
    uapi::vfio_info_cap_header cap;
    memcpy(&cap, buf.data() + off, sizeof cap);
    if (cap.id == uapi::VFIO_REGION_INFO_CAP_SPARSE_MMAP && off + sizeof(uapi::vfio_region_info_cap_sparse_mmap) <= size) {
      uapi::vfio_region_info_cap_sparse_mmap head;
      memcpy(&head, buf.data() + off, sizeof head);
      sparse = Napi::Array::New(env);
      size_t at = off + sizeof head;
      for (uint32_t i = 0; i < head.nr_areas && at + sizeof(uapi::vfio_region_sparse_mmap_area) <= size; ++i) {
        uapi::vfio_region_sparse_mmap_area area;
        memcpy(&area, buf.data() + at, sizeof area);
        at += sizeof area;
        Napi::Object a = Napi::Object::New(env);
        a.Set("offset", Napi::BigInt::New(env, static_cast<uint64_t>(area.offset)));
        a.Set("size", Napi::BigInt::New(env, static_cast<uint64_t>(area.size)));
        sparse.Set(i, a);
      }
      out.Set("sparseMmap", sparse);
    } else if (cap.id == uapi::VFIO_REGION_INFO_CAP_TYPE && off + sizeof(uapi::vfio_region_info_cap_type) <= size) {
      uapi::vfio_region_info_cap_type type;
      memcpy(&type, buf.data() + off, sizeof type);
      Napi::Object t = Napi::Object::New(env);
      t.Set("type", Napi::Number::New(env, type.type));
      t.Set("subtype", Napi::Number::New(env, type.subtype));
      out.Set("type", t);
    } else if (cap.id == uapi::VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) {
      out.Set("msixMappable", Napi::Boolean::New(env, true));
    }
    off = cap.next;
  }
}

// vfioDeviceGetRegionInfo(fd, index) → { index, flags, size, offset, sparseMmap?, type?, msixMappable }.
// size and offset are bigints; use `offset` for pread/pwrite/mmap (not index << 40: not ABI, C.3).
Napi::Value DeviceGetRegionInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  int64_t index = 0;
  if (!ArgFd(info, 0, "ioctl(VFIO_DEVICE_GET_REGION_INFO)", &fd) ||
      !ArgInt(info, 1, "index", 0, UINT32_MAX, &index)) {
    return env.Undefined();
  }
  std::vector<uint8_t> buf(sizeof(uapi::vfio_region_info), 0);
  uapi::vfio_region_info head{};
  head.argsz = sizeof head;
  head.index = static_cast<uint32_t>(index);
  memcpy(buf.data(), &head, sizeof head);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (Ioctl(fd, uapi::VFIO_DEVICE_GET_REGION_INFO, buf.data()) < 0) {
      SysContext ctx = FdContext("ioctl(VFIO_DEVICE_GET_REGION_INFO)", fd);
      if (errno == EINVAL) ctx.hint = "no region with index " + std::to_string(index) + " on this device";
      return ThrowSys(env, errno, ctx);
    }
    memcpy(&head, buf.data(), sizeof head);
    // Capabilities did not fit: the kernel reports the size it needs in argsz.
    if (head.argsz <= buf.size() || head.argsz > kMaxInfoSize || attempt == 1) break;
    const uint32_t argsz = head.argsz;
    buf.assign(argsz, 0);
    head.argsz = argsz;
    head.index = static_cast<uint32_t>(index);
    head.cap_offset = 0;
    memcpy(buf.data(), &head, sizeof head);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("index", Napi::Number::New(env, head.index));
  out.Set("flags", Napi::Number::New(env, head.flags));
  out.Set("size", Napi::BigInt::New(env, static_cast<uint64_t>(head.size)));
  out.Set("offset", Napi::BigInt::New(env, static_cast<uint64_t>(head.offset)));
  out.Set("msixMappable", Napi::Boolean::New(env, false));
  if ((head.flags & uapi::VFIO_REGION_INFO_FLAG_CAPS) && head.cap_offset != 0) {
    buf.resize(std::min<size_t>(buf.size(), head.argsz));
    ParseRegionCaps(env, buf, head.cap_offset, out);
  }
  return out;
}

// vfioDeviceGetIrqInfo(fd, index) → { index, flags, count }.
Napi::Value DeviceGetIrqInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  int64_t index = 0;
  if (!ArgFd(info, 0, "ioctl(VFIO_DEVICE_GET_IRQ_INFO)", &fd) || !ArgInt(info, 1, "index", 0, UINT32_MAX, &index)) {
    return env.Undefined();
  }
  uapi::vfio_irq_info irq{};
  irq.argsz = sizeof irq;
  irq.index = static_cast<uint32_t>(index);
  if (Ioctl(fd, uapi::VFIO_DEVICE_GET_IRQ_INFO, &irq) < 0) {
    SysContext ctx = FdContext("ioctl(VFIO_DEVICE_GET_IRQ_INFO)", fd);
    if (errno == EINVAL) ctx.hint = "no IRQ index " + std::to_string(index) + " on this device (ERR is PCIe-only, C.4)";
    return ThrowSys(env, errno, ctx);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("index", Napi::Number::New(env, irq.index));
  out.Set("flags", Napi::Number::New(env, irq.flags));
  out.Set("count", Napi::Number::New(env, irq.count));
  return out;
}

// vfioDeviceReset(fd).
Napi::Value DeviceReset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  if (!ArgFd(info, 0, "ioctl(VFIO_DEVICE_RESET)", &fd)) return env.Undefined();
  if (IoctlValue(fd, uapi::VFIO_DEVICE_RESET, 0) < 0) {
    SysContext ctx = FdContext("ioctl(VFIO_DEVICE_RESET)", fd);
    if (errno == EINVAL || errno == ENOTTY) ctx.hint = "the device has no function-level reset; use a hot reset of its bus";
    return ThrowSys(env, errno, ctx);
  }
  return env.Undefined();
}

// vfioDeviceGetPciHotResetInfo(fd) → { flags, devices: [{ groupId, segment, bus, devfn, bdf }] }.
// groupId is a devid when flags has VFIO_PCI_HOT_RESET_FLAG_DEV_ID (cdev flow).
Napi::Value DeviceGetPciHotResetInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  if (!ArgFd(info, 0, "ioctl(VFIO_DEVICE_GET_PCI_HOT_RESET_INFO)", &fd)) return env.Undefined();
  std::vector<uint8_t> buf(sizeof(uapi::vfio_pci_hot_reset_info), 0);
  uapi::vfio_pci_hot_reset_info head{};
  head.argsz = sizeof head;
  memcpy(buf.data(), &head, sizeof head);
  int rc = Ioctl(fd, uapi::VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, buf.data());
  if (rc < 0 && errno == ENOSPC) {  // too small: count now says how many devices there are
    memcpy(&head, buf.data(), sizeof head);
    const size_t need = sizeof head + static_cast<size_t>(head.count) * sizeof(uapi::vfio_pci_dependent_device);
    if (need > kMaxInfoSize) return ThrowRange(env, "hot reset info: implausible device count");
    buf.assign(need, 0);
    head.argsz = static_cast<uint32_t>(need);
    memcpy(buf.data(), &head, sizeof head);
    rc = Ioctl(fd, uapi::VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, buf.data());
  }
  if (rc < 0) {
    SysContext ctx = FdContext("ioctl(VFIO_DEVICE_GET_PCI_HOT_RESET_INFO)", fd);
    if (errno == ENODEV) ctx.hint = "the device cannot be reset with a bus/slot reset";
    return ThrowSys(env, errno, ctx);
  }
  memcpy(&head, buf.data(), sizeof head);
  Napi::Object out = Napi::Object::New(env);
  out.Set("flags", Napi::Number::New(env, head.flags));
  Napi::Array devices = Napi::Array::New(env);
  const size_t fit = (buf.size() - sizeof head) / sizeof(uapi::vfio_pci_dependent_device);
  for (uint32_t i = 0; i < head.count && i < fit; ++i) {
    uapi::vfio_pci_dependent_device d;
    memcpy(&d, buf.data() + sizeof head + i * sizeof d, sizeof d);
    char bdf[16];
    snprintf(bdf, sizeof bdf, "%04x:%02x:%02x.%x", d.segment, d.bus, d.devfn >> 3, d.devfn & 7);
    Napi::Object o = Napi::Object::New(env);
    o.Set("groupId", Napi::Number::New(env, d.group_id_or_devid));
    o.Set("segment", Napi::Number::New(env, d.segment));
    o.Set("bus", Napi::Number::New(env, d.bus));
    o.Set("devfn", Napi::Number::New(env, d.devfn));
    o.Set("bdf", Napi::String::New(env, bdf));
    devices.Set(i, o);
  }
  out.Set("devices", devices);
  return out;
}

// vfioDevicePciHotReset(fd, groupFds: number[]): a secondary bus / slot reset of every function that
// shares the device's reset (drivers/vfio/pci/vfio_pci_core.c vfio_pci_ioctl_pci_hot_reset).
// groupFds: the type1 flow's proof of ownership, one open VFIO group fd per affected group; [] on the
// cdev flow (Linux >= 6.6: count 0 = every affected device is bound to this device's iommufd). The
// array's length is read once and every element must be a non-negative int32 fd.
Napi::Value DevicePciHotReset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  if (!ArgFd(info, 0, "ioctl(VFIO_DEVICE_PCI_HOT_RESET)", &fd)) return env.Undefined();
  if (!info[1].IsArray()) return ThrowType(env, "groupFds must be an array of VFIO group fds ([] on the cdev/iommufd path)");
  Napi::Array a = info[1].As<Napi::Array>();
  const uint32_t count = a.Length();  // read once: `buf` is sized for it
  if (count > kMaxHotResetGroups) {
    return ThrowRange(env, "groupFds has " + std::to_string(count) + " entries; at most " +
                               std::to_string(kMaxHotResetGroups) + " (one per function of a bus)");
  }
  std::vector<uint8_t> buf(sizeof(uapi::vfio_pci_hot_reset) + sizeof(int32_t) * count, 0);
  const bool read = ForEachElement(env, a, count, "groupFds", [&](uint32_t i, Napi::Value v) {
    int64_t groupFd = 0;
    const std::string name = "groupFds[" + std::to_string(i) + "]";
    if (!ValueInt(env, v, name.c_str(), 0, INT32_MAX, &groupFd)) return false;
    const int32_t g = static_cast<int32_t>(groupFd);
    memcpy(buf.data() + sizeof(uapi::vfio_pci_hot_reset) + i * sizeof g, &g, sizeof g);
    return true;
  });
  if (!read) return env.Undefined();
  uapi::vfio_pci_hot_reset head{};
  head.argsz = static_cast<uint32_t>(buf.size());
  head.flags = 0;
  head.count = count;
  memcpy(buf.data(), &head, sizeof head);
  if (Ioctl(fd, uapi::VFIO_DEVICE_PCI_HOT_RESET, buf.data()) < 0) {
    SysContext ctx = FdContext("ioctl(VFIO_DEVICE_PCI_HOT_RESET)", fd);
    if (errno == ENODEV) {
      ctx.hint = "the device's slot and bus cannot be reset (a device on the root bus, or a bus with NO_BUS_RESET)";
    } else if (errno == EINVAL) {
      ctx.hint = count == 0 ? "every affected device must be opened through this device's iommufd (cdev flow), "
                              "or this is a group-opened device that needs its group fds"
                            : "give one open VFIO group fd per affected group (VFIO_DEVICE_GET_PCI_HOT_RESET_INFO); "
                              "a cdev-opened device takes an empty array";
    } else if (errno == EBADF) {
      ctx.hint = "an entry of groupFds is not an open fd";
    } else if (errno == EBUSY || errno == EAGAIN) {
      ctx.hint = "another reset or a user of an affected device holds it; retry";
    }
    return ThrowSys(env, errno, ctx);
  }
  return env.Undefined();
}

}  // namespace

void InitVfioDevice(Napi::Env env, Napi::Object exports) {
  exports.Set("vfioDeviceGetInfo", Napi::Function::New(env, DeviceGetInfo, "vfioDeviceGetInfo"));
  exports.Set("vfioDeviceGetRegionInfo", Napi::Function::New(env, DeviceGetRegionInfo, "vfioDeviceGetRegionInfo"));
  exports.Set("vfioDeviceGetIrqInfo", Napi::Function::New(env, DeviceGetIrqInfo, "vfioDeviceGetIrqInfo"));
  exports.Set("vfioDeviceReset", Napi::Function::New(env, DeviceReset, "vfioDeviceReset"));
  exports.Set("vfioDeviceGetPciHotResetInfo",
              Napi::Function::New(env, DeviceGetPciHotResetInfo, "vfioDeviceGetPciHotResetInfo"));
  exports.Set("vfioDevicePciHotReset", Napi::Function::New(env, DevicePciHotReset, "vfioDevicePciHotReset"));
}

}  // namespace ddk
