"""Step 5, Deploy: bundle, the device list and pushing to a device."""
