"""OpenJij's sampler tests, run against kakehashi.ocean (see conftest.py)."""
