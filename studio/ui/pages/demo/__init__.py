"""Step 6, Demo: the chat demo, generation runs and the presentation view."""
