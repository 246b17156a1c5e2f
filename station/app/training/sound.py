"""Training mode's optional sound: a short tone on entering the zone, a lower one on leaving.

QtMultimedia is optional: on a computer without it (or without its audio
libraries, e.g. no PulseAudio) importing it fails, and training works silently,
saying so.  The tones are generated once (a few kilobytes of WAV) into a cache
folder, so nothing is shipped and nothing needs a sound file.
"""

from __future__ import annotations

import logging
import math
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

RATE_HZ = 22_050
TONES = {"enter": 880.0, "leave": 440.0}  # Hz: a higher tone in, a lower one out
DURATION_S = 0.12
VOLUME = 0.5


def write_tone(path: Path, frequency_hz: float, duration_s: float = DURATION_S) -> Path:
    """A 16-bit mono sine with 10 ms fades (no click), written as a WAV file."""
    n = int(RATE_HZ * duration_s)
    t = np.arange(n) / RATE_HZ
    fade = np.minimum(1.0, np.minimum(t, duration_s - t) / 0.01)
    samples = (VOLUME * 32767 * fade * np.sin(2 * math.pi * frequency_hz * t)).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE_HZ)
        out.writeframes(samples.tobytes())
    return path


def load_sound_effect() -> Any:
    """QtMultimedia's QSoundEffect class (ImportError/OSError when it cannot be used)."""
    from PySide6.QtMultimedia import QSoundEffect

    return QSoundEffect


class ZoneSound:
    """Plays the zone tones when ``enabled`` and QtMultimedia works; otherwise stays silent."""

    def __init__(self, folder: Path, loader: Callable[[], Any] = load_sound_effect) -> None:
        self.enabled = False
        self.reason = ""
        self._effects: dict[str, Any] = {}
        self.played: list[str] = []  # what was played, in order (tests and the log)
        try:
            effect_class = loader()
            from PySide6.QtCore import QUrl

            for name, frequency in TONES.items():
                path = write_tone(folder / f"zone-{name}.wav", frequency)
                effect = effect_class()
                effect.setSource(QUrl.fromLocalFile(str(path)))
                effect.setVolume(VOLUME)
                self._effects[name] = effect
        except Exception as exc:  # noqa: BLE001 - any failure means: train without sound
            self._effects = {}
            self.reason = f"no sound on this computer ({type(exc).__name__}: {exc})"
            log.info("training sound unavailable: %s", exc)

    @property
    def available(self) -> bool:
        return bool(self._effects)

    def play(self, name: str) -> None:
        """Play ``"enter"`` or ``"leave"`` (nothing when off or unavailable)."""
        effect = self._effects.get(name)
        if not self.enabled or effect is None:
            return
        try:
            effect.play()
        except Exception:  # noqa: BLE001 - a sound failing must never stop training
            log.warning("training sound failed", exc_info=True)
            return
        self.played.append(name)
