"""D-Wave's dwave-samplers 1.8.0 sampler tests, run against kakehashi.ocean (see conftest.py)."""
