// Copyright WorldBridge. All Rights Reserved.

#include "WorldBridgeEditorModule.h"

#include "Editor.h"
#include "Engine/Selection.h"
#include "Framework/Notifications/NotificationManager.h"
#include "Modules/ModuleManager.h"
#include "PropertyEditorModule.h"
#include "ToolMenus.h"
#include "Widgets/Notifications/SNotificationList.h"
#include "WorldBridgeCaptureRig.h"
#include "WorldBridgeConnection.h"
#include "WorldBridgeSettings.h"
#include "WorldBridgeSettingsCustomization.h"

#define LOCTEXT_NAMESPACE "WorldBridgeEditor"

namespace
{
	void Notify(const FText& Text, SNotificationItem::ECompletionState State)
	{
		FNotificationInfo Info(Text);
		Info.ExpireDuration = 6.0f;
		Info.bUseLargeFont = false;
		if (TSharedPtr<SNotificationItem> Item = FSlateNotificationManager::Get().AddNotification(Info))
		{
			Item->SetCompletionState(State);
		}
	}

	TArray<AWorldBridgeCaptureRig*> SelectedRigs()
	{
		TArray<AWorldBridgeCaptureRig*> Rigs;
		if (GEditor)
		{
			for (FSelectionIterator It(GEditor->GetSelectedActorIterator()); It; ++It)
			{
				if (AWorldBridgeCaptureRig* Rig = Cast<AWorldBridgeCaptureRig>(*It))
				{
					Rigs.Add(Rig);
				}
			}
		}
		if (Rigs.Num() == 0)
		{
			Notify(LOCTEXT("NoRig", "Select a WorldBridge Capture Rig in the level first."), SNotificationItem::CS_Fail);
		}
		return Rigs;
	}
}

void FWorldBridgeEditorModule::StartupModule()
{
	FPropertyEditorModule& PropertyEditor = FModuleManager::LoadModuleChecked<FPropertyEditorModule>(TEXT("PropertyEditor"));
	PropertyEditor.RegisterCustomClassLayout(UWorldBridgeSettings::StaticClass()->GetFName(),
		FOnGetDetailCustomizationInstance::CreateStatic(&FWorldBridgeSettingsCustomization::MakeInstance));
	PropertyEditor.NotifyCustomizationModuleChanged();

	UToolMenus::RegisterStartupCallback(FSimpleMulticastDelegate::FDelegate::CreateRaw(this, &FWorldBridgeEditorModule::RegisterMenus));
}

void FWorldBridgeEditorModule::ShutdownModule()
{
	UToolMenus::UnRegisterStartupCallback(this);
	UToolMenus::UnregisterOwner(this);

	if (FPropertyEditorModule* PropertyEditor = FModuleManager::GetModulePtr<FPropertyEditorModule>(TEXT("PropertyEditor")))
	{
		PropertyEditor->UnregisterCustomClassLayout(UWorldBridgeSettings::StaticClass()->GetFName());
		PropertyEditor->NotifyCustomizationModuleChanged();
	}
}

void FWorldBridgeEditorModule::RegisterMenus()
{
	FToolMenuOwnerScoped OwnerScoped(this);
	UToolMenu* Menu = UToolMenus::Get()->ExtendMenu(TEXT("LevelEditor.MainMenu.Tools"));
	FToolMenuSection& Section = Menu->AddSection(TEXT("WorldBridge"), LOCTEXT("SectionLabel", "WorldBridge"));
	Section.AddMenuEntry(TEXT("WorldBridgeStartCapture"),
		LOCTEXT("StartCapture", "Start Capture on Selected Rigs"),
		LOCTEXT("StartCaptureTooltip", "Plan the trajectory of each selected WorldBridge Capture Rig and record it to the server as a dataset."),
		FSlateIcon(),
		FUIAction(FExecuteAction::CreateRaw(this, &FWorldBridgeEditorModule::StartCaptureOnSelection)));
	Section.AddMenuEntry(TEXT("WorldBridgeStopCapture"),
		LOCTEXT("StopCapture", "Stop Capture on Selected Rigs"),
		LOCTEXT("StopCaptureTooltip", "Stop capturing; frames already captured are sent and the dataset is finished."),
		FSlateIcon(),
		FUIAction(FExecuteAction::CreateRaw(this, &FWorldBridgeEditorModule::StopCaptureOnSelection)));
	Section.AddMenuEntry(TEXT("WorldBridgeTestConnection"),
		LOCTEXT("TestConnection", "Test WorldBridge Connection"),
		LOCTEXT("TestConnectionTooltip", "Handshake with the server of Project Settings > Plugins > WorldBridge."),
		FSlateIcon(),
		FUIAction(FExecuteAction::CreateStatic(&FWorldBridgeEditorModule::TestConnection)));
}

void FWorldBridgeEditorModule::StartCaptureOnSelection()
{
	for (AWorldBridgeCaptureRig* Rig : SelectedRigs())
	{
		if (Rig->StartCapture())
		{
			Notify(FText::Format(LOCTEXT("CaptureStarted", "{0}: capture started"), FText::FromString(Rig->GetActorNameOrLabel())), SNotificationItem::CS_Success);
		}
		else
		{
			Notify(FText::Format(LOCTEXT("CaptureNotStarted", "{0}: capture not started (see the Output Log, LogWorldBridge)"), FText::FromString(Rig->GetActorNameOrLabel())), SNotificationItem::CS_Fail);
		}
	}
}

void FWorldBridgeEditorModule::StopCaptureOnSelection()
{
	for (AWorldBridgeCaptureRig* Rig : SelectedRigs())
	{
		Rig->StopCapture();
	}
}

void FWorldBridgeEditorModule::TestConnection()
{
	FNotificationInfo Info(FText::Format(LOCTEXT("Testing", "Connecting to {0} ..."), FText::FromString(UWorldBridgeSettings::Get()->ServerAddress)));
	Info.bFireAndForget = false;
	Info.ExpireDuration = 8.0f;
	Info.FadeOutDuration = 1.0f;
	TSharedPtr<SNotificationItem> Item = FSlateNotificationManager::Get().AddNotification(Info);
	if (Item.IsValid())
	{
		Item->SetCompletionState(SNotificationItem::CS_Pending);
	}
	TWeakPtr<SNotificationItem> WeakItem = Item;
	WorldBridge::TestConnectionAsync(FString(), FString(), [WeakItem](const FWorldBridgeConnectionTestResult& Result)
	{
		if (TSharedPtr<SNotificationItem> Pinned = WeakItem.Pin())
		{
			Pinned->SetText(FText::FromString(Result.Message));
			Pinned->SetCompletionState(Result.bSuccess ? SNotificationItem::CS_Success : SNotificationItem::CS_Fail);
			Pinned->ExpireAndFadeout();
		}
	});
}

#undef LOCTEXT_NAMESPACE

IMPLEMENT_MODULE(FWorldBridgeEditorModule, WorldBridgeEditor)
