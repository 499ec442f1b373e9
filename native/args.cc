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

bool ValueInt(Napi::Env env, Napi::Value v, const char* name, int64_t min, int64_t max, int64_t* out) {
  if (v.IsEmpty() || env.IsExceptionPending()) return false;
  if (!v.IsNumber()) {
    ThrowType(env, std::string(name) + " must be an integer number");
    return false;
  }
  const double d = v.As<Napi::Number>().DoubleValue();
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
  if (!info[i].IsNumber()) {
    ThrowType(env, std::string(syscall) + ": fd must be an integer number");
    return false;
  }
  const double d = info[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::trunc(d) != d) {
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
  if (v.IsEmpty() || env.IsExceptionPending()) return false;
  if (v.IsBigInt()) {
    bool lossless = false;
    const uint64_t value = v.As<Napi::BigInt>().Uint64Value(&lossless);
    // Uint64Value wraps negatives and truncates > 2^64; lossless says whether it did.
    if (!lossless) {
      ThrowRange(env, std::string(name) + " must be a bigint in [0, 2^64)");
      return false;
    }
    *out = value;
    return true;
  }
  if (v.IsNumber()) {
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || std::trunc(d) != d || d < 0 || d > kMaxSafeInteger) {
      ThrowRange(env, std::string(name) + " must be a non-negative safe integer or a bigint");
      return false;
    }
    *out = static_cast<uint64_t>(d);
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
  const Napi::Value v = info[i];
  if (v.IsUndefined()) {
    *out = fallback;
    return true;
  }
  if (!v.IsBoolean()) {
    ThrowType(info.Env(), std::string(name) + " must be a boolean");
    return false;
  }
  *out = v.As<Napi::Boolean>().Value();
  return true;
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

}  // namespace ddk
