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
/// build.sh (Linux, Mac) or build.ps1 (Win64) with vcpkg; &lt;Platform&gt;/libs.txt, written by the same
/// script from link-libraries.txt, names the libraries to link and their order (exactly those: never
/// "whatever is in lib/", which would link protobuf-lite next to protobuf). OpenSSL and zlib are NOT in those folders:
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

		// The libraries to link, in order, as build.sh / build.ps1 resolved them from link-libraries.txt.
		string LibsTxt = Path.Combine(Root, "libs.txt");
		if (!File.Exists(LibsTxt))
		{
			throw new BuildException("WorldBridge: " + LibsTxt + " is missing (libraries built by an older script?); run " + BuildScript + " again.");
		}
		List<string> Libraries = File.ReadAllLines(LibsTxt)
			.Select(Line => Line.Trim())
			.Where(Line => Line.Length > 0 && !Line.StartsWith("#"))
			.ToList();
		if (Libraries.Count == 0)
		{
			throw new BuildException("WorldBridge: " + LibsTxt + " lists no libraries; run " + BuildScript + " again.");
		}
		foreach (string Library in Libraries)
		{
			string LibraryPath = Path.Combine(LibDir, Library);
			if (!Library.EndsWith(LibExtension) || !File.Exists(LibraryPath))
			{
				throw new BuildException("WorldBridge: " + LibsTxt + " lists " + Library + ", which is not a " + LibExtension + " in " + LibDir + "; run " + BuildScript + " again.");
			}
			PublicAdditionalLibraries.Add(LibraryPath);
		}

		// The engine's OpenSSL (libssl, libcrypto) and zlib satisfy gRPC's references.
		AddEngineThirdPartyPrivateStaticDependencies(Target, "OpenSSL", "zlib");

		// Static protobuf: PROTOBUF_USE_DLLS must stay undefined (protobuf tests `#if defined(...)`, so
		// even PROTOBUF_USE_DLLS=0 would switch it to dllimport). Unreal compiles without RTTI and the
		// libraries are built without it too (triplets/*-ue.cmake); protobuf detects that on its own, the
		// define only states it.
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
}
