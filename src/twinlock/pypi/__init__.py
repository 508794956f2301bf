"""The PyPI layer: what to ask uv for, how to read its answer, and the uv adapter."""
