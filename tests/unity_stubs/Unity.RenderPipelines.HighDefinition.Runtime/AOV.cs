// API-surface stub of the High Definition Render Pipeline (com.unity.render-pipelines.high-definition
// 12.x, Unity 2021.3; assembly Unity.RenderPipelines.HighDefinition.Runtime from
// com.unity.render-pipelines.high-definition/Runtime/Unity.RenderPipelines.HighDefinition.Runtime.asmdef):
// only the members Runtime/HighDefinition/HdrpDepthSource.cs uses. Signatures follow
// github.com/Unity-Technologies/Graphics, com.unity.render-pipelines.high-definition/Runtime/,
// and the package's scripting reference docs.unity3d.com/Packages/com.unity.render-pipelines.high-definition@12.1/api/.
// Bodies never run: the stub is compiled only to type-check the package.
using System;
using System.Collections.Generic;

namespace UnityEngine.Rendering.HighDefinition
{
    // Graphics com.unity.render-pipelines.high-definition/Runtime/RenderPipeline/RenderPass/AOV/AOVBuffers.cs
    // docs.unity3d.com/Packages/com.unity.render-pipelines.high-definition@12.1/api/UnityEngine.Rendering.HighDefinition.AOVBuffers.html
    public enum AOVBuffers
    {
        Color,
        DepthStencil,
        Normals,
        MotionVectors,
        Output
    }

    // Graphics com.unity.render-pipelines.high-definition/Runtime/RenderPipeline/RenderPass/AOV/AOVRequestData.cs
    // docs.unity3d.com/Packages/com.unity.render-pipelines.high-definition@12.1/api/UnityEngine.Rendering.HighDefinition.RenderOutputProperties.html
    public struct RenderOutputProperties
    {
    }

    // Graphics com.unity.render-pipelines.high-definition/Runtime/RenderPipeline/RenderPass/AOV/AOVRequestData.cs
    public delegate void FramePassCallback(CommandBuffer cmd, List<RTHandle> buffers, RenderOutputProperties outputProperties);

    // Graphics com.unity.render-pipelines.high-definition/Runtime/RenderPipeline/RenderPass/AOV/AOVRequestData.cs
    public delegate RTHandle AOVRequestBufferAllocator(AOVBuffers aovBufferId);

    // Graphics com.unity.render-pipelines.high-definition/Runtime/RenderPipeline/RenderPass/AOV/AOVRequest.cs
    // docs.unity3d.com/Packages/com.unity.render-pipelines.high-definition@12.1/api/UnityEngine.Rendering.HighDefinition.AOVRequest.html
    public struct AOVRequest
    {
        // Graphics com.unity.render-pipelines.high-definition/Runtime/RenderPipeline/RenderPass/AOV/AOVRequest.cs
        public static AOVRequest NewDefault() { throw null; }
    }

    // Graphics com.unity.render-pipelines.high-definition/Runtime/RenderPipeline/RenderPass/AOV/AOVRequestDataCollection.cs
    // (the real class implements IEnumerable<AOVRequestData> and IDisposable; unused here)
    public class AOVRequestDataCollection
    {
        private AOVRequestDataCollection() { }
    }

    // Graphics com.unity.render-pipelines.high-definition/Runtime/RenderPipeline/RenderPass/AOV/AOVRequestBuilder.cs
    // docs.unity3d.com/Packages/com.unity.render-pipelines.high-definition@12.1/api/UnityEngine.Rendering.HighDefinition.AOVRequestBuilder.html
    public class AOVRequestBuilder : IDisposable
    {
        // Graphics com.unity.render-pipelines.high-definition/Runtime/RenderPipeline/RenderPass/AOV/AOVRequestBuilder.cs (implicit default constructor)
        public AOVRequestBuilder() { }
        // Graphics com.unity.render-pipelines.high-definition/Runtime/RenderPipeline/RenderPass/AOV/AOVRequestBuilder.cs
        public AOVRequestBuilder Add(AOVRequest settings, AOVRequestBufferAllocator bufferAllocator, List<GameObject> includedLightList, AOVBuffers[] aovBuffers, FramePassCallback callback) { throw null; }
        // Graphics com.unity.render-pipelines.high-definition/Runtime/RenderPipeline/RenderPass/AOV/AOVRequestBuilder.cs
        public AOVRequestDataCollection Build() { throw null; }
        // Graphics com.unity.render-pipelines.high-definition/Runtime/RenderPipeline/RenderPass/AOV/AOVRequestBuilder.cs
        public void Dispose() { throw null; }
    }

    // Graphics com.unity.render-pipelines.high-definition/Runtime/RenderPipeline/Camera/HDAdditionalCameraData.cs
    // docs.unity3d.com/Packages/com.unity.render-pipelines.high-definition@12.1/api/UnityEngine.Rendering.HighDefinition.HDAdditionalCameraData.html
    public partial class HDAdditionalCameraData : MonoBehaviour
    {
        // Graphics com.unity.render-pipelines.high-definition/Runtime/RenderPipeline/Camera/HDAdditionalCameraData.cs
        public enum AntialiasingMode
        {
            None,
            FastApproximateAntialiasing,
            TemporalAntialiasing,
            SubpixelMorphologicalAntiAliasing
        }

        // Graphics com.unity.render-pipelines.high-definition/Runtime/RenderPipeline/Camera/HDAdditionalCameraData.cs
        public AntialiasingMode antialiasing;

        // Graphics com.unity.render-pipelines.high-definition/Runtime/RenderPipeline/Camera/HDAdditionalCameraData.cs
        public void SetAOVRequests(AOVRequestDataCollection aovRequests) { throw null; }
    }
}
