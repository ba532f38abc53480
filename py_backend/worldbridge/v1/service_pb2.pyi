from worldbridge.v1 import frames_pb2 as _frames_pb2
from worldbridge.v1 import handshake_pb2 as _handshake_pb2
from worldbridge.v1 import recording_pb2 as _recording_pb2
from worldbridge.v1 import session_pb2 as _session_pb2
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor
