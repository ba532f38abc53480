// API-surface stub of the UnityEditor assemblies (Unity 2021.3: UnityEditor.dll and its
// modules BuildReportingModule and PackageManagerModule), one assembly named UnityEditor
// holding the members the package's Editor code uses. Every signature is copied from the
// file named above it in github.com/Unity-Technologies/UnityCsReference, branch 2021.3.
// Bodies never run: the stub is compiled only to type-check the package.
using System;
using System.Reflection;
using UnityEngine;
using Object = UnityEngine.Object;

namespace UnityEditor
{
    // UnityCsReference 2021.3 Editor/Mono/EditorWindow.cs
    public partial class EditorWindow : ScriptableObject
    {
        // UnityCsReference 2021.3 Editor/Mono/EditorWindow.cs
        public static T GetWindow<T>(string title) where T : EditorWindow { throw null; }
        // UnityCsReference 2021.3 Editor/Mono/EditorWindow.cs
        public void Repaint() { throw null; }
    }

    // UnityCsReference 2021.3 Editor/Mono/MenuItem.cs
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
    public sealed class MenuItem : Attribute
    {
        // UnityCsReference 2021.3 Editor/Mono/MenuItem.cs
        public MenuItem(string itemName) { throw null; }
    }

    // UnityCsReference 2021.3 Editor/Mono/EditorApplication.cs
    public sealed partial class EditorApplication
    {
        // UnityCsReference 2021.3 Editor/Mono/EditorApplication.cs
        public delegate void CallbackFunction();
        // UnityCsReference 2021.3 Editor/Mono/EditorApplication.cs
        public static CallbackFunction update;
    }

    // UnityCsReference 2021.3 Editor/Mono/EditorGUIUtility.bindings.cs
    public enum MessageType
    {
        None = 0,
        Info = 1,
        Warning = 2,
        Error = 3
    }

    // UnityCsReference 2021.3 Editor/Mono/GUI/EditorStyles.cs
    public sealed class EditorStyles
    {
        private EditorStyles() { }
        // UnityCsReference 2021.3 Editor/Mono/GUI/EditorStyles.cs
        public static GUIStyle boldLabel { get { throw null; } }
        // UnityCsReference 2021.3 Editor/Mono/GUI/EditorStyles.cs
        public static GUIStyle textArea { get { throw null; } }
    }

    // UnityCsReference 2021.3 Editor/Mono/EditorGUI.cs
    public sealed partial class EditorGUI
    {
        // UnityCsReference 2021.3 Editor/Mono/EditorGUI.cs
        public struct DisabledScope : IDisposable
        {
            // UnityCsReference 2021.3 Editor/Mono/EditorGUI.cs
            public DisabledScope(bool disabled) { throw null; }
            // UnityCsReference 2021.3 Editor/Mono/EditorGUI.cs
            public void Dispose() { throw null; }
        }

        // UnityCsReference 2021.3 Editor/Mono/EditorGUI.cs
        public static void ProgressBar(Rect position, float value, string text) { throw null; }
    }

    // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
    public sealed partial class EditorGUILayout
    {
        // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
        public static void LabelField(string label, GUIStyle style, params GUILayoutOption[] options) { throw null; }
        // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
        public static bool Toggle(string label, bool value, params GUILayoutOption[] options) { throw null; }
        // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
        public static bool Toggle(GUIContent label, bool value, params GUILayoutOption[] options) { throw null; }
        // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
        public static string TextField(string label, string text, params GUILayoutOption[] options) { throw null; }
        // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
        public static string TextField(GUIContent label, string text, params GUILayoutOption[] options) { throw null; }
        // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
        public static void SelectableLabel(string text, GUIStyle style, params GUILayoutOption[] options) { throw null; }
        // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
        public static string PasswordField(GUIContent label, string password, params GUILayoutOption[] options) { throw null; }
        // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
        public static float FloatField(string label, float value, params GUILayoutOption[] options) { throw null; }
        // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
        public static float FloatField(GUIContent label, float value, params GUILayoutOption[] options) { throw null; }
        // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
        public static int IntField(string label, int value, params GUILayoutOption[] options) { throw null; }
        // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
        public static Enum EnumPopup(string label, Enum selected, params GUILayoutOption[] options) { throw null; }
        // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
        public static Object ObjectField(GUIContent label, Object obj, Type objType, bool allowSceneObjects, params GUILayoutOption[] options) { throw null; }
        // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
        public static Vector3 Vector3Field(string label, Vector3 value, params GUILayoutOption[] options) { throw null; }
        // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
        public static void HelpBox(string message, MessageType type) { throw null; }
        // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
        public static void Space() { throw null; }
        // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
        public static Vector2 BeginScrollView(Vector2 scrollPosition, params GUILayoutOption[] options) { throw null; }
        // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
        public static void EndScrollView() { throw null; }
        // UnityCsReference 2021.3 Editor/Mono/EditorGUILayout.cs
        public static Rect GetControlRect(bool hasLabel, float height, params GUILayoutOption[] options) { throw null; }
    }
}

namespace UnityEditor.Build
{
    // UnityCsReference 2021.3 Editor/Mono/BuildPipeline/BuildPipelineInterfaces.cs
    public interface IOrderedCallback
    {
        // UnityCsReference 2021.3 Editor/Mono/BuildPipeline/BuildPipelineInterfaces.cs
        int callbackOrder { get; }
    }

    // UnityCsReference 2021.3 Editor/Mono/BuildPipeline/BuildPipelineInterfaces.cs
    public interface IUnityLinkerProcessor : IOrderedCallback
    {
        // UnityCsReference 2021.3 Editor/Mono/BuildPipeline/BuildPipelineInterfaces.cs
        string GenerateAdditionalLinkXmlFile(Reporting.BuildReport report, UnityLinker.UnityLinkerBuildPipelineData data);
    }
}

namespace UnityEditor.Build.Reporting
{
    // UnityCsReference 2021.3 Modules/BuildReportingEditor/Managed/BuildReport.bindings.cs
    public sealed class BuildReport : Object
    {
        private BuildReport() { }
    }
}

namespace UnityEditor.UnityLinker
{
    // UnityCsReference 2021.3 Editor/Mono/BuildPipeline/UnityLinker/UnityLinkerBuildPipelineData.cs
    public sealed class UnityLinkerBuildPipelineData
    {
        private UnityLinkerBuildPipelineData() { }
    }
}

namespace UnityEditor.PackageManager
{
    // UnityCsReference 2021.3 Modules/PackageManager/Editor/Managed/PackageInfo.cs
    public sealed partial class PackageInfo
    {
        private PackageInfo() { }
        // UnityCsReference 2021.3 Modules/PackageManager/Editor/Managed/PackageInfo.cs
        public string resolvedPath { get { throw null; } }
        // UnityCsReference 2021.3 Modules/PackageManager/Editor/Managed/PackageInfo.cs
        public static PackageInfo FindForAssembly(Assembly assembly) { throw null; }
    }
}
