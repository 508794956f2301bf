"""The domain values: compositions, locks, platforms and solve inputs (frozen, pure).

Imports nothing of twinlock but :mod:`twinlock.errors`.
"""
