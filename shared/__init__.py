"""The project's own infrastructure: settings, database, models, auth, errors, logs, metrics."""
