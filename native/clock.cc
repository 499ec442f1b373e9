#include "clock.h"

#include "args.h"
#include "exports.h"
#include "wake_record.h"

namespace ddk {

uint8_t* ArgWakeRecord(const Napi::CallbackInfo& info, size_t i, const char* what) {
  int32_t* words = nullptr;
  size_t length = 0;
  if (!ArgInt32Array(info, i, kWakeRecordInts, what, "the wake record must be an Int32Array of at least 6 elements", &words, &length)) {
    return nullptr;
  }
  return reinterpret_cast<uint8_t*>(words);
}

namespace {

Napi::Value ClockBootNs(const Napi::CallbackInfo& info) {
  return Napi::BigInt::New(info.Env(), ClockNs(CLOCK_BOOTTIME));
}

Napi::Value ClockMonoNs(const Napi::CallbackInfo& info) {
  return Napi::BigInt::New(info.Env(), ClockNs(CLOCK_MONOTONIC));
}

// clockStamps(record: Int32Array): both clocks into the record's boot/mono slots, allocating nothing
// (the emulated devices' interrupts take their timestamps this way when the addon is loaded).
Napi::Value ClockStamps(const Napi::CallbackInfo& info) {
  uint8_t* record = ArgWakeRecord(info, 0, "clockStamps");
  if (record != nullptr) WakeStampNow(record);
  return info.Env().Undefined();
}

}  // namespace

void InitClock(Napi::Env env, Napi::Object exports) {
  exports.Set("clockBootNs", Napi::Function::New(env, ClockBootNs, "clockBootNs"));
  exports.Set("clockMonoNs", Napi::Function::New(env, ClockMonoNs, "clockMonoNs"));
  exports.Set("clockStamps", Napi::Function::New(env, ClockStamps, "clockStamps"));
}

}  // namespace ddk
