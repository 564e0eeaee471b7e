# Static types for stems.py where it is compiled (setup.py); stems.py stays the plain Python source.
# ``stem`` is asked for every article word a word form's prefix starts: a direct call with typed locals.

cimport cython


@cython.locals(by_language=dict, known=dict, result=str)
cpdef str stem(str language, str word)
@cython.locals(code=str, wanted=str)
cpdef bint _is_form(str text, str prefix, tuple stems, str word, object language)
