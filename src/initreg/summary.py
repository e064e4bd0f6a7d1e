"""The end of a sweep: close its parent run and print what happened, best runs first."""

from initreg import tracking
from initreg.runs import best_run, job_status, metric, ranked, run_rank

UI_HINT = "make ui   (MLflow UI on http://127.0.0.1:5000)"


def summary_lines(runs, best: int = 5) -> list[str]:
    """A table of the best runs (:func:`initreg.runs.best_run`'s ranking) and each outcome's
    count."""
    counts: dict[str, int] = {}
    for r in runs:
        counts[job_status(r)] = counts.get(job_status(r), 0) + 1
    done = [r for r in ranked(runs) if run_rank(r)[0] == 0]
    lines = [f"{'run':<40} {'train':>6} {'dev':>6} {'test':>6}  diagnosis"]
    for r in done[:best]:
        lines.append(f"{r.info.run_name[:40]:<40} {metric(r, 'train_accuracy'):6.3f} "
                     f"{metric(r, 'dev_accuracy'):6.3f} {metric(r, 'test_accuracy'):6.3f}  "
                     f"{r.data.tags.get('diagnosis', '')}")
    lines.append("runs: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    for r in runs:
        if job_status(r) not in ("finished",):
            why = r.data.tags.get("error_message") or r.data.tags.get("failure_reason", "")
            lines.append(f"  {job_status(r):>8}: {r.info.run_name}  {why}"[:160])
    return lines


def close_sweep(parent: dict, job_raised: bool = False) -> str:
    """End the parent FINISHED, or FAILED when a job crashed; print and return the summary."""
    mlflow = tracking.client(parent["tracking_uri"])
    runs = tracking.children(mlflow, parent["experiment_id"], parent["run_id"])
    crashed = job_raised or any(job_status(r) in ("failed", "killed", "running") for r in runs)
    status = "FAILED" if crashed else "FINISHED"
    run = tracking.Run(mlflow, parent["run_id"])
    best = best_run(runs)
    if best is not None:
        run.add_metric("best_dev_accuracy", metric(best, "dev_accuracy"))
    run.set_tags({"jobs": len(runs)})
    run.end(status)
    text = "\n".join([
        f"sweep {parent['run_id']} {status}: {len(runs)} runs",
        *summary_lines(runs),
        f"open the UI: {UI_HINT}",
    ])
    print(text, flush=True)
    return text
