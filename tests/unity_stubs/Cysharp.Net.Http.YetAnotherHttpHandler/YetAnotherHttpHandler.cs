// API-surface stub of Cysharp's YetAnotherHttpHandler 1.11.5 (UPM package
// com.cysharp.yetanotherhttphandler; assembly Cysharp.Net.Http.YetAnotherHttpHandler, from
// src/YetAnotherHttpHandler/YetAnotherHttpHandler.Unity.asmdef): only the members
// Transport/BridgeConnection.cs uses. Signatures are copied from
// github.com/Cysharp/YetAnotherHttpHandler src/YetAnotherHttpHandler/YetAnotherHttpHandler.cs.
// Bodies never run: the stub is compiled only to type-check the package.
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace Cysharp.Net.Http
{
    // Cysharp/YetAnotherHttpHandler 1.11.5 src/YetAnotherHttpHandler/YetAnotherHttpHandler.cs
    public class YetAnotherHttpHandler : HttpMessageHandler
    {
        // Cysharp/YetAnotherHttpHandler 1.11.5 src/YetAnotherHttpHandler/YetAnotherHttpHandler.cs (implicit default constructor)
        public YetAnotherHttpHandler() { }
        // Cysharp/YetAnotherHttpHandler 1.11.5 src/YetAnotherHttpHandler/YetAnotherHttpHandler.cs
        public bool? Http2Only { get { throw null; } set { throw null; } }
        // Cysharp/YetAnotherHttpHandler 1.11.5 src/YetAnotherHttpHandler/YetAnotherHttpHandler.cs
        public string RootCertificates { get { throw null; } set { throw null; } }
        // Cysharp/YetAnotherHttpHandler 1.11.5 src/YetAnotherHttpHandler/YetAnotherHttpHandler.cs
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) { throw null; }
    }
}
