"""The result of an experiment analysis, readable by people (Markdown) and by machines (DataFrame, mart)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from datetime import datetime

import pandas as pd

from abtest.srm import SrmResult

BLOCKED = "blocked: sample ratio mismatch"


@dataclass(frozen=True)
class MetricResult:
    """One metric, one treatment variant against the control.

    ``control_value``/``variant_value`` are the raw per-variant values (CTR, CR, GMV per user, ROAS…);
    lifts and intervals come from the method (for CUPED, from covariate-adjusted means, so the relative
    lift can differ slightly from ``variant_value / control_value - 1``). ``p_adjusted`` is corrected
    across all rows of the report; ``seq_*`` are filled only when the always-valid option is on, and
    then decide ``significant``.
    """

    experiment: str
    metric: str
    kind: str
    method: str
    control: str
    variant: str
    n_control: int
    n_variant: int
    control_value: float
    variant_value: float
    abs_lift: float
    abs_ci_low: float
    abs_ci_high: float
    rel_lift: float
    rel_ci_low: float
    rel_ci_high: float
    p_value: float
    p_adjusted: float
    correction: str
    alpha: float
    significant: bool
    decision: str
    variance_reduction: float = math.nan
    seq_p_value: float = math.nan
    seq_p_adjusted: float = math.nan
    seq_ci_low: float = math.nan
    seq_ci_high: float = math.nan


RESULT_COLUMNS = tuple(f.name for f in fields(MetricResult))


def _num(x: float, digits: int = 4) -> str:
    """``digits`` significant digits in fixed notation (0.0700, 1.423, 12,346); scientific when tiny."""
    if x is None or math.isnan(x):
        return "n/a"
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(x)))
    if magnitude < -4:
        return f"{x:.{digits - 1}e}"
    return f"{x:,.{max(0, digits - 1 - magnitude)}f}"


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:+.2%}"


def _p(x: float) -> str:
    if math.isnan(x):
        return "n/a"
    return "<1e-6" if x < 1e-6 else f"{x:.3g}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


@dataclass(frozen=True)
class ExperimentReport:
    """Everything a reviewer needs: the sample-ratio check, every comparison, and a verdict.

    A flagged sample-ratio mismatch blocks the verdict: every row's decision says so and ``blocked``
    is True, whatever the p-values.
    """

    experiment: str
    analysed_at: datetime
    srm: SrmResult
    results: tuple[MetricResult, ...]
    alpha: float
    correction: str
    sequential: bool = False

    @property
    def blocked(self) -> bool:
        return self.srm.flagged

    @property
    def verdict(self) -> str:
        if self.blocked:
            return self.srm.message
        wins = [r for r in self.results if r.significant]
        how = f"at alpha = {self.alpha:g} after {self.correction} correction" + (
            " (always-valid)" if self.sequential else ""
        )
        if not wins:
            return f"No comparison is significant {how} ({len(self.results)} tested)."
        listed = "; ".join(
            f"{r.metric} {r.variant} vs {r.control}: {r.decision} ({_pct(r.rel_lift)})" for r in wins
        )
        return f"{len(wins)} of {len(self.results)} comparisons significant {how}: {listed}."

    def result(self, metric: str, variant: str) -> MetricResult:
        """The row for one metric and variant (ValueError naming both when absent)."""
        for r in self.results:
            if r.metric == metric and r.variant == variant:
                return r
        raise ValueError(f"{self.experiment}: no result for metric {metric!r} and variant {variant!r}")

    def to_dataframe(self) -> pd.DataFrame:
        """One row per (metric, variant) with the columns of :class:`MetricResult`, plus SRM and timing."""
        frame = pd.DataFrame([asdict(r) for r in self.results], columns=list(RESULT_COLUMNS))
        frame["srm_p_value"] = self.srm.p_value
        frame["srm_flagged"] = self.srm.flagged
        frame["analysed_at"] = pd.Timestamp(self.analysed_at)
        return frame

    def to_markdown(self) -> str:
        """A self-contained Markdown summary for a PR, a wiki page or a Slack post."""
        level = f"{1 - self.alpha:.0%}"
        out = [f"## Experiment `{self.experiment}`", ""]
        out.append(f"Analysed {self.analysed_at:%Y-%m-%d %H:%M} UTC.")
        out.append("")
        if self.blocked:
            out += [f"> **BLOCKED** — {self.srm.message}", ""]
        else:
            out += [f"**Verdict:** {self.verdict}", ""]
            out += [f"Sample-ratio check: {self.srm.message}", ""]
        rows = []
        for r in self.results:
            row = [
                r.metric,
                f"{r.variant} vs {r.control}",
                f"{r.n_variant:,} / {r.n_control:,}",
                _num(r.variant_value),
                _num(r.control_value),
                f"{_num(r.abs_lift, 3)} [{_num(r.abs_ci_low, 3)}, {_num(r.abs_ci_high, 3)}]",
                f"{_pct(r.rel_lift)} [{_pct(r.rel_ci_low)}, {_pct(r.rel_ci_high)}]",
                _p(r.p_value),
                _p(r.p_adjusted),
            ]
            if self.sequential:
                row += [f"[{_num(r.seq_ci_low, 3)}, {_num(r.seq_ci_high, 3)}]", _p(r.seq_p_adjusted)]
            row += [r.method, r.decision]
            rows.append(row)
        header = [
            "metric",
            "comparison",
            "units (variant / control)",
            "variant",
            "control",
            f"abs. lift [{level} CI]",
            f"rel. lift [{level} CI]",
            "p",
            f"p ({self.correction})",
        ]
        if self.sequential:
            header += ["always-valid CI", "always-valid p (adj.)"]
        header += ["method", "decision"]
        out.append(_table(header, rows))
        notes = [
            "",
            f"Intervals are unadjusted {level} intervals; decisions use p-values corrected with "
            f"{self.correction} across all {len(self.results)} comparisons.",
            "Methods: welch = Welch's t-test on per-unit means; delta = delta method for a ratio of sums; "
            "cuped = Welch on means adjusted with a pre-period covariate.",
        ]
        cuped = [r for r in self.results if not math.isnan(r.variance_reduction)]
        if cuped:
            notes.append(
                "CUPED variance reduction: "
                + ", ".join(f"{r.metric} ({r.variant}) {r.variance_reduction:.1%}" for r in cuped)
                + "."
            )
        return "\n".join(out + notes) + "\n"
