"""The Network's pass over a large batch, in column blocks shared between threads.

Large batches (more than ``BLOCK_MIN_EXAMPLES`` examples) are cut into column blocks (about
``BLOCK_ELEMENTS`` activations of the widest layer, a few MiB): each block runs the forward and
backward pass of ``initreg.nn.backprop`` on its own buffers, and there are no whole-batch
temporaries. The blocks are shared between threads (``initreg.nn.threads``: as many as the BLAS
uses, each block's matrix products on one BLAS thread), so the element-wise passes, which NumPy
runs on one core, use every core too. ``dW`` is summed over the blocks of each of ``GROUPS``
consecutive groups in order, then over the groups in order, so the gradient does not depend on
the number of threads. The bias rides in the matrix products where that is cheap (a row of ones
under a layer's input, ``[W | b] [A; 1]``, padded with zero rows to a multiple of 32, which the
BLAS kernels prefer), so the bias add and the ``db`` sum are not separate passes; where padding
would cost more than the two passes it saves (a 64-row input would become 96), the bias is added
and summed separately. Only the order of the sums over examples differs from the small-batch path
(the same gradient to rounding, deterministic); dropout masks are drawn for the whole batch
first, in the unblocked order, so they are the masks the small-batch path would draw.
"""

import numpy as np

from initreg.nn.backprop import DropoutMasks, back_through, l2_buffers, output_delta
from initreg.nn.threads import StepThreads

BLOCK_MIN_EXAMPLES = 8192  # up to this many examples, no blocks: backprop.Workspace, the exact path
BLOCK_ELEMENTS = 1 << 20  # activations of the widest layer per block (8 MiB of float64)
GROUPS = 8  # blocks are summed in this many groups, so threads (up to 8) change no bits


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
        self.loss = np.empty((2, width), dtype)
        self.db = [None] + [np.empty((n, 1), dtype) for n in dims[1:]]  # a block's db
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
        self.dropout = DropoutMasks(dims, m)  # drawn for the whole batch, in the unblocked order
        self.l2 = l2_buffers(dims, dtype)

    def run(self, weights, biases, keep_prob, rng, grads, need_cost):
        """Forward and backward over every block; returns the loss sum (0 without cost)."""
        L, dims = len(self.dims) - 1, self.dims
        for l in range(1, L + 1):  # noqa: E741
            self.Wb[l][:, :dims[l - 1]] = weights[l]
            if self.folded[l]:
                self.Wb[l][:, dims[l - 1]:dims[l - 1] + 1] = biases[l]
        masks = self.dropout.draw(keep_prob, rng) if keep_prob is not None else None
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
            self.loss_parts[k], dZ = output_delta(ZL, self.Y[k], inv_m, buf.loss[:, :w],
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
                        np.add(db[l], np.sum(dZ, axis=1, keepdims=True, out=buf.db[l]),
                               out=db[l])
                if l == 1:
                    break
                n = dims[l - 1]
                dA = back_through(weights[l], dZ, buf.dA[l - 1][:, :w])
                if masks is not None and masks[l - 1] is not None:
                    np.divide(dA, keep_prob[l - 2], out=dA)
                active = np.greater(A[l - 1][:n], 0.0, out=buf.active[l - 1][:, :w])
                dZ = np.multiply(dA, active, out=dA)


def _input_rows(n: int) -> int:
    """Rows of a layer input buffer: n plus a ones row, padded to a multiple of 32, if that
    costs at most an eighth more rows; else n (the bias is then added and summed separately)."""
    padded = -(-(n + 1) // 32) * 32
    return padded if padded <= n + max(1, n // 8) else n
