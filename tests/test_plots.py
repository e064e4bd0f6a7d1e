"""Tests for initreg.plots: valid PNGs, a boundary that follows the predictor, log-scale choice."""

from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import matplotlib.image as mpimg
import numpy as np
import pytest

from initreg import plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EXPECTED_SHAPE = (round(plots.FIGSIZE[1] * plots.DPI), round(plots.FIGSIZE[0] * plots.DPI), 4)
TWO_PANELS = (EXPECTED_SHAPE[0], round(EXPECTED_SHAPE[1] * 1.7), EXPECTED_SHAPE[2])


def _read_png(path) -> np.ndarray:
    """The PNG at path as an RGBA float array, after checking its signature."""
    data = path.read_bytes()
    assert len(data) > 1000
    assert data[:8] == PNG_SIGNATURE
    return mpimg.imread(path)


def _hex_rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)])


@pytest.fixture
def points() -> tuple[np.ndarray, np.ndarray]:
    """Four points (2, 4) in the corners of [-1, 1]^2 and their labels (1, 4)."""
    X = np.array([[-1.0, -1.0, 1.0, 1.0], [-1.0, 1.0, -1.0, 1.0]])
    Y = np.array([[0.0, 0.0, 1.0, 1.0]])
    return X, Y


def test_cost_curve_writes_png(tmp_path):
    its = np.arange(0, 1000, 100)
    out = plots.cost_curve(0.7 * np.exp(-its / 300), its, tmp_path / "cost.png", title="t")
    assert out == tmp_path / "cost.png"
    assert _read_png(out).shape == TWO_PANELS  # linear and log-scaled iterations


def test_cost_curve_creates_parent_dirs(tmp_path):
    out = plots.cost_curve([0.7, 0.5], [0, 1], tmp_path / "a" / "b" / "cost.png")
    assert _read_png(out).shape == TWO_PANELS


def test_cost_curves_writes_png(tmp_path):
    its = [0, 1000, 2000]
    curves = {"zeros": (its, [0.69, 0.69, 0.69]), "he": (its, [0.7, 0.2, 0.05])}
    out = plots.cost_curves(curves, str(tmp_path / "curves.png"), title="best run per init")
    assert _read_png(out).shape == EXPECTED_SHAPE


def test_decision_boundary_writes_png(tmp_path, points):
    X, Y = points
    out = plots.decision_boundary(
        lambda G: np.zeros((1, G.shape[1])), X, Y, tmp_path / "db.png", resolution=50
    )
    assert _read_png(out).shape == EXPECTED_SHAPE


@pytest.mark.parametrize(
    "predict",
    [
        lambda G: (G[0:1] > 0).astype(float),  # labels
        lambda G: 1 / (1 + np.exp(-10 * G[0:1])),  # probabilities
    ],
    ids=["labels", "probabilities"],
)
def test_decision_boundary_follows_predictor(tmp_path, points, predict):
    X, Y = points
    img = _read_png(plots.decision_boundary(predict, X, Y, tmp_path / "db.png"))[..., :3]
    red, blue = (_hex_rgb(c) for c in plots.REGION_COLORS)
    is_red = np.linalg.norm(img - red, axis=-1) < 0.05
    is_blue = np.linalg.norm(img - blue, axis=-1) < 0.05
    # The plotted area is where the region colours are; compare its left and right thirds.
    cols = np.flatnonzero((is_red | is_blue).any(axis=0))
    left, right = cols.min(), cols.max()
    third = (right - left) // 3
    left_part = slice(left, left + third)
    right_part = slice(right - third, right + 1)
    assert is_red[:, left_part].sum() > 10 * is_blue[:, left_part].sum()
    assert is_blue[:, right_part].sum() > 10 * is_red[:, right_part].sum()


def test_decision_boundary_calls_predict_once_with_2_by_k_grid(tmp_path, points):
    X, Y = points
    shapes = []

    def predict(G):
        shapes.append(G.shape)
        return np.ones((1, G.shape[1]))

    plots.decision_boundary(predict, X, Y, tmp_path / "db.png", resolution=40)
    assert shapes == [(2, 40 * 40)]


def test_decision_boundary_rejects_3d_features(tmp_path):
    X = np.zeros((3, 5))
    Y = np.zeros((1, 5))
    with pytest.raises(ValueError, match=r"\(3, 5\)"):
        plots.decision_boundary(lambda G: G[0:1], X, Y, tmp_path / "db.png")
    assert not (tmp_path / "db.png").exists()


def test_decision_boundary_rejects_wrong_predict_shape(tmp_path, points):
    X, Y = points
    with pytest.raises(ValueError, match="predict returned shape"):
        plots.decision_boundary(lambda G: G, X, Y, tmp_path / "db.png", resolution=10)


@pytest.mark.parametrize(
    ("costs", "expected"),
    [
        ([0.7, 0.1, 1e-3], True),  # 2.8 decades
        ([0.7, 0.3, 0.1], False),  # under one decade
        ([100.0, 1.0], False),  # exactly two decades is not "more than"
        ([100.0, 0.99], True),
        ([0.7, 0.0, 1e-5], False),  # a zero cost cannot go on a log axis
        ([0.7, -1.0, 1e-5], False),
        ([0.7, np.nan, np.inf, 1e-4], True),  # non-finite points are gaps, not range
        ([], False),
    ],
)
def test_use_log_scale(costs, expected):
    assert plots.curves._use_log_scale(costs) is expected


def test_cost_figure_applies_log_scale():
    its = [0, 1, 2]
    wide = plots.curves._cost_figure({"": (its, [1.0, 0.1, 1e-4])})
    narrow = plots.curves._cost_figure({"": (its, [1.0, 0.5, 0.2])})
    assert wide.axes[0].get_yscale() == "log"
    assert narrow.axes[0].get_yscale() == "linear"


def test_cost_figure_log_scale_uses_all_curves():
    its = [0, 1]
    fig = plots.curves._cost_figure({"a": (its, [1.0, 0.5]), "b": (its, [0.5, 1e-3])})
    assert fig.axes[0].get_yscale() == "log"
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["a", "b"]


def test_cost_curve_rejects_mismatched_lengths(tmp_path):
    with pytest.raises(ValueError, match="2 iterations but 3 costs"):
        plots.cost_curve([0.7, 0.5, 0.3], [0, 1], tmp_path / "c.png")


def test_cost_curves_rejects_empty_mapping(tmp_path):
    with pytest.raises(ValueError, match="no cost curves"):
        plots.cost_curves({}, tmp_path / "c.png")


def test_plots_does_not_import_adapters_or_pyplot():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(plots))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(n.split(".")[0] in {"hydra", "mlflow"} for n in names)
    assert "matplotlib.pyplot" not in names


# --- the bias/variance scatter of the sweep report ---------------------------------------------

def _label_boxes(fig):
    """``(text, text box, its axes' box)`` of every point label, in display pixels."""
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    return [(t.get_text(), t.get_window_extent(renderer), ax.get_window_extent(renderer))
            for ax in fig.axes for t in ax.texts]


def test_coinciding_runs_are_one_point_labelled_with_their_number_inside_the_axes():
    # 16 runs on one spot (identical runs), two others nearly on it, one elsewhere
    same = [(f"run {i} with a long label", 0.40, 0.48) for i in range(16)]
    points = [*same, ("almost", 0.4001, 0.4801), ("other", 0.05, 0.07), ("third", 0.10, 0.11)]
    fig = plots.bias_variance._bias_variance_figure(points, 0.02, 0.02, title="t",
                                                    highlight="run 3 with a long label")
    boxes = _label_boxes(fig)
    texts = sorted(text for text, _, _ in boxes)
    assert "17 runs, with the selected" in texts and "other" in texts
    assert not any("run 0" in text for text in texts)  # no run's name under the group's
    for text, box, axes in boxes:
        assert "\n" not in text
        assert axes.x0 - 1 <= box.x0 and box.x1 <= axes.x1 + 1, text
        assert axes.y0 - 1 <= box.y0 and box.y1 <= axes.y1 + 1, text


def test_point_groups_join_runs_on_one_spot_only():
    points = [("a", 0.1, 0.1), ("b", 0.1, 0.1), ("c", 0.12, 0.1), ("out", 0.9, 0.9)]
    assert plots.point_groups(points, 0.0, 0.5) == [(0.1, 0.1, ["a", "b"]),
                                                    (0.12, 0.1, ["c"])]
    assert plots.group_label(["a", "b"], None) == "2 runs"
    assert plots.group_label(["a"], "a") == "a"


def test_bias_variance_scatter_writes_png(tmp_path):
    out = plots.bias_variance_scatter([("a", 0.1, 0.2), ("b", 0.1, 0.2)], tmp_path / "bv.png",
                                      bayes_error=0.05, highlight="a")
    assert _read_png(out).shape[2] == 4


def test_the_run_cost_curve_has_a_log_scaled_iteration_panel():
    fig = plots.curves._run_cost_figure([0.69, 0.3, 0.1, 0.09], [0, 100, 1000, 29999])
    assert [ax.get_xscale() for ax in fig.axes] == ["linear", "symlog"]


# --- a run's figures, drawn on figures kept per thread (plots.canvas.kept_figure) --------------

LONG_TITLE = ("football: init=he_with_a_long_name lambd=0.7 keep_prob=0.86 "
              "layers=[2,20,20,20,20,20,20,20,20,20,20,20,20,20,20,20,20,20,20,20,1] seed=12345")


def _layers(n: int, seed: int, zero: bool = False) -> dict[str, float]:
    """Per-layer statistics of an n-layer net over 15 decades; ``zero``: one 0 and one NaN."""
    rng = np.random.default_rng(seed)
    values = 10.0 ** rng.uniform(-12, 3, (2, n))
    stats = {f"{k}_l{layer}": float(values[i, layer - 1])
             for i, k in enumerate(("act_std", "grad_norm")) for layer in range(1, n + 1)}
    if zero:
        stats["grad_norm_l2"], stats["act_std_l3"] = 0.0, float("nan")
    return stats


def _diverged_costs() -> tuple[np.ndarray, np.ndarray]:
    its = np.arange(0, 30000, 100)
    costs = 0.7 * np.exp(-its / 3000) + 1e-4
    costs[50:80], costs[200:] = np.nan, np.inf  # a gap, then a divergence
    return costs, its


X_WIDE = np.random.default_rng(0).normal(size=(2, 200)) * [[3000.0], [0.01]]


# name: (plot function, its positional arguments before the path, keyword arguments)
RUN_FIGURES = {
    "cost, usual": (plots.cost_curve, ([0.69, 0.4, 0.3, 0.25], [0, 1000, 2000, 2999]),
                    {"title": "football: init=he lambd=0 keep_prob=1"}),
    "cost, two points": (plots.cost_curve, ([0.69, 0.5], [0, 1]), {}),
    "cost, huge": (plots.cost_curve, ([1e6, 3e5, 2e5, 1.5e5], [0, 1000, 2000, 3000]),
                   {"title": "t"}),
    "cost, diverged, log y": (plots.cost_curve, _diverged_costs(), {"title": LONG_TITLE}),
    "cost, nothing finite": (plots.cost_curve, ([np.nan, np.inf], [0, 10]), {}),
    "layers, usual": (plots.layer_stats, ((0, _layers(3, 1)), (2999, _layers(3, 2))),
                      {"title": "football: init=he"}),
    "layers, 20 deep": (plots.layer_stats, ((0, _layers(20, 3, True)), (29999, _layers(20, 4))),
                        {"title": LONG_TITLE}),
    "layers, all zero": (plots.layer_stats, ((0, dict.fromkeys(_layers(2, 5), 0.0)),
                                             (10, _layers(2, 6))), {}),
    "layers, zeros init": (plots.layer_stats, ((0, dict.fromkeys(_layers(3, 7), 0.0)),
                                               (29999, dict.fromkeys(_layers(3, 8), 0.0))),
                           {"title": "football: init=zeros"}),
    "boundary, usual": (plots.decision_boundary,
                        (lambda G: (G[0:1] > 0.2).astype(float), X_WIDE / 3000,
                         (X_WIDE[1:2] > 0).astype(float)), {"title": "football", "resolution": 60}),
    "boundary, wide data": (plots.decision_boundary,
                            (lambda G: (G[1:2] > 0).astype(float), X_WIDE,
                             (X_WIDE[0:1] > 0).astype(float)),
                            {"title": LONG_TITLE, "resolution": 60}),
}


def _draw(name: str, path) -> bytes:
    fn, args, kwargs = RUN_FIGURES[name]
    return fn(*args, path, **kwargs).read_bytes()


def _in_new_thread(name: str, path) -> bytes:
    """The PNG of figure ``name`` drawn on the kept figure of a new thread: one built anew."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_draw, name, path).result()


@pytest.mark.parametrize("name", RUN_FIGURES)
def test_a_run_figure_does_not_depend_on_the_figures_drawn_before_it(tmp_path, name):
    fresh = _in_new_thread(name, tmp_path / "fresh.png")
    kind = RUN_FIGURES[name][0]
    for other in RUN_FIGURES:  # every other case of the same kind on this thread's figure
        if other != name and RUN_FIGURES[other][0] is kind:
            _draw(other, tmp_path / "other.png")
    assert _draw(name, tmp_path / "again.png") == fresh


def _tight_boxes(fig):
    """The tight box of the figure (every artist drawn, in inches), of each axes and of the
    suptitle (in pixels)."""
    renderer = fig.canvas.get_renderer()
    axes = [ax.get_tightbbox(renderer) for ax in sorted(fig.axes, key=lambda a: a.bbox.x0)]
    sup = [t.get_window_extent(renderer) for t in fig.texts if t.get_text()]
    return fig.get_tightbbox(renderer), axes, sup


@pytest.mark.parametrize("name", RUN_FIGURES)
def test_a_run_figure_has_no_clipped_or_overlapping_text(tmp_path, name):
    fn, args, kwargs = RUN_FIGURES[name]
    fn(*args, tmp_path / "f.png", **kwargs)
    template = {plots.cost_curve: plots.curves._run_cost_template,
                plots.layer_stats: plots.studies._layer_template,
                plots.decision_boundary: plots.boundary._boundary_template}[fn]
    kept = plots.canvas.kept_figure(template)  # the figure just written, as it was drawn
    whole, axes, sup = _tight_boxes(kept)
    w, h = kept.get_size_inches()
    assert 0 <= whole.x0 and whole.x1 <= w and 0 <= whole.y0 and whole.y1 <= h, (whole, w, h)
    for left, right in pairwise(axes):
        assert left.x1 < right.x0, (left, right)
    for title in sup:
        assert all(box.y1 < title.y0 for box in axes), (title, axes)


def test_margins_stop_widening_for_a_text_too_large_for_the_figure():
    fig = plots.canvas.Figure(figsize=plots.FIGSIZE, dpi=plots.DPI)
    plots.canvas.FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    right.set_ylabel("a label far too large to fit " * 3, fontsize=40, rotation=0)
    plots.canvas.fit_margins(fig, {"left": 0.1, "right": 0.95, "bottom": 0.1, "top": 0.9})
    for ax in (left, right):
        box = ax.get_position()
        assert box.width > 0.1 and box.height > 0.25, box  # panels kept, text left as is


@pytest.mark.parametrize("name", [n for n in RUN_FIGURES if n.startswith("layers")])
def test_the_layer_axis_shows_every_layer_at_whole_numbers(tmp_path, name):
    from initreg.plots.studies import _layer_figure

    _, (start, end), kwargs = RUN_FIGURES[name]
    _draw(name, tmp_path / "drawn.png")
    fig = _layer_figure(start, end, kwargs.get("title", ""))
    layers = sorted({int(k.rsplit("_l", 1)[1]) for k in start[1]})
    for ax in fig.axes:
        lo, hi = ax.get_xlim()
        assert lo < layers[0] and layers[-1] < hi  # every layer in view, data or none
        ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks


# --- log-axis labels in plain Unicode (plots.canvas.plain_log_labels) ---------------------------

@pytest.mark.parametrize(("mathtext", "plain"), [
    (r"$\mathdefault{10^{3}}$", "10\u00b3"),
    (r"$\mathdefault{10^{-12}}$", "10\u207b\u00b9\u00b2"),
    (r"$\mathdefault{2\times10^{-3}}$", "2\u00d710\u207b\u00b3"),
    (r"$\mathdefault{-10^{1}}$", "\u221210\u00b9"),
    (r"$\mathdefault{0}$", "0"),
    (r"$\mathdefault{10^{0.50}}$", r"$\mathdefault{10^{0.50}}$"),  # not a power we write
    ("5", "5"),
])
def test_log_tick_labels_are_written_in_unicode(mathtext, plain):
    assert plots.canvas.plain_label(mathtext) == plain


def test_a_runs_log_axes_label_their_ticks_as_matplotlib_would_in_unicode():
    fig = plots.curves._run_cost_figure(*_diverged_costs())  # log y, and a symlog x panel
    fig.canvas.draw()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            shown = [t.get_text() for t in axis.get_ticklabels() if t.get_text()]
            assert shown and not any("$" in t for t in shown), shown
    assert "10\u207b\u00b2" in [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "10\u00b3" in [t.get_text() for t in fig.axes[1].get_xticklabels()]


NO_MATHTEXT = """
import sys
sys.path.insert(0, sys.argv[1])
import test_plots as t
from matplotlib.mathtext import MathTextParser
for name in t.RUN_FIGURES:
    t._draw(name, sys.argv[2])
print(MathTextParser._parser is None)
"""


def test_a_runs_figures_never_load_mathtexts_parser(tmp_path):
    """Every job draws them: mathtext's parser and its fonts would add about 1 MiB to its
    memory (benchmarks/job_memory.py)."""
    import subprocess
    import sys
    from pathlib import Path

    out = subprocess.run([sys.executable, "-c", NO_MATHTEXT, str(Path(__file__).parent),
                          str(tmp_path / "f.png")], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True"], out.stderr


def test_the_png_writer_keeps_every_pixel_and_what_matplotlib_writes_beside_them(tmp_path):
    import io

    from PIL import Image

    from initreg.plots.png import encode_png, write_png

    rgba = np.random.default_rng(0).integers(0, 256, (37, 53, 4), dtype=np.uint8)
    write_png(tmp_path / "mine.png", rgba, 110)
    mpimg.imsave(tmp_path / "theirs.png", rgba, format="png", dpi=110)
    mine, theirs = Image.open(tmp_path / "mine.png"), Image.open(tmp_path / "theirs.png")
    assert mine.mode == "RGBA" and mine.size == (53, 37)
    assert (np.asarray(mine) == rgba).all()
    assert mine.info == theirs.info  # the resolution and the Software text
    flat = np.full((440, 660, 4), 255, dtype=np.uint8)  # a figure's blank page: compressed
    assert len(encode_png(flat, 110)) < flat.nbytes / 100
    Image.open(io.BytesIO(encode_png(flat, 110))).verify()  # every chunk's CRC


@pytest.mark.parametrize("height", [1, 63, 64, 65, 129])  # around png.ROWS, compressed at once
def test_the_png_writer_keeps_every_row(height):
    import io

    from PIL import Image

    from initreg.plots.png import ROWS, encode_png

    assert ROWS == 64
    rgba = np.random.default_rng(height).integers(0, 256, (height, 7, 4), dtype=np.uint8)
    assert (np.asarray(Image.open(io.BytesIO(encode_png(rgba, 72)))) == rgba).all()


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 4), float),
                                 np.zeros((4, 16), np.uint8), np.zeros((0, 4, 4), np.uint8),
                                 np.zeros((4, 0, 4), np.uint8)])  # PNG has no empty image
def test_the_png_writer_refuses_what_is_not_rgba_bytes(bad):
    from initreg.plots.png import encode_png

    with pytest.raises(ValueError, match="uint8"):
        encode_png(bad, 110)


def test_a_run_figure_file_is_the_image_drawn(tmp_path):
    from PIL import Image

    out = plots.cost_curve([0.7, 0.5, 0.3], [0, 1000, 2000], tmp_path / "c.png", title="t")
    kept = plots.canvas.kept_figure(plots.curves._run_cost_template)
    assert (np.asarray(Image.open(out)) == np.asarray(kept.canvas.buffer_rgba())).all()


def test_the_png_writers_file_is_read_to_the_letter_of_the_format():
    """Each chunk's CRC, its order, and an IDAT that inflates to exactly the image's rows, each
    after its filter byte 0: decoded here, not by a reader that may forgive."""
    import struct
    import zlib

    from initreg.plots.png import SIGNATURE, encode_png

    rgba = np.random.default_rng(1).integers(0, 256, (130, 9, 4), dtype=np.uint8)[::-1, ::2]
    png = encode_png(rgba, 110)  # a flipped, strided view, as a buffer might be
    assert png.startswith(SIGNATURE)
    at, kinds, idat = len(SIGNATURE), [], b""
    while at < len(png):
        (size,) = struct.unpack(">I", png[at:at + 4])
        kind, data = png[at + 4:at + 8], png[at + 8:at + 8 + size]
        assert struct.unpack(">I", png[at + 8 + size:at + 12 + size])[0] == zlib.crc32(kind + data)
        kinds.append(kind)
        idat += data if kind == b"IDAT" else b""
        at += 12 + size
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and kinds.count(b"IDAT") == 1
    assert kinds.index(b"pHYs") < kinds.index(b"IDAT")
    inflate = zlib.decompressobj()
    rows = np.frombuffer(inflate.decompress(idat), np.uint8).reshape(130, 1 + 5 * 4)
    assert inflate.eof and not inflate.unused_data
    assert (rows[:, 0] == 0).all() and (rows[:, 1:].reshape(rgba.shape) == rgba).all()
