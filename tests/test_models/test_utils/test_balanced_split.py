import itertools
import random

import pytest

from mmseg_infopro.models.utils import balanced_split


def brute_force(costs, k, boundary):
    n = len(costs)
    best = None
    for points in itertools.combinations(range(1, n), k - 1):
        bounds = (0, ) + points + (n, )
        worst = max(
            sum(costs[a:b]) + boundary(b - 1, b == n)
            for a, b in zip(bounds[:-1], bounds[1:]))
        if best is None or worst < best[0]:
            best = (worst, points)
    return best


def cost_of(points, costs, boundary):
    bounds = (0, ) + tuple(points) + (len(costs), )
    return max(
        sum(costs[a:b]) + boundary(b - 1, b == len(costs))
        for a, b in zip(bounds[:-1], bounds[1:]))


@pytest.mark.parametrize('seed', range(20))
def test_matches_brute_force(seed):
    rng = random.Random(seed)
    n = rng.randint(2, 9)
    k = rng.randint(1, n)
    costs = [rng.randint(1, 50) for _ in range(n)]
    heads = [rng.randint(0, 30) for _ in range(n)]
    final = rng.randint(0, 60)

    def boundary(i, last):
        return final if last else heads[i]

    points = balanced_split(costs, k, boundary)
    assert len(points) == k - 1
    assert list(points) == sorted(set(points))
    assert cost_of(points, costs, boundary) == brute_force(costs, k,
                                                           boundary)[0]


def test_heads_shift_the_boundary():
    costs = [10] * 6
    assert balanced_split(costs, 2, lambda i, last: 0) == (3, )
    # An expensive final head pulls elements into the first module.
    assert balanced_split(costs, 2, lambda i, last: 20 if last else 0) == (4, )


def test_rejects_bad_k():
    with pytest.raises(ValueError, match='num_modules'):
        balanced_split([1, 2], 3, lambda i, last: 0)
