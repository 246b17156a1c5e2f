"""New analysis runs for stored tests: rep exclusions and recomputes.

A run is only ever added (and made current), never replaced, so the history
of a test's results stays whole.  Part of :class:`~station.store.Store`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from station.analysis import AnalysisSettings
from station.store import processing, validate
from station.store.errors import NotFoundError, StoreError, ValidationError
from station.store.models import Recomputation, Rep, Result, TestRecord
from station.store.parts import StoreParts
from station.store.sql.audit import AuditRecord
from station.store.sql.rows import canonical_json


class Recomputing(StoreParts):
    def exclude_rep(self, test_id: int, rep: int, reason: str, *, by: str | None = None) -> Result:
        """Leave a rep out of the summaries (a poor attempt); who and why are kept."""
        reason_text = validate.text_field(reason, "reason", required=True, limit=500)
        who = self._who(by)
        return self._set_exclusion(test_id, rep, (reason_text, who), who)  # type: ignore[arg-type]

    def include_rep(self, test_id: int, rep: int, *, by: str | None = None) -> Result:
        """Undo an exclusion."""
        who = self._who(by)
        return self._set_exclusion(test_id, rep, None, who)

    def _set_exclusion(
        self, test_id: int, number: int, exclusion: tuple[str, str] | None, who: str
    ) -> Result:
        test = self.get_test(test_id)
        if test.result is None:
            raise StoreError(
                f"test {test.id} has no analysis: run 'nordic-station recompute {test.id}'"
            )
        reps = self.backend.reps(test.id)
        number = _rep_number(number)
        target = next((r for r in reps if r.number == number), None)
        if target is None:
            known = ", ".join(str(r.number) for r in reps) or "none"
            raise NotFoundError(f"test {test.id} has no rep {number} (reps: {known})")
        if exclusion is not None and target.excluded:
            raise StoreError(
                f"rep {number} of test {test.id} is already excluded ({target.exclusion_reason!r}, "
                f"by {target.excluded_by}); include it first to change the reason"
            )
        if exclusion is None and not target.excluded:
            raise StoreError(f"rep {number} of test {test.id} is not excluded")
        at = validate.now_utc()
        marked = [
            replace(
                r,
                excluded=exclusion is not None,
                exclusion_reason=exclusion[0] if exclusion else None,
                excluded_by=who if exclusion else None,
                excluded_at=at if exclusion else None,
            )
            if r.number == number
            else r
            for r in reps
        ]
        current = test.result
        analysed, carried, unmatched = self._reanalyse(test, marked, current.settings)
        new = processing.new_result(analysed.result, "exclusion", with_curves=False)
        same_rules = (
            new.analysis_version == current.analysis_version and new.settings == current.settings
        )
        same_reps = [(r.number, r.start_s, r.end_s) for r in reps] == [
            (r.number, r.start_s, r.end_s) for r in processing.new_reps(new.metrics, {})
        ]
        if same_rules and same_reps and current.curves_result_id is not None:
            new.curves_result_id = current.curves_result_id
        else:
            new = processing.new_result(analysed.result, "exclusion")
        before = {"rep": number, "excluded": target.excluded, "reason": target.exclusion_reason}
        after = {
            "rep": number,
            "excluded": exclusion is not None,
            "reason": exclusion[0] if exclusion else None,
        }
        audit = [AuditRecord("rep", test.id, "exclude" if exclusion else "include", before, after)]
        audit += _unmatched_audit(test.id, unmatched)
        result_id = self.backend.add_result(
            test.id, new, processing.new_reps(new.metrics, carried), current.id, who, audit
        )
        result = self.backend.get_result(result_id)
        assert result is not None
        return result

    def _reanalyse(
        self,
        test: TestRecord,
        reps: list[Rep],
        settings: AnalysisSettings | Mapping[str, Any] | None,
    ) -> tuple[processing.Analysed, dict[int, processing.Exclusion], list[Rep]]:
        """Analyse a stored test again from its raw bytes, carrying exclusions over."""
        capture = self._stored_capture(test)
        certificate = self.certificate_of(test)
        if certificate is None:
            certificate = processing.certificate_for(capture, None, f"test {test.id}")
        return processing.reanalyse(
            capture,
            certificate,
            reps,
            settings=settings,
            body_mass_kg=test.body_mass_kg,
            lever_arm_m=test.lever_arm_m,
        )

    def recompute(
        self,
        test_id: int,
        *,
        settings: AnalysisSettings | Mapping[str, Any] | None = None,
        keep_settings: bool = False,
        dry_run: bool = False,
        by: str | None = None,
    ) -> Recomputation:
        """Analyse a stored test again with this version's analysis; keep old and new.

        Settings: ``settings`` if given, else the test's own with
        ``keep_settings``, else today's defaults.  A new run is stored (and made
        current) only when something differs; the old run stays in the history.
        """
        who = self._who(by)
        test = self.get_test(test_id)
        old = test.result
        if settings is None and keep_settings and old is not None:
            settings = old.settings
        reps = self.backend.reps(test.id)
        analysed, carried, unmatched = self._reanalyse(test, reps, settings)
        new = processing.new_result(analysed.result, "recompute")
        notes = [
            f"exclusion of rep {r.number} ({r.exclusion_reason!r}) matches no rep of the new "
            f"analysis"
            for r in unmatched
        ]
        changed = (
            old is None
            or old.analysis_version != new.analysis_version
            or canonical_json(old.metrics) != canonical_json(new.metrics)
        )
        if dry_run or not changed:
            return Recomputation(
                test.id, old, new.metrics, new.analysis_version, changed, False, None, tuple(notes)
            )
        result_id = self.backend.add_result(
            test.id,
            new,
            processing.new_reps(new.metrics, carried),
            None if old is None else old.id,
            who,
            _unmatched_audit(test.id, unmatched),
        )
        return Recomputation(
            test.id,
            old,
            new.metrics,
            new.analysis_version,
            True,
            True,
            self.backend.get_result(result_id),
            tuple(notes),
        )


def _unmatched_audit(test_id: int, unmatched: list[Rep]) -> list[AuditRecord]:
    """Exclusions the new analysis could not carry over (no rep matches any more)."""
    return [
        AuditRecord(
            "rep",
            test_id,
            "exclusion_unmatched",
            {"rep": r.number, "reason": r.exclusion_reason},
            None,
        )
        for r in unmatched
    ]


def _rep_number(value: int | str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError(f"{value!r} is not a rep number") from None
    if number < 1:
        raise ValidationError(f"rep numbers start at 1, not {number}")
    return number
