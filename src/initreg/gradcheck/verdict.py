"""A check's verdict: passed, failed or inconclusive, and the evidence it rests on.

Verdicts (``GradcheckResult.verdict``). A difference at or above ``threshold`` is not always a
wrong gradient: centered differences have blind spots, and the checker looks for them, with what
the check computed anyway (f returns a gradient with every cost) and a few more evaluations.
Write ``phi(t) = f(p + t v)`` along a value's direction ``v`` (a unit vector or an element), ``a``
for the analytic ``g(p) . v``, ``n`` for the centered difference and ``gap = |a - n|``:

- ``passed``: the difference is below ``threshold``.
- ``inconclusive``, reason ``nondeterministic``: f gave a different cost or gradient when called
  twice at the same params (dropout masks not fixed, see ``model_objective``), by at least
  ``JITTER_FRACTION`` of the largest gap: the numeric derivative is then not one of anything.
- ``inconclusive``, reason ``kink`` or ``precision``: the gaps are explained value by value,
  and the verdict is inconclusive when the difference without the explained values' gaps
  (``unexplained_difference``) is below ``threshold``; the reason is the explanation whose
  values make up the larger part of the difference.

  ``kink``: the stencil ``p +- eps v`` crosses points where f is not differentiable (a ReLU whose
  input is exactly 0, as when a layer's output is 0 for one example and the next bias is 0; or
  pre-activations so small that they change sign within +-eps). Centered differences there
  average slopes that no gradient equals. Test, on what the check computed: the gradient jumps,
  ``S = |g(p+hv).v - 2 a + g(p-hv).v| >= KINK_RATIO x gap`` (and the gap is above rounding). If
  the gradient is right on both sides of one kink in the stencil, ``n`` is an average of the two
  one-sided slopes in which p's side weighs at least half, so ``S >= 2 x gap`` whichever
  subgradient ``a`` is at the kink itself (the issue's kink seeds: exactly 2). Where f is smooth
  in the stencil ``S`` is a second difference of the gradient, ``O(eps^2)``: below
  ``1e-4 x gap`` for every planted bug at a kink-free point (see the tests). So
  ``KINK_RATIO = 0.1`` keeps a margin of 20 below a single kink and of 1000 above a real
  mismatch: it does not turn a real mismatch at a kink-free point into a kink. Several kinks
  spread inside the stencil can give less than 0.1; the step test below catches them. The
  costs' one-sided slopes ``(phi(h) - phi(0)) / h`` and
  ``(phi(0) - phi(-h)) / h`` are reported but do not decide: along a random direction several
  ReLUs at 0 can switch opposite ways and leave phi linear (equal one-sided slopes) while ``a``
  is neither (the issue's seed 217 with dropout, directional; see the tests).

  ``precision``: each cost carries a rounding error of about ``machine_eps * |cost|``, so ``n``
  is only known to about ``rounding = machine_eps * |cost| / eps``; for a huge cost (exploding
  activations) that is not small against the gradient.

  The step test: the values still unexplained are re-measured at ``WIDE x eps``, largest gap
  first. A real mismatch does not depend on the step: ``n`` stays put. Rounding shrinks ``WIDE``
  times, and a stencil that crosses kinks (off p, or several) averages other slopes, so ``n``
  moves. A value whose ``n`` moves by at least half its gap, or whose wider stencil shows the
  jump, is explained: ``precision`` if its gap is within ``PRECISION_FACTOR x rounding``, else
  ``kink``. The first value whose ``n`` stays put makes the verdict ``failed``. This costs at
  most 2 evaluations per value, and usually 2 in all (a real mismatch shows at the first).
- ``failed``, reason ``mismatch``: the gaps are not explained: a real disagreement.
"""

import numpy as np

from initreg.gradcheck.results import Evidence, Probe
from initreg.gradcheck.values import (
    KINK_RATIO,
    MACHINE_EPS,
    _along,
    _direction,
    _gradient,
    _place,
    _Values,
)

# The depth study's random init at depth 20 shows gaps up to 6x machine_eps |cost| / eps (the
# rounding of a cost summed over many layers and examples); 10 covers that.
PRECISION_FACTOR = 10.0
WIDE = 10.0  # the step test's step, in units of epsilon
# f(params) is re-evaluated once when a check does not pass; a change smaller than this fraction
# of the largest gap cannot explain the gaps.
JITTER_FRACTION = 0.1
MAX_PROBES = 5  # values described one by one in the evidence


class _Diagnosis:
    """Tells a real mismatch from kinks, rounding or a nondeterministic f (module docstring)."""

    def __init__(self, f, params, analytic, values: _Values, cost, epsilon, threshold):
        self.f, self.params, self.analytic, self.values = f, params, analytic, values
        self.cost, self.epsilon, self.threshold = float(cost), epsilon, threshold
        self.evaluations = 0
        self.reproducible: bool | None = None
        # why each value's gap does not count: "kink", "precision" or None
        self.explained = np.where(values.kink, "kink", None).astype(object)
        self.wide: dict[int, float] = {}  # value -> centered difference at WIDE x epsilon
        self.den = float(np.linalg.norm(values.a) + np.linalg.norm(values.n))

    def part(self, gaps: np.ndarray) -> float:
        """These gaps' part of the difference (over the whole check's denominator)."""
        return float(np.linalg.norm(gaps) / self.den) if self.den > 0 else 0.0

    def _left(self) -> float:
        """The difference without the explained values' gaps."""
        return self.part(self.values.gap[self.explained == None])  # noqa: E711 (elementwise)

    def run(self, difference: float) -> tuple[str, str | None]:
        """(verdict, reason): the tests of the module docstring, in order."""
        if difference < self.threshold:
            return "passed", None
        if not self._reproducible():
            return "inconclusive", "nondeterministic"
        if self._left() < self.threshold or self._step_explains():
            return "inconclusive", self._main_reason()
        return "failed", "mismatch"

    def _reproducible(self) -> bool:
        """f(params) once more: a change big enough to explain the gaps makes the check void."""
        cost, grads = self.f(self.params)
        self.evaluations += 1
        drift = max(
            [abs(cost - self.cost) / self.epsilon]
            + [float(np.linalg.norm(_gradient(grads, n, p.shape) - self.analytic[n]))
               for n, p in self.params.items()]
        )
        self.reproducible = not drift >= JITTER_FRACTION * float(self.values.gap.max())
        return self.reproducible

    def _unexplained(self) -> np.ndarray:
        """The values not explained (yet), largest gap first."""
        rows = np.flatnonzero(self.explained == None)  # noqa: E711 (elementwise)
        return rows[np.argsort(-self.values.gap[rows], kind="stable")]

    def _step_explains(self) -> bool:
        """Re-measure the unexplained values at WIDE x epsilon, largest gap first, until the rest
        is below threshold (True) or one value's numeric derivative stays put (False)."""
        v, step = self.values, WIDE * self.epsilon
        for i in map(int, self._unexplained()):
            (c_plus, a_plus), (c_minus, a_minus) = _along(
                self.f, self.params, v.names[i], self._vector(i), step)
            self.evaluations += 2
            self.wide[i] = numeric = (c_plus - c_minus) / (2 * step)
            gap = abs(v.a[i] - numeric)
            rounding = MACHINE_EPS * max(abs(self.cost), abs(c_plus), abs(c_minus)) / step
            kinked = gap > rounding and abs(a_plus - 2 * v.a[i] + a_minus) >= KINK_RATIO * gap
            if not (kinked or abs(numeric - v.n[i]) >= v.gap[i] / 2):
                return False
            at_rounding = v.gap[i] <= PRECISION_FACTOR * v.rounding[i]
            self.explained[i] = "precision" if at_rounding and not kinked else "kink"
            if self._left() < self.threshold:
                return True
        return False

    def _main_reason(self) -> str:
        """The explanation whose values make up the larger part of the difference."""
        gap = self.values.gap
        return max(("kink", "precision"), key=lambda r: self.part(gap[self.explained == r]))

    def _vector(self, i: int):
        key = self.values.keys[i]
        if isinstance(key, int):
            return key
        return _direction(key[1], self.params[self.values.names[i]].shape)

    def evidence(self, per_param, worst: int, passed: bool) -> Evidence:
        """The counts, and probes: the worst value; unless passed also the worst unexplained
        value and the worst value of each array by the ranking rule (at most MAX_PROBES all
        told), then up to MAX_PROBES of the values re-measured at WIDE x epsilon."""
        v = self.values
        shown = [worst]
        if not passed:
            unexplained = self._unexplained()
            if unexplained.size:
                shown.append(int(unexplained[0]))
            for name in sorted(per_param, key=lambda n: -per_param[n]):
                rows = np.flatnonzero(v.owner == name)
                if per_param[name] > 0:
                    shown.append(int(rows[np.argmax(v.gap[rows])]))
        shown = list(dict.fromkeys(shown))[:MAX_PROBES]
        shown += [i for i in list(self.wide)[:MAX_PROBES] if i not in shown]
        return Evidence(
            values=len(v.a), kinks=int(np.sum(self.explained == "kink")),
            rounded=int(np.sum(self.explained == "precision")),
            unexplained_difference=self._left(), rounding_difference=self.part(v.rounding),
            reproducible=self.reproducible, cost=self.cost,
            probes=tuple(self._probe(i) for i in shown),
        )

    def _probe(self, i: int) -> Probe:
        v, h = self.values, self.epsilon
        index, direction = _place(v, i, self.params)
        return Probe(
            param=v.names[i], index=index, direction=direction,
            analytic=float(v.a[i]), numeric=float(v.n[i]),
            forward=float((v.c_plus[i] - self.cost) / h),
            backward=float((self.cost - v.c_minus[i]) / h),
            analytic_plus=float(v.a_plus[i]), analytic_minus=float(v.a_minus[i]),
            rounding=float(v.rounding[i]), numeric_wide=self.wide.get(i),
            explained=self.explained[i],
        )
