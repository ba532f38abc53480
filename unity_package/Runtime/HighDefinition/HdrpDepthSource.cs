using System;
using UnityEngine;
using UnityEngine.Rendering;
using UnityEngine.Rendering.HighDefinition;
using UnityEngine.Scripting;

// Created by name from CameraCapture (WorldBridge.Runtime cannot reference HDRP), so IL2CPP
// must keep this assembly and type although nothing references them statically.
[assembly: AlwaysLinkAssembly]

namespace WorldBridge.Unity.HighDefinition
{
    /// <summary>
    /// HDRP depth for <see cref="CameraCapture"/>: an Arbitrary Output Variable request for
    /// <c>AOVBuffers.DepthStencil</c> on the capture's helper camera copies HDRP's depth buffer
    /// (raw device depth, reversed where <c>SystemInfo.usesReversedZBuffer</c>) into the
    /// capture's RFloat target during every render of that camera.
    /// </summary>
    /// <remarks>
    /// HDRP's AOV API (HDRP 12+, <c>HDAdditionalCameraData.SetAOVRequests</c>). The helper
    /// camera's anti-aliasing is set to none so that temporal anti-aliasing never blends one
    /// captured pose into the next. Compiled only when com.unity.render-pipelines.high-definition
    /// 12 or later is installed (asmdef version define WORLDBRIDGE_HDRP).
    /// </remarks>
    [Preserve]
    public sealed class HdrpDepthSource : IPipelineDepthSource
    {
        private RTHandle _target;
        private HDAdditionalCameraData _cameraData;

        /// <summary>Creates an unattached depth source.</summary>
        [Preserve]
        public HdrpDepthSource()
        {
        }

        /// <inheritdoc />
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        /// <exception cref="InvalidOperationException">Already attached.</exception>
        public void Attach(Camera helper, RenderTexture rawDepth)
        {
            if (helper == null)
            {
                throw new ArgumentNullException("helper");
            }
            if (rawDepth == null)
            {
                throw new ArgumentNullException("rawDepth");
            }
            if (_target != null)
            {
                throw new InvalidOperationException("this HDRP depth source is already attached to a camera");
            }
            _cameraData = helper.GetComponent<HDAdditionalCameraData>();
            if (_cameraData == null)
            {
                _cameraData = helper.gameObject.AddComponent<HDAdditionalCameraData>();
            }
            _cameraData.antialiasing = HDAdditionalCameraData.AntialiasingMode.None;
            _target = RTHandles.Alloc(rawDepth);
            var builder = new AOVRequestBuilder();
            builder.Add(AOVRequest.NewDefault(), AllocateBuffer, null, new[] { AOVBuffers.DepthStencil },
                (cmd, buffers, properties) => { });
            SetRequests(builder.Build());
        }

        // Newer HDRP releases mark HDAdditionalCameraData.SetAOVRequests obsolete in favour of an
        // extension method with the same effect; the member is kept for every HDRP 12+ release.
#pragma warning disable 618
        private void SetRequests(AOVRequestDataCollection requests)
        {
            _cameraData.SetAOVRequests(requests);
        }
#pragma warning restore 618

        private RTHandle AllocateBuffer(AOVBuffers buffer)
        {
            return buffer == AOVBuffers.DepthStencil ? _target : null;
        }

        /// <summary>Removes the AOV request and releases the handle (not the RenderTexture, which the capture owns).</summary>
        public void Dispose()
        {
            if (_cameraData != null)
            {
                SetRequests(null);
                _cameraData = null;
            }
            if (_target != null)
            {
                RTHandles.Release(_target);
                _target = null;
            }
        }
    }
}
