"""In-tree PEP 517 backend: setuptools, plus cffi's `cffi_modules` hook and the simulated SDK.

cffi's API mode is wired into setuptools through the `cffi_modules` keyword of
`setup()`, which pyproject.toml cannot express. Rather than keep a `setup.py`
at the top level (the project's top level is fixed), this backend runs the one
line such a file would hold. The same call builds the simulated Player One SDK
(`build_simsdk.py`: `libPlayerOneCameraSim.so` in the package's `simsdk/`
directory) on Linux. Everything else is plain setuptools.build_meta, so
`pip install .`, `pip install -e .` and `python -m build` all work.
"""
from __future__ import annotations

from setuptools import build_meta as _meta

_SETUP = """
import build_simsdk
from setuptools import setup
simsdk = build_simsdk.supported()
setup(cffi_modules=['native/build_native.py:ffibuilder'],
      ext_modules=[build_simsdk.extension()] if simsdk else [],
      cmdclass={'build_ext': build_simsdk.build_ext_class()} if simsdk else {})
"""


class _CffiBackend(_meta._BuildMetaBackend):
    def run_setup(self, setup_script: str = "setup.py") -> None:  # noqa: D401
        # Same contract as the base method, with our setup() call as the script.
        __file__ = setup_script  # noqa: F841 (setuptools reads it from locals)
        exec(compile(_SETUP, "native/build_backend.py", "exec"), {"__name__": "__main__"})


_backend = _CffiBackend()
get_requires_for_build_wheel = _backend.get_requires_for_build_wheel
get_requires_for_build_sdist = _backend.get_requires_for_build_sdist
get_requires_for_build_editable = _backend.get_requires_for_build_editable
prepare_metadata_for_build_wheel = _backend.prepare_metadata_for_build_wheel
prepare_metadata_for_build_editable = _backend.prepare_metadata_for_build_editable
build_wheel = _backend.build_wheel
build_sdist = _backend.build_sdist
build_editable = _backend.build_editable
