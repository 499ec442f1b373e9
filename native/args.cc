#include "args.h"

#include <cerrno>
#include <cmath>
#include <cstdio>

#include "errors.h"

namespace ddk {

namespace {
constexpr double kMaxSafeInteger = 9007199254740991.0;  // Number.MAX_SAFE_INTEGER

std::string FormatNumber(double d) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}
}  // namespace

bool GetProp(Napi::Object obj, const char* key, Napi::Value* out) {
  *out = obj.Get(key);
  return !out->IsEmpty() && !obj.Env().IsExceptionPending();
}

// The helpers below read a value with one napi call (napi_get_value_double / _bigint_uint64 /
// _bool report a wrong type through their status, without throwing) instead of a typeof first: on the
// hot calls (DMA map/unmap, the blocking wait) every napi call costs, ten times over under emulation.

/** A JS number's value; false (nothing thrown) when `v` is not a number. */
bool NumberOf(napi_env env, napi_value v, double* out) { return napi_get_value_double(env, v, out) == napi_ok; }

bool ValueInt(Napi::Env env, Napi::Value v, const char* name, int64_t min, int64_t max, int64_t* out) {
  if (v.IsEmpty()) return false;  // a getter threw (GetProp): its exception is pending
  double d = 0;
  if (!NumberOf(env, v, &d)) {
    ThrowType(env, std::string(name) + " must be an integer number");
    return false;
  }
  if (!std::isfinite(d) || std::trunc(d) != d) {
    ThrowRange(env, std::string(name) + " must be an integer, got " + FormatNumber(d));
    return false;
  }
  if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
    ThrowRange(env, std::string(name) + " must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                        "], got " + FormatNumber(d));
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max, int64_t* out) {
  return ValueInt(info.Env(), info[i], name, min, max, out);
}

bool ArgFd(const Napi::CallbackInfo& info, size_t i, const char* syscall, int* out) {
  Napi::Env env = info.Env();
  double d = 0;
  if (!NumberOf(env, info[i], &d) || !std::isfinite(d) || std::trunc(d) != d) {
    ThrowType(env, std::string(syscall) + ": fd must be an integer number");
    return false;
  }
  if (d < 0 || d > 2147483647.0) {
    SysContext ctx;
    ctx.syscall = syscall;
    ThrowSys(env, EBADF, ctx);
    return false;
  }
  *out = static_cast<int>(d);
  return true;
}

bool ValueU64(Napi::Env env, Napi::Value v, const char* name, uint64_t* out) {
  if (v.IsEmpty()) return false;  // a getter threw (GetProp): its exception is pending
  double d = 0;
  if (NumberOf(env, v, &d)) {
    if (!std::isfinite(d) || std::trunc(d) != d || d < 0 || d > kMaxSafeInteger) {
      ThrowRange(env, std::string(name) + " must be a non-negative safe integer or a bigint");
      return false;
    }
    *out = static_cast<uint64_t>(d);
    return true;
  }
  bool lossless = false;
  uint64_t value = 0;
  if (napi_get_value_bigint_uint64(env, v, &value, &lossless) == napi_ok) {
    // It wraps negatives and truncates > 2^64; lossless says whether it did.
    if (!lossless) {
      ThrowRange(env, std::string(name) + " must be a bigint in [0, 2^64)");
      return false;
    }
    *out = value;
    return true;
  }
  ThrowType(env, std::string(name) + " must be a number or a bigint");
  return false;
}

bool ArgU64(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t* out) {
  return ValueU64(info.Env(), info[i], name, out);
}

bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* name, std::string* out) {
  if (!info[i].IsString()) {
    ThrowType(info.Env(), std::string(name) + " must be a string");
    return false;
  }
  *out = info[i].As<Napi::String>().Utf8Value();
  if (out->find('\0') != std::string::npos) {
    ThrowType(info.Env(), std::string(name) + " must not contain NUL characters");
    return false;
  }
  return true;
}

bool ArgOptString(const Napi::CallbackInfo& info, size_t i, const char* name, const char* fallback, std::string* out) {
  if (info[i].IsUndefined()) {
    *out = fallback;
    return true;
  }
  return ArgString(info, i, name, out);
}

bool ArgOptObject(const Napi::CallbackInfo& info, size_t i, const char* name, Napi::Object* out) {
  if (info[i].IsUndefined()) {
    *out = Napi::Object::New(info.Env());
    return true;
  }
  if (!info[i].IsObject()) {
    ThrowType(info.Env(), std::string(name) + " must be an object");
    return false;
  }
  *out = info[i].As<Napi::Object>();
  return true;
}

bool ArgOptBool(const Napi::CallbackInfo& info, size_t i, const char* name, bool fallback, bool* out) {
  napi_env env = info.Env();
  const Napi::Value v = info[i];
  if (napi_get_value_bool(env, v, out) == napi_ok) return true;
  if (v.IsUndefined()) {
    *out = fallback;
    return true;
  }
  ThrowType(info.Env(), std::string(name) + " must be a boolean");
  return false;
}

bool OptBool(Napi::Object obj, const char* key, bool fallback, bool* out) {
  Napi::Value v;
  if (!GetProp(obj, key, &v)) return false;
  if (v.IsUndefined()) {
    *out = fallback;
    return true;
  }
  if (!v.IsBoolean()) {
    ThrowType(obj.Env(), std::string(key) + " must be a boolean");
    return false;
  }
  *out = v.As<Napi::Boolean>().Value();
  return true;
}

bool ArgInt32Array(const Napi::CallbackInfo& info, size_t i, size_t min_length, const char* what, const char* expected,
                   int32_t** data, size_t* length) {
  napi_env env = info.Env();
  bool is_typed = false;
  napi_typedarray_type type = napi_int8_array;
  void* raw = nullptr;
  if (info.Length() <= i || napi_is_typedarray(env, info[i], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, info[i], &type, length, &raw, nullptr, nullptr) != napi_ok || type != napi_int32_array ||
      *length < min_length) {
    ThrowType(info.Env(), std::string(what) + ": " + expected);
    return false;
  }
  *data = static_cast<int32_t*>(raw);
  return true;
}

bool ForEachElement(Napi::Env env, Napi::Array a, uint32_t length, const char* name,
                    const std::function<bool(uint32_t, Napi::Value)>& visit) {
  for (uint32_t i = 0; i < length; ++i) {
    Napi::Value v = a.Get(i);
    if (v.IsEmpty() || env.IsExceptionPending()) return false;  // an element getter threw
    // A getter may push or truncate: a changed array is refused, never read past `length` (a truncated
    // one would otherwise send its holes as 0).
    if (a.Length() != length) {
      ThrowRange(env, std::string(name) + " changed length while being read (" + std::to_string(length) + " → " +
                          std::to_string(a.Length()) + "); pass a plain array");
      return false;
    }
    if (!visit(i, v)) return false;
  }
  return true;
}

}  // namespace ddk
