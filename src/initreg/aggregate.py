"""A sweep over seeds, per configuration: means and spreads, the selection, the paired claims.

    summaries = summarize(records)      # one ConfigSummary per configuration, best first
    chosen = select(summaries)          # best mean dev accuracy among configurations that
                                        # finished in every seed (None: no such configuration)
    claims = judge(records, summaries)  # every init against every other at the chosen
                                        # regularization; each regularization against none at
                                        # the chosen init; paired by seed

A configuration is everything a run computes except its seeds: init, lambd, keep_prob and any
other param that varies across the sweep. Its replicates are the values of the seeds that vary
(``seed``, and ``data.loader.split_seed`` / ``data.loader.seed`` when those are swept too).
Means and sample standard deviations (ddof=1) are over the replicates a configuration finished.

Configurations are ranked with :func:`initreg.runs.rank_key`, the ranking every report uses,
applied to the means: one that finished in every replicate counts as finished, any other comes
after them all. A claim's verdict is :class:`initreg.reproduction.ClaimResult`'s rule (``holds
across seeds``: better in every paired seed; ``holds on average only``: a positive mean
difference; else ``does not hold``); its p-value is a two-sided paired t-test on the per-seed
differences. Plain values in, plain values out: ``initreg.seeds`` reads the records from MLflow.
"""

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from initreg.reproduction import EPS, Claim, ClaimResult
from initreg.runs import best_run, rank_key, ranked, reg_label

METRICS = ("train_accuracy", "dev_accuracy", "test_accuracy", "avoidable_bias", "variance")
NONE = (0.0, 1.0)  # (lambd, keep_prob) of no regularization


@dataclass(frozen=True, order=True)
class Config:
    """What a run computes, without its seeds: the init label, L2, dropout and other params."""

    init: str  # the init label: "he", "random x10"
    lambd: float
    keep_prob: float
    extra: tuple[tuple[str, str], ...] = ()  # other params that vary across the sweep

    @property
    def label(self) -> str:
        """``he λ0.1 k0.86`` (+ `` key=value`` for each extra)."""
        return " ".join([f"{self.init} λ{self.lambd:g} k{self.keep_prob:g}",
                         *(f"{k}={v}" for k, v in self.extra)])

    @property
    def regularization(self) -> tuple:
        """Everything but the init: the configurations an init is compared within."""
        return (self.lambd, self.keep_prob, self.extra)

    @property
    def is_unregularized(self) -> bool:
        return (self.lambd, self.keep_prob) == NONE


@dataclass(frozen=True)
class SeedRun:
    """One run of a configuration in one replicate (its seeds), as the report reads it."""

    config: Config
    replicate: tuple  # the swept seeds' values, e.g. (2,) for seed=2
    status: str  # initreg.runs.job_status: finished, gated, diverged, failed, killed, running
    gate: str = ""  # the gate's verdict: passed, failed, inconclusive; "" when it never ran
    metrics: Mapping[str, float] = field(default_factory=dict)
    run_id: str = ""

    def metric(self, key: str) -> float:
        return float(self.metrics.get(key, math.nan))

    @property
    def finished(self) -> bool:
        return self.status == "finished" and math.isfinite(self.metric("dev_accuracy"))


@dataclass(frozen=True)
class Stat:
    """Mean and sample standard deviation of a metric over ``n`` replicates."""

    mean: float  # NaN when n == 0
    std: float | None  # None when n < 2: one value has no spread
    n: int

    def text(self, spec: str = ".3f") -> str:
        """``0.912 ± 0.013``; ``0.912`` for one value; ``—`` for none."""
        if self.n == 0:
            return "—"
        return format(self.mean, spec) + ("" if self.std is None else
                                           f" ± {format(self.std, spec)}")


def stat(values: Iterable[float]) -> Stat:
    """:class:`Stat` of the finite ``values``."""
    finite = [float(v) for v in values if math.isfinite(v)]
    if not finite:
        return Stat(math.nan, None, 0)
    return Stat(statistics.fmean(finite), statistics.stdev(finite) if len(finite) > 1 else None,
                len(finite))


@dataclass(frozen=True)
class ConfigSummary:
    """One configuration over the sweep's replicates."""

    config: Config
    runs: int
    finished: int  # runs that finished with a dev accuracy
    complete: bool  # finished in every replicate of the sweep
    stats: Mapping[str, Stat]  # METRICS over the finished runs
    outcomes: Mapping[str, int]  # run status -> count
    gate: Mapping[str, int]  # gate verdict -> count ("not run" when the gate never ran)

    def stat(self, key: str) -> Stat:
        return self.stats[key]

    @property
    def failures(self) -> str:
        """``1 gated, 1 diverged``, or ``—`` when every run finished."""
        bad = {k: n for k, n in sorted(self.outcomes.items()) if k != "finished"}
        return ", ".join(f"{n} {k}" for k, n in bad.items()) or "—"


def replicates(records: Iterable[SeedRun]) -> list[tuple]:
    """The sweep's replicates, in numeric order (values that are not numbers after, as text)."""
    def key(rep: tuple) -> tuple:
        return tuple((0, v, "") if isinstance(v, int | float) else (1, 0, str(v)) for v in rep)

    return sorted({r.replicate for r in records}, key=key)


def over_seeds(records: Iterable[SeedRun]) -> bool:
    """Whether some configuration ran in more than one replicate (what makes a seed sweep; runs
    whose seeds merely differ from one configuration to the next are not one)."""
    seen: dict[Config, set] = {}
    for r in records:
        seen.setdefault(r.config, set()).add(r.replicate)
    return any(len(reps) > 1 for reps in seen.values())


def _rank(s: ConfigSummary) -> tuple:
    """:func:`initreg.runs.rank_key` of a configuration's means."""
    return rank_key("finished" if s.complete else "incomplete", s.stat("dev_accuracy").mean,
                    s.stat("variance").mean, s.config.label)


def summarize(records: Sequence[SeedRun]) -> list[ConfigSummary]:
    """One :class:`ConfigSummary` per configuration, best first (see the module docstring)."""
    every = set(replicates(records))
    by_config: dict[Config, list[SeedRun]] = {}
    for r in records:
        by_config.setdefault(r.config, []).append(r)
    out = []
    for config, runs in by_config.items():
        done = [r for r in runs if r.finished]
        outcomes: dict[str, int] = {}
        gate: dict[str, int] = {}
        for r in runs:
            outcomes[r.status] = outcomes.get(r.status, 0) + 1
            gate[r.gate or "not run"] = gate.get(r.gate or "not run", 0) + 1
        out.append(ConfigSummary(
            config, len(runs), len(done), {r.replicate for r in done} == every,
            {k: stat(r.metric(k) for r in done) for k in METRICS}, outcomes, gate))
    return ranked(out, key=_rank)


def select(summaries: Sequence[ConfigSummary]) -> ConfigSummary | None:
    """The best configuration by mean dev accuracy among those that finished in every
    replicate (ties: the smaller mean variance, then the label); None when none did."""
    return best_run(summaries, key=_rank)


# --- claims ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PairedClaim:
    """``better`` gets a higher dev accuracy than ``worse``, judged seed by seed."""

    kind: str  # "init": two inits at one regularization; "regularization": one against none
    better: Config
    worse: Config
    result: ClaimResult  # wins, ties, paired seeds, mean and std of the differences, verdict
    p_value: float | None  # two-sided paired t-test; None: fewer than 2 pairs or no spread
    unpaired: int  # replicates where only one of the two finished

    @property
    def verdict(self) -> str:
        return self.result.verdict

    @property
    def text(self) -> str:
        return self.result.claim.text


def paired_t_p_value(diffs: Sequence[float]) -> float | None:
    """The two-sided p-value of a paired t-test on per-seed differences (H0: mean 0).

    None with fewer than two differences, or when they do not spread (all equal up to
    :data:`initreg.reproduction.EPS`): the t statistic is then undefined or infinite, and an
    accuracy difference that is the same in every seed needs no test.
    """
    n = len(diffs)
    if n < 2:
        return None
    sd = statistics.stdev(diffs)
    if sd <= EPS:
        return None
    t = statistics.fmean(diffs) / (sd / math.sqrt(n))
    # imported here: scipy.stats takes half a second to import, and every sweep's submitting
    # process imports this module to close the sweep, with seeds or not
    from scipy import stats as scipy_stats

    return float(2 * scipy_stats.t.sf(abs(t), df=n - 1))


def paired(records: Sequence[SeedRun], better: Config, worse: Config, kind: str,
           text: str) -> PairedClaim:
    """The claim ``text`` (``better`` beats ``worse`` on dev accuracy) over the replicates where
    both finished."""
    def dev(config: Config) -> dict[tuple, float]:
        return {r.replicate: r.metric("dev_accuracy") for r in records
                if r.config == config and r.finished}

    b, w = dev(better), dev(worse)
    common = [s for s in replicates(records) if s in b and s in w]
    diffs = [b[s] - w[s] for s in common]
    result = ClaimResult(
        Claim(f"{better.label} > {worse.label}", text, better.label, worse.label),
        None, None, sum(d > EPS for d in diffs), sum(abs(d) <= EPS for d in diffs), len(diffs),
        statistics.fmean(diffs) if diffs else None,
        (statistics.stdev(diffs) if len(diffs) > 1 else 0.0) if diffs else None, diffs)
    return PairedClaim(kind, better, worse, result, paired_t_p_value(diffs),
                       len(b.keys() ^ w.keys()))


def _where(config: Config) -> str:
    extra = " ".join(f"{k}={v}" for k, v in config.extra)
    return reg_label(config.lambd, config.keep_prob) + (f", {extra}" if extra else "")


def judge(records: Sequence[SeedRun], summaries: Sequence[ConfigSummary]) -> list[PairedClaim]:
    """The claims a user cares about, around the selected configuration:

    - every init against every other at the selected regularization (each pair stated in the
      ranking's order: the better-ranked init is claimed to beat the other);
    - each regularization against none at the selected init (when the sweep ran none there).
    """
    chosen = select(summaries)
    if chosen is None:
        return []
    c = chosen.config
    claims = []
    same_reg = [s.config for s in summaries if s.config.regularization == c.regularization]
    for better, worse in combinations(same_reg, 2):  # summaries are ranked: better first
        claims.append(paired(records, better, worse, "init",
                             f"{better.init} beats {worse.init} ({_where(c)})"))
    same_init = [s.config for s in summaries
                 if s.config.init == c.init and s.config.extra == c.extra]
    none = next((x for x in same_init if x.is_unregularized), None)
    if none is not None:
        for reg in same_init:
            if reg != none:
                text = (f"{reg_label(reg.lambd, reg.keep_prob)} beats no regularization "
                        f"(init {c.init}" + "".join(f", {k}={v}" for k, v in c.extra) + ")")
                claims.append(paired(records, reg, none, "regularization", text))
    return claims


def claim_sentence(claim: PairedClaim) -> str:
    """One sentence, from the numbers, on whether the claim survives a change of seed."""
    r = claim.result
    if r.verdict == "no data":
        return f"{claim.text}: no seed in which both finished; not judged."
    p = "" if claim.p_value is None else f", paired t-test p = {claim.p_value:.3g}"
    unpaired = (f"; {claim.unpaired} seeds left out, where only one of the two finished"
                if claim.unpaired else "")
    spread = f" ± {r.std_diff:.3f}" if r.seeds > 1 else ""
    return (f"{claim.text}: {r.verdict} (better in {r.wins} of {r.seeds} seeds, tied in "
            f"{r.ties}; mean difference in dev accuracy {r.mean_diff:+.3f}{spread}"
            f"{p}{unpaired}).")


# --- the sweep's parent run ----------------------------------------------------------------------

def parent_metrics(records: Sequence[SeedRun]) -> dict[str, float]:
    """The aggregate metrics a sweep's parent run logs: the numbers of replicates and of
    configurations (and of those that finished in every replicate), the selected
    configuration's means and spreads (``selected_dev_accuracy_mean``, ``..._std``, also train
    and test), and how many of the :func:`judge` claims hold across seeds."""
    summaries = summarize(records)
    if not summaries:
        return {}
    out = {"seeds": float(len(replicates(records))), "configurations": float(len(summaries)),
           "configurations_complete": float(sum(s.complete for s in summaries))}
    chosen = select(summaries)
    if chosen is None:
        return out
    for key in ("train_accuracy", "dev_accuracy", "test_accuracy"):
        st = chosen.stat(key)
        out[f"selected_{key}_mean"] = st.mean
        if st.std is not None:
            out[f"selected_{key}_std"] = st.std
    claims = judge(records, summaries)
    out["claims"] = float(len(claims))
    out["claims_holding_across_seeds"] = float(sum(c.verdict == "holds across seeds"
                                                   for c in claims))
    return out
