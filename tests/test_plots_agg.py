"""The caching Agg renderer (initreg.plots.agg) draws the pixels matplotlib's own draws."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from initreg import plots
from initreg.plots import agg
from initreg.plots.canvas import kept_figure
from tests.test_plots import RUN_FIGURES

# texts of every kind a renderer meets: (text, rotation, size, antialiased)
TEXTS = [(f"cost 0.{i}93 \u2192", angle, size, True)
         for i, (angle, size) in enumerate([(0, 7), (30, 9), (90, 11), (-45, 13), (180, 8)])]
TEXTS += [("same text", 0, 8, True), ("same text", 0, 12, True),  # one string, two sizes
          ("turned", 0, 10, True), ("turned", 90, 10, True),  # one place, two rotations
          ("no antialiasing 123", 0, 10, False), ("two\nlines", 0, 10, True),
          ("x\u2081 \u2212 2\u00d710\u207b\u00b3", 0, 10, True),  # sub/superscripts, minus
          (r"$\alpha^2 + 10^{-3}$", 0, 10, True)]  # mathtext: drawn by RendererAgg itself


def _place(i: int, shift: float) -> tuple[float, float]:
    """Where :func:`_texts_figure` puts text ``i`` of ``TEXTS`` (both "turned" at one place)."""
    i -= TEXTS[i][0] == "turned" and TEXTS[i][1] == 90
    return 0.05 + 0.07 * i + shift, 0.1 + 0.065 * i + shift


def _texts_figure() -> Figure:
    fig = Figure(figsize=(4.0, 3.0), dpi=110)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], label="a line")
    ax.set_title("a title, 0.123456789")
    ax.legend()
    for i, (s, angle, size, antialiased) in enumerate(TEXTS):
        ax.text(*_place(i, 0.0), s, rotation=angle, fontsize=size, antialiased=antialiased,
                rotation_mode="anchor")  # rotated about the first glyph's origin
    return fig


def _shift(fig: Figure, shift: float) -> Figure:
    """Move the texts of :func:`_texts_figure` by ``shift`` (data units; 0.001 is a tenth of
    a pixel) from where it put them."""
    for i, text in enumerate(fig.axes[0].texts):
        text.set_position(_place(i, shift))
    return fig


def _plain_pixels(fig: Figure) -> bytes:
    """``fig`` drawn by matplotlib's own Agg canvas."""
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    return bytes(fig.canvas.buffer_rgba())


def test_the_installed_matplotlib_has_the_glyph_api_the_cache_uses():
    assert agg.GLYPH_API  # otherwise the tests below compare RendererAgg with itself


def test_texts_are_drawn_as_matplotlib_draws_them_from_caches_that_are_used():
    fig = agg.attach_canvas(_texts_figure())
    renderer = fig.canvas.get_renderer()
    for shift in (0.0, 0.0013, 0.0, 0.0071, 0.05):  # repeats hit the caches, shifts may not
        _shift(fig, shift).canvas.draw()
        assert fig.canvas.get_renderer() is renderer
        assert bytes(fig.canvas.buffer_rgba()) == _plain_pixels(_shift(_texts_figure(), shift))
    sizes = (len(renderer.heights), len(renderer.layouts), len(renderer.glyphs))
    assert min(sizes) > 0
    fig.canvas.draw()
    assert (len(renderer.heights), len(renderer.layouts), len(renderer.glyphs)) == sizes
    # all from the caches


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # STIX has no x₁
def test_a_font_the_rc_chooses_between_draws_is_measured_and_drawn_anew():
    cached, plain = agg.attach_canvas(_texts_figure()), FigureCanvasAgg(_texts_figure()).figure
    for fig in (cached, plain):  # the default sans-serif (DejaVu Sans), then another font
        fig.canvas.draw()
    with rc_context({"font.sans-serif": ["STIXGeneral"]}):
        for fig in (cached, plain):
            fig.canvas.draw()
    assert bytes(cached.canvas.buffer_rgba()) == bytes(plain.canvas.buffer_rgba())


@pytest.mark.parametrize("dpi", [200, 77.7])
def test_a_figure_saved_at_another_resolution_is_drawn_as_matplotlib_draws_it(tmp_path, dpi):
    fig = agg.attach_canvas(_texts_figure())
    fig.canvas.draw()  # caches filled at 110 dpi
    fig.savefig(tmp_path / "cached.png", dpi=dpi)
    plain = _texts_figure()
    FigureCanvasAgg(plain)
    plain.savefig(tmp_path / "plain.png", dpi=dpi)
    assert (tmp_path / "cached.png").read_bytes() == (tmp_path / "plain.png").read_bytes()


def test_a_full_cache_starts_over_and_draws_the_same(monkeypatch):
    monkeypatch.setattr(agg, "MAX_GLYPHS", 5)
    monkeypatch.setattr(agg, "MAX_LAYOUTS", 3)
    fig = agg.attach_canvas(_texts_figure())
    for _ in range(2):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        assert 0 < len(renderer.glyphs) <= 5 and 0 < len(renderer.layouts) <= 3
        assert bytes(fig.canvas.buffer_rgba()) == _plain_pixels(_texts_figure())


TEMPLATES = {plots.cost_curve: plots.curves._run_cost_template,
             plots.decision_boundary: plots.boundary._boundary_template,
             plots.layer_stats: plots.studies._layer_template}


@pytest.mark.parametrize("name", RUN_FIGURES)
def test_a_run_figure_is_drawn_as_matplotlib_draws_it(tmp_path, name):
    """Drawn after the other cases of its kind on the same kept figure (in a new thread: its
    own kept figures), as a sweep worker draws a job's, a run figure's pixels are those
    RendererAgg draws of the same figure."""
    fn, args, kwargs = RUN_FIGURES[name]

    def draw() -> tuple[bytes, bytes]:
        for other, (other_fn, other_args, other_kwargs) in RUN_FIGURES.items():
            if other != name and other_fn is fn:
                other_fn(*other_args, tmp_path / "other.png", **other_kwargs)
        fn(*args, tmp_path / "f.png", **kwargs)
        fig = kept_figure(TEMPLATES[fn])
        assert isinstance(fig.canvas, agg.CachingCanvasAgg) and fig.canvas.renderer.glyphs
        return bytes(fig.canvas.buffer_rgba()), _plain_pixels(fig)

    with ThreadPoolExecutor(1) as pool:
        cached, plain = pool.submit(draw).result()
    assert cached == plain


def test_without_the_glyph_api_it_draws_as_renderer_agg():
    """The path an older or newer matplotlib without the private glyph API takes (``cached``
    False): RendererAgg's own drawing and font metrics."""
    fig = agg.attach_canvas(_texts_figure())
    renderer = fig.canvas.get_renderer()
    renderer.cached = False
    fig.canvas.draw()
    assert bytes(fig.canvas.buffer_rgba()) == _plain_pixels(_texts_figure())
    assert not (renderer.heights or renderer.layouts or renderer.glyphs)
