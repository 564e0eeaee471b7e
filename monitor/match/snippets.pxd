# Static types for snippets.py where it is compiled (setup.py); snippets.py stays the plain Python source.
# Snippet windows are cut on C integers; the functions call each other directly.

cimport cython

from monitor.match.fold cimport FoldedField


cdef class Evidence:
    cdef readonly str label, field
    cdef readonly list occurrences


@cython.locals(
    marks=list, snippets=list, covered=list, window=tuple, start=Py_ssize_t, end=Py_ssize_t,
    window_start=Py_ssize_t, window_end=Py_ssize_t,
)
cpdef tuple build_snippets(list evidence, object folded, dict windows=*, dict marks_of=*)
cpdef object _snippet(str name, str text, tuple marks)
@cython.locals(inside=set, mark=tuple, start=Py_ssize_t, end=Py_ssize_t)
cpdef tuple _marks_inside(list marks, str name, Py_ssize_t window_start, Py_ssize_t window_end)
@cython.locals(c_start=Py_ssize_t, c_end=Py_ssize_t)
cpdef bint _covered(list covered, str name, Py_ssize_t start, Py_ssize_t end)
@cython.locals(first=list, rest=list, marks=list, item=Evidence)
cpdef list _ordered_marks(list evidence, object folded, dict marks_of)
@cython.locals(marks=list, field=FoldedField, span=tuple, start=Py_ssize_t, end=Py_ssize_t)
cdef list _marks_of(Evidence item, object folded, dict marks_of)
@cython.locals(window_start=Py_ssize_t, window_end=Py_ssize_t)
cpdef tuple _snippet_window(str text, Py_ssize_t start, Py_ssize_t end)
@cython.locals(window_start=Py_ssize_t, window_end=Py_ssize_t, space=Py_ssize_t)
cpdef tuple _window(str text, Py_ssize_t start, Py_ssize_t end)
