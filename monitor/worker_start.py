"""Imported once by the worker processes' fork server (``runtime.worker_preload``, last), before any worker is
forked from it: what every worker needs is loaded here, so the workers share its memory instead of each loading
a copy. The language model is mapped from its cache file (``match/langid_model.py``): its pages are the file's,
read in as detections touch them and shared by every process that maps it. Then everything loaded so far is
moved out of the garbage collector's sight: a collection in a worker would otherwise write to every object's
header and so copy every page it sits on into that worker (measured: 27 MB private to each worker right after it
started). The allocator is tuned here too (``monitor.memory``; a worker keeps more free memory at the top of its
heap than the main process, as its feeds take and free it feed after feed): every worker forked from this process
inherits it, and gives back what its tasks freed once it is idle (``workers._then_give_back``), when it also
unmaps the pages of the language model it touched (they stay in the page cache, and are mapped again by the next
detection).
"""

import gc

from monitor.match.language import load_language_model, release_model_pages
from monitor.memory import WORKER_TRIM_THRESHOLD, tune_allocator, when_idle

tune_allocator(trim_threshold=WORKER_TRIM_THRESHOLD)
load_language_model()
when_idle(release_model_pages)
gc.freeze()
