"""Low-pass filtering: zero-phase for analysis, causal with carried state for live.

The filter is a Butterworth low-pass (metrics.md: 4th order, 10 Hz).  Analysis
runs it forwards and backwards, exactly as ``scipy.signal.sosfiltfilt`` does
(odd extension of ``padlen`` samples at each end, each pass starting in the
steady state of its first value), so peaks and times stay where they happened.
Each contiguous run of samples is filtered on its own, so the filter never
smears across dropped samples or a device restart.  On a slow rig the cut-off
is lowered to a fixed fraction of the Nyquist frequency and the caller is told.

Why not call SciPy: importing ``scipy.signal`` costs about a second of CPU,
which every ``nordic-station`` command would pay.  The same filter is a few
lines of NumPy, and the tests check it against ``scipy.signal`` (design,
impulse response, ``sosfilt`` and ``sosfiltfilt``) to ~1e-12:

- design: SciPy's recipe (analog Butterworth prototype, pre-warped cut-off,
  bilinear transform), written as partial fractions
  ``H(z) = c0 + sum_i r_i / (1 - p_i z^-1)`` (``p_i`` distinct poles);
- filtering: the signal is cut into blocks of ``BLOCK`` samples.  Within a
  block the response to the block's own samples is one matrix product with
  the impulse response (a Toeplitz matrix); the poles' states at block ends
  follow ``s_j = p^B s_(j-1) + v_j``, solved for all blocks at once by a
  log-step prefix scan; their effect on the next block joins the same matrix
  product.  The backward pass runs the mirrored matrices over the same
  layout, so no reversed copies are made.  Both passes run in place in the
  array holding the padded run, a slab of blocks per product (the product's
  operand stays in the cache; a long run needs one array, not four).  No
  Python loop runs over samples.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np

from station.analysis.gaps import Runs
from station.analysis.settings import AnalysisSettings

BLOCK = 64  # samples per block of the block-recursive filter
FORGOTTEN = 1e-18  # a pole power below this no longer changes a double
LONG_RUN = 4096  # runs at least this long are filtered one by one, shorter ones in batches
PARALLEL_RUN = 1 << 16  # channels of a run at least this long are filtered on two threads
SLAB = 1024  # blocks per matrix product (its operand, ~0.5 MB, stays in the cache)


@dataclass(frozen=True)
class LowpassDesign:
    """A Butterworth low-pass in partial fractions, and the cut-off actually used.

    ``poles``/``residues`` hold one entry per conjugate pair (``weights`` 2) or
    real pole (``weights`` 1); ``gain`` is the impulse response at lag 0.
    """

    rate_hz: float
    cutoff_hz: float
    requested_cutoff_hz: float
    order: int
    gain: float
    poles: np.ndarray
    residues: np.ndarray
    weights: np.ndarray
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def lowered(self) -> bool:
        return self.cutoff_hz < self.requested_cutoff_hz

    @property
    def padlen(self) -> int:
        """sosfiltfilt's default edge extension for this filter (3 x (2 sections + 1), less
        one per section of an odd order that has no second-order terms)."""
        sections = (self.order + 1) // 2
        return 3 * (2 * sections + 1 - self.order % 2)

    def impulse_response(self, n: int) -> np.ndarray:
        """The first ``n`` samples of the impulse response."""
        lags = np.arange(1, max(n, 1))
        h = np.empty(max(n, 1))
        h[0] = self.gain
        h[1:] = (self.weights * (self.residues * self.poles ** lags[:, None])).real.sum(axis=1)
        return h[:n]

    def steady_state(self, level: np.ndarray) -> np.ndarray:
        """Pole states (rows, poles) after ``level`` (one per row) has held forever."""
        level = np.asarray(level, np.float64).reshape(-1, 1)
        return level * (self.residues / (1.0 - self.poles))[None, :]

    def block_matrices(
        self, b: int, reverse: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For blocks of ``b`` samples: G (b, 2P), a block's samples to the pole states after
        it, as [real | imag]; M (b + 2P, b), [block samples | pole states entering it] to the
        block's output; the pole powers p^b.  ``reverse``: the same for the filter run
        backwards in time (the anticausal pass of filtfilt)."""
        key = (b, reverse)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        h = self.impulse_response(b)
        lag = np.arange(b)[:, None] - np.arange(b)[None, :]
        causal = np.where(lag >= 0, h[np.clip(lag, 0, None)], 0.0)  # y = causal @ x
        exponent = np.arange(b)[::-1] if not reverse else np.arange(b)
        to_end = self.residues[None, :] * self.poles[None, :] ** exponent[:, None]
        ahead = self.weights[:, None] * self.poles[:, None] ** (np.arange(b) + 1)[None, :]
        if reverse:
            ahead = ahead[:, ::-1]
        within = causal if reverse else causal.T  # rows of samples times this
        matrices = (
            np.concatenate((to_end.real, to_end.imag), axis=1),
            np.concatenate((within, ahead.real, -ahead.imag), axis=0),
            self.poles**b,
        )
        self._cache[key] = matrices
        return matrices


def butterworth(
    order: int, cutoff_hz: float, rate_hz: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """Digital Butterworth low-pass as (gain at lag 0, all poles, their residues).

    SciPy's ``butter`` recipe: analog prototype poles, cut-off pre-warped to
    ``2 fs tan(pi fc / fs)``, bilinear transform (all zeros at z = -1).
    """
    fs2 = 2.0 * rate_hz
    warped = fs2 * math.tan(math.pi * cutoff_hz / rate_hz)
    analog = -np.exp(1j * np.pi * np.arange(-order + 1, order, 2) / (2 * order)) * warped
    poles = (fs2 + analog) / (fs2 - analog)
    gain = float(np.real(warped**order / np.prod(fs2 - analog)))
    # H(u) = gain (1 + u)^N / prod(1 - p_i u), u = 1/z: residue at u = 1/p_i.
    others = 1.0 - poles[None, :] / poles[:, None]
    np.fill_diagonal(others, 1.0)
    residues = gain * (1.0 + 1.0 / poles) ** order / np.prod(others, axis=1)
    return gain, poles, residues


def design_lowpass(
    rate_hz: float,
    settings: AnalysisSettings,
    cutoff_hz: float | None = None,
    ceiling_hz: float | None = None,
) -> LowpassDesign:
    """Butterworth low-pass for ``rate_hz``; the cut-off is lowered below Nyquist if needed.

    By default the analysis filter (``settings.cutoff_hz``, at most
    ``max_cutoff_nyquist_fraction`` of Nyquist); the RFD filter passes its own
    cut-off and ceiling (rfd.py), with the same order.
    """
    if not rate_hz > 0:
        raise ValueError("sample rate must be positive")
    requested = settings.cutoff_hz if cutoff_hz is None else cutoff_hz
    if ceiling_hz is None:
        ceiling_hz = settings.max_cutoff_nyquist_fraction * rate_hz / 2.0
    cutoff = min(requested, ceiling_hz)
    order = int(settings.filter_order)
    gain, poles, residues = butterworth(order, cutoff, rate_hz)
    keep = poles.imag >= 0  # one of each conjugate pair, and the real pole of an odd order
    weights = np.where(poles[keep].imag > 0, 2.0, 1.0)
    return LowpassDesign(
        rate_hz=float(rate_hz),
        cutoff_hz=float(cutoff),
        requested_cutoff_hz=float(requested),
        order=order,
        gain=gain,
        poles=poles[keep],
        residues=residues[keep],
        weights=weights,
    )


def lfilter_rows(
    design: LowpassDesign,
    x: np.ndarray,
    state: np.ndarray,
    reverse: bool = False,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Filter every row of ``x`` (rows, n) from pole ``state`` (rows, poles).

    Causal by default; with ``reverse`` the filter runs from the last sample to
    the first (then ``n`` must be a whole number of blocks).  Returns the output
    (rows, n) and the pole states after the last sample processed.  ``out``, a
    C-contiguous (rows, n) array when ``n`` is a whole number of blocks, receives
    the output instead of a new array; it may be ``x`` itself.
    """
    rows, n = x.shape
    if n == 0:
        return np.empty((rows, 0)), state
    b = min(BLOCK, n)
    nb = -(-n // b)
    width = nb * b
    if width > n:  # hold the last value: it only reaches samples past the end
        if reverse:
            raise ValueError("a reversed pass needs whole blocks")
        x = np.concatenate((x, np.repeat(x[:, -1:], width - n, axis=1)), axis=1)
    to_end, to_output, power = design.block_matrices(b, reverse)
    flat = x.reshape(rows * nb, b)
    poles = len(design.poles)
    ends = (flat @ to_end).reshape(rows, nb, 2 * poles)
    s = ends[..., :poles] + 1j * ends[..., poles:]  # pole states after each block, own input only
    if reverse:
        s = s[:, ::-1]  # in processing order
    s[:, 0] += power * state
    step, mult = 1, power
    # Prefix scan: s_j += p^(b*step) s_(j-step), until older blocks no longer matter in double
    # precision (a stable filter forgets: p^(b*step) underflows after a few steps).
    while step < nb and np.abs(mult).max() > FORGOTTEN:
        s[:, step:] = s[:, step:] + mult * s[:, :-step]
        mult = mult * mult
        step *= 2
    before = np.concatenate((state[:, None, :], s[:, :-1]), axis=1)  # state entering each block
    if reverse:
        before = before[:, ::-1]  # back in block order
    if out is not None and width == n and out.flags.c_contiguous:
        y = out
    else:
        y = np.empty((rows, width))
    _block_outputs(flat, before.reshape(rows * nb, poles), to_output, y.reshape(rows * nb, b))
    y = y[:, :n]
    if width == n:
        return y, s[:, -1]
    last = (n - 1) % b  # the end state inside the last block, without the held samples
    lags = last - np.arange(last + 1)
    weights = design.residues[None, :] * design.poles[None, :] ** lags[:, None]
    final = before[:, -1] * design.poles ** (last + 1) + x[:, (nb - 1) * b : n] @ weights
    return y, final


def _block_outputs(
    flat: np.ndarray, before: np.ndarray, to_output: np.ndarray, out: np.ndarray
) -> None:
    """Each block's output: [block samples | pole states entering it] @ M, one product,
    a slab of ``SLAB`` blocks at a time.  The joined operand of a slab stays in the
    cache and a long run needs no second copy of its samples, so ``out`` may be the
    same memory as ``flat`` (each slab is read before it is written)."""
    blocks, b = flat.shape
    poles = before.shape[1]
    joined = np.empty((min(SLAB, blocks), b + 2 * poles))
    for lo in range(0, blocks, SLAB):
        hi = min(lo + SLAB, blocks)
        part = joined[: hi - lo]
        part[:, :b] = flat[lo:hi]
        part[:, b : b + poles] = before[lo:hi].real
        part[:, b + poles :] = before[lo:hi].imag
        np.matmul(part, to_output, out=out[lo:hi])


def _whole_blocks(width: int) -> int:
    """A width that is a whole number of filter blocks."""
    return width if width <= BLOCK else -(-width // BLOCK) * BLOCK


def filtfilt_padded(design: LowpassDesign, x: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Forward then backward pass, in place, over rows already extended as the caller wants.

    Row ``r`` is ``x[r, :totals[r]]`` followed by its last value held up to a
    whole number of blocks.  As in sosfiltfilt, the forward pass starts in the
    steady state of the row's first value and the backward pass in that of the
    forward output's value at ``totals[r] - 1``: the hold is made to carry that
    value, which keeps the backward pass in its steady state until it gets there.
    ``x`` (C-contiguous) is overwritten with the result, which is returned: a
    long run needs no other copy of its samples.
    """
    rows, width = x.shape
    forward, _ = lfilter_rows(design, x, design.steady_state(x[:, 0]), out=x)
    end = forward[np.arange(rows), totals - 1]
    if np.all(totals == totals[0]):
        forward[:, totals[0] :] = end[:, None]
    else:
        held = np.arange(width)[None, :] >= totals[:, None]
        np.copyto(forward, end[:, None], where=held)
    backward, _ = lfilter_rows(design, forward, design.steady_state(end), reverse=True, out=x)
    return backward


def filtfilt_runs(x: np.ndarray, runs: Runs, design: LowpassDesign) -> np.ndarray:
    """Zero-phase filter each run of ``x`` on its own, along the last axis (samples).

    ``x`` is (n,) or (channels, n).  Each run gets exactly what
    ``sosfiltfilt(sos, run, padlen=min(padlen, len(run) - 1))`` would give it.
    Long runs are filtered one by one; short ones (many, after a lossy link)
    in a few padded batches of similar lengths.
    """
    x = np.asarray(x, dtype=np.float64)
    squeeze = x.ndim == 1
    data = x[None, :] if squeeze else x
    if data.shape[-1] == 0:
        return np.empty_like(x)
    if runs.count == 1:  # the usual case: no copy into a separate output
        whole = _filtfilt_channels(data, design)
        return whole[0] if squeeze else whole
    out = np.empty_like(data)
    lengths = runs.lengths
    long = lengths >= LONG_RUN
    for start, stop in zip(runs.starts[long].tolist(), runs.stops[long].tolist(), strict=True):
        out[:, start:stop] = _filtfilt_channels(data[:, start:stop], design)
    short = np.flatnonzero(~long)
    bins = np.floor(np.log2(lengths[short])).astype(np.int64)
    for b in np.unique(bins):
        members = short[bins == b]
        _filtfilt_batch(data, out, runs.starts[members], lengths[members], design)
    return out[0] if squeeze else out


def _filtfilt_channels(segment: np.ndarray, design: LowpassDesign) -> np.ndarray:
    """:func:`_filtfilt_one`, the first channel of a long run on a second thread.

    Each row's result is the same whichever way the rows are grouped (every
    product is row by row), and the matrix products release the GIL: on two
    cores a 10-minute 1 kHz test is filtered in about 60 % of the time.  Short
    runs stay on one thread, where starting one would cost more than it saves
    (and the store's process pool already keeps every core busy with them).
    """
    channels, n = segment.shape
    if channels < 2 or n < PARALLEL_RUN:
        return _filtfilt_one(segment, design)
    design.block_matrices(min(BLOCK, n))  # made once, before the threads share the cache
    design.block_matrices(min(BLOCK, n), reverse=True)
    out = np.empty((channels, _whole_blocks(n + 2 * _pad(design, n))))
    failed: list[BaseException] = []

    def work() -> None:
        try:
            _filtfilt_one(segment[:1], design, out[:1])
        except BaseException as exc:  # noqa: BLE001 - re-raised on the calling thread
            failed.append(exc)

    helper = threading.Thread(target=work, name="filtfilt", daemon=True)
    helper.start()
    _filtfilt_one(segment[1:], design, out[1:])
    helper.join()
    if failed:
        raise failed[0]
    pad = _pad(design, n)
    return out[:, pad : pad + n]


def _pad(design: LowpassDesign, n: int) -> int:
    """The odd extension at each end of a run of ``n`` samples (as sosfiltfilt's)."""
    return min(design.padlen, n - 1)


def _filtfilt_one(
    segment: np.ndarray, design: LowpassDesign, out: np.ndarray | None = None
) -> np.ndarray:
    """One run (channels, n), oddly extended by ``min(padlen, n - 1)`` at both ends.
    ``out`` (C-contiguous, channels by the extended width in whole blocks) holds the
    extension and then its filtered values; the run's part is returned."""
    channels, n = segment.shape
    pad = _pad(design, n)
    total = n + 2 * pad
    extended = np.empty((channels, _whole_blocks(total))) if out is None else out
    extended[:, pad : pad + n] = segment
    if pad:
        extended[:, :pad] = 2 * segment[:, :1] - segment[:, pad:0:-1]
        extended[:, pad + n : total] = 2 * segment[:, -1:] - segment[:, -2 : -pad - 2 : -1]
    extended[:, total:] = extended[:, total - 1 : total]
    filtered = filtfilt_padded(design, extended, np.full(channels, total))
    return filtered[:, pad : pad + n]


def _filtfilt_batch(
    x: np.ndarray, out: np.ndarray, starts: np.ndarray, lengths: np.ndarray, design: LowpassDesign
) -> None:
    """Filter several runs of ``x`` (channels, n) at once: each run is a row, oddly extended
    by ``min(padlen, length - 1)`` at both ends and held after that."""
    channels = x.shape[0]
    pads = np.minimum(design.padlen, lengths - 1)
    total = lengths + 2 * pads  # padded length of each run
    width = _whole_blocks(int(total.max()))
    k = np.arange(width)[None, :] - pads[:, None]  # position in the run, before reflection
    last = (lengths - 1)[:, None]
    base = starts[:, None]
    inside = x[:, base + np.clip(k, 0, last)]  # (channels, runs, width)
    first = x[:, starts][:, :, None]
    final = x[:, starts + lengths - 1][:, :, None]
    rows = np.where(k < 0, 2 * first - x[:, base + np.clip(-k, 0, last)], inside)
    rows = np.where(k > last, 2 * final - x[:, base + np.clip(2 * last - k, 0, last)], rows)
    beyond = k > last + pads[:, None]
    end_value = np.take_along_axis(
        rows, np.broadcast_to((total - 1)[None, :, None], (channels, len(starts), 1)), axis=2
    )
    rows = np.where(beyond[None], end_value, rows)
    filtered = filtfilt_padded(design, rows.reshape(-1, width), np.tile(total, channels))
    filtered = filtered.reshape(channels, len(starts), width)
    row = np.repeat(np.arange(len(starts)), lengths)
    local = np.arange(len(row)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    out[:, starts[row] + local] = filtered[:, row, pads[row] + local]


class CausalLowpass:
    """The same Butterworth, causal, with its state carried from block to block.

    Call :meth:`process` once per block of samples (rows: samples, columns:
    channels).  :meth:`reset` starts from rest at a given level (after a gap);
    :meth:`shift` moves the level at once, without ringing (after a tare).
    """

    def __init__(self, design: LowpassDesign, channels: int = 2) -> None:
        self.design = design
        self.channels = channels
        self._state: np.ndarray | None = None  # (channels, poles) complex

    def reset(self, level: np.ndarray | None = None) -> None:
        """Forget the past; with ``level``, start as if that level had held forever."""
        self._state = None if level is None else self.design.steady_state(level)

    def shift(self, delta: np.ndarray) -> None:
        """The input drops by ``delta`` from now on (a new tare): move the state with it,
        so the output steps at once instead of ringing."""
        if self._state is not None:
            self._state = self._state - self.design.steady_state(delta)

    def process(self, block: np.ndarray) -> np.ndarray:
        """Filter one block (n, channels); returns (n, channels) float64."""
        data = np.asarray(block, np.float64).reshape(-1, self.channels).T
        if data.shape[1] == 0:
            return np.empty((0, self.channels))
        state = self._state
        if state is None:
            state = self.design.steady_state(data[:, 0])
        y, self._state = lfilter_rows(self.design, np.ascontiguousarray(data), state)
        return y.T
