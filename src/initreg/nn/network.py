"""A fully connected binary classifier: [LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID."""

from collections.abc import Sequence

import numpy as np

from initreg.nn import backprop, blocked, compiled, layers
from initreg.nn.init import check_scheme, initialize
from initreg.nn.rng import Rng, weight_rng
from initreg.nn.threads import check_threads

PREDICT_COLUMNS = 8192  # examples per forward pass of predict_proba: bounds its temporaries


def _check_layer_dims(layer_dims) -> list[int]:
    dims = list(layer_dims) if layer_dims is not None else []
    if len(dims) < 2:
        raise ValueError(
            f"layer_dims={dims!r} needs at least an input and an output size, e.g. [2, 10, 1]"
        )
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 1:
            raise ValueError(f"layer_dims={dims!r}: every layer size must be an integer >= 1")
    if dims[-1] != 1:
        raise ValueError(f"layer_dims={dims!r}: a binary classifier needs an output size of 1")
    return [int(d) for d in dims]


def _check_keep_prob(keep_prob, n_hidden: int) -> tuple[float, ...]:
    is_list = isinstance(keep_prob, Sequence) and not isinstance(keep_prob, str)
    values = list(keep_prob) if is_list else [keep_prob] * n_hidden
    if len(values) != n_hidden:
        raise ValueError(
            f"keep_prob={list(keep_prob)!r} has {len(values)} values; "
            f"allowed: one float or one per hidden layer ({n_hidden})"
        )
    for kp in values:
        if isinstance(kp, bool) or not isinstance(kp, int | float) or not 0.0 < kp <= 1.0:
            raise ValueError(f"keep_prob={kp!r} is not allowed; allowed: a number in (0, 1]")
    return tuple(float(kp) for kp in values)


DTYPES = ("float64", "float32")
ENGINES = ("compiled", "numpy")


def check_engine(engine) -> str:
    """``engine`` when it is one of ``ENGINES``, else a one-line ValueError."""
    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r} is not allowed; allowed: {', '.join(ENGINES)}")
    return engine


def _check_dtype(dtype) -> np.dtype:
    name = getattr(dtype, "__name__", None) or str(dtype)
    if name not in DTYPES:
        raise ValueError(f"dtype={dtype!r} is not allowed; allowed: {', '.join(DTYPES)}")
    return np.dtype(name)


def _check_data(layer_dims, X: np.ndarray, Y: np.ndarray, dtype):
    """X and Y as ``dtype`` arrays, or a one-line ValueError naming the wrong shape."""
    X = np.asarray(X, dtype=dtype)
    Y = np.asarray(Y, dtype=dtype)
    if X.ndim != 2 or X.shape[0] != layer_dims[0]:
        raise ValueError(f"X has shape {X.shape}; allowed: ({layer_dims[0]}, m)")
    if Y.shape != (1, X.shape[1]):
        raise ValueError(f"Y has shape {Y.shape}; allowed: (1, {X.shape[1]}), like X's columns")
    return X, Y


def workspace(layer_dims, X: np.ndarray, Y: np.ndarray, dtype, threads: int | None = None):
    """The buffers ``backprop.gradients`` works in over ``(X, Y)``: a ``backprop.Workspace`` up to
    ``blocked.BLOCK_MIN_EXAMPLES`` examples, else a ``blocked.BlockedWorkspace`` whose blocks
    ``threads`` threads share. X: (n_x, m); Y: (1, m)."""
    X, Y = _check_data(layer_dims, X, Y, np.dtype(dtype))
    if X.shape[1] <= blocked.BLOCK_MIN_EXAMPLES:
        return backprop.Workspace(layer_dims, X, Y)
    return blocked.BlockedWorkspace(layer_dims, X, Y, threads)


class Network:
    """A fully connected binary classifier with L2 and inverted dropout; examples are columns.

    Parameters live in ``params`` (``W1, b1, ..., WL, bL``); ``W_l`` is
    ``(layer_dims[l], layer_dims[l-1])`` and ``b_l`` is ``(layer_dims[l], 1)``.

    Args:
        layer_dims: sizes ``[n_x, n_1, ..., 1]``.
        init: ``zeros``, ``random``, ``he``, ``lecun`` or ``xavier`` (see ``initreg.nn.init``).
        lambd: L2 strength (the course's ``lambd``), >= 0.
        keep_prob: dropout keep probability for hidden layers: one float or one per hidden layer.
        seed: seed of the weight generator.
        init_scale: the factor of the ``random`` scheme (the course's 10).
        convention: ``default`` or ``course`` (see ``initreg.nn.rng``).
        dtype: ``float64`` (default) or ``float32``: the parameters' and the arithmetic's type.
            float32 trains about twice as fast on large data with results close to float64's;
            the weights are drawn in float64 and rounded, and gradient checking refuses it.
        threads: threads sharing a large batch's column blocks (more than
            ``blocked.BLOCK_MIN_EXAMPLES`` examples; smaller batches run on the calling
            thread): None, the default, uses as many as the BLAS does (``OPENBLAS_NUM_THREADS``,
            else the cores); the BLAS is held to one thread meanwhile, for every count, 1
            included, so that the gradient is the same bits for any count up to 8 (see
            ``initreg.nn.threads``).
    """

    def __init__(
        self,
        layer_dims: Sequence[int],
        init: str = "he",
        lambd: float = 0.0,
        keep_prob: float | Sequence[float] = 1.0,
        seed: int = 0,
        init_scale: float = 10.0,
        convention: str = "default",
        dtype: str = "float64",
        threads: int | None = None,
    ):
        self.layer_dims = _check_layer_dims(layer_dims)
        check_scheme(init)
        if isinstance(lambd, bool) or not isinstance(lambd, int | float) or not lambd >= 0:
            raise ValueError(f"lambd={lambd!r} is not allowed; allowed: a number >= 0")
        self.init = init
        self.lambd = float(lambd)
        self.keep_prob = _check_keep_prob(keep_prob, len(self.layer_dims) - 2)
        self.seed = seed
        self.convention = convention
        self.dtype = _check_dtype(dtype)
        self.threads = check_threads(threads)
        params = initialize(self.layer_dims, init, weight_rng(convention, seed), init_scale)
        # views into one flat buffer, which the compiled engine works on in place
        flat = np.empty(compiled.size(self.layer_dims), self.dtype)
        self.params = compiled.views(flat, self.layer_dims)
        for k, v in params.items():
            self.params[k][...] = v

    @property
    def num_layers(self) -> int:
        """L, the number of weight layers."""
        return len(self.layer_dims) - 1

    def _weights_and_biases(self):
        L = self.num_layers
        p = self.params
        return ([None] + [p[f"W{l}"] for l in range(1, L + 1)],  # noqa: E741
                [None] + [p[f"b{l}"] for l in range(1, L + 1)])  # noqa: E741

    def _gradients(self, ws, rng: Rng | None, grads, need_cost: bool):
        weights, biases = self._weights_and_biases()
        return backprop.gradients(ws, weights, biases, self.lambd, self.keep_prob, rng, grads,
                                  need_cost=need_cost)

    def _compiled(self, engine: str, m: int) -> bool:
        """Whether ``engine`` runs compiled here: asked for, float64, at most
        ``blocked.BLOCK_MIN_EXAMPLES`` examples (larger batches run NumPy's blocked, threaded
        pass) and numba installed."""
        return (check_engine(engine) == "compiled" and self.dtype == np.float64
                and m <= blocked.BLOCK_MIN_EXAMPLES and compiled.available())

    def cost_and_grads(
        self, X: np.ndarray, Y: np.ndarray, rng: Rng | None = None, engine: str = "numpy"
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Cost (cross-entropy + L2) and its gradients, keyed like ``params``.

        X: (n_x, m); Y: (1, m) in {0, 1}. Dropout applies when some keep_prob < 1 and an ``rng``
        is given; the same masks are used in the backward pass. The gradients are new arrays.
        engine: ``numpy`` (the reference) or ``compiled`` (``initreg.nn.compiled``, where it
        applies; else NumPy): the arithmetic that ``step_fn(X, Y, engine)`` trains with.
        """
        if self._compiled(engine, np.shape(X)[1] if np.ndim(X) == 2 else 0):
            X, Y = _check_data(self.layer_dims, X, Y, self.dtype)
            return compiled.CompiledStep(self, X, Y)(rng, True)
        ws = workspace(self.layer_dims, X, Y, self.dtype, self.threads)
        grads = {k: np.empty_like(v) for k, v in self.params.items()}
        cost = self._gradients(ws, rng, grads, need_cost=True)
        return cost, grads

    def step_fn(self, X: np.ndarray, Y: np.ndarray, engine: str = "compiled"):
        """``step(rng, need_cost) -> (cost or None, grads)`` over buffers reused by every call.

        The step protocol of ``initreg.nn.train``: the numbers of ``cost_and_grads(X, Y, rng,
        engine)``, without a new array per call and without the cost when ``need_cost`` is
        False. engine: ``compiled`` (the default: ``initreg.nn.compiled.CompiledStep``, which
        can also take the update, where it applies; else NumPy) or ``numpy``. None when a
        subclass overrides ``cost_and_grads``, so that training goes through the override.
        """
        if type(self).cost_and_grads is not Network.cost_and_grads:
            return None
        if self._compiled(engine, np.shape(X)[1] if np.ndim(X) == 2 else 0):
            X, Y = _check_data(self.layer_dims, X, Y, self.dtype)
            return compiled.CompiledStep(self, X, Y)
        ws = workspace(self.layer_dims, X, Y, self.dtype, self.threads)
        grads = {k: np.empty_like(v) for k, v in self.params.items()}

        def step(rng: Rng | None, need_cost: bool):
            return self._gradients(ws, rng, grads, need_cost), grads

        return step

    def using(self, engine: str):
        """This model seen through ``engine``: ``params`` (the same dict) and
        ``cost_and_grads(X, Y, rng)`` computed by that engine, for a gradient check of the
        code that trains (``initreg.gradcheck.gate``). A subclass that overrides
        ``cost_and_grads`` trains through its override (``step_fn`` is None then), so the
        model itself is what is checked."""
        check_engine(engine)
        if type(self).cost_and_grads is not Network.cost_and_grads:
            return self
        return EngineView(self, engine)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """P(y = 1 | x) for each column of X (n_x, m), shape (1, m); dropout never applies here.

        More than ``PREDICT_COLUMNS`` examples go through in blocks of that many columns, so a
        decision boundary's grid (90,000 points) does not hold a (n_l, 90000) activation per
        layer at once; a column's numbers do not depend on the other columns.
        """
        weights, biases = self._weights_and_biases()
        X = np.asarray(X, dtype=self.dtype)
        m = X.shape[1] if X.ndim == 2 else 0
        if m <= PREDICT_COLUMNS:
            return layers.sigmoid(backprop.forward(weights, biases, X))
        proba = np.empty((1, m), self.dtype)
        for start in range(0, m, PREDICT_COLUMNS):
            block = slice(start, start + PREDICT_COLUMNS)
            proba[:, block] = layers.sigmoid(backprop.forward(weights, biases, X[:, block]))
        return proba

    def predict(self, X: np.ndarray) -> np.ndarray:
        """0/1 labels of shape (1, m), threshold 0.5."""
        return (self.predict_proba(X) > 0.5).astype(np.float64)


class EngineView:
    """A ``Network`` whose ``cost_and_grads`` runs one engine (``Network.using``)."""

    def __init__(self, model: Network, engine: str):
        self.model, self.engine = model, engine

    @property
    def params(self):
        return self.model.params

    def cost_and_grads(self, X, Y, rng=None):
        return self.model.cost_and_grads(X, Y, rng=rng, engine=self.engine)
