"""Auditing locks: diff two lock sets (dirs, files, git revisions), overlap between
environments, CycloneDX SBOMs, and their renderings.
"""
