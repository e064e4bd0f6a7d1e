"""What a gradient check returns: its verdict, the worst value and the evidence behind it."""

from dataclasses import asdict, dataclass, field, replace

VERDICTS = ("passed", "failed", "inconclusive")
REASONS = ("mismatch", "kink", "precision", "nondeterministic")


@dataclass(frozen=True)
class WorstElement:
    """Where the analytic and numeric gradients disagree most (``check``'s ranking rule)."""

    param: str
    index: tuple[int, ...] | None  # None in directional mode
    analytic: float
    numeric: float
    direction: int | None = None  # which of the param's directions (directional mode)


@dataclass(frozen=True)
class Probe:
    """One compared value and what its stencils showed (v: a unit vector, h: epsilon).

    ``forward``/``backward``: the costs' one-sided slopes ``(f(p+hv) - f(p)) / h`` and
    ``(f(p) - f(p-hv)) / h``; ``analytic_plus``/``analytic_minus``: the gradient on either side,
    ``g(p +- hv) . v``; ``rounding``: the predicted rounding error of ``numeric``;
    ``numeric_wide``: the centered difference at ``WIDE x h`` (measured for the step test only,
    else None); ``explained``: why its gap does not count (``kink``, ``precision``) or None.
    """

    param: str
    index: tuple[int, ...] | None
    direction: int | None
    analytic: float
    numeric: float
    forward: float
    backward: float
    analytic_plus: float
    analytic_minus: float
    rounding: float
    numeric_wide: float | None = None
    explained: str | None = None


@dataclass(frozen=True)
class Evidence:
    """What the verdict rests on (see ``verdict``'s docstring for the tests)."""

    values: int  # compared values: elements (full) or directions (directional)
    kinks: int  # values explained by a kink in their stencil
    rounded: int  # values explained by the rounding of the costs
    unexplained_difference: float  # the difference without the explained values' gaps
    rounding_difference: float  # the difference that the costs' rounding alone predicts
    reproducible: bool | None  # f(params) twice gave the same result (None: not tested)
    cost: float  # f(params)
    probes: tuple[Probe, ...] = ()


@dataclass(frozen=True)
class GradcheckResult:
    """The outcome of one gradient check, or of ``gate``'s last check with the earlier ones."""

    difference: float
    verdict: str  # passed | failed | inconclusive
    reason: str | None  # None when passed; else one of REASONS
    per_param: dict[str, float]
    worst: WorstElement
    mode: str
    epsilon: float
    threshold: float
    evaluations: int = 0
    evidence: Evidence | None = None
    notes: list[str] = field(default_factory=list)
    attempts: int = 1  # checks this verdict rests on (gate)
    batch: dict | None = None  # gate: this check's attempt number, columns and mask seed
    earlier: tuple["GradcheckResult", ...] = ()  # gate: the checks before this one

    @property
    def passed(self) -> bool:
        """True only for the verdict ``passed``."""
        return self.verdict == "passed"

    def to_dict(self) -> dict:
        """A JSON-ready dict (the pipeline logs it as gradcheck.json)."""
        d = asdict(replace(self, earlier=()))
        d["passed"] = self.passed
        d["earlier"] = [e.to_dict() for e in self.earlier]
        return d

    def summary(self) -> str:
        """One line for logs: the verdict, its reason and the numbers behind it."""
        w = self.worst
        where = w.param + (str(list(w.index)) if w.index is not None else "")
        if w.direction is not None:
            where += f" direction {w.direction}"
        head = {"passed": "passed", "failed": "FAILED", "inconclusive": "INCONCLUSIVE"}
        verdict = head[self.verdict] + (f" ({self.reason})" if self.reason else "")
        compare = "<" if self.passed else ">="
        line = (f"gradcheck {verdict}: difference {self.difference:.3e} {compare} threshold "
                f"{self.threshold:.1e} ({self.mode}, epsilon {self.epsilon:.0e})")
        line += self._why()
        line += f"; worst {where}: analytic {w.analytic:.6e} vs numeric {w.numeric:.6e}"
        if self.attempts > 1:
            before = ", ".join(f"{e.verdict} ({e.reason})" for e in self.earlier)
            line += f"; attempt {self.attempts}, after: {before}"
        return line

    def _why(self) -> str:
        e = self.evidence
        if e is None or self.reason in (None, "mismatch"):
            return ""
        if self.reason == "nondeterministic":
            return ", but f(params) changed between two calls at the same params"
        parts = []
        if e.kinks:
            parts.append(f"{e.kinks} cross a non-differentiable point")
        if e.rounded:
            parts.append(f"{e.rounded} are within the rounding of the costs (|cost| "
                         f"{abs(e.cost):.2e} alone predicts {e.rounding_difference:.2e})")
        return (f", but of {e.values} values {' and '.join(parts)}; without them "
                f"{e.unexplained_difference:.3e}")
