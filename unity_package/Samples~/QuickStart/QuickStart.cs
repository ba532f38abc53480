using UnityEngine;
using UnityEngine.UI;
using WorldBridge.Unity;

namespace WorldBridge.Samples
{
    /// <summary>
    /// Builds the quick-start scene at runtime: a small lit level, a fly camera streaming to a
    /// WorldBridge server, and a screen-space RawImage showing the generated frames. Put it on
    /// an empty GameObject in an empty scene and press Play.
    /// </summary>
    public sealed class QuickStart : MonoBehaviour
    {
        [SerializeField, Tooltip("WorldBridge server address (worldbridge serve listens on 127.0.0.1:50051).")]
        private string serverAddress = "http://127.0.0.1:50051";

        [SerializeField, Tooltip("Token if the server was started with one.")]
        private string token = "";

        [SerializeField, Tooltip("Fraction of the screen height covered by the generated-frame overlay.")]
        [Range(0.1f, 1f)]
        private float overlaySize = 0.45f;

        private WorldBridgeCamera _bridge;
        private string _lastError = "";

        private void Start()
        {
            BuildLevel();
            RawImage overlay = BuildOverlay();

            // Configure the component before it is enabled: OnEnable connects.
            var cameraObject = new GameObject("WorldBridge Camera");
            cameraObject.SetActive(false);
            cameraObject.transform.SetPositionAndRotation(new Vector3(0, 1.6f, -6), Quaternion.Euler(10, 0, 0));
            var cam = cameraObject.AddComponent<Camera>();
            cam.fieldOfView = 60;
            cam.nearClipPlane = 0.1f;
            cam.farClipPlane = 200;
            cam.depth = 1; // draw over a default Main Camera
            cameraObject.AddComponent<FlyCamera>();
            _bridge = cameraObject.AddComponent<WorldBridgeCamera>();
            _bridge.ServerAddress = serverAddress;
            _bridge.Token = token;
            _bridge.OnError.AddListener(message => _lastError = message);
            _bridge.OnConnected.AddListener(() => _lastError = "");
            _bridge.OnFrame.AddListener(texture => overlay.texture = texture);
            cameraObject.SetActive(true);
        }

        private static void BuildLevel()
        {
            var ground = GameObject.CreatePrimitive(PrimitiveType.Plane);
            ground.transform.localScale = new Vector3(4, 1, 4);
            Tint(ground, new Color(0.35f, 0.5f, 0.3f));
            var random = new System.Random(3);
            for (int i = 0; i < 24; i++)
            {
                var block = GameObject.CreatePrimitive(i % 3 == 0 ? PrimitiveType.Cylinder : PrimitiveType.Cube);
                float h = 0.5f + (float)random.NextDouble() * 3f;
                block.transform.position = new Vector3((float)random.NextDouble() * 30 - 15, h * 0.5f, (float)random.NextDouble() * 30 - 5);
                block.transform.localScale = new Vector3(1 + (float)random.NextDouble(), h, 1 + (float)random.NextDouble());
                Tint(block, Color.HSVToRGB((float)random.NextDouble(), 0.6f, 0.9f));
            }
            var sun = new GameObject("Sun").AddComponent<Light>();
            sun.type = LightType.Directional;
            sun.transform.rotation = Quaternion.Euler(50, -30, 0);
        }

        private static void Tint(GameObject go, Color color)
        {
            var block = new MaterialPropertyBlock();
            block.SetColor("_Color", color);
            go.GetComponent<Renderer>().SetPropertyBlock(block);
        }

        private RawImage BuildOverlay()
        {
            var canvasObject = new GameObject("WorldBridge Overlay");
            var canvas = canvasObject.AddComponent<Canvas>();
            canvas.renderMode = RenderMode.ScreenSpaceOverlay;
            canvasObject.AddComponent<CanvasScaler>();
            var imageObject = new GameObject("Generated Frame");
            imageObject.transform.SetParent(canvasObject.transform, false);
            var image = imageObject.AddComponent<RawImage>();
            var rect = image.rectTransform;
            rect.anchorMin = new Vector2(1, 1);
            rect.anchorMax = new Vector2(1, 1);
            rect.pivot = new Vector2(1, 1);
            float side = Screen.height * overlaySize;
            rect.sizeDelta = new Vector2(side, side);
            rect.anchoredPosition = new Vector2(-10, -10);
            image.color = Color.white;
            return image;
        }

        private void OnGUI()
        {
            if (_bridge == null)
            {
                return;
            }
            string text = string.Format("WorldBridge {0}  frames {1}  skipped poses {2}  round trip {3:F0} ms",
                _bridge.State, _bridge.FramesReceived, _bridge.PosesSkipped, _bridge.LastRoundTripMs);
            if (!string.IsNullOrEmpty(_lastError))
            {
                text += "\n" + _lastError;
            }
            GUI.Label(new Rect(10, 10, Screen.width * 0.5f, 60), text);
        }
    }
}
