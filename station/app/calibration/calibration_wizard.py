"""Calibration: the known-mass procedure step by step, its fit and verdict, and quick checks.

The wizard drives :class:`calibration.procedure.Procedure` (through
:class:`~station.app.calibration.calibration_session.Session`) with the rig's readings
from the app's one connection: the acquisition's sample blocks arrive from
the link's reader thread, so the GUI never reads the port.  It says which
mass to hang next, shows the live reading and whether it is steady, then
the fitted line with its residuals and each figure with pass or fail.  A
saved certificate goes into the store (and a JSON file in the data folder)
and is used for the rig from then on.  A quick verification (empty hook,
then one known mass) is kept in the store beside its certificate.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QFileDialog,
    QTableWidgetItem,
)

from calibration import choice as calibration_choice
from calibration.acceptance import FIGURES
from calibration.certificate import save_certificate
from calibration.procedure import Phase
from calibration.settle import SettleConfig
from firmware_bridge.errors import InputError
from station.app.calibration.calibration_layout import CalibrationLayout
from station.app.calibration.calibration_session import CalibrationResult, Session
from station.app.calibration.virtual_bench import bench_url, connected_rig, hang, is_bench
from station.app.rig import acquisition as acq
from station.app.settings import preferences
from station.app.shell import dialogs, theme
from station.app.shell.context import AppContext
from station.app.shell.dialogs import user_message
from station.app.shell.screen import Screen, register_screen
from station.present.certificate_status import certificate_warning, validity_text
from station.present.numbers import format_number
from station.present.units import force_unit, format_force

SETUP, RUNNING, RESULT, VERIFIED = range(4)
FIGURE_LABELS = {
    "nonlinearity_pct": ("Non-linearity", "%"),
    "hysteresis_pct": ("Hysteresis", "%"),
    "repeatability_pct": ("Repeatability", "%"),
    "residual_max_n": ("Largest residual", "N"),
}
LEVEL_STYLE = {
    "good": (theme.GOOD, "✓"),
    "wait": (theme.NEUTRAL, "…"),
    "problem": (theme.DANGER, "⚠"),
}
CERTIFICATES_FOLDER = "certificates"


@register_screen(order=70)
class CalibrationScreen(CalibrationLayout, Screen):
    """Calibrate the connected rig with known masses, or verify it with one."""

    key = "calibration"
    title = "Calibration"

    def __init__(self, context: AppContext, settle_config: SettleConfig | None = None) -> None:
        super().__init__(context)
        self.acquisition = context.acquisition
        self.store = context.store
        self.settle_config = settle_config  # tests use a shorter settle window
        self.session: Session | None = None
        self.result: CalibrationResult | None = None
        self.record: dict[str, Any] | None = None
        self.saved_path: Path | None = None
        self.prefs = preferences.load(context.settings)
        self._build()
        self.acquisition.samples_arrived.connect(self._on_samples)
        self.acquisition.state_changed.connect(lambda _s: self._show_rig())
        self.acquisition.calibration_changed.connect(lambda _c: self._show_rig())
        self._show_rig()

    # -- the rig ----------------------------------------------------------------------------
    def activated(self) -> None:
        self.prefs = preferences.load(self.context.settings)
        self._show_rig()

    def _show_rig(self) -> None:
        a = self.acquisition
        if not a.is_connected or a.is_replay:
            self.rig_label.setText(
                "No rig connected: connect the rig (or the virtual rig) on the "
                "Connect screen first. A recording cannot be calibrated."
            )
        else:
            rate = a.sample_rate_hz()
            self.rig_label.setText(
                f"Rig {a.serial_number or '(no serial)'}, {rate or 0:g} Hz · "
                + (a.calibration.short_text if a.calibration is not None else "no calibration")
            )
        self._certificate_banner()
        self._list_certificates()
        ready = a.is_connected and not a.is_replay and self.session is None
        self.bench_button.setVisible(
            self.session is None
            and (a.kind in (None, "virtual", "replay") or not a.is_connected)
            and not is_bench(connected_rig(a))
        )
        self.start_button.setEnabled(ready)
        self.verify_button.setEnabled(ready)

    def _certificate_banner(self) -> None:
        choice = self.acquisition.calibration
        if (
            choice is None
            or not self.acquisition.is_connected
            or self.pages.currentIndex() != SETUP
        ):
            self.banner.clear_message()
            return
        warning = certificate_warning(choice.certificate, self.acquisition.serial_number)
        if warning:
            self.banner.show_message(warning, "error" if choice.uncalibrated else "warning")
        else:
            self.banner.clear_message()

    def _list_certificates(self) -> None:
        self.certificates.clear()
        serial = self.acquisition.serial_number
        if not serial:
            return
        try:
            records = self.store.certificates.find(serial)
        except Exception as exc:  # noqa: BLE001
            self.certificates.addItem(f"cannot list certificates: {user_message(exc)}")
            return
        in_use = (
            self.acquisition.calibration.certificate_id if self.acquisition.calibration else None
        )
        for record in sorted(records, key=lambda r: r.created or "", reverse=True):
            if record.data.get(calibration_choice.UNCALIBRATED_KEY):
                continue
            passed = (record.data.get("acceptance") or {}).get("passed")
            verdict = {True: "passed", False: "FAILED", None: "acceptance not stated"}[passed]
            mark = "  ← in use" if record.id == in_use else ""
            text = (
                f"#{record.id}  made {(record.created or '?')[:10]}, valid until "
                f"{record.valid_until or '?'}, {verdict}{mark}"
            )
            self.certificates.addItem(text)
            self.certificates.item(self.certificates.count() - 1).setData(
                Qt.ItemDataRole.UserRole, record.id
            )
        if not self.certificates.count():
            self.certificates.addItem("none yet for this rig")

    def use_selected_certificate(self) -> None:
        item = self.certificates.currentItem()
        record_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if record_id is None:
            return
        self._use_stored(int(record_id))

    def _use_stored(self, record_id: int) -> None:
        record = self.store.certificates.get(record_id)
        choice = calibration_choice.from_dict(record.data, "store", self.acquisition.serial_number)
        choice = calibration_choice.CalibrationChoice(
            choice.certificate, "store", choice.findings, record.id
        )
        self.acquisition.set_calibration(choice)
        self.context.show_status(f"Using calibration certificate #{record.id}", 5000)
        self._show_rig()

    # -- running ----------------------------------------------------------------------------
    def _can_start(self) -> bool:
        a = self.acquisition
        run = self.context.test_run
        if run is not None and run.active:
            dialogs.show_warning(self, "Calibration", "A test is being recorded: end it first.")
            return False
        if not a.is_connected or a.is_replay or not a.sample_rate_hz():
            dialogs.show_warning(
                self, "Calibration", "Connect the rig on the Connect screen first."
            )
            return False
        if a.state != acq.STREAMING:
            a.start_preview()
        return True

    def _config(self) -> SettleConfig | None:
        if self.settle_config is not None:
            return self.settle_config
        info = self.acquisition.info
        bits = getattr(info, "adc_bits", 24) if info is not None else 24
        return SettleConfig().for_adc_bits(bits if 2 <= bits <= 32 else 24)

    def start_calibration(self) -> None:
        if not self._can_start():
            return
        try:
            self.session = Session.calibration(
                self.masses.text(),
                self.channels.currentData(),
                float(self.acquisition.sample_rate_hz() or 0),
                self.acquisition.serial_number,
                descending=self.descending.isChecked(),
                repeat=self.repeat.isChecked(),
                config=self._config(),
            )
        except InputError as exc:
            dialogs.show_error(self, "Calibration", user_message(exc))
            return
        self._begin()

    def start_verification(self) -> None:
        if not self._can_start():
            return
        choice = self.acquisition.calibration
        if choice is None or choice.uncalibrated:
            dialogs.show_warning(
                self, "Verification", "There is no certificate to verify: calibrate the rig first."
            )
            return
        try:
            self.session = Session.verification(
                self.verify_channel.currentData(),
                self.verify_mass.value(),
                float(self.acquisition.sample_rate_hz() or 0),
                self.acquisition.serial_number,
                limit_pct=self.verify_limit.value(),
                config=self._config(),
            )
        except InputError as exc:
            dialogs.show_error(self, "Verification", user_message(exc))
            return
        self._begin()

    def _begin(self) -> None:
        self.log.clear()
        self.banner.clear_message()
        self.pages.setCurrentIndex(RUNNING)
        self._show_rig()
        self._update_running()

    def _on_samples(self, batch: Any) -> None:
        session = self.session
        if session is None or session.finished:
            return
        self._log(session.feed(batch.blocks))
        self._update_running()
        if session.finished:
            self._finish()

    def act(self, action: str) -> None:
        """An operator's button: accept (measure / accept anyway), retry, skip or abort."""
        session = self.session
        if session is None:
            return
        self._log(session.act(action))
        self._update_running()
        if session.finished:
            self._finish()

    def primary_action(self) -> None:
        """Space: measure when waiting, retry after a problem."""
        if self.session is None or self.pages.currentIndex() != RUNNING:
            return
        phase = self.session.procedure.phase
        if phase is Phase.WAITING:
            self.act("accept")
        elif phase is Phase.PROBLEM:
            self.act("retry")

    def _log(self, events: list[Any]) -> None:
        for event in events:
            mark = {"settled": "✓", "accepted_unsettled": "•", "skipped": "→", "done": "✓"}.get(
                event.kind, "⚠" if event.kind not in ("retry", "load_detected") else "…"
            )
            self.log.addItem(f"{mark} {event.message}")
            self.log.scrollToBottom()

    def _update_running(self) -> None:
        session = self.session
        if session is None:
            return
        proc = session.procedure
        done, total = proc.progress
        step = proc.step
        what = "Calibration" if session.kind == "calibrate" else "Verification"
        self.step_label.setText(
            f"{what} · step {min(done + 1, total)} of {total}"
            + (f" · {step.channel} hook, {step.label.split(', ', 1)[1]}" if step else "")
        )
        self.instruction.setText(proc.instruction)
        self.reading.setText(session.reading_text(self.prefs.display_unit))
        word, level = session.stability()
        colour, mark = LEVEL_STYLE[level]
        self.stability.setText(f"{mark} {word}")
        self.stability.setStyleSheet(
            f"background: {colour}; color: white; border-radius: 6px; padding: 6px 12px;"
        )
        self.reading_plot.show_recent(session.recent, step.channel if step else None)
        phase = proc.phase
        self.measure_button.setEnabled(phase is Phase.WAITING)
        self.accept_button.setEnabled(phase is Phase.PROBLEM)
        self.retry_button.setEnabled(phase in (Phase.SETTLING, Phase.PROBLEM))
        self.skip_button.setEnabled(not proc.finished)
        self.abort_button.setEnabled(not proc.finished)
        self.hang_button.setVisible(is_bench(connected_rig(self.acquisition)))
        self.hang_button.setEnabled(step is not None and phase is Phase.WAITING)

    def hang_on_virtual_rig(self) -> bool:
        """Do what the step asks on the virtual bench (False when not connected to one)."""
        rig = connected_rig(self.acquisition)
        session = self.session
        if not is_bench(rig) or session is None or session.procedure.step is None:
            return False
        assert rig is not None
        step = session.procedure.step
        hang(rig, step.channel, step.mass_kg)
        self.log.addItem(f"… {format_number(step.mass_kg, 1)} kg on the {step.channel} hook")
        return True

    def use_virtual_bench(self) -> None:
        """Connect to the virtual rig with nobody pulling on it (a calibration bench)."""
        self.acquisition.connect_to(bench_url())

    # -- results -----------------------------------------------------------------------------
    def _finish(self) -> None:
        session = self.session
        assert session is not None
        if session.aborted:
            points = len(session.procedure.points)
            self.session = None
            self.pages.setCurrentIndex(SETUP)
            self._show_rig()
            self.banner.show_message(
                f"Aborted: nothing was saved ({points} readings taken were dropped).", "info"
            )
            return
        if session.kind == "verify":
            self._finish_verification(session)
        else:
            self._finish_calibration(session)
        self.session = None
        self._show_rig()

    def _base_certificate(self, session: Session) -> Any:
        choice = self.acquisition.calibration
        if len(session.channels) == 2 or choice is None or choice.uncalibrated:
            return None
        return choice.certificate

    def _finish_calibration(self, session: Session) -> None:
        try:
            self.result = session.calibration_result(
                operator=self.operator.text().strip(),
                valid_days=self.prefs.certificate_valid_days,
                base=self._base_certificate(session),
            )
        except InputError as exc:
            self.pages.setCurrentIndex(SETUP)
            dialogs.show_error(self, "Calibration", f"No certificate: {user_message(exc)}")
            return
        self.saved_path = None
        self._show_result(self.result)
        self.pages.setCurrentIndex(RESULT)

    def _show_result(self, result: CalibrationResult) -> None:
        unit = self.prefs.display_unit
        failures = [
            f"{name} hook: {', '.join(FIGURE_LABELS[f.figure][0].lower() for f in a.failures)}"
            for name, a in result.acceptance.items()
            if not a.passed
        ]
        if result.passed:
            self.verdict.setText("✓ PASS: every figure is within its limit.")
            self.verdict.setStyleSheet(f"color: {theme.GOOD};")
        else:
            self.verdict.setText(
                "⚠ FAIL (" + "; ".join(failures) + "): check the masses and the "
                "rig. A failed certificate can be kept, marked as failed."
            )
            self.verdict.setStyleSheet(f"color: {theme.DANGER};")
        self.fit_plots.show_fits(result.fits, unit)
        channels = list(result.fits)
        self.figures.setColumnCount(2 + len(channels))
        self.figures.setHorizontalHeaderLabels(
            ["Figure", *[f"{c.capitalize()} hook" for c in channels], "Limit"]
        )
        rows: list[list[tuple[str, str | None]]] = [
            [
                ("Gain", None),
                *[(f"{result.fits[c].gain_n_per_count:.6g} N/count", None) for c in channels],
                ("", None),
            ],
            [
                ("Zero (offset)", None),
                *[
                    (f"{format_number(result.fits[c].offset_counts)} counts", None)
                    for c in channels
                ],
                ("", None),
            ],
            [
                ("Calibrated up to", None),
                *[(format_force(result.fits[c].max_force_n, unit), None) for c in channels],
                ("", None),
            ],
        ]
        for key in FIGURES:
            label, figure_unit = FIGURE_LABELS[key]
            cells: list[tuple[str, str | None]] = [(label, None)]
            limit_text = ""
            for c in channels:
                figure = next((r for r in result.acceptance[c].results if r.figure == key), None)
                if figure is not None and figure.limit is not None:
                    limit_text = f"≤ {figure.limit:g} {figure_unit}"
                if figure is None or figure.value is None:
                    cells.append(("not measured", None))
                    continue
                verdict = {True: "pass", False: "FAIL"}.get(figure.passed, "")
                cells.append(
                    (f"{format_number(figure.value, 3)} {figure_unit}  {verdict}".rstrip(), verdict)
                )
            cells.append((limit_text or "no limit", None))
            rows.append(cells)
        self.figures.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, (text, verdict) in enumerate(row):
                cell = QTableWidgetItem(text)
                cell.setFont(theme.font(12, bold=c == 0 or verdict == "FAIL"))
                if verdict == "FAIL":
                    cell.setForeground(QBrush(QColor(theme.DANGER)))
                elif verdict == "pass":
                    cell.setForeground(QBrush(QColor(theme.GOOD)))
                self.figures.setItem(r, c, cell)
        self.validity.setText(
            f"Rig {result.certificate.device_serial or '?'} · "
            f"{validity_text(result.certificate)} · "
            f"forces in {force_unit(unit).name}"
        )
        self.save_button.setText(
            "Save and use this certificate"
            if result.passed
            else "Keep it anyway (marked as failed)"
        )

    def certificates_folder(self) -> Path:
        return Path(self.context.data_dir) / CERTIFICATES_FOLDER

    def save_and_use(self) -> int | None:
        """Store the certificate, write its JSON file, and use it for this rig from now on."""
        result = self.result
        if result is None:
            return None
        if not result.passed and not dialogs.ask_yes_no(
            self,
            "Calibration failed",
            "This calibration failed its acceptance limits. Keep it anyway? Tests measured with "
            "it will carry a warning.",
        ):
            return None
        cert = result.certificate
        try:
            record = self.store.certificates.add(cert)
            folder = self.certificates_folder()
            folder.mkdir(parents=True, exist_ok=True)
            created = (cert.created or dt.datetime.now(dt.UTC)).strftime("%Y%m%d-%H%M%S")
            path = folder / f"{cert.device_serial or 'rig'}-{created}.json"
            save_certificate(cert, path)
        except (InputError, OSError) as exc:
            dialogs.show_error(
                self, "Calibration", f"The certificate was not saved: {user_message(exc)}"
            )
            return None
        self.saved_path = path
        self._use_stored(record.id)
        self.context.show_status(f"Certificate #{record.id} saved ({path}) and in use", 8000)
        self.result = None
        self.pages.setCurrentIndex(SETUP)
        self._show_rig()
        return record.id

    def ask_export_certificate(self) -> None:
        if self.result is None:
            return
        cert = self.result.certificate
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save the certificate",
            str(Path.home() / f"{cert.device_serial or 'rig'}.json"),
            "Certificate (*.json)",
        )
        if path:
            try:
                save_certificate(cert, path)
            except OSError as exc:
                dialogs.show_error(self, "Calibration", f"Not saved: {user_message(exc)}")

    def _finish_verification(self, session: Session) -> None:
        choice = self.acquisition.calibration
        assert choice is not None
        operator = self.operator.text().strip()
        record = session.verification_record(choice.certificate, operator)
        if record is None:
            self.pages.setCurrentIndex(SETUP)
            self.banner.show_message(
                "Verification not finished: it needs both readings.", "warning"
            )
            return
        try:
            stored = self.store.certificates.add(choice.certificate)
            self.store.certificates.add_verification(
                record,
                certificate_id=stored.id,
                device_serial=session.device_serial,
                passed=record["passed"],
                operator=operator or None,
            )
            kept = f"Kept with certificate #{stored.id}."
        except (InputError, OSError) as exc:
            kept = f"NOT kept in the database: {user_message(exc)}"
        self.record = record
        unit = self.prefs.display_unit
        verdict = "✓ PASS" if record["passed"] else "⚠ FAIL"
        self.verified_text.setText(
            f"{verdict}: {record['channel']} hook, {record['mass_kg']:g} kg measured "
            f"{format_force(record['measured_force_n'], unit, 2)} against "
            f"{format_force(record['applied_force_n'], unit, 2)} applied"
        )
        self.verified_text.setStyleSheet(
            f"color: {theme.GOOD if record['passed'] else theme.DANGER};"
        )
        lines = [
            f"Error {format_force(record['error_n'], unit, 2, signed=True)} "
            f"({format_number(record['error_pct'], 2, signed=True)} %, "
            f"limit {record['limit_pct']:g} %).",
            kept,
        ]
        if record.get("accepted_unsettled"):
            lines.append("A reading was accepted before it was steady.")
        lines += [f"Warning: {flag['message']}" for flag in record.get("flags", [])]
        if not record["passed"]:
            lines.append("Recalibrate the rig before testing athletes.")
        self.verified_detail.setText("\n".join(lines))
        self.pages.setCurrentIndex(VERIFIED)

    def back_to_setup(self) -> None:
        self.result = None
        self.pages.setCurrentIndex(SETUP)
        self._show_rig()

    def can_leave(self) -> bool:
        if self.session is not None and not self.session.finished:
            dialogs.show_warning(self, "Calibration", "Finish or abort the calibration first.")
            return False
        return True
