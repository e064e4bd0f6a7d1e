"""initreg's joblib launcher (``hydra/launcher=initreg_joblib``, the default): a worker keeps
Hydra's plugin registry from one job to the next; Hydra's own joblib launcher builds it again."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from pipeline_utils import CONF, SUBPROCESS_PATH

# A Hydra app on initreg's config whose jobs only report what Hydra's plugin registry held when
# they started: the mark an earlier job of the same process left on it, if the registry is the
# same object.
APP = textwrap.dedent(f"""
    import json, os
    import hydra
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.plugins import Plugins

    @hydra.main(config_path={str(CONF)!r}, config_name="config", version_base="1.3")
    def main(cfg):
        registry = Plugins.instance()
        seen = getattr(registry, "marked_by", None)
        registry.marked_by = HydraConfig.get().job.num
        with open(f"job-{{HydraConfig.get().job.num}}.json", "w") as out:
            json.dump({{"pid": os.getpid(), "seen": seen}}, out)

    main()
""")


@pytest.mark.parametrize("launcher", ["initreg_joblib", "joblib"])
def test_a_worker_keeps_hydras_plugin_registry_between_jobs(tmp_path, launcher):
    (tmp_path / "app.py").write_text(APP)
    proc = subprocess.run(
        [sys.executable, "app.py", "-m", "seed=1,2,3,4,5,6", f"hydra/launcher={launcher}",
         "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={tmp_path}/multirun",
         "hydra.job.chdir=true"],  # n_jobs=1 would run the jobs in this process
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": SUBPROCESS_PATH}, capture_output=True,
        text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    workers: dict[int, list] = {}
    for n in range(6):
        job = json.loads((tmp_path / "multirun" / str(n) / f"job-{n}.json").read_text())
        workers.setdefault(job["pid"], []).append((n, job["seen"]))
    assert max(len(jobs) for jobs in workers.values()) > 1  # a worker ran several jobs
    for jobs in workers.values():  # in the order the worker ran them
        (_, first), *later = jobs
        assert first is None  # a worker's first job: the registry its own scan built
        before = [n for n, _ in jobs[:-1]]
        assert [seen for _, seen in later] == \
            (before if launcher == "initreg_joblib" else [None] * len(later))


def test_the_default_launcher_is_initregs():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="config", return_hydra_config=True)
    assert cfg.hydra.launcher._target_ == \
        "hydra_plugins.initreg_joblib.initreg_joblib.InitregJoblibLauncher"
    assert cfg.hydra.launcher.n_jobs == -1  # Hydra's joblib launcher's config, as it was
