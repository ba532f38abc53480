// Copyright WorldBridge. All Rights Reserved.

#include "WorldBridgeSettingsCustomization.h"

#include "DetailCategoryBuilder.h"
#include "DetailLayoutBuilder.h"
#include "DetailWidgetRow.h"
#include "WorldBridgeEditorModule.h"
#include "Widgets/Input/SButton.h"
#include "Widgets/Text/STextBlock.h"

#define LOCTEXT_NAMESPACE "WorldBridgeSettingsCustomization"

TSharedRef<IDetailCustomization> FWorldBridgeSettingsCustomization::MakeInstance()
{
	return MakeShared<FWorldBridgeSettingsCustomization>();
}

void FWorldBridgeSettingsCustomization::CustomizeDetails(IDetailLayoutBuilder& DetailBuilder)
{
	IDetailCategoryBuilder& Connection = DetailBuilder.EditCategory(TEXT("Connection"));
	Connection.AddCustomRow(LOCTEXT("TestConnectionSearch", "Test connection"))
		.NameContent()
		[
			SNew(STextBlock)
			.Text(LOCTEXT("TestConnectionName", "Server"))
			.Font(IDetailLayoutBuilder::GetDetailFont())
		]
		.ValueContent()
		.MinDesiredWidth(150.0f)
		[
			SNew(SButton)
			.Text(LOCTEXT("TestConnectionButton", "Test connection"))
			.ToolTipText(LOCTEXT("TestConnectionTooltip", "Handshake with the server above (GetServerInfo) on a worker thread; the result appears in a notification. Uses the saved settings."))
			.OnClicked_Lambda([]()
			{
				FWorldBridgeEditorModule::TestConnection();
				return FReply::Handled();
			})
		];
}

#undef LOCTEXT_NAMESPACE
