"""Reading what a maintainer wrote: compositions, requirement lists, environment.yml files,
``twinlock.toml`` and kernel stanzas, into :mod:`twinlock.model` values.
"""
