"""The compiled engine: the Network's exact small-batch descent as one numba function.

On the course's nets (a few hundred examples, a few dozen units) a NumPy step is bound by call
overhead: some thirty NumPy calls of a few microseconds each around ~130 kFLOP of arithmetic.
``descent_kernel`` runs many iterations in one call (``train`` asks for the steps between two log
points at once), each the whole forward and backward pass and the update: every element-wise
pass fused into one loop per layer, and the matrix products either as loops here (``times``,
``times_t``) or through the BLAS (numba's ``np.dot``, scipy's BLAS). The loops take a course
net's products (``_small_net``: at most ``SMALL`` multiply-adds in all, over at least
``MIN_COLUMNS`` examples; football's [2,20,3,1] x 211 has 21,733), where they cost a step about
what the BLAS calls do; per product they are about 2x slower than the BLAS there and far
slower for wide layers over few examples, so every other net takes the BLAS. A process that
trains only small nets, on the kernel built ahead of time, never loads scipy's linear algebra,
which numba's ``np.dot`` there imports at its first call: 7.7 MiB, 3% of a job's memory
(``benchmarks/job_memory.py``); under numba's JIT it is loaded with the kernel's code, whatever
the sizes. With ``learning_rate`` 0 it computes one iteration's gradient: the same code is what
the gradient check before training checks.

It computes what ``initreg.nn.backprop.Workspace.run`` computes, operation for operation (``Z =
W A + b``, ``max(0, Z)``, ``Z * D / keep_prob``, ``(1/m)(sigmoid(Z_L) - Y)``, ``dW = dZ
A_prev^T``, ``db = sum(dZ)``, ``dZ = dA / keep_prob * (A > 0)``, ``dW += (lambd/m) W``), so the
parameters after any number of steps agree with the NumPy engine's to rounding: the matrix
products (the loops here, or scipy's BLAS; NumPy calls its own), ``exp``, the order of the sums
over examples (NumPy sums pairwise, the kernel in order, or in vector lanes in ``times_t``) and
the division by ``keep_prob`` (the kernel multiplies by ``1 / keep_prob``: a division per unit
was most of its loops' time) may differ in the last bit. The
dropout masks are the NumPy engine's: from a ``Generator`` the kernel draws them itself, the
same numbers in the same order, leaving the generator in NumPy's state after them. Over PCG64
(``default_rng``'s) it steps the generator's 128-bit state itself (``draw_masks``: NumPy's
algorithm inlined, two chains at once; a call into NumPy per number cost half the dropout step)
and writes the state back; over any other bit generator numba calls that generator's own
functions. A ``RandomState`` (the course convention's) cannot be passed to numba, so
``backprop.DropoutMasks`` draws its masks in Python, one step per kernel call.

Everything lives in flat float64 buffers, so that one compiled function serves every depth: the
parameters (``W1, b1, W2, ...`` laid end to end; ``Network.params`` are views into it), the
gradients (the same layout), the activations, the deltas and the masks; ``layout`` and
``offsets`` give the offsets. The function is compiled once per machine, ahead of time, into an
extension module that a process loads without importing numba (``kernel()``, ``initreg.nn.aot``);
where that cannot be built, numba's JIT compiles it (``jit()``, cached on disk by numba).
"""

import numpy as np

# a net whose matrix products add up to at most SMALL multiply-adds per pass (sum of n_l n_l-1
# m), over at least MIN_COLUMNS examples (the loops vectorize over them), runs them as loops
# here; any other through the BLAS
SMALL = 1 << 15
MIN_COLUMNS = 32
NO_PCG64 = np.empty(0, np.uint64)  # descent_kernel's pcg when it does not step PCG64 itself


def layout(dims) -> dict[str, tuple[int, tuple[int, int]]]:
    """``name -> (offset, shape)`` of ``W1, b1, ..., WL, bL`` laid end to end."""
    spans, offset = {}, 0
    for l in range(1, len(dims)):  # noqa: E741
        for name, shape in ((f"W{l}", (dims[l], dims[l - 1])), (f"b{l}", (dims[l], 1))):
            spans[name] = (offset, shape)
            offset += shape[0] * shape[1]
    return spans


def size(dims) -> int:
    """How many numbers ``layout(dims)`` holds."""
    return sum(n * (n_prev + 1) for n_prev, n in zip(dims[:-1], dims[1:], strict=True))


def views(flat: np.ndarray, dims) -> dict[str, np.ndarray]:
    """``W1, b1, ...`` as views into ``flat`` (``layout(dims)``)."""
    return {name: flat[o:o + s[0] * s[1]].reshape(s) for name, (o, s) in layout(dims).items()}


def packed_base(params, dims) -> np.ndarray | None:
    """The flat buffer that ``params`` are views of in ``layout(dims)``, or None when they are
    not (an entry replaced by another array, a dict not made by ``views``)."""
    base = None
    for name, (offset, shape) in layout(dims).items():
        p = params.get(name)
        if (not isinstance(p, np.ndarray) or p.shape != shape or p.dtype != np.float64
                or not p.flags.c_contiguous or not isinstance(p.base, np.ndarray)):
            return None
        flat = p.base
        if base is None:
            base = flat
        if flat is not base or flat.ndim != 1 or flat.dtype != np.float64 \
                or not flat.flags.c_contiguous \
                or p.__array_interface__["data"][0] != flat.ctypes.data + 8 * offset:
            return None
    return base if base is not None and base.size == size(dims) else None


def offsets(dims, m: int):
    """(W offsets, b offsets, activation offsets) as int64 arrays indexed by layer 1..L (index 0
    unused): where W_l and b_l start in the parameters, and where layer l's (n_l, m) block starts
    in the activations (hidden layers, then the output layer last)."""
    L = len(dims) - 1
    spans = layout(dims)
    w = np.zeros(L + 1, np.int64)
    b = np.zeros(L + 1, np.int64)
    a = np.zeros(L + 1, np.int64)
    at = 0
    for l in range(1, L + 1):  # noqa: E741
        w[l], b[l], a[l] = spans[f"W{l}"][0], spans[f"b{l}"][0], at
        at += dims[l] * m
    return w, b, a


_KERNEL = None  # kernel(): the function train calls
_JIT = None  # jit()

# PCG64 (NumPy's default bit generator): state <- state * PCG64_MUL + inc (mod 2^128), then the
# XSL-RR output; the multiplier's high and low 64 bits (numpy/random/src/pcg64/pcg64.h).
PCG64_MUL_HI = np.uint64(2549297995355413924)
PCG64_MUL_LO = np.uint64(4865540595714422341)
_MASK64 = (1 << 64) - 1


def _mul128(a: int, b: int) -> int:
    """a * b mod 2^128 (Python ints)."""
    return a * b & ((1 << 128) - 1)


# Two PCG64 steps at once: s_{k+2} = s_k * MUL^2 + inc * (MUL + 1) (mod 2^128).
_MUL = (int(PCG64_MUL_HI) << 64) | int(PCG64_MUL_LO)
_MUL2 = _mul128(_MUL, _MUL)
PCG64_MUL2_HI, PCG64_MUL2_LO = np.uint64(_MUL2 >> 64), np.uint64(_MUL2 & _MASK64)


def pcg64_state(rng) -> np.ndarray:
    """uint64 (6,): ``[state, inc, inc * (MUL + 1)]`` (each 128 bits as high, low) of a
    ``Generator`` over ``PCG64``, what ``draw_masks`` steps; empty for any other generator."""
    bit_generator = getattr(rng, "bit_generator", None)
    if type(bit_generator) is not np.random.PCG64:
        return NO_PCG64
    s = bit_generator.state["state"]
    inc2 = _mul128(s["inc"], _MUL + 1)
    return np.array([s["state"] >> 64, s["state"] & _MASK64, s["inc"] >> 64, s["inc"] & _MASK64,
                     inc2 >> 64, inc2 & _MASK64], np.uint64)


def set_pcg64_state(rng, pcg: np.ndarray) -> None:
    """Advance ``rng`` (PCG64) to the state that ``pcg`` (``pcg64_state``'s layout) holds; the
    buffered 32-bit half it may keep (``has_uint32``) is left as it was: 64-bit draws skip it."""
    state = rng.bit_generator.state
    state["state"]["state"] = (int(pcg[0]) << 64) | int(pcg[1])
    rng.bit_generator.state = state


def _pcg64_bits(hi, lo):
    """PCG64's 64-bit output at the state ``(hi, lo)`` just stepped to (XSL-RR):
    ``rotr64(hi ^ lo, hi >> 58)``."""
    x = hi ^ lo
    r = hi >> np.uint64(58)
    return (x >> r) | (x << ((np.uint64(64) - r) & np.uint64(63)))


def _draw_masks(out, kp, sh, sl, pcg):
    """``out[p] = rng.random() < kp`` for p in order, from the PCG64 state ``(sh, sl)`` and
    ``pcg`` (``pcg64_state``'s layout); returns the state after the last number.

    NumPy's ``random()`` is ``(x >> 11) * 2^-53`` of the 64-bit output x; it is below kp
    exactly when ``x < ceil(kp 2^53) 2^11`` (kp 2^53 is exact), one integer comparison. Two
    chains (even and odd draws) jump two steps at a time, so that their 128-bit
    multiplications overlap instead of waiting on each other."""
    ih, il, jh, jl = pcg[2], pcg[3], pcg[4], pcg[5]
    below = np.uint64(np.ceil(kp * 9007199254740992.0)) << np.uint64(11)  # kp in (0, 1)
    ah, al = mul_add_128(sh, sl, PCG64_MUL_HI, PCG64_MUL_LO, ih, il)  # the next state
    bh, bl = mul_add_128(ah, al, PCG64_MUL_HI, PCG64_MUL_LO, ih, il)  # the one after
    n = out.shape[0]
    for p in range(0, n - 1, 2):
        out[p] = pcg64_bits(ah, al) < below
        out[p + 1] = pcg64_bits(bh, bl) < below
        sh, sl = bh, bl
        ah, al = mul_add_128(ah, al, PCG64_MUL2_HI, PCG64_MUL2_LO, jh, jl)
        bh, bl = mul_add_128(bh, bl, PCG64_MUL2_HI, PCG64_MUL2_LO, jh, jl)
    if n % 2:
        out[n - 1] = pcg64_bits(ah, al) < below
        sh, sl = ah, al
    return sh, sl


def _mul_add_128():
    """A numba intrinsic ``(ah, al, bh, bl, ch, cl) -> (hi, lo)``: ``a * b + c`` mod 2^128 on
    uint64 halves, in LLVM's 128-bit integers (a few instructions; numba has no 128-bit type)."""
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    u64 = types.uint64

    @intrinsic
    def mul_add_128(typingctx, ah, al, bh, bl, ch, cl):
        sig = types.UniTuple(u64, 2)(u64, u64, u64, u64, u64, u64)

        def codegen(context, builder, signature, args):
            i128, shift = ir.IntType(128), ir.Constant(ir.IntType(128), 64)

            def join(hi, lo):
                return builder.or_(builder.shl(builder.zext(hi, i128), shift),
                                   builder.zext(lo, i128))

            r = builder.add(builder.mul(join(args[0], args[1]), join(args[2], args[3])),
                            join(args[4], args[5]))
            halves = [builder.trunc(builder.lshr(r, shift), ir.IntType(64)),
                      builder.trunc(r, ir.IntType(64))]
            return context.make_tuple(builder, signature.return_type, halves)

        return sig, codegen

    return mul_add_128


def _small_net(dims, m):
    """Whether ``descent_kernel`` runs the matrix products of a net of layer sizes ``dims`` over
    ``m`` examples as loops (see ``SMALL``); ``small_net`` in the kernel."""
    madds = 0
    for l in range(1, len(dims)):  # noqa: E741
        madds += dims[l] * dims[l - 1] * m
    return madds <= SMALL and m >= MIN_COLUMNS


def _times(W, A, Z):
    """``Z = W A`` for W (n, k), A (k, m): row i of Z is the sum over c of ``W[i, c] A[c]``, c
    in order, in passes over the row that LLVM vectorizes, four terms a pass (a quarter of the
    row's loads and stores; the same sum). ``dA = W^T dZ`` is ``times(W.T, dZ, dA)``."""
    n, k = W.shape
    m = A.shape[1]
    for i in range(n):
        w = W[i, 0]
        for j in range(m):
            Z[i, j] = w * A[0, j]
        rest = 1 + (k - 1) // 4 * 4
        for c in range(1, rest, 4):
            w0, w1, w2, w3 = W[i, c], W[i, c + 1], W[i, c + 2], W[i, c + 3]
            for j in range(m):
                Z[i, j] = (((Z[i, j] + w0 * A[c, j]) + w1 * A[c + 1, j]) + w2 * A[c + 2, j]) \
                    + w3 * A[c + 3, j]
        for c in range(rest, k):
            w = W[i, c]
            for j in range(m):
                Z[i, j] += w * A[c, j]


def _times_t(dZ, A, dW):
    """``dW = dZ A^T`` for dZ (n, m), A (k, m): each entry a sum over the m examples, four
    entries of a row per pass over dZ's row. Compiled with ``fastmath={"reassoc"}``: LLVM may
    reorder those sums to vectorize them (a sum in order waits on each addition; 3x slower), as
    a BLAS does."""
    n, m = dZ.shape
    k = A.shape[0]
    rest = k // 4 * 4
    for i in range(n):
        for c in range(0, rest, 4):
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            for j in range(m):
                d = dZ[i, j]
                s0 += d * A[c, j]
                s1 += d * A[c + 1, j]
                s2 += d * A[c + 2, j]
                s3 += d * A[c + 3, j]
            dW[i, c], dW[i, c + 1], dW[i, c + 2], dW[i, c + 3] = s0, s1, s2, s3
        for c in range(rest, k):
            s = 0.0
            for j in range(m):
                s += dZ[i, j] * A[c, j]
            dW[i, c] = s


def _row_sums(dZ, out):
    """``out[i] = sum(dZ[i])``; compiled with ``fastmath={"reassoc"}``, as ``times_t``."""
    n, m = dZ.shape
    for i in range(n):
        s = 0.0
        for j in range(m):
            s += dZ[i, j]
        out[i] = s


mul_add_128 = pcg64_bits = draw_masks = None  # made by jit() (numba is imported only then)
times = times_t = row_sums = small_net = None  # likewise


def kernel():
    """``descent_kernel`` compiled: built ahead of time and loaded without numba
    (``initreg.nn.aot``), else, where that cannot be built, numba's JIT (``jit()``)."""
    global _KERNEL
    if _KERNEL is None:
        from initreg.nn import aot

        module = aot.load()
        _KERNEL = aot.kernel(module) if module is not None else jit()
    return _KERNEL


def jit():
    """``descent_kernel`` compiled by numba's JIT (numba imported, the function compiled or
    loaded from numba's disk cache on its first call); also makes its callees (``draw_masks``,
    ``times``, ...), which the AOT build compiles with it."""
    global _JIT, mul_add_128, pcg64_bits, draw_masks, times, times_t, row_sums, small_net
    if _JIT is None:
        import numba

        mul_add_128 = _mul_add_128()
        pcg64_bits = numba.njit(cache=True, inline="always")(_pcg64_bits)
        draw_masks = numba.njit(cache=True, nogil=True)(_draw_masks)
        times = numba.njit(cache=True, nogil=True)(_times)
        times_t = numba.njit(cache=True, nogil=True, fastmath={"reassoc"})(_times_t)
        row_sums = numba.njit(cache=True, nogil=True, fastmath={"reassoc"})(_row_sums)
        small_net = numba.njit(cache=True, nogil=True)(_small_net)
        _JIT = numba.njit(cache=True, nogil=True, error_model="numpy")(descent_kernel)
    return _JIT


def descent_kernel(theta, grads, dims, w_at, b_at, a_at, X, Y, acts, deltas, masks, keep,
                   lambd, rng, pcg, learning_rate, start, stop, cost_every, costs):
    """Iterations ``start .. stop - 1`` of full-batch gradient descent (or, with
    ``learning_rate`` 0, the gradient of one iteration); returns how many costs it wrote.

    theta, grads: (P,) parameters and gradients (``layout(dims)``); grads is overwritten.
    dims: int64 (L+1,) layer sizes; w_at, b_at, a_at: ``offsets(dims, m)``.
    X: (n_0, m), Y: (1, m), C-contiguous. acts: (sum n_l m,) the activations (layer l at
    ``a_at[l]``, the output layer's logits last); deltas: the hidden layers' dA/dZ, same
    offsets. keep: (L+1,) keep probabilities of hidden layers 1..L-1, 1.0 where no dropout
    applies. rng: a NumPy ``Generator`` that every iteration draws the masks of the layers with
    ``keep[l] < 1`` from, as ``rng.random((n_l, m)) < keep[l]`` layer by layer (the NumPy
    engine's numbers and order); None: the masks are read from ``masks`` (bool, same offsets as
    the activations, True where a unit is kept), the same for every iteration, unless ``pcg``
    is given. pcg: ``pcg64_state(g)`` of a Generator ``g`` over PCG64 (rng is then None): the
    masks are drawn as ``g.random((n_l, m)) < keep[l]`` into ``masks`` by ``draw_masks``,
    which steps the state in ``pcg[:2]`` (left advanced there, for ``set_pcg64_state``);
    ``NO_PCG64``: not.
    learning_rate > 0: every iteration also takes its step (``grads *= learning_rate``,
    ``theta -= grads``, as ``train`` does; grads end as the last iteration's scaled gradient);
    0: gradients only. cost_every > 0: the cost (cross-entropy + L2, at the parameters before
    that iteration's step) of every iteration that is a multiple of it goes to ``costs``, in
    order; 0: no cost.
    """
    L = dims.shape[0] - 1
    m = X.shape[1]
    inv_m = 1.0 / m
    loops = small_net(dims, m)
    written = 0
    inline = pcg.shape[0] > 0  # PCG64 stepped here (draw_masks), its state in (sh, sl)
    sh, sl = (pcg[0], pcg[1]) if inline else (np.uint64(0), np.uint64(0))
    for it in range(start, stop):
        need_cost = cost_every > 0 and it % cost_every == 0
        # forward: Z = W A_prev; A = max(0, Z + b), dropout folded in
        A_prev = X
        for l in range(1, L + 1):  # noqa: E741
            n, k = dims[l], dims[l - 1]
            W = theta[w_at[l]:w_at[l] + n * k].reshape((n, k))
            Z = acts[a_at[l]:a_at[l] + n * m].reshape((n, m))
            if loops:
                times(W, A_prev, Z)
            else:
                np.dot(W, A_prev, Z)
            if l == L:
                break
            kp = keep[l]
            D = masks[a_at[l]:a_at[l] + n * m]  # flat: empty when no layer drops units
            if kp < 1.0 and inline:  # D as rng.random((n, m)) < kp, row-major
                sh, sl = draw_masks(D, kp, sh, sl, pcg)
            inv_kp = 1.0 / kp  # multiplying by it: a division per unit was most of these loops
            for i in range(n):
                bias = theta[b_at[l] + i]
                if kp < 1.0 and rng is not None:  # D drawn row by row, as rng.random((n, m))
                    for j in range(m):
                        z = Z[i, j] + bias
                        a = z if z > 0.0 or z != z else 0.0
                        Z[i, j] = a * inv_kp if rng.random() < kp else a * 0.0
                elif kp < 1.0:  # np.maximum(0.0, z) * D / keep_prob
                    for j in range(m):  # a select, not a 0/1 factor: the same bits, faster
                        z = Z[i, j] + bias
                        a = z if z > 0.0 or z != z else 0.0
                        Z[i, j] = a * inv_kp if D[i * m + j] else a * 0.0
                else:
                    for j in range(m):
                        z = Z[i, j] + bias
                        Z[i, j] = z if z > 0.0 or z != z else 0.0
            A_prev = Z
        # output: the loss (softplus(z) - y z) and dZ_L = (1/m)(sigmoid(z) - y), over Z_L
        ZL = acts[a_at[L]:a_at[L] + m]
        bias = theta[b_at[L]]
        loss = 0.0
        for j in range(m):
            z = ZL[j] + bias
            y = Y[0, j]
            if need_cost:
                loss += ((z if z >= 0.0 or z != z else 0.0) - y * z) + np.log1p(np.exp(-abs(z)))
            ZL[j] = inv_m * (1.0 / (1.0 + np.exp(-z)) - y)
        # backward: dW = dZ A_prev^T, db = sum(dZ), dZ_prev = dA_prev / keep * (A_prev > 0)
        for l in range(L, 0, -1):  # noqa: E741
            n, k = dims[l], dims[l - 1]
            if l == L:
                dZ = acts[a_at[L]:a_at[L] + m].reshape((1, m))
            else:
                dZ = deltas[a_at[l]:a_at[l] + n * m].reshape((n, m))
            A_prev = X if l == 1 else acts[a_at[l - 1]:a_at[l - 1] + k * m].reshape((k, m))
            dW = grads[w_at[l]:w_at[l] + n * k].reshape((n, k))
            if loops:
                times_t(dZ, A_prev, dW)
            else:
                np.dot(dZ, A_prev.T, dW)
            row_sums(dZ, grads[b_at[l]:b_at[l] + n])
            if l == 1:
                break
            W = theta[w_at[l]:w_at[l] + n * k].reshape((n, k))
            dA = deltas[a_at[l - 1]:a_at[l - 1] + k * m].reshape((k, m))
            if n == 1:  # an outer product: one rounding per element, like the matrix product
                for i in range(k):
                    w = W[0, i]
                    for j in range(m):
                        dA[i, j] = w * dZ[0, j]
            elif loops:
                times(W.T, dZ, dA)
            else:
                np.dot(W.T, dZ, dA)
            kp = keep[l - 1]
            inv_kp = 1.0 / kp
            for i in range(k):  # dA / keep_prob * (A > 0), the 0/1 factor as a select
                if kp < 1.0:
                    for j in range(m):
                        d = dA[i, j] * inv_kp
                        dA[i, j] = d if A_prev[i, j] > 0.0 else d * 0.0
                else:
                    for j in range(m):
                        d = dA[i, j]
                        dA[i, j] = d if A_prev[i, j] > 0.0 else d * 0.0
        cost = loss / m
        if lambd != 0.0:
            scale = lambd / m
            squares = 0.0
            for l in range(1, L + 1):  # noqa: E741
                s = 0.0
                for p in range(w_at[l], w_at[l] + dims[l] * dims[l - 1]):
                    grads[p] = grads[p] + scale * theta[p]
                    s += theta[p] * theta[p]
                squares += s
            cost += lambd / (2 * m) * squares
        if need_cost:
            costs[written] = cost
            written += 1
        if learning_rate > 0.0:
            for p in range(theta.shape[0]):
                g = learning_rate * grads[p]
                grads[p] = g
                theta[p] = theta[p] - g
    if inline:
        pcg[0], pcg[1] = sh, sl
    return written


def available() -> bool:
    """Whether numba is installed (the compiled engine applies only then); not imported."""
    import importlib.util

    return importlib.util.find_spec("numba") is not None


class CompiledStep:
    """``step(rng, need_cost, learning_rate=0.0) -> (cost or None, grads)`` of a ``Network``,
    and ``step.descend(rng, start, stop, learning_rate, cost_every) -> costs``.

    The step protocol of ``initreg.nn.train`` over ``descent_kernel``: the gradient over ``(X,
    Y)`` at the model's current ``params`` (read at every call), dropout masks drawn from
    ``rng`` as the NumPy engine draws them, ``grads`` (views into one flat buffer) overwritten
    by every call. ``descends``: with a ``learning_rate`` > 0 the step also updates ``params``
    in place, as ``train`` would (``grads`` then hold ``learning_rate x`` the gradient).
    ``descend`` runs many iterations in one kernel call.

    model: a ``Network`` (``params``, ``layer_dims``, ``lambd``, ``keep_prob``), float64.
    X: (n_x, m); Y: (1, m), already checked. Parameters that are views of one flat buffer in
    ``layout`` (``Network`` makes them so) are used in place; any others are copied in and,
    after an update, copied back.
    """

    descends = True
    engine = "compiled"

    def __init__(self, model, X: np.ndarray, Y: np.ndarray):
        from initreg.nn.backprop import DropoutMasks

        self.model = model
        self.kernel = kernel()
        dims = list(model.layer_dims)
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        self.Y = np.ascontiguousarray(Y, dtype=np.float64)
        m = self.X.shape[1]
        L = len(dims) - 1
        self.dims = np.asarray(dims, np.int64)
        self.w_at, self.b_at, self.a_at = offsets(dims, m)
        self.acts = np.empty(sum(dims[1:]) * m)
        self.deltas = np.empty(sum(dims[1:L]) * m)
        self.keep_prob = tuple(model.keep_prob)
        self.dropping = any(kp < 1.0 for kp in self.keep_prob)
        self.masks = np.empty(sum(dims[1:L]) * m if self.dropping else 0, bool)
        self.draws = DropoutMasks(dims, m)  # a RandomState's masks: drawn in Python
        for l, kp in enumerate(self.keep_prob, start=1):  # noqa: E741
            if kp < 1.0:  # DropoutMasks draws into these views of the flat mask buffer
                at = self.a_at[l]
                self.draws.masks[l] = self.masks[at:at + dims[l] * m].reshape(dims[l], m)
        self.keep_on = np.ones(L + 1)
        self.keep_on[1:L] = self.keep_prob
        self.keep_off = np.ones(L + 1)
        self.flat_grads = np.empty(size(dims))
        self.grads = views(self.flat_grads, dims)
        self.costs = np.empty(1)
        self._seen: tuple = ()  # (params dict, its arrays, their flat base) last found packed

    def _theta(self, params) -> np.ndarray | None:
        """The flat buffer ``params`` are views of, or None."""
        seen = self._seen
        if seen and seen[0] is params and all(params[k] is v for k, v in seen[1]):
            return seen[2]
        base = packed_base(params, self.model.layer_dims)
        self._seen = (params, tuple(params.items()), base) if base is not None else ()
        return base

    def _run(self, rng, learning_rate: float, start: int, stop: int, cost_every: int) -> int:
        """``descent_kernel`` over the model's parameters (copied back if they are not
        packed); returns how many costs it wrote to ``self.costs``."""
        params = self.model.params
        theta = self._theta(params)
        packed = theta is not None
        if not packed:
            theta = np.concatenate([np.asarray(params[k], np.float64).reshape(-1)
                                    for k in layout(self.model.layer_dims)])
        keep, pcg, generator = self.keep_off, NO_PCG64, rng
        if rng is not None and self.dropping:
            keep = self.keep_on
            if not isinstance(rng, np.random.Generator):  # numba draws from a Generator only
                self.draws.draw(self.keep_prob, rng)
                rng = None
            else:
                pcg = pcg64_state(rng)
                rng = None if pcg.size else rng
        else:
            rng = None
        written = self.kernel(theta, self.flat_grads, self.dims, self.w_at, self.b_at,
                              self.a_at, self.X, self.Y, self.acts, self.deltas, self.masks,
                              keep, self.model.lambd, rng, pcg, float(learning_rate), start,
                              stop, cost_every, self.costs)
        if pcg.size:
            set_pcg64_state(generator, pcg)
        if learning_rate and not packed:
            for k, v in views(theta, self.model.layer_dims).items():
                np.copyto(params[k], v)
        return written

    def __call__(self, rng, need_cost: bool, learning_rate: float = 0.0):
        self._run(rng, learning_rate, 0, 1, 1 if need_cost else 0)
        return (float(self.costs[0]) if need_cost else None), self.grads

    def descend(self, rng, start: int, stop: int, learning_rate: float,
                cost_every: int) -> np.ndarray:
        """Iterations ``start .. stop - 1`` of gradient descent at ``learning_rate`` in one
        kernel call, fresh masks from ``rng`` (a ``Generator``, or None: no dropout) every
        iteration; returns the costs of the iterations that are multiples of ``cost_every``
        (before their steps), in order: a view into a buffer that the next call overwrites."""
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng={rng!r} is not allowed; allowed: a numpy Generator or None")
        count = max(0, -(-stop // cost_every) - -(-start // cost_every))
        if self.costs.size < count:
            self.costs = np.empty(count)
        written = self._run(rng, learning_rate, start, stop, cost_every)
        return self.costs[:written]
