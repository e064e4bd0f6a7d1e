"""Models with planted backprop bugs, passed to the pipeline as ``model._target_``."""

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
