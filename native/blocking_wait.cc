// eventfdWaitAny: a blocking wait on several eventfds at once, for a driver's "interrupt thread" (a
// worker thread that blocks the way Zircon's IRQ threads block in zx_interrupt_wait). It is the only
// export that blocks the calling thread; it takes no lock and touches no state another thread uses,
// so it is safe on the main thread and in any Worker.
//
//   eventfdWaitAny(fds: Int32Array, count, deadlineNs: bigint, wakeFd: number, out: BigUint64Array)
//     → index of the fd that fired (out[0] = the count read, out[1] = CLOCK_BOOTTIME ns,
//       out[2] = CLOCK_MONOTONIC ns, both taken right after the read), -1 when CLOCK_MONOTONIC
//       passed deadlineNs (INT64_MAX: never), -2 when wakeFd (≥ 0) fired (its count is consumed).
//
// The fds are read only when ready (poll first), so a blocking eventfd never stalls the thread past
// the deadline. The JS side passes its own typed arrays: nothing is allocated per wake here.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <vector>

#include "args.h"
#include "clock.h"
#include "errors.h"
#include "exports.h"

namespace ddk {

namespace {

constexpr size_t kMaxFds = 4096;  // more than any device's vectors (MSI-X: 2048) plus a wake fd

// Milliseconds poll(2) may sleep before the deadline; -1 for none. ppoll would take ns, but poll's
// ms granularity rounded up is what keeps a wait from returning before its deadline.
int TimeoutMs(int64_t deadline) {
  if (deadline == INT64_MAX) return -1;
  const int64_t now = static_cast<int64_t>(ClockNs(CLOCK_MONOTONIC));
  if (deadline <= now) return 0;
  const int64_t ms = (deadline - now + 999999) / 1000000;
  return ms > INT32_MAX ? INT32_MAX : static_cast<int>(ms);
}

Napi::Value EventfdWaitAny(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    Napi::TypeError::New(env, "eventfdWaitAny: fds must be an Int32Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Int32Array fds = info[0].As<Napi::Int32Array>();
  int64_t count = 0;
  if (!ArgInt(info, 1, "count", 0, static_cast<int64_t>(fds.ElementLength()), &count)) return env.Undefined();
  if (count > static_cast<int64_t>(kMaxFds)) {
    Napi::RangeError::New(env, "eventfdWaitAny: at most 4096 fds").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!info[2].IsBigInt()) {
    Napi::TypeError::New(env, "eventfdWaitAny: deadlineNs must be a bigint (CLOCK_MONOTONIC ns; 2^63-1 = never)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  bool lossless = true;
  int64_t deadline = info[2].As<Napi::BigInt>().Int64Value(&lossless);
  if (!lossless) deadline = info[2].As<Napi::BigInt>().Int64Value(&lossless) < 0 ? INT64_MIN : INT64_MAX;
  int64_t wake = -1;
  if (!ArgInt(info, 3, "wakeFd", -1, INT32_MAX, &wake)) return env.Undefined();
  if (!info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_biguint64_array ||
      info[4].As<Napi::TypedArray>().ElementLength() < 3) {
    Napi::TypeError::New(env, "eventfdWaitAny: out must be a BigUint64Array of at least 3 elements").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::BigUint64Array out = info[4].As<Napi::BigUint64Array>();

  std::vector<pollfd> pfds;
  pfds.reserve(static_cast<size_t>(count) + 1);
  for (int64_t i = 0; i < count; i++) {
    const int fd = fds[static_cast<size_t>(i)];
    if (fd < 0) {
      SysContext ctx;
      ctx.syscall = "poll";
      ctx.fd = fd;
      return ThrowSys(env, EBADF, ctx);
    }
    pfds.push_back(pollfd{fd, POLLIN, 0});
  }
  if (wake >= 0) pfds.push_back(pollfd{static_cast<int>(wake), POLLIN, 0});

  for (;;) {
    const int ready = poll(pfds.data(), pfds.size(), TimeoutMs(deadline));
    if (ready < 0) {
      if (errno == EINTR) continue;
      SysContext ctx;
      ctx.syscall = "poll";
      return ThrowSys(env, errno, ctx);
    }
    if (ready == 0) {
      if (TimeoutMs(deadline) == 0) return Napi::Number::New(env, -1);
      continue;  // woke early (rounding): wait the rest
    }
    for (size_t i = 0; i < pfds.size(); i++) {
      const short revents = pfds[i].revents;
      if (revents == 0) continue;
      if (revents & POLLNVAL) {
        SysContext ctx;
        ctx.syscall = "poll";
        ctx.fd = pfds[i].fd;
        return ThrowSys(env, EBADF, ctx);
      }
      uint64_t value = 0;
      const ssize_t n = read(pfds[i].fd, &value, sizeof value);
      if (n != static_cast<ssize_t>(sizeof value)) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;  // another reader took it
        SysContext ctx;
        ctx.syscall = "read";
        ctx.fd = pfds[i].fd;
        return ThrowSys(env, n < 0 ? errno : EIO, ctx);
      }
      if (wake >= 0 && i == pfds.size() - 1) return Napi::Number::New(env, -2);
      out[0] = value;
      out[2] = ClockNs(CLOCK_MONOTONIC);
      out[1] = ClockNs(CLOCK_BOOTTIME);  // after: BOOTTIME ≥ MONOTONIC holds for the pair
      return Napi::Number::New(env, static_cast<double>(i));
    }
  }
}

}  // namespace

void InitBlockingWait(Napi::Env env, Napi::Object exports) {
  exports.Set("eventfdWaitAny", Napi::Function::New(env, EventfdWaitAny, "eventfdWaitAny"));
}

}  // namespace ddk
