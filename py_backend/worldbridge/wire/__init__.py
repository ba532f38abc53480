"""What the engine client, the gateway and the render workers share on the wire.

The messages themselves are the generated protobuf stubs in :mod:`worldbridge.v1` (the
``protos/`` folder is their one source). This package holds the codecs both ends apply to
their payloads: :mod:`~worldbridge.wire.texture` (RGB frames to and from the wire's
Texture formats). Depth encodings live with the other conventions in
:mod:`worldbridge.geometry.depth`. Nothing here imports the server, so a client installs and
imports it alone.
"""

from worldbridge.wire.texture import (
    RowOrder,
    TextureError,
    TextureFormat,
    decode_texture,
    encode_texture,
    image_header_size,
)

__all__ = ["RowOrder", "TextureError", "TextureFormat", "decode_texture", "encode_texture", "image_header_size"]
