"""Models with planted backprop bugs, passed to the pipeline as ``model._target_``."""

from initreg.nn import Network


class DoubledW1Net(Network):
    """A Network whose dW1 is twice what it should be, like the course's planted dW2 bug."""

    def cost_and_grads(self, X, Y, rng=None):
        cost, grads = super().cost_and_grads(X, Y, rng=rng)
        grads["W1"] = 2 * grads["W1"]
        return cost, grads
