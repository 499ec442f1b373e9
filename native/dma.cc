// DMA buffers: page-aligned anonymous memory (2 MiB huge pages on request), mlock'd so the pages stay
// resident while the IOMMU maps them, handed to JS as an external ArrayBuffer plus its vaddr for
// VFIO_IOMMU_MAP_DMA / IOMMU_IOAS_MAP.
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "mapping.h"
#include "sys.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif

namespace ddk {

namespace {

constexpr uint64_t kHugePage = 2 * 1024 * 1024;

// dmaAlloc(size, { hugepage = false, transparentHugepages }) → { buffer: ArrayBuffer, vaddr: bigint, size }.
// size is rounded up to whole pages (4 KiB, or 2 MiB hugetlb pages with hugepage); the memory is
// zero-filled and locked. transparentHugepages (4 KiB pages only): false = madvise(MADV_NOHUGEPAGE),
// never a transparent huge page; true = MADV_HUGEPAGE (2 MiB-aligned ranges may be backed by one);
// absent = the system's THP mode decides (/sys/kernel/mm/transparent_hugepage/enabled).
Napi::Value DmaAlloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t requested = 0;
  Napi::Object options;
  bool hugepage = false;
  Napi::Value thpValue;
  if (!ArgInt(info, 0, "size", 1, INT64_MAX, &requested) || !ArgOptObject(info, 1, "options", &options) ||
      !OptBool(options, "hugepage", false, &hugepage) || !GetProp(options, "transparentHugepages", &thpValue)) {
    return env.Undefined();
  }
  if (!thpValue.IsUndefined() && !thpValue.IsBoolean()) return ThrowType(env, "transparentHugepages must be a boolean");
  const int advice = thpValue.IsUndefined() || hugepage ? 0 : thpValue.As<Napi::Boolean>().Value() ? MADV_HUGEPAGE : MADV_NOHUGEPAGE;
  const uint64_t page = hugepage ? kHugePage : static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  // Checked before mmap/mlock: nothing is allocated (or locked) for a buffer Node could not hand out
  // (mapping.h kMaxMappingBytes). The limit is a multiple of every page size, so rounding stays inside.
  if (static_cast<uint64_t>(requested) > kMaxMappingBytes) {
    return ThrowRange(env, "DMA buffer of " + std::to_string(requested) + " bytes" + (hugepage ? " (in 2 MiB pages)" : "") +
                               " is over the limit of " + std::to_string(kMaxMappingBytes) +
                               " bytes (MAX_MAPPING_SIZE, Node's largest ArrayBuffer); allocate several buffers");
  }
  const size_t size = static_cast<size_t>((static_cast<uint64_t>(requested) + page - 1) / page * page);
  const int flags = MAP_PRIVATE | MAP_ANONYMOUS | (hugepage ? MAP_HUGETLB | MAP_HUGE_2MB : 0);
  void* addr = mmap(nullptr, size, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (addr == MAP_FAILED) {
    SysContext ctx;
    ctx.syscall = "mmap";
    if (hugepage && (errno == ENOMEM || errno == EINVAL)) {
      ctx.hint = "no 2 MiB huge pages available; reserve some with `echo N > /proc/sys/vm/nr_hugepages` (as root)";
    }
    return ThrowSys(env, errno, ctx);
  }
  // Before the pages are touched (mlock faults them in): the advice decides what backs them.
  if (advice != 0 && madvise(addr, size, advice) != 0) {
    const int err = errno;
    munmap(addr, size);
    SysContext ctx;
    ctx.syscall = "madvise";
    if (err == EINVAL) ctx.hint = "this kernel has no transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE); leave transparentHugepages unset";
    return ThrowSys(env, err, ctx);
  }
  if (mlock(addr, size) != 0) {
    const int err = errno;
    munmap(addr, size);
    SysContext ctx;
    ctx.syscall = "mlock";
    ctx.hint = MemlockHint();
    return ThrowSys(env, err, ctx);
  }
  Napi::Value buffer = WrapMapping(env, addr, size, MappingKind::kDma);
  if (buffer.IsEmpty()) return env.Undefined();
  Napi::Object out = Napi::Object::New(env);
  out.Set("buffer", buffer);
  out.Set("vaddr", Napi::BigInt::New(env, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(addr))));
  out.Set("size", Napi::Number::New(env, static_cast<double>(size)));
  out.Set("hugepage", Napi::Boolean::New(env, hugepage));
  return out;
}

// dmaFree(buffer): detaches the ArrayBuffer (views become zero-length), munlocks and unmaps it.
// Unmap it from the IOMMU first.
Napi::Value DmaFree(const Napi::CallbackInfo& info) {
  ReleaseMapping(info.Env(), info[0], MappingKind::kDma, "dmaFree");
  return info.Env().Undefined();
}

}  // namespace

void InitDma(Napi::Env env, Napi::Object exports) {
  exports.Set("dmaAlloc", Napi::Function::New(env, DmaAlloc, "dmaAlloc"));
  exports.Set("dmaFree", Napi::Function::New(env, DmaFree, "dmaFree"));
  exports.Set("MAX_MAPPING_SIZE", Napi::Number::New(env, static_cast<double>(kMaxMappingBytes)));
}

}  // namespace ddk
