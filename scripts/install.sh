#!/usr/bin/env bash
# Set up WorldBridge in ./.venv: system packages (Mesa EGL for offscreen Panda3D rendering;
# gRPC C++, protoc, CMake and GoogleTest for the Unreal plugin's client core; clang for the
# plugin's MSVC-mode export check and shellcheck for its build scripts; Mono and NUnit for the
# Unity package's core), the pinned CPU build of PyTorch, then the package with its
# engine (Panda3D) and dev extras. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(
  libegl1 libegl-mesa0 libgl1-mesa-dri
  cmake g++ pkg-config protobuf-compiler libprotobuf-dev libgrpc++-dev protobuf-compiler-grpc
  libgtest-dev nlohmann-json3-dev clang shellcheck
  mono-devel mono-mcs libnunit-cil-dev nunit-console
)
missing=()
for p in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# CPU PyTorch first: a bare `torch` requirement would pull the CUDA wheels.
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[engine,dev]"
echo "WorldBridge installed in .venv ($(.venv/bin/python -c 'import worldbridge; print(worldbridge.__version__)'))"
