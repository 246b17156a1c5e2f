"""Saturated samples: a clipped peak must be flagged, never reported as a peak.

A sample is saturated on a channel when the device flagged that channel in
its SAMPLES frame (protocol.md flag bits 0 and 1) or when the raw count sits
at the ADC's limit for its bit width, the same rule the decoder counts by.
ADC-fault frames (flag bit 2) are reported separately.
"""

from __future__ import annotations

import numpy as np

from firmware_bridge.messages import SampleFlag


def saturation_mask(counts: np.ndarray, flags: np.ndarray | None, adc_bits: int) -> np.ndarray:
    """(2, n) bool, channel-major: left/right saturated per sample (counts are (n, 2))."""
    counts = np.asarray(counts)
    top = (1 << (int(adc_bits) - 1)) - 1
    bottom = -(1 << (int(adc_bits) - 1))
    mask = np.empty((2, len(counts)), dtype=bool)
    for ch, bit in ((0, SampleFlag.LEFT_SATURATED), (1, SampleFlag.RIGHT_SATURATED)):
        column = counts[:, ch]
        mask[ch] = (column >= top) | (column <= bottom)
        if flags is not None and len(flags) == len(counts):
            mask[ch] |= (np.asarray(flags, np.uint8) & bit) != 0
    return mask


def adc_fault_mask(flags: np.ndarray | None, n: int) -> np.ndarray:
    """Bool per sample: the device reported an ADC fault for the sample's frame."""
    if flags is None or len(flags) != n:
        return np.zeros(n, dtype=bool)
    return (np.asarray(flags, np.uint8) & SampleFlag.ADC_FAULT) != 0
