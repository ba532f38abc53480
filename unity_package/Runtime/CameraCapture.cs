using System;
using UnityEngine;
using UnityEngine.Rendering;
using WorldBridge.Core;

namespace WorldBridge.Unity
{
    /// <summary>One captured view: colour, optional depth and the camera at capture time.</summary>
    public sealed class CaptureResult
    {
        /// <summary>Image width, pixels.</summary>
        public int Width;
        /// <summary>Image height, pixels.</summary>
        public int Height;
        /// <summary>RGBA8 bytes, rows bottom-up (Texture2D order), sRGB-encoded.</summary>
        public byte[] Rgba;
        /// <summary>Planar depth in metres (linear eye depth), rows bottom-up; 0 invalid, +inf sky; null without depth.</summary>
        public float[] DepthMetres;
        /// <summary>Camera position at capture, metres (Unity world).</summary>
        public Vec3 Position;
        /// <summary>Camera rotation at capture.</summary>
        public Quat Rotation;
        /// <summary>Intrinsics of the captured image.</summary>
        public PinholeIntrinsics Intrinsics;
        /// <summary>Set when a readback failed; the other fields are then incomplete.</summary>
        public string Error;
    }

    /// <summary>
    /// Renders a depth attachment for a pipeline that WorldBridge.Runtime cannot reference
    /// directly. WorldBridge.Runtime.HighDefinition implements it for HDRP (compiled only
    /// when the HDRP package is installed) and <see cref="CameraCapture"/> finds it by name.
    /// </summary>
    public interface IPipelineDepthSource : IDisposable
    {
        /// <summary>
        /// Sets up <paramref name="helper"/> (a disabled camera owned by the capture) so that
        /// each of its renders also writes raw device depth (the z-buffer value, reversed
        /// where <c>SystemInfo.usesReversedZBuffer</c>) into the red channel of
        /// <paramref name="rawDepth"/> (RFloat, the capture's size). Called once.
        /// </summary>
        void Attach(Camera helper, RenderTexture rawDepth);
    }

    /// <summary>
    /// Renders a camera into offscreen RenderTextures and reads colour (RGBA8) and depth
    /// back with AsyncGPUReadback, never blocking the main thread. Works in the Built-in
    /// Render Pipeline, URP and HDRP.
    /// </summary>
    /// <remarks>
    /// <para>A hidden helper camera copies the source camera (<c>Camera.CopyFrom</c>) and
    /// renders the view, so the source camera's own output is untouched. How depth is
    /// obtained depends on the pipeline (<see cref="Pipeline"/>, from
    /// <c>GraphicsSettings.currentRenderPipeline</c>):</para>
    /// <list type="bullet">
    /// <item>Built-in: one <c>Camera.Render</c> into a colour buffer and a
    /// <c>RenderTextureFormat.Depth</c> buffer (<c>Camera.SetTargetBuffers</c>).</item>
    /// <item>URP: the colour render goes to a colour target through
    /// <c>RenderPipeline.SubmitRenderRequest</c> (Unity 2022.2+, where URP supports it) or
    /// <c>Camera.Render</c>; a second render into a <c>RenderTextureFormat.Depth</c>
    /// target takes URP's depth-only path for offscreen depth cameras (opaque and
    /// transparent geometry, no colour).</item>
    /// <item>HDRP: one render into the colour target; the WorldBridge.Runtime.HighDefinition
    /// assembly (compiled when the HDRP package is present) adds an AOV request for
    /// <c>AOVBuffers.DepthStencil</c> that writes the depth buffer into the raw depth target.</item>
    /// </list>
    /// <para>The raw z-buffer is copied into an <c>RFloat</c> texture (Built-in and URP: the
    /// Hidden/WorldBridge/CopyDepth shader) and linearised on the CPU with the near/far planes
    /// and <c>SystemInfo.usesReversedZBuffer</c>; pixels where nothing was drawn become +inf
    /// (sky). Under URP and HDRP the helper camera has the pipeline's default per-camera data:
    /// no post-processing and no temporal anti-aliasing, so consecutive captures of different
    /// poses never blend into each other. One capture at a time: <see cref="TryCapture(Camera, Action{CaptureResult})"/>
    /// returns false while a readback is pending. Call <see cref="Dispose"/> to free the GPU
    /// resources.</para>
    /// </remarks>
    public sealed class CameraCapture : IDisposable
    {
        /// <summary>Assembly-qualified name of the HDRP depth source (optional assembly WorldBridge.Runtime.HighDefinition).</summary>
        public const string HighDefinitionDepthSourceType =
            "WorldBridge.Unity.HighDefinition.HdrpDepthSource, WorldBridge.Runtime.HighDefinition";

        private readonly int _width;
        private readonly int _height;
        private readonly bool _withDepth;
        private readonly RenderPipelineKind _pipeline;
        private RenderTexture _color;
        private RenderTexture _depth;
        private RenderTexture _rawDepth;
        private Material _copyDepth;
        private IPipelineDepthSource _pipelineDepth;
        private GameObject _helperObject;
        private Camera _helper;
        private CaptureResult _pending;
        private Action<CaptureResult> _onDone;
        private AsyncGPUReadbackRequest _colorRequest;
        private AsyncGPUReadbackRequest _depthRequest;
        private bool _colorDone;
        private bool _depthDone;
        private float _near;
        private float _far;
        private bool _orthographic;

        /// <summary>Creates the render targets for the active render pipeline.</summary>
        /// <param name="width">Capture width in pixels, at least 8.</param>
        /// <param name="height">Capture height in pixels, at least 8.</param>
        /// <param name="withDepth">Also capture depth.</param>
        /// <exception cref="ArgumentOutOfRangeException">A size below 8.</exception>
        /// <exception cref="InvalidOperationException">AsyncGPUReadback is unsupported; or depth was asked for and
        /// the CopyDepth shader is missing, the pipeline is a custom SRP, or (HDRP) the WorldBridge.Runtime.HighDefinition
        /// assembly is missing.</exception>
        public CameraCapture(int width, int height, bool withDepth)
        {
            if (width < 8)
            {
                throw new ArgumentOutOfRangeException("width", width, "capture width must be at least 8 pixels, got " + width);
            }
            if (height < 8)
            {
                throw new ArgumentOutOfRangeException("height", height, "capture height must be at least 8 pixels, got " + height);
            }
            if (!SystemInfo.supportsAsyncGPUReadback)
            {
                throw new InvalidOperationException("this graphics device does not support AsyncGPUReadback (" + SystemInfo.graphicsDeviceType + ")");
            }
            _width = width;
            _height = height;
            _withDepth = withDepth;
            _pipeline = ActivePipeline();
            if (withDepth && _pipeline == RenderPipelineKind.Custom)
            {
                throw new InvalidOperationException("depth capture supports the Built-in Render Pipeline, URP and HDRP; the active pipeline asset is " +
                    GraphicsSettings.currentRenderPipeline.GetType().FullName);
            }
            // Built-in renders colour and depth into separate buffers in one pass; the
            // scriptable pipelines render into a target texture, which needs its own depth buffer.
            int colorDepthBits = _pipeline == RenderPipelineKind.BuiltIn ? 0 : 24;
            _color = new RenderTexture(width, height, colorDepthBits, RenderTextureFormat.ARGB32, RenderTextureReadWrite.sRGB)
            {
                name = "WorldBridge Capture Colour",
                hideFlags = HideFlags.HideAndDontSave,
            };
            _color.Create();
            if (_pipeline != RenderPipelineKind.HighDefinition)
            {
                _depth = new RenderTexture(width, height, 24, RenderTextureFormat.Depth)
                {
                    name = "WorldBridge Capture Depth",
                    hideFlags = HideFlags.HideAndDontSave,
                };
                _depth.Create();
            }
            _helperObject = new GameObject("WorldBridge Capture Camera") { hideFlags = HideFlags.HideAndDontSave };
            _helper = _helperObject.AddComponent<Camera>();
            _helper.enabled = false;
            if (withDepth)
            {
                _rawDepth = new RenderTexture(width, height, 0, RenderTextureFormat.RFloat, RenderTextureReadWrite.Linear)
                {
                    name = "WorldBridge Capture Raw Depth",
                    hideFlags = HideFlags.HideAndDontSave,
                };
                _rawDepth.Create();
                try
                {
                    SetUpDepth();
                }
                catch
                {
                    Dispose();
                    throw;
                }
            }
        }

        private void SetUpDepth()
        {
            if (_pipeline == RenderPipelineKind.HighDefinition)
            {
                Type type = Type.GetType(HighDefinitionDepthSourceType, false);
                if (type == null)
                {
                    throw new InvalidOperationException("HDRP depth capture needs the WorldBridge.Runtime.HighDefinition assembly, which compiles " +
                        "only when com.unity.render-pipelines.high-definition 12 or later is installed; it was not found");
                }
                _pipelineDepth = (IPipelineDepthSource)Activator.CreateInstance(type);
                _pipelineDepth.Attach(_helper, _rawDepth);
                return;
            }
            Shader shader = Resources.Load<Shader>("WorldBridge/CopyDepth");
            if (shader == null || !shader.isSupported)
            {
                throw new InvalidOperationException("shader Hidden/WorldBridge/CopyDepth is missing or unsupported on " + SystemInfo.graphicsDeviceType);
            }
            _copyDepth = new Material(shader) { hideFlags = HideFlags.HideAndDontSave };
        }

        /// <summary>The render pipeline active now (<c>GraphicsSettings.currentRenderPipeline</c>, which includes the quality level's override).</summary>
        public static RenderPipelineKind ActivePipeline()
        {
            RenderPipelineAsset asset = GraphicsSettings.currentRenderPipeline;
            if (asset == null)
            {
                return RenderPipelineKind.BuiltIn;
            }
            var chain = new System.Collections.Generic.List<string>();
            for (Type t = asset.GetType(); t != null && t != typeof(RenderPipelineAsset); t = t.BaseType)
            {
                chain.Add(t.FullName);
            }
            return RenderPipelines.FromAssetTypeChain(chain.ToArray());
        }

        /// <summary>The render pipeline this capture was set up for.</summary>
        public RenderPipelineKind Pipeline { get { return _pipeline; } }

        /// <summary>Capture width in pixels.</summary>
        public int Width { get { return _width; } }

        /// <summary>Capture height in pixels.</summary>
        public int Height { get { return _height; } }

        /// <summary>True while a readback is pending.</summary>
        public bool Busy { get { return _pending != null; } }

        /// <summary>
        /// Renders <paramref name="source"/> now (with its current transform and settings) and
        /// starts the readbacks; <paramref name="onDone"/> runs on the main thread when both
        /// are done (or one failed: <see cref="CaptureResult.Error"/>).
        /// </summary>
        /// <returns>False (nothing done) while a previous capture is pending.</returns>
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        /// <exception cref="ObjectDisposedException">After Dispose.</exception>
        public bool TryCapture(Camera source, Action<CaptureResult> onDone)
        {
            if (source == null)
            {
                throw new ArgumentNullException("source");
            }
            return TryCapture(source, source.transform.position, source.transform.rotation, onDone);
        }

        /// <summary>
        /// As <see cref="TryCapture(Camera, Action{CaptureResult})"/>, but renders from
        /// <paramref name="position"/> / <paramref name="rotation"/> instead of the source's
        /// transform (the source camera is not moved; its other settings are used).
        /// </summary>
        /// <returns>False (nothing done) while a previous capture is pending.</returns>
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        /// <exception cref="ObjectDisposedException">After Dispose.</exception>
        public bool TryCapture(Camera source, Vector3 position, Quaternion rotation, Action<CaptureResult> onDone)
        {
            if (source == null)
            {
                throw new ArgumentNullException("source");
            }
            if (onDone == null)
            {
                throw new ArgumentNullException("onDone");
            }
            if (_helper == null)
            {
                throw new ObjectDisposedException("CameraCapture");
            }
            if (_pending != null)
            {
                return false;
            }
            _helper.CopyFrom(source);
            _helper.enabled = false;
            _helper.transform.SetPositionAndRotation(position, rotation);
            _helper.aspect = (float)_width / _height;
            Render();

            Transform t = _helper.transform;
            _pending = new CaptureResult
            {
                Width = _width,
                Height = _height,
                Position = UnityConvert.ToVec3(t.position),
                Rotation = UnityConvert.ToQuat(t.rotation),
                Intrinsics = UnityConvert.Intrinsics(_helper, _width, _height),
            };
            _onDone = onDone;
            _near = _helper.nearClipPlane;
            _far = _helper.farClipPlane;
            _orthographic = _helper.orthographic;
            _colorDone = false;
            _depthDone = !_withDepth;
            _colorRequest = AsyncGPUReadback.Request(_color, 0, TextureFormat.RGBA32, OnColor);
            if (_withDepth)
            {
                _depthRequest = AsyncGPUReadback.Request(_rawDepth, 0, TextureFormat.RFloat, OnDepth);
            }
            return true;
        }

        private void Render()
        {
            switch (_pipeline)
            {
                case RenderPipelineKind.BuiltIn:
                    _helper.SetTargetBuffers(_color.colorBuffer, _depth.depthBuffer);
                    _helper.Render();
                    _helper.targetTexture = null;
                    if (_withDepth)
                    {
                        Graphics.Blit(_depth, _rawDepth, _copyDepth);
                    }
                    break;
                case RenderPipelineKind.Universal:
                    RenderInto(_color);
                    if (_withDepth)
                    {
                        // A Depth-format target makes URP draw depth only (its path for
                        // offscreen depth cameras); Camera.Render, because a render request
                        // may render through an intermediate colour texture.
                        _helper.targetTexture = _depth;
                        _helper.Render();
                        _helper.targetTexture = null;
                        Graphics.Blit(_depth, _rawDepth, _copyDepth);
                    }
                    break;
                default:
                    // HDRP: the depth source's AOV request writes _rawDepth during this render.
                    RenderInto(_color);
                    break;
            }
        }

        /// <summary>Renders the helper camera into a colour target under a scriptable render pipeline.</summary>
        private void RenderInto(RenderTexture target)
        {
#if UNITY_2022_2_OR_NEWER
            var request = new RenderPipeline.StandardRequest { destination = target };
            if (RenderPipeline.SupportsRenderRequest(_helper, request))
            {
                RenderPipeline.SubmitRenderRequest(_helper, request);
                return;
            }
#endif
            _helper.targetTexture = target;
            _helper.Render();
            _helper.targetTexture = null;
        }

        /// <summary>
        /// Advances pending readbacks. Needed in edit mode, where no player loop runs; harmless
        /// in Play Mode.
        /// </summary>
        public void Poll()
        {
            if (_pending == null)
            {
                return;
            }
            if (!_colorDone)
            {
                _colorRequest.Update();
            }
            if (!_depthDone)
            {
                _depthRequest.Update();
            }
        }

        private void OnColor(AsyncGPUReadbackRequest request)
        {
            if (_pending == null || _colorDone)
            {
                return;
            }
            _colorDone = true;
            if (request.hasError)
            {
                _pending.Error = "colour readback failed";
            }
            else
            {
                _pending.Rgba = request.GetData<byte>().ToArray();
            }
            Finish();
        }

        private void OnDepth(AsyncGPUReadbackRequest request)
        {
            if (_pending == null || _depthDone)
            {
                return;
            }
            _depthDone = true;
            if (request.hasError)
            {
                _pending.Error = "depth readback failed";
            }
            else
            {
                float[] raw = request.GetData<float>().ToArray();
                DepthPacking.LinearizeInPlace(raw, _near, _far, SystemInfo.usesReversedZBuffer, true, _orthographic);
                _pending.DepthMetres = raw;
            }
            Finish();
        }

        private void Finish()
        {
            if (!_colorDone || !_depthDone)
            {
                return;
            }
            CaptureResult result = _pending;
            Action<CaptureResult> onDone = _onDone;
            _pending = null;
            _onDone = null;
            onDone(result);
        }

        /// <summary>Releases the render targets, material and helper camera.</summary>
        public void Dispose()
        {
            _pending = null;
            _onDone = null;
            if (_pipelineDepth != null)
            {
                _pipelineDepth.Dispose();
                _pipelineDepth = null;
            }
            DestroyObject(ref _color);
            DestroyObject(ref _depth);
            DestroyObject(ref _rawDepth);
            if (_copyDepth != null)
            {
                DestroyAny(_copyDepth);
                _copyDepth = null;
            }
            if (_helperObject != null)
            {
                DestroyAny(_helperObject);
                _helperObject = null;
                _helper = null;
            }
        }

        private static void DestroyObject(ref RenderTexture rt)
        {
            if (rt != null)
            {
                rt.Release();
                DestroyAny(rt);
                rt = null;
            }
        }

        private static void DestroyAny(UnityEngine.Object o)
        {
            if (Application.isPlaying)
            {
                UnityEngine.Object.Destroy(o);
            }
            else
            {
                UnityEngine.Object.DestroyImmediate(o);
            }
        }
    }
}
