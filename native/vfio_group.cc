// VFIO groups (/dev/vfio/N): open by number, GET_STATUS, SET/UNSET_CONTAINER, GET_DEVICE_FD by BDF
// (spec/pci-vfio.md C.3, C.5). The BDF is validated strictly before any filesystem access.
#include <cstring>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "sys.h"
#include "uapi.h"

namespace ddk {

namespace {

constexpr const char* kDefaultGroupDir = "/dev/vfio";
constexpr int64_t kMaxGroup = 0x7fffffff;

SysContext FdContext(const char* syscall, int fd) {
  SysContext ctx;
  ctx.syscall = syscall;
  ctx.fd = fd;
  return ctx;
}

// /^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/ — the canonical lowercase sysfs spelling.
bool IsValidBdf(const std::string& s) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  if (s.size() != 12) return false;
  for (int i : {0, 1, 2, 3, 5, 6, 9}) {
    if (!hex(s[i])) return false;
  }
  return s[4] == ':' && s[7] == ':' && (s[8] == '0' || s[8] == '1') && s[10] == '.' && s[11] >= '0' && s[11] <= '7';
}

// vfioOpenGroup(group, dir = '/dev/vfio') → fd.
Napi::Value OpenGroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t group = 0;
  std::string dir;
  if (!ArgInt(info, 0, "group", 0, kMaxGroup, &group) || !ArgOptString(info, 1, "dir", kDefaultGroupDir, &dir)) {
    return env.Undefined();
  }
  const std::string path = dir + "/" + std::to_string(group);
  const int fd = OpenRdwr(path);
  if (fd < 0) {
    SysContext ctx;
    ctx.syscall = "open";
    ctx.path = path;
    if (errno == ENOENT) ctx.hint = "no such VFIO group: bind the device to vfio-pci and check its iommu_group link in sysfs";
    if (errno == EBUSY) ctx.hint = "the group is already open (by this or another process, e.g. QEMU); a group can be opened once";
    if (errno == EACCES || errno == EPERM) ctx.hint = "permission denied: run as root or chown " + path + " to your user";
    return ThrowSys(env, errno, ctx);
  }
  return Napi::Number::New(env, fd);
}

// vfioGroupGetStatus(fd) → { flags, viable, containerSet }.
Napi::Value GroupGetStatus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  if (!ArgFd(info, 0, "ioctl(VFIO_GROUP_GET_STATUS)", &fd)) return env.Undefined();
  uapi::vfio_group_status status{};
  status.argsz = sizeof status;
  if (Ioctl(fd, uapi::VFIO_GROUP_GET_STATUS, &status) < 0) {
    return ThrowSys(env, errno, FdContext("ioctl(VFIO_GROUP_GET_STATUS)", fd));
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("flags", Napi::Number::New(env, status.flags));
  out.Set("viable", Napi::Boolean::New(env, status.flags & uapi::VFIO_GROUP_FLAGS_VIABLE));
  out.Set("containerSet", Napi::Boolean::New(env, status.flags & uapi::VFIO_GROUP_FLAGS_CONTAINER_SET));
  return out;
}

// vfioGroupSetContainer(groupFd, containerFd). The argument is a pointer to the container fd (C.3).
Napi::Value GroupSetContainer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int group = -1, container = -1;
  if (!ArgFd(info, 0, "ioctl(VFIO_GROUP_SET_CONTAINER)", &group) ||
      !ArgFd(info, 1, "ioctl(VFIO_GROUP_SET_CONTAINER)", &container)) {
    return env.Undefined();
  }
  if (Ioctl(group, uapi::VFIO_GROUP_SET_CONTAINER, &container) < 0) {
    SysContext ctx = FdContext("ioctl(VFIO_GROUP_SET_CONTAINER)", group);
    if (errno == EINVAL) ctx.hint = "the group is already in a container, or the container's IOMMU type does not fit";
    if (errno == EPERM) ctx.hint = "the group is not viable: every device in it must be bound to vfio-pci (or no driver)";
    return ThrowSys(env, errno, ctx);
  }
  return env.Undefined();
}

// vfioGroupUnsetContainer(groupFd).
Napi::Value GroupUnsetContainer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  if (!ArgFd(info, 0, "ioctl(VFIO_GROUP_UNSET_CONTAINER)", &fd)) return env.Undefined();
  if (IoctlValue(fd, uapi::VFIO_GROUP_UNSET_CONTAINER, 0) < 0) {
    return ThrowSys(env, errno, FdContext("ioctl(VFIO_GROUP_UNSET_CONTAINER)", fd));
  }
  return env.Undefined();
}

// vfioGroupGetDeviceFd(groupFd, bdf) → device fd. Throws code 'ERR_BAD_BDF' for a malformed BDF.
Napi::Value GroupGetDeviceFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string bdf;
  if (!ArgString(info, 1, "bdf", &bdf)) return env.Undefined();
  if (!IsValidBdf(bdf)) {
    return ThrowCode(env, "ERR_BAD_BDF",
                     "bad PCI address '" + bdf + "': expected dddd:bb:dd.f in lowercase hex, e.g. 0000:00:04.0");
  }
  int fd = -1;
  if (!ArgFd(info, 0, "ioctl(VFIO_GROUP_GET_DEVICE_FD)", &fd)) return env.Undefined();
  char name[16];
  memcpy(name, bdf.c_str(), bdf.size() + 1);
  const int device = Ioctl(fd, uapi::VFIO_GROUP_GET_DEVICE_FD, name);
  if (device < 0) {
    SysContext ctx = FdContext("ioctl(VFIO_GROUP_GET_DEVICE_FD)", fd);
    ctx.bdf = bdf;
    if (errno == EINVAL || errno == ENODEV) ctx.hint = "the device is not in this group or not bound to vfio-pci";
    if (errno == EBUSY) ctx.hint = "the device is already open elsewhere";
    if (errno == EPERM) ctx.hint = "set the group's container and IOMMU type first (SET_CONTAINER, SET_IOMMU)";
    return ThrowSys(env, errno, ctx);
  }
  return Napi::Number::New(env, device);
}

}  // namespace

void InitVfioGroup(Napi::Env env, Napi::Object exports) {
  exports.Set("vfioOpenGroup", Napi::Function::New(env, OpenGroup, "vfioOpenGroup"));
  exports.Set("vfioGroupGetStatus", Napi::Function::New(env, GroupGetStatus, "vfioGroupGetStatus"));
  exports.Set("vfioGroupSetContainer", Napi::Function::New(env, GroupSetContainer, "vfioGroupSetContainer"));
  exports.Set("vfioGroupUnsetContainer", Napi::Function::New(env, GroupUnsetContainer, "vfioGroupUnsetContainer"));
  exports.Set("vfioGroupGetDeviceFd", Napi::Function::New(env, GroupGetDeviceFd, "vfioGroupGetDeviceFd"));
}

}  // namespace ddk
