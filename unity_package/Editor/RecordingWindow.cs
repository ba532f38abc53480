using System;
using System.Collections.Generic;
using System.Text;
using UnityEditor;
using UnityEngine;
using WorldBridge.Core;
using WorldBridge.Transport;
using WorldBridge.Unity;
using Wire = WorldBridge.V1;

namespace WorldBridge.EditorTools
{
    /// <summary>
    /// Window/WorldBridge/Recorder: renders a camera along a trajectory template and streams
    /// every frame (RGB, depth, pose, intrinsics) to the server's RecordTrajectory, which
    /// writes a dataset. Works in Play Mode and in edit mode; the chosen camera is not moved
    /// (a hidden helper camera copies its settings and renders each pose).
    /// </summary>
    public sealed class RecordingWindow : EditorWindow
    {
        private enum Template
        {
            Orbit,
            Dolly,
            Walk,
            Random,
        }

        private const int MaxQueuedFrames = 8;

        // Settings (serialized so they survive domain reloads and window reopening).
        [SerializeField] private Camera sourceCamera;
        [SerializeField] private string serverAddress = "http://127.0.0.1:50051";
        [SerializeField] private string token = "";
        [SerializeField] private string datasetName = "unity_capture";
        [SerializeField] private string description = "";
        [SerializeField] private Template template = Template.Orbit;
        [SerializeField] private int frameCount = 120;
        [SerializeField] private int width = 512;
        [SerializeField] private int height = 512;
        [SerializeField] private bool captureDepth = true;
        [SerializeField] private DepthEncodingKind depthEncoding = DepthEncodingKind.Float32M;
        // Orbit
        [SerializeField] private Vector3 orbitCenter = Vector3.zero;
        [SerializeField] private float orbitRadius = 5f;
        [SerializeField] private float orbitHeight = 1.5f;
        [SerializeField] private float orbitStartDeg;
        [SerializeField] private float orbitSweepDeg = 360f;
        // Dolly
        [SerializeField] private Vector3 dollyStart = new Vector3(0, 1.5f, -5);
        [SerializeField] private Vector3 dollyEnd = new Vector3(0, 1.5f, 5);
        [SerializeField] private bool dollyUseLookAt;
        [SerializeField] private Vector3 dollyLookAt = Vector3.zero;
        // Walk
        [SerializeField] private Transform walkWaypoints;
        // Random
        [SerializeField] private Vector3 randomBoundsCenter = new Vector3(0, 1.5f, 0);
        [SerializeField] private Vector3 randomBoundsSize = new Vector3(20, 1, 20);
        [SerializeField] private float randomStep = 0.25f;
        [SerializeField] private float randomMaxTurnDeg = 15f;
        [SerializeField] private float randomMaxPitchDeg = 10f;
        [SerializeField] private float collisionRadius = 0.3f;
        [SerializeField] private int randomSeed = 1;

        // Run state.
        private List<TrajectoryPose> _poses;
        private CameraCapture _capture;
        private RecordingUpload _upload;
        private Wire.CapturedFrame _unsent;
        private int _nextPose;
        private int _captured;
        private string _status = "";
        private string _summaryText = "";
        private Vector2 _scroll;

        /// <summary>Opens the recorder.</summary>
        [MenuItem("Window/WorldBridge/Recorder")]
        public static void Open()
        {
            GetWindow<RecordingWindow>("WorldBridge Recorder");
        }

        private bool Running { get { return _upload != null; } }

        private void OnDisable()
        {
            StopRun(true);
        }

        private void OnGUI()
        {
            _scroll = EditorGUILayout.BeginScrollView(_scroll);
            using (new EditorGUI.DisabledScope(Running))
            {
                EditorGUILayout.LabelField("Source", EditorStyles.boldLabel);
                sourceCamera = (Camera)EditorGUILayout.ObjectField(new GUIContent("Camera", "Camera whose settings (FOV, clip planes, culling) are used."), sourceCamera, typeof(Camera), true);
                serverAddress = EditorGUILayout.TextField(new GUIContent("Server", "http://host:port or https://host:port"), serverAddress);
                token = EditorGUILayout.PasswordField(new GUIContent("Token", "Shared token if the server has one."), token);
                datasetName = EditorGUILayout.TextField(new GUIContent("Dataset name", "Folder on the server: [A-Za-z0-9][A-Za-z0-9._-]{0,127}; never overwritten."), datasetName);
                description = EditorGUILayout.TextField("Description", description);

                EditorGUILayout.Space();
                EditorGUILayout.LabelField("Capture", EditorStyles.boldLabel);
                frameCount = Mathf.Max(1, EditorGUILayout.IntField("Frames", frameCount));
                width = Mathf.Max(8, EditorGUILayout.IntField("Width", width));
                height = Mathf.Max(8, EditorGUILayout.IntField("Height", height));
                captureDepth = EditorGUILayout.Toggle(new GUIContent("Depth", "Record planar depth in metres (needs the Built-in Render Pipeline)."), captureDepth);
                using (new EditorGUI.DisabledScope(!captureDepth))
                {
                    depthEncoding = (DepthEncodingKind)EditorGUILayout.EnumPopup("Depth encoding", depthEncoding);
                }

                EditorGUILayout.Space();
                EditorGUILayout.LabelField("Trajectory", EditorStyles.boldLabel);
                template = (Template)EditorGUILayout.EnumPopup("Template", template);
                TemplateFields();
            }

            EditorGUILayout.Space();
            if (!Running)
            {
                if (GUILayout.Button("Record"))
                {
                    StartRun();
                }
            }
            else
            {
                float progress = _poses == null || _poses.Count == 0 ? 0f : (float)_upload.Sent / _poses.Count;
                Rect r = EditorGUILayout.GetControlRect(false, 20);
                EditorGUI.ProgressBar(r, progress, string.Format("captured {0} / sent {1} / {2}", _captured, _upload.Sent, _poses.Count));
                if (GUILayout.Button("Cancel"))
                {
                    _status = "cancelled";
                    StopRun(true);
                }
            }
            if (!string.IsNullOrEmpty(_status))
            {
                EditorGUILayout.HelpBox(_status, MessageType.Info);
            }
            if (!string.IsNullOrEmpty(_summaryText))
            {
                EditorGUILayout.LabelField("Summary", EditorStyles.boldLabel);
                EditorGUILayout.SelectableLabel(_summaryText, EditorStyles.textArea, GUILayout.MinHeight(80));
            }
            EditorGUILayout.EndScrollView();
        }

        private void TemplateFields()
        {
            switch (template)
            {
                case Template.Orbit:
                    orbitCenter = EditorGUILayout.Vector3Field("Look-at centre (m)", orbitCenter);
                    orbitRadius = Mathf.Max(0.01f, EditorGUILayout.FloatField("Radius (m)", orbitRadius));
                    orbitHeight = EditorGUILayout.FloatField("Height above centre (m)", orbitHeight);
                    orbitStartDeg = EditorGUILayout.FloatField("Start angle (deg)", orbitStartDeg);
                    orbitSweepDeg = EditorGUILayout.FloatField("Sweep (deg)", orbitSweepDeg);
                    break;
                case Template.Dolly:
                    dollyStart = EditorGUILayout.Vector3Field("Start (m)", dollyStart);
                    dollyEnd = EditorGUILayout.Vector3Field("End (m)", dollyEnd);
                    dollyUseLookAt = EditorGUILayout.Toggle("Look at a point", dollyUseLookAt);
                    if (dollyUseLookAt)
                    {
                        dollyLookAt = EditorGUILayout.Vector3Field("Look-at point (m)", dollyLookAt);
                    }
                    break;
                case Template.Walk:
                    walkWaypoints = (Transform)EditorGUILayout.ObjectField(new GUIContent("Waypoints parent", "Its children, in order, are the waypoints."), walkWaypoints, typeof(Transform), true);
                    break;
                case Template.Random:
                    randomBoundsCenter = EditorGUILayout.Vector3Field("Box centre (m)", randomBoundsCenter);
                    randomBoundsSize = EditorGUILayout.Vector3Field("Box size (m)", randomBoundsSize);
                    randomStep = Mathf.Max(0.001f, EditorGUILayout.FloatField("Step per frame (m)", randomStep));
                    randomMaxTurnDeg = Mathf.Clamp(EditorGUILayout.FloatField("Max turn per frame (deg)", randomMaxTurnDeg), 0f, 180f);
                    randomMaxPitchDeg = Mathf.Clamp(EditorGUILayout.FloatField("Max pitch (deg)", randomMaxPitchDeg), 0f, 89f);
                    collisionRadius = Mathf.Max(0f, EditorGUILayout.FloatField(new GUIContent("Collision radius (m)", "Steps are rejected if Physics.Linecast hits or a sphere of this radius at the new position overlaps a collider."), collisionRadius));
                    randomSeed = EditorGUILayout.IntField("Seed", randomSeed);
                    break;
            }
        }

        private List<TrajectoryPose> BuildTrajectory()
        {
            switch (template)
            {
                case Template.Orbit:
                    return Trajectories.Orbit(UnityConvert.ToVec3(orbitCenter), orbitRadius, orbitHeight, orbitStartDeg, orbitSweepDeg, frameCount);
                case Template.Dolly:
                    return Trajectories.Dolly(UnityConvert.ToVec3(dollyStart), UnityConvert.ToVec3(dollyEnd),
                        dollyUseLookAt ? UnityConvert.ToVec3(dollyLookAt) : (Vec3?)null, frameCount);
                case Template.Walk:
                    if (walkWaypoints == null || walkWaypoints.childCount < 2)
                    {
                        throw new ArgumentException("the walk template needs a waypoints parent with at least 2 children");
                    }
                    var points = new List<Vec3>();
                    foreach (Transform child in walkWaypoints)
                    {
                        points.Add(UnityConvert.ToVec3(child.position));
                    }
                    return Trajectories.Walk(points, Math.Max(2, frameCount));
                default:
                    Physics.SyncTransforms();
                    float radius = collisionRadius;
                    Func<Vec3, Vec3, bool> blocked = (a, b) =>
                    {
                        Vector3 from = UnityConvert.ToVector3(a), to = UnityConvert.ToVector3(b);
                        return Physics.Linecast(from, to, Physics.DefaultRaycastLayers, QueryTriggerInteraction.Ignore) ||
                               (radius > 0 && Physics.CheckSphere(to, radius, Physics.DefaultRaycastLayers, QueryTriggerInteraction.Ignore));
                    };
                    Vector3 min = randomBoundsCenter - randomBoundsSize * 0.5f, max = randomBoundsCenter + randomBoundsSize * 0.5f;
                    return Trajectories.RandomWalk(UnityConvert.ToVec3(randomBoundsCenter), UnityConvert.ToVec3(min), UnityConvert.ToVec3(max),
                        randomStep, randomMaxTurnDeg, randomMaxPitchDeg, frameCount, new System.Random(randomSeed), blocked, 64);
            }
        }

        private void StartRun()
        {
            _summaryText = "";
            if (sourceCamera == null)
            {
                _status = "pick a camera first";
                return;
            }
            try
            {
                _poses = BuildTrajectory();
                _capture = new CameraCapture(width, height, captureDepth);
                var options = new BridgeOptions { Address = serverAddress, Token = token };
                _upload = new RecordingUpload(options, new Wire.RecordingHeader { DatasetName = datasetName, Description = description ?? "" }, MaxQueuedFrames);
                _upload.Start();
            }
            catch (Exception e)
            {
                _status = "cannot start: " + e.Message;
                StopRun(true);
                return;
            }
            _nextPose = 0;
            _captured = 0;
            _unsent = null;
            _status = "recording " + _poses.Count + " frames to " + serverAddress;
            EditorApplication.update += Tick;
        }

        private void Tick()
        {
            if (_upload == null)
            {
                EditorApplication.update -= Tick;
                return;
            }
            _capture.Poll();
            if (_upload.IsDone)
            {
                Finish();
                return;
            }
            if (_unsent != null && _upload.TryEnqueue(_unsent))
            {
                _unsent = null;
            }
            if (_unsent == null && !_capture.Busy && _nextPose < _poses.Count && _upload.Queued < MaxQueuedFrames)
            {
                TrajectoryPose pose = _poses[_nextPose];
                int sequence = _nextPose + 1;
                if (_capture.TryCapture(sourceCamera, UnityConvert.ToVector3(pose.Position), UnityConvert.ToQuaternion(pose.Rotation),
                        view => OnCaptured(view, sequence)))
                {
                    _nextPose++;
                }
            }
            if (_nextPose >= _poses.Count && !_capture.Busy && _unsent == null && _captured == _poses.Count)
            {
                _upload.Complete();
            }
            Repaint();
        }

        private void OnCaptured(CaptureResult view, int sequence)
        {
            if (_upload == null)
            {
                return;
            }
            if (view.Error != null)
            {
                _status = "frame " + sequence + ": " + view.Error;
                StopRun(true);
                return;
            }
            var frame = new Wire.CapturedFrame
            {
                Sequence = (ulong)sequence,
                ClientTimestampUs = MonotonicClock.NowMicros(),
                Pose = WireConvert.Pose(view.Position, view.Rotation),
                Intrinsics = WireConvert.Intrinsics(view.Intrinsics),
                Rgb = WireConvert.Rgba8(view.Rgba, view.Width, view.Height, ImageRowOrder.BottomUp),
            };
            if (view.DepthMetres != null)
            {
                frame.Depth = WireConvert.Depth(view.DepthMetres, view.Width, view.Height, depthEncoding);
            }
            _captured++;
            if (!_upload.TryEnqueue(frame))
            {
                _unsent = frame;
            }
        }

        private void Finish()
        {
            Wire.RecordingSummary summary = _upload.Summary;
            if (summary != null)
            {
                var text = new StringBuilder();
                text.AppendFormat("dataset {0} at {1}\nframes written: {2} in {3:F1} s\n", summary.DatasetName, summary.Path,
                    summary.FramesWritten, summary.DurationS);
                text.AppendFormat("rejected: {0}\n", summary.Rejected.Count);
                foreach (Wire.RejectedFrame rejected in summary.Rejected)
                {
                    text.AppendFormat("  frame {0}: code {1}: {2}\n", rejected.Sequence, rejected.Code, rejected.Message);
                }
                _summaryText = text.ToString();
                _status = "done";
            }
            else
            {
                _status = "recording failed: " + (_upload.Error != null ? _upload.Error.Message : "no summary");
            }
            StopRun(false);
        }

        private void StopRun(bool cancel)
        {
            EditorApplication.update -= Tick;
            if (_upload != null)
            {
                if (cancel)
                {
                    _upload.Cancel();
                }
                _upload = null;
            }
            if (_capture != null)
            {
                _capture.Dispose();
                _capture = null;
            }
            _unsent = null;
            Repaint();
        }
    }
}
