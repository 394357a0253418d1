"""SMS providers' own APIs, spoken directly (no vendor SDK): signing, the call, its answer."""
