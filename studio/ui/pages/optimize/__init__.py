"""Step 3, Optimize: preset cards, advanced options and the result panel."""
