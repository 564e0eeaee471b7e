"""The config's nesting bound, checked on the text before it is parsed (``source.too_deep_line``): arrays and
inline tables nested up to the limit pass and one level more is refused at its line, as are keys and table
headers of more dotted parts; brackets inside strings, across lines and after comments do not count."""

from __future__ import annotations

from monitor.config.source import too_deep_line

LIMIT = 3


def test_nesting_at_the_limit_passes_and_one_level_more_is_refused_at_its_line() -> None:
    assert too_deep_line("a = [[[1]]]\n", LIMIT) is None
    assert too_deep_line("x = 1\na = [[[[1]]]]\n", LIMIT) == 2
    assert too_deep_line("a = {b = {c = [1]}}\n", LIMIT) is None
    assert too_deep_line("a = {b = {c = [{d = 1}]}}\n", LIMIT) == 1


def test_nesting_is_counted_across_the_lines_of_a_value() -> None:
    assert too_deep_line("a = [\n  [\n    [1],\n  ],\n]\n", LIMIT) is None
    assert too_deep_line("a = [\n  [\n    [[1]],\n  ],\n]\n", LIMIT) == 3


def test_dotted_keys_and_headers_at_the_limit_pass_and_longer_ones_are_refused() -> None:
    assert too_deep_line("a.b.c = 1\n", LIMIT) is None
    assert too_deep_line("x = 1\na.b.c.d = 1\n", LIMIT) == 2
    assert too_deep_line("[a.b.c]\nx = 1\n", LIMIT) is None
    assert too_deep_line("[[a.b.c.d]]\n", LIMIT) == 1
    assert too_deep_line('"a.b.c.d" = 1\n', LIMIT) is None  # one quoted part


def test_brackets_in_strings_and_comments_do_not_count() -> None:
    assert too_deep_line('a = "[[[[[["\n', LIMIT) is None
    assert too_deep_line('a = "say \\"[[[[\\" twice"\n', LIMIT) is None  # escaped quotes stay inside
    assert too_deep_line('a = "ends with a backslash \\\\"\nb = [[[[1]]]]\n', LIMIT) == 2
    assert too_deep_line("a = 'literal \\' \nb = [[[[1]]]]\n", LIMIT) == 2  # no escapes in literal strings
    assert too_deep_line('a = """\n[[[[\n"""\nb = 1\n', LIMIT) is None  # a multi-line string
    assert too_deep_line('a = """\nsay [[[[\n"""\nb = 1\n', LIMIT) is None  # a line of it that is no header
    assert too_deep_line('a="""\nsay [[[[\n"""\nb = 1\n', LIMIT) is None  # opened right after the =
    assert too_deep_line('a = """say [[[[\n"""\nb = [[[[1]]]]\n', LIMIT) == 3  # counted again once closed
    assert too_deep_line("a = 1 # [[[[\n", LIMIT) is None
