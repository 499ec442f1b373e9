// VFIO_DEVICE_SET_IRQS (spec/pci-vfio.md C.3, C.4): DATA_NONE / DATA_BOOL / DATA_EVENTFD ×
// ACTION_TRIGGER / MASK / UNMASK over [start, start + count) of one IRQ index.
#include <cstring>
#include <vector>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "sys.h"
#include "uapi.h"

namespace ddk {

namespace {

constexpr int64_t kMaxIrqs = 2048;  // MSI-X table size limit (PCI 3.0 §6.8.2)

bool IsSingleBit(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

// vfioDeviceSetIrqs(fd, { index, flags, start = 0, count, fds?: number[], bools?: boolean[] }).
// flags = one VFIO_IRQ_SET_DATA_* | one VFIO_IRQ_SET_ACTION_*; fds (−1 = unassign) for DATA_EVENTFD,
// bools for DATA_BOOL, each of length count. count 0 with DATA_NONE|ACTION_TRIGGER disables the index.
Napi::Value DeviceSetIrqs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  if (!ArgFd(info, 0, "ioctl(VFIO_DEVICE_SET_IRQS)", &fd)) return env.Undefined();
  if (!info[1].IsObject()) return ThrowType(env, "irqSet must be an object { index, flags, start, count, fds?, bools? }");
  Napi::Object o = info[1].As<Napi::Object>();
  int64_t index = 0, flags = 0, start = 0, count = 0;
  Napi::Value indexValue, flagsValue, startValue, countValue;
  if (!GetProp(o, "index", &indexValue) || !ValueInt(env, indexValue, "index", 0, UINT32_MAX, &index) ||
      !GetProp(o, "flags", &flagsValue) || !ValueInt(env, flagsValue, "flags", 0, UINT32_MAX, &flags) ||
      !GetProp(o, "start", &startValue) ||
      (!startValue.IsUndefined() && !ValueInt(env, startValue, "start", 0, UINT32_MAX, &start)) ||
      !GetProp(o, "count", &countValue) || !ValueInt(env, countValue, "count", 0, kMaxIrqs, &count)) {
    return env.Undefined();
  }
  const uint32_t data = static_cast<uint32_t>(flags) & uapi::VFIO_IRQ_SET_DATA_TYPE_MASK;
  const uint32_t action = static_cast<uint32_t>(flags) & uapi::VFIO_IRQ_SET_ACTION_TYPE_MASK;
  if (!IsSingleBit(data) || !IsSingleBit(action) ||
      (static_cast<uint32_t>(flags) & ~(uapi::VFIO_IRQ_SET_DATA_TYPE_MASK | uapi::VFIO_IRQ_SET_ACTION_TYPE_MASK))) {
    return ThrowRange(env, "flags must be exactly one VFIO_IRQ_SET_DATA_* and one VFIO_IRQ_SET_ACTION_* bit");
  }
  size_t elem = 0;
  const char* key = nullptr;
  if (data == uapi::VFIO_IRQ_SET_DATA_BOOL) elem = 1, key = "bools";
  if (data == uapi::VFIO_IRQ_SET_DATA_EVENTFD) elem = 4, key = "fds";
  std::vector<uint8_t> buf(sizeof(uapi::vfio_irq_set) + elem * static_cast<size_t>(count), 0);
  if (key != nullptr) {
    Napi::Value arr;
    if (!GetProp(o, key, &arr)) return env.Undefined();
    if (!arr.IsArray()) return ThrowType(env, std::string(key) + " must be an array of length count");
    Napi::Array a = arr.As<Napi::Array>();
    const uint32_t length = a.Length();  // read once: `buf` is sized for count entries
    if (length != static_cast<uint32_t>(count)) {
      return ThrowRange(env, std::string(key) + " has " + std::to_string(length) + " entries, count is " +
                                 std::to_string(count));
    }
    const bool read = ForEachElement(env, a, length, key, [&](uint32_t i, Napi::Value v) {
      if (data == uapi::VFIO_IRQ_SET_DATA_BOOL) {
        if (!v.IsBoolean()) {
          ThrowType(env, "bools[" + std::to_string(i) + "] must be a boolean");
          return false;
        }
        buf[sizeof(uapi::vfio_irq_set) + i] = v.As<Napi::Boolean>().Value() ? 1 : 0;
        return true;
      }
      int64_t efd = 0;
      if (!ValueInt(env, v, "fds[i]", -1, INT32_MAX, &efd)) return false;
      const int32_t e = static_cast<int32_t>(efd);
      memcpy(buf.data() + sizeof(uapi::vfio_irq_set) + i * 4, &e, 4);
      return true;
    });
    if (!read) return env.Undefined();
  }
  uapi::vfio_irq_set head{};
  head.argsz = static_cast<uint32_t>(buf.size());
  head.flags = static_cast<uint32_t>(flags);
  head.index = static_cast<uint32_t>(index);
  head.start = static_cast<uint32_t>(start);
  head.count = static_cast<uint32_t>(count);
  memcpy(buf.data(), &head, sizeof head);
  if (Ioctl(fd, uapi::VFIO_DEVICE_SET_IRQS, buf.data()) < 0) {
    SysContext ctx;
    ctx.syscall = "ioctl(VFIO_DEVICE_SET_IRQS)";
    ctx.fd = fd;
    if (errno == ENOTTY && (action == uapi::VFIO_IRQ_SET_ACTION_MASK || action == uapi::VFIO_IRQ_SET_ACTION_UNMASK)) {
      ctx.hint = "vfio-pci cannot mask/unmask MSI or MSI-X vectors (C.4); mask them in the device's capability instead";
    } else if (errno == EINVAL) {
      ctx.hint = "index/start/count outside what GET_IRQ_INFO reports, or another IRQ index is already enabled";
    }
    return ThrowSys(env, errno, ctx);
  }
  return env.Undefined();
}

}  // namespace

void InitVfioIrqs(Napi::Env env, Napi::Object exports) {
  exports.Set("vfioDeviceSetIrqs", Napi::Function::New(env, DeviceSetIrqs, "vfioDeviceSetIrqs"));
}

}  // namespace ddk
