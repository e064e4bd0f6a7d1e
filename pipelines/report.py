"""Write a sweep's comparison report (``make report``): reports/<sweep id>/report.html and .md.

    python pipelines/report.py                   # the latest sweep in the store
    python pipelines/report.py --sweep RUN_ID    # a sweep's parent run id

The store is $MLFLOW_TRACKING_URI, else sqlite:///mlruns/mlflow.db (or --uri). Both files, and
the PNGs the Markdown links, are also logged as artifacts (``report/``) of the sweep's parent run.
"""

import argparse
import sys
from pathlib import Path

from initreg import registry, report, tracking

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep", default=None, help="parent run id (default: the latest sweep)")
    ap.add_argument("--uri", default=None, help="tracking URI (default: $MLFLOW_TRACKING_URI, "
                    "else sqlite:///mlruns/mlflow.db)")
    ap.add_argument("--out", type=Path, default=ROOT / "reports", help="reports folder")
    args = ap.parse_args(argv)
    client = tracking.client(tracking.resolve_uri(args.uri))
    try:
        sweep = report.load_sweep(client, args.sweep or None)
    except report.ReportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    html_path, md_path = report.write_report(client, sweep, args.out / sweep.run_id)
    chosen = report.select(sweep)  # initreg.seeds.selection: the parent's selected_run_id too
    print(f"sweep {sweep.run_id} ({sweep.experiment}): {report.counts(sweep)}")
    print(report.headline(sweep)[0])
    for note in report.selection_notes(sweep):
        print(note)
    print(f"wrote {html_path}\nwrote {md_path}\nlogged both to run {sweep.run_id} (artifacts: "
          "report/)")
    if chosen is not None:  # the selected run's model: initreg-<data>, alias champion
        print(registry.register(client, sweep.run_id, chosen.run_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
