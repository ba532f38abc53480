# Builds gRPC, protobuf and abseil (static libraries, /MD release CRT) for the WorldBridge Unreal plugin
# on Win64, copies headers and libraries into Source\ThirdParty\gRPC\Win64\{include,lib} and generates
# the C++ stubs of protos\worldbridge\v1 into Source\WorldBridgeCore\Private\Generated.
#
# Usage (Developer PowerShell for Visual Studio 2022):
#   $env:UE_ROOT = "C:\Program Files\Epic Games\UE_5.3"; .\build.ps1
#
# Environment: UE_ROOT (required), VCPKG_ROOT (optional existing vcpkg), WORLDBRIDGE_PROTOS (proto root;
# default ..\..\..\..\..\protos), UE_OPENSSL_INCLUDE_DIR / UE_OPENSSL_LIB_DIR / UE_ZLIB_INCLUDE_DIR /
# UE_ZLIB_LIB_DIR (override the engine folders found under UE_ROOT).
$ErrorActionPreference = "Stop"

$ScriptDir = $PSScriptRoot
$PluginDir = (Resolve-Path (Join-Path $ScriptDir "..\..\..")).Path
$BuildDir = Join-Path $ScriptDir ".build"
$Protos = if ($env:WORLDBRIDGE_PROTOS) { $env:WORLDBRIDGE_PROTOS } else { Join-Path $ScriptDir "..\..\..\..\..\protos" }
$Generated = Join-Path $PluginDir "Source\WorldBridgeCore\Private\Generated"
$Triplet = "x64-windows-static-md-ue"
# Same commit as "builtin-baseline" in vcpkg.json.
$VcpkgCommit = "98aa6396292d57e737a6ef999d4225ca488859d5"

function Fail($Message) { throw "build.ps1: $Message" }

if (-not $env:UE_ROOT -or -not (Test-Path (Join-Path $env:UE_ROOT "Engine"))) { Fail "set UE_ROOT to the engine root (the folder that holds Engine\)" }
if (-not (Test-Path (Join-Path $Protos "worldbridge\v1"))) { Fail "no protos at $Protos\worldbridge\v1 (set WORLDBRIDGE_PROTOS)" }
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
    $Vcpkg = Join-Path $BuildDir "vcpkg"
    if (-not (Test-Path (Join-Path $Vcpkg ".git"))) { git clone https://github.com/microsoft/vcpkg.git $Vcpkg; if ($LASTEXITCODE) { Fail "git clone failed" } }
    git -C $Vcpkg fetch --quiet origin $VcpkgCommit
    git -C $Vcpkg checkout --quiet $VcpkgCommit
    if ($LASTEXITCODE) { Fail "cannot check out vcpkg $VcpkgCommit" }
}
$VcpkgExe = Join-Path $Vcpkg "vcpkg.exe"
if (-not (Test-Path $VcpkgExe)) { & (Join-Path $Vcpkg "bootstrap-vcpkg.bat") -disableMetrics; if ($LASTEXITCODE) { Fail "vcpkg bootstrap failed" } }

& $VcpkgExe install `
    "--x-manifest-root=$ScriptDir" `
    "--x-install-root=$BuildDir\installed" `
    "--overlay-ports=$ScriptDir\overlay-ports" `
    "--overlay-triplets=$ScriptDir\triplets" `
    "--triplet=$Triplet" "--host-triplet=$Triplet" `
    --clean-after-build
if ($LASTEXITCODE) { Fail "vcpkg install failed" }

$Installed = Join-Path $BuildDir "installed\$Triplet"
$Out = Join-Path $ScriptDir "Win64"
if (Test-Path $Out) { Remove-Item -Recurse -Force $Out }
New-Item -ItemType Directory -Force -Path (Join-Path $Out "include"), (Join-Path $Out "lib") | Out-Null
# Headers and libraries, minus OpenSSL and zlib: those are linked from the engine.
Get-ChildItem -Path (Join-Path $Installed "include") |
    Where-Object { $_.Name -notin @("openssl", "zlib.h", "zconf.h") } |
    Copy-Item -Destination (Join-Path $Out "include") -Recurse -Force
Get-ChildItem -Path (Join-Path $Installed "lib") -Filter "*.lib" |
    Where-Object { $_.Name -notin @("libssl.lib", "libcrypto.lib", "zlib.lib") } |
    Copy-Item -Destination (Join-Path $Out "lib") -Force

# Stubs, generated with the protoc and grpc_cpp_plugin of exactly these libraries.
$Protoc = Join-Path $Installed "tools\protobuf\protoc.exe"
$GrpcPlugin = Join-Path $Installed "tools\grpc\grpc_cpp_plugin.exe"
if (-not (Test-Path $Protoc) -or -not (Test-Path $GrpcPlugin)) { Fail "protoc or grpc_cpp_plugin missing under $Installed\tools" }
if (Test-Path $Generated) { Remove-Item -Recurse -Force $Generated }
New-Item -ItemType Directory -Force -Path $Generated | Out-Null
$ProtoFiles = Get-ChildItem -Path (Join-Path $Protos "worldbridge\v1") -Filter "*.proto" | ForEach-Object { $_.FullName }
& $Protoc -I $Protos "--cpp_out=$Generated" "--grpc_out=$Generated" "--plugin=protoc-gen-grpc=$GrpcPlugin" @ProtoFiles
if ($LASTEXITCODE) { Fail "protoc failed" }

Write-Host "Done: $Out\{include,lib} and $Generated"
& $Protoc --version
