"""A sweep over seeds in its report and on its parent run, read from MLflow.

    recs = records(kids)                      # a sweep's child runs as aggregate.SeedRun
    chosen = selection(kids)                  # the sweep's selected run (report, parent, registry)
    sections(kids, folder)                    # [] for one seed; else the two report sections
    log_aggregate(parent, kids)               # the aggregate metrics on the parent run

The numbers come from :mod:`initreg.aggregate` (pure); this module only reads runs, draws the
heatmaps of the mean with the spread in each cell, and writes the sections with
:mod:`initreg.pages`, every text escaped.

:func:`selection` is the one rule that picks a sweep's run: the report's headline, the parent
run's ``selected_*`` tags and metrics, and the model ``make report`` registers all call it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from initreg import aggregate, sweepplots
from initreg.aggregate import Config, ConfigSummary, PairedClaim, SeedRun
from initreg.pages import Section, num, png_folder, section
from initreg.runs import best_run, job_status, param, run_init_label

# The seeds a sweep may vary: the weights' and masks' seed, and the data's when swept too
REPLICATE_KEYS = ("seed", "data.loader.split_seed", "data.loader.seed")
AXES = ("init.name", "init.scale", "reg.lambd", "reg.keep_prob")  # in Config's own fields
NOT_COMPARED = ("tracking.", "hydra.")  # params that vary between sweeps without meaning


def _varying(runs, keys) -> list[str]:
    return [k for k in keys if len({r.data.params.get(k) for r in runs}) > 1]


def records(runs) -> list[SeedRun]:
    """The runs as :class:`initreg.aggregate.SeedRun`: a run's configuration is its init label,
    lambd, keep_prob and every other param that varies across ``runs`` except the seeds; its
    replicate, the values of the seeds that vary. Runs without ``reg.*`` params (a crash before
    any was logged) cannot be placed and are left out."""
    keys = sorted({k for r in runs for k in r.data.params})
    reps = _varying(runs, [k for k in REPLICATE_KEYS if k in keys])
    extra = _varying(runs, [k for k in keys if k not in REPLICATE_KEYS and k not in AXES
                            and not k.startswith(NOT_COMPARED)])
    out = []
    for r in runs:
        lambd, keep = param(r, "reg.lambd"), param(r, "reg.keep_prob")
        if not isinstance(lambd, int | float) or not isinstance(keep, int | float):
            continue
        config = Config(run_init_label(r), float(lambd), float(keep),
                        tuple((k, r.data.params.get(k, "")) for k in extra))
        out.append(SeedRun(config, tuple(param(r, k) for k in reps), job_status(r),
                           r.data.tags.get("gradcheck", ""), dict(r.data.metrics),
                           r.info.run_id))
    return out


def replicate_keys(runs) -> list[str]:
    """The seed params that vary across ``runs`` (what a replicate is made of)."""
    return _varying(runs, [k for k in REPLICATE_KEYS
                           if any(k in r.data.params for r in runs)])


@dataclass(frozen=True)
class Selection:
    """A sweep's selected run, and the configuration it was selected with over the seeds."""

    run: object | None  # the MLflow run; None when nothing is selected
    config: ConfigSummary | None = None  # selected on mean dev accuracy; None: not over seeds
    seed: tuple[tuple[str, object], ...] = ()  # the run's swept seeds: (("seed", 2),)
    over_seeds: bool = False  # some configuration ran with more than one seed

    @property
    def seed_text(self) -> str:
        """``seed=2`` (``seed=2 data.loader.split_seed=1`` when the splits were swept too)."""
        return " ".join(f"{k}={v}" for k, v in self.seed)


def selection(runs) -> Selection:
    """The sweep's selected run among its child ``runs``.

    With one seed per configuration: :func:`initreg.runs.best_run` (highest dev accuracy; ties:
    the smaller variance, then the name). When some configuration ran with more than one seed
    (:func:`initreg.aggregate.over_seeds`): the configuration is
    :func:`initreg.aggregate.select`'s (best mean dev accuracy among those that finished in every
    seed), and the run is its best seed by :func:`initreg.runs.best_run`'s ranking, so a lucky
    seed of another configuration is never the selection; nothing is selected (``run`` None)
    when no configuration finished in every seed."""
    recs = records(runs)
    if not aggregate.over_seeds(recs):
        return Selection(best_run(runs))
    chosen = aggregate.select(aggregate.summarize(recs))
    if chosen is None:
        return Selection(None, over_seeds=True)
    ids = {r.run_id for r in recs if r.config == chosen.config}
    run = best_run([r for r in runs if r.info.run_id in ids])
    keys = replicate_keys(runs)
    return Selection(run, chosen, tuple((k, param(run, k)) for k in keys), over_seeds=True)


def log_aggregate(parent, runs) -> dict[str, float]:
    """Log :func:`initreg.aggregate.parent_metrics` (and the selected configuration as the tag
    ``selected_config``) to ``parent`` (an :class:`initreg.tracking.Run`) when some
    configuration ran with more than one seed; the metrics logged ({} otherwise)."""
    recs = records(runs)
    if not aggregate.over_seeds(recs):
        return {}
    metrics = aggregate.parent_metrics(recs)
    parent.add_metrics(metrics)
    chosen = aggregate.select(aggregate.summarize(recs))
    if chosen is not None:
        parent.set_tags({"selected_config": chosen.config.label})
    return metrics


# --- the figure's panels ----------------------------------------------------------------------

def _panel(config: Config) -> str:
    return " ".join([config.init, *(f"{k}={v}" for k, v in config.extra)])


def heatmap_panels(summaries: Sequence[ConfigSummary], seeds: int) -> dict:
    """The :func:`spread_heatmaps` panels: one per init (and extra params), the dev accuracy's
    Stat per (lambd, keep_prob); a cell's note says how many seeds finished when not all did."""
    panels: dict[str, dict] = {}
    for s in sorted(summaries, key=lambda s: s.config):
        note = "" if s.complete else (f"{s.finished}/{seeds} seeds" if s.finished
                                      else s.failures)
        panels.setdefault(_panel(s.config), {})[(s.config.lambd, s.config.keep_prob)] = (
            s.stat("dev_accuracy"), note)
    return panels


# --- the sections ---------------------------------------------------------------------------------

def _gate(s: ConfigSummary) -> str:
    return f"passed {s.gate.get('passed', 0)}/{s.runs}"


def summary_table(summaries: Sequence[ConfigSummary], seeds: int) -> tuple[list, list]:
    """(head, rows) of the per-configuration table, best first."""
    extras = [k for k, _ in summaries[0].config.extra] if summaries else []
    head = ["init", "lambd", "keep_prob", *extras, "seeds finished", "train acc", "dev acc",
            "test acc", "avoidable bias", "variance", "gate", "not finished"]
    rows = [[s.config.init, f"{s.config.lambd:g}", f"{s.config.keep_prob:g}",
             *[v for _, v in s.config.extra], f"{s.finished}/{seeds}",
             *[s.stat(k).text() for k in aggregate.METRICS], _gate(s), s.failures]
            for s in summaries]
    return head, rows


def claims_table(claims: Sequence[PairedClaim]) -> tuple[list, list]:
    """(head, rows) of the claims table."""
    head = ["claim", "better in / seeds paired", "ties", "mean dev diff ± std",
            "paired t-test p", "verdict"]
    rows = [[c.text, f"{c.result.wins} / {c.result.seeds}", c.result.ties,
             "—" if c.result.mean_diff is None else f"{c.result.mean_diff:+.3f}"
             + (f" ± {c.result.std_diff:.3f}" if c.result.seeds > 1 else ""),
             num(c.p_value, ".3g"), c.verdict] for c in claims]
    return head, rows


def _seed_text(keys: Sequence[str], reps: Sequence[tuple]) -> str:
    shown = ", ".join("/".join(str(v) for v in rep) for rep in reps)
    fixed = ("the data splits vary with them" if any(k != "seed" for k in keys)
             else "the data splits are the same in every seed")
    return f"{len(reps)} seeds ({'/'.join(keys)} = {shown}; {fixed})"


def sections(runs, folder: Path | None = None, parent_tags=None,
             reused: int = 0) -> list[Section]:
    """The seeds sections of a sweep's report: [] unless some configuration ran with more than
    one seed (:func:`initreg.aggregate.over_seeds`); else the
    per-configuration table with its heatmaps, and the claims table. ``runs``: the sweep's
    children and the runs it reused (``reused`` of them, :mod:`initreg.reuse`); ``parent_tags``:
    the parent run's tags, whose ``jobs_skipped`` (a resumed sweep) the first section states."""
    recs = records(runs)
    if not aggregate.over_seeds(recs):
        return []
    reps = aggregate.replicates(recs)
    keys = replicate_keys(runs)
    summaries = aggregate.summarize(recs)
    chosen = aggregate.select(summaries)
    claims = aggregate.judge(recs, summaries)
    out = png_folder(folder)
    what = (f"{len(summaries)} configurations × {_seed_text(keys, reps)}. Each cell: mean ± "
            "sample standard deviation (ddof=1) over the seeds the configuration finished. "
            "Ranked on mean dev accuracy (ties: the smaller mean variance); a configuration "
            "that did not finish in every seed comes after every one that did.")
    skipped = int((parent_tags or {}).get("jobs_skipped") or 0)
    if skipped or reused:
        what += (f" This sweep resumed earlier ones: {skipped} of its jobs already had a "
                 "FINISHED run of their configuration and seed when it started, and were "
                 f"skipped; the {reused} runs of earlier sweeps it reused instead are "
                 "aggregated here like its own.")
        if reused < skipped:
            what += (f" The other {skipped - reused} are not: their runs were deleted since, "
                     "or the sweep ended before it reached their jobs.")
        elif reused > skipped:  # a concurrent sweep finished them after this one's start
            what += (f" {reused - skipped} of those runs finished in another sweep while this "
                     "one ran.")
    if chosen is None:
        pick = "No configuration finished in every seed: nothing is selected."
    else:
        st = chosen.stat
        pick = (f"Selected on mean dev accuracy: {chosen.config.label}: dev "
                f"{st('dev_accuracy').text()}, train {st('train_accuracy').text()}, test "
                f"{st('test_accuracy').text()} over {chosen.finished} seeds (test accuracy "
                "played no part in the choice).")
    fig = sweepplots.spread_heatmaps(
        heatmap_panels(summaries, len(reps)), out / "seeds_heatmaps.png",
        highlight=(_panel(chosen.config), (chosen.config.lambd, chosen.config.keep_prob))
        if chosen else None, title=f"dev accuracy, mean ± std over {len(reps)} seeds")
    configs = section("Across seeds: each configuration", [what, pick], figs={
        "seeds": (fig, "Mean dev accuracy per configuration, ± its standard deviation over "
                       "the seeds; a note gives the seeds finished when not all did; red "
                       "frame: the selected configuration.")},
        table=summary_table(summaries, len(reps)))
    rule = ("Each claim compares dev accuracy seed by seed, over the seeds where both "
            "configurations finished: 'holds across seeds' when the first is better in every "
            "one, 'holds on average only' when only the mean difference is positive, else "
            "'does not hold'. The p-value is a two-sided paired t-test on the differences "
            "(with few seeds it has few degrees of freedom; '—' when the differences do not "
            "vary). Pairs: every init against every other at the selected regularization, "
            "each regularization against none at the selected init.")
    judged = section("Across seeds: claims", [rule],
                     items=[aggregate.claim_sentence(c) for c in claims]
                     or ["No claim to judge: no configuration finished in every seed."],
                     table=claims_table(claims) if claims else None)
    return [configs, judged]

