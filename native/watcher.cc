// EventfdWatcher: one uv_poll per eventfd on the *calling environment's* loop (so it works in worker
// threads). When the fd is readable the counter is read here, in native code, the two clocks are taken
// at that read, and the JS callback is called once — coalesced fires arrive as one call with count > 1,
// as an eventfd coalesces them (spec/pci-vfio.md C.4, last bullet). Two forms:
//   new EventfdWatcher(fd, callback(count, bootNs, monoNs))   timestamps as bigints (two per call);
//   new EventfdWatcher(fd, callback(count), record)            the interrupt path: count, boot and mono
//       are written into the wake record (wake_record.h, an Int32Array the caller owns) and the callback
//       gets the count alone — nothing is allocated per interrupt.
//
// Lifetime: while open and ref'd the JS object is held strongly (like a Node socket: an active handle
// keeps its object); unref'd or closed it is weak, and its finalizer closes the poll if JS dropped it.
// The env's async cleanup hook closes it at env teardown and completes once uv_close has finished, so a
// Worker's loop never closes with our handle open. Close the watcher before closing its fd.
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "args.h"
#include "clock.h"
#include "errors.h"
#include "exports.h"
#include "wake_record.h"

namespace ddk {

namespace {

class Watcher;

// Reads (and callbacks) one poll event may take before the loop runs again (see OnPoll).
constexpr int kBurst = 8;

// Outlives the Watcher until libuv is done with the handle (uv_close is asynchronous).
struct PollHandle {
  uv_poll_t poll;  // first member: a uv_poll_t* is a PollHandle*
  Watcher* owner;
  napi_env env;
  napi_async_cleanup_hook_handle cleanup;
};

class Watcher : public Napi::ObjectWrap<Watcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "EventfdWatcher",
                       {InstanceMethod<&Watcher::RefJs>("ref"), InstanceMethod<&Watcher::UnrefJs>("unref"),
                        InstanceMethod<&Watcher::CloseJs>("close"), InstanceAccessor<&Watcher::FdJs>("fd"),
                        InstanceAccessor<&Watcher::ClosedJs>("closed"),
                        InstanceAccessor<&Watcher::HasRefJs>("hasRef")});
  }

  // new EventfdWatcher(fd, callback, record?)
  explicit Watcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Watcher>(info) {
    Napi::Env env = info.Env();
    if (!ArgFd(info, 0, "uv_poll_init", &fd_)) return;
    if (!info[1].IsFunction()) {
      ThrowType(env, "callback must be a function");
      return;
    }
    if (info.Length() > 2 && !info[2].IsUndefined()) {
      // Taking the data pointer moves a small on-heap typed array off the heap for good; the reference
      // keeps it alive (and so the pointer valid) as long as this watcher lives.
      record_ = ArgWakeRecord(info, 2, "EventfdWatcher");
      if (record_ == nullptr) return;
      record_ref_ = Napi::Persistent(info[2].As<Napi::Object>());
    }
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      ThrowCode(env, "ERR_NO_EVENT_LOOP", "no libuv loop for this environment");
      return;
    }
    auto* handle = new PollHandle{};
    const int rc = uv_poll_init(loop, &handle->poll, fd_);
    if (rc != 0) {
      delete handle;  // never initialised: no uv_close needed
      SysContext ctx;
      ctx.syscall = "uv_poll_init";
      ctx.fd = fd_;
      if (rc == UV_EEXIST) ctx.hint = "this fd already has an open watcher on this thread; close that one first";
      ThrowSys(env, -rc, ctx);
      return;
    }
    handle->owner = this;
    handle->env = env;
    handle->poll.data = handle;
    const int start = uv_poll_start(&handle->poll, UV_READABLE, OnPoll);
    if (start != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(&handle->poll), [](uv_handle_t* h) {
        delete static_cast<PollHandle*>(h->data);
      });
      SysContext ctx;
      ctx.syscall = "uv_poll_start";
      ctx.fd = fd_;
      ThrowSys(env, -start, ctx);
      return;
    }
    napi_add_async_cleanup_hook(env, OnEnvCleanup, handle, &handle->cleanup);
    handle_ = handle;
    env_ = env;
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    napi_async_init(env, info.This(), Napi::String::New(env, "vfio-ddk:EventfdWatcher"), &async_);
    Ref();  // open and ref'd: held strongly
    strong_ = true;
  }

  ~Watcher() override { Close(/*from_finalizer=*/true); }

 private:
  Napi::Value RefJs(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr && !uv_has_ref(reinterpret_cast<uv_handle_t*>(&handle_->poll))) {
      uv_ref(reinterpret_cast<uv_handle_t*>(&handle_->poll));
      if (!strong_) Ref(), strong_ = true;
    }
    return info.This();
  }

  Napi::Value UnrefJs(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&handle_->poll));
    if (strong_) Unref(), strong_ = false;
    return info.This();
  }

  Napi::Value CloseJs(const Napi::CallbackInfo& info) {
    Close(false);
    return info.Env().Undefined();
  }

  Napi::Value FdJs(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }
  Napi::Value ClosedJs(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), handle_ == nullptr); }
  Napi::Value HasRefJs(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(),
                              handle_ != nullptr && uv_has_ref(reinterpret_cast<uv_handle_t*>(&handle_->poll)));
  }

  void Close(bool from_finalizer) {
    if (handle_ == nullptr) return;
    PollHandle* handle = handle_;
    handle_ = nullptr;
    handle->owner = nullptr;
    uv_poll_stop(&handle->poll);
    uv_close(reinterpret_cast<uv_handle_t*>(&handle->poll), OnClosed);
    if (strong_ && !from_finalizer) Unref();
    strong_ = false;
    callback_.Reset();
    // The record stays referenced until the finalizer: a delivery in progress may still write it.
    // Closed from inside its own callback: napi_make_callback still uses the async context.
    if (async_ != nullptr && !delivering_) {
      napi_async_destroy(env_, async_);
      async_ = nullptr;
    }
  }

  static void OnClosed(uv_handle_t* h) {
    auto* handle = static_cast<PollHandle*>(h->data);
    // Completes a pending env teardown, or simply unregisters the hook after an explicit close.
    napi_remove_async_cleanup_hook(handle->cleanup);
    delete handle;
  }

  static void OnEnvCleanup(napi_async_cleanup_hook_handle, void* arg) {
    auto* handle = static_cast<PollHandle*>(arg);
    // Still open: close it now. Already closing: OnClosed will remove the hook and finish teardown.
    if (handle->owner != nullptr) handle->owner->Close(false);
  }

  static void OnPoll(uv_poll_t* poll, int status, int /*events*/) {
    auto* handle = static_cast<PollHandle*>(poll->data);
    Watcher* self = handle->owner;
    if (self == nullptr) return;
    if (status < 0) {
      // The fd went bad (closed under us?): stop polling instead of spinning.
      uv_poll_stop(poll);
      return;
    }
    // The first read, then up to kBurst - 1 more while the counter is already non-zero again when the
    // callback returns: a driver that acks one interrupt and starts the next operation inside the
    // callback (its microtasks run there) usually finds that operation's interrupt already signalled,
    // and takes it without another trip through epoll and the loop — interrupt mitigation, as NAPI
    // polling does for network drivers. The bound keeps a storming device from starving the loop. An
    // empty counter (EAGAIN) ends the burst: the loop's poll wakes us for the next one.
    for (int burst = 0; burst < kBurst && handle->owner == self; burst++) {
      uint64_t count = 0;
      ssize_t n;
      do n = read(self->fd_, &count, sizeof count); while (n < 0 && errno == EINTR);
      if (n != sizeof count) {
        if (n < 0 && errno == EAGAIN) return;  // nothing (more): spurious wake-up, or someone else read it
        uv_poll_stop(poll);                    // not an eventfd, or it broke: stop instead of spinning
        return;
      }
      // Timestamps at the read (shared DESIGN.md: "timestamps taken in native code when the eventfd is read").
      uint8_t stamps[24];
      uint8_t* record = self->record_ != nullptr ? self->record_ : stamps;
      WakeStampNow(record);
      WakeSetCount(record, count);
      self->Deliver(count, record);
    }
  }

  void Deliver(uint64_t count, const uint8_t* record) {
    napi_env env = env_;
    napi_handle_scope scope = nullptr;
    napi_open_handle_scope(env, &scope);
    // A count is a number for the callback: one past 2^53 - 1 (only a hostile eventfdWrite gets there,
    // interrupts cannot) is saturated at Number.MAX_SAFE_INTEGER rather than rounded.
    constexpr uint64_t kMaxSafeCount = 9007199254740991ull;
    const uint64_t shown = count > kMaxSafeCount ? kMaxSafeCount : count;
    napi_value argv[3] = {nullptr, nullptr, nullptr};
    napi_create_double(env, static_cast<double>(shown), &argv[0]);  // a small integer: no allocation
    size_t argc = 1;
    if (record_ == nullptr) {  // the bigint form
      uint64_t boot = 0, mono = 0;
      std::memcpy(&boot, record, sizeof boot);
      std::memcpy(&mono, record + 8, sizeof mono);
      napi_create_bigint_uint64(env, boot, &argv[1]);
      napi_create_bigint_uint64(env, mono, &argv[2]);
      argc = 3;
    }
    napi_value recv = nullptr;  // napi_make_callback needs an object: the global, as for any I/O callback
    napi_get_global(env, &recv);
    napi_value result = nullptr;
    delivering_ = true;
    // napi_make_callback with the watcher's async context: async hooks and AsyncLocalStorage see the
    // delivery as an I/O callback, and the microtasks it queued (a resolved wait) run before it returns
    // — the cheapest form that keeps both correct.
    const napi_status status = napi_make_callback(env, async_, recv, callback_.Value(), argc, argv, &result);
    delivering_ = false;
    if (handle_ == nullptr && async_ != nullptr) {  // closed by the callback
      napi_async_destroy(env, async_);
      async_ = nullptr;
    }
    if (status != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value error = nullptr;
        napi_get_and_clear_last_exception(env, &error);
        napi_fatal_exception(env, error);  // → process 'uncaughtException', as for any I/O callback
      }
    }
    napi_close_handle_scope(env, scope);
  }

  PollHandle* handle_ = nullptr;
  int fd_ = -1;
  bool strong_ = false;
  bool delivering_ = false;
  napi_env env_ = nullptr;
  Napi::FunctionReference callback_;
  napi_async_context async_ = nullptr;
  uint8_t* record_ = nullptr;  // the wake record's data (null: the bigint form)
  Napi::ObjectReference record_ref_;
};

}  // namespace

void InitWatcher(Napi::Env env, Napi::Object exports) {
  exports.Set("EventfdWatcher", Watcher::Define(env));
}

}  // namespace ddk
