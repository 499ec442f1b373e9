// Memory handed to JS as an external ArrayBuffer (region mmaps, DMA buffers). Explicit release
// detaches the ArrayBuffer first (napi_detach_arraybuffer), so later JS access sees a zero-length
// buffer, never a dangling pointer; the ArrayBuffer's finalizer unmaps whatever was not released.
// The registry is process-wide (worker threads share it) and keyed by address.
#pragma once

#include <napi.h>

#include <cstddef>

namespace ddk {

enum class MappingKind { kRegion, kDma };

/** Wraps [addr, addr+length) — already mmap'd (and mlock'd for kDma) — in an external ArrayBuffer.
 *  On failure the memory is unmapped and a JS exception is pending (returns an empty value). */
Napi::Value WrapMapping(Napi::Env env, void* addr, size_t length, MappingKind kind);

/** Detaches `buffer` and unmaps its memory. Throws (and returns false) when `buffer` is not a live
 *  mapping of `kind` created by WrapMapping. */
bool ReleaseMapping(Napi::Env env, Napi::Value buffer, MappingKind kind, const char* what);

}  // namespace ddk
