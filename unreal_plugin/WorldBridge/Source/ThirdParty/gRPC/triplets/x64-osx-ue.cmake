# macOS x86_64 (Intel), static, release only, Apple clang + libc++ (what Unreal uses on Mac).
set(VCPKG_TARGET_ARCHITECTURE x64)
set(VCPKG_CRT_LINKAGE dynamic)
set(VCPKG_LIBRARY_LINKAGE static)
set(VCPKG_BUILD_TYPE release)
set(VCPKG_CMAKE_SYSTEM_NAME Darwin)
set(VCPKG_OSX_ARCHITECTURES x86_64)
# Keep in step with the engine's minimum macOS version (MinMacOSVersion in the engine's Mac SDK settings).
if(DEFINED ENV{WORLDBRIDGE_MACOS_MIN})
  set(VCPKG_OSX_DEPLOYMENT_TARGET "$ENV{WORLDBRIDGE_MACOS_MIN}")
else()
  set(VCPKG_OSX_DEPLOYMENT_TARGET "12.0")
endif()
set(VCPKG_ENV_PASSTHROUGH WORLDBRIDGE_GRPC_RTTI WORLDBRIDGE_MACOS_MIN UE_OPENSSL_INCLUDE_DIR UE_OPENSSL_LIB_DIR UE_ZLIB_INCLUDE_DIR UE_ZLIB_LIB_DIR)
# Unreal's compiler settings (UE 5.3+ modules): no RTTI, hidden symbols. The libraries are compiled
# like the module that links them, so the inline code of their headers (abseil, protobuf and the C++
# standard library all change with RTTI) is the same in both, and nothing of gRPC, protobuf or abseil
# is exported from the plugin's shared library to clash with another copy in the process.
# abseil and protobuf detect -fno-rtti (ABSL_INTERNAL_HAS_RTTI, PROTOBUF_RTTI). gRPC does not promise
# to build without RTTI; its own RTTI use is guarded the same way (grpc_core::DownCast). Should a gRPC
# release not compile without it, WORLDBRIDGE_GRPC_RTTI=1 builds that one port with RTTI; the generated
# stubs and the module never share RTTI-dependent inline code with gRPC's internals (grpc++ headers use
# neither typeid nor dynamic_cast). Keep these lines the same in every *-ue triplet: vcpkg hashes each
# triplet file to decide what to rebuild, so the flags live in the triplets themselves.
set(WORLDBRIDGE_RTTI_FLAG "-fno-rtti")
if(PORT STREQUAL "grpc" AND "$ENV{WORLDBRIDGE_GRPC_RTTI}" STREQUAL "1")
  set(WORLDBRIDGE_RTTI_FLAG "")
endif()
set(VCPKG_C_FLAGS "-fvisibility=hidden")
set(VCPKG_CXX_FLAGS "-fvisibility=hidden -fvisibility-inlines-hidden ${WORLDBRIDGE_RTTI_FLAG}")
