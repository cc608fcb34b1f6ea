"""/suggestions: my open suggestions with Accept / Dismiss buttons (the outcome is recorded)."""

from __future__ import annotations

from bot.client import Problem
from bot.formatting import CHANNELS, SUGGESTION_TYPES
from bot.replies import Button, Chat, Reply, keyboard, nav_row
from bot.results import SuggestionItem


def item_lines(chat: Chat, number: int, item: SuggestionItem) -> list[str]:
    """One suggestion: who, why, with what."""
    t = chat.t
    who = item.customer_name or (f"#{item.customer_id}" if item.customer_id else "—")
    lines = [f"{number}. {who} — {t.label(SUGGESTION_TYPES, item.type)}", f"   {item.reason}"]
    extras = []
    if item.offer:
        extras.append(t._("offer: {offer}").format(offer=item.offer))
    if item.channel:
        extras.append(t._("via {channel}").format(channel=t.label(CHANNELS, item.channel)))
    if extras:
        lines.append("   " + " · ".join(extras))
    return lines


async def suggestions_page(chat: Chat, offset: int, notice: str | None = None) -> Reply:
    """A page of open suggestions, each with Accept and Dismiss."""
    t = chat.t
    size = chat.page_size
    items = await chat.api.suggestions(chat.actor, size + 1, max(0, offset), chat.t.language)
    shown = items[:size]
    if not shown and offset > 0:
        return await suggestions_page(chat, max(0, offset - size), notice)
    lines = [notice] if notice else []
    if not shown:
        lines.append(t._("No open suggestions. Well done!"))
        return Reply("\n".join(lines))
    lines.append(t._("Your open suggestions:"))
    rows: list[list[Button]] = []
    for number, item in enumerate(shown, offset + 1):
        lines.extend(item_lines(chat, number, item))
        rows.append(
            [
                Button(f"✓ {number}", f"sugok:{item.id}:{offset}"),
                Button(f"✗ {number}", f"sugno:{item.id}:{offset}"),
            ]
            + ([Button(f"👤 {number}", f"card:{item.customer_id}")] if item.customer_id else [])
        )
    lines.append(t._("✓ accept · ✗ dismiss · 👤 open the card"))
    nav = nav_row("sug:", offset, size, len(items) > size, t)
    return Reply("\n".join(lines), keyboard(*rows, nav))


async def suggestions_command(chat: Chat, args: list[str]) -> Reply:
    """/suggestions."""
    return await suggestions_page(chat, 0)


async def on_page(chat: Chat, args: list[str]) -> Reply:
    """« Previous / Next »."""
    page = await suggestions_page(chat, int(args[0]))
    return Reply(page.text, page.buttons, edit=True)


async def _resolve(chat: Chat, args: list[str], accept: bool) -> Reply:
    t = chat.t
    suggestion_id, offset = args[0], int(args[1])
    key = chat.key("accept" if accept else "dismiss", suggestion_id)
    try:
        await chat.api.resolve_suggestion(chat.actor, suggestion_id, accept, key)
    except Problem as problem:
        if problem.kind not in {"Conflict", "NotFound"}:
            raise
        # Someone (or an earlier tap) resolved it already: show the list as it is now.
        notice = t._("That suggestion was already handled.")
        page = await suggestions_page(chat, offset, notice)
        return Reply(page.text, page.buttons, edit=True, toast=notice)
    notice = t._("Accepted — good luck!") if accept else t._("Dismissed.")
    page = await suggestions_page(chat, offset, notice)
    return Reply(page.text, page.buttons, edit=True, toast=notice)


async def on_accept(chat: Chat, args: list[str]) -> Reply:
    """✓: record that the suggestion is taken up."""
    return await _resolve(chat, args, accept=True)


async def on_dismiss(chat: Chat, args: list[str]) -> Reply:
    """✗: record that the suggestion is passed on."""
    return await _resolve(chat, args, accept=False)
