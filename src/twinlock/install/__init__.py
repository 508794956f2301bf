"""Installing locks into prefixes: archives and their safety checks, the rattler linker,
install plans and drift, PyPI layers, kernel wiring.
"""
