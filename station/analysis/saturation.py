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
    n = len(counts)
    top = (1 << (int(adc_bits) - 1)) - 1
    bottom = -(1 << (int(adc_bits) - 1))
    mask = np.zeros((2, n), dtype=bool)
    if n == 0:
        return mask
    flagged = flags is not None and len(flags) == n and bool(np.any(flags))
    flat = counts.reshape(-1)  # both channels as one contiguous run: two quick reductions
    at_limit = bool(flat.max() >= top or flat.min() <= bottom)
    if not (flagged or at_limit):  # the usual case: two reductions and done
        return mask
    for ch, bit in ((0, SampleFlag.LEFT_SATURATED), (1, SampleFlag.RIGHT_SATURATED)):
        column = counts[:, ch]
        mask[ch] = (column >= top) | (column <= bottom)
        if flagged:
            mask[ch] |= (np.asarray(flags, np.uint8) & bit) != 0
    return mask


def adc_fault_mask(flags: np.ndarray | None, n: int) -> np.ndarray:
    """Bool per sample: the device reported an ADC fault for the sample's frame."""
    if flags is None or len(flags) != n or not np.any(flags):
        return np.zeros(n, dtype=bool)
    return (np.asarray(flags, np.uint8) & SampleFlag.ADC_FAULT) != 0
