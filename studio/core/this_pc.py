"""The machine the studio runs on: one id and one display name, used by every part.

``this-pc`` is its chip id and device serial; "This PC" is what every face calls it (the GUI
translates it; no other spelling).
"""

from __future__ import annotations

THIS_PC_ID = "this-pc"
THIS_PC_NAME = "This PC"
