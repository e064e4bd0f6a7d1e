"""Shared test settings."""

from hypothesis import settings

settings.register_profile("initreg", deadline=None, derandomize=True)
settings.load_profile("initreg")
