"""Imported once by the worker processes' fork server (``runtime.worker_preload``), before any worker is forked
from it: what every worker needs is loaded here, so the workers share its memory instead of each loading a copy
(the language model alone is about 80 MB)."""

from monitor.match.language import load_language_model

load_language_model()
