"""Pure parts of the conversation: paging long texts and reading button data."""

from bot.replies import MAX_TEXT, pages
from bot.routes import CALLBACKS, parse_button


def test_short_text_is_one_page() -> None:
    assert pages("hello\nworld") == ["hello\nworld"]


def test_long_text_splits_at_line_breaks_under_the_limit() -> None:
    lines = [f"line {i:04d} " + "x" * 90 for i in range(100)]
    text = "\n".join(lines)

    chunks = pages(text)

    assert len(text) > MAX_TEXT
    assert all(len(chunk) <= MAX_TEXT for chunk in chunks)
    assert "\n".join(chunks) == text
    assert all(chunk.startswith("line ") for chunk in chunks)


def test_a_single_overlong_line_is_cut_into_pieces() -> None:
    chunks = pages("y" * (MAX_TEXT * 2 + 10))

    assert [len(chunk) for chunk in chunks] == [MAX_TEXT, MAX_TEXT, 10]


def test_known_buttons_parse_to_their_flow_and_arguments() -> None:
    assert parse_button("card:42") == (CALLBACKS["card"], ["42"])
    assert parse_button("refgo:42:7:email") == (CALLBACKS["refgo"], ["42", "7", "email"])
    assert parse_button("refx") == (CALLBACKS["refx"], [])


def test_stale_or_forged_buttons_parse_to_nothing() -> None:
    for data in (
        "",
        "offer",
        "card",
        "card:1:2",
        "card:abc",
        "card:-1",
        "card:٣",
        "refgo:1:2:e-mail",
    ):
        assert parse_button(data) is None, data
