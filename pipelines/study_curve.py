"""`make study-curve`: learning curves on football, without and with the best regularization.

    python pipelines/study_curve.py                  # both curves, then the section
    python pipelines/study_curve.py --sweep RUN_ID   # only the section, of a past sweep

Trains on the fractions 0.1, 0.2, 0.4, 0.7, 1.0 of the training set (stratified, seeded) under
one parent run (experiment learning_curve): once without regularization, once with the best
regularization of the latest sweep in the football experiment (else lambd 0.7, and it says so).
Writes reports/<sweep id>/learning_curve.html and .md (+ learning_curve.png), logs them to the
parent run (study/), and logs the curves on the parent too (``lc_train_error/<config>``,
``lc_dev_error/<config>``, step = m).
"""

import math
import sys

from studies_cli import study_parser, sweep_to_report, write_section

from initreg import tracking
from initreg.runs import sweep_children
from initreg.studies import best_regularization, curve_points, curve_section


def log_curves(client, parent_id: str, runs) -> None:
    """The curves as metrics of the parent run, one step per training-set size."""
    run = tracking.Run(client, parent_id)
    for label, points in curve_points(runs).items():
        key = label.replace(" ", "_").replace("=", "")
        for p in points:
            if math.isfinite(p.m) and math.isfinite(p.dev_error):
                run.add_metric(f"lc_train_error/{key}", p.train_error, int(p.m))
                run.add_metric(f"lc_dev_error/{key}", p.dev_error, int(p.m))
    run.flush()


def main(argv: list[str] | None = None) -> int:
    ap = study_parser(__doc__.splitlines()[0])
    ap.add_argument("--from-experiment", default="football",
                    help="where to find the latest sweep's best regularization")
    args = ap.parse_args(argv)
    note, overrides = None, args.overrides
    if args.sweep is None:
        client = tracking.client(tracking.resolve_uri(None))
        lambd, keep_prob, note = best_regularization(client, args.from_experiment)
        print(f"regularization: {note}")
        regs = f"reg={{lambd:0.0,keep_prob:1.0}},{{lambd:{lambd},keep_prob:{keep_prob}}}"
        overrides = [regs, *args.overrides]
    status, client, parent_id = sweep_to_report(args, "learning_curve", overrides)
    if parent_id is None:
        return status
    if note is not None:
        tracking.Run(client, parent_id).set_tags({"regularization_choice": note})
    runs = sweep_children(client, parent_id)
    log_curves(client, parent_id, runs)
    folder = args.out / parent_id
    write_section(client, parent_id, folder, "learning_curve", "Learning curve",
                  curve_section(runs, client, folder=folder))
    return status


if __name__ == "__main__":
    sys.exit(main())
