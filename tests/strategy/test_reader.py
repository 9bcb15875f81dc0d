"""The reader: syntax, positions in errors, limits, and the read/print round trip."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alchemiser.strategy.errors import SymphonyLimitError, SymphonySyntaxError
from alchemiser.strategy.reader import ReadLimits, read_forms, read_one
from alchemiser.strategy.syntax import Node, Num, Seq, Str, Sym, to_source


def test_lists_vectors_maps_strings_numbers_and_symbols_are_read() -> None:
    node = read_one('(f [1 -2.5 "a\\"b"] {:window 10}) ; comment')
    assert node == Seq(
        "list",
        (
            Sym("f"),
            Seq("vector", (Num(Decimal(1)), Num(Decimal("-2.5")), Str('a"b'))),
            Seq("map", (Sym(":window"), Num(Decimal(10)))),
        ),
    )


def test_commas_and_comments_are_whitespace() -> None:
    assert read_one("[1,2 ; three\n 3]") == read_one("[1 2 3]")


def test_positions_are_one_based_line_and_column() -> None:
    node = read_one('(a\n  "b")', "x.clj")
    assert isinstance(node, Seq)
    assert (node.items[1].pos.line, node.items[1].pos.col) == (2, 3)


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("(a\n  (b c)", "f.clj:1:1", "unclosed bracket"),
        ("(a ]", "f.clj:1:4", "mismatched bracket"),
        ("(a))", "f.clj:1:4", "unexpected closing bracket"),
        ('(a "open', "f.clj:1:4", "unterminated string"),
        ("(a 12x)", "f.clj:1:4", "malformed number"),
        ('(a "\\q")', "f.clj:1:4", "unknown escape"),
        ("{:a}", "f.clj:1:1", "key value pairs"),
        ("(a) (b)", "f.clj:1:5", "exactly one form"),
    ],
)
def test_syntax_errors_name_file_line_column_and_token(text: str, where: str, message: str) -> None:
    with pytest.raises(SymphonySyntaxError) as info:
        read_one(text, "f.clj")
    assert str(info.value).startswith(where)
    assert message in str(info.value)
    assert info.value.token


def test_depth_size_and_node_limits_are_enforced() -> None:
    with pytest.raises(SymphonyLimitError, match="nested deeper than 3"):
        read_one("((((a))))", limits=ReadLimits(max_depth=3))
    with pytest.raises(SymphonyLimitError, match="characters"):
        read_one("(a b c)", limits=ReadLimits(max_chars=3))
    with pytest.raises(SymphonyLimitError, match="forms"):
        read_one("(a b c d)", limits=ReadLimits(max_nodes=3))


def test_a_deep_but_allowed_file_reads_without_recursion() -> None:
    depth = 390
    assert read_one("(" * depth + "x" + ")" * depth).kind == "list"  # type: ignore[union-attr]


_atoms = st.one_of(
    # Symbols as the reader produces them: never a sign followed by a digit (that is a number).
    st.builds(
        Sym,
        st.from_regex(
            r"[a-z:><=*!?][a-z0-9:><=*+!?.-]{0,8}|[+-]([a-z:><=*!?][a-z0-9:><=*+!?.-]{0,7})?",
            fullmatch=True,
        ),
    ),
    st.builds(Str, st.text(max_size=10)),
    st.builds(Num, st.decimals(allow_nan=False, allow_infinity=False, places=3)),
)


def _seq(children: st.SearchStrategy[list[Node]]) -> st.SearchStrategy[Node]:
    return st.builds(
        lambda kind, items: Seq(
            kind, tuple(items[: len(items) // 2 * 2] if kind == "map" else items)
        ),
        st.sampled_from(["list", "vector", "map"]),
        children,
    )


_trees = st.recursive(_atoms, lambda inner: _seq(st.lists(inner, max_size=5)), max_leaves=30)


@settings(max_examples=200, deadline=None)
@given(_trees)
def test_printing_then_reading_gives_the_same_tree(tree: Node) -> None:
    assert read_one(to_source(tree)) == tree


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='()[]{}";,: \n\\abc-1.5x', max_size=60))
def test_malformed_input_raises_only_the_documented_error(text: str) -> None:
    with contextlib.suppress(SymphonySyntaxError):
        read_forms(text)
