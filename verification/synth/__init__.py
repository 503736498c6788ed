"""Seeded generators of synthetic test media (ID cards, photos, speech, videos).

Tests and benchmarks regenerate everything from a seed; nothing is committed.
"""
