"""The course's six published results, checked against a baselines file and across seeds.

A reproduction runs each setting (three inits on circles, three regularizations on football) once
with the course's random convention, where the published counts must come out exactly, and over
several seeds with the default convention, where the seed mean and spread must stay inside bands
set from measurements. The published *conclusions* ("He beats random x10", ...) are then judged
seed by seed: does the difference survive when only the seed changes?

Pure Python over plain numbers: the runner (``pipelines/reproduce.py``) turns MLflow runs into
:class:`Result` objects, and everything here can be tested on synthetic numbers.
"""

import json
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

from initreg.pages import md_escape, md_table


@dataclass(frozen=True)
class Setting:
    """One published experiment: its key, data set, and the Hydra overrides that select it."""

    key: str  # "circles/he"
    label: str  # "He", "L2 lambda=0.7"
    experiment: str  # course_init or course_reg
    init: str | None = None  # course_init: the init scheme
    lambd: float = 0.0  # course_reg: the regularization
    keep_prob: float = 1.0

    @property
    def data(self) -> str:
        return self.key.split("/")[0]


SETTINGS = (
    Setting("circles/zeros", "zeros", "course_init", init="zeros"),
    Setting("circles/random", "random x10", "course_init", init="random"),
    Setting("circles/he", "He", "course_init", init="he"),
    Setting("football/none", "no regularization", "course_reg"),
    Setting("football/l2", "L2 lambda=0.7", "course_reg", lambd=0.7),
    Setting("football/dropout", "dropout keep_prob=0.86", "course_reg", keep_prob=0.86),
)
BY_KEY = {s.key: s for s in SETTINGS}


@dataclass(frozen=True)
class Claim:
    """A published conclusion: ``better`` gets a higher published-test accuracy than ``worse``."""

    key: str
    text: str
    better: str  # a Setting key
    worse: str


CLAIMS = (
    Claim("he_beats_random", "He beats random x10 on circles", "circles/he", "circles/random"),
    Claim("random_beats_zeros", "random x10 beats zeros on circles", "circles/random",
          "circles/zeros"),
    Claim("l2_beats_none", "L2 lambda=0.7 beats no regularization on football", "football/l2",
          "football/none"),
    Claim("dropout_beats_none", "dropout 0.86 beats no regularization on football",
          "football/dropout", "football/none"),
    Claim("dropout_beats_l2", "dropout 0.86 beats L2 lambda=0.7 on football", "football/dropout",
          "football/l2"),
)


def setting_of(data: str, init: str, lambd: float, keep_prob: float) -> str | None:
    """The Setting key a run's params belong to, or None when it matches none of the six."""
    for s in SETTINGS:
        if s.data != data:
            continue
        if s.experiment == "course_init" and s.init == init:
            return s.key
        if (s.experiment == "course_reg" and math.isclose(s.lambd, lambd)
                and math.isclose(s.keep_prob, keep_prob)):
            return s.key
    return None


@dataclass(frozen=True)
class Result:
    """One run's counts: correct examples on train and on the published test set (dev + test)."""

    setting: str
    convention: str  # course or default
    seed: int
    train_correct: int
    train_total: int
    test_correct: int
    test_total: int
    status: str = "finished"
    run_id: str = ""

    @property
    def train_accuracy(self) -> float:
        return self.train_correct / self.train_total

    @property
    def published_test_accuracy(self) -> float:
        return self.test_correct / self.test_total


def result_from_metrics(setting: str, convention: str, seed: int, metrics: Mapping[str, float],
                        sizes: Mapping[str, int], status: str = "finished",
                        run_id: str = "") -> Result:
    """Counts from a run's accuracies and the split sizes: published test = dev + test."""
    def count(split: str) -> int:
        return round(metrics[f"{split}_accuracy"] * sizes[split])

    return Result(setting, convention, seed, count("train"), sizes["train"],
                  count("dev") + count("test"), sizes["dev"] + sizes["test"], status, run_id)


@dataclass(frozen=True)
class Check:
    """One row of the comparison table."""

    claim: str
    expected: str
    got: str
    passed: bool

    @property
    def verdict(self) -> str:
        return "ok" if self.passed else "DRIFT"


def _spread(values: Sequence[float]) -> float:
    """The sample standard deviation (ddof=1); 0 for a single value."""
    return statistics.stdev(values) if len(values) > 1 else 0.0


def _finished(results: Iterable[Result], setting: str, convention: str) -> list[Result]:
    runs = [r for r in results if r.setting == setting and r.convention == convention
            and r.status == "finished"]
    return sorted(runs, key=lambda r: r.seed)


def compare(results: Sequence[Result], baselines: Mapping) -> list[Check]:
    """Every check of ``baselines`` against ``results``: exact counts, then bands."""
    checks: list[Check] = []
    for key, expected in baselines.get("course", {}).items():
        label = f"course {key}"
        runs = _finished(results, key, "course")
        if len(runs) != 1:
            checks.append(Check(f"{label}: run", "1 finished run", f"{len(runs)} finished",
                                False))
            continue
        r = runs[0]
        for name, got in (("train", (r.train_correct, r.train_total)),
                          ("published_test", (r.test_correct, r.test_total))):
            want = tuple(expected[name])
            checks.append(Check(f"{label}: {name.replace('_', '-')} correct",
                                f"{want[0]}/{want[1]}", f"{got[0]}/{got[1]}", got == want))
    default = baselines.get("default", {})
    seeds = list(default.get("seeds", []))
    for key, metrics in default.get("bands", {}).items():
        label = f"default {key}"
        runs = _finished(results, key, "default")
        if [r.seed for r in runs] != seeds:
            checks.append(Check(f"{label}: seeds", f"finished seeds {seeds}",
                                f"finished seeds {[r.seed for r in runs]}", False))
            continue
        for metric, bands in metrics.items():
            values = [getattr(r, metric) for r in runs]
            mean, std = statistics.fmean(values), _spread(values)
            for stat, got in (("mean", mean), ("std", std)):
                if stat not in bands:
                    continue
                lo, hi = bands[stat]
                checks.append(Check(
                    f"{label}: {metric} {stat} over {len(runs)} seeds", f"{lo:.3f} to {hi:.3f}",
                    f"{got:.3f}" + (f" (mean {mean:.3f} ± {std:.3f})" if stat == "std" else ""),
                    lo <= got <= hi))
    return checks


EPS = 1e-9  # accuracies are counts over totals: a difference below this is a tie


@dataclass(frozen=True)
class ClaimResult:
    """How one published conclusion fares: with the course's convention, and seed by seed."""

    claim: Claim
    course_holds: bool | None  # None: the course runs are missing
    course_diff: float | None  # better - worse, published-test accuracy
    wins: int  # seeds where better > worse
    ties: int
    seeds: int  # seeds with both runs finished
    mean_diff: float | None
    std_diff: float | None
    diffs: list[float] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """``holds across seeds``, ``holds on average only``, ``does not hold``, ``no data``."""
        if not self.seeds:
            return "no data"
        if self.wins == self.seeds:
            return "holds across seeds"
        if self.mean_diff > EPS:
            return "holds on average only"
        return "does not hold"


def judge_claims(results: Sequence[Result], claims: Sequence[Claim] = CLAIMS) -> list[ClaimResult]:
    """Each claim on the course run and on the default-convention runs paired by seed."""
    out = []
    for c in claims:
        cb, cw = _finished(results, c.better, "course"), _finished(results, c.worse, "course")
        course_diff = (cb[0].published_test_accuracy - cw[0].published_test_accuracy
                       if cb and cw else None)
        better = {r.seed: r for r in _finished(results, c.better, "default")}
        worse = {r.seed: r for r in _finished(results, c.worse, "default")}
        diffs = [better[s].published_test_accuracy - worse[s].published_test_accuracy
                 for s in sorted(better.keys() & worse.keys())]
        out.append(ClaimResult(
            c, None if course_diff is None else course_diff > EPS, course_diff,
            sum(d > EPS for d in diffs), sum(abs(d) <= EPS for d in diffs), len(diffs),
            statistics.fmean(diffs) if diffs else None, _spread(diffs) if diffs else None,
            diffs))
    return out


@dataclass(frozen=True)
class SeedSummary:
    """Mean and spread over seeds of one setting, default convention."""

    setting: str
    seeds: int
    train_mean: float
    train_std: float
    test_mean: float
    test_std: float
    test_min: float
    test_max: float
    course_test: float | None  # the course convention's published-test accuracy


def summarize(results: Sequence[Result]) -> list[SeedSummary]:
    """One row per setting with default-convention runs."""
    rows = []
    for s in SETTINGS:
        runs = _finished(results, s.key, "default")
        if not runs:
            continue
        course = _finished(results, s.key, "course")
        train = [r.train_accuracy for r in runs]
        test = [r.published_test_accuracy for r in runs]
        rows.append(SeedSummary(s.key, len(runs), statistics.fmean(train), _spread(train),
                                statistics.fmean(test), _spread(test), min(test), max(test),
                                course[0].published_test_accuracy if course else None))
    return rows


# --- rendering -------------------------------------------------------------------------------

def _signed(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.3f}"


def claim_sentence(cr: ClaimResult) -> str:
    """One sentence saying, from the numbers, whether the claim survives a change of seed."""
    c = cr.claim
    if cr.verdict == "no data":
        return f"{c.text}: no default-convention runs to judge it."
    course = ("with the course's convention it holds" if cr.course_holds
              else "with the course's convention it does not hold" if cr.course_holds is False
              else "the course-convention runs are missing")
    across = {"holds across seeds": "holds in every seed",
              "holds on average only": "holds on average only",
              "does not hold": "does not hold"}[cr.verdict]
    return (f"{c.text}: {course} ({_signed(cr.course_diff)}); across seeds it {across}: "
            f"better in {cr.wins} of {cr.seeds} seeds, tied in {cr.ties}, mean difference "
            f"{cr.mean_diff:+.3f} ± {cr.std_diff:.3f}.")


def table_text(checks: Sequence[Check]) -> str:
    """The comparison table as fixed-width text for the terminal."""
    w = max([len(c.claim) for c in checks] + [5])
    we = max([len(c.expected) for c in checks] + [8])
    lines = [f"{'claim':<{w}}  {'expected':<{we}}  {'got':<28}  verdict"]
    lines += [f"{c.claim:<{w}}  {c.expected:<{we}}  {c.got:<28}  {c.verdict}" for c in checks]
    return "\n".join(lines)


def render_markdown(checks: Sequence[Check], claims: Sequence[ClaimResult],
                    summary: Sequence[SeedSummary], header: str = "") -> str:
    """The reproduction report: verdict, comparison table, seed table, claim by claim."""
    drift = [c for c in checks if not c.passed]
    lines = ["# Reproduction of the course's published results", ""]
    if header:  # the caller's own Markdown
        lines += [header, ""]
    lines += [f"**{'DRIFT: ' + str(len(drift)) + ' of ' if drift else 'All '}{len(checks)} "
              f"checks {'drifted' if drift else 'pass'}.**", ""]
    lines += ["## Comparison with reproductions/baselines.yaml", ""]
    lines += [md_table(("claim", "expected", "got", "verdict"),
                       [(c.claim, c.expected, c.got, c.verdict) for c in checks])]
    lines += ["", "## Across seeds (default convention)", "",
              "Published-test accuracy is the accuracy on dev and test together, i.e. on the "
              "course's published test set; std is the sample standard deviation over seeds.", ""]
    lines += [md_table(
        ("setting", "seeds", "train mean ± std", "published-test mean ± std", "min to max",
         "course convention"),
        [(s.setting, s.seeds, f"{s.train_mean:.3f} ± {s.train_std:.3f}",
          f"{s.test_mean:.3f} ± {s.test_std:.3f}", f"{s.test_min:.3f} to {s.test_max:.3f}",
          "n/a" if s.course_test is None else f"{s.course_test:.3f}") for s in summary])]
    lines += ["", "## The published conclusions, claim by claim", ""]
    lines += [md_table(
        ("claim", "course convention", "seeds better / tied / n", "mean diff ± std", "verdict"),
        [(cr.claim.text,
          "n/a" if cr.course_holds is None else
          f"{'holds' if cr.course_holds else 'does not hold'} ({_signed(cr.course_diff)})",
          f"{cr.wins} / {cr.ties} / {cr.seeds}",
          "n/a" if cr.mean_diff is None else f"{cr.mean_diff:+.3f} ± {cr.std_diff:.3f}",
          cr.verdict) for cr in claims])]
    lines += [""] + [f"- {md_escape(claim_sentence(cr))}" for cr in claims] + [""]
    return "\n".join(lines)


def render_json(checks: Sequence[Check], claims: Sequence[ClaimResult],
                summary: Sequence[SeedSummary], results: Sequence[Result]) -> str:
    """Everything in the Markdown report, plus each run's counts, as JSON."""
    return json.dumps({
        "passed": all(c.passed for c in checks),
        "checks": [{**asdict(c), "verdict": c.verdict} for c in checks],
        "seeds": [asdict(s) for s in summary],
        "claims": [{"key": cr.claim.key, "text": cr.claim.text, "verdict": cr.verdict,
                    "course_holds": cr.course_holds, "course_diff": cr.course_diff,
                    "wins": cr.wins, "ties": cr.ties, "seeds": cr.seeds,
                    "mean_diff": cr.mean_diff, "std_diff": cr.std_diff, "diffs": cr.diffs}
                   for cr in claims],
        "runs": [asdict(r) for r in results],
    }, indent=2)
