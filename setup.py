"""mmseg-infopro: InfoPro locally supervised training for mmsegmentation."""
import os.path as osp

from setuptools import find_packages, setup


def read_requirements(path: str) -> list:
    with open(osp.join(osp.dirname(__file__), path)) as f:
        return [
            line.strip() for line in f
            if line.strip() and not line.startswith('#')
        ]


version = {}
with open(osp.join(osp.dirname(__file__), 'mmseg_infopro', 'version.py')) as f:
    exec(f.read(), version)

setup(
    name='mmseg-infopro',
    version=version['__version__'],
    description='InfoPro locally supervised training of DeepLab-V3 for '
    'mmsegmentation 1.x: train with larger batches and crops in the same '
    'GPU memory.',
    long_description=open('README.md').read()
    if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.8',
    packages=find_packages(include=['mmseg_infopro', 'mmseg_infopro.*']),
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require={'tests': read_requirements('requirements/tests.txt')},
)
