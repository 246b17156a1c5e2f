"""Options and checks that ``calibrate`` and ``verify`` share: when a reading
counts as steady, and the one-line refusal of a number that must be positive."""

from __future__ import annotations

import argparse
import math
from dataclasses import replace

from calibration.procedure import DEFAULT_TIMEOUT_S
from calibration.settle import SettleConfig
from station.cli import CliError


def check_positive(value: float | None, message: str) -> None:
    """Refuse a given number that is not finite and above zero (None: not given)."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise CliError(message)


def add_settle_options(p: argparse.ArgumentParser) -> None:
    cfg = SettleConfig()
    p.add_argument(
        "--max-spread",
        type=float,
        metavar="COUNTS",
        help=f"steady: spread below this (default {cfg.max_spread_counts:g} counts "
        "for a 24-bit ADC, or 0.05 %% of the load)",
    )
    p.add_argument(
        "--max-drift",
        type=float,
        metavar="COUNTS_PER_S",
        help=f"steady: drift below this (default {cfg.max_slope_counts_per_s:g} "
        "counts/s for a 24-bit ADC, or 0.05 %% of the load per s)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help="seconds to wait for a steady reading before asking (default %(default)s)",
    )
    p.add_argument(
        "--dwell",
        type=float,
        default=cfg.min_dwell_s,
        metavar="S",
        help="let each load hang at least this long before its reading is taken, so slow "
        "creep dies away (default %(default)s)",
    )


def settle_config(args: argparse.Namespace, adc_bits: int) -> SettleConfig:
    """The steadiness rules for this rig's ADC, with the options given applied."""
    cfg = SettleConfig().for_adc_bits(adc_bits)
    for name, field in (
        ("max_spread", "max_spread_counts"),
        ("max_drift", "max_slope_counts_per_s"),
    ):
        value = getattr(args, name, None)
        check_positive(value, f"--{name.replace('_', '-')} must be a positive number of counts")
        if value is not None:
            cfg = replace(cfg, **{field: value})
    check_positive(args.timeout, "--timeout must be a positive number of seconds")
    if not (math.isfinite(args.dwell) and args.dwell >= 0):
        raise CliError("--dwell must be 0 or more seconds")
    return replace(cfg, min_dwell_s=args.dwell)
