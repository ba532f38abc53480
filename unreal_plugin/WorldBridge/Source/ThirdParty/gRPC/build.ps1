# Builds gRPC, protobuf and abseil (static libraries, /MD release CRT, the engine's /GR-: see triplets/)
# for the WorldBridge Unreal plugin on Win64, copies their headers and the libraries listed in
# link-libraries.txt into Source\ThirdParty\gRPC\Win64\{include,lib} (with Win64\libs.txt, the link order
# gRPC.Build.cs reads) and generates the C++ stubs of the plugin's Protos\worldbridge\v1 into
# Source\WorldBridgeCore\Private\Generated.
#
# vcpkg's checkout, downloads, build trees and install tree (about 5 GB) live in a short path outside the
# plugin (Windows' 260-character path limit; Unreal scans Source\ for modules); only the final headers
# and libraries are copied into the plugin.
#
# Usage (Developer PowerShell for Visual Studio 2022):
#   $env:UE_ROOT = "C:\Program Files\Epic Games\UE_5.3"; .\build.ps1
#
# Environment: UE_ROOT (required); WORLDBRIDGE_VCPKG_CACHE (vcpkg's working folder; default
# %LOCALAPPDATA%\WorldBridge\vcpkg); VCPKG_ROOT (an existing vcpkg checkout; default: cloned into
# WORLDBRIDGE_VCPKG_CACHE\vcpkg); WORLDBRIDGE_PROTOS (proto root; default: the plugin's Protos\, a copy of
# the repository's protos\ kept equal by scripts/gen_protos.py); WORLDBRIDGE_GRPC_RTTI=1 (build the grpc
# port with RTTI, see triplets\x64-windows-static-md-ue.cmake); UE_OPENSSL_INCLUDE_DIR / UE_OPENSSL_LIB_DIR /
# UE_ZLIB_INCLUDE_DIR / UE_ZLIB_LIB_DIR (override the engine folders found under UE_ROOT).
$ErrorActionPreference = "Stop"

$ScriptDir = $PSScriptRoot
$PluginDir = (Resolve-Path (Join-Path $ScriptDir "..\..\..")).Path
$CacheDir = if ($env:WORLDBRIDGE_VCPKG_CACHE) { $env:WORLDBRIDGE_VCPKG_CACHE } else { Join-Path $env:LOCALAPPDATA "WorldBridge\vcpkg" }
$Protos = if ($env:WORLDBRIDGE_PROTOS) { $env:WORLDBRIDGE_PROTOS } else { Join-Path $PluginDir "Protos" }
$Generated = Join-Path $PluginDir "Source\WorldBridgeCore\Private\Generated"
$Triplet = "x64-windows-static-md-ue"
# Same commit as "builtin-baseline" in vcpkg.json.
$VcpkgCommit = "98aa6396292d57e737a6ef999d4225ca488859d5"

function Fail($Message) { throw "build.ps1: $Message" }

if (-not $env:UE_ROOT -or -not (Test-Path (Join-Path $env:UE_ROOT "Engine"))) { Fail "set UE_ROOT to the engine root (the folder that holds Engine\)" }
if (-not (Test-Path (Join-Path $Protos "worldbridge\v1"))) { Fail "no protos at $Protos\worldbridge\v1 (set WORLDBRIDGE_PROTOS)" }
New-Item -ItemType Directory -Force -Path $CacheDir | Out-Null
$CacheDir = (Resolve-Path $CacheDir).Path
if ($CacheDir.StartsWith($PluginDir, [System.StringComparison]::OrdinalIgnoreCase)) { Fail "WORLDBRIDGE_VCPKG_CACHE=$CacheDir is inside the plugin; use a folder outside it" }
Write-Host "vcpkg working folder: $CacheDir"
$ThirdParty = Join-Path $env:UE_ROOT "Engine\Source\ThirdParty"

# Newest Win64 (release) match of a file name inside an engine ThirdParty folder.
function Find-InEngine($Folder, $Name) {
    Get-ChildItem -Path (Join-Path $ThirdParty $Folder) -Recurse -File -Filter $Name -ErrorAction SilentlyContinue |
        Where-Object { $_.FullName -match "Win64" -and $_.FullName -notmatch "Debug" -and $_.FullName -notmatch "arm64" } |
        Sort-Object FullName | Select-Object -Last 1
}

if (-not $env:UE_OPENSSL_INCLUDE_DIR) {
    $SslH = Get-ChildItem -Path (Join-Path $ThirdParty "OpenSSL") -Recurse -File -Filter "ssl.h" |
        Where-Object { $_.FullName -match "Win64" -and $_.Directory.Name -eq "openssl" } | Sort-Object FullName | Select-Object -Last 1
    if (-not $SslH) { Fail "no Win64 openssl\ssl.h under $ThirdParty\OpenSSL" }
    $env:UE_OPENSSL_INCLUDE_DIR = $SslH.Directory.Parent.FullName
}
if (-not $env:UE_OPENSSL_LIB_DIR) {
    $LibSsl = Find-InEngine "OpenSSL" "libssl.lib"
    if (-not $LibSsl) { Fail "no Win64 libssl.lib under $ThirdParty\OpenSSL" }
    $env:UE_OPENSSL_LIB_DIR = $LibSsl.Directory.FullName
}
if (-not $env:UE_ZLIB_INCLUDE_DIR) {
    $ZlibH = Get-ChildItem -Path (Join-Path $ThirdParty "zlib") -Recurse -File -Filter "zlib.h" | Sort-Object FullName | Select-Object -Last 1
    if (-not $ZlibH) { Fail "no zlib.h under $ThirdParty\zlib" }
    $env:UE_ZLIB_INCLUDE_DIR = $ZlibH.Directory.FullName
}
if (-not $env:UE_ZLIB_LIB_DIR) {
    $LibZ = Find-InEngine "zlib" "zlibstatic.lib"
    if (-not $LibZ) { $LibZ = Find-InEngine "zlib" "zlib.lib" }
    if (-not $LibZ) { Fail "no Win64 zlibstatic.lib under $ThirdParty\zlib" }
    $env:UE_ZLIB_LIB_DIR = $LibZ.Directory.FullName
}
Write-Host "OpenSSL: $env:UE_OPENSSL_INCLUDE_DIR | $env:UE_OPENSSL_LIB_DIR"
Write-Host "zlib:    $env:UE_ZLIB_INCLUDE_DIR | $env:UE_ZLIB_LIB_DIR"

$Vcpkg = $env:VCPKG_ROOT
if (-not $Vcpkg) {
    $Vcpkg = Join-Path $CacheDir "vcpkg"
    if (-not (Test-Path (Join-Path $Vcpkg ".git"))) { git clone https://github.com/microsoft/vcpkg.git $Vcpkg; if ($LASTEXITCODE) { Fail "git clone failed" } }
    git -C $Vcpkg fetch --quiet origin $VcpkgCommit
    git -C $Vcpkg checkout --quiet $VcpkgCommit
    if ($LASTEXITCODE) { Fail "cannot check out vcpkg $VcpkgCommit" }
}
$VcpkgExe = Join-Path $Vcpkg "vcpkg.exe"
if (-not (Test-Path $VcpkgExe)) { & (Join-Path $Vcpkg "bootstrap-vcpkg.bat") -disableMetrics; if ($LASTEXITCODE) { Fail "vcpkg bootstrap failed" } }

$InstallRoot = Join-Path $CacheDir "installed"
& $VcpkgExe install `
    "--x-manifest-root=$ScriptDir" `
    "--x-install-root=$InstallRoot" `
    "--x-buildtrees-root=$(Join-Path $CacheDir 'buildtrees')" `
    "--x-packages-root=$(Join-Path $CacheDir 'packages')" `
    "--downloads-root=$(Join-Path $CacheDir 'downloads')" `
    "--overlay-ports=$ScriptDir\overlay-ports" `
    "--overlay-triplets=$ScriptDir\triplets" `
    "--triplet=$Triplet" "--host-triplet=$Triplet" `
    --clean-after-build
if ($LASTEXITCODE) { Fail "vcpkg install failed" }

$Installed = Join-Path $InstallRoot $Triplet

# The rules of resolve-libs.sh (which build.sh uses): every library vcpkg installed must match a line of
# link-libraries.txt; returns the file names to link, in list order.
function Resolve-LinkLibraries($LibDir, $ListFile) {
    $Found = @(Get-ChildItem -Path $LibDir -File -Filter "*.lib" | Sort-Object Name | ForEach-Object {
        $Name = [System.IO.Path]::GetFileNameWithoutExtension($_.Name)
        if ($Name.StartsWith("lib")) { $Name = $Name.Substring(3) }
        [pscustomobject]@{ Name = $Name; File = $_.Name; Claimed = $false }
    })
    $Order = New-Object System.Collections.Generic.List[string]
    $Errors = New-Object System.Collections.Generic.List[string]
    foreach ($Raw in Get-Content $ListFile) {
        $Line = ($Raw -replace "#.*$", "") -replace "\s", ""
        if (-not $Line) { continue }
        $Exclude = $Line.StartsWith("!")
        if ($Exclude) { $Line = $Line.Substring(1) }
        $Optional = $Line.EndsWith("?")
        if ($Optional) { $Line = $Line.Substring(0, $Line.Length - 1) }
        $Matched = $false
        foreach ($Lib in $Found) {
            # -clike: '*' is a wildcard, every other character literal ('+' included), case-sensitive.
            if (-not $Lib.Claimed -and $Lib.Name -clike $Line) {
                $Lib.Claimed = $true
                $Matched = $true
                if (-not $Exclude) { $Order.Add($Lib.File) }
            }
        }
        if (-not $Matched -and -not $Exclude -and -not $Optional) { $Errors.Add("required by link-libraries.txt but not installed: $Line") }
    }
    foreach ($Lib in $Found) {
        if (-not $Lib.Claimed) { $Errors.Add("installed but not in link-libraries.txt (add it to the link list or to the '!' lines): $($Lib.File)") }
    }
    if ($Errors.Count -gt 0) { Fail ($Errors -join "; ") }
    if ($Order.Count -eq 0) { Fail "no libraries to link under $LibDir" }
    return $Order
}
$Libs = Resolve-LinkLibraries (Join-Path $Installed "lib") (Join-Path $ScriptDir "link-libraries.txt")

$Out = Join-Path $ScriptDir "Win64"
if (Test-Path $Out) { Remove-Item -Recurse -Force $Out }
New-Item -ItemType Directory -Force -Path (Join-Path $Out "include"), (Join-Path $Out "lib") | Out-Null
# Headers, minus OpenSSL and zlib: those are linked from the engine.
Get-ChildItem -Path (Join-Path $Installed "include") |
    Where-Object { $_.Name -notin @("openssl", "zlib.h", "zconf.h") } |
    Copy-Item -Destination (Join-Path $Out "include") -Recurse -Force
foreach ($Name in $Libs) { Copy-Item -Path (Join-Path $Installed "lib\$Name") -Destination (Join-Path $Out "lib") -Force }
$LibsTxt = @("# Written by build.ps1 from link-libraries.txt: the libraries in lib\, in link order (gRPC.Build.cs reads this).") + $Libs
Set-Content -Path (Join-Path $Out "libs.txt") -Value $LibsTxt -Encoding ascii

# Stubs, generated with the protoc and grpc_cpp_plugin of exactly these libraries.
$Protoc = Join-Path $Installed "tools\protobuf\protoc.exe"
$GrpcPlugin = Join-Path $Installed "tools\grpc\grpc_cpp_plugin.exe"
if (-not (Test-Path $Protoc) -or -not (Test-Path $GrpcPlugin)) { Fail "protoc or grpc_cpp_plugin missing under $Installed\tools" }
if (Test-Path $Generated) { Remove-Item -Recurse -Force $Generated }
New-Item -ItemType Directory -Force -Path $Generated | Out-Null
$ProtoFiles = Get-ChildItem -Path (Join-Path $Protos "worldbridge\v1") -Filter "*.proto" | ForEach-Object { $_.FullName }
& $Protoc -I $Protos "--cpp_out=$Generated" "--grpc_out=$Generated" "--plugin=protoc-gen-grpc=$GrpcPlugin" @ProtoFiles
if ($LASTEXITCODE) { Fail "protoc failed" }

Write-Host "Done: $Out\{include,lib,libs.txt} and $Generated ($($Libs.Count) libraries)"
& $Protoc --version
