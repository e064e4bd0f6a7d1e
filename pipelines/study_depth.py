"""`make study-depth`: the init x depth sweep on circles, then its report section.

    python pipelines/study_depth.py                        # the sweep, then the section
    python pipelines/study_depth.py model.width=20 --jobs 1  # Hydra overrides pass through
    python pipelines/study_depth.py --sweep RUN_ID         # only the section, of a past sweep

Writes reports/<sweep id>/depth_study.html (self-contained) and .md (+ PNGs) and logs them to
the sweep's parent run (artifacts: study/). Runs that diverge or fail the gate do not stop the
sweep; their statistics at initialisation are recomputed from their config.
"""

import sys

from studies_cli import study_parser, sweep_to_report, write_section

from initreg.runs import sweep_children
from initreg.studies import depth_section


def main(argv: list[str] | None = None) -> int:
    args = study_parser(__doc__.splitlines()[0]).parse_args(argv)
    status, client, parent_id = sweep_to_report(args, "depth_study", args.overrides)
    if parent_id is None:
        return status
    folder = args.out / parent_id
    section = depth_section(sweep_children(client, parent_id), client, folder=folder)
    write_section(client, parent_id, folder, "depth_study", "Depth study: init x depth", section)
    return status


if __name__ == "__main__":
    sys.exit(main())
