// VFIO ioctl wrappers: one function per ioctl, arguments in, fields out. Which
// container, which IOVA, which interrupt index: TypeScript decides (lib/vfio.ts).
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <type_traits>
#include <vector>

#include "common.h"

namespace pcie {
namespace {

bool Ioctl(Napi::Env env, const char* what, int fd, unsigned long request, void* arg, int* result = nullptr) {
  int rc;
  do rc = ioctl(fd, request, arg);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    ThrowErrno(env, what, errno);
    return false;
  }
  if (result != nullptr) *result = rc;
  return true;
}

// Whether a VFIO info struct is asked about one of several things (a region, an
// interrupt): those carry an `index`, which the caller passes as argument 1.
template <typename T, typename = void>
constexpr bool kIndexed = false;
template <typename T>
constexpr bool kIndexed<T, std::void_t<decltype(T::index)>> = true;

// The "get info" ioctls: argument 0 is the fd (then the index, where T has one); T
// goes in zeroed with its argsz set, and comes back filled in. False after throwing.
template <typename T>
bool GetInfo(const Napi::CallbackInfo& info, const char* what, unsigned long request, T* out) {
  int fd;
  if (!GetFd(info, 0, &fd)) return false;
  *out = {};
  out->argsz = sizeof(T);
  if constexpr (kIndexed<T>) {
    int32_t index;
    if (!GetInt(info, 1, "index", &index)) return false;
    out->index = static_cast<uint32_t>(index);
  }
  return Ioctl(info.Env(), what, fd, request, out);
}

Napi::Value ApiVersion(const Napi::CallbackInfo& info) {
  int fd, rc;
  if (!GetFd(info, 0, &fd)) return info.Env().Undefined();
  if (!Ioctl(info.Env(), "VFIO_GET_API_VERSION", fd, VFIO_GET_API_VERSION, nullptr, &rc))
    return info.Env().Undefined();
  return Napi::Number::New(info.Env(), rc);
}

Napi::Value CheckExtension(const Napi::CallbackInfo& info) {
  int fd, rc;
  int32_t ext;
  if (!GetFd(info, 0, &fd) || !GetInt(info, 1, "extension", &ext)) return info.Env().Undefined();
  rc = ioctl(fd, VFIO_CHECK_EXTENSION, static_cast<unsigned long>(ext));
  return Napi::Number::New(info.Env(), rc < 0 ? 0 : rc);
}

Napi::Value GroupStatus(const Napi::CallbackInfo& info) {
  vfio_group_status st;
  if (!GetInfo(info, "VFIO_GROUP_GET_STATUS", VFIO_GROUP_GET_STATUS, &st)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), st.flags);
}

Napi::Value GroupSetContainer(const Napi::CallbackInfo& info) {
  int group, container;
  if (!GetFd(info, 0, &group) || !GetFd(info, 1, &container)) return info.Env().Undefined();
  Ioctl(info.Env(), "VFIO_GROUP_SET_CONTAINER", group, VFIO_GROUP_SET_CONTAINER, &container);
  return info.Env().Undefined();
}

Napi::Value SetIommu(const Napi::CallbackInfo& info) {
  int container;
  int32_t type;
  if (!GetFd(info, 0, &container) || !GetInt(info, 1, "type", &type)) return info.Env().Undefined();
  Ioctl(info.Env(), "VFIO_SET_IOMMU", container, VFIO_SET_IOMMU,
        reinterpret_cast<void*>(static_cast<uintptr_t>(type)));
  return info.Env().Undefined();
}

Napi::Value GroupDeviceFd(const Napi::CallbackInfo& info) {
  int group;
  if (!GetFd(info, 0, &group)) return info.Env().Undefined();
  if (!info[1].IsString()) {
    ThrowType(info.Env(), "device address must be a string");
    return info.Env().Undefined();
  }
  std::string bdf = info[1].As<Napi::String>().Utf8Value();
  int fd;
  if (!Ioctl(info.Env(), "VFIO_GROUP_GET_DEVICE_FD", group, VFIO_GROUP_GET_DEVICE_FD,
             const_cast<char*>(bdf.c_str()), &fd))
    return info.Env().Undefined();
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value DeviceInfo(const Napi::CallbackInfo& info) {
  vfio_device_info di;
  if (!GetInfo(info, "VFIO_DEVICE_GET_INFO", VFIO_DEVICE_GET_INFO, &di)) return info.Env().Undefined();
  return NumberObject(info.Env(), {{"flags", di.flags}, {"numRegions", di.num_regions}, {"numIrqs", di.num_irqs}});
}

Napi::Value RegionInfo(const Napi::CallbackInfo& info) {
  vfio_region_info ri;
  if (!GetInfo(info, "VFIO_DEVICE_GET_REGION_INFO", VFIO_DEVICE_GET_REGION_INFO, &ri)) return info.Env().Undefined();
  return NumberObject(info.Env(), {{"flags", ri.flags},
                                   {"size", static_cast<double>(ri.size)},
                                   {"offset", static_cast<double>(ri.offset)}});
}

Napi::Value IrqInfo(const Napi::CallbackInfo& info) {
  vfio_irq_info ii;
  if (!GetInfo(info, "VFIO_DEVICE_GET_IRQ_INFO", VFIO_DEVICE_GET_IRQ_INFO, &ii)) return info.Env().Undefined();
  return NumberObject(info.Env(), {{"flags", ii.flags}, {"count", ii.count}});
}

// setIrqs(deviceFd, index, start, action, eventfds[]): with eventfds, DATA_EVENTFD for
// `action` (TRIGGER: route vectors start.. to those fds, -1 = detach one); with an
// empty array, DATA_NONE for count 0 (TRIGGER: disable all) or `count` (MASK/UNMASK).
Napi::Value SetIrqs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  int32_t index, start, action, count;
  if (!GetFd(info, 0, &fd) || !GetInt(info, 1, "index", &index) || !GetInt(info, 2, "start", &start) ||
      !GetInt(info, 3, "action", &action) || !GetInt(info, 5, "count", &count))
    return env.Undefined();
  if (!info[4].IsArray()) {
    ThrowType(env, "eventfds must be an array");
    return env.Undefined();
  }
  auto fds = info[4].As<Napi::Array>();
  uint32_t n = fds.Length();
  if (n > 2048 || start < 0 || count < 0 || count > 2048) {
    ThrowRange(env, "interrupt vector range out of bounds");
    return env.Undefined();
  }
  std::vector<uint8_t> buf(sizeof(vfio_irq_set) + n * sizeof(int32_t));
  auto* set = reinterpret_cast<vfio_irq_set*>(buf.data());
  set->argsz = static_cast<uint32_t>(buf.size());
  set->index = static_cast<uint32_t>(index);
  set->start = static_cast<uint32_t>(start);
  set->flags = static_cast<uint32_t>(action) & VFIO_IRQ_SET_ACTION_TYPE_MASK;
  if (n > 0) {
    set->flags |= VFIO_IRQ_SET_DATA_EVENTFD;
    set->count = n;
    auto* data = reinterpret_cast<int32_t*>(set->data);
    for (uint32_t i = 0; i < n; i++) {
      Napi::Value v = fds[i];
      if (!v.IsNumber()) {
        ThrowType(env, "eventfds must hold numbers");
        return env.Undefined();
      }
      data[i] = v.As<Napi::Number>().Int32Value();
    }
  } else {
    set->flags |= VFIO_IRQ_SET_DATA_NONE;
    set->count = static_cast<uint32_t>(count);
  }
  Ioctl(env, "VFIO_DEVICE_SET_IRQS", fd, VFIO_DEVICE_SET_IRQS, set);
  return env.Undefined();
}

Napi::Value Reset(const Napi::CallbackInfo& info) {
  int fd;
  if (!GetFd(info, 0, &fd)) return info.Env().Undefined();
  Ioctl(info.Env(), "VFIO_DEVICE_RESET", fd, VFIO_DEVICE_RESET, nullptr);
  return info.Env().Undefined();
}

// mapDma(containerFd, region, offset, size, iova): let the device reach bytes
// [offset, offset+size) of a mapped region at `iova`, read and write.
Napi::Value MapDma(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int container;
  uint64_t offset, size, iova;
  if (!GetFd(info, 0, &container)) return env.Undefined();
  Region* r = RegionArg(info, 1);
  if (r == nullptr || !GetIndex(info, 2, "offset", &offset) || !GetIndex(info, 3, "size", &size) ||
      !GetBigU64(info, 4, "iova", &iova))
    return env.Undefined();
  uint8_t* base;
  uint64_t region_size;
  RegionSpan(env, r, &base, &region_size);
  if (size == 0 || offset > region_size || size > region_size - offset) {
    ThrowRange(env, "DMA window lies outside the mapped region");
    return env.Undefined();
  }
  vfio_iommu_type1_dma_map map = {};
  map.argsz = sizeof(map);
  map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
  map.vaddr = reinterpret_cast<uintptr_t>(base + offset);
  map.iova = iova;
  map.size = size;
  Ioctl(env, "VFIO_IOMMU_MAP_DMA", container, VFIO_IOMMU_MAP_DMA, &map);
  return env.Undefined();
}

Napi::Value UnmapDma(const Napi::CallbackInfo& info) {
  int container;
  uint64_t size, iova;
  if (!GetFd(info, 0, &container) || !GetBigU64(info, 1, "iova", &iova) || !GetIndex(info, 2, "size", &size))
    return info.Env().Undefined();
  vfio_iommu_type1_dma_unmap unmap = {};
  unmap.argsz = sizeof(unmap);
  unmap.iova = iova;
  unmap.size = size;
  Ioctl(info.Env(), "VFIO_IOMMU_UNMAP_DMA", container, VFIO_IOMMU_UNMAP_DMA, &unmap);
  return info.Env().Undefined();
}

}  // namespace

void InitVfio(Napi::Env env, Napi::Object exports) {
  Napi::Object v = Napi::Object::New(env);
  ExportAll(env, v,
            {{"apiVersion", ApiVersion}, {"checkExtension", CheckExtension}, {"groupStatus", GroupStatus},
             {"groupSetContainer", GroupSetContainer}, {"setIommu", SetIommu}, {"groupDeviceFd", GroupDeviceFd},
             {"deviceInfo", DeviceInfo}, {"regionInfo", RegionInfo}, {"irqInfo", IrqInfo}, {"setIrqs", SetIrqs},
             {"reset", Reset}, {"mapDma", MapDma}, {"unmapDma", UnmapDma}});
  exports.Set("vfio", v);
}

}  // namespace pcie
