using System;

namespace WorldBridge.Core
{
    /// <summary>The render pipeline a Unity project renders with; it decides how a view and its depth are captured.</summary>
    public enum RenderPipelineKind
    {
        /// <summary>No render pipeline asset: the Built-in Render Pipeline.</summary>
        BuiltIn = 0,
        /// <summary>The Universal Render Pipeline (com.unity.render-pipelines.universal).</summary>
        Universal = 1,
        /// <summary>The High Definition Render Pipeline (com.unity.render-pipelines.high-definition).</summary>
        HighDefinition = 2,
        /// <summary>Another scriptable render pipeline; colour may be captured, depth cannot.</summary>
        Custom = 3,
    }

    /// <summary>Identifies the render pipeline from the type of the active render pipeline asset.</summary>
    public static class RenderPipelines
    {
        /// <summary>Full type name of URP's asset (UnityEngine.Rendering.Universal, URP 7 and later).</summary>
        public const string UniversalAssetType = "UnityEngine.Rendering.Universal.UniversalRenderPipelineAsset";

        /// <summary>Full type name of HDRP's asset (UnityEngine.Rendering.HighDefinition, HDRP 7 and later).</summary>
        public const string HighDefinitionAssetType = "UnityEngine.Rendering.HighDefinition.HDRenderPipelineAsset";

        /// <summary>
        /// The pipeline of an asset whose full type name is <paramref name="assetTypeFullName"/>
        /// (<c>GraphicsSettings.currentRenderPipeline.GetType().FullName</c>; null or empty
        /// when no asset is set). A project's own subclass of URP's or HDRP's asset is not
        /// recognised by name: pass the name of the first URP/HDRP type in its base chain
        /// (see <see cref="FromAssetTypeChain"/>).
        /// </summary>
        public static RenderPipelineKind FromAssetType(string assetTypeFullName)
        {
            if (string.IsNullOrEmpty(assetTypeFullName))
            {
                return RenderPipelineKind.BuiltIn;
            }
            if (assetTypeFullName == UniversalAssetType)
            {
                return RenderPipelineKind.Universal;
            }
            if (assetTypeFullName == HighDefinitionAssetType)
            {
                return RenderPipelineKind.HighDefinition;
            }
            return RenderPipelineKind.Custom;
        }

        /// <summary>
        /// As <see cref="FromAssetType"/> for an asset type and its base types, most derived
        /// first, so that a studio's subclass of URP's or HDRP's asset is recognised.
        /// </summary>
        /// <param name="typeChain">Full type names from the asset's type up its base chain; null means no asset.</param>
        public static RenderPipelineKind FromAssetTypeChain(string[] typeChain)
        {
            if (typeChain == null || typeChain.Length == 0)
            {
                return RenderPipelineKind.BuiltIn;
            }
            foreach (string name in typeChain)
            {
                RenderPipelineKind kind = FromAssetType(name);
                if (kind == RenderPipelineKind.Universal || kind == RenderPipelineKind.HighDefinition)
                {
                    return kind;
                }
            }
            return RenderPipelineKind.Custom;
        }
    }
}
