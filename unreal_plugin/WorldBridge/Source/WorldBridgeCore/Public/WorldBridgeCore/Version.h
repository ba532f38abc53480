// WorldBridge engine-free client core: the client's release version.
//
// Kept equal to the Python package, WorldBridge.uplugin and the Unity package.json (a test
// checks all of them).
#pragma once

namespace worldbridge {

constexpr char kClientVersion[] = "0.1.0";

}  // namespace worldbridge
