# Static types for fold.py where it is compiled (setup.py); fold.py stays the plain Python source.
# A folded field is an extension type, and mapping a place in it back to the original text runs on C integers.

cimport cython


cdef class FoldedField:
    cdef public str original, padded, _marked
    cdef public object translated, _origins, _runs, _words
    cdef public list _uneven

    @cython.locals(last=Py_ssize_t, runs=tuple, uneven=list)
    cpdef tuple char_span(self, Py_ssize_t start, Py_ssize_t end)


@cython.locals(view="long long[:]", at=Py_ssize_t, offset=Py_ssize_t, in_word=bint, char=Py_UCS4)
cpdef object _origin_table(str translated, Py_ssize_t size)


@cython.locals(size=Py_ssize_t, view="int[:]", index=Py_ssize_t, offset=Py_ssize_t, char=Py_UCS4)
cpdef object _word_index_table(str padded)


@cython.locals(shift=Py_ssize_t, run=Py_ssize_t, words=Py_ssize_t)
cpdef Py_ssize_t _run_of(Py_ssize_t word, list uneven)


@cython.locals(starts=list, ends=list, in_run=bint, offset=Py_ssize_t, char=Py_UCS4)
cpdef tuple _run_table(str marked)
