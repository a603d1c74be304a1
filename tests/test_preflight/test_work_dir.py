"""What tools/train.py does with a work dir that holds checkpoints."""
import pytest

from mmseg_infopro.preflight import prepare_work_dir


def test_used_work_dir(tmp_path):
    (tmp_path / 'iter_8.pth').write_bytes(b'old')
    (tmp_path / 'memory_budget.json').write_text('{"batch": 8}')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_8.pth'))
    assert prepare_work_dir(str(tmp_path), True, False) is None  # resume
    with pytest.raises(ValueError, match='--resume.*--overwrite'):
        prepare_work_dir(str(tmp_path), False, False)
    # Other ranks leave the moving to the main process.
    assert prepare_work_dir(str(tmp_path), False, True, None, False) is None
    message = prepare_work_dir(str(tmp_path), False, True)
    assert 'replaced_' in message
    aside, = tmp_path.glob('replaced_*')
    assert (aside / 'iter_8.pth').read_bytes() == b'old'
    # The batch its run chose goes with the checkpoints: --resume of the
    # new run must not take it.
    assert (aside / 'memory_budget.json').is_file()
    assert not (tmp_path / 'memory_budget.json').exists()
    assert not list(tmp_path.glob('*.pth'))
    assert not (tmp_path / 'last_checkpoint').exists()


def test_resume_with_nothing_to_resume(tmp_path):
    assert 'nothing is resumed' in prepare_work_dir(str(tmp_path), True,
                                                    False)
    assert prepare_work_dir(str(tmp_path), True, False, 'a.pth') is None
    assert prepare_work_dir(str(tmp_path), False, False) is None
