// API-surface stub of the Scriptable Render Pipeline Core package (com.unity.render-pipelines.core
// 12.x, Unity 2021.3; assembly Unity.RenderPipelines.Core.Runtime from
// com.unity.render-pipelines.core/Runtime/Unity.RenderPipelines.Core.Runtime.asmdef): only the
// members Runtime/HighDefinition uses. Signatures follow github.com/Unity-Technologies/Graphics,
// com.unity.render-pipelines.core/Runtime/Textures/, and the package's scripting reference
// docs.unity3d.com/Packages/com.unity.render-pipelines.core@12.1/api/.
// Bodies never run: the stub is compiled only to type-check the package.
namespace UnityEngine.Rendering
{
    // Graphics com.unity.render-pipelines.core/Runtime/Textures/RTHandle.cs
    // docs.unity3d.com/Packages/com.unity.render-pipelines.core@12.1/api/UnityEngine.Rendering.RTHandle.html
    public class RTHandle
    {
        internal RTHandle() { }
    }

    // Graphics com.unity.render-pipelines.core/Runtime/Textures/RTHandles.cs
    // docs.unity3d.com/Packages/com.unity.render-pipelines.core@12.1/api/UnityEngine.Rendering.RTHandles.html
    public static class RTHandles
    {
        // Graphics com.unity.render-pipelines.core/Runtime/Textures/RTHandles.cs
        public static RTHandle Alloc(RenderTexture tex) { throw null; }
        // Graphics com.unity.render-pipelines.core/Runtime/Textures/RTHandles.cs
        public static void Release(RTHandle rth) { throw null; }
    }
}
