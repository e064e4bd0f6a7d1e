"""The Network's forward and backward pass over reusable buffers, for small batches.

Small batches (up to ``blocked.BLOCK_MIN_EXAMPLES`` examples: every course data set) run the
course's arithmetic operation for operation, so they give the bits of
``layers.reference_cost_and_grads``: ``Z = W A + b``, ``A = max(0, Z)``, inverted dropout
``A * D / keep_prob``, ``dZ_L = (1/m)(sigmoid(Z_L) - Y)``, ``dW = dZ A_prev^T``, ``db = sum(dZ)``,
``dZ = dA * (A > 0)``. What changes is where the numbers live and what is not computed:

- every temporary is a preallocated buffer written with ``out=``: after the first step, a step
  allocates no array (NumPy's own few-KiB ufunc scratch aside), except that a ``RandomState``
  cannot draw dropout's random numbers into a buffer (the course convention's, which is made
  anew every iteration anyway);
- ``dA_0`` (the input's gradient) is never computed, and the cost only when asked for;
- the dropout backward reuses the ReLU mask: after dropout ``A > 0`` exactly where the unit was
  active *and* kept, so ``(dA * D / kp) * (A > 0) == (dA / kp) * (A > 0)`` (a 0/1 factor is exact);
- ``dA = W^T dZ`` of the single-unit output layer is an outer product: a broadcast multiply (one
  rounding per element, like the matrix product) instead of a slow rank-1 matrix product.

Large batches run in column blocks (``initreg.nn.blocked``), with this module's kernels.
``gradients`` drives either kind of workspace.
"""

import numpy as np

MASK_DRAW_ELEMENTS = 1 << 18  # dropout's random numbers are drawn this many at a time


def gradients(ws, weights, biases, lambd: float, keep_prob, rng, grads, need_cost: bool = True):
    """Fill ``grads`` (``W1, b1, ...`` arrays, overwritten) with the gradient over ws's data.

    ws: a ``Workspace`` or a ``blocked.BlockedWorkspace``. weights/biases: lists indexed 1..L
    (index 0 unused). Returns the cost (cross-entropy + L2), or None when ``need_cost`` is False.
    """
    dropout = rng is not None and any(kp < 1.0 for kp in keep_prob)
    loss = ws.run(weights, biases, keep_prob if dropout else None, rng, grads, need_cost)
    m = ws.m
    if lambd:
        scale = lambd / m
        for l in range(1, len(weights)):  # noqa: E741
            dW = grads[f"W{l}"]
            np.add(dW, np.multiply(scale, weights[l], out=ws.l2[l]), out=dW)
    if not need_cost:
        return None
    cost = loss / m
    if lambd:
        cost += lambd / (2 * m) * sum(np.sum(np.square(W, out=buf))
                                      for W, buf in zip(weights[1:], ws.l2[1:], strict=True))
    return float(cost)


def l2_buffers(dims, dtype) -> list:
    """Scratch for the L2 terms of ``gradients``: ``[None, (n_1, n_0), ..., (n_L, n_{L-1})]``."""
    pairs = zip(dims[:-1], dims[1:], strict=True)
    return [None] + [np.empty((n, n_prev), dtype) for n_prev, n in pairs]


def forward(weights, biases, X: np.ndarray) -> np.ndarray:
    """Logits Z_L (1, m) of X (n_x, m) without dropout; weights/biases indexed 1..L."""
    L = len(weights) - 1
    A = X
    for l in range(1, L):  # noqa: E741
        Z = weights[l] @ A
        np.add(Z, biases[l], out=Z)
        A = np.maximum(0.0, Z, out=Z)
    Z = weights[L] @ A
    return np.add(Z, biases[L], out=Z)


def _sigmoid_in_place(Z: np.ndarray) -> np.ndarray:
    """Z <- 1 / (1 + exp(-Z)); exp may overflow to inf for very negative Z, giving exactly 0."""
    np.negative(Z, out=Z)
    with np.errstate(over="ignore"):
        np.exp(Z, out=Z)
    np.add(1.0, Z, out=Z)
    return np.divide(1.0, Z, out=Z)


def _loss_sum(Z: np.ndarray, Y: np.ndarray, buf: np.ndarray):
    """Sum over columns of softplus(z) - y z (see ``layers.cross_entropy_from_logits``).

    Z, Y: (1, m); buf: (2, m) scratch.
    """
    out, tmp = buf[0:1], buf[1:2]
    np.multiply(Y, Z, out=tmp)
    np.maximum(Z, 0.0, out=out)
    np.subtract(out, tmp, out=out)
    np.abs(Z, out=tmp)
    np.negative(tmp, out=tmp)
    np.exp(tmp, out=tmp)
    np.log1p(tmp, out=tmp)
    np.add(out, tmp, out=out)
    return out.sum()


def output_delta(ZL: np.ndarray, Y: np.ndarray, inv_m: float, loss_buf, need_cost: bool):
    """(loss sum or 0, dZ_L) with dZ_L = (1/m)(sigmoid(Z_L) - Y) written over Z_L.

    ZL, Y: (1, m); loss_buf: (2, m) scratch for the loss.
    """
    loss = _loss_sum(ZL, Y, loss_buf) if need_cost else 0.0
    dZ = _sigmoid_in_place(ZL)
    np.subtract(dZ, Y, out=dZ)
    np.multiply(inv_m, dZ, out=dZ)  # d cost / d Z_L, the mean folded in once
    return loss, dZ


def back_through(W: np.ndarray, dZ: np.ndarray, out: np.ndarray) -> np.ndarray:
    """dA_prev = W^T dZ; for a one-unit layer the product is an outer product, done as one."""
    if W.shape[0] == 1:
        return np.multiply(W.T, dZ, out=out)
    return np.matmul(W.T, dZ, out=out)


class DropoutMasks:
    """The dropout masks of every hidden layer for m columns, in buffers reused by every step.

    ``draw`` takes its numbers from ``rng.random`` in the order of ``layers.dropout_forward``
    (hidden layer 1 first, each row-major), so the blocked path draws the exact path's masks.
    A Generator draws them into a reused buffer, ``MASK_DRAW_ELEMENTS`` at a time; a RandomState
    cannot, and draws new arrays of that size.
    """

    def __init__(self, dims, m: int):
        self.dims, self.m = list(dims), m
        self.rows = max(1, MASK_DRAW_ELEMENTS // m)  # mask rows per draw
        self.masks: dict[int, np.ndarray] = {}  # l -> D_l, made at the first draw for layer l
        self.numbers = None  # a Generator's (rows, m) draws, made at its first draw

    def draw(self, keep_prob, rng) -> list:
        """``[None, D_1, ..., D_{L-1}]``: ``D_l`` (n_l, m) bool, True where a unit is kept, or
        None where keep_prob is 1. keep_prob: one value per hidden layer. The same arrays are
        overwritten by the next draw."""
        masks = [None]
        for l, kp in enumerate(keep_prob, start=1):  # noqa: E741
            if kp >= 1.0:
                masks.append(None)
                continue
            n = self.dims[l]
            if l not in self.masks:
                self.masks[l] = np.empty((n, self.m), bool)
            D = self.masks[l]
            for r in range(0, n, self.rows):
                np.less(self._uniform(rng, min(self.rows, n - r)), kp, out=D[r:r + self.rows])
            masks.append(D)
        return masks

    def _uniform(self, rng, rows: int) -> np.ndarray:
        """The next ``rows x m`` numbers of ``rng.random``, row-major."""
        if not isinstance(rng, np.random.Generator):
            return rng.random((rows, self.m))
        if self.numbers is None:
            self.numbers = np.empty((self.rows, self.m))
        return rng.random(out=self.numbers[:rows])


class Workspace:
    """Buffers for one small ``(X, Y)`` (one block): activations, masks, loss.

    X: (n_x, m); Y: (1, m), already of the parameters' dtype.
    """

    def __init__(self, layer_dims, X: np.ndarray, Y: np.ndarray):
        self.m = m = X.shape[1]
        self.dims = list(layer_dims)
        self.X, self.Y = X, Y
        dtype, L = X.dtype, len(layer_dims) - 1
        # A[l] holds Z_l then A_l in place; dA[l] holds dA_l then dZ_l in place (l = 1..L-1).
        self.A = [X] + [np.empty((n, m), dtype) for n in layer_dims[1:]]
        self.dA = [None] + [np.empty((n, m), dtype) for n in layer_dims[1:L]]
        self.active = [None] + [np.empty((n, m), bool) for n in layer_dims[1:L]]
        self.loss = np.empty((2, m), dtype)
        self.dropout = DropoutMasks(layer_dims, m)
        self.l2 = l2_buffers(layer_dims, dtype)

    def run(self, weights, biases, keep_prob, rng, grads, need_cost):
        """Forward and backward over the whole batch; returns the loss sum (0 without cost)."""
        L = len(self.dims) - 1
        A, dA, active = self.A, self.dA, self.active
        masks = self.dropout.draw(keep_prob, rng) if keep_prob is not None else None
        for l in range(1, L):  # noqa: E741
            Z = np.matmul(weights[l], A[l - 1], out=A[l])
            np.add(Z, biases[l], out=Z)
            np.maximum(0.0, Z, out=Z)
            if masks is not None and masks[l] is not None:
                np.multiply(Z, masks[l], out=Z)
                np.divide(Z, keep_prob[l - 1], out=Z)
        ZL = np.matmul(weights[L], A[L - 1], out=A[L])
        np.add(ZL, biases[L], out=ZL)
        loss, dZ = output_delta(ZL, self.Y, 1.0 / self.m, self.loss, need_cost)
        for l in range(L, 0, -1):  # noqa: E741
            np.matmul(dZ, A[l - 1].T, out=grads[f"W{l}"])
            np.sum(dZ, axis=1, keepdims=True, out=grads[f"b{l}"])
            if l == 1:
                break
            dZ = back_through(weights[l], dZ, dA[l - 1])
            if masks is not None and masks[l - 1] is not None:
                np.divide(dZ, keep_prob[l - 2], out=dZ)
            np.multiply(dZ, np.greater(A[l - 1], 0.0, out=active[l - 1]), out=dZ)
        return loss
