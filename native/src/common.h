// Shared helpers of the pcie-mmio addon: argument checks and errno errors.
// Every check throws a JavaScript exception and returns false; callers return at once.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>

namespace pcie {

// An Error whose message names the call and the system error, with `code` set to
// the errno name ("EACCES") so TypeScript can branch on it without parsing text.
inline void ThrowErrno(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + std::strerror(err));
  e.Set("code", Napi::String::New(env, uv_err_name(-err)));
  e.Set("errno", Napi::Number::New(env, err));
  e.ThrowAsJavaScriptException();
}

inline void ThrowRange(Napi::Env env, const std::string& msg) {
  Napi::RangeError::New(env, msg).ThrowAsJavaScriptException();
}

inline void ThrowType(Napi::Env env, const std::string& msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
}

// The number argument i, or false after throwing a TypeError naming it.
inline bool GetNumber(const Napi::CallbackInfo& info, size_t i, const char* name, double* out) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) {
    ThrowType(info.Env(), std::string(name) + " must be a number");
    return false;
  }
  *out = v.As<Napi::Number>().DoubleValue();
  return true;
}

// An integral JS number in [lo, hi] (NaN and infinities fail every comparison with a bound).
inline bool IsIntegerIn(double d, double lo, double hi) { return d >= lo && d <= hi && std::floor(d) == d; }

// A non-negative integer below 2^53 (a JS number that can be an offset or a size).
inline bool GetIndex(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t* out) {
  double d;
  if (!GetNumber(info, i, name, &d)) return false;
  if (!IsIntegerIn(d, 0, 9007199254740991.0)) {
    ThrowRange(info.Env(), std::string(name) + " must be a non-negative integer, got " + std::to_string(d));
    return false;
  }
  *out = static_cast<uint64_t>(d);
  return true;
}

inline bool GetInt(const Napi::CallbackInfo& info, size_t i, const char* name, int32_t* out) {
  double d;
  if (!GetNumber(info, i, name, &d)) return false;
  if (!IsIntegerIn(d, -2147483648.0, 2147483647.0)) {
    ThrowRange(info.Env(), std::string(name) + " must be a 32-bit integer");
    return false;
  }
  *out = static_cast<int32_t>(d);
  return true;
}

inline bool GetFd(const Napi::CallbackInfo& info, size_t i, int* out) {
  int32_t fd;
  if (!GetInt(info, i, "fd", &fd)) return false;
  if (fd < 0) {
    ThrowRange(info.Env(), "fd must be a non-negative file descriptor");
    return false;
  }
  *out = fd;
  return true;
}

inline bool GetBigU64(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t* out) {
  Napi::Value v = info[i];
  if (!v.IsBigInt()) {
    ThrowType(info.Env(), std::string(name) + " must be a bigint");
    return false;
  }
  bool lossless = true;
  *out = v.As<Napi::BigInt>().Uint64Value(&lossless);
  // A negative bigint or one of 2^64 and above would reach the kernel wrapped round.
  if (!lossless) {
    ThrowRange(info.Env(), std::string(name) + " must be a bigint in 0 … 2^64 - 1");
    return false;
  }
  return true;
}

// A plain object of number fields (what an ioctl or getsockopt filled in), in the order given.
inline Napi::Object NumberObject(Napi::Env env, std::initializer_list<std::pair<const char*, double>> fields) {
  Napi::Object out = Napi::Object::New(env);
  for (const auto& [name, value] : fields) out.Set(name, Napi::Number::New(env, value));
  return out;
}

// The functions a module exports, as one table: each is named once, and JS sees that name
// as the function's `name` too.
struct Export {
  const char* name;
  Napi::Function::Callback fn;
};

inline void ExportAll(Napi::Env env, Napi::Object target, std::initializer_list<Export> table) {
  for (const Export& e : table) target.Set(e.name, Napi::Function::New(env, e.fn, e.name));
}

void InitRegion(Napi::Env env, Napi::Object exports);
void InitPoll(Napi::Env env, Napi::Object exports);
void InitVfio(Napi::Env env, Napi::Object exports);

struct Region;
// The region behind a JS handle (an External made by `mapFd`), or null after throwing.
Region* RegionArg(const Napi::CallbackInfo& info, size_t i);
// Base address and size of a live region (for VFIO DMA mapping); false after throwing if closed.
bool RegionSpan(Napi::Env env, Region* r, uint8_t** base, uint64_t* size);

}  // namespace pcie
