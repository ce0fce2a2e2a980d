"""A tiny fee/pricing engine: the code the demo factory works on.

All money logic lives in this package (engine-centric); scripts/ only call into it.
"""
