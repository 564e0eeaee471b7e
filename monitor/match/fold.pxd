# Static types for fold.py where it is compiled (setup.py); fold.py stays the plain Python source.
# A folded field is an extension type, and mapping a place in it back to the original text runs on C integers.

cimport cython


cdef class FoldedField:
    cdef public str original, padded, _marked
    cdef public object translated, _known, _runs, _words
    cdef public list _uneven
    cdef public dict _char_spans

    @cython.locals(span=tuple)
    cpdef tuple char_span(self, Py_ssize_t start, Py_ssize_t end)
    @cython.locals(last=Py_ssize_t, first=Py_ssize_t)
    cpdef tuple _char_span(self, Py_ssize_t start, Py_ssize_t end)
    @cython.locals(
        index=Py_ssize_t, from_padded=Py_ssize_t, offset=Py_ssize_t, wanted=Py_ssize_t, seen=Py_ssize_t,
        step=Py_ssize_t, known_padded=list, known_original=list,
    )
    cpdef Py_ssize_t _original_start(self, str translated, Py_ssize_t position)
