"""The matcher's hot modules compiled by Cython from their own Python source, as extension modules beside it.

The project's metadata is in pyproject.toml; this file only declares the extensions. Python imports an extension
module in preference to the .py file of the same name, and runs the .py file where the extension is not built:
both are the same code (tests/test_match_compiled.py runs both and compares their matches; tests/test_langid_walk.py
does the same for the language detector's walk, langid_walk). A .pxd file beside a module gives static types to
the compiled build only (extension types, typed attributes and methods)."""

from Cython.Build import cythonize
from setuptools import setup

COMPILED = ["clauses", "engine", "fold", "langid_walk", "reference", "scan", "snippets", "stems"]

setup(
    ext_modules=cythonize(
        [f"monitor/match/{name}.py" for name in COMPILED],
        compiler_directives={"language_level": 3, "annotation_typing": False},
        build_dir="build/cython",
        quiet=True,
    )
)
