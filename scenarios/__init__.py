"""encours: scenarios."""
