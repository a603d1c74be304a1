"""Choose module boundaries that minimise the largest module's cost."""
from typing import Callable, List, Sequence, Tuple

__all__ = ['balanced_split']


def balanced_split(
        element_costs: Sequence[float], num_modules: int,
        boundary_cost: Callable[[int, bool], float]) -> Tuple[int, ...]:
    """Split a sequence into contiguous modules with the smallest maximum.

    The cost of a module ``[a, b)`` is ``sum(element_costs[a:b]) +
    boundary_cost(b - 1, is_last)``: its elements plus whatever trains on
    its output (a local head for inner modules, the task heads for the
    last one). Exact dynamic programming, O(K·N²).

    Args:
        element_costs (Sequence[float]): Cost of every element.
        num_modules (int): K, between 1 and ``len(element_costs)``.
        boundary_cost (Callable[[int, bool], float]): Cost of the head(s)
            trained on the output of element ``i``; the flag tells whether
            the module is the last one.

    Returns:
        tuple[int, ...]: K - 1 split points (the first element of each
        module after the first).

    Example:
        >>> balanced_split([1, 1, 1, 1], 2, lambda i, last: 0)
        (2,)
    """
    n = len(element_costs)
    if not 1 <= num_modules <= n:
        raise ValueError(f'num_modules must be in 1..{n}, got {num_modules}.')
    prefix = [0.0]
    for c in element_costs:
        prefix.append(prefix[-1] + c)

    def cost(a: int, b: int, last: bool) -> float:
        return prefix[b] - prefix[a] + boundary_cost(b - 1, last)

    inf = float('inf')
    # best[k][b]: smallest max cost of splitting elements [0, b) into k inner
    # modules (none of them the last); choice[k][b]: start of the k-th one.
    best: List[List[float]] = [[inf] * (n + 1) for _ in range(num_modules)]
    choice: List[List[int]] = [[0] * (n + 1) for _ in range(num_modules)]
    best[0][0] = 0.0
    for k in range(1, num_modules):
        for b in range(k, n):
            for a in range(k - 1, b):
                value = max(best[k - 1][a], cost(a, b, False))
                if value < best[k][b]:
                    best[k][b], choice[k][b] = value, a
    k = num_modules - 1
    start = min(range(k, n), key=lambda a: max(best[k][a], cost(a, n, True)))
    points = []
    while k > 0:
        points.append(start)
        start = choice[k][start]
        k -= 1
    return tuple(reversed(points))
