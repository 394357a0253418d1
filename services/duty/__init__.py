"""值班: the duty roster of each unit, and who is on duty now."""
