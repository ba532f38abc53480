// Win64 export check of the WorldBridge engine-layer headers that can be compiled without the engine.
//
// MSVC (and clang in MSVC mode) defines every implicitly declared special member of a
// __declspec(dllexport) class where the class is defined: an exported class with a move-only member
// (TFuture, TUniquePtr, TUniqueFunction) and no deleted copy constructor fails with C2280 in the
// first Win64 editor build, although Linux and Mac builds (no dllexport) are fine. This file compiles
// the exported headers with WORLDBRIDGE_API / WORLDBRIDGEEDITOR_API as __declspec(dllexport) against
// the stand-ins in include/ (which copy and move like the engine's types):
//
//   clang++ --target=x86_64-pc-windows-msvc -fms-extensions -fms-compatibility -std=c++20 -fsyntax-only \
//       -I unreal_plugin/tests/msvc_abi/include -I unreal_plugin/WorldBridge/Source/WorldBridge/Public \
//       -I unreal_plugin/WorldBridge/Source/WorldBridgeEditor/Public unreal_plugin/tests/msvc_abi/check_exports.cpp
//
// tests/test_unreal_msvc_abi.py runs it, and known_bad.cpp (which must fail) to prove the check bites.
//
// What is NOT compiled here: headers with UCLASS / USTRUCT / UENUM (WorldBridgeComponent.h,
// WorldBridgeCaptureRig.h, WorldBridgeSettings.h) need UnrealHeaderTool's *.generated.h; every
// engine-layer .cpp needs the engine's headers; the core (WorldBridgeCore/Private) and the protobuf /
// gRPC stubs need MSVC's standard library and the Windows SDK, which do not exist on Linux. Those
// are compiled for Linux with the engine's flags by unreal_plugin/CMakeLists.txt.
#define WORLDBRIDGE_API __declspec(dllexport)
#define WORLDBRIDGEEDITOR_API __declspec(dllexport)

#include "WorldBridgeConnection.h"
#include "WorldBridgeLog.h"
#include "WorldBridgeModule.h"
#include "WorldBridgeEditorModule.h"
