// Copyright WorldBridge. All Rights Reserved.

#include "WorldBridgeSettings.h"

#define LOCTEXT_NAMESPACE "WorldBridgeSettings"

UWorldBridgeSettings::UWorldBridgeSettings()
{
	CategoryName = TEXT("Plugins");
	SectionName = TEXT("WorldBridge");
}

FName UWorldBridgeSettings::GetCategoryName() const
{
	return TEXT("Plugins");
}

#if WITH_EDITOR
FText UWorldBridgeSettings::GetSectionText() const
{
	return LOCTEXT("SectionText", "WorldBridge");
}

FText UWorldBridgeSettings::GetSectionDescription() const
{
	return LOCTEXT("SectionDescription", "Default server address and token of the WorldBridge live preview and capture rigs.");
}
#endif

#undef LOCTEXT_NAMESPACE
