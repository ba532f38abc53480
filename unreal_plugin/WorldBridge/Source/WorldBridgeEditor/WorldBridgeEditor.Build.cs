// Copyright WorldBridge. All Rights Reserved.

using UnrealBuildTool;

/// <summary>WorldBridge editor tools: "Test connection" in the project settings and capture rig menu entries.</summary>
public class WorldBridgeEditor : ModuleRules
{
	public WorldBridgeEditor(ReadOnlyTargetRules Target) : base(Target)
	{
		PCHUsage = PCHUsageMode.UseExplicitOrSharedPCHs;

		PublicDependencyModuleNames.AddRange(new string[] { "Core", "CoreUObject", "Engine" });

		PrivateDependencyModuleNames.AddRange(new string[]
		{
			"Slate",
			"SlateCore",
			"UnrealEd",
			"ToolMenus",
			"PropertyEditor",
			"WorldBridge",
		});
	}
}
