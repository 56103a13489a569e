"""encours: sheets_addin."""
