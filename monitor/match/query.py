"""The watchlist query language: tokens, the syntax tree and a recursive-descent parser.

    query   := or ; or := and ("OR" and)* ; and := unary (["AND"] unary)*
    unary   := ("NOT" | "-") unary | near ; near := primary ["NEAR" ["/" N] primary]
    primary := FIELD ":" primary | "(" or ")" | ["="] '"' words '"' | WORD | "@" ALIAS

Operators are only recognised in capitals. A field scope is pushed down onto the leaves it covers, so the
tree that comes out has no scope nodes: every leaf knows the fields it looks at. ``@name`` stands for the
forms of an alias (an OR of phrases, each remembering the alias it came from); ``=word`` keeps a word exact
(no inflected forms).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from monitor.errors import QueryError
from monitor.models import TEXT_FIELDS, WatchlistSpec

from .fold import fold_words

SCOPABLE_FIELDS = ("title", "summary", "body", "url", "feed", "lang")
DEFAULT_NEAR = 10

# Alias name -> its forms as written (terms; nested aliases already expanded): see aliases.resolve_aliases.
Aliases = Mapping[str, tuple[str, ...]]
NO_ALIASES: Aliases = {}


@dataclass(frozen=True, slots=True)
class Word:
    text: str  # folded
    prefix: bool = False  # written with a trailing '*'
    exact: bool = False  # written with a leading '=': no inflected forms


@dataclass(frozen=True, slots=True)
class Phrase:
    """A term of one or more consecutive words, looked for in ``fields``."""

    words: tuple[Word, ...]
    fields: tuple[str, ...]
    source: str  # as written ("@turkey" for the forms of an alias)
    alias: str | None = None  # the alias written in the watchlist, when the phrase is one of its forms
    form: str = ""  # the alias form as written

    def label(self) -> str:
        return f'"{self.source.strip(chr(34))}"'


@dataclass(frozen=True, slots=True)
class FeedIs:
    """``feed:NAME``: the article's feed name, folded, equals ``name``."""

    name: str
    source: str


@dataclass(frozen=True, slots=True)
class LangIs:
    """``lang:CODE``: the article is in that language (or its language is unknown)."""

    code: str
    source: str


@dataclass(frozen=True, slots=True)
class Near:
    """Some alternative of ``left`` and some of ``right`` with at most ``distance`` words between them."""

    left: tuple[Phrase, ...]
    right: tuple[Phrase, ...]
    distance: int
    source: str


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


Node = Phrase | FeedIs | LangIs | Near | And | Or | Not
Leaf = Phrase | FeedIs | LangIs


class _WordsError(ValueError):
    """What is wrong with a term's words (the caller knows where the term is)."""


@lru_cache(maxsize=100_000)
def parse_words(text: str) -> tuple[Word, ...]:
    """Fold a term as written into words; a '*' right after a word makes that word a prefix, a leading '='
    keeps a single word exact. Memoised: an alias's forms are read again wherever the alias is used."""
    stripped = text.strip()
    if stripped.startswith("="):
        words = _plain_words(stripped[1:])
        if len(words) > 1:
            raise _WordsError(
                "'=' before a single word: it keeps one word exact and cannot apply to a phrase"
            )
        return tuple(Word(w.text, w.prefix, exact=True) for w in words)
    return _plain_words(text)


def _plain_words(text: str) -> tuple[Word, ...]:
    words: list[Word] = []
    pieces = text.split("*")
    for index, piece in enumerate(pieces):
        folded = [Word(word) for word in fold_words(piece)]
        starred = index < len(pieces) - 1 and bool(piece) and bool(fold_words(piece[-1]))
        if folded and starred:
            folded[-1] = Word(folded[-1].text, prefix=True)
        words.extend(folded)
    return tuple(words)


def parse_term(term: str, aliases: Aliases = NO_ALIASES) -> tuple[Phrase, ...]:
    """A configured term (plain text, not the query language): a word, a phrase, a prefix like "permit*",
    an exact word like "=Turkey", or "@alias" (one phrase per form of the alias)."""
    name = term.strip()
    if name.startswith("@"):
        return alias_phrases(term, name[1:], TEXT_FIELDS, aliases, term.index("@"))
    try:
        words = parse_words(term)
    except _WordsError as error:
        raise QueryError(term, 0, str(error)) from None
    if not words:
        raise QueryError(term, 0, "a term with at least one letter or digit")
    return (Phrase(words, TEXT_FIELDS, term),)


def alias_phrases(
    written: str, name: str, fields: tuple[str, ...], aliases: Aliases, position: int
) -> tuple[Phrase, ...]:
    """The forms of alias ``name`` as phrases looked for in ``fields``."""
    forms = aliases.get(name)
    if forms is None:
        defined = ", ".join(f"@{known}" for known in aliases) or "none"
        raise QueryError(written, position, f"a defined alias: unknown alias '@{name}' (defined: {defined})")
    phrases = []
    for form in forms:
        try:
            words = parse_words(form)
        except _WordsError as error:
            raise QueryError(written, position, f"alias '@{name}' form {form!r}: {error}") from None
        if words:
            phrases.append(Phrase(words, fields, f"@{name}", alias=name, form=form))
    return tuple(phrases)


# --- tokens -------------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<open>\()
  | (?P<close>\))
  | (?P<quote>"[^"]*"?)
  | (?P<near>NEAR(?:/(?P<distance>\d*))?(?=[\s("]|$))
  | (?P<op>(?:AND|OR|NOT)(?=[\s("]|$))
  | (?P<minus>-(?=[^\s-]))
  | (?P<field>[A-Za-z]+:(?=\S))
  | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # open, close, quote, near, op, minus, field, word, end
    text: str
    position: int
    distance: int = DEFAULT_NEAR


def tokenize_query(query: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(query):
        match = _TOKEN_RE.match(query, position)
        assert match is not None  # the word alternative matches any other character
        kind = match.lastgroup or "word"
        if kind == "distance":
            kind = "near"
        if kind == "near":
            tokens.append(_near_token(query, match))
        elif kind != "space":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    tokens.append(Token("end", "", len(query)))
    return tokens


def _near_token(query: str, match: re.Match[str]) -> Token:
    digits = match.group("distance")
    if digits == "":
        raise QueryError(query, match.start() + 5, "a number after NEAR/")
    distance = DEFAULT_NEAR if digits is None else int(digits)
    return Token("near", match.group(), match.start(), distance)


# --- parser -------------------------------------------------------------------------------------------------


MAX_NESTING = 32  # groups and NOTs inside each other; deeper is refused, not a RecursionError


class _Parser:
    def __init__(self, query: str, aliases: Aliases) -> None:
        self.query = query
        self.aliases = aliases
        self.tokens = tokenize_query(query)
        self.index = 0
        self.depth = 0

    def nest(self) -> None:
        """Enter a group or a NOT: more than MAX_NESTING inside each other is an error at that token."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(f"at most {MAX_NESTING} groups and NOTs inside each other (this one is deeper)")

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.token
        self.index += 1
        return token

    def fail(self, expected: str, position: int | None = None) -> QueryError:
        return QueryError(self.query, self.token.position if position is None else position, expected)

    def parse(self) -> Node:
        if self.token.kind == "end":
            raise self.fail("a term")
        node = self.parse_or(TEXT_FIELDS)
        if self.token.kind == "close":
            raise self.fail("an operator or the end of the query (unbalanced ')')")
        if self.token.kind != "end":
            raise self.fail("AND, OR or the end of the query")
        return node

    def parse_or(self, fields: tuple[str, ...]) -> Node:
        children = [self.parse_and(fields)]
        while self.token.kind == "op" and self.token.text == "OR":
            self.advance()
            children.append(self.parse_and(fields))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self, fields: tuple[str, ...]) -> Node:
        children = [self.parse_unary(fields)]
        while True:
            if self.token.kind == "op" and self.token.text == "AND":
                self.advance()
            elif not self.starts_unary():
                break
            children.append(self.parse_unary(fields))
        return children[0] if len(children) == 1 else And(tuple(children))

    def starts_unary(self) -> bool:
        token = self.token
        return token.kind in ("open", "quote", "minus", "field", "word") or (
            token.kind == "op" and token.text == "NOT"
        )

    def parse_unary(self, fields: tuple[str, ...]) -> Node:
        if self.token.kind == "minus" or (self.token.kind == "op" and self.token.text == "NOT"):
            self.nest()
            operator = self.advance()
            if not self.starts_unary():
                raise self.fail(f"a term after {operator.text}")
            node = Not(self.parse_unary(fields))
            self.depth -= 1
            return node
        return self.parse_near(fields)

    def parse_near(self, fields: tuple[str, ...]) -> Node:
        start = self.token.position
        left = self.parse_primary(fields)
        if self.token.kind != "near":
            return left
        near = self.advance()
        if self.token.kind not in ("open", "quote", "field", "word"):
            raise self.fail(f"a term after {near.text}")
        right_start = self.token.position
        right = self.parse_primary(fields)
        source = self.query[
            start : self.tokens[self.index - 1].position + len(self.tokens[self.index - 1].text)
        ]
        if self.token.kind == "near":
            raise self.fail("AND or OR between two NEAR clauses (NEAR cannot be chained)")
        return Near(
            self.near_side(left, start), self.near_side(right, right_start), near.distance, source.strip()
        )

    def near_side(self, node: Node, position: int) -> tuple[Phrase, ...]:
        if isinstance(node, Phrase):
            return (node,)
        if isinstance(node, Or) and all(isinstance(child, Phrase | Or) for child in node.children):
            return tuple(phrase for child in node.children for phrase in self.near_side(child, position))
        raise self.fail("a term, a phrase or an (a OR b) group of them beside NEAR", position)

    def parse_primary(self, fields: tuple[str, ...]) -> Node:
        token = self.token
        if token.kind == "field":
            return self.parse_scoped()
        if token.kind == "open":
            self.nest()
            self.advance()
            if self.token.kind in ("close", "end"):
                raise self.fail("a term after '('")
            node = self.parse_or(fields)
            if self.token.kind != "close":
                raise self.fail("')'")
            self.advance()
            self.depth -= 1
            return node
        if token.kind == "quote":
            return self.parse_quote(fields)
        if token.kind == "word" and token.text == "=" and self.tokens[self.index + 1].kind == "quote":
            self.advance()  # ="word": the quoted word kept exact
            quote = self.parse_quote(fields, exact=True)
            return quote
        if token.kind == "word":
            self.advance()
            return self.leaf(token, token.text, fields)
        if token.kind == "end":
            raise self.fail("a term")
        raise self.fail(f"a term, not {token.text!r}")

    def parse_quote(self, fields: tuple[str, ...], exact: bool = False) -> Node:
        token = self.advance()
        if len(token.text) < 2 or not token.text.endswith('"'):
            raise self.fail("a closing '\"'", token.position + len(token.text))
        return self.leaf(token, ("=" if exact else "") + token.text[1:-1], fields)

    def parse_scoped(self) -> Node:
        token = self.advance()
        name = token.text[:-1]
        if name not in SCOPABLE_FIELDS:
            valid = ", ".join(SCOPABLE_FIELDS)
            raise self.fail(f"a valid field: unknown field {name!r} (valid: {valid})", token.position)
        if self.token.kind not in ("open", "quote", "word"):
            raise self.fail(f"a term after {token.text}")
        return self.parse_primary((name,))

    def leaf(self, token: Token, text: str, fields: tuple[str, ...]) -> Node:
        if fields == ("feed",):
            name = " ".join(fold_words(text))
            if not name:
                raise self.fail("a feed name", token.position)
            return FeedIs(name, token.text)
        if fields == ("lang",):
            return self.language(token, text)
        if token.kind == "word" and text.startswith("@"):
            if "lang" in fields or "feed" in fields:
                raise self.fail("a term, not an alias, after feed: or lang:", token.position)
            phrases = alias_phrases(self.query, text[1:], fields, self.aliases, token.position)
            if not phrases:
                raise self.fail(f"an alias with forms: '{text}' has none", token.position)
            return phrases[0] if len(phrases) == 1 else Or(phrases)
        try:
            words = parse_words(text)
        except _WordsError as error:
            raise self.fail(str(error), token.position) from None
        if not words:
            raise self.fail("a term with at least one letter or digit", token.position)
        return Phrase(words, fields, token.text)

    def language(self, token: Token, text: str) -> LangIs:
        from .language import known_languages

        code = text.strip().lower()
        if code not in known_languages():
            raise self.fail(f"a language code such as en or fr: unknown language {code!r}", token.position)
        return LangIs(code, token.text)


def parse_query(text: str, aliases: Aliases = NO_ALIASES) -> Node:
    """Parse a watchlist query; raises QueryError(query, position, expected) when it does not parse."""
    return _Parser(text, aliases).parse()


@dataclass(frozen=True, slots=True)
class ParsedWatchlist:
    """A watchlist's terms and excludes, each as the phrases it stands for (an alias: one per form), and its
    query's tree."""

    terms: tuple[tuple[Phrase, ...], ...]
    exclude: tuple[tuple[Phrase, ...], ...]
    query: Node | None

    def term_phrases(self) -> list[Phrase]:
        return [phrase for term in self.terms for phrase in term]

    def exclude_phrases(self) -> list[Phrase]:
        return [phrase for term in self.exclude for phrase in term]


def parse_watchlist(spec: WatchlistSpec, aliases: Aliases = NO_ALIASES) -> ParsedWatchlist:
    """Parse what ``spec`` looks for; a QueryError names the watchlist."""
    try:
        return ParsedWatchlist(
            tuple(parse_term(term, aliases) for term in spec.terms),
            tuple(parse_term(term, aliases) for term in spec.exclude),
            parse_query(spec.query, aliases) if spec.query else None,
        )
    except QueryError as error:
        error.watchlist = spec.name
        error.args = (f"watchlist {spec.name!r}: {error}",)
        raise
