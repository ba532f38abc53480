// Members of UnityEngine.PhysicsModule, InputLegacyModule, IMGUIModule and UIModule, and the
// UnityEvent types of CoreModule (see Object.cs for what this stub is).
using System;

namespace UnityEngine
{
    // UnityCsReference 2021.3 Modules/Physics/Managed/Dynamics.cs
    public enum QueryTriggerInteraction
    {
        UseGlobal = 0,
        Ignore = 1,
        Collide = 2
    }

    // UnityCsReference 2021.3 Modules/Physics/ScriptBindings/Dynamics.bindings.cs
    public partial class Physics
    {
        // UnityCsReference 2021.3 Modules/Physics/ScriptBindings/Dynamics.bindings.cs
        public const int DefaultRaycastLayers = ~(1 << 2);
        // UnityCsReference 2021.3 Modules/Physics/ScriptBindings/Dynamics.bindings.cs
        public static bool Linecast(Vector3 start, Vector3 end, int layerMask, QueryTriggerInteraction queryTriggerInteraction) { throw null; }
        // UnityCsReference 2021.3 Modules/Physics/ScriptBindings/Dynamics.bindings.cs
        public static bool CheckSphere(Vector3 position, float radius, int layerMask, QueryTriggerInteraction queryTriggerInteraction) { throw null; }
        // UnityCsReference 2021.3 Modules/Physics/ScriptBindings/Dynamics.bindings.cs
        public static void SyncTransforms() { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Input/KeyCode.cs
    public enum KeyCode
    {
        E = 101,
        Q = 113
    }

    // UnityCsReference 2021.3 Modules/InputLegacy/Input.bindings.cs
    public partial class Input
    {
        // UnityCsReference 2021.3 Modules/InputLegacy/Input.bindings.cs
        public static float GetAxis(string axisName) { throw null; }
        // UnityCsReference 2021.3 Modules/InputLegacy/Input.bindings.cs
        public static bool GetKey(KeyCode key) { throw null; }
        // UnityCsReference 2021.3 Modules/InputLegacy/Input.bindings.cs
        public static bool GetMouseButton(int button) { throw null; }
    }

    // UnityCsReference 2021.3 Modules/IMGUI/GUIContent.cs
    public class GUIContent
    {
        // UnityCsReference 2021.3 Modules/IMGUI/GUIContent.cs
        public GUIContent(string text, string tooltip) { throw null; }
    }

    // UnityCsReference 2021.3 Modules/IMGUI/GUIStyle.cs
    public sealed partial class GUIStyle
    {
        private GUIStyle() { }
    }

    // UnityCsReference 2021.3 Modules/IMGUI/GUILayoutOption.cs
    public sealed class GUILayoutOption
    {
        private GUILayoutOption() { }
    }

    // UnityCsReference 2021.3 Modules/IMGUI/GUI.cs
    public partial class GUI
    {
        // UnityCsReference 2021.3 Modules/IMGUI/GUI.cs
        public static void Label(Rect position, string text) { throw null; }
    }

    // UnityCsReference 2021.3 Modules/IMGUI/GUILayout.cs
    public class GUILayout
    {
        // UnityCsReference 2021.3 Modules/IMGUI/GUILayout.cs
        public static bool Button(string text, params GUILayoutOption[] options) { throw null; }
        // UnityCsReference 2021.3 Modules/IMGUI/GUILayout.cs
        public static GUILayoutOption MinHeight(float minHeight) { throw null; }
    }

    // UnityCsReference 2021.3 Modules/UI/ScriptBindings/UICanvas.bindings.cs
    public enum RenderMode
    {
        ScreenSpaceOverlay = 0,
        ScreenSpaceCamera = 1,
        WorldSpace = 2
    }

    // UnityCsReference 2021.3 Modules/UI/ScriptBindings/UICanvas.bindings.cs
    public sealed partial class Canvas : Behaviour
    {
        // UnityCsReference 2021.3 Modules/UI/ScriptBindings/UICanvas.bindings.cs
        public RenderMode renderMode { get { throw null; } set { throw null; } }
    }
}

namespace UnityEngine.Events
{
    // UnityCsReference 2021.3 Runtime/Export/UnityEvent/UnityEvent/UnityEvent_0.cs
    public delegate void UnityAction();

    // UnityCsReference 2021.3 Runtime/Export/UnityEvent/UnityEvent/UnityEvent_1.cs
    public delegate void UnityAction<T0>(T0 arg0);

    // UnityCsReference 2021.3 Runtime/Export/UnityEvent/UnityEvent.cs
    [Serializable]
    public abstract class UnityEventBase
    {
    }

    // UnityCsReference 2021.3 Runtime/Export/UnityEvent/UnityEvent/UnityEvent_0.cs
    [Serializable]
    public class UnityEvent : UnityEventBase
    {
        // UnityCsReference 2021.3 Runtime/Export/UnityEvent/UnityEvent/UnityEvent_0.cs
        public UnityEvent() { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/UnityEvent/UnityEvent/UnityEvent_0.cs
        public void AddListener(UnityAction call) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/UnityEvent/UnityEvent/UnityEvent_0.cs
        public void Invoke() { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/UnityEvent/UnityEvent/UnityEvent_1.cs
    [Serializable]
    public class UnityEvent<T0> : UnityEventBase
    {
        // UnityCsReference 2021.3 Runtime/Export/UnityEvent/UnityEvent/UnityEvent_1.cs
        public UnityEvent() { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/UnityEvent/UnityEvent/UnityEvent_1.cs
        public void AddListener(UnityAction<T0> call) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/UnityEvent/UnityEvent/UnityEvent_1.cs
        public void Invoke(T0 arg0) { throw null; }
    }
}
