"""The ``twinlock`` command line: the typer app, one module per command group, rendering.

Commands parse arguments, call :mod:`twinlock.app` and render what it returns.
"""
