"""Bundles: write and verify them, recipes and their headless replay, the runner protocol."""
