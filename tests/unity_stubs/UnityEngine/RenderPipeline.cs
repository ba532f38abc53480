// Scriptable render pipeline types and script attributes of UnityEngine.CoreModule (see Object.cs).
// Members Unity added in 2022.2 are compiled only with UNITY_2022_2_OR_NEWER, as the package's
// code that uses them is, so a 2021.3 build of the package cannot use them by mistake.
using System;

namespace UnityEngine.Rendering
{
    // UnityCsReference 2021.3 Runtime/Export/RenderPipeline/RenderPipelineAsset.cs
    public abstract class RenderPipelineAsset : ScriptableObject
    {
    }

    // UnityCsReference 2021.3 Runtime/Export/Graphics/GraphicsSettings.bindings.cs
    public sealed partial class GraphicsSettings : Object
    {
        private GraphicsSettings() { }
        // UnityCsReference 2021.3 Runtime/Export/Graphics/GraphicsSettings.bindings.cs
        public static RenderPipelineAsset currentRenderPipeline { get { throw null; } }
    }

    // UnityCsReference 2021.3 Runtime/Export/RenderPipeline/RenderPipeline.cs
    public abstract class RenderPipeline
    {
#if UNITY_2022_2_OR_NEWER
        // UnityCsReference 2022.2 Runtime/Export/RenderPipeline/RenderPipeline.cs
        public static bool SupportsRenderRequest<RequestData>(Camera camera, RequestData data) { throw null; }
        // UnityCsReference 2022.2 Runtime/Export/RenderPipeline/RenderPipeline.cs
        public static void SubmitRenderRequest<RequestData>(Camera camera, RequestData data) { throw null; }

        // UnityCsReference 2022.2 Runtime/Export/RenderPipeline/RenderPipeline.cs
        public class StandardRequest
        {
            // UnityCsReference 2022.2 Runtime/Export/RenderPipeline/RenderPipeline.cs
            public RenderTexture destination = null;
        }
#endif
    }
}

namespace UnityEngine.Scripting
{
    // UnityCsReference 2021.3 Runtime/Export/Scripting/PreserveAttribute.cs
    [AttributeUsage(AttributeTargets.Assembly | AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Enum | AttributeTargets.Constructor | AttributeTargets.Method | AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Event | AttributeTargets.Interface | AttributeTargets.Delegate, Inherited = false)]
    public class PreserveAttribute : Attribute
    {
    }

    // UnityCsReference 2021.3 Runtime/Export/Scripting/AlwaysLinkAssemblyAttribute.cs
    [AttributeUsage(AttributeTargets.Assembly)]
    public class AlwaysLinkAssemblyAttribute : Attribute
    {
    }
}

namespace UnityEngine.Rendering
{
    // UnityCsReference 2021.3 Runtime/Export/Graphics/RenderingCommandBuffer.bindings.cs
    // (a parameter type of HDRP's FramePassCallback)
    public partial class CommandBuffer : IDisposable
    {
        // UnityCsReference 2021.3 Runtime/Export/Graphics/RenderingCommandBuffer.cs
        public void Dispose() { throw null; }
    }
}
