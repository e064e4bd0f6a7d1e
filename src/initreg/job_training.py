"""The training stage of a job: gradient descent with progress lines, the cost curve and the
per-layer statistics logged to its run in batches (``initreg.job`` runs it after the gate)."""

import logging
import math
import time

from omegaconf import DictConfig

from initreg.data import Dataset
from initreg.nn import History, mask_rng, stats, train

log = logging.getLogger("initreg.train")
# the finest cost step logged: a multiple of the loop's GUARD_EVERY (10), where the cost is
# computed anyway; the loop stops at each log point (a step of its own, the params scanned)
COST_EVERY = 20
COST_PER_DECADE = 20  # log-spaced cost points per decade of iterations


def cost_steps(num_iterations: int, log_every: int, every: int = COST_EVERY,
               per_decade: int = COST_PER_DECADE) -> set[int]:
    """The iterations whose cost is logged: 0, every ``log_every``, the last, and log-spaced
    points (``per_decade`` a decade, on multiples of ``every``) where the cost moves most.

    A default run falls from 0.66 to 0.26 in its first 100 of 30,000 iterations: every 1000
    alone puts that whole drop between the first two points. About 80 points for 30,000.
    """
    last = num_iterations - 1
    steps = set(range(0, num_iterations, log_every)) | {last}
    for k in range(int(per_decade * math.log10(max(last, 1))) + 1):
        i = math.ceil(10 ** (k / per_decade) / every) * every
        if i <= last:
            steps.add(i)
    return steps


def train_model(cfg: DictConfig, model, ds: Dataset, run,
                start_stats: dict | None = None) -> History:
    """Gradient descent with progress lines; the cost and per-layer statistics logged in batches.

    ``cost`` at the iterations of :func:`cost_steps` (log-spaced early, then every
    ``log_every``); at iteration 0 and every ``log_every`` also a progress line and, when the
    params follow ``W1, b1, ..., WL, bL`` (else silently nothing), ``act_mean_l{l}``,
    ``act_std_l{l}`` (on the training inputs, no dropout), ``grad_norm_l{l}`` (the gradients
    this iteration's step uses, kept on the way by a ``GradRecorder``: no extra backprop) and
    ``symmetry_l1``; at iteration 0 these are ``start_stats`` (``measure_start``'s, already
    logged) when given. The first and last of them are kept as ``history.layer_stats``;
    ``history`` holds the logged costs.
    """
    t = cfg.train
    start = time.perf_counter()
    recorder = stats.GradRecorder(model)
    measured = stats.layer_count(model.params) is not None
    kept: dict[str, tuple[int, dict]] = {"start": (0, start_stats)} if start_stats else {}
    num_iterations, log_every = t.num_iterations, t.log_every
    steps = cost_steps(num_iterations, log_every)
    last = num_iterations - 1

    def on_log(i: int, cost: float, _model) -> None:
        run.add_metric("cost", cost, i)
        if i % log_every and i != last:  # a log-spaced cost point only
            return
        if i == 0 and start_stats:
            layer = start_stats
        else:
            layer = stats.layer_stats(model.params, ds.X_train, recorder.grads) if measured \
                else None
            if layer is not None:
                run.add_metrics(layer, step=i)
        if layer is not None:
            kept.setdefault("start", (i, layer))
            kept["end"] = (i, layer)
        log.info("iteration %d/%d  cost %.6f  elapsed %.1fs", i, num_iterations, cost,
                 time.perf_counter() - start)

    rng = mask_rng(cfg.convention, cfg.seed) if cfg.reg.keep_prob < 1 else None
    history = train(recorder, ds.X_train, ds.Y_train, learning_rate=t.learning_rate,
                    num_iterations=num_iterations, rng=rng, log_every=log_every,
                    log_at=steps,  # the log points are `steps`, no others
                    callback=on_log, divergence_factor=t.divergence_factor, engine=t.engine)
    history.layer_stats = kept
    return history
