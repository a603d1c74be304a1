"""Outputs the user names: never over an input, never half written."""
import os
import stat

import pytest

from mmseg_infopro.utils import (OutputError, check_output_file,
                                 replaced_atomically)


def test_an_input_is_never_an_output(tmp_path):
    src = tmp_path / 'in.pth'
    src.write_bytes(b'input')
    link = tmp_path / 'link.pth'
    link.symlink_to(src)
    other_spelling = tmp_path / 'sub' / '..' / 'in.pth'
    (tmp_path / 'sub').mkdir()
    for path in (src, link, other_spelling):
        with pytest.raises(OutputError, match='is the input'):
            check_output_file(str(path), [None, str(src)], overwrite=True)
    check_output_file(str(tmp_path / 'out.pth'), [str(src)])


def test_existing_missing_and_unwritable_places(tmp_path):
    out = tmp_path / 'out.json'
    out.write_text('{}')
    with pytest.raises(OutputError, match='pass --overwrite'):
        check_output_file(str(out))
    check_output_file(str(out), overwrite=True)
    with pytest.raises(OutputError, match='is a folder'):
        check_output_file(str(tmp_path), overwrite=True)
    missing = tmp_path / 'missing' / 'out.json'
    with pytest.raises(OutputError, match='does not exist; create it'):
        check_output_file(str(missing))
    check_output_file(str(missing), makes_folder=True)
    locked = tmp_path / 'locked'
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.access(locked, os.W_OK):
        pytest.skip('this user writes anywhere (root)')
    with pytest.raises(OutputError, match='permission denied'):
        check_output_file(str(locked / 'out.json'))


def test_a_failed_write_leaves_the_old_file(tmp_path):
    out = tmp_path / 'model.pth'
    out.write_bytes(b'good')
    with pytest.raises(RuntimeError):
        with replaced_atomically(str(out)) as tmp:
            with open(tmp, 'wb') as f:
                f.write(b'half')
            raise RuntimeError('interrupted')
    assert out.read_bytes() == b'good'
    assert os.listdir(tmp_path) == ['model.pth']
    with replaced_atomically(str(out)) as tmp:
        assert tmp.endswith('.pth')  # writers pick the format by it
        with open(tmp, 'wb') as f:
            f.write(b'new')
    assert out.read_bytes() == b'new'
    assert os.listdir(tmp_path) == ['model.pth']
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
