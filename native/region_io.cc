// Region access on a VFIO device fd: pread/pwrite at the exact access width (1/2/4/8 — a BAR register
// must see one access of its width, never a split or merged one) and mmap of a range as an external
// ArrayBuffer. Every access is bounds-checked against the region size the caller got from
// GET_REGION_INFO; the file offset is region offset + off (spec/pci-vfio.md C.3).
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "mappable_fd.h"
#include "mapping.h"

namespace ddk {

namespace {

struct RegionAccess {
  int fd = -1;
  uint64_t regionOffset = 0, regionSize = 0, off = 0, width = 0;
};

// (fd, regionOffset, regionSize, off, width): validated, in range, aligned.
bool ParseAccess(const Napi::CallbackInfo& info, const char* syscall, RegionAccess* a) {
  Napi::Env env = info.Env();
  if (!ArgFd(info, 0, syscall, &a->fd) || !ArgU64(info, 1, "regionOffset", &a->regionOffset) ||
      !ArgU64(info, 2, "regionSize", &a->regionSize) || !ArgU64(info, 3, "offset", &a->off) ||
      !ArgU64(info, 4, "width", &a->width)) {
    return false;
  }
  if (a->width != 1 && a->width != 2 && a->width != 4 && a->width != 8) {
    ThrowRange(env, "width must be 1, 2, 4 or 8");
    return false;
  }
  if (a->off > a->regionSize || a->width > a->regionSize - a->off) {
    ThrowRange(env, std::to_string(a->width) + "-byte access at offset " + std::to_string(a->off) +
                        " is outside the region [0, " + std::to_string(a->regionSize) + ")");
    return false;
  }
  if (a->off % a->width != 0) {
    ThrowRange(env, std::to_string(a->width) + "-byte access at offset " + std::to_string(a->off) + " is not aligned");
    return false;
  }
  if (a->regionOffset + a->off < a->regionOffset || a->regionOffset + a->off > static_cast<uint64_t>(INT64_MAX)) {
    ThrowRange(env, "regionOffset + offset overflows a file offset");
    return false;
  }
  return true;
}

Napi::Value ThrowShortIo(Napi::Env env, const char* syscall, const RegionAccess& a, ssize_t n) {
  SysContext ctx;
  ctx.syscall = syscall;
  ctx.fd = a.fd;
  if (n >= 0) ctx.hint = "short access (" + std::to_string(n) + " of " + std::to_string(a.width) + " bytes): the region does not support this width here";
  return ThrowSys(env, n < 0 ? errno : EIO, ctx);
}

// regionRead(fd, regionOffset, regionSize, offset, width) → number (width ≤ 4) or bigint (width 8).
Napi::Value RegionRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RegionAccess a;
  if (!ParseAccess(info, "pread", &a)) return env.Undefined();
  uint8_t bytes[8] = {};
  ssize_t n;
  do n = pread(a.fd, bytes, a.width, static_cast<off_t>(a.regionOffset + a.off)); while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(a.width)) return ThrowShortIo(env, "pread", a, n);
  // VFIO regions are little-endian like PCI; so is every host this targets (x86-64, arm64).
  switch (a.width) {
    case 1: return Napi::Number::New(env, bytes[0]);
    case 2: { uint16_t v; memcpy(&v, bytes, 2); return Napi::Number::New(env, v); }
    case 4: { uint32_t v; memcpy(&v, bytes, 4); return Napi::Number::New(env, v); }
    default: { uint64_t v; memcpy(&v, bytes, 8); return Napi::BigInt::New(env, v); }
  }
}

// regionWrite(fd, regionOffset, regionSize, offset, width, value): value a number < 2^(8·width), or
// for width 8 a bigint (or safe-integer number).
Napi::Value RegionWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RegionAccess a;
  if (!ParseAccess(info, "pwrite", &a)) return env.Undefined();
  uint64_t value = 0;
  if (!ArgU64(info, 5, "value", &value)) return env.Undefined();
  if (a.width < 8 && value >> (8 * a.width) != 0) {
    return ThrowRange(env, "value does not fit in " + std::to_string(a.width) + " byte(s)");
  }
  uint8_t bytes[8];
  memcpy(bytes, &value, 8);  // little-endian host: the low `width` bytes come first
  ssize_t n;
  do n = pwrite(a.fd, bytes, a.width, static_cast<off_t>(a.regionOffset + a.off)); while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(a.width)) return ThrowShortIo(env, "pwrite", a, n);
  return env.Undefined();
}

// mmapRegion(fd, regionOffset, regionSize, offset, size) → ArrayBuffer over [offset, offset+size) of
// the region (MAP_SHARED, read/write). offset and size must be page multiples, inside the region, size
// at most MAX_MAPPING_SIZE; fd a VFIO device fd or a regular file covering the range (mappable_fd.h).
Napi::Value MmapRegion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  uint64_t regionOffset = 0, regionSize = 0, off = 0, size = 0;
  if (!ArgFd(info, 0, "mmap", &fd) || !ArgU64(info, 1, "regionOffset", &regionOffset) ||
      !ArgU64(info, 2, "regionSize", &regionSize) || !ArgU64(info, 3, "offset", &off) || !ArgU64(info, 4, "size", &size)) {
    return env.Undefined();
  }
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  if (size == 0 || off > regionSize || size > regionSize - off) {
    return ThrowRange(env, "mmap range [" + std::to_string(off) + ", +" + std::to_string(size) +
                               ") is empty or outside the region [0, " + std::to_string(regionSize) + ")");
  }
  if (off % page || size % page || regionOffset % page) {
    return ThrowRange(env, "mmap offset and size must be multiples of the page size (" + std::to_string(page) + ")");
  }
  if (regionOffset + off < regionOffset || regionOffset + off > static_cast<uint64_t>(INT64_MAX)) {
    return ThrowRange(env, "mmap range overflows");
  }
  if (size > kMaxMappingBytes) {
    return ThrowRange(env, "mmap of " + std::to_string(size) + " bytes is over the limit of " +
                               std::to_string(kMaxMappingBytes) +
                               " bytes (MAX_MAPPING_SIZE, Node's largest ArrayBuffer); map the region in parts");
  }
  if (!CheckMappableFd(env, fd, regionOffset + off, size)) return env.Undefined();
  void* addr = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, static_cast<off_t>(regionOffset + off));
  if (addr == MAP_FAILED) {
    SysContext ctx;
    ctx.syscall = "mmap";
    ctx.fd = fd;
    if (errno == EINVAL) ctx.hint = "the region (or this part of it) is not mmap-able: check VFIO_REGION_INFO_FLAG_MMAP and the sparse mmap areas";
    return ThrowSys(env, errno, ctx);
  }
  return WrapMapping(env, addr, size, MappingKind::kRegion);
}

// munmapRegion(arrayBuffer): detaches it (views become zero-length) and unmaps.
Napi::Value MunmapRegion(const Napi::CallbackInfo& info) {
  ReleaseMapping(info.Env(), info[0], MappingKind::kRegion, "munmapRegion");
  return info.Env().Undefined();
}

}  // namespace

void InitRegionIo(Napi::Env env, Napi::Object exports) {
  exports.Set("regionRead", Napi::Function::New(env, RegionRead, "regionRead"));
  exports.Set("regionWrite", Napi::Function::New(env, RegionWrite, "regionWrite"));
  exports.Set("mmapRegion", Napi::Function::New(env, MmapRegion, "mmapRegion"));
  exports.Set("munmapRegion", Napi::Function::New(env, MunmapRegion, "munmapRegion"));
}

}  // namespace ddk
