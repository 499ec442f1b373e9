// Errors thrown to JS. No C++ exception ever crosses into Node (NAPI_DISABLE_CPP_EXCEPTIONS): every
// failure is turned into a pending JS exception here and the caller returns `undefined` at once.
// System errors carry `code` ('EBUSY'…), `errno` (the positive Linux value), `syscall`, and the
// `path` / `bdf` / `fd` involved; the message says what to do next (shared STYLE.md "Errors").
// Every Throw* is a no-op while an exception is already pending (a user getter threw): napi_throw
// would fail and node-addon-api turns that into a fatal abort (Error::ThrowAsJavaScriptException).
#pragma once

#include <napi.h>
#include <string>

namespace ddk {

struct SysContext {
  const char* syscall = "";
  std::string path;  // file involved, if any
  std::string bdf;   // PCI device involved, if any
  int fd = -1;       // fd involved, if any (>= 0)
  std::string hint;  // what to do next; a generic hint per errno is used when empty
};

/** "ENOENT" for ENOENT, … ; "E<n>" for values outside the table. */
const char* ErrnoName(int err);

/** Throws an Error describing the failed system call; returns `undefined` for the caller to return. */
Napi::Value ThrowSys(Napi::Env env, int err, const SysContext& ctx);
/** Throws a TypeError with code 'ERR_INVALID_ARG_TYPE'. */
Napi::Value ThrowType(Napi::Env env, const std::string& message);
/** Throws a RangeError with code 'ERR_OUT_OF_RANGE'. */
Napi::Value ThrowRange(Napi::Env env, const std::string& message);
/** Throws an Error with a project code such as 'ERR_BAD_BDF'. */
Napi::Value ThrowCode(Napi::Env env, const char* code, const std::string& message);

}  // namespace ddk
