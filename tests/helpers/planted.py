"""Models with planted backprop bugs, passed to the pipeline as ``model._target_``."""

import numpy as np

from initreg.nn import Network


class DoubledW1Net(Network):
    """A Network whose dW1 is twice what it should be, like the course's planted dW2 bug."""

    def cost_and_grads(self, X, Y, rng=None):
        cost, grads = super().cost_and_grads(X, Y, rng=rng)
        grads["W1"] = 2 * grads["W1"]
        return cost, grads


class CrashingNet(Network):
    """A Network whose training step raises after a few full-batch iterations (a crash)."""

    calls_before_crash = 5

    def cost_and_grads(self, X, Y, rng=None):
        if X.shape[1] > 64:  # the gate checks a 64-column batch; training uses all columns
            self.calls_before_crash -= 1
            if self.calls_before_crash < 0:
                raise RuntimeError("boom: the planted crash")
        return super().cost_and_grads(X, Y, rng=rng)


BUGS = ("sign", "no_mean", "transposed", "dropout_backward", "no_l2_grad")


class PlantedBugNet:
    """The course's forward and backward pass written out plainly, with one planted bug (or none).

    Weights are a ``Network``'s (same arguments), so a planted net starts where the Network
    does; its own ``cost_and_grads`` (same signature, same dropout draws) does the arithmetic.
    ``bug``: None (correct: agrees with the Network and with PyTorch), or one of ``BUGS``:

    - ``sign``: dW2 with the wrong sign;
    - ``no_mean``: the output layer's dW and db without the 1/m;
    - ``transposed``: dW2 transposed (W2 must be square, else a real one would crash);
    - ``dropout_backward``: the dropout mask not applied to dA in the backward pass;
    - ``no_l2_grad``: the L2 term in the cost but not in the gradient.
    """

    def __init__(self, layer_dims, bug=None, init="he", lambd=0.0, keep_prob=1.0, seed=0,
                 **network_kwargs):
        if bug is not None and bug not in BUGS:
            raise ValueError(f"bug={bug!r} is not known; allowed: None, {', '.join(BUGS)}")
        self.params = Network(layer_dims, init=init, lambd=lambd, keep_prob=keep_prob,
                              seed=seed, **network_kwargs).params
        if bug == "transposed" and self.params["W2"].shape[0] != self.params["W2"].shape[1]:
            raise ValueError(f"bug='transposed' needs a square W2, not {self.params['W2'].shape}")
        self.bug, self.lambd = bug, float(lambd)
        self.num_layers = len(layer_dims) - 1
        hidden = self.num_layers - 1
        self.keep_prob = [float(keep_prob)] * hidden if np.isscalar(keep_prob) else list(keep_prob)

    def cost_and_grads(self, X, Y, rng=None):
        """Cross-entropy + L2 and its (planted) gradients; X (n_x, m), Y (1, m)."""
        p, L, m, bug = self.params, self.num_layers, X.shape[1], self.bug
        A, Z, D = [X], [None], [None]
        for l in range(1, L):  # noqa: E741
            Z.append(p[f"W{l}"] @ A[-1] + p[f"b{l}"])
            a = np.maximum(0.0, Z[l])
            kp = self.keep_prob[l - 1]
            D.append(rng.random(a.shape) < kp if rng is not None and kp < 1.0 else None)
            A.append(a * D[l] / kp if D[l] is not None else a)
        ZL = p[f"W{L}"] @ A[-1] + p[f"b{L}"]
        weights = sum(np.sum(np.square(p[f"W{l}"])) for l in range(1, L + 1))  # noqa: E741
        loss = np.maximum(ZL, 0) - Y * ZL + np.log1p(np.exp(-np.abs(ZL)))  # stable cross-entropy
        cost = float(np.sum(loss) / m + self.lambd / (2 * m) * weights)
        grads = {}
        dZ = 1 / (1 + np.exp(-ZL)) - Y  # d(m * cost)/dZ_L
        for l in range(L, 0, -1):  # noqa: E741
            mean = 1.0 if (bug == "no_mean" and l == L) else 1.0 / m
            l2 = 0.0 if bug == "no_l2_grad" else self.lambd / m
            grads[f"W{l}"] = mean * dZ @ A[l - 1].T + l2 * p[f"W{l}"]
            grads[f"b{l}"] = mean * np.sum(dZ, axis=1, keepdims=True)
            if l == 1:
                break
            dA = p[f"W{l}"].T @ dZ
            if D[l - 1] is not None:
                kp = self.keep_prob[l - 2]
                dA = dA / kp if bug == "dropout_backward" else dA * D[l - 1] / kp
            dZ = dA * (Z[l - 1] > 0)
        if bug == "sign":
            grads["W2"] = -grads["W2"]
        if bug == "transposed":
            grads["W2"] = grads["W2"].T
        return cost, grads


def gaussian_examples(seed: int, n_x: int = 3, m: int = 40):
    """Issue 12's data: X (n_x, m) standard normal, Y (1, m) fair coin flips, from one seed."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_x, m))
    return X, (rng.random((1, m)) > 0.5).astype(float)


# Issue 12: with Network([3, 8, 5, 1], init="he", lambd=0.7, keep_prob=kp, seed=s) on
# gaussian_examples(s) and masks seeded by s, these of the seeds 200-249 sit on a ReLU kink.
ISSUE_KINK_SEEDS = {0.86: {217, 224, 229, 233, 237, 243, 249}, 1.0: {249}}
