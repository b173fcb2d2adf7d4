// Interrupt readiness on the libuv loop: uv_poll on an eventfd (VFIO, tests) or a
// /dev/uioN fd. When the fd is readable, the value read (the eventfd counter, or
// uio's running event count) is handed to a JavaScript callback; counting, waiting,
// aborting and unmasking are TypeScript's business.
//
// The poll handle is unreferenced unless a wait is pending (pollRef), so an open,
// idle interrupt never keeps the process alive.
#include <sys/eventfd.h>
#include <unistd.h>

#include "common.h"

namespace pcie {
namespace {

struct Poller {
  uv_poll_t handle;
  napi_env env = nullptr;
  napi_ref callback = nullptr;
  napi_async_context context = nullptr;
  int fd = -1;
  int read_size = 8;  // 8: eventfd counter; 4: uio event count
  bool running = false;
  bool closed = false;
  int holders = 2;  // the uv handle (until its close callback) and the JS External (until GC)
};

void Release(Poller* p) {
  if (--p->holders == 0) delete p;
}

void OnClosed(uv_handle_t* h) { Release(static_cast<Poller*>(h->data)); }

void Deliver(Poller* p, double value, int err) {
  napi_handle_scope scope;
  napi_open_handle_scope(p->env, &scope);
  napi_value cb, recv, argv[2], result;
  napi_get_reference_value(p->env, p->callback, &cb);
  napi_get_global(p->env, &recv);  // make_callback needs an object receiver
  napi_create_double(p->env, value, &argv[0]);
  napi_create_int32(p->env, err, &argv[1]);
  // make_callback (not call_function): promises resolved in the callback settle
  // before the loop moves on, as for any other I/O callback.
  napi_status status = napi_make_callback(p->env, p->context, recv, cb, 2, argv, &result);
  bool pending = false;
  napi_is_exception_pending(p->env, &pending);
  if (status != napi_ok && pending) {
    napi_value exception;
    napi_get_and_clear_last_exception(p->env, &exception);
    napi_fatal_exception(p->env, exception);
  }
  napi_close_handle_scope(p->env, scope);
}

void OnReadable(uv_poll_t* h, int status, int events) {
  Poller* p = static_cast<Poller*>(h->data);
  if (p->closed) return;
  if (status < 0) {
    Deliver(p, 0, -status);
    return;
  }
  if (!(events & UV_READABLE)) return;
  uint64_t value = 0;
  ssize_t n = read(p->fd, &value, static_cast<size_t>(p->read_size));
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    Deliver(p, 0, errno);
    return;
  }
  if (n != p->read_size) return;
  Deliver(p, static_cast<double>(value), 0);
}

Poller* PollerArg(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) {
    ThrowType(info.Env(), "poller handle expected");
    return nullptr;
  }
  Poller* p = info[0].As<Napi::External<Poller>>().Data();
  if (p->closed) {
    Napi::Error::New(info.Env(), "interrupt used after close").ThrowAsJavaScriptException();
    return nullptr;
  }
  return p;
}

void Shut(Poller* p) {
  if (p->closed) return;
  p->closed = true;
  if (p->callback != nullptr) napi_delete_reference(p->env, p->callback);
  if (p->context != nullptr) napi_async_destroy(p->env, p->context);
  p->callback = nullptr;
  p->context = nullptr;
  // uv_close stops the poll and drops the fd from epoll at once, so the caller may
  // close the fd right after; the Poller is freed in the close callback.
  uv_close(reinterpret_cast<uv_handle_t*>(&p->handle), OnClosed);
}

// pollOpen(fd, readSize, callback(value, errno)) -> poller. Starts watching at once.
Napi::Value PollOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  int32_t read_size;
  if (!GetFd(info, 0, &fd) || !GetInt(info, 1, "readSize", &read_size)) return env.Undefined();
  if (read_size != 4 && read_size != 8) {
    ThrowRange(env, "readSize must be 4 (uio) or 8 (eventfd)");
    return env.Undefined();
  }
  if (!info[2].IsFunction()) {
    ThrowType(env, "callback must be a function");
    return env.Undefined();
  }
  uv_loop_t* loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return env.Undefined();
  Poller* p = new Poller();
  p->env = env;
  p->fd = fd;
  p->read_size = read_size;
  int rc = uv_poll_init(loop, &p->handle, fd);
  if (rc != 0) {
    delete p;  // never became a handle nor an External
    ThrowErrno(env, "uv_poll_init", -rc);
    return env.Undefined();
  }
  p->handle.data = p;
  napi_create_reference(env, info[2], 1, &p->callback);
  napi_async_init(env, nullptr, Napi::String::New(env, "pcie-mmio:irq"), &p->context);
  rc = uv_poll_start(&p->handle, UV_READABLE, OnReadable);
  if (rc != 0) {
    Shut(p);
    p->holders--;  // no External will be made
    ThrowErrno(env, "uv_poll_start", -rc);
    return env.Undefined();
  }
  p->running = true;
  uv_unref(reinterpret_cast<uv_handle_t*>(&p->handle));
  // The Poller lives until both the uv handle is closed and the External is
  // collected, so a stale External is always safe to pass back in.
  return Napi::External<Poller>::New(env, p, [](Napi::Env, Poller* q) {
    Shut(q);
    Release(q);
  });
}

// pollRef(poller, keepAlive): reference the handle while a wait is pending.
Napi::Value PollRef(const Napi::CallbackInfo& info) {
  Poller* p = PollerArg(info);
  if (p == nullptr) return info.Env().Undefined();
  auto* h = reinterpret_cast<uv_handle_t*>(&p->handle);
  if (info[1].ToBoolean().Value())
    uv_ref(h);
  else
    uv_unref(h);
  return info.Env().Undefined();
}

// pollPause(poller, paused): stop or resume watching; events meanwhile stay in the fd.
Napi::Value PollPause(const Napi::CallbackInfo& info) {
  Poller* p = PollerArg(info);
  if (p == nullptr) return info.Env().Undefined();
  bool pause = info[1].ToBoolean().Value();
  if (pause && p->running) {
    uv_poll_stop(&p->handle);
    p->running = false;
  } else if (!pause && !p->running) {
    int rc = uv_poll_start(&p->handle, UV_READABLE, OnReadable);
    if (rc != 0) {
      ThrowErrno(info.Env(), "uv_poll_start", -rc);
      return info.Env().Undefined();
    }
    p->running = true;
  }
  return info.Env().Undefined();
}

// pollClose(poller) -> false if it was already closed.
Napi::Value PollClose(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) {
    ThrowType(info.Env(), "poller handle expected");
    return info.Env().Undefined();
  }
  Poller* p = info[0].As<Napi::External<Poller>>().Data();
  bool was_open = !p->closed;
  Shut(p);
  return Napi::Boolean::New(info.Env(), was_open);
}

// eventfd() -> a non-blocking eventfd: what VFIO signals, and a test's stand-in device.
Napi::Value EventFd(const Napi::CallbackInfo& info) {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) {
    ThrowErrno(info.Env(), "eventfd", errno);
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), fd);
}

}  // namespace

void InitPoll(Napi::Env env, Napi::Object exports) {
  ExportAll(env, exports,
            {{"pollOpen", PollOpen}, {"pollRef", PollRef}, {"pollPause", PollPause}, {"pollClose", PollClose},
             {"eventfd", EventFd}});
}

}  // namespace pcie
