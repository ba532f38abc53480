"""Generated protobuf and gRPC stubs for ``protos/worldbridge/v1`` (scripts/gen_protos.py)."""
