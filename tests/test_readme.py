"""The README's rules for the report and the studies are the code's: each number is read back."""

import re
from pathlib import Path

from initreg.metrics import mcnemar_min_difference
from initreg.studies import EXPLODED_ABOVE, RECOVERED_WITHIN, VANISHED_BELOW

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    """The text of the README's ``## title`` section on one line (line breaks as spaces)."""
    body = README.split(f"\n## {title}\n")[1].split("\n## ")[0]
    return " ".join(body.split())


def test_the_report_section_gives_the_mcnemar_minimum_the_report_uses():
    text = section("Comparing a sweep")
    assert (f"fewer than {mcnemar_min_difference(0.05)} (an exact McNemar test at 5% cannot "
            "separate two runs") in text
    assert "`dev_examples` and `test_examples`" in text


def test_the_depth_study_gives_the_thresholds_of_its_verdicts():
    text = section("Studies")
    assert f"below 1/{1 / VANISHED_BELOW:g} of layer 1's" in text
    assert f"**exploded** above {EXPLODED_ABOVE:g}×" in text
    assert f"within {RECOVERED_WITHIN:g} of the study's best dev accuracy" in text


def test_the_studies_quote_no_measured_dev_accuracy():
    # how an init trained is read from the runs by the generated sections, never written here:
    # "LeCun and Xavier still trained to 96-98 % dev" was false at depth 20 (Xavier: 0.620)
    depth = section("Studies").split("**`make study-depth`**")[1].split("**Fraud.**")[0]
    assert not re.search(r"\d\s*%\s*dev|dev (accuracy )?(of )?0\.\d", depth)
