"""The six wizard steps, in order."""
