"""The contenders initreg's ``train`` is timed against, each doing the same full-batch training.

Every contender trains a ``[n_x, ..., 1]`` ReLU net with a sigmoid output and cross-entropy,
float64, examples as columns, plain batch gradient descent, starting from the same parameters:

- ``hand_loop``: a hand-written NumPy loop in the course's style (``np.dot``, the cost computed
  every iteration, ``np.int64(A > 0)`` masks, new arrays for every temporary);
- ``lean_loop``: a lean hand-written NumPy loop (no cost, each layer updated in the backward
  pass as soon as its gradient is known), with inverted dropout drawn like initreg's;
- ``torch_steps``: PyTorch on the CPU, ``nn.Sequential`` + ``BCEWithLogitsLoss`` + ``optim.SGD``;
- ``jax_steps``: JAX, the whole loop jitted (``lax.fori_loop`` over ``value_and_grad`` steps).

Each ``make_*`` returns ``run(iterations) -> params`` (a dict like initreg's ``W1, b1, ...``) so
the benchmark can time it and the tests can check that it computes what initreg computes: both
are compared with gradient descent on ``initreg.nn.layers.reference_cost_and_grads`` (the hand
loop and initreg to the bit, PyTorch and JAX to rounding). ``hand_loop`` stays written out, not
built on the reference, so that it times the course's lean loop.
"""

import numpy as np


def hand_loop(params: dict, X: np.ndarray, Y: np.ndarray, learning_rate: float):
    """The course's model(): forward, cost, backward, update, with every line written out."""
    params = {k: v.copy() for k, v in params.items()}
    L = len(params) // 2
    m = X.shape[1]

    def run(iterations: int) -> dict:
        with np.errstate(divide="ignore", invalid="ignore"):  # log(0) where AL saturates
            return _steps(iterations)

    def _steps(iterations: int) -> dict:
        for _ in range(iterations):
            caches = [X]
            A = X
            for l in range(1, L):  # noqa: E741
                Z = np.dot(params[f"W{l}"], A) + params[f"b{l}"]
                A = np.maximum(0, Z)
                caches.append(A)
            ZL = np.dot(params[f"W{L}"], A) + params[f"b{L}"]
            AL = 1 / (1 + np.exp(-ZL))
            logprobs = np.multiply(-np.log(AL), Y) + np.multiply(-np.log(1 - AL), 1 - Y)
            cost = 1.0 / m * np.nansum(logprobs)  # noqa: F841 - the course computes it every time
            dZ = 1.0 / m * (AL - Y)
            grads = {}
            for l in range(L, 0, -1):  # noqa: E741
                A_prev = caches[l - 1]
                grads[f"W{l}"] = np.dot(dZ, A_prev.T)
                grads[f"b{l}"] = np.sum(dZ, axis=1, keepdims=True)
                if l > 1:
                    dA = np.dot(params[f"W{l}"].T, dZ)
                    dZ = np.multiply(dA, np.int64(A_prev > 0))
            for k in params:
                params[k] = params[k] - learning_rate * grads[k]
        return params

    return run


def lean_loop(params: dict, X: np.ndarray, Y: np.ndarray, learning_rate: float,
              keep_prob: float = 1.0, rng: np.random.Generator | None = None):
    """The leanest plain NumPy step: no cost, each layer's update in the backward pass.

    keep_prob < 1: inverted dropout on every hidden layer, masks ``rng.random((n_l, m)) <
    keep_prob`` drawn layer by layer (initreg's order, so the same generator gives the same
    masks), fresh every iteration.
    """
    params = {k: v.copy() for k, v in params.items()}
    L = len(params) // 2
    m = X.shape[1]

    def run(iterations: int) -> dict:
        for _ in range(iterations):
            acts, A = [X], X
            for l in range(1, L):  # noqa: E741
                A = np.maximum(0.0, params[f"W{l}"] @ A + params[f"b{l}"])
                if keep_prob < 1.0:
                    A = A * (rng.random(A.shape) < keep_prob) / keep_prob
                acts.append(A)
            ZL = params[f"W{L}"] @ A + params[f"b{L}"]
            dZ = (1.0 / (1.0 + np.exp(-ZL)) - Y) / m
            for l in range(L, 0, -1):  # noqa: E741
                W, A_prev = params[f"W{l}"], acts[l - 1]
                dW, db = dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)
                if l > 1:
                    dA = W.T @ dZ
                    if keep_prob < 1.0:
                        dA = dA / keep_prob
                    dZ = dA * (A_prev > 0)
                params[f"W{l}"] = W - learning_rate * dW
                params[f"b{l}"] = params[f"b{l}"] - learning_rate * db
        return params

    return run


def torch_available() -> str | None:
    """None when PyTorch imports, else the reason it does not."""
    try:
        import torch  # noqa: F401
    except ImportError as err:
        return f"PyTorch is not installed ({err}); `pip install -e '.[bench]'` adds it"
    return None


def jax_available() -> str | None:
    """None when JAX imports, else the reason it does not."""
    try:
        import jax  # noqa: F401
    except ImportError as err:
        return f"JAX is not installed ({err}); `pip install jax jaxlib` adds it"
    return None


def torch_steps(params: dict, X: np.ndarray, Y: np.ndarray, learning_rate: float,
                threads: int | None = None):
    """PyTorch CPU float64: nn.Sequential of Linear/ReLU, BCEWithLogitsLoss, optim.SGD."""
    import torch
    from torch import nn

    if threads is not None:
        torch.set_num_threads(threads)
    L = len(params) // 2
    mods: list = []
    for l in range(1, L + 1):  # noqa: E741
        W = params[f"W{l}"]
        lin = nn.Linear(W.shape[1], W.shape[0]).double()
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(params[f"b{l}"].ravel()))
        mods += [lin, nn.ReLU()] if l < L else [lin]
    model = nn.Sequential(*mods)
    loss_fn = nn.BCEWithLogitsLoss()
    opt = torch.optim.SGD(model.parameters(), lr=learning_rate)
    Xt = torch.from_numpy(np.ascontiguousarray(X.T))  # PyTorch puts examples in rows
    Yt = torch.from_numpy(np.ascontiguousarray(Y.T))

    def run(iterations: int) -> dict:
        if threads is not None:
            torch.set_num_threads(threads)
        for _ in range(iterations):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xt), Yt)
            loss.backward()
            opt.step()
        out = {}
        for i, lin in enumerate(m for m in model if isinstance(m, nn.Linear)):
            out[f"W{i + 1}"] = lin.weight.detach().numpy().copy()
            out[f"b{i + 1}"] = lin.bias.detach().numpy().reshape(-1, 1).copy()
        return out

    return run


def jax_steps(params: dict, X: np.ndarray, Y: np.ndarray, learning_rate: float):
    """JAX float64 on the CPU, ``iterations`` steps in one jitted ``lax.fori_loop``."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    L = len(params) // 2
    Xj, Yj = jnp.asarray(X), jnp.asarray(Y)

    def cost(p):
        A = Xj
        for l in range(1, L):  # noqa: E741
            A = jax.nn.relu(p[f"W{l}"] @ A + p[f"b{l}"])
        Z = p[f"W{L}"] @ A + p[f"b{L}"]
        return jnp.mean(jax.nn.softplus(Z) - Yj * Z)

    grad = jax.grad(cost)

    def body(_, p):
        g = grad(p)
        return {k: p[k] - learning_rate * g[k] for k in p}

    @jax.jit
    def many(p, n):
        return jax.lax.fori_loop(0, n, body, p)

    state = {"p": {k: jnp.asarray(v) for k, v in params.items()}}
    jax.block_until_ready(many(state["p"], 1))  # compile outside the timings

    def run(iterations: int) -> dict:
        state["p"] = jax.block_until_ready(many(state["p"], iterations))
        return {k: np.asarray(v) for k, v in state["p"].items()}

    return run


def flops_per_iteration(layer_dims, m: int) -> float:
    """Floating-point operations of the matrix products of one step (forward, dW, dA), per batch.

    The element-wise work is not counted: this is the figure GFLOP/s are quoted in.
    """
    pairs = list(zip(layer_dims[:-1], layer_dims[1:], strict=True))
    forward = sum(2.0 * n * p * m for p, n in pairs)
    backward_dW = forward
    backward_dA = sum(2.0 * n * p * m for p, n in pairs[1:])
    return forward + backward_dW + backward_dA
