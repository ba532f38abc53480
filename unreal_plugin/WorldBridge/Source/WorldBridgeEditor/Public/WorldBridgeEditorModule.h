// Copyright WorldBridge. All Rights Reserved.

#pragma once

#include "CoreMinimal.h"
#include "Modules/ModuleInterface.h"

/**
 * WorldBridge editor tools. Adds a "Test connection" button to Project Settings > Plugins > WorldBridge
 * (the settings section itself is registered by UDeveloperSettings) and Tools menu entries that start or
 * stop the capture of the selected WorldBridge capture rigs and test the connection.
 */
class FWorldBridgeEditorModule : public IModuleInterface
{
public:
	virtual void StartupModule() override;
	virtual void ShutdownModule() override;

	/** Runs the handshake against the project settings' server on a worker thread; the result shows in a notification. */
	static void TestConnection();

private:
	void RegisterMenus();
	void StartCaptureOnSelection();
	void StopCaptureOnSelection();
};
