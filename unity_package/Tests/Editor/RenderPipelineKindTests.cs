using NUnit.Framework;
using WorldBridge.Core;

namespace WorldBridge.Core.Tests
{
    public class RenderPipelineKindTests
    {
        [Test]
        public void NoAssetIsBuiltIn()
        {
            Assert.AreEqual(RenderPipelineKind.BuiltIn, RenderPipelines.FromAssetType(null));
            Assert.AreEqual(RenderPipelineKind.BuiltIn, RenderPipelines.FromAssetType(""));
            Assert.AreEqual(RenderPipelineKind.BuiltIn, RenderPipelines.FromAssetTypeChain(null));
            Assert.AreEqual(RenderPipelineKind.BuiltIn, RenderPipelines.FromAssetTypeChain(new string[0]));
        }

        [Test]
        public void UrpAndHdrpAssetsAreRecognised()
        {
            Assert.AreEqual(RenderPipelineKind.Universal,
                RenderPipelines.FromAssetType("UnityEngine.Rendering.Universal.UniversalRenderPipelineAsset"));
            Assert.AreEqual(RenderPipelineKind.HighDefinition,
                RenderPipelines.FromAssetType("UnityEngine.Rendering.HighDefinition.HDRenderPipelineAsset"));
        }

        [Test]
        public void OtherPipelinesAreCustom()
        {
            Assert.AreEqual(RenderPipelineKind.Custom, RenderPipelines.FromAssetType("Studio.Rendering.MyPipelineAsset"));
            // The pre-URP Lightweight pipeline is not URP.
            Assert.AreEqual(RenderPipelineKind.Custom,
                RenderPipelines.FromAssetType("UnityEngine.Rendering.LWRP.LightweightRenderPipelineAsset"));
        }

        [Test]
        public void SubclassesAreRecognisedThroughTheirBaseChain()
        {
            string[] chain =
            {
                "Studio.Rendering.OurUrpAsset",
                "UnityEngine.Rendering.Universal.UniversalRenderPipelineAsset",
                "UnityEngine.Rendering.RenderPipelineAsset",
                "UnityEngine.ScriptableObject",
            };
            Assert.AreEqual(RenderPipelineKind.Universal, RenderPipelines.FromAssetTypeChain(chain));
            Assert.AreEqual(RenderPipelineKind.Custom,
                RenderPipelines.FromAssetTypeChain(new[] { "Studio.Rendering.MyPipelineAsset", "UnityEngine.Rendering.RenderPipelineAsset" }));
        }
    }
}
