"""Local tooling for a desk machine and the tests: embedded PostgreSQL and Redis, the
supervisor behind `gaodedim run`. Installed with the `local` extra; production never imports
it, and this module itself needs nothing from the extra (the CLI catches its error)."""


class AlreadyRunning(RuntimeError):
    """Another `gaodedim run` holds the var directory."""
