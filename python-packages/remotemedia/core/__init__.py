"""Node and Pipeline: the SDK's core."""
