"""What the study commands (``study_depth.py``, ``study_curve.py``) share: the command line, the
sweep in a subprocess, and writing the section as a page and a Markdown file.

Not a command itself: the study commands import it from their own folder.
"""

import argparse
import html
import os
import subprocess
import sys
import time
from pathlib import Path

from initreg import pages, tracking
from initreg.lifecycle import read_parent

ROOT = Path(__file__).resolve().parents[1]


def study_parser(description: str) -> argparse.ArgumentParser:
    """The command line shared by the study commands."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("overrides", nargs="*", help="Hydra overrides for the sweep")
    ap.add_argument("--sweep", default=None, help="report on this parent run; no new sweep")
    ap.add_argument("--jobs", type=int, default=-1, help="parallel jobs (-1: every core)")
    ap.add_argument("--out", type=Path, default=ROOT / "reports", help="reports folder")
    ap.add_argument("--multirun", type=Path, default=ROOT / "multirun",
                    help="where the sweep folder is made")
    return ap


def run_sweep(experiment: str, overrides: list[str], sweep_dir: Path, jobs: int) -> int:
    """``pipelines/train.py -m experiment=...`` in a subprocess; its exit status.

    BLAS threads are capped at 1 unless set: the matrices are small, and with parallel jobs
    extra threads only contend (a depth-20 step measured 30x slower with OpenBLAS threads).
    """
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    cmd = [sys.executable, str(ROOT / "pipelines" / "train.py"), "-m",
           f"experiment={experiment}", f"hydra.launcher.n_jobs={jobs}",
           f"hydra.sweep.dir={sweep_dir}", *overrides]
    print("$ " + " ".join(cmd[1:]), flush=True)
    return subprocess.run(cmd, env=env, check=False).returncode


def sweep_to_report(args, experiment: str, overrides: list[str]):
    """``(exit status, client, parent run id)``: ``--sweep``'s, else a new sweep's (parent id
    None when the sweep wrote no parent run)."""
    client = tracking.client(tracking.resolve_uri(None))
    if args.sweep is not None:
        return 0, client, args.sweep
    sweep_dir = args.multirun / experiment / time.strftime("%Y-%m-%d_%H-%M-%S")
    status = run_sweep(experiment, overrides, sweep_dir, args.jobs)
    parent = read_parent(sweep_dir)
    if parent is None:
        print("error: the sweep wrote no parent run; nothing to report", file=sys.stderr)
        return status or 1, client, None
    return status, tracking.client(parent["tracking_uri"]), parent["run_id"]


def write_section(client, parent_id: str, folder: Path, name: str, title: str,
                  section: pages.Section) -> tuple[Path, Path]:
    """``folder/<name>.html`` (a whole page) and ``.md``, logged to the parent run (``study/``);
    prints the section's verdicts and where it went."""
    folder.mkdir(parents=True, exist_ok=True)
    html_path, md_path = folder / f"{name}.html", folder / f"{name}.md"
    intro = f"Sweep parent run {pages.md_code(parent_id)}."
    html_path.write_text(pages.page(title, f"<p>Sweep parent run <code>{html.escape(parent_id)}"
                                           f"</code>.</p>\n{section.html}"), encoding="utf-8")
    md_path.write_text(f"# {pages.md_escape(title)}\n\n{intro}\n\n{section.markdown}",
                       encoding="utf-8")
    tracking.retry(client.log_artifacts, parent_id, str(folder), artifact_path="study")
    print("\n".join(f"- {line}" for line in section.lines))
    print(f"wrote {html_path}\nwrote {md_path}\nlogged both to run {parent_id} (study/)")
    return html_path, md_path

