"""What people read: numbers, units, times, judgements and report content, without Qt.

Downstream of :mod:`station.store` and upstream of both the desktop app and the
command line, so a screen, a PDF made by the app and a PDF made by
``nordic-station report`` write every figure the same way.  Nothing here may
import Qt (tests/test_architecture.py loads it with PySide6 blocked).
"""
