# Static types for clauses.py where it is compiled (setup.py); clauses.py stays the plain Python source.
# A phrase is an extension type whose methods call each other directly and read the scan's typed attributes.

cimport cython

from monitor.match.scan cimport ArticleScan

cdef class Clause:
    cpdef bint evaluate(self, ArticleScan scan)
    cpdef list evidence(self, ArticleScan scan)


cdef class Segment:
    cdef public object pattern, forms
    cdef public str text
    cdef public bint prefix


cdef class CompiledPhrase(Clause):
    cdef public object phrase, label, single
    cdef public tuple segments, fields, key
    cdef public frozenset key_set
    cdef public bint in_text_fields
    cdef public list word_forms
    cdef public dict described

    cpdef tuple held(self, ArticleScan scan)
    @cython.locals(found=dict, key_set=frozenset)
    cpdef tuple _held(self, ArticleScan scan)
    cpdef bint in_field(self, ArticleScan scan, str name)
    cpdef list evidence(self, ArticleScan scan)
    cpdef bint evaluate(self, ArticleScan scan)
    cpdef list occurrences(self, ArticleScan scan, str name)
    @cython.locals(
        padded=str, segments=tuple, first=Segment, found=list, later=list, segment=Segment, ends=list,
        segment_ends=set, back=Py_ssize_t, end=Py_ssize_t, start=Py_ssize_t, next_end=Py_ssize_t,
    )
    cpdef list _occurrences(self, ArticleScan scan, str name)
    cpdef object found_as(self, ArticleScan scan)
    cpdef object _found_as(self, ArticleScan scan)


@cython.locals(back=Py_ssize_t, spans=list, end=Py_ssize_t)
cpdef list _segment_spans(Segment segment, str padded, list ends)
cpdef Py_ssize_t _next_space(str padded, Py_ssize_t at)
@cython.locals(last=Py_ssize_t, start=Py_ssize_t, span=tuple)
cpdef bint _rising(list spans)


cdef class CompiledNear(Clause):
    cdef public list left, right
    cdef public object distance, label

    cpdef bint evaluate(self, ArticleScan scan)
    cpdef list pairs(self, ArticleScan scan, str name)
    cpdef list _pairs(self, ArticleScan scan, str name)
    cpdef list evidence(self, ArticleScan scan)



@cython.locals(phrase=CompiledPhrase)
cdef bint _side_present(list side, ArticleScan scan, str name) except -1


cdef class CompiledFeed(Clause):
    cdef public object name, label

    cpdef bint evaluate(self, ArticleScan scan)
    cpdef list evidence(self, ArticleScan scan)


cdef class CompiledLang(Clause):
    cdef public object code, label

    cpdef bint evaluate(self, ArticleScan scan)
    cpdef list evidence(self, ArticleScan scan)


cdef class CompiledAnd(Clause):
    cdef public list children

    @cython.locals(child=Clause)
    cpdef bint evaluate(self, ArticleScan scan)


cdef class CompiledOr(Clause):
    cdef public list children

    @cython.locals(child=Clause)
    cpdef bint evaluate(self, ArticleScan scan)


cdef class CompiledNot(Clause):
    cdef public Clause child

    cpdef bint evaluate(self, ArticleScan scan)
