// EventfdWatcher: one uv_poll per eventfd on the *calling environment's* loop (so it works in worker
// threads). When the fd is readable the counter is read here, in native code, the two clocks are taken
// at that read, and the JS callback is called once with (count, bootNs, monoNs) — coalesced fires
// arrive as one call with count > 1, as an eventfd coalesces them (spec/pci-vfio.md C.4, last bullet).
//
// Lifetime: while open and ref'd the JS object is held strongly (like a Node socket: an active handle
// keeps its object); unref'd or closed it is weak, and its finalizer closes the poll if JS dropped it.
// The env's async cleanup hook closes it at env teardown and completes once uv_close has finished, so a
// Worker's loop never closes with our handle open. Close the watcher before closing its fd.
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdint>

#include "args.h"
#include "clock.h"
#include "errors.h"
#include "exports.h"

namespace ddk {

namespace {

class Watcher;

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

  // new EventfdWatcher(fd, callback(count, bootNs, monoNs))
  explicit Watcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Watcher>(info) {
    Napi::Env env = info.Env();
    if (!ArgFd(info, 0, "uv_poll_init", &fd_)) return;
    if (!info[1].IsFunction()) {
      ThrowType(env, "callback must be a function");
      return;
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
    uint64_t count = 0;
    ssize_t n;
    do n = read(self->fd_, &count, sizeof count); while (n < 0 && errno == EINTR);
    // Timestamps at the read (shared DESIGN.md: "timestamps taken in native code when the eventfd is read").
    // MONOTONIC first: BOOTTIME = MONOTONIC + time suspended, so boot >= mono holds for the pair.
    const uint64_t mono = ClockNs(CLOCK_MONOTONIC);
    const uint64_t boot = ClockNs(CLOCK_BOOTTIME);
    if (n != sizeof count) {
      if (n < 0 && errno == EAGAIN) return;  // spurious wake-up, or someone else read it
      uv_poll_stop(poll);                    // not an eventfd, or it broke: stop instead of spinning
      return;
    }
    self->Deliver(count, boot, mono);
  }

  void Deliver(uint64_t count, uint64_t boot, uint64_t mono) {
    napi_env env = env_;
    Napi::HandleScope scope(env);
    // A count is a number for the callback: one past 2^53 - 1 (only a hostile eventfdWrite gets there,
    // interrupts cannot) is saturated at Number.MAX_SAFE_INTEGER rather than rounded.
    constexpr uint64_t kMaxSafeCount = 9007199254740991ull;
    const uint64_t shown = count > kMaxSafeCount ? kMaxSafeCount : count;
    napi_value argv[3] = {Napi::Number::New(env, static_cast<double>(shown)), Napi::BigInt::New(env, boot),
                          Napi::BigInt::New(env, mono)};
    napi_value global = nullptr;
    napi_get_global(env, &global);
    napi_value result = nullptr;
    delivering_ = true;
    // napi_make_callback: runs microtasks and async hooks as for any I/O callback.
    const napi_status status = napi_make_callback(env, async_, global, callback_.Value(), 3, argv, &result);
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
  }

  PollHandle* handle_ = nullptr;
  int fd_ = -1;
  bool strong_ = false;
  bool delivering_ = false;
  napi_env env_ = nullptr;
  Napi::FunctionReference callback_;
  napi_async_context async_ = nullptr;
};

}  // namespace

void InitWatcher(Napi::Env env, Napi::Object exports) {
  exports.Set("EventfdWatcher", Watcher::Define(env));
}

}  // namespace ddk
