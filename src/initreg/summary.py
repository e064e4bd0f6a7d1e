"""The end of a sweep: close its parent run and print what happened, best runs first."""

import math

from initreg import tracking

UI_HINT = "make ui   (MLflow UI on http://127.0.0.1:5000)"


def job_status(run) -> str:
    """``finished``, ``gated``, ``diverged``, ``failed``, ``killed`` or ``running``."""
    reason = run.data.tags.get("failure_reason")
    if run.info.status == "FINISHED":
        return "finished"
    if reason == "gradcheck":
        return "gated"
    if reason == "diverged":
        return "diverged"
    return {"KILLED": "killed", "RUNNING": "running"}.get(run.info.status, "failed")


def summary_lines(runs, best: int = 5) -> list[str]:
    """A table of the best runs by dev accuracy and the count of each outcome."""
    counts: dict[str, int] = {}
    for r in runs:
        counts[job_status(r)] = counts.get(job_status(r), 0) + 1
    done = [r for r in runs if "dev_accuracy" in r.data.metrics]
    done.sort(key=lambda r: (-r.data.metrics["dev_accuracy"], r.data.metrics.get("variance", 0)))
    lines = [f"{'run':<40} {'train':>6} {'dev':>6} {'test':>6}  diagnosis"]
    for r in done[:best]:
        m = r.data.metrics
        lines.append(f"{r.info.run_name[:40]:<40} {m['train_accuracy']:6.3f} "
                     f"{m['dev_accuracy']:6.3f} {m['test_accuracy']:6.3f}  "
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
    best = max((r.data.metrics.get("dev_accuracy", -math.inf) for r in runs), default=-math.inf)
    if math.isfinite(best):
        run.add_metric("best_dev_accuracy", best)
    run.set_tags({"jobs": len(runs)})
    run.end(status)
    text = "\n".join([
        f"sweep {parent['run_id']} {status}: {len(runs)} runs",
        *summary_lines(runs),
        f"open the UI: {UI_HINT}",
    ])
    print(text, flush=True)
    return text
