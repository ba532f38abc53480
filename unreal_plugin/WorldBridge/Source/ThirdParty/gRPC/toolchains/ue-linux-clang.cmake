# Chain-loaded by triplets/x64-linux-ue.cmake: compile with the clang toolchain Unreal ships for Linux
# and against Unreal's libc++ (Engine/Source/ThirdParty/Unix/LibCxx), as Unreal's own modules are.
#   UE_LINUX_TOOLCHAIN_ROOT  .../HostLinux/Linux_x64/<version>/x86_64-unknown-linux-gnu (has bin/clang++)
#   UE_LIBCXX_DIR            <Engine>/Source/ThirdParty/Unix/LibCxx
if(NOT DEFINED ENV{UE_LINUX_TOOLCHAIN_ROOT} OR NOT DEFINED ENV{UE_LIBCXX_DIR})
  message(FATAL_ERROR "UE_LINUX_TOOLCHAIN_ROOT and UE_LIBCXX_DIR must be set (build.sh sets them from UE_ROOT)")
endif()
set(UE_TC "$ENV{UE_LINUX_TOOLCHAIN_ROOT}")
set(UE_LIBCXX "$ENV{UE_LIBCXX_DIR}")

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_SYSROOT "${UE_TC}")
set(CMAKE_C_COMPILER "${UE_TC}/bin/clang")
set(CMAKE_CXX_COMPILER "${UE_TC}/bin/clang++")
set(CMAKE_C_COMPILER_TARGET x86_64-unknown-linux-gnu)
set(CMAKE_CXX_COMPILER_TARGET x86_64-unknown-linux-gnu)
if(EXISTS "${UE_TC}/bin/llvm-ar")
  set(CMAKE_AR "${UE_TC}/bin/llvm-ar" CACHE FILEPATH "")
  set(CMAKE_RANLIB "${UE_TC}/bin/llvm-ranlib" CACHE FILEPATH "")
endif()
# Plugin modules are shared objects in editor builds.
set(CMAKE_POSITION_INDEPENDENT_CODE ON)

set(UE_LIBCXX_LIB "${UE_LIBCXX}/lib/Unix/x86_64-unknown-linux-gnu")
# VCPKG_C_FLAGS / VCPKG_CXX_FLAGS come from the triplet (the engine's -fno-rtti and hidden visibility):
# vcpkg applies them through its own toolchains, which a chain-loaded toolchain replaces, so they are
# added here.
set(CMAKE_C_FLAGS_INIT "-fPIC ${VCPKG_C_FLAGS}")
set(CMAKE_CXX_FLAGS_INIT "-fPIC -nostdinc++ -isystem ${UE_LIBCXX}/include -isystem ${UE_LIBCXX}/include/c++/v1 ${VCPKG_CXX_FLAGS}")
set(UE_LINK_LIBCXX "-fuse-ld=lld -nostdlib++ ${UE_LIBCXX_LIB}/libc++.a ${UE_LIBCXX_LIB}/libc++abi.a -lm -lpthread -ldl")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${UE_LINK_LIBCXX}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${UE_LINK_LIBCXX}")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "${UE_LINK_LIBCXX}")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
