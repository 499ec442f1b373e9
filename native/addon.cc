// Module init: a context-aware Node-API module (NODE_API_MODULE), so every environment — the main
// thread and each worker_threads Worker — gets its own exports and its own loop for watchers.
#include <napi.h>

#include "exports.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ddk::InitClock(env, exports);
  ddk::InitEventfd(env, exports);
  ddk::InitWatcher(env, exports);
  ddk::InitVfioContainer(env, exports);
  ddk::InitVfioGroup(env, exports);
  ddk::InitVfioDevice(env, exports);
  ddk::InitVfioIrqs(env, exports);
  ddk::InitIommufd(env, exports);
  ddk::InitRegionIo(env, exports);
  ddk::InitDma(env, exports);
  ddk::InitIntrospect(env, exports);
  ddk::InitBlockingWait(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(vfio_ddk, Init)
