# Static types for scan.py where it is compiled (setup.py); scan.py stays the plain Python source.
# ArticleScan is an extension type with typed attributes, so that the compiled clauses (clauses.pxd) reach
# what an article's scan holds without a dictionary lookup an attribute; the Lexicon learns new words with
# typed locals.

cimport cython

from monitor.match.stems cimport _is_form


cdef class PatternScanner:
    cdef public list ids
    cdef public object automaton

    @cython.locals(ids=list, found=list, index=Py_ssize_t, end=Py_ssize_t)
    cpdef list hits(self, str text)


cdef class Lexicon:
    cdef public dict prefixes, heads, texts, kinds

    @cython.locals(
        kinds=dict, new=set, heads=dict, word=str, candidates=tuple, found=list, prefix=str, forms=tuple,
        virtual=object, text=str, stems=tuple,
    )
    cpdef learn(self, set words, object language)


cdef class ArticleScan:
    cdef public dict folded, hits, found, word_kinds, places
    cdef public object language, lexicon, raw_feed, _feed
    cdef public set in_text, anywhere
    cdef public dict _ends, occurrences, evidence, held, pairs, how, _holders, snippets, windows, marks

    @cython.locals(by_pattern=dict, ends=list, found_ends=list)
    cpdef list ends(self, str name, object pattern)
    @cython.locals(by_pattern=dict, word=str, held=tuple)
    cpdef dict _holding(self, str name)
    @cython.locals(text=str, places=dict, ends=list, word=str, last=Py_ssize_t, start=Py_ssize_t)
    cpdef list _word_ends(self, str name, object pattern)


@cython.locals(
    kinds=dict, held=dict, places=dict, unknown=list, starts=list, at=Py_ssize_t, word=str, index=Py_ssize_t,
    shortest=Py_ssize_t, size=Py_ssize_t, kind=tuple,
)
cpdef tuple _held_words(list words, Lexicon lexicon, object language)
@cython.locals(patterns=tuple, pattern=object)
cdef void _add_held(set present, dict held)
@cython.locals(hit=tuple)
cdef void _add_found(set present, list hits)
@cython.locals(found=list)
cdef inline void _place(dict held, dict places, str word, tuple kind, Py_ssize_t at)
