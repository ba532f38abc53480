// API-surface stub of the UnityEngine assemblies (Unity 2021.3: UnityEngine.dll and its
// modules CoreModule, PhysicsModule, InputLegacyModule, IMGUIModule, UIModule,
// ImageConversionModule), one assembly named UnityEngine holding the members the package
// uses. Every signature is copied from the file named above it in
// github.com/Unity-Technologies/UnityCsReference, branch 2021.3.
// Bodies never run: the stub is compiled only to type-check the package.
using System;
using System.Collections;

namespace UnityEngine
{
    // UnityCsReference 2021.3 Runtime/Export/Scripting/UnityEngineObject.bindings.cs
    [Flags]
    public enum HideFlags
    {
        None = 0,
        HideInHierarchy = 1,
        HideInInspector = 2,
        DontSaveInEditor = 4,
        NotEditable = 8,
        DontSaveInBuild = 16,
        DontUnloadUnusedAsset = 32,
        DontSave = 52,
        HideAndDontSave = 61
    }

    // UnityCsReference 2021.3 Runtime/Export/Scripting/UnityEngineObject.bindings.cs
    public partial class Object
    {
        // UnityCsReference 2021.3 Runtime/Export/Scripting/UnityEngineObject.bindings.cs
        public string name { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Scripting/UnityEngineObject.bindings.cs
        public HideFlags hideFlags { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Scripting/UnityEngineObject.bindings.cs
        public override bool Equals(object other) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Scripting/UnityEngineObject.bindings.cs
        public override int GetHashCode() { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Scripting/UnityEngineObject.bindings.cs
        public static implicit operator bool(Object exists) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Scripting/UnityEngineObject.bindings.cs
        public static bool operator ==(Object x, Object y) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Scripting/UnityEngineObject.bindings.cs
        public static bool operator !=(Object x, Object y) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Scripting/UnityEngineObject.bindings.cs
        public static void Destroy(Object obj) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Scripting/UnityEngineObject.bindings.cs
        public static void DestroyImmediate(Object obj) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Scripting/Component.bindings.cs
    public partial class Component : Object
    {
        // UnityCsReference 2021.3 Runtime/Export/Scripting/Component.bindings.cs
        public Transform transform { get { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Scripting/Component.bindings.cs
        public GameObject gameObject { get { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Scripting/Component.bindings.cs
        public T GetComponent<T>() { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Scripting/Behaviour.bindings.cs
    public class Behaviour : Component
    {
        // UnityCsReference 2021.3 Runtime/Export/Scripting/Behaviour.bindings.cs
        public bool enabled { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Scripting/Behaviour.bindings.cs
        public bool isActiveAndEnabled { get { throw null; } }
    }

    // UnityCsReference 2021.3 Runtime/Export/Scripting/MonoBehaviour.bindings.cs
    public class MonoBehaviour : Behaviour
    {
    }

    // UnityCsReference 2021.3 Runtime/Export/Scripting/ScriptableObject.bindings.cs
    public class ScriptableObject : Object
    {
    }

    // UnityCsReference 2021.3 Runtime/Export/Scripting/GameObject.bindings.cs
    public sealed partial class GameObject : Object
    {
        // UnityCsReference 2021.3 Runtime/Export/Scripting/GameObject.bindings.cs
        public GameObject(string name) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Scripting/GameObject.bindings.cs
        public static GameObject CreatePrimitive(PrimitiveType type) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Scripting/GameObject.bindings.cs
        public T GetComponent<T>() { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Scripting/GameObject.bindings.cs
        public T AddComponent<T>() where T : Component { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Scripting/GameObject.bindings.cs
        public Transform transform { get { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Scripting/GameObject.bindings.cs
        public void SetActive(bool value) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/BaseClass.cs
    public enum PrimitiveType
    {
        Sphere = 0,
        Capsule = 1,
        Cylinder = 2,
        Cube = 3,
        Plane = 4,
        Quad = 5
    }

    // UnityCsReference 2021.3 Runtime/Transform/ScriptBindings/Transform.bindings.cs
    public partial class Transform : Component, IEnumerable
    {
        // UnityCsReference 2021.3 Runtime/Transform/ScriptBindings/Transform.bindings.cs
        protected Transform() { }
        // UnityCsReference 2021.3 Runtime/Transform/ScriptBindings/Transform.bindings.cs
        public Vector3 position { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Transform/ScriptBindings/Transform.bindings.cs
        public Quaternion rotation { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Transform/ScriptBindings/Transform.bindings.cs
        public Vector3 localScale { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Transform/ScriptBindings/Transform.bindings.cs
        public void SetParent(Transform parent, bool worldPositionStays) { throw null; }
        // UnityCsReference 2021.3 Runtime/Transform/ScriptBindings/Transform.bindings.cs
        public void SetPositionAndRotation(Vector3 position, Quaternion rotation) { throw null; }
        // UnityCsReference 2021.3 Runtime/Transform/ScriptBindings/Transform.bindings.cs
        public int childCount { get { throw null; } }
        // UnityCsReference 2021.3 Runtime/Transform/ScriptBindings/Transform.bindings.cs
        public IEnumerator GetEnumerator() { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Transform/ScriptBindings/RectTransform.bindings.cs
    public sealed partial class RectTransform : Transform
    {
        // UnityCsReference 2021.3 Runtime/Transform/ScriptBindings/RectTransform.bindings.cs
        public Vector2 anchorMin { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Transform/ScriptBindings/RectTransform.bindings.cs
        public Vector2 anchorMax { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Transform/ScriptBindings/RectTransform.bindings.cs
        public Vector2 anchoredPosition { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Transform/ScriptBindings/RectTransform.bindings.cs
        public Vector2 sizeDelta { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Transform/ScriptBindings/RectTransform.bindings.cs
        public Vector2 pivot { get { throw null; } set { throw null; } }
    }

    // UnityCsReference 2021.3 Runtime/Export/Scripting/Attributes.cs
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = true)]
    public sealed class RequireComponent : Attribute
    {
        // UnityCsReference 2021.3 Runtime/Export/Scripting/Attributes.cs
        public RequireComponent(Type requiredComponent) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Scripting/Attributes.cs
    public sealed class AddComponentMenu : Attribute
    {
        // UnityCsReference 2021.3 Runtime/Export/Scripting/Attributes.cs
        public AddComponentMenu(string menuName) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Scripting/Attributes.cs
    [AttributeUsage(AttributeTargets.Class, Inherited = false)]
    public sealed class DisallowMultipleComponent : Attribute
    {
    }

    // UnityCsReference 2021.3 Runtime/Export/Serialization/Serialization.cs
    [AttributeUsage(AttributeTargets.Field, Inherited = true, AllowMultiple = false)]
    public sealed class SerializeField : Attribute
    {
    }

    // UnityCsReference 2021.3 Runtime/Export/PropertyDrawer/PropertyAttribute.cs
    [AttributeUsage(AttributeTargets.Field, Inherited = true, AllowMultiple = false)]
    public abstract class PropertyAttribute : Attribute
    {
    }

    // UnityCsReference 2021.3 Runtime/Export/PropertyDrawer/PropertyAttribute.cs
    [AttributeUsage(AttributeTargets.Field | AttributeTargets.Property | AttributeTargets.Class | AttributeTargets.Struct, Inherited = true, AllowMultiple = false)]
    public class TooltipAttribute : PropertyAttribute
    {
        // UnityCsReference 2021.3 Runtime/Export/PropertyDrawer/PropertyAttribute.cs
        public TooltipAttribute(string tooltip) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/PropertyDrawer/PropertyAttribute.cs
    [AttributeUsage(AttributeTargets.Field, Inherited = true, AllowMultiple = true)]
    public class HeaderAttribute : PropertyAttribute
    {
        // UnityCsReference 2021.3 Runtime/Export/PropertyDrawer/PropertyAttribute.cs
        public HeaderAttribute(string header) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/PropertyDrawer/PropertyAttribute.cs
    [AttributeUsage(AttributeTargets.Field, Inherited = true, AllowMultiple = false)]
    public sealed class RangeAttribute : PropertyAttribute
    {
        // UnityCsReference 2021.3 Runtime/Export/PropertyDrawer/PropertyAttribute.cs
        public RangeAttribute(float min, float max) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/PropertyDrawer/PropertyAttribute.cs
    [AttributeUsage(AttributeTargets.Field, Inherited = true, AllowMultiple = false)]
    public sealed class MinAttribute : PropertyAttribute
    {
        // UnityCsReference 2021.3 Runtime/Export/PropertyDrawer/PropertyAttribute.cs
        public MinAttribute(float min) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/PropertyDrawer/PropertyAttribute.cs
    [AttributeUsage(AttributeTargets.Field, Inherited = true, AllowMultiple = false)]
    public sealed class TextAreaAttribute : PropertyAttribute
    {
        // UnityCsReference 2021.3 Runtime/Export/PropertyDrawer/PropertyAttribute.cs
        public TextAreaAttribute(int minLines, int maxLines) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Debug/Debug.bindings.cs
    public partial class Debug
    {
        // UnityCsReference 2021.3 Runtime/Export/Debug/Debug.bindings.cs
        public static void LogWarning(object message, Object context) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Application/Application.bindings.cs
    public partial class Application
    {
        // UnityCsReference 2021.3 Runtime/Export/Application/Application.bindings.cs
        public static bool isPlaying { get { throw null; } }
    }

    // UnityCsReference 2021.3 Runtime/Export/Resources/Resources.bindings.cs
    public sealed partial class Resources
    {
        // UnityCsReference 2021.3 Runtime/Export/Resources/Resources.bindings.cs
        public static T Load<T>(string path) where T : Object { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Time/Time.bindings.cs
    public partial class Time
    {
        // UnityCsReference 2021.3 Runtime/Export/Time/Time.bindings.cs
        public static float deltaTime { get { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Time/Time.bindings.cs
        public static float realtimeSinceStartup { get { throw null; } }
    }

    // UnityCsReference 2021.3 Runtime/Export/Graphics/Graphics.bindings.cs
    public sealed partial class Screen
    {
        // UnityCsReference 2021.3 Runtime/Export/Graphics/Graphics.bindings.cs
        public static int width { get { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Graphics/Graphics.bindings.cs
        public static int height { get { throw null; } }
    }
}
