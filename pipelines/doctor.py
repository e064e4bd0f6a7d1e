"""`make doctor`: end runs left RUNNING by a process that died (SIGKILL, power loss) as KILLED.

    python pipelines/doctor.py [--uri URI]      # default: $MLFLOW_TRACKING_URI or mlruns/
"""

import argparse

from initreg import doctor, tracking


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", default=None, help="tracking URI (default: the project store)")
    args = parser.parse_args(argv)
    uri = tracking.resolve_uri(args.uri)
    killed, unknown = doctor.heal(tracking.client(uri))
    for line in doctor.report(killed, unknown) or ["doctor: no orphaned RUNNING runs"]:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
