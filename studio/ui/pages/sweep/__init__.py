"""Sweeps: models × chips × methods in one table with the Pareto front (Tools → Sweep…)."""
