// Argument validation shared by every export. Each helper returns false after throwing a TypeError
// / RangeError (or EBADF for an impossible fd), so a caller writes
//   if (!ArgFd(info, 0, "fd", &fd)) return env.Undefined();
#pragma once

#include <napi.h>
#include <cstdint>
#include <functional>
#include <string>

namespace ddk {

/** A non-negative int32 fd; a negative one throws the EBADF error `syscall` would have given. */
bool ArgFd(const Napi::CallbackInfo& info, size_t i, const char* syscall, int* out);
/** obj[key] into *out; false (the getter's or Proxy trap's exception pending) when reading it threw.
 *  Every option read goes through this: an empty Value would look like `undefined`. */
bool GetProp(Napi::Object obj, const char* key, Napi::Value* out);
/** An integer number in [min, max]. The Value* helpers return false at once on an empty value. */
bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max, int64_t* out);
bool ValueInt(Napi::Env env, Napi::Value v, const char* name, int64_t min, int64_t max, int64_t* out);
/** A non-negative safe-integer number or a bigint in [0, 2^64). */
bool ValueU64(Napi::Env env, Napi::Value v, const char* name, uint64_t* out);
bool ArgU64(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t* out);
bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* name, std::string* out);
/** An optional string argument (undefined → `fallback`). */
bool ArgOptString(const Napi::CallbackInfo& info, size_t i, const char* name, const char* fallback, std::string* out);
/** An optional object argument (undefined → empty object). */
bool ArgOptObject(const Napi::CallbackInfo& info, size_t i, const char* name, Napi::Object* out);
/** info[i] as a boolean; undefined (or absent) → `fallback`. */
bool ArgOptBool(const Napi::CallbackInfo& info, size_t i, const char* name, bool fallback, bool* out);
/** obj[key] as a boolean; undefined → `fallback`. */
bool OptBool(Napi::Object obj, const char* key, bool fallback, bool* out);
/** Visits a[0..length) — `length` read once by the caller, the buffer sized for it — and refuses an
 *  array that an element getter grows or shrinks (RangeError naming `name`) or a getter that throws
 *  (its exception pending); `visit` returns false after throwing. False when anything failed. */
bool ForEachElement(Napi::Env env, Napi::Array a, uint32_t length, const char* name,
                    const std::function<bool(uint32_t, Napi::Value)>& visit);
/** info[i] as an Int32Array of at least `min_length` elements: its data and length from one
 *  napi_get_typedarray_info (node-addon-api's TypedArrayType(), ElementLength() and Data() would each
 *  make that call again), or false after throwing the TypeError "<what>: <expected>" (composed only
 *  then: the interrupt paths call this per wake). */
bool ArgInt32Array(const Napi::CallbackInfo& info, size_t i, size_t min_length, const char* what, const char* expected,
                   int32_t** data, size_t* length);

}  // namespace ddk
