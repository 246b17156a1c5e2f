"""Analysis of Nordic-curl tests: counts in, the numbers a clinician acts on out.

Plain NumPy/SciPy on arrays: no Qt, no files.  One entry point,
:func:`analyze` (or :func:`analyze_arrays`), returns an
:class:`AnalysisResult` that carries the settings and the analysis version
it was computed with.  :class:`LiveProcessor` is the block-by-block form for
the live view.  Definitions: docs/analysis.md and metrics.md.
"""

from typing import TYPE_CHECKING, Any

from station.analysis.convert import ChannelCalibration, counts_to_newtons
from station.analysis.flags import DESCRIPTIONS as FLAG_DESCRIPTIONS
from station.analysis.flags import describe as describe_flag
from station.analysis.metrics import Imbalance, LegMetrics, Rep, asymmetry
from station.analysis.pipeline import AnalysisInput, analyze, analyze_arrays, settings_from
from station.analysis.references import DEFAULT_REFERENCES, ReferenceLine, evaluate_references
from station.analysis.result import (
    ANALYSIS_VERSION,
    SCHEMA,
    AnalysisResult,
    Curves,
    IgnoredPullInfo,
    StreamInfo,
)
from station.analysis.rfd import WINDOW_KEYS as RFD_WINDOW_KEYS
from station.analysis.settings import (
    ASYMMETRY_FORMULAS,
    PROTOCOLS,
    RFD_WINDOWS_MS,
    AnalysisSettings,
    SettingsError,
)
from station.analysis.summary import LegSummary, Summary, summarize
from station.analysis.tare import ZeroInfo

if TYPE_CHECKING:
    from station.analysis.live import LiveProcessor, LiveRep, LiveUpdate

_LIVE = ("LiveProcessor", "LiveRep", "LiveUpdate")


def __getattr__(name: str) -> Any:
    """The live view's classes, loaded when first asked for: a command that analyses
    a file (``nordic-station analyze``) does not pay for them at start-up."""
    if name in _LIVE:
        from station.analysis import live

        return getattr(live, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ANALYSIS_VERSION",
    "ASYMMETRY_FORMULAS",
    "PROTOCOLS",
    "RFD_WINDOWS_MS",
    "RFD_WINDOW_KEYS",
    "DEFAULT_REFERENCES",
    "FLAG_DESCRIPTIONS",
    "SCHEMA",
    "AnalysisInput",
    "AnalysisResult",
    "AnalysisSettings",
    "ChannelCalibration",
    "Curves",
    "IgnoredPullInfo",
    "Imbalance",
    "LegMetrics",
    "LegSummary",
    "LiveProcessor",
    "LiveRep",
    "LiveUpdate",
    "ReferenceLine",
    "Rep",
    "SettingsError",
    "StreamInfo",
    "Summary",
    "ZeroInfo",
    "analyze",
    "analyze_arrays",
    "asymmetry",
    "counts_to_newtons",
    "describe_flag",
    "evaluate_references",
    "settings_from",
    "summarize",
]
