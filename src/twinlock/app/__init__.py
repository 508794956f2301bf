"""The use cases the CLI calls, one module per command family: open a project, lock, check,
explain, install/verify/mirror, rebuild, look inside a lock (inspect), audit, image tags,
export. Each composes the stages below it; the CLI only parses arguments and renders.
"""
