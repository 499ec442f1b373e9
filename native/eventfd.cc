// eventfd(2): create, read (never blocks the event loop), write, and close(2) for any fd we hand out.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "args.h"
#include "errors.h"
#include "exports.h"

namespace ddk {

namespace {

constexpr uint64_t kMaxSafeCount = 9007199254740991ull;  // Number.MAX_SAFE_INTEGER

// eventfd(initial, { nonblock?, semaphore? }) → fd. Always EFD_CLOEXEC.
Napi::Value EventfdCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t initial = 0;
  if (!info[0].IsUndefined() && !ArgInt(info, 0, "initial", 0, UINT32_MAX, &initial)) return env.Undefined();
  Napi::Object options;
  bool nonblock = false, semaphore = false;
  if (!ArgOptObject(info, 1, "options", &options) || !OptBool(options, "nonblock", false, &nonblock) ||
      !OptBool(options, "semaphore", false, &semaphore)) {
    return env.Undefined();
  }
  const int flags = EFD_CLOEXEC | (nonblock ? EFD_NONBLOCK : 0) | (semaphore ? EFD_SEMAPHORE : 0);
  const int fd = eventfd(static_cast<unsigned>(initial), flags);
  if (fd < 0) {
    SysContext ctx;
    ctx.syscall = "eventfd";
    if (errno == EMFILE || errno == ENFILE) ctx.hint = "too many open files: close unused fds or raise `ulimit -n`";
    return ThrowSys(env, errno, ctx);
  }
  return Napi::Number::New(env, fd);
}

// eventfdRead(fd, { bigint = false }) → the counter value read (1 for a semaphore eventfd), or 0 when
// nothing is pending. Polls first, so a blocking eventfd never blocks the event loop. The counter is
// a u64 (eventfd(2)): with bigint it comes back exact; as a number, a value above 2^53 - 1 would be
// rounded, so it is a RangeError instead, carrying the exact (already consumed) count in `value`.
Napi::Value EventfdRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  Napi::Object options;
  bool bigint = false;
  if (!ArgFd(info, 0, "read", &fd) || !ArgOptObject(info, 1, "options", &options) ||
      !OptBool(options, "bigint", false, &bigint)) {
    return env.Undefined();
  }
  auto result = [&](uint64_t count) -> Napi::Value {
    if (bigint) return Napi::BigInt::New(env, count);
    if (count > kMaxSafeCount) {
      Napi::RangeError error = Napi::RangeError::New(
          env, "eventfd counter " + std::to_string(count) +
                   " is above Number.MAX_SAFE_INTEGER; it is in error.value, and eventfdRead(fd, { bigint: true }) reads it exactly");
      Napi::Object obj = error.Value();
      obj.Set("code", Napi::String::New(env, "ERR_OUT_OF_RANGE"));
      obj.Set("value", Napi::BigInt::New(env, count));
      error.ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return Napi::Number::New(env, static_cast<double>(count));
  };
  pollfd pfd{fd, POLLIN, 0};
  int ready;
  do ready = poll(&pfd, 1, 0); while (ready < 0 && errno == EINTR);
  auto fail = [&](const char* syscall, int err) {
    SysContext ctx;
    ctx.syscall = syscall;
    ctx.fd = fd;
    return ThrowSys(env, err, ctx);
  };
  if (ready < 0) return fail("poll", errno);
  if (pfd.revents & POLLNVAL) return fail("read", EBADF);
  if (ready == 0) return result(0);
  uint64_t count = 0;
  ssize_t n;
  do n = read(fd, &count, sizeof count); while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return result(0);  // another reader won the race
  if (n < 0) return fail("read", errno);
  if (n != sizeof count) return fail("read", EINVAL);  // not an eventfd
  return result(count);
}

// eventfdWrite(fd, value) adds value (1 … 2^64-2, number or bigint) to the counter.
Napi::Value EventfdWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  uint64_t value = 1;
  if (!ArgFd(info, 0, "write", &fd)) return env.Undefined();
  if (!info[1].IsUndefined() && !ArgU64(info, 1, "value", &value)) return env.Undefined();
  if (value == 0 || value == UINT64_MAX) return ThrowRange(env, "eventfd value must be in [1, 2^64-2]");
  ssize_t n;
  do n = write(fd, &value, sizeof value); while (n < 0 && errno == EINTR);
  if (n != sizeof value) {
    SysContext ctx;
    ctx.syscall = "write";
    ctx.fd = fd;
    if (n < 0 && errno == EAGAIN) ctx.hint = "the eventfd counter would overflow; read it first";
    return ThrowSys(env, n < 0 ? errno : EINVAL, ctx);
  }
  return env.Undefined();
}

// close(fd) for eventfds and every VFIO/iommufd fd this addon returns.
Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  if (!ArgFd(info, 0, "close", &fd)) return env.Undefined();
  // Linux releases the fd even when close reports EINTR; retrying could close a reused fd.
  if (close(fd) < 0 && errno != EINTR) {
    SysContext ctx;
    ctx.syscall = "close";
    ctx.fd = fd;
    return ThrowSys(env, errno, ctx);
  }
  return env.Undefined();
}

}  // namespace

void InitEventfd(Napi::Env env, Napi::Object exports) {
  exports.Set("eventfdCreate", Napi::Function::New(env, EventfdCreate, "eventfdCreate"));
  exports.Set("eventfdRead", Napi::Function::New(env, EventfdRead, "eventfdRead"));
  exports.Set("eventfdWrite", Napi::Function::New(env, EventfdWrite, "eventfdWrite"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
}

}  // namespace ddk
