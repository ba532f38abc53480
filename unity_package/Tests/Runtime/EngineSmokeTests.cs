using System;
using System.Collections;
using NUnit.Framework;
using UnityEngine;
using UnityEngine.TestTools;
using WorldBridge.Core;
using WorldBridge.Unity;

namespace WorldBridge.Smoke.Tests
{
    /// <summary>
    /// The first tests a studio runs in its own project (Test Runner > PlayMode, with
    /// <c>"testables": ["com.worldbridge.client"]</c> in Packages/manifest.json), in each render
    /// pipeline it uses: they need a real engine and GPU, so they cannot run in WorldBridge's
    /// own CI, which compiles them against API stubs only.
    /// </summary>
    /// <remarks>
    /// The live test needs a server: run <c>worldbridge serve</c> and set the environment
    /// variable WORLDBRIDGE_SERVER (for example <c>http://127.0.0.1:50051</c>) before starting
    /// the Editor; without it the test is ignored with that message.
    /// </remarks>
    public class EngineSmokeTests
    {
        private const int Width = 64;   // non-square on purpose: a swapped width and height shows
        private const int Height = 48;
        private const float PlaneDistance = 5f;
        private const float TimeoutSeconds = 10f;
        private GameObject _root;

        [SetUp]
        public void SetUp()
        {
            _root = new GameObject("WorldBridge smoke test");
        }

        [TearDown]
        public void TearDown()
        {
            UnityEngine.Object.Destroy(_root);
        }

        private Camera MakeCamera(bool active)
        {
            var go = new GameObject("camera");
            go.SetActive(active);
            go.transform.SetParent(_root.transform, false);
            go.transform.SetPositionAndRotation(Vector3.zero, Quaternion.identity); // looks along +Z
            Camera camera = go.AddComponent<Camera>();
            camera.fieldOfView = 60f;
            camera.nearClipPlane = 0.1f;
            camera.farClipPlane = 100f;
            camera.clearFlags = CameraClearFlags.SolidColor;
            camera.backgroundColor = Color.black;
            return camera;
        }

        /// <summary>A quad facing the camera at <see cref="PlaneDistance"/> m, centred at (x, y), size in metres.</summary>
        private void MakeQuad(float x, float y, float width, float height, Color color)
        {
            GameObject quad = GameObject.CreatePrimitive(PrimitiveType.Quad);
            quad.transform.SetParent(_root.transform, false);
            quad.transform.position = new Vector3(x, y, PlaneDistance);
            quad.transform.localScale = new Vector3(width, height, 1f);
            quad.GetComponent<Renderer>().sharedMaterial = UnlitMaterial(color);
        }

        private static Material UnlitMaterial(Color color)
        {
            string[] shaders = { "Universal Render Pipeline/Unlit", "HDRP/Unlit", "Unlit/Color" };
            foreach (string name in shaders)
            {
                Shader shader = Shader.Find(name);
                if (shader == null || !shader.isSupported)
                {
                    continue;
                }
                var material = new Material(shader);
                foreach (string property in new[] { "_BaseColor", "_UnlitColor", "_Color" })
                {
                    if (material.HasProperty(property))
                    {
                        material.SetColor(property, color);
                    }
                }
                return material;
            }
            Assert.Fail("no unlit shader found (tried " + string.Join(", ", shaders) + ")");
            return null;
        }

        /// <summary>Red above the horizon, blue below: a plane filling the view at 5 m.</summary>
        private void MakeRedOverBluePlane()
        {
            MakeQuad(0f, 10f, 40f, 20f, Color.red);
            MakeQuad(0f, -10f, 40f, 20f, Color.blue);
        }

        private static IEnumerator Capture(Camera camera, CaptureResult[] result)
        {
            using (var capture = new CameraCapture(Width, Height, true))
            {
                Assert.IsTrue(capture.TryCapture(camera, view => result[0] = view), "a new capture must not be busy");
                float deadline = Time.realtimeSinceStartup + TimeoutSeconds;
                while (result[0] == null && Time.realtimeSinceStartup < deadline)
                {
                    capture.Poll();
                    yield return null;
                }
            }
            Assert.IsNotNull(result[0], "no readback within " + TimeoutSeconds + " s");
            Assert.IsNull(result[0].Error, result[0].Error);
        }

        [UnityTest]
        public IEnumerator PlaneFiveMetresAwayHasFiveMetresPlanarDepthAtCentreAndCorners()
        {
            Camera camera = MakeCamera(true);
            MakeRedOverBluePlane();
            var result = new CaptureResult[1];
            yield return Capture(camera, result);
            float[] depth = result[0].DepthMetres;
            Assert.IsNotNull(depth, "no depth from pipeline " + CameraCapture.ActivePipeline());
            Assert.AreEqual(Width * Height, depth.Length);
            int[,] pixels = { { Width / 2, Height / 2 }, { 0, 0 }, { Width - 1, 0 }, { 0, Height - 1 }, { Width - 1, Height - 1 } };
            for (int i = 0; i < pixels.GetLength(0); i++)
            {
                int x = pixels[i, 0];
                int y = pixels[i, 1];
                // Planar (z) depth is the same at every pixel of a fronto-parallel plane.
                Assert.AreEqual(PlaneDistance, depth[y * Width + x], 0.01f,
                    "planar depth at pixel (" + x + ", " + y + ") in " + CameraCapture.ActivePipeline());
            }
        }

        [UnityTest]
        public IEnumerator CapturedRowsAreBottomUpAndChannelsAreRgba()
        {
            Camera camera = MakeCamera(true);
            MakeRedOverBluePlane();
            var result = new CaptureResult[1];
            yield return Capture(camera, result);
            byte[] rgba = result[0].Rgba;
            Assert.AreEqual(Width * Height * 4, rgba.Length);
            int bottom = (0 * Width + Width / 2) * 4;        // row 0 is the bottom row (Texture2D order)
            int top = ((Height - 1) * Width + Width / 2) * 4;
            Assert.Greater(rgba[bottom + 2], 200, "bottom row should be blue (B channel, index 2)");
            Assert.Less(rgba[bottom + 0], 60, "bottom row should have no red");
            Assert.Greater(rgba[top + 0], 200, "top row should be red (R channel, index 0)");
            Assert.Less(rgba[top + 2], 60, "top row should have no blue");
            Assert.AreEqual(255, rgba[top + 3], "alpha is opaque");
        }

        [UnityTest]
        public IEnumerator LiveSessionReturnsFramesWithTheReferenceRowOrder()
        {
            string server = Environment.GetEnvironmentVariable("WORLDBRIDGE_SERVER");
            if (string.IsNullOrEmpty(server))
            {
                Assert.Ignore("set WORLDBRIDGE_SERVER (for example http://127.0.0.1:50051) to a running `worldbridge serve` and restart the Editor");
            }
            Camera camera = MakeCamera(false);
            MakeRedOverBluePlane();
            WorldBridgeCamera bridge = camera.gameObject.AddComponent<WorldBridgeCamera>();
            bridge.ServerAddress = server;
            bridge.Token = Environment.GetEnvironmentVariable("WORLDBRIDGE_TOKEN") ?? "";
            string lastError = null;
            bridge.OnError.AddListener(message => lastError = message);
            camera.gameObject.SetActive(true);  // OnEnable: capture the reference view, open the session

            float deadline = Time.realtimeSinceStartup + 30f;
            while (bridge.FramesReceived < 3 && Time.realtimeSinceStartup < deadline)
            {
                yield return null;
            }
            Assert.GreaterOrEqual(bridge.FramesReceived, 3, "frames from " + server + "; last error: " + (lastError ?? "none"));
            Texture2D frame = bridge.OutputTexture;
            // The camera has not moved: the anchor generator redraws the reference view, so the
            // texture (Texture2D rows bottom-up) shows blue at the bottom and red at the top.
            Color bottom = frame.GetPixel(frame.width / 2, frame.height / 8);
            Color top = frame.GetPixel(frame.width / 2, frame.height - 1 - frame.height / 8);
            Assert.Greater(bottom.b, 0.7f, "bottom of the frame should be blue, got " + bottom);
            Assert.Less(bottom.r, 0.3f, "bottom of the frame should have no red, got " + bottom);
            Assert.Greater(top.r, 0.7f, "top of the frame should be red, got " + top);
            Assert.Less(top.b, 0.3f, "top of the frame should have no blue, got " + top);
        }
    }
}
