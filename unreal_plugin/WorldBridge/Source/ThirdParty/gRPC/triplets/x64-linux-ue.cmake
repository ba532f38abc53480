# Linux x86_64, static, release only, compiled with Unreal's bundled clang and libc++ (see README.md:
# Unreal on Linux links its own libc++, so libstdc++-built gRPC would not link or would crash).
set(VCPKG_TARGET_ARCHITECTURE x64)
set(VCPKG_CRT_LINKAGE dynamic)
set(VCPKG_LIBRARY_LINKAGE static)
set(VCPKG_BUILD_TYPE release)
set(VCPKG_CMAKE_SYSTEM_NAME Linux)
set(VCPKG_CHAINLOAD_TOOLCHAIN_FILE "${CMAKE_CURRENT_LIST_DIR}/../toolchains/ue-linux-clang.cmake")
set(VCPKG_ENV_PASSTHROUGH UE_LINUX_TOOLCHAIN_ROOT UE_LIBCXX_DIR UE_OPENSSL_INCLUDE_DIR UE_OPENSSL_LIB_DIR UE_ZLIB_INCLUDE_DIR UE_ZLIB_LIB_DIR)
