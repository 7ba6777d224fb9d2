"""Sweeps: models × chips × methods × option sets, each trial run by the studio's own steps.

spec.py reads the file, trial.py runs one trial (compress phase, timing phase), pool.py runs
trials on local job children, ray_runner.py on a Ray cluster, cache.py skips unchanged trials,
table.py marks the Pareto front and turns a row into a recipe.
"""
