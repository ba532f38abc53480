// Copyright WorldBridge. All Rights Reserved.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using UnrealBuildTool;

/// <summary>
/// gRPC, protobuf and abseil as prebuilt static libraries (External module: nothing is compiled here).
///
/// Headers and libraries come from Source/ThirdParty/gRPC/&lt;Platform&gt;/{include,lib}, produced by
/// build.sh (Linux, Mac) or build.ps1 (Win64) with vcpkg. OpenSSL and zlib are NOT in those folders:
/// gRPC is built against the engine's own OpenSSL and zlib and links them from the engine, so one copy
/// of each ends up in the binary.
/// </summary>
public class gRPC : ModuleRules
{
	public gRPC(ReadOnlyTargetRules Target) : base(Target)
	{
		Type = ModuleType.External;

		string PlatformDir;
		string LibExtension;
		string BuildScript;
		if (Target.Platform == UnrealTargetPlatform.Win64)
		{
			PlatformDir = "Win64";
			LibExtension = ".lib";
			BuildScript = "Source/ThirdParty/gRPC/build.ps1";
		}
		else if (Target.Platform == UnrealTargetPlatform.Linux)
		{
			PlatformDir = "Linux";
			LibExtension = ".a";
			BuildScript = "Source/ThirdParty/gRPC/build.sh";
		}
		else if (Target.Platform == UnrealTargetPlatform.Mac)
		{
			PlatformDir = "Mac";
			LibExtension = ".a";
			BuildScript = "Source/ThirdParty/gRPC/build.sh";
		}
		else
		{
			throw new BuildException("WorldBridge: gRPC libraries are only provided for Win64, Linux and Mac, not " + Target.Platform);
		}

		string Root = Path.Combine(ModuleDirectory, PlatformDir);
		string IncludeDir = Path.Combine(Root, "include");
		string LibDir = Path.Combine(Root, "lib");
		string Marker = Path.Combine(IncludeDir, "grpcpp", "grpcpp.h");
		if (!File.Exists(Marker) || !Directory.Exists(LibDir))
		{
			throw new BuildException(
				"WorldBridge: the gRPC libraries for " + PlatformDir + " have not been built (missing " + Marker + "). " +
				"Run " + BuildScript + " from the plugin folder (see Source/ThirdParty/gRPC/README.md); it builds gRPC, " +
				"protobuf and abseil with vcpkg against the engine's OpenSSL and zlib and generates the protobuf stubs.");
		}

		// System include path: warnings inside gRPC/protobuf/abseil headers are not ours to fix.
		PublicSystemIncludePaths.Add(IncludeDir);

		List<string> Libraries = Directory.GetFiles(LibDir, "*" + LibExtension).ToList();
		if (Libraries.Count == 0)
		{
			throw new BuildException("WorldBridge: " + LibDir + " holds no " + LibExtension + " libraries; run " + BuildScript + " again.");
		}
		// Dependants before dependencies (matters only for linkers that resolve in one pass).
		Libraries.Sort((A, B) =>
		{
			int Order = LinkRank(Path.GetFileName(A)).CompareTo(LinkRank(Path.GetFileName(B)));
			return Order != 0 ? Order : string.CompareOrdinal(A, B);
		});
		PublicAdditionalLibraries.AddRange(Libraries);

		// The engine's OpenSSL (libssl, libcrypto) and zlib satisfy gRPC's references.
		AddEngineThirdPartyPrivateStaticDependencies(Target, "OpenSSL", "zlib");

		// Static protobuf: PROTOBUF_USE_DLLS must stay undefined (protobuf tests `#if defined(...)`, so
		// even PROTOBUF_USE_DLLS=0 would switch it to dllimport). Unreal compiles without RTTI; protobuf
		// detects that on its own, the define below only states it.
		PublicDefinitions.Add("GOOGLE_PROTOBUF_NO_RTTI=1");

		if (Target.Platform == UnrealTargetPlatform.Win64)
		{
			// Winsock (gRPC), certificate store (gRPC TLS roots), IP helper (c-ares), debug help and
			// bcrypt (abseil symbolizer and random seeding).
			PublicSystemLibraries.AddRange(new string[] { "ws2_32.lib", "crypt32.lib", "iphlpapi.lib", "dbghelp.lib", "bcrypt.lib" });
		}
		else if (Target.Platform == UnrealTargetPlatform.Linux)
		{
			PublicSystemLibraries.AddRange(new string[] { "pthread", "dl", "rt" });
		}
		else if (Target.Platform == UnrealTargetPlatform.Mac)
		{
			// abseil's time zone lookup uses CoreFoundation; c-ares uses libresolv.
			PublicFrameworks.Add("CoreFoundation");
			PublicSystemLibraries.Add("resolv");
		}
	}

	private static int LinkRank(string FileName)
	{
		string Name = FileName.StartsWith("lib") ? FileName.Substring(3) : FileName;
		string[] Order = { "grpc++", "grpc", "gpr", "upb", "address_sorting", "re2", "cares", "protobuf", "utf8", "absl" };
		for (int Index = 0; Index < Order.Length; ++Index)
		{
			if (Name.StartsWith(Order[Index]))
			{
				return Index;
			}
		}
		return Order.Length;
	}
}
