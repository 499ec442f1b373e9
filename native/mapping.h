// Memory handed to JS as an external ArrayBuffer (region mmaps, DMA buffers). Explicit release
// detaches the ArrayBuffer first (napi_detach_arraybuffer), so later JS access sees a zero-length
// buffer, never a dangling pointer; the ArrayBuffer's finalizer unmaps whatever was not released.
// The registry is process-wide (worker threads share it) and keyed by address.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace ddk {

enum class MappingKind { kRegion, kDma };

/** Largest mapping handed to JS: 4 GiB. napi_create_external_arraybuffer goes through
 *  node::Buffer::New, which refuses a length above buffer.constants.MAX_LENGTH (2^32 on Node 20,
 *  src/node_buffer.cc) — after calling the finalizer itself. Checked before anything is mapped, on
 *  every Node version, so the limit is the same everywhere. Exported to JS as MAX_MAPPING_SIZE. */
constexpr uint64_t kMaxMappingBytes = uint64_t{1} << 32;

/** Wraps [addr, addr+length) — already mmap'd (and mlock'd for kDma), length <= kMaxMappingBytes —
 *  in an external ArrayBuffer. On failure the memory is unmapped exactly once (by Node's call of the
 *  finalizer, or here when Node did not call it) and a JS exception is pending (empty value). */
Napi::Value WrapMapping(Napi::Env env, void* addr, size_t length, MappingKind kind);

/** Detaches `buffer` and unmaps its memory. Throws (and returns false) when `buffer` is not a live
 *  mapping of `kind` created by WrapMapping. */
bool ReleaseMapping(Napi::Env env, Napi::Value buffer, MappingKind kind, const char* what);

}  // namespace ddk
