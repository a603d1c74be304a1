"""Procedural street scenes written in the exact Cityscapes layout.

The embedded default data of the project: a learnable but not trivial stand-in
for Cityscapes that needs no download. Every scene is drawn from a generator
seeded by ``(seed, split, index)``, so a dataset is the same whatever the order
or number of images written.
"""
import os
import os.path as osp
import shutil
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
from cityscapesscripts.helpers.labels import trainId2label
from mmengine.utils import mkdir_or_exist, track_iter_progress

__all__ = [
    'CITIES', 'CLASS_COLORS', 'render_scene', 'train_ids_to_label_ids',
    'write_synthetic_cityscapes'
]

#: Cities used for each split (real Cityscapes city names).
CITIES: Dict[str, Tuple[str, ...]] = {
    'train': ('aachen', 'bochum', 'bremen'),
    'val': ('frankfurt', 'lindau', 'munster'),
}

#: Base BGR colour of each train id; scenes jitter them per object.
CLASS_COLORS: Dict[int, Tuple[int, int, int]] = {
    0: (128, 118, 120),  # road
    1: (170, 175, 185),  # sidewalk
    2: (90, 100, 130),  # building
    3: (140, 150, 160),  # wall
    4: (70, 120, 140),  # fence
    5: (60, 60, 60),  # pole
    6: (30, 40, 30),  # traffic light
    7: (30, 200, 230),  # traffic sign
    8: (40, 130, 50),  # vegetation
    9: (80, 170, 140),  # terrain
    10: (230, 190, 140),  # sky
    11: (60, 30, 200),  # person
    12: (160, 40, 160),  # rider
    13: (160, 60, 30),  # car
    14: (40, 90, 200),  # truck
    15: (50, 180, 220),  # bus
    16: (120, 120, 40),  # train
    17: (200, 40, 220),  # motorcycle
    18: (100, 200, 40),  # bicycle
}
IGNORE = 255


class _Canvas:
    """An image and its train-id label map, painted together."""

    def __init__(self, rng: np.random.Generator, h: int, w: int) -> None:
        self.rng, self.h, self.w = rng, h, w
        self.img = np.zeros((h, w, 3), np.float32)
        self.label = np.full((h, w), IGNORE, np.uint8)

    def color(self, cls: int, jitter: float = 25.0) -> np.ndarray:
        base = np.array(CLASS_COLORS[cls], np.float32)
        return np.clip(base + self.rng.normal(0, jitter, 3), 0, 255)

    def paint(self,
              mask: np.ndarray,
              cls: int,
              texture: float = 12.0,
              jitter: float = 25.0) -> None:
        """Fill ``mask`` with class ``cls``: a jittered colour plus noise."""
        if not mask.any():
            return
        noise = self.rng.normal(0, texture, (int(mask.sum()), 1))
        self.img[mask] = self.color(cls, jitter) + noise
        self.label[mask] = cls

    def rect(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        mask = np.zeros((self.h, self.w), bool)
        x0, x1 = sorted((int(round(x0)), int(round(x1))))
        y0, y1 = sorted((int(round(y0)), int(round(y1))))
        mask[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = True
        return mask

    def ellipse(self, cx: float, cy: float, rx: float,
                ry: float) -> np.ndarray:
        mask = np.zeros((self.h, self.w), np.uint8)
        cv2.ellipse(mask, (int(cx), int(cy)),
                    (max(int(rx), 1), max(int(ry), 1)), 0, 0, 360, 1, -1)
        return mask.astype(bool)

    def polygon(self, points: Sequence[Tuple[float, float]]) -> np.ndarray:
        mask = np.zeros((self.h, self.w), np.uint8)
        cv2.fillPoly(mask, [np.array(points, np.int32)], 1)
        return mask.astype(bool)


def _background(c: _Canvas, horizon: float) -> float:
    """Sky, buildings, vegetation, road, sidewalk, terrain; returns the
    x of the vanishing point."""
    rng, h, w = c.rng, c.h, c.w
    sky = c.rect(0, 0, w, horizon)
    c.paint(sky, 10, texture=6)
    yy = np.arange(h, dtype=np.float32)[:, None, None]
    c.img[sky] += (yy / h * 40).repeat(w, 1)[sky]  # brighter near horizon
    x = 0.0
    while x < w:  # skyline of buildings with windows
        bw = rng.uniform(0.08, 0.25) * w
        top = horizon * rng.uniform(0.05, 0.8)
        mask = c.rect(x, top, x + bw, horizon + 2)
        c.paint(mask, 2, texture=10, jitter=35)
        win = int(max(bw / 8, 2))
        for wy in np.arange(top + win, horizon - win, 2.5 * win):
            for wx in np.arange(x + win, x + bw - win, 2 * win):
                c.img[c.rect(wx, wy, wx + win, wy + 1.4 * win)] *= 0.55
        x += bw
    for _ in range(rng.integers(1, 5)):  # trees in front of the buildings
        cx = rng.uniform(0, w)
        cy = horizon * rng.uniform(0.5, 1.0)
        r = rng.uniform(0.04, 0.12) * w
        c.paint(c.ellipse(cx, cy, r, r * rng.uniform(0.7, 1.3)), 8, texture=30)
    vx = w * rng.uniform(0.35, 0.65)
    ground = c.rect(0, horizon, w, h)
    c.paint(ground, 9, texture=18)  # terrain where nothing else lies
    left = vx - w * rng.uniform(0.55, 0.9)
    right = vx + w * rng.uniform(0.55, 0.9)
    walk = w * rng.uniform(0.15, 0.35)
    c.paint(
        c.polygon([(vx - 2, horizon), (vx + 2, horizon), (right + walk, h),
                   (left - walk, h)]),
        1,
        texture=8)
    c.paint(
        c.polygon([(vx, horizon), (vx + 1, horizon), (right, h), (left, h)]),
        0,
        texture=7,
        jitter=15)
    for t in np.linspace(0.1, 0.95, 6):  # dashed lane marking (road)
        y0 = horizon + (h - horizon) * t
        y1 = y0 + (h - horizon) * 0.05 * t
        half = 1 + 4 * t
        mark = c.rect(vx - half, y0, vx + half, y1) & (c.label == 0)
        c.img[mark] = 235
    if rng.random() < 0.5:  # low wall or fence along the sidewalk
        cls = int(rng.choice([3, 4]))
        side = rng.choice([-1, 1])
        x0 = vx + side * w * rng.uniform(0.3, 0.5)
        mask = c.rect(x0, horizon - 0.06 * h, x0 + side * 0.3 * w,
                      horizon + 0.04 * h)
        c.paint(mask, cls, texture=10)
        if cls == 4:
            for fx in np.arange(
                    min(x0, x0 + side * 0.3 * w), max(x0, x0 + side * 0.3 * w),
                    6):
                c.img[c.rect(fx, horizon - 0.06 * h, fx + 2,
                             horizon + 0.04 * h)] *= 0.6
    return vx


def _objects(c: _Canvas, horizon: float, vx: float) -> None:
    """Poles with signs and lights, vehicles and people, back to front."""
    rng, h, w = c.rng, c.h, c.w
    depths = np.sort(rng.uniform(0.1, 1.0, rng.integers(4, 10)))
    for d in depths:  # d: 0 = at the horizon, 1 = at the bottom edge
        y = horizon + (h - horizon) * d
        s = 0.15 + d  # perspective scale
        kind = rng.choice(
            ['pole', 'vehicle', 'vehicle', 'person', 'cycle', 'train'],
            p=[0.22, 0.3, 0.2, 0.14, 0.1, 0.04])
        if kind == 'pole':
            x = vx + rng.choice([-1, 1]) * rng.uniform(0.3, 0.6) * w * s
            ph = 0.45 * h * s
            c.paint(c.rect(x, y - ph, x + max(2, 0.01 * w * s), y), 5)
            top = c.rect(x - 0.02 * w * s, y - ph - 0.05 * h * s,
                         x + 0.03 * w * s, y - ph + 0.02 * h * s)
            if rng.random() < 0.5:
                c.paint(top, 7, texture=5)
            else:
                c.paint(top, 6, texture=4)
                ly = y - ph - 0.03 * h * s
                c.img[c.ellipse(x + 0.005 * w * s, ly, 0.01 * w * s, 0.01 * w *
                                s) & top] = (40, 40, 230)
        elif kind == 'vehicle':
            cls = int(rng.choice([13, 13, 13, 14, 15]))
            vw = {13: 0.16, 14: 0.22, 15: 0.3}[cls] * w * s
            vh = {13: 0.5, 14: 0.8, 15: 0.75}[cls] * vw
            x = vx + rng.uniform(-0.4, 0.4) * w * s - vw / 2
            c.paint(c.rect(x, y - vh, x + vw, y - 0.15 * vh), cls, jitter=50)
            c.img[c.rect(x + 0.1 * vw, y - 0.9 * vh, x + 0.9 * vw,
                         y - 0.6 * vh)] *= 0.45  # windows
            for wx in (x + 0.2 * vw, x + 0.8 * vw):
                c.paint(
                    c.ellipse(wx, y - 0.15 * vh, 0.1 * vw, 0.12 * vh),
                    cls,
                    texture=3,
                    jitter=0)
                c.img[c.ellipse(wx, y - 0.15 * vh, 0.1 * vw, 0.12 * vh)] = 25
        elif kind == 'train':
            tw, th = 0.8 * w * s, 0.25 * h * s
            x = rng.uniform(-0.2, 0.6) * w
            c.paint(c.rect(x, y - th, x + tw, y), 16, texture=8)
            for wx in np.arange(x + 0.05 * tw, x + tw, 0.12 * tw):
                c.img[c.rect(wx, y - 0.8 * th, wx + 0.06 * tw,
                             y - 0.5 * th)] *= 0.4
        else:
            x = vx + rng.choice([-1, 1]) * rng.uniform(0.2, 0.55) * w * s
            ph = 0.3 * h * s
            if kind == 'cycle':
                cls = int(rng.choice([17, 18]))
                r = 0.08 * ph
                for wx in (x - 2.5 * r, x + 2.5 * r):
                    ring = c.ellipse(wx, y - r, 1.4 * r, 1.4 * r)
                    ring &= ~c.ellipse(wx, y - r, 0.8 * r, 0.8 * r)
                    c.paint(ring, cls, texture=5)
                c.paint(
                    c.rect(x - 2.5 * r, y - 2.2 * r, x + 2.5 * r, y - 1.6 * r),
                    cls,
                    texture=5)
                y = y - 1.8 * r
            person = 12 if kind == 'cycle' else 11
            c.paint(
                c.rect(x - 0.09 * ph, y - 0.85 * ph, x + 0.09 * ph,
                       y - 0.45 * ph),
                person,
                jitter=40)  # torso
            c.paint(
                c.rect(x - 0.07 * ph, y - 0.45 * ph, x + 0.07 * ph, y),
                person,
                jitter=40)  # legs
            c.paint(
                c.ellipse(x, y - 0.93 * ph, 0.07 * ph, 0.08 * ph),
                person,
                jitter=20)  # head


def render_scene(rng: np.random.Generator, height: int,
                 width: int) -> Tuple[np.ndarray, np.ndarray]:
    """Draw one street scene.

    Args:
        rng (np.random.Generator): Source of randomness.
        height (int): Image height.
        width (int): Image width.

    Returns:
        tuple[np.ndarray, np.ndarray]: The BGR uint8 image (H, W, 3) and its
        uint8 train-id label map (H, W) with values in 0..18 and 255.
    """
    c = _Canvas(rng, height, width)
    horizon = height * rng.uniform(0.35, 0.5)
    vx = _background(c, horizon)
    _objects(c, horizon, vx)
    if rng.random() < 0.4:  # ego-vehicle bonnet: ignored, like Cityscapes
        hood = c.ellipse(width / 2, height * 1.05, width * 0.6,
                         height * rng.uniform(0.08, 0.15))
        c.img[hood] = (20, 20, 25)
        c.label[hood] = IGNORE
    c.img *= rng.uniform(0.7, 1.2)  # global illumination
    c.img += rng.normal(0, 4, c.img.shape)  # sensor noise
    img = np.clip(c.img, 0, 255).astype(np.uint8)
    return cv2.GaussianBlur(img, (3, 3), 0), c.label


def train_ids_to_label_ids(label: np.ndarray) -> np.ndarray:
    """Map train ids to Cityscapes label ids (255 → 0, 'unlabeled')."""
    lut = np.zeros(256, np.uint8)
    for train_id, lab in trainId2label.items():
        if 0 <= train_id < 255:
            lut[train_id] = lab.id
    return lut[label]


def write_synthetic_cityscapes(out_dir: str,
                               num_train: int,
                               num_val: int,
                               size: Tuple[int, int] = (256, 512),
                               seed: int = 0,
                               overwrite: bool = False) -> List[str]:
    """Write a synthetic dataset in the Cityscapes layout.

    Args:
        out_dir (str): Root to write (``leftImg8bit/`` and ``gtFine/``).
        num_train (int): Number of training images.
        num_val (int): Number of validation images.
        size (tuple[int, int]): (H, W) of every image.
        seed (int): Seed; the same seed gives the same files.
        overwrite (bool): Replace the ``leftImg8bit/`` and ``gtFine/`` of a
            non-empty ``out_dir``; otherwise a non-empty ``out_dir`` is
            refused.

    Returns:
        list[str]: The image paths written.

    Raises:
        FileExistsError: If ``out_dir`` is not empty and not ``overwrite``.
        ValueError: For non-positive counts or sizes.
    """
    if num_train < 1 or num_val < 1:
        raise ValueError(
            f'--num-train and --num-val must be >= 1, got {num_train} and '
            f'{num_val}.')
    if min(size) < 32:
        raise ValueError(f'--size must be at least 32x32, got {size}.')
    if osp.isdir(out_dir) and os.listdir(out_dir):
        if not overwrite:
            raise FileExistsError(
                f'{out_dir} is not empty; pass --overwrite to replace its '
                f'leftImg8bit/ and gtFine/, or choose another folder.')
        for sub in ('leftImg8bit', 'gtFine'):
            shutil.rmtree(osp.join(out_dir, sub), ignore_errors=True)
    jobs = [(split_idx, split, i)
            for split_idx, (split, n) in enumerate((('train', num_train),
                                                    ('val', num_val)))
            for i in range(n)]
    written = []
    for split_idx, split, i in track_iter_progress(jobs):
        rng = np.random.default_rng([seed, split_idx, i])
        img, label = render_scene(rng, *size)
        cities = CITIES[split]
        city = cities[i % len(cities)]
        stem = f'{city}_{i // len(cities):06d}_{19 + i % 7:06d}'
        img_dir = osp.join(out_dir, 'leftImg8bit', split, city)
        gt_dir = osp.join(out_dir, 'gtFine', split, city)
        mkdir_or_exist(img_dir)
        mkdir_or_exist(gt_dir)
        img_path = osp.join(img_dir, f'{stem}_leftImg8bit.png')
        cv2.imwrite(img_path, img)
        cv2.imwrite(
            osp.join(gt_dir, f'{stem}_gtFine_labelTrainIds.png'), label)
        cv2.imwrite(
            osp.join(gt_dir, f'{stem}_gtFine_labelIds.png'),
            train_ids_to_label_ids(label))
        written.append(img_path)
    return written
