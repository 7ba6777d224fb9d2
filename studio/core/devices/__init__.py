"""Devices: phones and boards over ADB, and this PC, behind one ``Device`` interface.

- listing: list_devices / get_device / connect / DeviceWatcher (hot-plug)
- deploy: deploy_bundle / verify_on_device (free-space check, resume, on-device SHA-256)
- run: run_on_device (the bundle's runner, JSON events streamed back)
"""
