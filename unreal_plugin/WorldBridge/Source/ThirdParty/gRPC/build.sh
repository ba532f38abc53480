#!/usr/bin/env bash
# Builds gRPC, protobuf and abseil (static, release, the engine's compiler flags: see triplets/) for the
# WorldBridge Unreal plugin on Linux or Mac, copies their headers and the libraries listed in
# link-libraries.txt into Source/ThirdParty/gRPC/<Platform>/{include,lib} (with <Platform>/libs.txt, the
# link order gRPC.Build.cs reads) and generates the C++ stubs of the plugin's Protos/worldbridge/v1 into
# Source/WorldBridgeCore/Private/Generated.
#
# vcpkg's checkout, downloads, build trees and install tree (about 5 GB) live in a cache folder outside
# the plugin, never under Source/ (Unreal scans Source/ for modules); only the final headers and
# libraries are copied into the plugin.
#
# Usage:  UE_ROOT=/path/to/UnrealEngine ./build.sh [--universal]
#
# Environment:
#   UE_ROOT                   engine root (the folder that holds Engine/); required
#   WORLDBRIDGE_VCPKG_CACHE   vcpkg's working folder; default: ${XDG_CACHE_HOME:-~/.cache}/worldbridge/vcpkg
#   VCPKG_ROOT                an existing vcpkg checkout; default: cloned into $WORLDBRIDGE_VCPKG_CACHE/vcpkg
#   WORLDBRIDGE_PROTOS        proto root; default: the plugin's Protos/ (a copy of the repository's protos/,
#                             kept equal by scripts/gen_protos.py)
#   WORLDBRIDGE_GRPC_RTTI=1   build the grpc port with RTTI (see the compiler flags in triplets/*-ue.cmake)
#   WORLDBRIDGE_MACOS_MIN     macOS deployment target (default 12.0)
#   LINUX_MULTIARCH_ROOT      Unreal's Linux toolchain (as set for Unreal itself); default: found in UE_ROOT
#   UE_OPENSSL_INCLUDE_DIR / UE_OPENSSL_LIB_DIR / UE_ZLIB_INCLUDE_DIR / UE_ZLIB_LIB_DIR
#                             override the engine OpenSSL / zlib folders found under UE_ROOT
#   --universal (Mac)         build arm64 and x86_64 and merge them with lipo
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PLUGIN_DIR="$(cd "$SCRIPT_DIR/../../.." && pwd)"
CACHE_DIR="${WORLDBRIDGE_VCPKG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/worldbridge/vcpkg}"
PROTOS="${WORLDBRIDGE_PROTOS:-$PLUGIN_DIR/Protos}"
GENERATED="$PLUGIN_DIR/Source/WorldBridgeCore/Private/Generated"
# Same commit as "builtin-baseline" in vcpkg.json.
VCPKG_COMMIT="98aa6396292d57e737a6ef999d4225ca488859d5"
UNIVERSAL=0
[[ "${1:-}" == "--universal" ]] && UNIVERSAL=1

die() { echo "build.sh: $*" >&2; exit 1; }

[[ -n "${UE_ROOT:-}" && -d "$UE_ROOT/Engine" ]] || die "set UE_ROOT to the engine root (the folder that holds Engine/)"
[[ -d "$PROTOS/worldbridge/v1" ]] || die "no protos at $PROTOS/worldbridge/v1 (set WORLDBRIDGE_PROTOS)"
case "$CACHE_DIR" in
  "$PLUGIN_DIR"|"$PLUGIN_DIR"/*) die "WORLDBRIDGE_VCPKG_CACHE=$CACHE_DIR is inside the plugin; use a folder outside it" ;;
esac
mkdir -p "$CACHE_DIR"
echo "vcpkg working folder: $CACHE_DIR"
THIRD_PARTY="$UE_ROOT/Engine/Source/ThirdParty"

case "$(uname -s)" in
  Linux)  PLATFORM=Linux; UE_SUBDIR_PATTERN='*x86_64-unknown-linux-gnu*'; TRIPLETS=(x64-linux-ue) ;;
  Darwin) PLATFORM=Mac;   UE_SUBDIR_PATTERN='*Mac*'
          if [[ $UNIVERSAL == 1 ]]; then TRIPLETS=(arm64-osx-ue x64-osx-ue)
          elif [[ "$(uname -m)" == arm64 ]]; then TRIPLETS=(arm64-osx-ue)
          else TRIPLETS=(x64-osx-ue); fi ;;
  *) die "use build.ps1 on Windows" ;;
esac

# Newest match of a file name inside an engine ThirdParty folder, restricted to this platform.
find_in_engine() {  # <ThirdParty subfolder> <file name>
  find "$THIRD_PARTY/$1" -type f -name "$2" -path "$UE_SUBDIR_PATTERN" 2>/dev/null | sort -V | tail -n 1
}
find_header() {  # <ThirdParty subfolder> <relative header path>
  find "$THIRD_PARTY/$1" -type f -path "*/$2" 2>/dev/null | grep -v -e Win64 -e Android -e IOS -e TVOS \
    | { if [[ $PLATFORM == Linux ]]; then grep -v Mac; else grep -v -e Unix -e Linux; fi; } | sort -V | tail -n 1
}

if [[ -z "${UE_OPENSSL_INCLUDE_DIR:-}" ]]; then
  ssl_h="$(find_header OpenSSL openssl/ssl.h)"; [[ -n "$ssl_h" ]] || die "no openssl/ssl.h under $THIRD_PARTY/OpenSSL"
  UE_OPENSSL_INCLUDE_DIR="$(dirname "$(dirname "$ssl_h")")"
  export UE_OPENSSL_INCLUDE_DIR
fi
if [[ -z "${UE_OPENSSL_LIB_DIR:-}" ]]; then
  libssl="$(find_in_engine OpenSSL libssl.a)"; [[ -n "$libssl" ]] || die "no libssl.a for $PLATFORM under $THIRD_PARTY/OpenSSL"
  UE_OPENSSL_LIB_DIR="$(dirname "$libssl")"
  export UE_OPENSSL_LIB_DIR
fi
if [[ -z "${UE_ZLIB_INCLUDE_DIR:-}" ]]; then
  zlib_h="$(find_header zlib zlib.h)"; [[ -n "$zlib_h" ]] || die "no zlib.h under $THIRD_PARTY/zlib"
  UE_ZLIB_INCLUDE_DIR="$(dirname "$zlib_h")"
  export UE_ZLIB_INCLUDE_DIR
fi
if [[ -z "${UE_ZLIB_LIB_DIR:-}" ]]; then
  libz="$(find_in_engine zlib 'libz*.a')"; [[ -n "$libz" ]] || die "no libz*.a for $PLATFORM under $THIRD_PARTY/zlib"
  UE_ZLIB_LIB_DIR="$(dirname "$libz")"
  export UE_ZLIB_LIB_DIR
fi
echo "OpenSSL: $UE_OPENSSL_INCLUDE_DIR | $UE_OPENSSL_LIB_DIR"
echo "zlib:    $UE_ZLIB_INCLUDE_DIR | $UE_ZLIB_LIB_DIR"

if [[ $PLATFORM == Linux ]]; then
  # Unreal on Linux compiles with its own clang against its own libc++: gRPC must too.
  if [[ -z "${LINUX_MULTIARCH_ROOT:-}" ]]; then
    LINUX_MULTIARCH_ROOT="$(find "$UE_ROOT/Engine/Extras/ThirdPartyNotUE/SDKs/HostLinux/Linux_x64" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort -V | tail -n 1)"
  fi
  [[ -x "${LINUX_MULTIARCH_ROOT%/}/x86_64-unknown-linux-gnu/bin/clang++" ]] || \
    die "Unreal's Linux toolchain not found (set LINUX_MULTIARCH_ROOT; run Engine/Build/BatchFiles/Linux/SetupToolchain.sh for a source build)"
  export UE_LINUX_TOOLCHAIN_ROOT="${LINUX_MULTIARCH_ROOT%/}/x86_64-unknown-linux-gnu"
  export UE_LIBCXX_DIR="$THIRD_PARTY/Unix/LibCxx"
  [[ -f "$UE_LIBCXX_DIR/lib/Unix/x86_64-unknown-linux-gnu/libc++.a" ]] || die "no Unreal libc++ at $UE_LIBCXX_DIR"
  echo "Toolchain: $UE_LINUX_TOOLCHAIN_ROOT"
fi

if [[ -z "${VCPKG_ROOT:-}" ]]; then
  VCPKG_ROOT="$CACHE_DIR/vcpkg"
  if [[ ! -d "$VCPKG_ROOT/.git" ]]; then
    git clone https://github.com/microsoft/vcpkg.git "$VCPKG_ROOT"
  fi
  git -C "$VCPKG_ROOT" fetch --quiet origin "$VCPKG_COMMIT" || true
  git -C "$VCPKG_ROOT" checkout --quiet "$VCPKG_COMMIT"
fi
[[ -x "$VCPKG_ROOT/vcpkg" ]] || "$VCPKG_ROOT/bootstrap-vcpkg.sh" -disableMetrics

INSTALLED="$CACHE_DIR/installed"
for triplet in "${TRIPLETS[@]}"; do
  "$VCPKG_ROOT/vcpkg" install \
    --x-manifest-root="$SCRIPT_DIR" \
    --x-install-root="$INSTALLED" \
    --x-buildtrees-root="$CACHE_DIR/buildtrees" \
    --x-packages-root="$CACHE_DIR/packages" \
    --downloads-root="$CACHE_DIR/downloads" \
    --overlay-ports="$SCRIPT_DIR/overlay-ports" \
    --overlay-triplets="$SCRIPT_DIR/triplets" \
    --triplet="$triplet" --host-triplet="$triplet" \
    --clean-after-build
done

FIRST="$INSTALLED/${TRIPLETS[0]}"
# The libraries to link, in order; stops when vcpkg installed one that link-libraries.txt does not know.
RESOLVED="$("$SCRIPT_DIR/resolve-libs.sh" "$FIRST/lib" a)" || die "the installed libraries do not match link-libraries.txt (see above)"
LIBS=()
while IFS= read -r lib; do LIBS+=("$lib"); done <<< "$RESOLVED"
[[ ${#LIBS[@]} -gt 0 && -n "${LIBS[0]}" ]] || die "no libraries to link under $FIRST/lib"
if [[ ${#TRIPLETS[@]} -gt 1 ]]; then
  # Both architectures must have installed the same set.
  OTHER="$("$SCRIPT_DIR/resolve-libs.sh" "$INSTALLED/${TRIPLETS[1]}/lib" a)" || die "${TRIPLETS[1]}: the installed libraries do not match link-libraries.txt"
  [[ "$OTHER" == "$RESOLVED" ]] || die "${TRIPLETS[0]} and ${TRIPLETS[1]} installed different libraries"
fi

OUT="$SCRIPT_DIR/$PLATFORM"
rm -rf "$OUT"
mkdir -p "$OUT/include" "$OUT/lib"
# Headers, minus OpenSSL and zlib: those are linked from the engine.
(cd "$FIRST/include" && tar cf - --exclude=openssl --exclude=zlib.h --exclude=zconf.h .) | (cd "$OUT/include" && tar xf -)
for name in "${LIBS[@]}"; do
  if [[ ${#TRIPLETS[@]} -gt 1 ]]; then
    lipo -create "$FIRST/lib/$name" "$INSTALLED/${TRIPLETS[1]}/lib/$name" -output "$OUT/lib/$name"
  else
    cp "$FIRST/lib/$name" "$OUT/lib/$name"
  fi
done
{
  echo "# Written by build.sh from link-libraries.txt: the libraries in lib/, in link order (gRPC.Build.cs reads this)."
  printf '%s\n' "${LIBS[@]}"
} > "$OUT/libs.txt"

# Stubs, generated with the protoc and grpc_cpp_plugin of exactly these libraries.
TOOLS="$FIRST/tools"
PROTOC="$TOOLS/protobuf/protoc"
GRPC_PLUGIN="$TOOLS/grpc/grpc_cpp_plugin"
[[ -x "$PROTOC" && -x "$GRPC_PLUGIN" ]] || die "protoc or grpc_cpp_plugin missing under $TOOLS"
rm -rf "$GENERATED"
mkdir -p "$GENERATED"
"$PROTOC" -I "$PROTOS" --cpp_out="$GENERATED" --grpc_out="$GENERATED" \
  --plugin=protoc-gen-grpc="$GRPC_PLUGIN" "$PROTOS"/worldbridge/v1/*.proto

echo "Done: $OUT/{include,lib,libs.txt} and $GENERATED (${#LIBS[@]} libraries)"
echo "Protobuf $("$PROTOC" --version); rebuild the Unreal project now."
