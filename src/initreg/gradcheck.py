"""A generic gradient checker: does ``f``'s analytic gradient match centered differences?

``f(params) -> (cost, grads)`` may be any model or plain function; ``params`` is a dict of float64
arrays that the checker perturbs in place and restores. ``grads`` is keyed like ``params``
(``"W1"``) or in the course's style (``"dW1"``).

Two modes:

- ``full``: a centered difference on every element (2 evaluations each), compared with the
  course's formula ``||g - g_approx|| / (||g|| + ||g_approx||)``. Exact about *where* a bug is
  (the worst element), but its cost grows with the number of parameters: use it on small nets,
  in tests and when hunting a bug.
- ``directional``: for each parameter array, ``directions`` random unit directions ``v``; compares
  ``g . v`` with ``(f(p + eps v) - f(p - eps v)) / (2 eps)``. Its cost is ``2 x directions``
  evaluations per parameter *array*, whatever the arrays' sizes: use it as the cheap gate in
  front of every training run. It names the worst array and direction, not the worst element.

Either way the check compares K *values* (elements, or directional derivatives): ``difference``
is ``||a - n|| / (||a|| + ||n||)`` over all of them. One ranking rule names the culprits: a value's
part of the difference is its gap ``|a - n|`` over that denominator, an array's part
(``per_param``) the root-sum-square of its values' parts (so ``difference`` is the
root-sum-square of ``per_param``), and ``worst`` is the largest gap in the array with the largest
part. (A relative difference per array would rank first any array whose gradient is below the
rounding of the costs, e.g. the first layers of a net with vanishing gradients: 1.0 from noise.)

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

``gate`` is the pipeline's check in front of training: it checks a seeded batch and, while the
verdict is inconclusive, re-checks on other examples, masks and directions.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np

Objective = Callable[[dict[str, np.ndarray]], tuple[float, dict[str, np.ndarray]]]
MODES = ("full", "directional")
VERDICTS = ("passed", "failed", "inconclusive")
REASONS = ("mismatch", "kink", "precision", "nondeterministic")

MACHINE_EPS = float(np.finfo(np.float64).eps)
KINK_RATIO = 0.1  # a value is a kink when the gradient's jump S >= KINK_RATIO x its gap
# The depth study's random init at depth 20 shows gaps up to 6x machine_eps |cost| / eps (the
# rounding of a cost summed over many layers and examples); 10 covers that.
PRECISION_FACTOR = 10.0
WIDE = 10.0  # the step test's step, in units of epsilon
# f(params) is re-evaluated once when a check does not pass; a change smaller than this fraction
# of the largest gap cannot explain the gaps.
JITTER_FRACTION = 0.1
MAX_PROBES = 5  # values described one by one in the evidence
MAX_ATTEMPTS = 5  # gate(): checks made at most
MAX_DIRECTIONS = 100  # gate(): directions per array at most


@dataclass(frozen=True)
class WorstElement:
    """Where the analytic and numeric gradients disagree most (see the module's ranking rule)."""

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
    """What the verdict rests on (see the module docstring for the tests)."""

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


def _relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    den = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / den) if den > 0 else 0.0


def _check_inputs(params: dict, epsilon, threshold, mode: str, directions) -> None:
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is not known; allowed: {', '.join(MODES)}")
    if not epsilon > 0:
        raise ValueError(f"epsilon={epsilon!r} is not allowed; allowed: a number > 0")
    if not threshold > 0:
        raise ValueError(f"threshold={threshold!r} is not allowed; allowed: a number > 0")
    if not params:
        raise ValueError("params={} is empty; allowed: a dict of at least one float64 array")
    if isinstance(directions, bool) or not isinstance(directions, int | np.integer) \
            or directions < 1:
        raise ValueError(f"directions={directions!r} is not allowed; allowed: an integer >= 1")
    for name, p in params.items():
        if not isinstance(p, np.ndarray) or p.dtype != np.float64:
            dtype = getattr(p, "dtype", type(p).__name__)
            raise TypeError(
                f"parameter {name!r} is {dtype}; gradient checking needs float64 arrays "
                "(float32 is too imprecise for centered differences at this epsilon)"
            )


def _gradient(grads, name: str, shape) -> np.ndarray:
    """The gradient of ``name`` from f's ``grads`` (``name`` or ``d<name>``), shaped like it."""
    g = grads.get(name, grads.get("d" + name))
    if g is None:
        raise KeyError(f"f returned no gradient for {name!r} (looked for {name!r} and 'd{name}')")
    return np.asarray(g, dtype=np.float64).reshape(shape)


def _analytic(params, name: str, grads) -> np.ndarray:
    """A copy: f may reuse its arrays at the next evaluation."""
    return np.array(_gradient(grads, name, params[name].shape))


def _along(f: Objective, params, name: str, v, step: float):
    """``[(f(p + step v), g(p + step v) . v), (same at p - step v)]``; params restored.

    v: a flat element index of ``params[name]``, or a unit array of its shape.
    """
    p = params[name]
    out = []
    if isinstance(v, int):
        flat = p.reshape(-1)  # a view: perturbing it perturbs params[name]
        original = flat[v]
        for x in (original + step, original - step):
            flat[v] = x
            cost, grads = f(params)
            out.append((cost, float(_gradient(grads, name, p.shape).reshape(-1)[v])))
        flat[v] = original
        return out
    original = p.copy()
    for sign in (np.add, np.subtract):
        sign(original, step * v, out=p)
        cost, grads = f(params)
        out.append((cost, float(np.sum(_gradient(grads, name, p.shape) * v))))
    np.copyto(p, original)
    return out


class _Values:
    """Every compared value of one check, in order, with its stencil's costs and gradients."""

    def __init__(self):
        self.names, self.keys, self.rows = [], [], []

    def add(self, name: str, key, analytic: float, stencil) -> None:
        (c_plus, a_plus), (c_minus, a_minus) = stencil
        self.names.append(name)
        self.keys.append(key)  # a flat index (full) or (direction number, generator state)
        self.rows.append((analytic, c_plus, c_minus, a_plus, a_minus))

    def finish(self, cost: float, epsilon: float) -> None:
        """The numeric values, gaps, rounding errors and kink flags (module docstring)."""
        cols = np.array(self.rows, dtype=np.float64).reshape(-1, 5).T
        self.a, self.c_plus, self.c_minus, self.a_plus, self.a_minus = cols
        self.n = (self.c_plus - self.c_minus) / (2 * epsilon)
        self.gap = np.abs(self.a - self.n)
        # each cost is known to about machine_eps |cost|; their difference over 2 epsilon:
        scale = np.maximum(abs(cost), np.maximum(np.abs(self.c_plus), np.abs(self.c_minus)))
        self.rounding = MACHINE_EPS * scale / epsilon
        self.jump = np.abs(self.a_plus - 2 * self.a + self.a_minus)
        # a kink: a gap that rounding does not explain, and a gradient that jumps (module doc)
        self.kink = (self.gap > self.rounding) & (self.jump >= KINK_RATIO * self.gap)
        self.owner = np.array(self.names, dtype=object)


def _direction(state, shape) -> np.ndarray:
    """The unit vector a generator in ``state`` draws (the directional mode's draw)."""
    bit_generator = getattr(np.random, state["bit_generator"])()  # e.g. PCG64, then its state
    bit_generator.state = state
    v = np.random.Generator(bit_generator).standard_normal(shape)
    return v / np.linalg.norm(v)


def _full(f: Objective, params, analytic, epsilon: float) -> _Values:
    """Centered differences on every element."""
    values = _Values()
    for name, p in params.items():
        a = analytic[name].reshape(-1)
        for i in range(p.size):
            values.add(name, i, float(a[i]), _along(f, params, name, i, epsilon))
    return values


def _directional(f, params, analytic, epsilon: float, directions: int, rng) -> _Values:
    """Directional derivatives along random unit vectors, ``directions`` per parameter array."""
    values = _Values()
    for name, p in params.items():
        for k in range(directions):
            state = rng.bit_generator.state  # kept, to re-draw v for the evidence
            v = rng.standard_normal(p.shape)
            v /= np.linalg.norm(v)
            values.add(name, (k, state), float(np.sum(analytic[name] * v)),
                       _along(f, params, name, v, epsilon))
    return values


def gradient_check(
    f: Objective,
    params: dict[str, np.ndarray],
    *,
    epsilon: float = 1e-7,
    threshold: float = 2e-7,
    mode: str = "full",
    directions: int = 3,
    rng: np.random.Generator | None = None,
) -> GradcheckResult:
    """Compare ``f``'s analytic gradient with centered differences; see the module docstring.

    Returns a ``GradcheckResult`` whose ``difference`` is the course's relative difference over
    all values, ``verdict`` passed (``difference < threshold``), failed or inconclusive (with its
    ``reason`` and ``evidence``), ``per_param`` each array's part of the difference, and ``worst``
    the element (``full``) or direction (``directional``) that disagrees most (the ranking rule
    of the module docstring).
    ``params`` is restored bit for bit afterwards.
    """
    _check_inputs(params, epsilon, threshold, mode, directions)
    saved = {name: p.copy() for name, p in params.items()}
    try:
        cost, grads = f(params)
        analytic = {name: _analytic(params, name, grads) for name in params}
        if mode == "full":
            values = _full(f, params, analytic, epsilon)
        else:
            rng = rng if rng is not None else np.random.default_rng(0)
            values = _directional(f, params, analytic, epsilon, directions, rng)
        values.finish(float(cost), epsilon)
        evaluations = 1 + 2 * len(values.a)
        difference = _relative_difference(values.a, values.n)
        diagnosis = _Diagnosis(f, params, analytic, values, cost, epsilon, threshold)
        per_param = {n: diagnosis.part(values.gap[values.owner == n]) for n in params}
        worst = _worst(values, per_param, params)
        verdict, reason = diagnosis.run(difference)
    finally:
        for name, p in params.items():
            np.copyto(p, saved[name])
    return GradcheckResult(
        difference=difference, verdict=verdict, reason=reason, per_param=per_param,
        worst=_worst_element(values, worst, params), mode=mode, epsilon=epsilon,
        threshold=threshold, evaluations=evaluations + diagnosis.evaluations,
        evidence=diagnosis.evidence(per_param, worst, verdict == "passed"),
    )


def _worst(values: _Values, per_param: dict[str, float], params) -> int:
    """The ranking rule: the array with the largest part of the difference, then its largest gap."""
    name = max(params, key=lambda n: per_param[n])  # the first of equals, in params' order
    rows = np.flatnonzero(values.owner == name)
    return int(rows[np.argmax(values.gap[rows])])


def _place(values: _Values, i: int, params):
    """(index, direction) of value i: an element's index (full) or a direction's number."""
    key = values.keys[i]
    if isinstance(key, int):
        idx = np.unravel_index(key, params[values.names[i]].shape)
        return tuple(int(j) for j in idx), None
    return None, key[0]


def _worst_element(values: _Values, i: int, params) -> WorstElement:
    index, direction = _place(values, i, params)
    return WorstElement(values.names[i], index, float(values.a[i]), float(values.n[i]),
                        direction)


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


def model_objective(model, X: np.ndarray, Y: np.ndarray, mask_seed: int | None = None) -> Objective:
    """``f(params)`` for a model offering ``params`` and ``cost_and_grads(X, Y, rng=None)``.

    With ``mask_seed`` every evaluation gets a generator re-seeded to it, so dropout draws the
    same masks each time and the cost is a deterministic function of the parameters.
    The returned ``f`` evaluates the model at its own ``params`` (which the checker perturbs).
    """

    def f(params):
        if params is not model.params:
            raise ValueError("model_objective's f checks the model's own params dict")
        rng = np.random.default_rng(mask_seed) if mask_seed is not None else None
        return model.cost_and_grads(X, Y, rng=rng)

    return f


def gate(
    model,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    batch_size: int = 64,
    mask_seed: int = 0,
    epsilon: float = 1e-7,
    threshold: float = 2e-7,
    mode: str = "directional",
    directions: int = 3,
    attempts: int = 3,
) -> GradcheckResult:
    """The check in front of training: ``model``'s own gradients, with its L2 and fixed masks.

    X: (n_x, m), Y: (1, m), the training examples. Attempt 1 checks ``batch_size`` columns drawn
    by ``default_rng(mask_seed)``, dropout masks fixed by ``mask_seed`` and directions drawn by
    ``default_rng(mask_seed)`` (what the pipeline always did). While the verdict is inconclusive
    (but not ``nondeterministic``: another batch cannot fix f) it checks again, at most
    ``attempts`` times in all: attempt k draws its columns, its masks' seed and its directions
    from ``default_rng([mask_seed, k - 1])``, and takes at most half the examples (rounded up)
    when there are fewer than ``2 x batch_size``, so that any one example (which may sit on a
    kink) is left out with probability at least 1/2. A failed attempt ends the gate: a real
    mismatch anywhere is a wrong gradient.

    Returns the last attempt's result with ``attempts`` (how many were made), ``batch`` (its
    columns and mask seed) and ``earlier`` (the results before it, each with its evidence). The
    work is bounded: ``attempts <= MAX_ATTEMPTS`` checks of at most ``batch_size`` examples, each
    ``1 + 2 x directions x arrays`` evaluations (``directions <= MAX_DIRECTIONS``; full mode:
    ``1 + 2 x elements``), and its diagnosis at most as many again.
    """
    m = _check_gate(X, Y, batch_size, mask_seed, directions, attempts)
    results: list[GradcheckResult] = []
    for k in range(attempts):
        cols, seed, rng = _attempt_batch(m, batch_size, mask_seed, k)
        f = model_objective(model, X[:, cols], Y[:, cols], mask_seed=seed)
        result = gradient_check(f, model.params, epsilon=epsilon, threshold=threshold, mode=mode,
                                directions=directions, rng=rng)
        results.append(replace(result, batch={"attempt": k + 1, "columns": cols.tolist(),
                                              "mask_seed": seed}))
        if result.verdict != "inconclusive" or result.reason == "nondeterministic":
            break
    return replace(results[-1], attempts=len(results), earlier=tuple(results[:-1]))


def _attempt_batch(m: int, batch_size: int, mask_seed: int, k: int):
    """(sorted columns, mask seed, direction generator) of attempt k + 1 (see ``gate``)."""
    if k == 0:
        cols = np.random.default_rng(mask_seed).permutation(m)[: min(batch_size, m)]
        return np.sort(cols), mask_seed, np.random.default_rng(mask_seed)
    rng = np.random.default_rng([mask_seed, k])
    cols = rng.permutation(m)[: min(batch_size, -(-m // 2))]
    return np.sort(cols), int(rng.integers(2**63)), rng


def _check_gate(X, Y, batch_size, mask_seed, directions, attempts) -> int:
    """m, the number of examples; or a one-line ValueError naming the bad argument."""
    for name, value, low, high in (("batch_size", batch_size, 1, None),
                                   ("mask_seed", mask_seed, 0, None),
                                   ("directions", directions, 1, MAX_DIRECTIONS),
                                   ("attempts", attempts, 1, MAX_ATTEMPTS)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low \
                or (high is not None and value > high):
            allowed = f"an integer >= {low}" + (f" and <= {high}" if high is not None else "")
            raise ValueError(f"{name}={value!r} is not allowed; allowed: {allowed}")
    if np.ndim(X) != 2 or np.shape(Y) != (1, np.shape(X)[1]) or np.shape(X)[1] < 1:
        raise ValueError(f"X {np.shape(X)} and Y {np.shape(Y)} are not allowed; allowed: X "
                         "(n_x, m) and Y (1, m) with m >= 1")
    return int(np.shape(X)[1])
