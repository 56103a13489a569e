"""encours: sync."""
