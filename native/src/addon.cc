// pcie-mmio: map, read, write, pin, wait. No crypto, no parsing, no policy
// (DESIGN rule 1); discovery, the choice of mode and every decision live in TypeScript.
#include "common.h"

namespace pcie {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitRegion(env, exports);
  InitPoll(env, exports);
  InitVfio(env, exports);
  return exports;
}

}  // namespace pcie

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return pcie::Init(env, exports); }

NODE_API_MODULE(pcie_mmio, InitAddon)
