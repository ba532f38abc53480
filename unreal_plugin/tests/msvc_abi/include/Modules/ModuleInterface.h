// Stand-in for Unreal's Modules/ModuleInterface.h (see CoreMinimal.h here).
#pragma once

#include "CoreMinimal.h"

class IModuleInterface
{
public:
	virtual ~IModuleInterface() {}
	virtual void StartupModule() {}
	virtual void ShutdownModule() {}
};
