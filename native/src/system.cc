// pkaccel_system: the few system calls of the broker and keyring devices, beside
// pcie-mmio and apart from its PCI code (a separate addon, build/Release/pkaccel_system.node).
//
//  - peerCredentials(fd): getsockopt(SO_PEERCRED) of a connected Unix socket;
//  - setDumpable(flag) / getDumpable(): prctl(PR_SET_DUMPABLE / PR_GET_DUMPABLE);
//  - keyctl: add_key and keyctl(2) by raw syscall (no libkeyutils), fixed-length
//    arguments only: numbers, short strings with a stated maximum, byte arrays of a
//    stated maximum, and the kernel's fixed structs keyctl_pkey_query/_params.
//
// As the rest of the native layer: no crypto, no parsing, no policy. Each failure
// throws an Error whose `code` is the errno name ("ENOKEY") and whose `syscall`
// names the call; lib/system.ts maps them to typed errors.
#include <linux/keyctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "common.h"

namespace {

constexpr size_t kMaxType = 32;            // key type names are short ("asymmetric")
constexpr size_t kMaxDescription = 4096;   // the kernel's own limit for a description
constexpr size_t kMaxInfo = 256;           // "enc=pkcs1 hash=sha512" and the like
constexpr size_t kMaxPayload = 1 << 20;    // add_key refuses more than 1 MiB
constexpr size_t kMaxBlob = 64 * 1024;     // pkey inputs/outputs: 16384-bit RSA is 2 KiB
constexpr size_t kMaxKeyringEntries = 65536;

// The errno's symbolic name ("EKEYREJECTED"): glibc knows them all; libuv's table
// lacks the key-management ones.
const char* ErrnoName(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char* name = strerrorname_np(err);
  if (name != nullptr) return name;
#endif
  return uv_err_name(-err);
}

void Throw(Napi::Env env, const char* syscall, int err) {
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + ": " + std::strerror(err));
  e.Set("code", Napi::String::New(env, ErrnoName(err)));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
}

bool GetString(const Napi::CallbackInfo& info, size_t i, const char* name, size_t max, std::string* out) {
  if (!info[i].IsString()) {
    pcie::ThrowType(info.Env(), std::string(name) + " must be a string");
    return false;
  }
  *out = info[i].As<Napi::String>().Utf8Value();
  if (out->size() > max || out->find('\0') != std::string::npos) {
    pcie::ThrowRange(info.Env(), std::string(name) + " must be at most " + std::to_string(max) +
                                     " bytes without NUL characters");
    return false;
  }
  return true;
}

bool GetBytes(const Napi::CallbackInfo& info, size_t i, const char* name, size_t max, const uint8_t** data,
              size_t* len) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    pcie::ThrowType(info.Env(), std::string(name) + " must be a Uint8Array");
    return false;
  }
  auto arr = info[i].As<Napi::Uint8Array>();
  if (arr.ByteLength() > max) {
    pcie::ThrowRange(info.Env(), std::string(name) + " must be at most " + std::to_string(max) + " bytes");
    return false;
  }
  *data = arr.Data();
  *len = arr.ByteLength();
  return true;
}

// A key or keyring serial: a positive serial or a special id (KEY_SPEC_*, -1 … -8).
bool GetSerial(const Napi::CallbackInfo& info, size_t i, const char* name, int32_t* out) {
  if (!pcie::GetInt(info, i, name, out)) return false;
  if (*out == 0 || *out < -8) {
    pcie::ThrowRange(info.Env(), std::string(name) + " must be a key serial or a special keyring id (-1 … -8)");
    return false;
  }
  return true;
}

long Keyctl(int option, unsigned long a2 = 0, unsigned long a3 = 0, unsigned long a4 = 0, unsigned long a5 = 0) {
  return syscall(SYS_keyctl, option, a2, a3, a4, a5);
}

// A key serial or keyring id as a keyctl argument (sign-extended: special ids are negative).
unsigned long Arg(int32_t id) { return static_cast<unsigned long>(static_cast<long>(id)); }

// The serial a call returned, or (negative) its errno thrown as that call's. errno is read before anything
// else runs: call it straight on the system call's result.
Napi::Value SerialOrThrow(Napi::Env env, const char* call, long result) {
  if (result < 0) {
    Throw(env, call, errno);
    return env.Undefined();
  }
  return Napi::Number::New(env, static_cast<double>(result));
}

// ---- peer credentials, prctl ----

Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!pcie::GetFd(info, 0, &fd)) return env.Undefined();
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    Throw(env, "getsockopt(SO_PEERCRED)", errno);
    return env.Undefined();
  }
  return pcie::NumberObject(env, {{"pid", cred.pid}, {"uid", cred.uid}, {"gid", cred.gid}});
}

Napi::Value SetDumpable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBoolean()) {
    pcie::ThrowType(env, "dumpable must be a boolean");
    return env.Undefined();
  }
  if (prctl(PR_SET_DUMPABLE, info[0].As<Napi::Boolean>().Value() ? 1 : 0, 0, 0, 0) != 0)
    Throw(env, "prctl(PR_SET_DUMPABLE)", errno);
  return env.Undefined();
}

Napi::Value GetDumpable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int v = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  if (v < 0) {
    Throw(env, "prctl(PR_GET_DUMPABLE)", errno);
    return env.Undefined();
  }
  return Napi::Boolean::New(env, v != 0);
}

// ---- keys ----

// addKey(type, description, payload, keyring) -> serial
Napi::Value AddKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string type, description;
  const uint8_t* payload;
  size_t plen;
  int32_t keyring;
  if (!GetString(info, 0, "type", kMaxType, &type) ||
      !GetString(info, 1, "description", kMaxDescription, &description) ||
      !GetBytes(info, 2, "payload", kMaxPayload, &payload, &plen) || !GetSerial(info, 3, "keyring", &keyring))
    return env.Undefined();
  return SerialOrThrow(env, "add_key", syscall(SYS_add_key, type.c_str(), description.c_str(), payload, plen, keyring));
}

// keyringId(special, create) -> the serial a special id (KEY_SPEC_*) stands for
Napi::Value KeyringId(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t id;
  if (!GetSerial(info, 0, "keyring", &id)) return env.Undefined();
  bool create = info[1].ToBoolean().Value();
  return SerialOrThrow(env, "keyctl(KEYCTL_GET_KEYRING_ID)", Keyctl(KEYCTL_GET_KEYRING_ID, Arg(id), create ? 1 : 0));
}

// search(keyring, type, description, destKeyring) -> serial (destKeyring 0: link nowhere)
Napi::Value Search(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t keyring, dest = 0;
  std::string type, description;
  if (!GetSerial(info, 0, "keyring", &keyring) || !GetString(info, 1, "type", kMaxType, &type) ||
      !GetString(info, 2, "description", kMaxDescription, &description))
    return env.Undefined();
  if (!info[3].IsUndefined() && !pcie::GetInt(info, 3, "destKeyring", &dest)) return env.Undefined();
  return SerialOrThrow(env, "keyctl(KEYCTL_SEARCH)",
                       Keyctl(KEYCTL_SEARCH, Arg(keyring), reinterpret_cast<unsigned long>(type.c_str()),
                              reinterpret_cast<unsigned long>(description.c_str()), Arg(dest)));
}

// describe(key) -> "type;uid;gid;perm;description" (the kernel's format; parsed in TypeScript)
Napi::Value Describe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t key;
  if (!GetSerial(info, 0, "key", &key)) return env.Undefined();
  std::vector<char> buf(kMaxDescription + 128);
  long n = Keyctl(KEYCTL_DESCRIBE, Arg(key),
                  reinterpret_cast<unsigned long>(buf.data()), buf.size());
  if (n < 0) {
    Throw(env, "keyctl(KEYCTL_DESCRIBE)", errno);
    return env.Undefined();
  }
  if (static_cast<size_t>(n) > buf.size()) {  // cannot happen within the kernel's limits
    pcie::ThrowRange(env, "key description longer than the kernel's limit");
    return env.Undefined();
  }
  size_t len = n > 0 ? static_cast<size_t>(n) - 1 : 0;  // n counts the NUL
  return Napi::String::New(env, buf.data(), len);
}

// keyringKeys(keyring) -> serials of the keys linked in a keyring (KEYCTL_READ on a keyring)
Napi::Value KeyringKeys(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t keyring;
  if (!GetSerial(info, 0, "keyring", &keyring)) return env.Undefined();
  std::vector<int32_t> ids(kMaxKeyringEntries);
  long n = Keyctl(KEYCTL_READ, Arg(keyring),
                  reinterpret_cast<unsigned long>(ids.data()), ids.size() * sizeof(int32_t));
  if (n < 0) {
    Throw(env, "keyctl(KEYCTL_READ)", errno);
    return env.Undefined();
  }
  size_t count = std::min(static_cast<size_t>(n) / sizeof(int32_t), ids.size());
  Napi::Array out = Napi::Array::New(env, count);
  for (size_t i = 0; i < count; i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, ids[i]));
  return out;
}

// setPerm(key, perm)
Napi::Value SetPerm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t key;
  uint64_t perm;
  if (!GetSerial(info, 0, "key", &key) || !pcie::GetIndex(info, 1, "perm", &perm)) return env.Undefined();
  if (perm > 0xffffffffu) {
    pcie::ThrowRange(env, "perm must be a 32-bit mask");
    return env.Undefined();
  }
  if (Keyctl(KEYCTL_SETPERM, Arg(key), perm) < 0)
    Throw(env, "keyctl(KEYCTL_SETPERM)", errno);
  return env.Undefined();
}

Napi::Value Invalidate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t key;
  if (!GetSerial(info, 0, "key", &key)) return env.Undefined();
  if (Keyctl(KEYCTL_INVALIDATE, Arg(key)) < 0)
    Throw(env, "keyctl(KEYCTL_INVALIDATE)", errno);
  return env.Undefined();
}

Napi::Value Unlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t key, keyring;
  if (!GetSerial(info, 0, "key", &key) || !GetSerial(info, 1, "keyring", &keyring)) return env.Undefined();
  if (Keyctl(KEYCTL_UNLINK, Arg(key),
             Arg(keyring)) < 0)
    Throw(env, "keyctl(KEYCTL_UNLINK)", errno);
  return env.Undefined();
}

// capabilities() -> the bytes KEYCTL_CAPABILITIES returns (Linux 5.3+; ENOSYS/EOPNOTSUPP before)
Napi::Value Capabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t caps[16] = {0};
  long n = Keyctl(KEYCTL_CAPABILITIES, reinterpret_cast<unsigned long>(caps), sizeof caps);
  if (n < 0) {
    Throw(env, "keyctl(KEYCTL_CAPABILITIES)", errno);
    return env.Undefined();
  }
  size_t len = std::min(static_cast<size_t>(n), sizeof caps);
  Napi::Uint8Array out = Napi::Uint8Array::New(env, len);
  std::memcpy(out.Data(), caps, len);
  return out;
}

// pkeyQuery(key, info) -> { supportedOps, keySize, maxDataSize, maxSigSize, maxEncSize, maxDecSize }
Napi::Value PkeyQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t key;
  std::string params;
  if (!GetSerial(info, 0, "key", &key) || !GetString(info, 1, "info", kMaxInfo, &params)) return env.Undefined();
  struct keyctl_pkey_query q;
  std::memset(&q, 0, sizeof q);
  if (Keyctl(KEYCTL_PKEY_QUERY, Arg(key), 0,
             reinterpret_cast<unsigned long>(params.c_str()), reinterpret_cast<unsigned long>(&q)) < 0) {
    Throw(env, "keyctl(KEYCTL_PKEY_QUERY)", errno);
    return env.Undefined();
  }
  return pcie::NumberObject(env, {{"supportedOps", q.supported_ops},
                                  {"keySize", q.key_size},
                                  {"maxDataSize", q.max_data_size},
                                  {"maxSigSize", q.max_sig_size},
                                  {"maxEncSize", q.max_enc_size},
                                  {"maxDecSize", q.max_dec_size}});
}

// The public-key operations run on the libuv pool: the kernel may do an RSA private
// operation in software (milliseconds) or wait for a hardware driver.
class PkeyWork : public Napi::AsyncWorker {
 public:
  PkeyWork(Napi::Env env, int option, int32_t key, std::string params, const uint8_t* in, size_t in_len,
           const uint8_t* in2, size_t in2_len, size_t out_len)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        option_(option),
        key_(key),
        params_(std::move(params)),
        in_(in, in + in_len),
        in2_(in2, in2 + in2_len),
        out_(out_len) {}

  ~PkeyWork() override {
    // inputs may be digests of secrets, outputs plaintexts: wipe the copies
    Wipe(in_);
    Wipe(in2_);
    Wipe(out_);
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    struct keyctl_pkey_params p;
    std::memset(&p, 0, sizeof p);
    p.key_id = key_;
    p.in_len = static_cast<uint32_t>(in_.size());
    if (option_ == KEYCTL_PKEY_VERIFY)
      p.in2_len = static_cast<uint32_t>(in2_.size());
    else
      p.out_len = static_cast<uint32_t>(out_.size());
    unsigned long last = option_ == KEYCTL_PKEY_VERIFY ? reinterpret_cast<unsigned long>(in2_.data())
                                                       : reinterpret_cast<unsigned long>(out_.data());
    result_ = Keyctl(option_, reinterpret_cast<unsigned long>(&p), reinterpret_cast<unsigned long>(params_.c_str()),
                     reinterpret_cast<unsigned long>(in_.data()), last);
    if (result_ < 0) err_ = errno;
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (result_ < 0) {
      const char* name = option_ == KEYCTL_PKEY_ENCRYPT   ? "keyctl(KEYCTL_PKEY_ENCRYPT)"
                         : option_ == KEYCTL_PKEY_DECRYPT ? "keyctl(KEYCTL_PKEY_DECRYPT)"
                         : option_ == KEYCTL_PKEY_SIGN    ? "keyctl(KEYCTL_PKEY_SIGN)"
                                                          : "keyctl(KEYCTL_PKEY_VERIFY)";
      Napi::Error e = Napi::Error::New(env, std::string(name) + ": " + std::strerror(err_));
      e.Set("code", Napi::String::New(env, ErrnoName(err_)));
      e.Set("errno", Napi::Number::New(env, err_));
      e.Set("syscall", Napi::String::New(env, name));
      deferred_.Reject(e.Value());
      return;
    }
    if (option_ == KEYCTL_PKEY_VERIFY) {
      deferred_.Resolve(Napi::Boolean::New(env, true));
      return;
    }
    size_t n = std::min(static_cast<size_t>(result_), out_.size());
    Napi::Uint8Array out = Napi::Uint8Array::New(env, n);
    std::memcpy(out.Data(), out_.data(), n);
    deferred_.Resolve(out);
  }

 private:
  static void Wipe(std::vector<uint8_t>& v) {
    volatile uint8_t* p = v.data();
    for (size_t i = 0; i < v.size(); i++) p[i] = 0;
  }

  Napi::Promise::Deferred deferred_;
  int option_;
  int32_t key_;
  std::string params_;
  std::vector<uint8_t> in_, in2_, out_;
  long result_ = 0;
  int err_ = 0;
};

// pkey(option, key, info, input, input2OrOutLength) -> Promise<Uint8Array | true>
//   option 25/26/27 (encrypt/decrypt/sign): the 5th argument is the output buffer size;
//   option 28 (verify): input = digest, the 5th argument the signature (a failed
//   verification rejects with EKEYREJECTED/EBADMSG, mapped to `false` in TypeScript).
Napi::Value Pkey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t option, key;
  std::string params;
  const uint8_t* in;
  size_t in_len;
  if (!pcie::GetInt(info, 0, "option", &option)) return env.Undefined();
  if (option < KEYCTL_PKEY_ENCRYPT || option > KEYCTL_PKEY_VERIFY) {
    pcie::ThrowRange(env, "option must be KEYCTL_PKEY_ENCRYPT, _DECRYPT, _SIGN or _VERIFY (25-28)");
    return env.Undefined();
  }
  if (!GetSerial(info, 1, "key", &key) || !GetString(info, 2, "info", kMaxInfo, &params) ||
      !GetBytes(info, 3, "input", kMaxBlob, &in, &in_len))
    return env.Undefined();
  const uint8_t* in2 = nullptr;
  size_t in2_len = 0;
  uint64_t out_len = 0;
  if (option == KEYCTL_PKEY_VERIFY) {
    if (!GetBytes(info, 4, "signature", kMaxBlob, &in2, &in2_len)) return env.Undefined();
  } else {
    if (!pcie::GetIndex(info, 4, "outputLength", &out_len)) return env.Undefined();
    if (out_len == 0 || out_len > kMaxBlob) {
      pcie::ThrowRange(env, "outputLength must be 1 … " + std::to_string(kMaxBlob));
      return env.Undefined();
    }
  }
  auto* work = new PkeyWork(env, option, key, std::move(params), in, in_len, in2, in2_len,
                            static_cast<size_t>(out_len));
  Napi::Promise promise = work->Promise();
  work->Queue();
  return promise;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  pcie::ExportAll(env, exports,
                  {{"peerCredentials", PeerCredentials}, {"setDumpable", SetDumpable}, {"getDumpable", GetDumpable},
                   {"addKey", AddKey}, {"keyringId", KeyringId}, {"search", Search}, {"describe", Describe},
                   {"keyringKeys", KeyringKeys}, {"setPerm", SetPerm}, {"invalidate", Invalidate},
                   {"unlink", Unlink}, {"pkeyQuery", PkeyQuery}, {"capabilities", Capabilities}, {"pkey", Pkey}});
  return exports;
}

}  // namespace

NODE_API_MODULE(pkaccel_system, Init)
