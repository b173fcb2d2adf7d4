// Mapped regions: a BAR (sysfs resourceN, a VFIO region), a memfd or a plain file,
// mmap'ed once and accessed with exact-width volatile loads and stores.
//
// A region is named by a numeric handle (slot | generation << 20) rather than a
// napi External: looking it up is an index and a compare, cheap enough for the
// per-register hot path, and a stale handle (used after close) is recognised
// instead of dereferenced. Every access is bounds- and alignment-checked here,
// so no JavaScript argument can make this code touch memory outside a live map.
//
// Memory lifetime. Every ArrayBuffer made over a region (`buffer`, `view`) is
// tracked by a weak reference and detached before the region is unmapped, so no
// JavaScript view can reach unmapped memory. `detach` lets the TypeScript DMA pool
// cut a buffer's views off when it frees it (see lib/dma.ts).
//
// SIGBUS. A mapped file that shrinks (another process truncates it) makes every
// access past its new end raise SIGBUS, which would kill the process. Our memfds
// are sealed against shrinking (F_SEAL_SHRINK), and for everything else a SIGBUS
// handler rescues faults inside our own mappings: it maps a private zero page over
// the faulting page (the access completes, reading zeros), marks the region broken,
// and every later call on that region throws ERR_PCIE_MMIO_GONE (a register access
// that faulted throws as it returns). A fault anywhere else keeps the default
// action (the process dies with SIGBUS, as before).
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "common.h"

namespace pcie {

struct Region {
  uint8_t* map_addr = nullptr;  // what mmap returned (page-aligned)
  size_t map_len = 0;
  uint8_t* base = nullptr;      // byte 0 of the window the caller asked for
  uint64_t size = 0;
  bool writable = false;
  napi_ref buffer = nullptr;    // weak: the external ArrayBuffer over the window, if made
  std::vector<napi_ref> views;  // weak: ArrayBuffers over parts of the window (`view`)
  size_t prune_at = 64;         // when `views` reaches this size, drop the collected ones
  int guard = -1;               // index in the SIGBUS guard table
};

namespace {

// ---- SIGBUS guard table: what the signal handler may read (lock-free, no TLS) ----

constexpr int kGuards = 16384;

struct Guard {
  std::atomic<uintptr_t> start{0};  // 0 = free slot
  std::atomic<uintptr_t> end{0};
  std::atomic<int> prot{0};
  std::atomic<int> hit{0};          // set by the handler: a page was replaced
};

Guard guards[kGuards];
std::mutex guard_mutex;  // taken by map/unmap only, never by the handler
struct sigaction previous_bus;
std::once_flag handler_once;

void OnSigbus(int sig, siginfo_t* info, void* context) {
  uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  if (info->si_code == BUS_ADRERR) {
    for (int i = 0; i < kGuards; i++) {
      uintptr_t start = guards[i].start.load(std::memory_order_acquire);
      if (start == 0 || addr < start || addr >= guards[i].end.load(std::memory_order_acquire)) continue;
      uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
      void* at = reinterpret_cast<void*>(addr & ~(page - 1));
      if (mmap(at, page, guards[i].prot.load(std::memory_order_relaxed), MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
               -1, 0) == MAP_FAILED)
        break;  // cannot rescue: fall through to the default action
      guards[i].hit.store(1, std::memory_order_release);
      return;  // the faulting access is retried and reads the zero page
    }
  }
  // Not ours: what would have happened without us.
  if (previous_bus.sa_flags & SA_SIGINFO) {
    if (previous_bus.sa_sigaction != nullptr) return previous_bus.sa_sigaction(sig, info, context);
  } else if (previous_bus.sa_handler != SIG_DFL && previous_bus.sa_handler != SIG_IGN) {
    return previous_bus.sa_handler(sig);
  }
  signal(SIGBUS, SIG_DFL);  // a fault repeats and the process dies with SIGBUS
  if (info->si_code <= 0) raise(SIGBUS);  // sent by kill(): deliver it again, now with the default action
}

void InstallSigbusHandler() {
  std::call_once(handler_once, [] {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = OnSigbus;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &previous_bus);
  });
}

int AddGuard(uint8_t* addr, size_t len, int prot) {
  std::lock_guard<std::mutex> lock(guard_mutex);
  for (int i = 0; i < kGuards; i++) {
    if (guards[i].start.load(std::memory_order_relaxed) != 0) continue;
    guards[i].hit.store(0, std::memory_order_relaxed);
    guards[i].prot.store(prot, std::memory_order_relaxed);
    guards[i].end.store(reinterpret_cast<uintptr_t>(addr) + len, std::memory_order_release);
    guards[i].start.store(reinterpret_cast<uintptr_t>(addr), std::memory_order_release);
    return i;
  }
  return -1;
}

void RemoveGuard(int i) {
  if (i < 0) return;
  std::lock_guard<std::mutex> lock(guard_mutex);
  guards[i].start.store(0, std::memory_order_release);
  guards[i].end.store(0, std::memory_order_release);
}

inline bool Broken(const Region* r) {
  return r->guard >= 0 && guards[r->guard].hit.load(std::memory_order_acquire) != 0;
}

void DetachRef(napi_env env, napi_ref ref) {
  napi_value ab = nullptr;
  if (napi_get_reference_value(env, ref, &ab) == napi_ok && ab != nullptr) napi_detach_arraybuffer(env, ab);
  napi_delete_reference(env, ref);
}

constexpr const char* kGoneMessage =
    "mapping is gone: an access raised SIGBUS (the mapped file shrank, or the device's memory went away)";

constexpr uint64_t kSlotBits = 20;
constexpr uint64_t kSlotMask = (1u << kSlotBits) - 1;

struct Slot {
  uint32_t generation = 1;
  Region* region = nullptr;
};

// One table per thread: a worker thread has its own Node environment, and its
// handles are meaningless on another thread.
thread_local std::vector<Slot> slots;
thread_local std::vector<uint32_t> free_slots;

double HandleOf(uint32_t slot) {
  return static_cast<double>((static_cast<uint64_t>(slots[slot].generation) << kSlotBits) | slot);
}

// The live region a handle names; null if the handle is stale (closed) or foreign.
Region* Lookup(double handle) {
  if (!(handle >= 0 && handle < 9007199254740992.0)) return nullptr;
  uint64_t h = static_cast<uint64_t>(handle);
  if (static_cast<double>(h) != handle) return nullptr;
  uint64_t slot = h & kSlotMask;
  if (slot >= slots.size()) return nullptr;
  const Slot& s = slots[slot];
  if (s.region == nullptr || s.generation != (h >> kSlotBits)) return nullptr;
  return s.region;
}

inline void RawThrow(napi_env env, bool range, const char* msg) {
  if (range)
    napi_throw_range_error(env, "ERR_PCIE_MMIO_RANGE", msg);
  else
    napi_throw_error(env, "ERR_PCIE_MMIO_CLOSED", msg);
}

template <typename T>
inline T ToLittle(T v) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  if constexpr (sizeof(T) == 2) return __builtin_bswap16(v);
  if constexpr (sizeof(T) == 4) return __builtin_bswap32(v);
  if constexpr (sizeof(T) == 8) return __builtin_bswap64(v);
#endif
  return v;
}

// Parses (handle, offset) — and for a write the value, left in *value (null when missing)
// for the caller to convert — and checks that a `width`-byte access at offset lies in a
// live region and is naturally aligned. Throws and returns null otherwise.
Region* CheckAccess(napi_env env, napi_callback_info cbinfo, uint64_t width, napi_value* value, uint64_t* off) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, cbinfo, &argc, argv, nullptr, nullptr);
  bool write = value != nullptr;
  if (write) *value = argc >= 3 ? argv[2] : nullptr;
  double handle = -1, offset = -1;
  if (argc < 2 || napi_get_value_double(env, argv[0], &handle) != napi_ok ||
      napi_get_value_double(env, argv[1], &offset) != napi_ok) {
    napi_throw_type_error(env, "ERR_PCIE_MMIO_TYPE", "expected (handle, offset) numbers");
    return nullptr;
  }
  Region* r = Lookup(handle);
  if (r == nullptr) {
    RawThrow(env, false, "mapping used after close");
    return nullptr;
  }
  if (Broken(r)) {
    napi_throw_error(env, "ERR_PCIE_MMIO_GONE", kGoneMessage);
    return nullptr;
  }
  if (!(offset >= 0 && offset <= static_cast<double>(r->size)) || std::floor(offset) != offset) {
    RawThrow(env, true, "offset is not an integer inside the mapping");
    return nullptr;
  }
  uint64_t o = static_cast<uint64_t>(offset);
  if (o + width > r->size) {
    RawThrow(env, true, "access runs past the end of the mapping");
    return nullptr;
  }
  if (o % width != 0) {
    RawThrow(env, true, "access is not naturally aligned");
    return nullptr;
  }
  if (write && !r->writable) {
    napi_throw_error(env, "ERR_PCIE_MMIO_READONLY", "mapping is read-only");
    return nullptr;
  }
  *off = o;
  return r;
}

template <typename T>
napi_value Read(napi_env env, napi_callback_info cbinfo) {
  uint64_t off;
  Region* r = CheckAccess(env, cbinfo, sizeof(T), nullptr, &off);
  if (r == nullptr) return nullptr;
  T v = ToLittle(*reinterpret_cast<volatile T*>(r->base + off));
  if (Broken(r)) {  // this very access faulted and read the rescue page
    napi_throw_error(env, "ERR_PCIE_MMIO_GONE", kGoneMessage);
    return nullptr;
  }
  napi_value result;
  if constexpr (sizeof(T) == 8)
    napi_create_bigint_uint64(env, v, &result);
  else
    napi_create_uint32(env, v, &result);
  return result;
}

template <typename T>
napi_value Write(napi_env env, napi_callback_info cbinfo) {
  uint64_t off;
  napi_value value;
  Region* r = CheckAccess(env, cbinfo, sizeof(T), &value, &off);
  if (r == nullptr) return nullptr;
  T v;
  if constexpr (sizeof(T) == 8) {
    uint64_t big;
    bool lossless;
    if (value == nullptr || napi_get_value_bigint_uint64(env, value, &big, &lossless) != napi_ok) {
      napi_throw_type_error(env, "ERR_PCIE_MMIO_TYPE", "a 64-bit value must be a bigint");
      return nullptr;
    }
    v = big;  // taken modulo 2^64, as the 32-bit writes take theirs modulo 2^32
  } else {
    uint32_t u;
    if (value == nullptr || napi_get_value_uint32(env, value, &u) != napi_ok) {
      napi_throw_type_error(env, "ERR_PCIE_MMIO_TYPE", "value must be a number");
      return nullptr;
    }
    v = static_cast<T>(u);
  }
  *reinterpret_cast<volatile T*>(r->base + off) = ToLittle(v);
  if (Broken(r)) napi_throw_error(env, "ERR_PCIE_MMIO_GONE", kGoneMessage);
  return nullptr;
}

// Orders every earlier store (to device memory and to DMA memory) before every
// later one, as a device sees them: sfence also drains write-combining buffers.
void Fence() {
#if defined(__x86_64__) || defined(__i386__)
  __asm__ __volatile__("mfence" ::: "memory");
#elif defined(__aarch64__)
  __asm__ __volatile__("dsb st" ::: "memory");
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

napi_value Barrier(napi_env, napi_callback_info) {
  Fence();
  return nullptr;
}

// Block copies use 32-bit accesses where offset and length allow (registers and
// operand RAM of the cards are 32-bit wide), bytes otherwise; never memcpy, whose
// vector and non-temporal moves a device window need not accept.
bool BlockArgs(const Napi::CallbackInfo& info, bool write, Region** r, uint64_t* off, uint8_t** data,
               size_t* len) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) {
    ThrowType(env, "handle must be a number");
    return false;
  }
  *r = Lookup(info[0].As<Napi::Number>().DoubleValue());
  if (*r == nullptr) {
    Napi::Error::New(env, "mapping used after close").ThrowAsJavaScriptException();
    return false;
  }
  if (Broken(*r)) {
    napi_throw_error(env, "ERR_PCIE_MMIO_GONE", kGoneMessage);
    return false;
  }
  if (!GetIndex(info, 1, "offset", off)) return false;
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowType(env, "block must be a Uint8Array");
    return false;
  }
  auto arr = info[2].As<Napi::Uint8Array>();
  *data = arr.Data();
  *len = arr.ByteLength();
  if (*off > (*r)->size || *len > (*r)->size - *off) {
    ThrowRange(env, "block of " + std::to_string(*len) + " bytes at offset " + std::to_string(*off) +
                        " runs past the end of the " + std::to_string((*r)->size) + "-byte mapping");
    return false;
  }
  if (write && !(*r)->writable) {
    Napi::Error::New(env, "mapping is read-only").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

template <bool kWrite>
Napi::Value Block(const Napi::CallbackInfo& info) {
  Region* r;
  uint64_t off;
  uint8_t* data;
  size_t len;
  if (!BlockArgs(info, kWrite, &r, &off, &data, &len)) return info.Env().Undefined();
  uint8_t* window = r->base + off;
  if (off % 4 == 0 && len % 4 == 0) {
    for (size_t i = 0; i < len; i += 4) {
      uint32_t v;
      if constexpr (kWrite) {
        std::memcpy(&v, data + i, 4);
        *reinterpret_cast<volatile uint32_t*>(window + i) = v;
      } else {
        v = *reinterpret_cast<const volatile uint32_t*>(window + i);
        std::memcpy(data + i, &v, 4);
      }
    }
  } else {
    for (size_t i = 0; i < len; i++) {
      if constexpr (kWrite)
        *reinterpret_cast<volatile uint8_t*>(window + i) = data[i];
      else
        data[i] = *reinterpret_cast<const volatile uint8_t*>(window + i);
    }
  }
  if (Broken(r)) napi_throw_error(info.Env(), "ERR_PCIE_MMIO_GONE", kGoneMessage);
  return info.Env().Undefined();
}

// mapFd(fd, offset, size, flags) -> handle. flags: 1 writable, 2 lock (pin) pages,
// 4 populate. The fd may be closed by the caller afterwards; the map holds its own reference.
Napi::Value MapFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint64_t offset, size;
  int32_t flags;
  if (!GetFd(info, 0, &fd) || !GetIndex(info, 1, "offset", &offset) || !GetIndex(info, 2, "size", &size) ||
      !GetInt(info, 3, "flags", &flags))
    return env.Undefined();
  if (size == 0) {
    ThrowRange(env, "cannot map 0 bytes");
    return env.Undefined();
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    ThrowErrno(env, "fstat", errno);
    return env.Undefined();
  }
  // A regular file (a test's BAR, a memfd) must cover the whole window: touching a
  // page past its end would raise SIGBUS. sysfs resourceN files report their BAR size.
  if (S_ISREG(st.st_mode) && (offset > static_cast<uint64_t>(st.st_size) ||
                              size > static_cast<uint64_t>(st.st_size) - offset)) {
    ThrowRange(env, "window of " + std::to_string(size) + " bytes at " + std::to_string(offset) +
                        " exceeds the file's " + std::to_string(st.st_size) + " bytes");
    return env.Undefined();
  }
  uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  uint64_t aligned = offset - offset % page;
  size_t len = static_cast<size_t>(size + (offset - aligned));
  bool writable = (flags & 1) != 0;
  int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  int mflags = MAP_SHARED | ((flags & 4) ? MAP_POPULATE : 0);
  void* addr = mmap(nullptr, len, prot, mflags, fd, static_cast<off_t>(aligned));
  if (addr == MAP_FAILED) {
    ThrowErrno(env, "mmap", errno);
    return env.Undefined();
  }
  if ((flags & 2) && mlock(addr, len) != 0) {
    int err = errno;
    munmap(addr, len);
    ThrowErrno(env, "mlock (pinning DMA memory)", err);
    return env.Undefined();
  }
  Region* r = new Region();
  r->map_addr = static_cast<uint8_t*>(addr);
  r->map_len = len;
  r->base = r->map_addr + (offset - aligned);
  r->size = size;
  r->writable = writable;
  r->guard = AddGuard(r->map_addr, len, prot);
  uint32_t slot;
  if (!free_slots.empty()) {
    slot = free_slots.back();
    free_slots.pop_back();
  } else {
    if (slots.size() > kSlotMask) {
      RemoveGuard(r->guard);
      munmap(addr, len);
      delete r;
      ThrowRange(env, "too many open mappings");
      return env.Undefined();
    }
    slot = static_cast<uint32_t>(slots.size());
    slots.emplace_back();
  }
  slots[slot].region = r;
  return Napi::Number::New(env, HandleOf(slot));
}

// unmap(handle) -> true if it unmapped, false if the handle was already closed.
// Any ArrayBuffer over the region is detached first, so no view can reach freed memory.
Napi::Value Unmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) {
    ThrowType(env, "handle must be a number");
    return env.Undefined();
  }
  double handle = info[0].As<Napi::Number>().DoubleValue();
  Region* r = Lookup(handle);
  if (r == nullptr) return Napi::Boolean::New(env, false);
  if (r->buffer != nullptr) DetachRef(env, r->buffer);
  for (napi_ref ref : r->views) DetachRef(env, ref);
  r->views.clear();
  RemoveGuard(r->guard);
  if (r->map_len > 0) munlock(r->map_addr, r->map_len);  // harmless when never locked
  munmap(r->map_addr, r->map_len);
  uint32_t slot = static_cast<uint32_t>(static_cast<uint64_t>(handle) & kSlotMask);
  slots[slot].region = nullptr;
  slots[slot].generation = (slots[slot].generation + 1) & 0xffffffffu;
  if (slots[slot].generation == 0) slots[slot].generation = 1;
  free_slots.push_back(slot);
  delete r;
  return Napi::Boolean::New(env, true);
}

// view(handle, offset, length) -> a new ArrayBuffer over [offset, offset + length) of
// the window (zero-copy), tracked like `buffer` and detached by unmap. The DMA pool
// makes one per buffer, so that freeing a buffer can detach exactly its views.
Napi::Value View(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Region* r = RegionArg(info, 0);
  if (r == nullptr) return env.Undefined();
  uint64_t offset, length;
  if (!GetIndex(info, 1, "offset", &offset) || !GetIndex(info, 2, "length", &length)) return env.Undefined();
  if (offset > r->size || length > r->size - offset || length == 0) {
    ThrowRange(env, "view of " + std::to_string(length) + " bytes at " + std::to_string(offset) +
                        " is not inside the " + std::to_string(r->size) + "-byte mapping");
    return env.Undefined();
  }
  if (r->views.size() >= r->prune_at) {
    std::vector<napi_ref> live;
    for (napi_ref ref : r->views) {
      napi_value v = nullptr;
      if (napi_get_reference_value(env, ref, &v) == napi_ok && v != nullptr)
        live.push_back(ref);
      else
        napi_delete_reference(env, ref);
    }
    r->views.swap(live);
    r->prune_at = r->views.size() * 2 > 64 ? r->views.size() * 2 : 64;
  }
  napi_value ab;
  if (napi_create_external_arraybuffer(env, r->base + offset, static_cast<size_t>(length), nullptr, nullptr,
                                       &ab) != napi_ok)
    return env.Undefined();
  napi_ref ref;
  napi_create_reference(env, ab, 0, &ref);
  r->views.push_back(ref);
  return Napi::Value(env, ab);
}

// detach(arrayBuffer) -> true if it was detached now. Cuts every typed array over it
// to length 0 (the DMA pool calls it when a buffer is freed).
Napi::Value Detach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArrayBuffer()) {
    ThrowType(env, "expected an ArrayBuffer");
    return env.Undefined();
  }
  bool detached = false;
  napi_is_detached_arraybuffer(env, info[0], &detached);
  if (detached) return Napi::Boolean::New(env, false);
  napi_status status = napi_detach_arraybuffer(env, info[0]);
  if (status != napi_ok) {
    ThrowType(env, "this ArrayBuffer cannot be detached (not one made by pcie-mmio)");
    return env.Undefined();
  }
  return Napi::Boolean::New(env, true);
}

// regionBroken(handle) -> whether an access to the region raised SIGBUS (see the top).
Napi::Value RegionBroken(const Napi::CallbackInfo& info) {
  Region* r = RegionArg(info, 0);
  if (r == nullptr) return info.Env().Undefined();
  return Napi::Boolean::New(info.Env(), Broken(r));
}

// buffer(handle) -> an ArrayBuffer over the whole window (zero-copy), detached by unmap.
Napi::Value Buffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Region* r = RegionArg(info, 0);
  if (r == nullptr) return env.Undefined();
  if (r->buffer != nullptr) {
    napi_value existing;
    if (napi_get_reference_value(env, r->buffer, &existing) == napi_ok && existing != nullptr)
      return Napi::Value(env, existing);
    napi_delete_reference(env, r->buffer);
    r->buffer = nullptr;
  }
  napi_value ab;
  // No finaliser: the memory belongs to the region, which detaches this buffer before unmapping.
  if (napi_create_external_arraybuffer(env, r->base, static_cast<size_t>(r->size), nullptr, nullptr, &ab) !=
      napi_ok)
    return env.Undefined();
  napi_create_reference(env, ab, 0, &r->buffer);
  return Napi::Value(env, ab);
}

// address(handle) -> the virtual address of byte 0, for /proc/self/pagemap look-ups.
Napi::Value Address(const Napi::CallbackInfo& info) {
  Region* r = RegionArg(info, 0);
  if (r == nullptr) return info.Env().Undefined();
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(reinterpret_cast<uintptr_t>(r->base)));
}

// memfd(name, size, hugetlb) -> fd of anonymous shared memory (2 MiB pages if asked),
// sealed against shrinking (F_SEAL_SHRINK): whoever else holds the fd (a device model
// in another process) cannot truncate it under our mappings.
Napi::Value Memfd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t size;
  if (!info[0].IsString()) {
    ThrowType(env, "name must be a string");
    return env.Undefined();
  }
  if (!GetIndex(info, 1, "size", &size)) return env.Undefined();
  bool huge = info[2].ToBoolean().Value();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  unsigned mflags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
#ifdef MFD_HUGETLB
  if (huge) mflags |= MFD_HUGETLB | (21u << 26);  // MFD_HUGE_2MB
#endif
  int fd = memfd_create(name.c_str(), mflags);
  if (fd < 0) {
    ThrowErrno(env, huge ? "memfd_create(MFD_HUGETLB)" : "memfd_create", errno);
    return env.Undefined();
  }
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, "ftruncate", err);
    return env.Undefined();
  }
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) != 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, "fcntl(F_ADD_SEALS, F_SEAL_SHRINK)", err);
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

// The register accesses are plain napi callbacks, not node-addon-api ones: no
// CallbackInfo to build on the per-register hot path.
struct RawExport {
  const char* name;
  napi_callback fn;
};

void ExportRaw(napi_env env, napi_value exports, std::initializer_list<RawExport> table) {
  for (const RawExport& e : table) {
    napi_value fn;
    napi_create_function(env, e.name, NAPI_AUTO_LENGTH, e.fn, nullptr, &fn);
    napi_set_named_property(env, exports, e.name, fn);
  }
}

}  // namespace

Region* RegionArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) {
    ThrowType(info.Env(), "handle must be a number");
    return nullptr;
  }
  Region* r = Lookup(info[i].As<Napi::Number>().DoubleValue());
  if (r == nullptr) Napi::Error::New(info.Env(), "mapping used after close").ThrowAsJavaScriptException();
  return r;
}

bool RegionSpan(Napi::Env, Region* r, uint8_t** base, uint64_t* size) {
  *base = r->base;
  *size = r->size;
  return true;
}

void InitRegion(Napi::Env env, Napi::Object exports) {
  InstallSigbusHandler();
  ExportRaw(env, exports,
            {{"read8", Read<uint8_t>}, {"read16", Read<uint16_t>}, {"read32", Read<uint32_t>},
             {"read64", Read<uint64_t>}, {"write8", Write<uint8_t>}, {"write16", Write<uint16_t>},
             {"write32", Write<uint32_t>}, {"write64", Write<uint64_t>}, {"barrier", Barrier}});
  ExportAll(env, exports,
            {{"readBlock", Block<false>}, {"writeBlock", Block<true>}, {"mapFd", MapFd}, {"unmap", Unmap},
             {"buffer", Buffer}, {"view", View}, {"detach", Detach}, {"regionBroken", RegionBroken},
             {"address", Address}, {"memfd", Memfd}});
}

}  // namespace pcie
