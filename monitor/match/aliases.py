"""Aliases: one name for the many ways a thing is written (``@turkey`` = Turkey, Türkiye, Turquie, Türkei...).

An alias's forms are terms (words, phrases, ``*`` prefixes, ``=`` exact words) or other aliases (``@name``).
``resolve_aliases`` expands the nested ones once, so a query meets only plain forms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .query import Aliases, parse_words


class AliasError(ValueError):
    """A wrong alias: ``name`` is the alias whose definition is wrong."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def resolve_aliases(defined: Mapping[str, Sequence[str]]) -> Aliases:
    """Each alias with its forms, nested aliases expanded (first occurrence kept); raises AliasError for an
    empty alias, a form without a word, an unknown ``@name`` or a cycle."""
    for name, forms in defined.items():
        if not forms:
            raise AliasError(name, f"alias '@{name}' has no forms: give at least one word or phrase")
        for form in forms:
            _check_form(name, form, defined)
    resolved: dict[str, tuple[str, ...]] = {}
    for name in defined:
        resolved[name] = _expand(name, defined, resolved, ())
    return resolved


def _check_form(name: str, form: str, defined: Mapping[str, Sequence[str]]) -> None:
    written = form.strip()
    if written.startswith("@"):
        if written[1:] not in defined:
            known = ", ".join(f"@{other}" for other in defined)
            raise AliasError(name, f"alias '@{name}' uses unknown alias '{written}' (defined: {known})")
        return
    try:
        words = parse_words(form)
    except ValueError as error:
        raise AliasError(name, f"alias '@{name}' form {form!r}: {error}") from None
    if not words:
        raise AliasError(name, f"alias '@{name}' form {form!r} has no letter or digit")


def _expand(
    name: str,
    defined: Mapping[str, Sequence[str]],
    resolved: dict[str, tuple[str, ...]],
    path: tuple[str, ...],
) -> tuple[str, ...]:
    if name in path:
        cycle = " -> ".join(f"@{step}" for step in (*path[path.index(name) :], name))
        raise AliasError(path[0], f"alias cycle: {cycle}")
    if name in resolved:
        return resolved[name]
    forms: list[str] = []
    for form in defined[name]:
        written = form.strip()
        if written.startswith("@"):
            forms += _expand(written[1:], defined, resolved, (*path, name))
        else:
            forms.append(form)
    return tuple(dict.fromkeys(forms))
