# Static types for langid_walk.py where it is compiled (setup.py); langid_walk.py stays the plain Python source.
# The walk, the tally and the widening of the scores' rows run on C integers over typed views of the model's
# arrays (mapped read-only from the cache file), of the text's bytes and of their own arrays.

cimport cython

ctypedef fused move_t:  # the moves of the automaton: 16 bits in the cache file, 32 in py3langid's own arrays
    unsigned short
    unsigned int


@cython.locals(
    states=Py_ssize_t, moves=Py_ssize_t, reached="int[::1]", count=Py_ssize_t, state=Py_ssize_t, index=Py_ssize_t,
    move=Py_ssize_t, feature=int, byte=Py_ssize_t,
)
cpdef tuple walk(
    const move_t[::1] nextmove, const unsigned int[::1] bytebase, const unsigned int[::1] rowbase,
    const int[::1] output, const unsigned char[::1] text,
)


@cython.locals(
    size=Py_ssize_t, mask=Py_ssize_t, keys="int[::1]", times="int[::1]", first="int[::1]",
    distinct=Py_ssize_t, index=Py_ssize_t, feature=Py_ssize_t, place=Py_ssize_t, into_features="int[::1]",
    into_counts="int[::1]",
)
cdef tuple _tally(int[::1] reached, Py_ssize_t count)


@cython.locals(
    height=Py_ssize_t, row=Py_ssize_t, feature=Py_ssize_t, start=Py_ssize_t, at=Py_ssize_t, special=cython.uint,
    column=Py_ssize_t, half=cython.uint,
)
cpdef void float_rows(
    const unsigned short[::1] half_bits, const Py_ssize_t[::1] features, Py_ssize_t width, unsigned int[::1] into
)


@cython.locals(sign=cython.uint, exponent=cython.uint, mantissa=cython.uint, shift=cython.uint)
cdef unsigned int float_bits(unsigned int half) noexcept
