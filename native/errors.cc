#include "errors.h"

#include <cerrno>
#include <cstring>

namespace ddk {

namespace {

struct ErrnoEntry { int value; const char* name; };

// The errnos VFIO, iommufd, mmap, mlock and eventfd report. A table rather than strerrorname_np
// so prebuilds do not depend on glibc >= 2.32.
constexpr ErrnoEntry kErrnos[] = {
    {EPERM, "EPERM"},     {ENOENT, "ENOENT"},   {ESRCH, "ESRCH"},         {EINTR, "EINTR"},
    {EIO, "EIO"},         {ENXIO, "ENXIO"},     {E2BIG, "E2BIG"},         {EBADF, "EBADF"},
    {EAGAIN, "EAGAIN"},   {ENOMEM, "ENOMEM"},   {EACCES, "EACCES"},       {EFAULT, "EFAULT"},
    {EBUSY, "EBUSY"},     {EEXIST, "EEXIST"},   {ENODEV, "ENODEV"},       {ENOTDIR, "ENOTDIR"},
    {EISDIR, "EISDIR"},   {EINVAL, "EINVAL"},   {ENFILE, "ENFILE"},       {EMFILE, "EMFILE"},
    {ENOTTY, "ENOTTY"},   {EFBIG, "EFBIG"},     {ENOSPC, "ENOSPC"},       {ESPIPE, "ESPIPE"},
    {EROFS, "EROFS"},     {ERANGE, "ERANGE"},   {EDEADLK, "EDEADLK"},     {ENOSYS, "ENOSYS"},
    {EOVERFLOW, "EOVERFLOW"}, {EMSGSIZE, "EMSGSIZE"}, {EOPNOTSUPP, "EOPNOTSUPP"},
    {EADDRINUSE, "EADDRINUSE"}, {ETIMEDOUT, "ETIMEDOUT"},
};

const char* GenericHint(int err, const SysContext& ctx) {
  switch (err) {
    case ENOENT:
      return "it does not exist: is the vfio-pci / iommufd module loaded and the device bound to vfio-pci?";
    case EACCES:
    case EPERM:
      return "permission denied: run as root or give your user access (e.g. chown the /dev/vfio node)";
    case EBUSY:
      return "in use by another process or driver; close the other user first";
    case EBADF:
      return ctx.fd >= 0 ? "the fd is not open (closed already?)" : "the fd is not valid";
    case ENOTTY:
      return "the fd does not support this ioctl (wrong kind of fd or kernel too old)";
    default:
      return "";
  }
}

void SetProp(Napi::Object obj, const char* key, napi_value value) {
  napi_set_named_property(obj.Env(), obj, key, value);
}

}  // namespace

const char* ErrnoName(int err) {
  for (const auto& e : kErrnos) {
    if (e.value == err && e.value != 0) return e.name;
  }
  static thread_local char buf[16];
  snprintf(buf, sizeof buf, "E%d", err);
  return buf;
}

Napi::Value ThrowSys(Napi::Env env, int err, const SysContext& ctx) {
  if (env.IsExceptionPending()) return env.Undefined();  // keep the first error (see errors.h)
  std::string msg = std::string(ctx.syscall) + " failed: " + strerror(err) + " (" + ErrnoName(err) + ")";
  if (!ctx.bdf.empty()) msg += " for " + ctx.bdf;
  if (!ctx.path.empty()) msg += " on " + ctx.path;
  if (ctx.fd >= 0 && ctx.path.empty()) msg += " on fd " + std::to_string(ctx.fd);
  const std::string hint = ctx.hint.empty() ? GenericHint(err, ctx) : ctx.hint;
  if (!hint.empty()) msg += "; " + hint;
  Napi::Error error = Napi::Error::New(env, msg);
  Napi::Object obj = error.Value();
  SetProp(obj, "code", Napi::String::New(env, ErrnoName(err)));
  SetProp(obj, "errno", Napi::Number::New(env, err));
  SetProp(obj, "syscall", Napi::String::New(env, ctx.syscall));
  if (!ctx.path.empty()) SetProp(obj, "path", Napi::String::New(env, ctx.path));
  if (!ctx.bdf.empty()) SetProp(obj, "bdf", Napi::String::New(env, ctx.bdf));
  if (ctx.fd >= 0) SetProp(obj, "fd", Napi::Number::New(env, ctx.fd));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowType(Napi::Env env, const std::string& message) {
  if (env.IsExceptionPending()) return env.Undefined();
  Napi::TypeError error = Napi::TypeError::New(env, message);
  SetProp(error.Value(), "code", Napi::String::New(env, "ERR_INVALID_ARG_TYPE"));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowRange(Napi::Env env, const std::string& message) {
  if (env.IsExceptionPending()) return env.Undefined();
  Napi::RangeError error = Napi::RangeError::New(env, message);
  SetProp(error.Value(), "code", Napi::String::New(env, "ERR_OUT_OF_RANGE"));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowCode(Napi::Env env, const char* code, const std::string& message) {
  if (env.IsExceptionPending()) return env.Undefined();
  Napi::Error error = Napi::Error::New(env, message);
  SetProp(error.Value(), "code", Napi::String::New(env, code));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace ddk
