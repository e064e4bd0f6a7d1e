"""MLflow stores for tests: an empty store, created and migrated once per test session, copied
into place (a few milliseconds) instead of created per test (a second or more each)."""

import atexit
import shutil
import tempfile
from pathlib import Path

from initreg import tracking

_template: list[Path] = []  # the session's migrated empty store, made on first use


def new_store(db: Path):
    """A client on a new, empty, migrated SQLite store at ``db`` (a copy of the template)."""
    if not _template:
        folder = Path(tempfile.mkdtemp(prefix="initreg-store-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)  # ~1 MB, in RAM on tmpfs
        tracking.client(tracking.resolve_uri(f"sqlite:///{folder}/mlflow.db"))
        _template.append(folder / "mlflow.db")
    db.parent.mkdir(parents=True, exist_ok=True)
    if not db.exists():
        shutil.copyfile(_template[0], db)
    return tracking.client(tracking.resolve_uri(f"sqlite:///{db}"))
