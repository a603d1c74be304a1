"""Drawing of test predictions into a folder, one file per test image.

mmseg's ``SegVisualizationHook`` passes ``runner.iter`` as the step of each
drawing; during a test that builds the training loop, and with it the train
dataloader, so a machine without the train split fails at the first drawing.
It also draws only every 50th batch unless told otherwise, and leaves the
images in the visualizer's backends (``vis_data/vis_image/``).
"""
import os.path as osp
from typing import Optional, Sequence

import mmcv
import mmengine.fileio as fileio
from mmengine.runner import Runner
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.registry import HOOKS
from mmseg.structures import SegDataSample

__all__ = ['SegTestVisualizationHook']


@HOOKS.register_module()
class SegTestVisualizationHook(SegVisualizationHook):
    """mmseg's ``SegVisualizationHook`` whose test drawings go to files.

    Validation during training is drawn as by the parent. In testing, every
    ``interval``-th batch is drawn without touching the training loop: into
    ``test_out_dir`` under the image's path relative to the test set's image
    folder (``frankfurt/frankfurt_000000_000294_leftImg8bit.png``), or, when
    ``test_out_dir`` is None, to the visualizer's backends as the parent
    does. ``tools/test.py --show-dir DIR`` uses this hook.

    Args:
        draw (bool): Whether to draw at all. Defaults to False.
        interval (int): Draw every ``interval``-th batch. Defaults to 50 (as
            mmseg's hook; ``tools/test.py`` sets ``--show-interval``, 1).
        show (bool): Show each drawing in a window. Defaults to False.
        wait_time (float): Seconds each shown drawing stays. Defaults to 0.
        backend_args (dict, optional): File backend arguments for reading
            the images. Defaults to None.
        test_out_dir (str, optional): Folder for the test drawings; a
            relative one is taken inside ``work_dir/<timestamp>/`` of the
            run. Defaults to None.
    """

    def __init__(self,
                 draw: bool = False,
                 interval: int = 50,
                 show: bool = False,
                 wait_time: float = 0.,
                 backend_args: Optional[dict] = None,
                 test_out_dir: Optional[str] = None):
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f'SegTestVisualizationHook: interval must be an '
                             f'integer >= 1, got {interval!r}.')
        super().__init__(draw, interval, show, wait_time, backend_args)
        self.test_out_dir = test_out_dir
        self._out_dir: Optional[str] = None
        self._img_root: Optional[str] = None
        self._test_index = 0

    def before_test(self, runner: Runner) -> None:
        self._test_index = 0
        if not self.draw or self.test_out_dir is None:
            return
        # timestamp is the run's log folder name, the same on every rank.
        self._out_dir = osp.join(runner.work_dir, runner.timestamp,
                                 self.test_out_dir)
        # Wrapped or concatenated sets have no single image folder: the
        # drawings are then named by the images' file names alone.
        prefix = getattr(runner.test_dataloader.dataset, 'data_prefix', None)
        self._img_root = (prefix or {}).get('img_path')
        runner.logger.info(f'Test drawings (one batch in {self.interval}) '
                           f'go to {self._out_dir}')

    @staticmethod
    def drawing_path(out_dir: str, img_path: str,
                     img_root: Optional[str]) -> str:
        """Where the drawing of ``img_path`` goes: under its path relative
        to the test set's image folder ``img_root``, if it lies there."""
        name = osp.basename(img_path)
        if img_root:
            rel = osp.relpath(img_path, img_root)
            # Keeps the set's subfolders: two cities' images never collide.
            if not rel.startswith(osp.pardir):
                name = rel
        return osp.join(out_dir, name)

    def after_test_iter(self, runner: Runner, batch_idx: int,
                        data_batch: dict,
                        outputs: Sequence[SegDataSample]) -> None:
        if not self.draw or not self.every_n_inner_iters(
                batch_idx, self.interval):
            self._test_index += len(outputs)
            return
        for output in outputs:
            img_bytes = fileio.get(
                output.img_path, backend_args=self.backend_args)
            img = mmcv.imfrombytes(img_bytes, channel_order='rgb')
            out_file = None
            if self._out_dir is not None:
                out_file = self.drawing_path(self._out_dir, output.img_path,
                                             self._img_root)
            self._visualizer.add_datasample(
                f'test_{osp.basename(output.img_path)}',
                img,
                data_sample=output,
                show=self.show,
                wait_time=self.wait_time,
                out_file=out_file,
                step=self._test_index)
            self._test_index += 1
