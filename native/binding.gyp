{
  "targets": [
    {
      "target_name": "pcie_mmio",
      "sources": ["src/addon.cc", "src/region.cc", "src/poll.cc", "src/vfio.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-fno-exceptions"],
      "cflags_cc!": ["-std=gnu++17", "-fno-rtti"]
    },
    {
      "target_name": "pkaccel_system",
      "sources": ["src/system.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-fno-exceptions"],
      "cflags_cc!": ["-std=gnu++17", "-fno-rtti"]
    }
  ]
}
