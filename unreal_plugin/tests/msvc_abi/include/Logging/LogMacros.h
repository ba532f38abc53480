// Stand-in for Unreal's Logging/LogMacros.h (see CoreMinimal.h here): the category declaration has
// the engine's shape, an exported variable of a struct type defined in place.
#pragma once

#include "CoreMinimal.h"

struct FLogCategoryBase
{
	const TCHAR* Name = nullptr;
};

#define DECLARE_LOG_CATEGORY_EXTERN(CategoryName, DefaultVerbosity, CompileTimeVerbosity) \
	extern struct FLogCategory##CategoryName : public FLogCategoryBase \
	{ \
		FLogCategory##CategoryName() { Name = TEXT(#CategoryName); } \
	} CategoryName;
