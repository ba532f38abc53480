using System;
using UnityEngine;
using UnityEngine.Events;
using UnityEngine.UI;
using WorldBridge.Core;
using WorldBridge.Transport;
using Wire = WorldBridge.V1;

namespace WorldBridge.Unity
{
    /// <summary>A UnityEvent carrying the generated texture.</summary>
    [Serializable]
    public sealed class TextureEvent : UnityEvent<Texture2D>
    {
    }

    /// <summary>A UnityEvent carrying an error message.</summary>
    [Serializable]
    public sealed class ErrorEvent : UnityEvent<string>
    {
    }

    /// <summary>
    /// Streams this camera's pose to a WorldBridge server every frame and shows the generated
    /// frames in a <see cref="Texture2D"/>.
    /// </summary>
    /// <remarks>
    /// On enable it captures a reference view (colour and depth) from the camera, opens a
    /// session with it, and streams from a background task: each LateUpdate sends
    /// <c>transform.position</c> / <c>transform.rotation</c> (camera-to-world, convention
    /// UNITY, metres; the server converts) with intrinsics from the vertical field of view.
    /// Every <c>keyframeInterval</c> frames, when depth is on, it also sends the camera's
    /// depth so the server grows its memory. Frames arrive as RGBA8 rows bottom-up and load
    /// straight into the texture. The main thread never waits for the network; newer poses
    /// replace unsent older ones.
    /// </remarks>
    [RequireComponent(typeof(Camera))]
    [AddComponentMenu("WorldBridge/WorldBridge Camera")]
    [DisallowMultipleComponent]
    public sealed class WorldBridgeCamera : MonoBehaviour
    {
        [Header("Server")]
        [SerializeField, Tooltip("http://host:port (cleartext HTTP/2) or https://host:port (TLS).")]
        private string serverAddress = "http://127.0.0.1:50051";

        [SerializeField, Tooltip("Shared token if the server was started with one (sent as 'authorization: Bearer <token>').")]
        private string token = "";

        [SerializeField, Tooltip("PEM root certificate for https:// servers with a private CA; empty uses public roots.")]
        [TextArea(2, 6)]
        private string rootCertificatePem = "";

        [Header("Output")]
        [SerializeField, Tooltip("Width of generated frames, pixels.")]
        [Min(8)]
        private int outputWidth = 512;

        [SerializeField, Tooltip("Height of generated frames, pixels.")]
        [Min(8)]
        private int outputHeight = 512;

        [SerializeField, Tooltip("Generator name from the server's list; empty means 'anchor'.")]
        private string generator = "";

        [SerializeField, Tooltip("Seed of the generator's noise; 0 derives it from the session id.")]
        [Min(0)]
        private long seed;

        [SerializeField, Tooltip("Anchor lock of the frame model. On: pixels the world memory covers are kept exactly and only the holes are generated. " +
            "Off: every pixel is regenerated (restyling). Server Default: the server's setting, on unless changed. The 'anchor' generator ignores it.")]
        private AnchorLockMode anchorLock = AnchorLockMode.ServerDefault;

        [SerializeField, Tooltip("Frame-model bundle the server knows by name (for example one adapted to this level); " +
            "empty means the server's default. Applies to the 'frame-model' generator.")]
        private string bundle = "";

        [Header("Depth and keyframes")]
        [SerializeField, Tooltip("Send the camera's depth with keyframes so the server's memory grows as the camera explores.")]
        private bool sendDepth = true;

        [SerializeField, Tooltip("Frames between keyframes (depth sent, generated frame lifted into memory); 0 disables keyframes.")]
        [Min(0)]
        private int keyframeInterval = 30;

        [SerializeField, Tooltip("Depth encoding on the wire; Float16 halves the bytes (server capability depth.float16).")]
        private DepthEncodingKind depthEncoding = DepthEncodingKind.Float32M;

        [Header("Display")]
        [SerializeField, Tooltip("Optional renderer whose material's main texture shows the generated frames.")]
        private Renderer targetRenderer;

        [SerializeField, Tooltip("Optional UI RawImage that shows the generated frames.")]
        private RawImage targetRawImage;

        [Header("Events")]
        [SerializeField, Tooltip("Invoked on the main thread after each generated frame is loaded into the texture.")]
        private TextureEvent onFrame = new TextureEvent();

        [SerializeField, Tooltip("Invoked when the session is open (also after each reconnect).")]
        private UnityEvent onConnected = new UnityEvent();

        [SerializeField, Tooltip("Invoked with a message on failures (per-frame errors, disconnects, permanent failures).")]
        private ErrorEvent onError = new ErrorEvent();

        private Camera _camera;
        private Texture2D _texture;
        private byte[] _frameBuffer;
        private CameraCapture _capture;
        private LiveStream _stream;
        private bool _keyframeQueued;
        private int _framesSinceKeyframe;

        /// <summary>The texture generated frames are written into (RGBA32, sRGB); null while disabled.</summary>
        public Texture2D OutputTexture { get { return _texture; } }

        /// <summary>Invoked after each frame is loaded into <see cref="OutputTexture"/>.</summary>
        public TextureEvent OnFrame { get { return onFrame; } }

        /// <summary>Invoked when the session is open (also after reconnects).</summary>
        public UnityEvent OnConnected { get { return onConnected; } }

        /// <summary>Invoked with an error message.</summary>
        public ErrorEvent OnError { get { return onError; } }

        /// <summary>Connection state.</summary>
        public LiveStreamState State { get { return _stream != null ? _stream.State : LiveStreamState.Stopped; } }

        /// <summary>Round trip of the last frame, milliseconds (pose sent to frame received).</summary>
        public double LastRoundTripMs { get; private set; }

        /// <summary>Server-side timings of the last frame.</summary>
        public Wire.StageTimings LastTimings { get; private set; }

        /// <summary>Frames received since enabled.</summary>
        public long FramesReceived { get { return _stream != null ? _stream.FramesReceived : 0; } }

        /// <summary>Poses replaced before they were sent.</summary>
        public long PosesSkipped { get { return _stream != null ? _stream.PosesSkipped : 0; } }

        /// <summary>Server address; takes effect on the next enable.</summary>
        public string ServerAddress { get { return serverAddress; } set { serverAddress = value; } }

        /// <summary>Shared token; takes effect on the next enable.</summary>
        public string Token { get { return token; } set { token = value; } }

        /// <summary>Anchor lock of the frame model; takes effect on the next enable.</summary>
        public AnchorLockMode AnchorLock { get { return anchorLock; } set { anchorLock = value; } }

        /// <summary>Frame-model bundle the server knows by name; empty: the server's default. Takes effect on the next enable.</summary>
        public string Bundle { get { return bundle; } set { bundle = value ?? ""; } }

        /// <summary>Renderer that shows the frames (its material's main texture); assigned at once if enabled.</summary>
        public Renderer TargetRenderer
        {
            get { return targetRenderer; }
            set { targetRenderer = value; AssignDisplay(); }
        }

        /// <summary>UI RawImage that shows the frames; assigned at once if enabled.</summary>
        public RawImage TargetRawImage
        {
            get { return targetRawImage; }
            set { targetRawImage = value; AssignDisplay(); }
        }

        private void Awake()
        {
            _camera = GetComponent<Camera>();
        }

        private void OnEnable()
        {
            _texture = new Texture2D(outputWidth, outputHeight, TextureFormat.RGBA32, false)
            {
                name = "WorldBridge Output",
                wrapMode = TextureWrapMode.Clamp,
            };
            _frameBuffer = new byte[outputWidth * outputHeight * 4];
            AssignDisplay();
            try
            {
                _capture = new CameraCapture(outputWidth, outputHeight, true);
            }
            catch (Exception e)
            {
                ReportError("cannot capture the reference view: " + e.Message);
                return;
            }
            // A new capture has nothing pending, so it always starts this one.
            _capture.TryCapture(_camera, OnReferenceCaptured);
        }

        private void OnDisable()
        {
            if (_stream != null)
            {
                _stream.Stop();
                _stream = null;
            }
            if (_capture != null)
            {
                _capture.Dispose();
                _capture = null;
            }
            if (_texture != null)
            {
                Destroy(_texture);
                _texture = null;
            }
            _keyframeQueued = false;
        }

        private void OnReferenceCaptured(CaptureResult view)
        {
            if (!isActiveAndEnabled)
            {
                return;
            }
            if (view.Error != null)
            {
                ReportError("reference view: " + view.Error);
                return;
            }
            try
            {
                var open = WireConvert.OpenSession(new SessionOptions
                {
                    Generator = generator ?? "",
                    OutputWidth = outputWidth,
                    OutputHeight = outputHeight,
                    Seed = (ulong)Math.Max(0L, seed),
                    AnchorLock = anchorLock,
                    Bundle = bundle ?? "",
                });
                open.ReferenceViews.Add(new Wire.ReferenceView
                {
                    Rgb = WireConvert.Rgba8(view.Rgba, view.Width, view.Height, ImageRowOrder.BottomUp),
                    Pose = WireConvert.Pose(view.Position, view.Rotation),
                    Intrinsics = WireConvert.Intrinsics(view.Intrinsics),
                    Depth = WireConvert.Depth(view.DepthMetres, view.Width, view.Height, depthEncoding),
                });
                var options = new BridgeOptions
                {
                    Address = serverAddress,
                    Token = token,
                    RootCertificatesPem = rootCertificatePem,
                };
                _stream = new LiveStream(options, open);
                _stream.Start();
            }
            catch (Exception e)
            {
                ReportError(e.Message);
            }
        }

        private void LateUpdate()
        {
            if (_stream == null)
            {
                return;
            }
            DrainEvents();
            if (_stream.State != LiveStreamState.Streaming && _stream.State != LiveStreamState.Connecting)
            {
                return;
            }
            // A keyframe waiting to be sent must not be replaced by a plain pose.
            if (_keyframeQueued && _stream.HasPendingRequest)
            {
                return;
            }
            _keyframeQueued = false;
            _framesSinceKeyframe++;
            if (sendDepth && keyframeInterval > 0 && _framesSinceKeyframe >= keyframeInterval && !_capture.Busy)
            {
                if (_capture.TryCapture(_camera, OnKeyframeCaptured))
                {
                    _framesSinceKeyframe = 0;
                }
            }
            Transform t = transform;
            try
            {
                _stream.Submit(new Wire.FrameRequest
                {
                    ClientTimestampUs = MonotonicClock.NowMicros(),
                    Pose = WireConvert.Pose(UnityConvert.ToVec3(t.position), UnityConvert.ToQuat(t.rotation)),
                    Intrinsics = WireConvert.Intrinsics(IntrinsicsMath.FromVerticalFov(_camera.fieldOfView, outputWidth, outputHeight)),
                });
            }
            catch (ArgumentException e)
            {
                ReportError("pose not sent: " + e.Message);
            }
        }

        private void OnKeyframeCaptured(CaptureResult view)
        {
            if (_stream == null || view.Error != null || view.DepthMetres == null)
            {
                if (view.Error != null)
                {
                    ReportError("keyframe capture: " + view.Error);
                }
                return;
            }
            try
            {
                _stream.Submit(new Wire.FrameRequest
                {
                    ClientTimestampUs = MonotonicClock.NowMicros(),
                    Pose = WireConvert.Pose(view.Position, view.Rotation),
                    Intrinsics = WireConvert.Intrinsics(view.Intrinsics),
                    Depth = WireConvert.Depth(view.DepthMetres, view.Width, view.Height, depthEncoding),
                    Keyframe = true,
                });
                _keyframeQueued = true;
            }
            catch (ArgumentException e)
            {
                ReportError("keyframe not sent: " + e.Message);
            }
        }

        private void DrainEvents()
        {
            // Only the newest frame of a batch is worth uploading to the GPU.
            Wire.Frame newest = null;
            double newestRoundTripMs = 0;
            BridgeEvent e;
            while (_stream != null && _stream.TryDequeue(out e))
            {
                switch (e.Kind)
                {
                    case BridgeEventKind.Connected:
                        if (!string.IsNullOrEmpty(e.Message))
                        {
                            Debug.LogWarning("WorldBridge: " + e.Message, this);
                        }
                        onConnected.Invoke();
                        break;
                    case BridgeEventKind.Frame:
                        newest = e.Frame;
                        newestRoundTripMs = e.RoundTripMs;
                        break;
                    case BridgeEventKind.FrameError:
                        ReportError("frame " + e.Frame.Sequence + ": " + e.Message);
                        break;
                    case BridgeEventKind.Disconnected:
                        ReportError("disconnected from " + serverAddress + " (" + e.Message + "); reconnecting");
                        break;
                    case BridgeEventKind.Failed:
                        ReportError(e.Message);
                        break;
                }
            }
            if (newest != null)
            {
                LastRoundTripMs = newestRoundTripMs;
                LastTimings = newest.Timings;
                if (ApplyFrame(newest.Texture))
                {
                    onFrame.Invoke(_texture);
                }
            }
        }

        private bool ApplyFrame(Wire.Texture frame)
        {
            if (frame == null || _texture == null)
            {
                return false;
            }
            int width = (int)frame.Width, height = (int)frame.Height;
            if (frame.Format == Wire.TextureFormat.Jpeg || frame.Format == Wire.TextureFormat.Png)
            {
                // LoadImage decodes to the texture's own (bottom-up) layout and resizes it.
                return _texture.LoadImage(frame.Data.ToByteArray(), false);
            }
            if (frame.Format != Wire.TextureFormat.Rgba8)
            {
                ReportError("unexpected texture format " + frame.Format + " (asked for RGBA8)");
                return false;
            }
            int bytes = width * height * 4;
            if (width < 1 || height < 1 || frame.Data.Length != bytes)
            {
                ReportError(string.Format("texture {0}x{1} carries {2} bytes, expected {3}", width, height, frame.Data.Length, bytes));
                return false;
            }
            if (_texture.width != width || _texture.height != height)
            {
                _texture.Reinitialize(width, height, TextureFormat.RGBA32, false);
            }
            if (_frameBuffer.Length != bytes)
            {
                _frameBuffer = new byte[bytes];
            }
            frame.Data.CopyTo(_frameBuffer, 0);
            if (RowFlip.NeedsFlip((ImageRowOrder)(int)frame.RowOrder, ImageRowOrder.BottomUp))
            {
                RowFlip.FlipRows(_frameBuffer, width, height, 4);
            }
            _texture.LoadRawTextureData(_frameBuffer);
            _texture.Apply(false);
            return true;
        }

        private void AssignDisplay()
        {
            if (_texture == null)
            {
                return;
            }
            if (targetRenderer != null)
            {
                targetRenderer.material.mainTexture = _texture;
            }
            if (targetRawImage != null)
            {
                targetRawImage.texture = _texture;
            }
        }

        private void ReportError(string message)
        {
            Debug.LogWarning("WorldBridge: " + message, this);
            onError.Invoke(message);
        }

        private void OnValidate()
        {
            outputWidth = Mathf.Max(8, outputWidth);
            outputHeight = Mathf.Max(8, outputHeight);
            keyframeInterval = Mathf.Max(0, keyframeInterval);
        }
    }
}
