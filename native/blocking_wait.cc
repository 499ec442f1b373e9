// eventfdWaitAny: a blocking wait on several eventfds at once, for a driver's "interrupt thread" (a
// worker thread that blocks the way Zircon's IRQ threads block in zx_interrupt_wait). It is the only
// export that blocks the calling thread; it takes no lock and touches no state another thread uses,
// so it is safe on the main thread and in any Worker.
//
//   eventfdWaitAny(fds: Int32Array, count, deadlineNs: bigint, wakeFd: number, record: Int32Array)
//     → index of the fd that fired (the wake record — wake_record.h — holds the CLOCK_BOOTTIME and
//       CLOCK_MONOTONIC ns taken right after the read and the count read), -1 when CLOCK_MONOTONIC
//       passed deadlineNs (INT64_MAX: never), -2 when wakeFd (≥ 0) fired (its count is consumed).
//
// No read can stall the thread past the deadline, whether an fd is blocking or not: a small set
// (≤ kReadFirstFds) is read before anything is polled with preadv2(RWF_NOWAIT) — an interrupt already
// pending, the usual case for a thread that handles, acks and waits again while its device keeps
// interrupting, then costs one syscall instead of poll(2) + read(2) (C's blocking read is one syscall
// too); when none is pending, the failed reads happen before the thread sleeps, so the interrupt-to-
// wake latency is that of the poll alone. eventfd_read (fs/eventfd.c) returns EAGAIN for IOCB_NOWAIT;
// a kernel whose eventfds lack FMODE_NOWAIT answers EOPNOTSUPP, and the thread then only polls.
// Every other read happens after poll said the fd is ready. The JS side passes its own
// typed arrays and the poll set lives on the stack (or, past kStackFds, in a per-thread vector that
// only grows): nothing is allocated per wake.
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <vector>

#include "args.h"
#include "clock.h"
#include "errors.h"
#include "exports.h"
#include "wake_record.h"

namespace ddk {

namespace {

constexpr size_t kMaxFds = 4096;  // more than any device's vectors (MSI-X: 2048) plus a wake fd
constexpr size_t kStackFds = 64;  // an IRQ thread's vectors: the poll set fits on the stack
constexpr int64_t kReadFirstFds = 4;  // beyond a few vectors, a failed read each costs more than one poll

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
  int32_t* fds = nullptr;
  size_t fds_length = 0;
  if (!ArgInt32Array(info, 0, 0, "eventfdWaitAny", "fds must be an Int32Array", &fds, &fds_length)) return env.Undefined();
  int64_t count = 0;
  if (!ArgInt(info, 1, "count", 0, static_cast<int64_t>(fds_length), &count)) return env.Undefined();
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
  if (!lossless) {  // beyond int64: clamp by sign (far past → poll once, far future → never)
    int sign = 0;
    uint64_t words[2] = {0, 0};
    size_t word_count = 2;  // the sign is all we need; the words are the low ones of a longer value
    napi_get_value_bigint_words(env, info[2], &sign, &word_count, words);
    deadline = sign != 0 ? INT64_MIN : INT64_MAX;
  }
  int64_t wake = -1;
  if (!ArgInt(info, 3, "wakeFd", -1, INT32_MAX, &wake)) return env.Undefined();
  uint8_t* record = ArgWakeRecord(info, 4, "eventfdWaitAny");
  if (record == nullptr) return env.Undefined();

  pollfd stack_fds[kStackFds + 1];
  thread_local std::vector<pollfd> heap_fds;  // grows to the largest set this thread waited on, once
  const size_t nfds = static_cast<size_t>(count) + (wake >= 0 ? 1 : 0);
  pollfd* pfds = stack_fds;
  if (nfds > kStackFds + 1) {
    if (heap_fds.size() < nfds) heap_fds.resize(nfds);
    pfds = heap_fds.data();
  }
  for (int64_t i = 0; i < count; i++) {
    const int fd = fds[i];
    if (fd < 0) {
      SysContext ctx;
      ctx.syscall = "poll";
      ctx.fd = fd;
      return ThrowSys(env, EBADF, ctx);
    }
    pfds[i] = pollfd{fd, POLLIN, 0};
  }
  if (wake >= 0) pfds[count] = pollfd{static_cast<int>(wake), POLLIN, 0};

  thread_local bool read_first = true;  // off for good once the kernel refuses RWF_NOWAIT here
  if (read_first && count <= kReadFirstFds) {
    for (int64_t i = 0; i < count; i++) {
      uint64_t value = 0;
      iovec iov{&value, sizeof value};
      const ssize_t n = preadv2(fds[i], &iov, 1, -1, RWF_NOWAIT);
      if (n == static_cast<ssize_t>(sizeof value)) {
        WakeStampNow(record);
        WakeSetCount(record, value);
        return Napi::Number::New(env, static_cast<double>(i));
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;  // nothing pending: poll below
      if (n < 0 && (errno == EOPNOTSUPP || errno == EINVAL || errno == ENOSYS)) {
        read_first = false;  // no RWF_NOWAIT on this kernel's eventfds (or not an eventfd): poll first
        break;
      }
      SysContext ctx;
      ctx.syscall = "preadv2";
      ctx.fd = fds[i];
      return ThrowSys(env, n < 0 ? errno : EIO, ctx);
    }
  }

  for (;;) {
    const int ready = poll(pfds, nfds, TimeoutMs(deadline));
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
    for (size_t i = 0; i < nfds; i++) {
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
      if (wake >= 0 && i == nfds - 1) return Napi::Number::New(env, -2);
      WakeStampNow(record);
      WakeSetCount(record, value);
      return Napi::Number::New(env, static_cast<double>(i));
    }
  }
}

}  // namespace

void InitBlockingWait(Napi::Env env, Napi::Object exports) {
  exports.Set("eventfdWaitAny", Napi::Function::New(env, EventfdWaitAny, "eventfdWaitAny"));
}

}  // namespace ddk
