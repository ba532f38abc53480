# Linux x86_64, static, release only, compiled with Unreal's bundled clang and libc++ (see README.md:
# Unreal on Linux links its own libc++, so libstdc++-built gRPC would not link or would crash).
set(VCPKG_TARGET_ARCHITECTURE x64)
set(VCPKG_CRT_LINKAGE dynamic)
set(VCPKG_LIBRARY_LINKAGE static)
set(VCPKG_BUILD_TYPE release)
set(VCPKG_CMAKE_SYSTEM_NAME Linux)
set(VCPKG_CHAINLOAD_TOOLCHAIN_FILE "${CMAKE_CURRENT_LIST_DIR}/../toolchains/ue-linux-clang.cmake")
set(VCPKG_ENV_PASSTHROUGH WORLDBRIDGE_GRPC_RTTI UE_LINUX_TOOLCHAIN_ROOT UE_LIBCXX_DIR UE_OPENSSL_INCLUDE_DIR UE_OPENSSL_LIB_DIR UE_ZLIB_INCLUDE_DIR UE_ZLIB_LIB_DIR)
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
