"""The Network's forward and backward pass over reusable buffers; in column blocks when m is large.

Small batches (``m <= BLOCK_MIN_EXAMPLES``: every course data set) run the course's arithmetic
operation for operation, so they give the same bits as ``layers``' forward/backward pairs:
``Z = W A + b``, ``A = max(0, Z)``, inverted dropout ``A * D / keep_prob``,
``dZ_L = (1/m)(sigmoid(Z_L) - Y)``, ``dW = dZ A_prev^T``, ``db = sum(dZ)``, ``dZ = dA * (A > 0)``.
What changes is where the numbers live and what is not computed:

- every temporary is a preallocated buffer written with ``out=`` (no allocation per iteration);
- ``dA_0`` (the input's gradient) is never computed, and the cost only when asked for;
- the dropout backward reuses the ReLU mask: after dropout ``A > 0`` exactly where the unit was
  active *and* kept, so ``(dA * D / kp) * (A > 0) == (dA / kp) * (A > 0)`` (a 0/1 factor is exact);
- ``dA = W^T dZ`` of the single-unit output layer is an outer product: a broadcast multiply (one
  rounding per element, like the matrix product) instead of a slow rank-1 matrix product.

Large batches are cut into column blocks (about ``BLOCK_ELEMENTS`` activations of the widest
layer, a few MiB): each block runs forward and backward on its own buffers, and there are no
whole-batch temporaries. The blocks are shared between threads (``initreg.nn.threads``: as many
as the BLAS uses, each block's matrix products on one BLAS thread), so the element-wise passes,
which NumPy runs on one core, use every core too. ``dW`` is summed over the blocks of each of
``GROUPS`` consecutive groups in order, then over the groups in order, so the gradient does not
depend on the number of threads. The bias rides in the matrix products where that is cheap (a
row of ones under a layer's input, ``[W | b] [A; 1]``, padded with zero rows to a multiple of 32,
which the BLAS kernels prefer), so the bias add and the ``db`` sum are not separate passes; where
padding would cost more than the two passes it saves (a 64-row input would become 96), the bias
is added and summed separately. Only the order of the sums over examples differs from the
small-batch path (the same gradient to rounding, deterministic); dropout masks are drawn for the
whole batch first, in the unblocked order, so they are the masks the small-batch path would draw.
"""

import numpy as np

from initreg.nn.threads import StepThreads

BLOCK_MIN_EXAMPLES = 8192  # up to this many examples, one block and the course's exact arithmetic
BLOCK_ELEMENTS = 1 << 20  # activations of the widest layer per block (8 MiB of float64)
GROUPS = 8  # blocks are summed in this many groups, so threads (up to 8) change no bits
MASK_DRAW_ELEMENTS = 1 << 18  # dropout masks are drawn this many numbers at a time

def check_data(layer_dims, X: np.ndarray, Y: np.ndarray, dtype):
    """X and Y as ``dtype`` arrays, or a one-line ValueError naming the wrong shape."""
    X = np.asarray(X, dtype=dtype)
    Y = np.asarray(Y, dtype=dtype)
    if X.ndim != 2 or X.shape[0] != layer_dims[0]:
        raise ValueError(f"X has shape {X.shape}; allowed: ({layer_dims[0]}, m)")
    if Y.shape != (1, X.shape[1]):
        raise ValueError(f"Y has shape {Y.shape}; allowed: (1, {X.shape[1]}), like X's columns")
    return X, Y


def workspace(layer_dims, X: np.ndarray, Y: np.ndarray, dtype, threads: int | None = None):
    """The buffers for gradients over ``(X, Y)``: blocked (over ``threads``) when there are many
    examples."""
    X, Y = check_data(layer_dims, X, Y, np.dtype(dtype))
    if X.shape[1] <= BLOCK_MIN_EXAMPLES:
        return Workspace(layer_dims, X, Y)
    return BlockedWorkspace(layer_dims, X, Y, threads)


def gradients(ws, weights, biases, lambd: float, keep_prob, rng, grads, need_cost: bool = True):
    """Fill ``grads`` (``W1, b1, ...`` arrays, overwritten) with the gradient over ws's data.

    weights/biases: lists indexed 1..L (index 0 unused). Returns the cost (cross-entropy + L2), or
    None when ``need_cost`` is False.
    """
    dropout = rng is not None and any(kp < 1.0 for kp in keep_prob)
    loss = ws.run(weights, biases, keep_prob if dropout else None, rng, grads, need_cost)
    m = ws.m
    if lambd:
        scale = lambd / m
        for l in range(1, len(weights)):  # noqa: E741
            grads[f"W{l}"] += scale * weights[l]
    if not need_cost:
        return None
    cost = loss / m
    if lambd:
        cost += lambd / (2 * m) * sum(np.sum(np.square(W)) for W in weights[1:])
    return float(cost)


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


def _loss_sum(Z: np.ndarray, Y: np.ndarray, out: np.ndarray):
    """Sum over columns of softplus(z) - y z (see ``layers.cross_entropy_from_logits``)."""
    tmp = np.abs(Z)
    np.negative(tmp, out=tmp)
    np.exp(tmp, out=tmp)
    np.log1p(tmp, out=tmp)
    np.maximum(Z, 0.0, out=out)
    np.subtract(out, Y * Z, out=out)
    np.add(out, tmp, out=out)
    return out.sum()


def _output_delta(ZL: np.ndarray, Y: np.ndarray, inv_m: float, loss_buf, need_cost: bool):
    """(loss sum or 0, dZ_L) with dZ_L = (1/m)(sigmoid(Z_L) - Y) written over Z_L."""
    loss = _loss_sum(ZL, Y, loss_buf) if need_cost else 0.0
    dZ = _sigmoid_in_place(ZL)
    np.subtract(dZ, Y, out=dZ)
    np.multiply(inv_m, dZ, out=dZ)  # d cost / d Z_L, the mean folded in once
    return loss, dZ


def _back_through(W: np.ndarray, dZ: np.ndarray, out: np.ndarray) -> np.ndarray:
    """dA_prev = W^T dZ; for a one-unit layer the product is an outer product, done as one."""
    if W.shape[0] == 1:
        return np.multiply(W.T, dZ, out=out)
    return np.matmul(W.T, dZ, out=out)


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
        self.loss = np.empty((1, m), dtype)

    def run(self, weights, biases, keep_prob, rng, grads, need_cost):
        """Forward and backward over the whole batch; returns the loss sum (0 without cost)."""
        L = len(self.dims) - 1
        A, dA, active = self.A, self.dA, self.active
        for l in range(1, L):  # noqa: E741
            Z = np.matmul(weights[l], A[l - 1], out=A[l])
            np.add(Z, biases[l], out=Z)
            np.maximum(0.0, Z, out=Z)
            if keep_prob is not None and keep_prob[l - 1] < 1.0:
                kp = keep_prob[l - 1]
                np.multiply(Z, rng.random(Z.shape) < kp, out=Z)
                np.divide(Z, kp, out=Z)
        ZL = np.matmul(weights[L], A[L - 1], out=A[L])
        np.add(ZL, biases[L], out=ZL)
        loss, dZ = _output_delta(ZL, self.Y, 1.0 / self.m, self.loss, need_cost)
        for l in range(L, 0, -1):  # noqa: E741
            np.matmul(dZ, A[l - 1].T, out=grads[f"W{l}"])
            np.sum(dZ, axis=1, keepdims=True, out=grads[f"b{l}"])
            if l == 1:
                break
            dZ = _back_through(weights[l], dZ, dA[l - 1])
            if keep_prob is not None and keep_prob[l - 2] < 1.0:
                np.divide(dZ, keep_prob[l - 2], out=dZ)
            np.multiply(dZ, np.greater(A[l - 1], 0.0, out=active[l - 1]), out=dZ)
        return loss


def _pairs(seq):
    """(seq[0], seq[1]), (seq[1], seq[2]), ...: (fan-in, size) of each layer, or block edges."""
    return zip(seq[:-1], seq[1:], strict=True)


class _BlockBuffers:
    """One thread's buffers for a block of up to ``width`` columns."""

    def __init__(self, dims, rows, width: int, dtype):
        L = len(dims) - 1
        self.A = [None]
        for l in range(1, L):  # noqa: E741
            A = np.zeros((rows[l], width), dtype)
            if rows[l] > dims[l]:
                A[dims[l]] = 1.0  # the ones row that carries the next layer's bias
            self.A.append(A)
        self.ZL = np.empty((1, width), dtype)
        self.dA = [None] + [np.empty((n, width), dtype) for n in dims[1:L]]
        self.active = [None] + [np.empty((n, width), bool) for n in dims[1:L]]
        self.loss = np.empty((1, width), dtype)
        self.tmp = [None] + [np.empty((dims[l], rows[l - 1]), dtype)
                             for l in range(1, L + 1)]  # noqa: E741


class BlockedWorkspace:
    """Buffers for a large ``(X, Y)`` cut in column blocks, reused by every call.

    X: (n_x, m); Y: (1, m), already of the parameters' dtype. threads: how many threads share
    the blocks (None: as many as the BLAS uses; see ``initreg.nn.threads``). The blocks fall into
    ``GROUPS`` consecutive groups, each summed in order into its own ``dW``, and the groups are
    summed in order: the gradient is the same bits whatever the number of threads.
    """

    def __init__(self, layer_dims, X: np.ndarray, Y: np.ndarray, threads: int | None = None):
        self.m = m = X.shape[1]
        self.dims = dims = list(layer_dims)
        dtype, L = X.dtype, len(dims) - 1
        n_blocks = -(-m * max(dims[1:]) // BLOCK_ELEMENTS)
        edges = np.linspace(0, m, n_blocks + 1).round().astype(int)
        self.bounds = list(_pairs(edges.tolist()))
        width = max(e - s for s, e in self.bounds)
        n_groups = min(GROUPS, n_blocks)
        cuts = np.linspace(0, n_blocks, n_groups + 1).round().astype(int).tolist()
        self.groups = [range(a, b) for a, b in _pairs(cuts)]
        # rows[l]: rows of layer l+1's input buffer: n_l, or n_l + a row of ones + zero padding.
        self.rows = [_input_rows(n) for n in dims[:L]]
        self.X = []  # each block's input (with its ones row), contiguous, made once
        for s, e in self.bounds:
            Xb = np.zeros((self.rows[0], e - s), dtype)
            Xb[:dims[0]] = X[:, s:e]
            if self.rows[0] > dims[0]:
                Xb[dims[0]] = 1.0
            self.X.append(Xb)
        self.Y = [np.ascontiguousarray(Y[:, s:e]) for s, e in self.bounds]
        self.pool = StepThreads(threads)
        self.buffers = [_BlockBuffers(dims, self.rows, width, dtype)
                        for _ in range(min(self.pool.count, n_groups))]
        shapes = [None] + [(dims[l], self.rows[l - 1]) for l in range(1, L + 1)]  # noqa: E741
        self.Wb = [None] + [np.zeros(shape, dtype) for shape in shapes[1:]]  # [W | b | 0]
        # per group: [dW | db | 0] and the db of plain layers; then their sums over the groups
        self.g = [None] + [np.empty((n_groups, *shape), dtype) for shape in shapes[1:]]
        self.db = [None] + [np.empty((n_groups, n, 1), dtype) for n in dims[1:]]
        self.g_sum = [None] + [np.empty(shape, dtype) for shape in shapes[1:]]
        self.db_sum = [None] + [np.empty((n, 1), dtype) for n in dims[1:]]
        self.loss_parts = np.zeros(n_blocks)
        self.folded = [None] + [self.rows[l - 1] > dims[l - 1] for l in range(1, L + 1)]  # noqa: E741

    def _draw_masks(self, keep_prob, rng):
        """The dropout masks of every hidden layer for the whole batch, in the unblocked order."""
        masks = [None]
        m = self.m
        for l, kp in enumerate(keep_prob, start=1):  # noqa: E741
            if kp >= 1.0:
                masks.append(None)
                continue
            n = self.dims[l]
            D = np.empty((n, m), bool)
            rows = max(1, MASK_DRAW_ELEMENTS // m)
            for r in range(0, n, rows):  # row-major draws: the stream of rng.random((n, m))
                np.less(rng.random((min(rows, n - r), m)), kp, out=D[r:r + rows])
            masks.append(D)
        return masks

    def run(self, weights, biases, keep_prob, rng, grads, need_cost):
        """Forward and backward over every block; returns the loss sum (0 without cost)."""
        L, dims = len(self.dims) - 1, self.dims
        for l in range(1, L + 1):  # noqa: E741
            self.Wb[l][:, :dims[l - 1]] = weights[l]
            if self.folded[l]:
                self.Wb[l][:, dims[l - 1]:dims[l - 1] + 1] = biases[l]
        masks = self._draw_masks(keep_prob, rng) if keep_prob is not None else None
        n_threads = len(self.buffers)

        def work(t: int) -> None:
            for j in range(t, len(self.groups), n_threads):
                self._group(j, self.buffers[t], weights, biases, keep_prob, masks, need_cost)

        self.pool.run(work, n_threads)
        for l in range(1, L + 1):  # noqa: E741
            n_prev = dims[l - 1]
            g = np.sum(self.g[l], axis=0, out=self.g_sum[l])  # the groups in order
            grads[f"W{l}"][...] = g[:, :n_prev]
            if self.folded[l]:
                grads[f"b{l}"][...] = g[:, n_prev:n_prev + 1]
            else:
                grads[f"b{l}"][...] = np.sum(self.db[l], axis=0, out=self.db_sum[l])
        return float(self.loss_parts.sum()) if need_cost else 0.0

    def _group(self, j: int, buf: _BlockBuffers, weights, biases, keep_prob, masks,
               need_cost) -> None:
        """Forward and backward over group j's blocks, summing into group j's gradient slots."""
        L, dims, Wb, folded = len(self.dims) - 1, self.dims, self.Wb, self.folded
        g = [None] + [gl[j] for gl in self.g[1:]]
        db = [None] + [dbl[j] for dbl in self.db[1:]]
        inv_m = 1.0 / self.m
        for k in self.groups[j]:
            first = k == self.groups[j].start  # the group's first block writes, later ones add
            s, e = self.bounds[k]
            w = e - s
            A = [self.X[k]] + [a[:, :w] for a in buf.A[1:]]
            for l in range(1, L):  # noqa: E741
                Z = np.matmul(Wb[l], A[l - 1], out=A[l][:dims[l]])
                if not folded[l]:
                    np.add(Z, biases[l], out=Z)
                np.maximum(0.0, Z, out=Z)
                if masks is not None and masks[l] is not None:
                    np.multiply(Z, masks[l][:, s:e], out=Z)
                    np.divide(Z, keep_prob[l - 1], out=Z)
            ZL = np.matmul(Wb[L], A[L - 1], out=buf.ZL[:, :w])
            if not folded[L]:
                np.add(ZL, biases[L], out=ZL)
            self.loss_parts[k], dZ = _output_delta(ZL, self.Y[k], inv_m, buf.loss[:, :w],
                                                   need_cost)
            for l in range(L, 0, -1):  # noqa: E741
                if first:
                    np.matmul(dZ, A[l - 1].T, out=g[l])
                else:
                    np.add(g[l], np.matmul(dZ, A[l - 1].T, out=buf.tmp[l]), out=g[l])
                if not folded[l]:
                    if first:
                        np.sum(dZ, axis=1, keepdims=True, out=db[l])
                    else:
                        db[l] += dZ.sum(axis=1, keepdims=True)
                if l == 1:
                    break
                n = dims[l - 1]
                dA = _back_through(weights[l], dZ, buf.dA[l - 1][:, :w])
                if masks is not None and masks[l - 1] is not None:
                    np.divide(dA, keep_prob[l - 2], out=dA)
                active = np.greater(A[l - 1][:n], 0.0, out=buf.active[l - 1][:, :w])
                dZ = np.multiply(dA, active, out=dA)


def _input_rows(n: int) -> int:
    """Rows of a layer input buffer: n plus a ones row, padded to a multiple of 32, if that
    costs at most an eighth more rows; else n (the bias is then added and summed separately)."""
    padded = -(-(n + 1) // 32) * 32
    return padded if padded <= n + max(1, n // 8) else n
