using System.IO;
using UnityEditor;
using UnityEditor.Build;
using UnityEditor.Build.Reporting;
using UnityEditor.UnityLinker;

namespace WorldBridge.EditorTools
{
    /// <summary>
    /// Hands the package's Runtime/link.xml to the Unity linker. Unity only reads link.xml
    /// files under Assets/, so without this IL2CPP builds would strip gRPC and protobuf types.
    /// </summary>
    public sealed class LinkXmlProvider : IUnityLinkerProcessor
    {
        /// <inheritdoc />
        public int callbackOrder { get { return 0; } }

        /// <inheritdoc />
        public string GenerateAdditionalLinkXmlFile(BuildReport report, UnityLinkerBuildPipelineData data)
        {
            var package = UnityEditor.PackageManager.PackageInfo.FindForAssembly(typeof(LinkXmlProvider).Assembly);
            if (package == null)
            {
                return null;
            }
            string path = Path.Combine(Path.Combine(package.resolvedPath, "Runtime"), "link.xml");
            return File.Exists(path) ? Path.GetFullPath(path) : null;
        }

        /// <summary>Nothing to do before the linker runs.</summary>
        public void OnBeforeRun(BuildReport report, UnityLinkerBuildPipelineData data)
        {
        }

        /// <summary>Nothing to do after the linker runs.</summary>
        public void OnAfterRun(BuildReport report, UnityLinkerBuildPipelineData data)
        {
        }
    }
}
