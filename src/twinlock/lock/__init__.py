"""Locking: plan what to solve, assemble and store locks (conda-lock v1, ``@EXPLICIT``),
check them, align packages across environments, import historical pins.
"""
