# Installs the engine's OpenSSL instead of building one. build.sh / build.ps1 find it under
# <Engine>/Source/ThirdParty/OpenSSL and pass the folders in (the triplets let these variables through).
set(_inc "$ENV{UE_OPENSSL_INCLUDE_DIR}")
set(_lib "$ENV{UE_OPENSSL_LIB_DIR}")
if(NOT EXISTS "${_inc}/openssl/ssl.h")
  message(FATAL_ERROR "UE_OPENSSL_INCLUDE_DIR='${_inc}' has no openssl/ssl.h; set UE_ROOT (or UE_OPENSSL_INCLUDE_DIR) for build.sh / build.ps1")
endif()
file(GLOB _libs "${_lib}/*ssl${VCPKG_TARGET_STATIC_LIBRARY_SUFFIX}" "${_lib}/*crypto${VCPKG_TARGET_STATIC_LIBRARY_SUFFIX}")
list(LENGTH _libs _count)
if(NOT _count EQUAL 2)
  message(FATAL_ERROR "UE_OPENSSL_LIB_DIR='${_lib}' must hold exactly one ssl and one crypto static library, found: ${_libs}")
endif()
file(COPY "${_inc}/openssl" DESTINATION "${CURRENT_PACKAGES_DIR}/include")
file(COPY ${_libs} DESTINATION "${CURRENT_PACKAGES_DIR}/lib")
file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright"
     "OpenSSL as shipped with the Unreal Engine (${_inc}); see the engine's OpenSSL license.\n")
set(VCPKG_POLICY_MISMATCHED_NUMBER_OF_BINARIES enabled)
