"""Choose module boundaries that minimise the largest module's cost."""
from typing import Any, Callable, List, Optional, Tuple

__all__ = ['split_by_cost']

_INF = float('inf')
#: Score of module [a, b), given whether it is the last one.
ModuleScore = Callable[[int, int, bool], Any]


def _optimal_split(n: int, num_modules: int, value: ModuleScore,
                   combine: Callable[[Any, Any], Any]) -> Tuple[int, ...]:
    """Exact DP over contiguous splits of ``n`` elements into modules.

    ``value(a, b, last)`` scores module ``[a, b)``; ``combine`` folds the
    scores of consecutive modules and must be monotone (a better prefix
    never makes the whole worse), which holds for ``max`` and for
    ``(sum, max)`` compared lexicographically. Ties go to earlier split
    points. O(K·N²).
    """

    def join(acc: Any, v: Any) -> Any:
        return v if acc is None else combine(acc, v)

    # best[k][b]: (best score of splitting [0, b) into k inner modules,
    # start of the k-th one).
    best: List[dict] = [{0: (None, 0)}]
    for k in range(1, num_modules):
        best.append({
            b:
            min((join(best[k - 1][a][0], value(a, b, False)), a)
                for a in best[k - 1] if a < b)
            for b in range(k, n)
        })
    k = num_modules - 1
    _, start = min(
        (join(best[k][a][0], value(a, n, True)), a) for a in best[k])
    points = []
    while k > 0:
        points.append(start)
        start = best[k][start][1]
        k -= 1
    return tuple(reversed(points))


def split_by_cost(num_elements: int,
                  num_modules: int,
                  module_cost: ModuleScore,
                  head_flops: Optional[Callable[[int], float]] = None,
                  tolerance: float = 0.0) -> Tuple[int, ...]:
    """Split a sequence into contiguous modules with the smallest maximum
    of ``module_cost(a, b, last)`` over the modules ``[a, b)``.

    Exact dynamic programming, O(K·N²) calls of ``module_cost``. With
    ``head_flops``, the split is chosen in two steps: the smallest
    achievable maximum M is found first; then, among the splits whose
    largest module costs at most ``(1 + tolerance) · M``, the one whose
    local heads need the fewest FLOPs is taken (ties: the smaller maximum).
    The backbone's own compute is the same for every split; the local heads
    are what a split adds.

    Args:
        num_elements (int): N, the length of the sequence.
        num_modules (int): K, between 1 and N.
        module_cost (Callable[[int, int, bool], float]): Cost of module
            ``[a, b)``; the flag tells whether it is the last one.
        head_flops (Callable[[int], float], optional): FLOPs of the local
            head trained on the output of element ``i`` (inner modules
            only). None ignores compute. Defaults to None.
        tolerance (float): How much larger than the minimum (as a fraction)
            the largest module may be to save local-head FLOPs; only used
            with ``head_flops``. Defaults to 0.

    Returns:
        tuple[int, ...]: K - 1 split points (the first element of each
        module after the first).

    Example:
        >>> split_by_cost(4, 2, lambda a, b, last: (b - a) * (2 if last
        ...                                                    else 1))
        (3,)
    """
    n = num_elements
    if not 1 <= num_modules <= n:
        raise ValueError(f'num_modules must be in 1..{n}, got {num_modules}.')
    if tolerance < 0:
        raise ValueError(f'tolerance must be >= 0, got {tolerance}.')
    points = _optimal_split(n, num_modules, module_cost, max)
    if head_flops is None or num_modules == 1:
        return points
    bounds = (0, ) + points + (n, )
    cap = (1 + tolerance) * max(
        module_cost(a, b, b == n) for a, b in zip(bounds[:-1], bounds[1:]))

    def flops_then_cost(a: int, b: int, last: bool) -> Tuple[float, float]:
        c = module_cost(a, b, last)
        if c > cap:
            return _INF, _INF
        return (0.0 if last else head_flops(b - 1)), c

    return _optimal_split(n, num_modules, flops_then_cost, lambda x, y:
                          (x[0] + y[0], max(x[1], y[1])))
