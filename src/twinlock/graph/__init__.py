"""The dependency graph of a locked environment and its renderings (DOT, Mermaid, JSON, SVG)."""
