"""Step 2, Target: the chip cards and their verdicts."""
