"""The studio's library. Nothing below this package may import Qt (a test enforces it)."""
