"""`make study-depth`: the init x depth sweep on circles, then its report section.

    python pipelines/study_depth.py                        # the sweep, then the section
    python pipelines/study_depth.py model.width=20 --jobs 1  # Hydra overrides pass through
    python pipelines/study_depth.py --sweep RUN_ID         # only the section, of a past sweep

Writes reports/<sweep id>/depth_study.html (self-contained) and .md (+ PNGs) and logs them to
the sweep's parent run (artifacts: study/). Runs that diverge or fail the gate do not stop the
sweep; their statistics at initialisation are recomputed from their config.
"""

import sys

from initreg import studies, tracking


def main(argv: list[str] | None = None) -> int:
    args = studies.study_parser(__doc__.splitlines()[0]).parse_args(argv)
    client = tracking.client(tracking.resolve_uri(None))
    status = 0
    parent_id = args.sweep
    if parent_id is None:
        status, parent = studies.launch("depth_study", args.overrides, args.multirun, args.jobs)
        if parent is None:
            print("error: the sweep wrote no parent run; nothing to report", file=sys.stderr)
            return status or 1
        parent_id = parent["run_id"]
        client = tracking.client(parent["tracking_uri"])
    runs = studies.sweep_children(client, parent_id)
    folder = args.out / parent_id
    section = studies.depth_section(runs, client, folder=folder)
    html_path, md_path = studies.write_section(client, parent_id, folder, "depth_study",
                                               "Depth study: init x depth", section)
    print(section[1].split("\n\n")[2])  # the per-init verdicts
    print(f"wrote {html_path}\nwrote {md_path}\nlogged both to run {parent_id} (study/)")
    return status


if __name__ == "__main__":
    sys.exit(main())
