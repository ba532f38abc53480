# Win64, static libraries on the dynamic release CRT (/MD): Unreal links /MD in every configuration.
set(VCPKG_TARGET_ARCHITECTURE x64)
set(VCPKG_CRT_LINKAGE dynamic)
set(VCPKG_LIBRARY_LINKAGE static)
set(VCPKG_BUILD_TYPE release)
set(VCPKG_ENV_PASSTHROUGH UE_OPENSSL_INCLUDE_DIR UE_OPENSSL_LIB_DIR UE_ZLIB_INCLUDE_DIR UE_ZLIB_LIB_DIR)
