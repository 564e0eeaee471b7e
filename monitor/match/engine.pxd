# Static types for engine.py where it is compiled (setup.py); engine.py stays the plain Python source.
# Watchlists and the matcher are extension types: deciding calls each term's compiled methods directly.

cimport cython

from monitor.match.clauses cimport Clause, CompiledPhrase
from monitor.match.scan cimport ArticleScan, PatternScanner
from monitor.match.snippets cimport Evidence, build_snippets


cdef class CompiledWatchlist:
    cdef public object spec, name, feeds, languages
    cdef public Clause query
    cdef public list terms, exclude, query_clauses

    @cython.locals(term=CompiledPhrase)
    cpdef bint matches(self, ArticleScan scan)
    @cython.locals(term=CompiledPhrase, found=list, clause=Clause)
    cpdef list evidence(self, ArticleScan scan)
    @cython.locals(
        term=CompiledPhrase, clause=Clause, phrase=CompiledPhrase, evidence=list, lines=dict, item=Evidence,
        labels=tuple, fields=tuple, names=set, snippets=tuple,
    )
    cpdef tuple details(self, ArticleScan scan)


cdef class Matcher:
    cdef public list _watchlists, _always
    cdef public object aliases, _forms, _lexicon
    cdef public PatternScanner _automaton
    cdef public bint _scan_url
    cdef public dict _by_pattern

    cpdef ArticleScan _scan(self, fields)
    @cython.locals(candidates=set, by_pattern=dict, indexes=list)
    cpdef list _candidates(self, ArticleScan scan)
    cpdef list match(self, fields)
    @cython.locals(scan=ArticleScan, folded=dict)
    cpdef tuple match_folded(self, fields)
    @cython.locals(watchlist=CompiledWatchlist, matches=list)
    cpdef list _matches(self, ArticleScan scan)


cdef object _to_match(CompiledWatchlist watchlist, ArticleScan scan)
cdef void _found_line(CompiledPhrase phrase, ArticleScan scan, dict lines)
