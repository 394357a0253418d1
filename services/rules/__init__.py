"""The rule table: its schema, its compiled form and evaluation, the published versions."""
