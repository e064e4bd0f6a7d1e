"""An Optuna sweep in its report: the trials in order, and the best found against the grid's best.

    sections(client, parent_id, folder)   # [] unless the parent ran hydra/sweeper=optuna

The trials are the child runs tagged ``optuna_trial`` by the sweeper, of this parent and of every
parent that ran the same study (a resumed study spans several sweeps). The grid's best is the
best run, by :func:`initreg.runs.best_run`'s ranking, of the latest basic-sweeper sweep in the
same experiment whose runs share the trials' fixed settings (iterations, model, seed, ...); when
none does, the section says so rather than compare unlike runs.
"""

import math
from collections.abc import Sequence
from pathlib import Path

from initreg import sweepplots, tracking
from initreg.pages import Section, num, png_folder, section
from initreg.runs import best_run, job_status, metric, run_name

IGNORED = ("tracking.", "hydra.", "resume")  # params that differ between sweeps without meaning
GRID_SWEEPS_SEARCHED = 50  # the latest sweeps of the experiment looked at for a grid
FIRST = ("init.name", "init.scale", "reg.lambd", "reg.keep_prob")  # the table's first columns


def trial_number(run) -> int:
    return int(run.data.tags.get("optuna_trial", -1))


def study_runs(client, parent) -> list:
    """Every trial run of the parent's study (all parents with its storage and study name),
    in trial order."""
    tags = parent.data.tags
    exp = parent.info.experiment_id
    parents = [p for p in tracking.search_runs(client, [exp], "tags.sweeper = 'optuna'")
               if p.data.tags.get("optuna_storage") == tags.get("optuna_storage")
               and p.data.tags.get("optuna_study") == tags.get("optuna_study")]
    kids = [k for p in parents or [parent] for k in tracking.children(client, exp, p.info.run_id)]
    return sorted((k for k in kids if "optuna_trial" in k.data.tags), key=trial_number)


def searched_keys(runs) -> list[str]:
    """The params that vary across the trial runs (what the study searched): init, lambd and
    keep_prob first, then the others by name."""
    keys = sorted({k for r in runs for k in r.data.params if not k.startswith(IGNORED)},
                  key=lambda k: (FIRST.index(k) if k in FIRST else len(FIRST), k))
    return [k for k in keys if len({r.data.params.get(k) for r in runs}) > 1]


def value_text(value: str) -> str:
    """A param as the table shows it: a number to 4 significant digits, anything else as is."""
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return str(value)


def fixed_settings(runs) -> dict[str, str]:
    """The params every trial run shares (the settings a grid must share to be compared)."""
    searched = set(searched_keys(runs))
    first = runs[0].data.params if runs else {}
    return {k: v for k, v in first.items() if k not in searched and not k.startswith(IGNORED)
            and all(r.data.params.get(k) == v for r in runs)}


def grid_best(client, experiment_id: str, fixed: dict[str, str]):
    """``(grid parent, its best comparable run, comparable count)`` of the latest basic-sweeper
    sweep of the experiment with runs sharing ``fixed`` (the grid's own axes aside: init,
    lambd, keep_prob, and whatever else the study searched); None when there is none."""
    sweeps = tracking.search_runs(client, [experiment_id], "tags.sweep = 'true'",
                                  order_by=["attributes.start_time DESC"],
                                  limit=GRID_SWEEPS_SEARCHED)
    for parent in sweeps:
        if parent.data.tags.get("sweeper") == "optuna":
            continue
        kids = tracking.children(client, experiment_id, parent.info.run_id)
        same = [k for k in kids if all(k.data.params.get(key) == v for key, v in fixed.items())]
        if same:
            return parent, best_run(same), len(same)
    return None


def best_so_far(runs) -> list[float]:
    """The best dev accuracy among the finished trials up to each trial (NaN before any)."""
    out, best = [], math.nan
    for r in runs:
        dev = metric(r, "dev_accuracy")
        if job_status(r) == "finished" and math.isfinite(dev):
            best = dev if math.isnan(best) else max(best, dev)
        out.append(best)
    return out


def trials_table(runs, keys: Sequence[str]) -> tuple[list, list]:
    """(head, rows): one row per trial, in order."""
    head = ["trial", *keys, "status", "gate", "Optuna", "dev acc", "best so far"]
    rows = [[trial_number(r), *[value_text(r.data.params.get(k, "")) for k in keys],
             job_status(r),
             r.data.tags.get("gradcheck", "not run"), r.data.tags.get("optuna_state", "?"),
             num(metric(r, "dev_accuracy"), ".4f"), num(b, ".4f")]
            for r, b in zip(runs, best_so_far(runs), strict=True)]
    return head, rows


def _setting(run, keys: Sequence[str]) -> str:
    return ", ".join(f"{k}={value_text(run.data.params.get(k, '?'))}" for k in keys)


def sections(client, parent_id: str, folder: Path | None = None) -> list[Section]:
    """The Optuna section of a sweep's report, or [] when the sweep did not run Optuna."""
    parent = tracking.retry(client.get_run, parent_id)
    if parent.data.tags.get("sweeper") != "optuna":
        return []
    runs = study_runs(client, parent)
    keys = searched_keys(runs)
    best = best_run(runs)
    failed = sum(r.data.tags.get("optuna_state") == "FAIL" for r in runs)
    text = [f"Study {parent.data.tags.get('optuna_study', '?')!r} "
            f"({parent.data.tags.get('optuna_storage', '?')}): {len(runs)} trials with a run, "
            f"{failed} failed in Optuna (gated, diverged or crashed runs are told as failed "
            "trials, never as a score); search space: "
            f"{parent.data.tags.get('optuna_search_space', '?')}."]
    if best is None:
        text.append("No trial finished: nothing was found.")
    else:
        text.append(f"Best found: trial {trial_number(best)} ({_setting(best, keys)}): dev "
                    f"accuracy {metric(best, 'dev_accuracy'):.4f}, test "
                    f"{metric(best, 'test_accuracy'):.4f} (run {run_name(best)}).")
    fixed = fixed_settings(runs)
    grid = grid_best(client, parent.info.experiment_id, fixed) if runs else None
    grid_dev = None
    if grid is None or grid[1] is None:
        text.append("No grid sweep of this experiment shares the trials' fixed settings "
                    "(iterations, model, seed, ...): no grid to compare with.")
    else:
        gparent, gbest, count = grid
        grid_dev = metric(gbest, "dev_accuracy")
        seed = f", seed {fixed['seed']} like the trials" if "seed" in fixed else ""
        text.append(f"Grid's best: {run_name(gbest)} in {run_name(gparent)} (the best of its "
                    f"{count} runs with the trials' fixed settings{seed}): dev accuracy "
                    f"{grid_dev:.4f}.")
        if best is not None:
            diff = metric(best, "dev_accuracy") - grid_dev
            verdict = ("above" if diff > 1e-9 else "below" if diff < -1e-9 else "level with")
            text.append(f"The search's best is {verdict} the grid's best on dev accuracy "
                        f"({diff:+.4f}; one run each, so one seed each).")
    figs = None
    if runs:
        points = [(trial_number(r), metric(r, "dev_accuracy") if job_status(r) == "finished"
                   else math.nan) for r in runs]
        png = sweepplots.trials_figure(points, best_so_far(runs), grid_dev,
                                       png_folder(folder) / "optuna_trials.png")
        figs = {"trials": (png, "Dev accuracy of each trial in order; red crosses: trials "
                                "failed in Optuna; green: the best so far; dashed: the grid's "
                                "best.")}
    return [section("Optuna search", text, figs=figs, table=trials_table(runs, keys))]
