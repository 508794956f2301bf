"""Locking: plan what to solve, assemble and store locks (conda-lock v1, ``@EXPLICIT``),
validate every lock read (``validate``) and compare it with the channel (``verify``),
check them, align packages across environments, import historical pins.
"""
