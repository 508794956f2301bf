"""The use cases the CLI calls, one module each: open a project, lock, check, explain,
install/verify/mirror, rebuild. Each composes the stages below it.
"""
