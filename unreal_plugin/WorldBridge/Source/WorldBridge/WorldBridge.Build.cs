// Copyright WorldBridge. All Rights Reserved.

using System.IO;
using EpicGames.Core;
using UnrealBuildTool;

/// <summary>
/// WorldBridge runtime: the live preview component, the capture rig, project settings, and the
/// engine-free client core (Source/WorldBridgeCore) with its gRPC stubs compiled into this module.
/// </summary>
public class WorldBridge : ModuleRules
{
	public WorldBridge(ReadOnlyTargetRules Target) : base(Target)
	{
		// The core and the generated protobuf / gRPC code are compiled in this module and must never see
		// Unreal's macros (check, verify, TEXT, ...) through a shared PCH, and the generated *.pb.cc files
		// define file-local names that collide when unity builds paste files together. Every Unreal .cpp
		// here includes what it uses.
		PCHUsage = PCHUsageMode.NoPCHs;
		bUseUnity = false;

		// The generated protobuf / gRPC stubs compiled here (Private/Generated, not a system include path)
		// pull in protobuf / abseil / gRPC code that tests undefined macros in #if and shadows names; that
		// code is not ours to change. The properties moved between engine versions: UE 5.5 replaced
		// bEnableUndefinedIdentifierWarnings (read by nothing from 5.5 on) with UndefinedIdentifierWarningLevel,
		// and UE 5.6 moved both warning levels into CppCompileWarningSettings (the old names are obsolete).
#if UE_5_6_OR_LATER
		CppCompileWarningSettings.UndefinedIdentifierWarningLevel = WarningLevel.Off;
		CppCompileWarningSettings.ShadowVariableWarningLevel = WarningLevel.Warning;
#elif UE_5_5_OR_LATER
		UndefinedIdentifierWarningLevel = WarningLevel.Off;
		ShadowVariableWarningLevel = WarningLevel.Warning;
#else
		bEnableUndefinedIdentifierWarnings = false;
		ShadowVariableWarningLevel = WarningLevel.Warning;
#endif
		// gRPC is built with exceptions; the core may use std facilities that throw. RTTI stays off (the
		// engine's default): the gRPC, protobuf and abseil libraries are built with -fno-rtti / /GR- to match
		// (ThirdParty/gRPC/triplets).
		bEnableExceptions = true;

		PublicDependencyModuleNames.AddRange(new string[]
		{
			"Core",
			"CoreUObject",
			"Engine",
			"DeveloperSettings",
		});

		PrivateDependencyModuleNames.AddRange(new string[]
		{
			"RenderCore",
			"RHI",
			"Projects",
			"WorldBridgeCore",
			"gRPC",
		});

		string SourceDirectory = Path.GetFullPath(Path.Combine(ModuleDirectory, ".."));
		string CorePrivate = WorldBridgeCore.PrivateDirectory(SourceDirectory);
		string Generated = WorldBridgeCore.GeneratedDirectory(SourceDirectory);
		if (!File.Exists(Path.Combine(Generated, "worldbridge", "v1", "service.grpc.pb.h")))
		{
			throw new BuildException(
				"WorldBridge: the protobuf / gRPC stubs are missing (" + Generated + "). Run " +
				"Source/ThirdParty/gRPC/build.sh (Linux, Mac) or build.ps1 (Win64) from the plugin folder; " +
				"see Source/ThirdParty/gRPC/README.md.");
		}

		// Compile the core's sources (and Private/Generated below it) as part of this module.
		ConditionalAddModuleDirectory(new DirectoryReference(CorePrivate));
		PrivateIncludePaths.Add(CorePrivate);
		PrivateIncludePaths.Add(Generated);
	}
}
