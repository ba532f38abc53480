// Must NOT compile (tests/test_unreal_msvc_abi.py checks that it fails): an exported module class
// holding move-only futures without a deleted copy constructor, the shape check_exports.cpp guards
// against. If this ever compiles, the stand-ins or the compiler flags no longer reproduce MSVC's
// dllexport rules and check_exports.cpp proves nothing.
#include "Async/Future.h"
#include "CoreMinimal.h"
#include "Modules/ModuleInterface.h"

class __declspec(dllexport) FMoveOnlyMemberModule : public IModuleInterface
{
private:
	TArray<TFuture<void>> BackgroundWork;
};
