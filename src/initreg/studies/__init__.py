"""The course's studies, read from MLflow: depth x init, learning curves, fraud detection.

    html, md = depth_section(runs, client)            # a depth_study sweep's children
    html, md = curve_section(runs, client)            # a learning_curve sweep's children
    html, md = fraud_section(runs, client, dataset)   # a sweep on the fraud data

Each section is a :class:`initreg.pages.Section` (it unpacks as ``html, markdown``); its HTML
embeds its PNGs as base64 data URIs and its Markdown links the PNGs written beside it. Every
verdict is derived from the numbers with the thresholds stated in its module, never written by
hand. The commands that run a study's sweep are ``pipelines/study_depth.py`` and
``pipelines/study_curve.py``.
"""

from initreg.studies.curve import (
    CurvePoint,
    best_regularization,
    curve_points,
    curve_section,
    curve_verdict,
)
from initreg.studies.depth import (
    EXPLODED_ABOVE,
    RECOVERED_WITHIN,
    VANISHED_BELOW,
    DepthRow,
    depth_rows,
    depth_section,
    depth_verdict,
    finite_width_sentence,
    he_ratio_spread,
    init_sentence,
    not_recomputed_sentence,
    recovery,
)
from initreg.studies.devset import DevSet, dev_set
from initreg.studies.fraud import baseline_accuracy, fraud_section

__all__ = [
    "EXPLODED_ABOVE",
    "RECOVERED_WITHIN",
    "VANISHED_BELOW",
    "CurvePoint",
    "DepthRow",
    "DevSet",
    "baseline_accuracy",
    "best_regularization",
    "curve_points",
    "curve_section",
    "curve_verdict",
    "depth_rows",
    "depth_section",
    "depth_verdict",
    "dev_set",
    "finite_width_sentence",
    "fraud_section",
    "he_ratio_spread",
    "init_sentence",
    "not_recomputed_sentence",
    "recovery",
]
