"""Threads for the blocked gradient: as many as the BLAS would use, with the BLAS on one inside.

On large batches most of a step is element-wise passes (ReLU, masks, sums) that NumPy runs on one
core, between thin matrix products that the BLAS spreads over its threads. Splitting the column
blocks between Python threads instead, each block's products on one BLAS thread, keeps every core
busy for the whole step (NumPy releases the GIL inside its loops and BLAS calls). Two threads
that each call a multi-threaded BLAS would oversubscribe the cores, so the BLAS is held to one
thread while the blocks run and given back its setting afterwards (``threadpoolctl``; the limit
is process-wide for that moment). One thread holds it to one thread too: a product the BLAS
splits between its threads can round differently, and the count must not change the bits.

The thread count defaults to the BLAS's own (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``, else
the cores), so a sweep that gives each job one BLAS thread gets one-thread steps.
"""

import threading
from collections.abc import Callable

from threadpoolctl import ThreadpoolController


def check_threads(threads) -> int | None:
    """``threads`` as an int >= 1 or None, or a one-line ValueError."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads={threads!r} is not allowed; allowed: an integer >= 1 or "
                         "None (as many as the BLAS uses)")
    return threads


class StepThreads:
    """Runs ``fn(0) ... fn(n - 1)`` on n threads (the caller's among them) with a one-thread BLAS.

    threads: how many; None reads the BLAS's own thread count once, here.
    """

    def __init__(self, threads: int | None = None):
        threads = check_threads(threads)
        self._controller = ThreadpoolController()
        if threads is None:
            blas = [lib.num_threads for lib in self._controller.lib_controllers
                    if lib.user_api == "blas"]
            threads = max(blas, default=1)
        self.count = max(1, threads)

    def run(self, fn: Callable[[int], None], n: int) -> None:
        """Call ``fn(t)`` for t in 0..n-1, in parallel when n > 1; re-raise the first error.

        The BLAS runs one thread for every n, 1 included: a product split between BLAS threads
        can round differently, and then the thread count would change the bits.
        """
        errors: list[BaseException] = []

        def target(t: int) -> None:
            try:
                fn(t)
            except BaseException as err:  # noqa: BLE001 - handed to the calling thread
                errors.append(err)

        with self._controller.limit(limits=1, user_api="blas"):
            if n <= 1:
                fn(0)
                return
            others = [threading.Thread(target=target, args=(t,), daemon=True)
                      for t in range(1, n)]
            for th in others:
                th.start()
            target(0)
            for th in others:
                th.join()
        if errors:
            raise errors[0]
