// Graphics types of UnityEngine.CoreModule and UnityEngine.ImageConversionModule (see Object.cs).
using System;
using UnityEngine.Rendering;

namespace UnityEngine
{
    // UnityCsReference 2021.3 Runtime/Export/Graphics/GraphicsEnums.cs
    public enum TextureFormat
    {
        RGBA32 = 4,
        RFloat = 18
    }

    // UnityCsReference 2021.3 Runtime/Export/Graphics/GraphicsEnums.cs
    public enum RenderTextureFormat
    {
        ARGB32 = 0,
        Depth = 1,
        RFloat = 14
    }

    // UnityCsReference 2021.3 Runtime/Export/Graphics/GraphicsEnums.cs
    public enum RenderTextureReadWrite
    {
        Default = 0,
        Linear = 1,
        sRGB = 2
    }

    // UnityCsReference 2021.3 Runtime/Export/Graphics/GraphicsEnums.cs
    public enum TextureWrapMode
    {
        Repeat = 0,
        Clamp = 1,
        Mirror = 2,
        MirrorOnce = 3
    }

    // UnityCsReference 2021.3 Runtime/Export/Graphics/GraphicsEnums.cs
    public enum LightType
    {
        Spot = 0,
        Directional = 1,
        Point = 2
    }

    // UnityCsReference 2021.3 Runtime/Export/Graphics/Graphics.bindings.cs
    public struct RenderBuffer
    {
    }

    // UnityCsReference 2021.3 Runtime/Export/Graphics/Texture.bindings.cs
    public partial class Texture : Object
    {
        // UnityCsReference 2021.3 Runtime/Export/Graphics/Texture.bindings.cs
        protected Texture() { }
        // UnityCsReference 2021.3 Runtime/Export/Graphics/Texture.bindings.cs
        public virtual int width { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Graphics/Texture.bindings.cs
        public virtual int height { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Graphics/Texture.bindings.cs
        public TextureWrapMode wrapMode { get { throw null; } set { throw null; } }
    }

    // UnityCsReference 2021.3 Runtime/Export/Graphics/Texture.cs
    public sealed partial class Texture2D : Texture
    {
        // UnityCsReference 2021.3 Runtime/Export/Graphics/Texture.cs
        public Texture2D(int width, int height, TextureFormat textureFormat, bool mipChain) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Graphics/Texture.cs
        public bool Reinitialize(int width, int height, TextureFormat format, bool hasMipMap) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Graphics/Texture.cs
        public void LoadRawTextureData(byte[] data) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Graphics/Texture.cs
        public void Apply(bool updateMipmaps) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Graphics/Texture.cs
        public Color GetPixel(int x, int y) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Graphics/Texture.cs
    public partial class RenderTexture : Texture
    {
        // UnityCsReference 2021.3 Runtime/Export/Graphics/Texture.cs
        public RenderTexture(int width, int height, int depth, RenderTextureFormat format, RenderTextureReadWrite readWrite) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Graphics/Texture.cs
        public RenderTexture(int width, int height, int depth, RenderTextureFormat format) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Graphics/Texture.bindings.cs
        public RenderBuffer colorBuffer { get { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Graphics/Texture.bindings.cs
        public RenderBuffer depthBuffer { get { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Graphics/Texture.bindings.cs
        public bool Create() { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Graphics/Texture.bindings.cs
        public void Release() { throw null; }
    }

    // UnityCsReference 2021.3 Modules/ImageConversion/ScriptBindings/ImageConversion.bindings.cs
    public static class ImageConversion
    {
        // UnityCsReference 2021.3 Modules/ImageConversion/ScriptBindings/ImageConversion.bindings.cs
        public static bool LoadImage(this Texture2D tex, byte[] data, bool markNonReadable) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Shaders/Shader.bindings.cs
    public sealed partial class Shader : Object
    {
        private Shader() { }
        // UnityCsReference 2021.3 Runtime/Export/Shaders/Shader.bindings.cs
        public bool isSupported { get { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Shaders/Shader.bindings.cs
        public static Shader Find(string name) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Shaders/Material.bindings.cs
    public partial class Material : Object
    {
        // UnityCsReference 2021.3 Runtime/Export/Shaders/Material.bindings.cs
        public Material(Shader shader) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Shaders/Material.bindings.cs
        public Texture mainTexture { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Shaders/Material.cs
        public bool HasProperty(string name) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Shaders/Material.cs
        public void SetColor(string name, Color value) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Shaders/MaterialPropertyBlock.bindings.cs
    public sealed partial class MaterialPropertyBlock
    {
        // UnityCsReference 2021.3 Runtime/Export/Shaders/MaterialPropertyBlock.bindings.cs
        public MaterialPropertyBlock() { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Shaders/MaterialPropertyBlock.cs
        public void SetColor(string name, Color value) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Graphics/GraphicsRenderers.bindings.cs
    public partial class Renderer : Component
    {
        // UnityCsReference 2021.3 Runtime/Export/Graphics/GraphicsRenderers.bindings.cs
        public Material material { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Graphics/GraphicsRenderers.bindings.cs
        public Material sharedMaterial { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Graphics/GraphicsRenderers.bindings.cs
        public void SetPropertyBlock(MaterialPropertyBlock properties) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Graphics/GraphicsComponents.bindings.cs
    public sealed partial class Light : Behaviour
    {
        // UnityCsReference 2021.3 Runtime/Export/Graphics/GraphicsComponents.bindings.cs
        public LightType type { get { throw null; } set { throw null; } }
    }

    // UnityCsReference 2021.3 Runtime/Export/Graphics/GraphicsEnums.cs
    public enum CameraClearFlags
    {
        Skybox = 1,
        Color = 2,
        SolidColor = 2,
        Depth = 3,
        Nothing = 4
    }

    // UnityCsReference 2021.3 Runtime/Export/Camera/Camera.bindings.cs
    public sealed partial class Camera : Behaviour
    {
        // UnityCsReference 2021.3 Runtime/Export/Camera/Camera.bindings.cs
        public float nearClipPlane { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Camera/Camera.bindings.cs
        public float farClipPlane { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Camera/Camera.bindings.cs
        public float fieldOfView { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Camera/Camera.bindings.cs
        public CameraClearFlags clearFlags { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Camera/Camera.bindings.cs
        public Color backgroundColor { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Camera/Camera.bindings.cs
        public bool orthographic { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Camera/Camera.bindings.cs
        public float depth { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Camera/Camera.bindings.cs
        public float aspect { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Camera/Camera.bindings.cs
        public RenderTexture targetTexture { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Camera/Camera.bindings.cs
        public void SetTargetBuffers(RenderBuffer colorBuffer, RenderBuffer depthBuffer) { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Camera/Camera.bindings.cs
        public Matrix4x4 projectionMatrix { get { throw null; } set { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Camera/Camera.bindings.cs
        public void Render() { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Camera/Camera.bindings.cs
        public void CopyFrom(Camera other) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Graphics/Graphics.cs
    public partial class Graphics
    {
        // UnityCsReference 2021.3 Runtime/Export/Graphics/Graphics.cs
        public static void Blit(Texture source, RenderTexture dest, Material mat) { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/SystemInfo/SystemInfo.bindings.cs
    public sealed partial class SystemInfo
    {
        // UnityCsReference 2021.3 Runtime/Export/SystemInfo/SystemInfo.bindings.cs
        public static bool usesReversedZBuffer { get { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/SystemInfo/SystemInfo.bindings.cs
        public static GraphicsDeviceType graphicsDeviceType { get { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/SystemInfo/SystemInfo.bindings.cs
        public static bool supportsAsyncGPUReadback { get { throw null; } }
    }
}

namespace UnityEngine.Rendering
{
    // UnityCsReference 2021.3 Runtime/Export/Graphics/GraphicsEnums.cs
    public enum GraphicsDeviceType
    {
        Direct3D11 = 2,
        Null = 4,
        OpenGLCore = 17,
        Direct3D12 = 18,
        Metal = 16,
        Vulkan = 21
    }

    // UnityCsReference 2021.3 Runtime/Export/Graphics/AsyncGPUReadback.bindings.cs
    public struct AsyncGPUReadbackRequest
    {
        // UnityCsReference 2021.3 Runtime/Export/Graphics/AsyncGPUReadback.bindings.cs
        public void Update() { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/Graphics/AsyncGPUReadback.bindings.cs
        public bool hasError { get { throw null; } }
        // UnityCsReference 2021.3 Runtime/Export/Graphics/AsyncGPUReadback.bindings.cs
        public Unity.Collections.NativeArray<T> GetData<T>(int layer = 0) where T : struct { throw null; }
    }

    // UnityCsReference 2021.3 Runtime/Export/Graphics/AsyncGPUReadback.bindings.cs
    public static class AsyncGPUReadback
    {
        // UnityCsReference 2021.3 Runtime/Export/Graphics/AsyncGPUReadback.bindings.cs
        public static AsyncGPUReadbackRequest Request(Texture src, int mipIndex, TextureFormat dstFormat, Action<AsyncGPUReadbackRequest> callback = null) { throw null; }
    }
}

namespace Unity.Collections
{
    // UnityCsReference 2021.3 Runtime/Export/NativeArray/NativeArray.cs
    public struct NativeArray<T> : IDisposable where T : struct
    {
        // UnityCsReference 2021.3 Runtime/Export/NativeArray/NativeArray.cs
        public void Dispose() { throw null; }
        // UnityCsReference 2021.3 Runtime/Export/NativeArray/NativeArray.cs
        public T[] ToArray() { throw null; }
    }
}
