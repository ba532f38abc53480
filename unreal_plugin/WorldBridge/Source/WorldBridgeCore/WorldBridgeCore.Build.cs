// Copyright WorldBridge. All Rights Reserved.

using System.IO;
using UnrealBuildTool;

/// <summary>
/// The engine-free WorldBridge client core (Public/WorldBridgeCore/*.h, Private/*.cpp and the protobuf /
/// gRPC stubs in Private/Generated/).
///
/// This module only describes the core; it compiles nothing itself. Its sources are compiled into the
/// WorldBridge runtime module (WorldBridge.Build.cs, ConditionalAddModuleDirectory): the core's public
/// classes carry no export macro (the same headers build with plain CMake), and in modular (editor)
/// builds every Unreal module is its own DLL / shared object, so a separate compiled core module could
/// not be linked from the runtime module on Win64 (no dllexport) or Linux/Mac (hidden visibility).
/// Linking the core into the one module that uses it avoids exporting anything.
///
/// Dependants get: Public/ on the include path (std-only headers, no gRPC), the gRPC libraries, and
/// CoreSourceDirectory / GeneratedDirectory to compile the sources.
/// </summary>
public class WorldBridgeCore : ModuleRules
{
	public WorldBridgeCore(ReadOnlyTargetRules Target) : base(Target)
	{
		Type = ModuleType.External;

		PublicIncludePaths.Add(Path.Combine(ModuleDirectory, "Public"));
		PublicDependencyModuleNames.Add("gRPC");
	}

	/// <summary>Source/WorldBridgeCore/Private: the core's .cpp files and private headers.</summary>
	public static string PrivateDirectory(string PluginSourceDirectory)
	{
		return Path.Combine(PluginSourceDirectory, "WorldBridgeCore", "Private");
	}

	/// <summary>Source/WorldBridgeCore/Private/Generated: protoc output (worldbridge/v1/*.pb.{h,cc}).</summary>
	public static string GeneratedDirectory(string PluginSourceDirectory)
	{
		return Path.Combine(PrivateDirectory(PluginSourceDirectory), "Generated");
	}
}
