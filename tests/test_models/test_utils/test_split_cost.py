"""split_by_cost: the exact search for the split whose largest module
costs least (and, within a tolerance, whose local heads cost fewest FLOPs),
against brute force, with module costs made of per-element costs, the heads
on a module's output and what earlier modules leave alive."""
import itertools
import random

import pytest

from mmseg_infopro.models.utils import split_by_cost


def balanced_split(element_costs, num_modules, boundary_cost, head_flops=None,
                   tolerance=0.0, live_cost=None):
    """The cost of module [a, b): its elements, the head(s) trained on its
    output and what is alive from earlier modules when it starts."""

    def cost(a, b, last):
        alive = live_cost(a) if live_cost is not None else 0
        return sum(element_costs[a:b]) + boundary_cost(b - 1, last) + alive

    return split_by_cost(
        len(element_costs), num_modules, cost, head_flops, tolerance)


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


@pytest.mark.parametrize('seed', range(10))
def test_live_cost_matches_brute_force(seed):
    """Stage outputs kept for the final heads weigh on later modules."""
    rng = random.Random(seed)
    n = rng.randint(2, 9)
    k = rng.randint(1, n)
    costs = [rng.randint(1, 50) for _ in range(n)]
    kept = [rng.choice([0, 0, 20]) for _ in range(n)]  # after element i

    def live(a):
        return sum(kept[:a])

    best = min(
        max(
            sum(costs[a:b]) + live(a)
            for a, b in zip((0, ) + p, p + (n, )))
        for p in itertools.combinations(range(1, n), k - 1))
    points = balanced_split(costs, k, lambda i, last: 0, live_cost=live)
    bounds = (0, ) + points + (n, )
    assert max(
        sum(costs[a:b]) + live(a)
        for a, b in zip(bounds[:-1], bounds[1:])) == best


def test_heads_shift_the_boundary():
    costs = [10] * 6
    assert balanced_split(costs, 2, lambda i, last: 0) == (3, )
    # An expensive final head pulls elements into the first module.
    assert balanced_split(costs, 2, lambda i, last: 20 if last else 0) == (4, )


@pytest.mark.parametrize('seed', range(20))
@pytest.mark.parametrize('tolerance', [0.0, 0.1, 0.5])
def test_cheapest_heads_within_tolerance_matches_brute_force(seed, tolerance):
    rng = random.Random(seed)
    n = rng.randint(2, 9)
    k = rng.randint(1, n)
    costs = [rng.randint(1, 50) for _ in range(n)]
    heads = [rng.randint(0, 30) for _ in range(n)]
    flops = [rng.randint(1, 4) for _ in range(n)]

    def boundary(i, last):
        return 0 if last else heads[i]

    cap = (1 + tolerance) * brute_force(costs, k, boundary)[0]
    feasible = [(sum(flops[p - 1]
                     for p in points), cost_of(points, costs, boundary))
                for points in itertools.combinations(range(1, n), k - 1)
                if cost_of(points, costs, boundary) <= cap]
    points = balanced_split(costs, k, boundary, flops.__getitem__, tolerance)
    assert cost_of(points, costs, boundary) <= cap
    assert (sum(flops[p - 1]
                for p in points), cost_of(points, costs,
                                          boundary)) == min(feasible)


def test_tolerance_trades_memory_for_cheaper_heads():
    costs = [10] * 6
    no_flops = balanced_split(costs, 2, lambda i, last: 0)
    assert no_flops == (3, )
    # The head on element 2's output is expensive, on element 3's cheap.
    flops = [5, 5, 9, 1, 5, 5].__getitem__
    assert balanced_split(costs, 2, lambda i, last: 0, flops, 0.0) == (3, )
    # Module 1 = 4 elements costs 40 against the balanced 30: a third more.
    assert balanced_split(costs, 2, lambda i, last: 0, flops, 0.3) == (3, )
    assert balanced_split(costs, 2, lambda i, last: 0, flops, 0.34) == (4, )


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match='num_modules'):
        balanced_split([1, 2], 3, lambda i, last: 0)
    with pytest.raises(ValueError, match='tolerance'):
        balanced_split([1, 2], 2, lambda i, last: 0, lambda i: 1, -0.1)
