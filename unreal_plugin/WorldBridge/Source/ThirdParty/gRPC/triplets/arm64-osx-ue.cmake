# macOS arm64 (Apple silicon), static, release only, Apple clang + libc++ (what Unreal uses on Mac).
set(VCPKG_TARGET_ARCHITECTURE arm64)
set(VCPKG_CRT_LINKAGE dynamic)
set(VCPKG_LIBRARY_LINKAGE static)
set(VCPKG_BUILD_TYPE release)
set(VCPKG_CMAKE_SYSTEM_NAME Darwin)
set(VCPKG_OSX_ARCHITECTURES arm64)
# Keep in step with the engine's minimum macOS version (MinMacOSVersion in the engine's Mac SDK settings).
if(DEFINED ENV{WORLDBRIDGE_MACOS_MIN})
  set(VCPKG_OSX_DEPLOYMENT_TARGET "$ENV{WORLDBRIDGE_MACOS_MIN}")
else()
  set(VCPKG_OSX_DEPLOYMENT_TARGET "12.0")
endif()
set(VCPKG_ENV_PASSTHROUGH WORLDBRIDGE_MACOS_MIN UE_OPENSSL_INCLUDE_DIR UE_OPENSSL_LIB_DIR UE_ZLIB_INCLUDE_DIR UE_ZLIB_LIB_DIR)
