"""Flags: short machine-readable strings, each with the sentence a person reads.

The JSON carries the strings (analyze-cli.md); the CLI table and the app show
the sentences.  A flag never changes meaning within a schema version.
"""

from __future__ import annotations

# The certificate flags are calibration.checks' words, not copies of them.
from calibration.checks import (
    BEYOND_CALIBRATED_RANGE,
    CERTIFICATE_EXPIRED,
    CERTIFICATE_FAILED_ACCEPTANCE,
    CERTIFICATE_SERIAL_MISMATCH,
)

# Flags on the whole result.
NO_SAMPLES = "no_samples"
NO_REPS = "no_reps"
ALL_REPS_EXCLUDED = "all_reps_excluded"
REPS_EXCLUDED = "reps_excluded"
NO_QUIET_START = "no_quiet_start"
ZERO_ESTIMATED = "zero_estimated"
CUTOFF_LOWERED = "cutoff_lowered"
RFD_UNAVAILABLE = "rfd_unavailable"
SATURATED_SAMPLES = "saturated_samples"
SAMPLES_DROPPED = "samples_dropped"
CORRUPT_DATA = "corrupt_data"
DEVICE_RESTART = "device_restart"
ADC_FAULT = "adc_fault"
BASELINE_DRIFT = "baseline_drift"
PULLS_IGNORED = "pulls_ignored"
RFD_WINDOW_UNAVAILABLE = "rfd_window_unavailable"
# Flags on a rep (also raised on the whole result when any included rep has them).
SATURATED = "saturated"
SAMPLES_DROPPED_IN_REP = "samples_dropped_in_rep"
REP_TRUNCATED = "rep_truncated"
ONSET_NOT_FOUND = "onset_not_found"
RFD_WINDOW_CUT = "rfd_window_cut"

DESCRIPTIONS: dict[str, str] = {
    NO_SAMPLES: "the capture holds no samples",
    NO_REPS: "no repetition was found (both legs must pull together for at least the minimum "
    "time; in an isometric test, one leg for at least the minimum time)",
    ALL_REPS_EXCLUDED: "every repetition was excluded, so there is no session summary",
    REPS_EXCLUDED: "some repetitions were excluded; the summary leaves them out",
    NO_QUIET_START: "there was no quiet start before the first rep, so the zero is not from a tare "
    "(see zero.source)",
    ZERO_ESTIMATED: "neither a quiet start nor the certificate gave a zero; it was estimated from "
    "the quietest part of the recording and may be wrong",
    CUTOFF_LOWERED: "the sample rate is too low for the requested filter cut-off; the cut-off was "
    "lowered below the Nyquist frequency",
    RFD_UNAVAILABLE: "rate of force development is not available: the sample rate is too low for "
    "50 ms windows",
    SATURATED_SAMPLES: "some samples were saturated (at the ADC's limit or flagged by the rig)",
    SAMPLES_DROPPED: "samples were lost on the link; they stay as gaps on the time axis",
    CORRUPT_DATA: "corrupt frames or lines were received and skipped",
    DEVICE_RESTART: "the rig restarted during the recording",
    ADC_FAULT: "the rig reported an ADC fault during the recording",
    CERTIFICATE_SERIAL_MISMATCH: "the calibration certificate belongs to another rig's serial "
    "number",
    BASELINE_DRIFT: "a still stretch after the tare sits far from zero: the zero may have drifted "
    "or the athlete's position changed",
    PULLS_IGNORED: "some pulls were not counted as reps (one leg only, legs not together, or too "
    "short); see ignored",
    SATURATED: "a rep's force touched a saturated sample: its peak is not trustworthy",
    SAMPLES_DROPPED_IN_REP: "samples were lost inside a rep: its impulse and mean may be low and "
    "its peak may be missed",
    BEYOND_CALIBRATED_RANGE: "a rep's peak is above the highest force the rig was calibrated with",
    CERTIFICATE_EXPIRED: "the calibration certificate had expired when the test was made",
    CERTIFICATE_FAILED_ACCEPTANCE: "the calibration certificate records failed acceptance "
    "figures: its forces may be off",
    RFD_WINDOW_UNAVAILABLE: "the sample rate is too low to resolve some RFD and impulse windows "
    "(a window must span at least two sample periods); those windows are null",
    ONSET_NOT_FOUND: "a leg's rise through the onset threshold was not seen (the force was "
    "already above it where the data begins or resumes after a gap): no onset, RFD or impulse "
    "windows",
    RFD_WINDOW_CUT: "an RFD or impulse window ran into missing samples or the end of the "
    "recording; that window is null",
    REP_TRUNCATED: "a rep runs into the start or end of the recording (or a device restart): it "
    "may be cut off",
}


def describe(flag: str) -> str:
    return DESCRIPTIONS.get(flag, flag.replace("_", " "))
