"""One walk of a query tree, bottom-up: what each kind of node comes to, given what its children came to.

The compiler (engine.py), the plain evaluator (reference.py) and the index narrowing (usecases/narrow.py) each
say what a node is worth to them in a ``QueryFold``; ``fold_query`` does the walking for all of them, so a new
kind of node is added in one place.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from .query import And, FeedIs, LangIs, Near, Node, Not, Or, Phrase

T = TypeVar("T")

Clause = Phrase | FeedIs | LangIs | Near  # what can make a query match on its own


class QueryFold(Protocol[T]):
    """What each kind of node comes to. NOT, AND and OR are given what their children came to, in order."""

    def phrase(self, node: Phrase, /) -> T: ...

    def feed(self, node: FeedIs, /) -> T: ...

    def lang(self, node: LangIs, /) -> T: ...

    def near(self, node: Near, /) -> T: ...

    def negate(self, node: Not, child: T, /) -> T: ...

    def all_of(self, node: And, children: list[T], /) -> T: ...

    def any_of(self, node: Or, children: list[T], /) -> T: ...


def fold_query(node: Node, by: QueryFold[T]) -> T:
    """What ``node`` comes to for ``by``: its children first, then the node itself."""
    if isinstance(node, Phrase):
        return by.phrase(node)
    if isinstance(node, FeedIs):
        return by.feed(node)
    if isinstance(node, LangIs):
        return by.lang(node)
    if isinstance(node, Near):
        return by.near(node)
    if isinstance(node, Not):
        return by.negate(node, fold_query(node.child, by))
    children = [fold_query(child, by) for child in node.children]
    if isinstance(node, And):
        return by.all_of(node, children)
    assert isinstance(node, Or)
    return by.any_of(node, children)


class _Clauses:
    """The clauses of a tree, in order: all of them, or only those outside any NOT."""

    def __init__(self, negated: bool) -> None:
        self.negated = negated

    def phrase(self, node: Phrase) -> list[Clause]:
        return [node]

    def feed(self, node: FeedIs) -> list[Clause]:
        return [node]

    def lang(self, node: LangIs) -> list[Clause]:
        return [node]

    def near(self, node: Near) -> list[Clause]:
        return [node]

    def negate(self, node: Not, child: list[Clause]) -> list[Clause]:
        return child if self.negated else []

    def all_of(self, node: And, children: list[list[Clause]]) -> list[Clause]:
        return [clause for child in children for clause in child]

    def any_of(self, node: Or, children: list[list[Clause]]) -> list[Clause]:
        return [clause for child in children for clause in child]


def phrases_in(node: Node) -> list[Phrase]:
    """Every phrase ``node`` looks for, in order: the sides of a NEAR and the phrases under a NOT included."""
    return [phrase for clause in fold_query(node, _Clauses(negated=True)) for phrase in _phrases_of(clause)]


def _phrases_of(clause: Clause) -> tuple[Phrase, ...]:
    if isinstance(clause, Phrase):
        return (clause,)
    if isinstance(clause, Near):
        return (*clause.left, *clause.right)
    return ()


def positive_leaves(node: Node) -> list[Clause]:
    """The leaves and NEAR clauses outside any NOT, in order: the clauses that can make a query match (none for a
    query made only of NOT clauses, which matches nothing)."""
    return fold_query(node, _Clauses(negated=False))
