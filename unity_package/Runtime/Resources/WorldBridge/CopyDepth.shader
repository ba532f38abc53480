// Copies a depth texture's raw (nonlinear) values into a single-channel float target so that
// AsyncGPUReadback can read them; WorldBridge.Core.DepthPacking linearises them on the CPU.
Shader "Hidden/WorldBridge/CopyDepth"
{
    Properties
    {
        _MainTex ("Depth", 2D) = "white" {}
    }
    SubShader
    {
        Cull Off ZWrite Off ZTest Always
        Pass
        {
            CGPROGRAM
            #pragma vertex vert_img
            #pragma fragment frag
            #include "UnityCG.cginc"

            UNITY_DECLARE_DEPTH_TEXTURE(_MainTex);

            float4 frag(v2f_img i) : SV_Target
            {
                return SAMPLE_DEPTH_TEXTURE(_MainTex, i.uv).xxxx;
            }
            ENDCG
        }
    }
    Fallback Off
}
