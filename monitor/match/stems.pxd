# Static types for stems.py where it is compiled (setup.py); stems.py stays the plain Python source.
# ``stem`` is asked for every article word a word form's prefix starts: a direct call with typed locals.

cimport cython


@cython.locals(known=dict, result=str)
cpdef str stem(str language, str word)
