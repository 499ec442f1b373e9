#include "mapping.h"

#include <sys/mman.h>

#include <mutex>
#include <unordered_map>

#include "errors.h"

namespace ddk {

namespace {

struct Mapping {
  void* addr;
  size_t length;
  MappingKind kind;
  bool released;
  // Set while napi_create_external_arraybuffer runs: Node may call the finalizer from inside it on
  // failure (node::Buffer::New, length > kMaxLength), and WrapMapping must then not free it again.
  bool wrapping;
  bool finalized;
};

std::mutex& RegistryMutex() {
  static std::mutex mutex;
  return mutex;
}

std::unordered_map<void*, Mapping*>& Registry() {
  static auto* registry = new std::unordered_map<void*, Mapping*>();  // never destroyed: finalizers may run at exit
  return *registry;
}

void Unmap(Mapping* m) {
  if (m->kind == MappingKind::kDma) munlock(m->addr, m->length);
  munmap(m->addr, m->length);
  m->released = true;
}

// Last resort when JS dropped the buffer without releasing it.
void Finalize(napi_env /*env*/, void* /*data*/, void* hint) {
  auto* m = static_cast<Mapping*>(hint);
  {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    if (!m->released) {
      auto it = Registry().find(m->addr);
      if (it != Registry().end() && it->second == m) Registry().erase(it);
      Unmap(m);
    }
  }
  if (m->wrapping) {
    m->finalized = true;  // WrapMapping owns the record until it returns
    return;
  }
  delete m;
}

}  // namespace

Napi::Value WrapMapping(Napi::Env env, void* addr, size_t length, MappingKind kind) {
  auto* m = new Mapping{addr, length, kind, false, true, false};
  {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    Registry()[addr] = m;
  }
  napi_value buffer = nullptr;
  const napi_status status = napi_create_external_arraybuffer(env, addr, length, Finalize, m, &buffer);
  m->wrapping = false;
  if (status != napi_ok) {
    if (!m->finalized) {  // Node did not run the finalizer: unmap here, once
      std::lock_guard<std::mutex> lock(RegistryMutex());
      auto it = Registry().find(addr);
      if (it != Registry().end() && it->second == m) Registry().erase(it);
      if (!m->released) Unmap(m);
    }
    delete m;
    ThrowCode(env, "ERR_NAPI", "could not create an external ArrayBuffer of " + std::to_string(length) + " bytes");
    return Napi::Value();
  }
  return Napi::Value(env, buffer);
}

bool ReleaseMapping(Napi::Env env, Napi::Value buffer, MappingKind kind, const char* what) {
  if (!buffer.IsArrayBuffer()) {
    ThrowType(env, std::string(what) + ": expected the ArrayBuffer it returned");
    return false;
  }
  Napi::ArrayBuffer ab = buffer.As<Napi::ArrayBuffer>();
  void* addr = ab.Data();
  Mapping* m = nullptr;
  {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    auto it = Registry().find(addr);
    if (addr != nullptr && it != Registry().end() && it->second->kind == kind && it->second->length == ab.ByteLength()) {
      m = it->second;
    }
  }
  if (m == nullptr) {
    ThrowCode(env, "ERR_NOT_MAPPED", std::string(what) + ": this ArrayBuffer is not a live mapping (freed already?)");
    return false;
  }
  // Detach before unmapping: every view of it becomes zero-length instead of dangling. Outside the
  // lock, in case a Node version runs the finalizer synchronously on detach.
  if (napi_detach_arraybuffer(env, ab) != napi_ok) {
    ThrowCode(env, "ERR_NOT_DETACHABLE", std::string(what) + ": the ArrayBuffer could not be detached");
    return false;
  }
  std::lock_guard<std::mutex> lock(RegistryMutex());
  auto it = Registry().find(addr);
  if (it != Registry().end() && it->second == m) {
    Registry().erase(it);
    Unmap(m);  // the finalizer will only delete the record
  }
  return true;
}

}  // namespace ddk
