// One Init function per concern; addon.cc calls them all on the exports object.
#pragma once

#include <napi.h>

namespace ddk {

void InitClock(Napi::Env env, Napi::Object exports);
void InitEventfd(Napi::Env env, Napi::Object exports);
void InitWatcher(Napi::Env env, Napi::Object exports);
void InitVfioContainer(Napi::Env env, Napi::Object exports);
void InitVfioGroup(Napi::Env env, Napi::Object exports);
void InitVfioDevice(Napi::Env env, Napi::Object exports);
void InitVfioIrqs(Napi::Env env, Napi::Object exports);
void InitIommufd(Napi::Env env, Napi::Object exports);
void InitRegionIo(Napi::Env env, Napi::Object exports);
void InitDma(Napi::Env env, Napi::Object exports);
void InitIntrospect(Napi::Env env, Napi::Object exports);
void InitBlockingWait(Napi::Env env, Napi::Object exports);

}  // namespace ddk
