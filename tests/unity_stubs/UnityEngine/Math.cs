// Math structs of UnityEngine.CoreModule (see Object.cs for what this stub is).
namespace UnityEngine
{
    // UnityCsReference 2021.3 Runtime/Export/Math/Vector3.cs
    public partial struct Vector3
    {
        // UnityCsReference 2021.3 Runtime/Export/Math/Vector3.cs
        public float x;
        // UnityCsReference 2021.3 Runtime/Export/Math/Vector3.cs
        public float y;
        // UnityCsReference 2021.3 Runtime/Export/Math/Vector3.cs
        public float z;
        // UnityCsReference 2021.3 Runtime/Export/Math/Vector3.cs
        public Vector3(float x, float y, float z) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Math/Vector3.cs
        public static Vector3 zero { get { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Math/Vector3.cs
        public static Vector3 operator +(Vector3 a, Vector3 b) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Math/Vector3.cs
        public static Vector3 operator -(Vector3 a, Vector3 b) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Math/Vector3.cs
        public static Vector3 operator *(Vector3 a, float d) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Math/Vector2.cs
    public partial struct Vector2
    {
        // UnityCsReference 2021.3 Runtime/Export/Math/Vector2.cs
        public Vector2(float x, float y) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Math/Quaternion.cs
    public partial struct Quaternion
    {
        // UnityCsReference 2021.3 Runtime/Export/Math/Quaternion.cs
        public float x;
        // UnityCsReference 2021.3 Runtime/Export/Math/Quaternion.cs
        public float y;
        // UnityCsReference 2021.3 Runtime/Export/Math/Quaternion.cs
        public float z;
        // UnityCsReference 2021.3 Runtime/Export/Math/Quaternion.cs
        public float w;
        // UnityCsReference 2021.3 Runtime/Export/Math/Quaternion.cs
        public Quaternion(float x, float y, float z, float w) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Math/Quaternion.cs
        public static Quaternion Euler(float x, float y, float z) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Math/Quaternion.cs
        public static Quaternion identity { get { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Math/Quaternion.cs
        public Vector3 eulerAngles { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Math/Quaternion.cs
        public static Vector3 operator *(Quaternion rotation, Vector3 point) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Math/Matrix4x4.cs
    public partial struct Matrix4x4
    {
        // UnityCsReference 2021.3 Runtime/Export/Math/Matrix4x4.cs
        public float m00;
        // UnityCsReference 2021.3 Runtime/Export/Math/Matrix4x4.cs
        public float m02;
        // UnityCsReference 2021.3 Runtime/Export/Math/Matrix4x4.cs
        public float m11;
        // UnityCsReference 2021.3 Runtime/Export/Math/Matrix4x4.cs
        public float m12;
    }

    // UnityCsReference 2021.3 Runtime/Export/Math/Color.cs
    public struct Color
    {
        // UnityCsReference 2021.3 Runtime/Export/Math/Color.cs
        public float r;
        // UnityCsReference 2021.3 Runtime/Export/Math/Color.cs
        public float g;
        // UnityCsReference 2021.3 Runtime/Export/Math/Color.cs
        public float b;
        // UnityCsReference 2021.3 Runtime/Export/Math/Color.cs
        public float a;
        // UnityCsReference 2021.3 Runtime/Export/Math/Color.cs
        public Color(float r, float g, float b) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Math/Color.cs
        public static Color red { get { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Math/Color.cs
        public static Color blue { get { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Math/Color.cs
        public static Color black { get { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Math/Color.cs
        public static Color white { get { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Math/Color.cs
        public static Color HSVToRGB(float H, float S, float V) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Geometry/Rect.cs
    public struct Rect
    {
        // UnityCsReference 2021.3 Runtime/Export/Geometry/Rect.cs
        public Rect(float x, float y, float width, float height) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Math/Mathf.cs
    public partial struct Mathf
    {
        // UnityCsReference 2021.3 Runtime/Export/Math/Mathf.cs
        public static float Max(float a, float b) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Math/Mathf.cs
        public static int Max(int a, int b) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Math/Mathf.cs
        public static float Clamp(float value, float min, float max) { throw null; }
    }
}
