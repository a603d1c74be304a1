"""The memory-budget search (mmseg_infopro.memory_budget.BudgetSearch) on
memory models standing in for the trial steps (its ``trial`` argument), and
the planner's first guess."""
import pytest

from mmseg_infopro.memory_budget import (BudgetSearch, batch_pixels,
                                         check_margin, crop_ladder,
                                         format_size, parse_size,
                                         planner_prediction)

DEMO = ('configs/demo/'
        'deeplabv3-infopro_r18-d8_1xb4-300_synthetic-cityscapes-128x256.py')
MB = 2**20


def memory_model(fixed_mb, mb_per_image, runs, cuda=False):
    """Trial steps of a model with ``fixed_mb + mb_per_image`` per image of
    64x128 (scaled by pixels); CUDA-like: no peak for a step over the
    limit, as an out-of-memory step reports."""

    def trial(config,
              spec,
              batch,
              crop,
              device,
              memory_fraction=None,
              **kwargs):
        runs.append((batch, tuple(crop)))
        mb = fixed_mb + mb_per_image * batch * crop[0] * crop[1] / (64 * 128)
        if cuda and mb > memory_fraction * 1000:
            return dict(case=spec, batch=batch, crop=list(crop), fits=False)
        return dict(
            case=spec, batch=batch, crop=list(crop), fits=True, peak_mb=mb)

    return trial


@pytest.mark.parametrize('text, expected', [('24GB', 24 * 2**30),
                                            ('800MB', 800 * MB),
                                            ('1.5GiB', 1.5 * 2**30),
                                            ('11g', 11 * 2**30), ('512', 512)])
def test_sizes_parse_in_binary_units(text, expected):
    assert parse_size(text) == int(expected)


@pytest.mark.parametrize('text', ['lots', '0GB', '-3GB', '24 GBs', ''])
def test_a_malformed_size_names_the_flag_and_the_text(text):
    with pytest.raises(ValueError, match=f'--memory-budget {text!r}'):
        parse_size(text)


def test_format_size():
    assert format_size(1.5 * 2**30) == '1.5GB'
    assert format_size(300 * MB) == '300MB'


def test_crop_ladder_keeps_aspect_ratio_and_stride():
    ladder = crop_ladder((512, 1024))
    assert ladder[0] == (64, 128) and ladder[-1] == (1024, 2048)
    assert all(h % 32 == 0 and w == 2 * h for h, w in ladder)
    assert all(a[0] < b[0] for a, b in zip(ladder, ladder[1:]))
    # 176x240 (not a multiple of 32): widths rounded to 32 at its ratio.
    assert all(w % 32 == 0 and abs(w / h - 240 / 176) < 0.25
               for h, w in crop_ladder((176, 240)))


@pytest.mark.parametrize('guess', [None, 'good', 'far'])
def test_largest_batch_is_a_fit_next_to_a_failure(guess):
    runs = []
    search = BudgetSearch('cfg.py', 100 * MB, margin=0, max_batch=32,
                          trial=memory_model(20, 10, runs))
    if guess == 'good':  # the planner's slope a little off
        search._fixed, search._slope = 15, 9 / (64 * 128)
    elif guess == 'far':  # half the real slope (a CPU workspace unmodelled)
        search._fixed, search._slope = 20, 5 / (64 * 128)
    # (100 - 20) MB / 10 MB per image.
    assert search.largest_batch((64, 128)) == 8
    batches = [b for b, _ in runs]
    assert 8 in batches and 9 in batches
    assert len(runs) <= (3 if guess == 'good' else 4), runs
    # Every trial of another crop continues from the model measured: two
    # trials for 128x256 (2 fits, 3 does not).
    runs.clear()
    assert search.largest_batch((128, 256)) == 2
    assert sorted(runs) == [(2, (128, 256)), (3, (128, 256))]


def test_out_of_memory_trials_without_a_peak_still_converge():
    """On CUDA a step over the cap reports no peak: a bound, no measure."""
    runs = []
    search = BudgetSearch('cfg.py', 100 * MB, margin=0, max_batch=32,
                          trial=memory_model(20, 10, runs, cuda=True))
    search.fraction = 0.1  # 100 of a 1000 MB "card"
    search._fixed, search._slope = 20, 2 / (64 * 128)  # guesses 32
    assert search.largest_batch((64, 128)) == 8
    assert {8, 9} <= {b for b, _ in runs}


def test_margin_budget_cap_and_nothing_that_fits():
    runs = []
    trial = memory_model(20, 10, runs)
    # 10 % of 100 MB kept free: 90 MB for the step, 7 images.
    search = BudgetSearch('cfg.py', 100 * MB, margin=0.1, trial=trial)
    assert search.limit == 90 * MB
    assert search.largest_batch((64, 128)) == 7
    # Capped by max_batch: the largest is run and fits.
    search = BudgetSearch('cfg.py', 100 * MB, margin=0, max_batch=4,
                          trial=trial)
    assert search.largest_batch((64, 128)) == 4
    # Below one image: 0 after the trial of batch 1.
    runs.clear()
    search = BudgetSearch('cfg.py', 25 * MB, margin=0, trial=trial)
    assert search.largest_batch((64, 128)) == 0
    assert runs == [(1, (64, 128))] and not search.trials[0]['fits']


@pytest.mark.parametrize('margin, max_batch', [(1.0, 8), (-0.1, 8), (0.1, 0)])
def test_bad_search_arguments(margin, max_batch):
    with pytest.raises(ValueError):
        BudgetSearch('cfg.py', MB, margin=margin, max_batch=max_batch)


def test_the_margin_and_pixels_rules():
    """One check of the margin for every flag that takes one, and the
    pixels a candidate is ordered by."""
    assert check_margin(0.0) == 0.0 and check_margin(0.5) == 0.5
    for bad in (1.0, -0.1):
        with pytest.raises(ValueError, match=f'--memory-margin {bad}'):
            check_margin(bad)
    with pytest.raises(ValueError, match='--margin 1.5'):
        check_margin(1.5, '--margin')
    assert batch_pixels(3, (64, 128)) == 3 * 64 * 128


def test_largest_crop_keeps_the_batch():
    runs = []
    search = BudgetSearch('cfg.py', 200 * MB, margin=0,
                          trial=memory_model(20, 10, runs))
    # 2 images: 180 MB / 20 MB per 64x128 pixels = 9 x 8192 pixels; the
    # ladder of 128x256 (64x128, 96x192, ..., 256x512): 192x384 is 9.
    assert search.largest_crop(2, (128, 256)) == (192, 384)
    assert {b for b, _ in runs} == {2}
    assert (2, (224, 448)) in runs


def test_the_planner_models_infopro_lighter_than_e2e():
    """The first guess: InfoPro K = 2's modelled memory grows more slowly
    with the batch than E2E's (K = 1); not InfoPro's config: no model."""
    e2e = planner_prediction(DEMO, 'e2e', [], (64, 128))
    k2 = planner_prediction(DEMO, 'k2', [], (64, 128))
    assert 0 < k2[1] < e2e[1]
    assert all(v > 0 for v in k2)


def test_a_budget_larger_than_the_card_is_capped_and_said(monkeypatch):
    import types

    import torch
    monkeypatch.setattr(torch.cuda, 'get_device_properties',
                        lambda device: types.SimpleNamespace(
                            total_memory=80 * 2**30))
    search = BudgetSearch('cfg.py', 100 * 2**30, device='cuda:0')
    assert search.budget == 80 * 2**30
    assert search.notes == [
        'the budget 100GB is more than cuda:0 has (80GB): capped to it.'
    ]
    # Trials run under a cap of the card less the margin.
    assert search.fraction == pytest.approx(0.9)
