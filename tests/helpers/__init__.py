"""What several test modules share that is not a fixture: builders of bodies and rows, the
sample rule table, signed pushes, a process's start and stop. Fixtures stay in conftest.py."""
