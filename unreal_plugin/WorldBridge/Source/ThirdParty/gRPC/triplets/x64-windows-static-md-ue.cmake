# Win64, static libraries on the dynamic release CRT (/MD): Unreal links /MD in every configuration.
set(VCPKG_TARGET_ARCHITECTURE x64)
set(VCPKG_CRT_LINKAGE dynamic)
set(VCPKG_LIBRARY_LINKAGE static)
set(VCPKG_BUILD_TYPE release)
set(VCPKG_ENV_PASSTHROUGH WORLDBRIDGE_GRPC_RTTI UE_OPENSSL_INCLUDE_DIR UE_OPENSSL_LIB_DIR UE_ZLIB_INCLUDE_DIR UE_ZLIB_LIB_DIR)
# Unreal's compiler settings (UE 5.3+ modules): no RTTI (/GR-). The libraries are compiled like the
# module that links them, so the inline code of their headers (abseil, protobuf and the C++ standard
# library all change with RTTI) is the same in both. abseil and protobuf detect /GR- (_CPPRTTI unset).
# gRPC does not promise to build without RTTI; its own RTTI use is guarded the same way
# (grpc_core::DownCast). Should a gRPC release not compile without it, WORLDBRIDGE_GRPC_RTTI=1 builds that
# one port with RTTI. (No visibility flags: a static library's symbols leave a DLL only when dllexport.)
# Keep these lines the same in every *-ue triplet: vcpkg hashes each triplet file to decide what to
# rebuild, so the flags live in the triplets themselves.
set(WORLDBRIDGE_RTTI_FLAG "/GR-")
if(PORT STREQUAL "grpc" AND "$ENV{WORLDBRIDGE_GRPC_RTTI}" STREQUAL "1")
  set(WORLDBRIDGE_RTTI_FLAG "")
endif()
set(VCPKG_CXX_FLAGS "${WORLDBRIDGE_RTTI_FLAG}")
