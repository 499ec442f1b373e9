#include "clock.h"

#include "exports.h"

namespace ddk {

namespace {

Napi::Value ClockBootNs(const Napi::CallbackInfo& info) {
  return Napi::BigInt::New(info.Env(), ClockNs(CLOCK_BOOTTIME));
}

Napi::Value ClockMonoNs(const Napi::CallbackInfo& info) {
  return Napi::BigInt::New(info.Env(), ClockNs(CLOCK_MONOTONIC));
}

}  // namespace

void InitClock(Napi::Env env, Napi::Object exports) {
  exports.Set("clockBootNs", Napi::Function::New(env, ClockBootNs, "clockBootNs"));
  exports.Set("clockMonoNs", Napi::Function::New(env, ClockMonoNs, "clockMonoNs"));
}

}  // namespace ddk
