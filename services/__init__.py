"""Domain logic: pure rules and database operations. No HTTP here."""
