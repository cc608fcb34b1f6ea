"""The Telegram side: PTB handlers that hand updates to the conversation and send its replies."""

from __future__ import annotations

import logging

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest

from bot.context import BotContext
from bot.conversation import Sender
from bot.replies import Keyboard, Reply, pages

log = logging.getLogger(__name__)


def markup(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    """Inline keyboard of a reply, if it has buttons."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in buttons]
    )


def sender_of(update: Update, message_id: int | None) -> Sender:
    """Who wrote (or pressed), in which chat, in which language."""
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    return Sender(
        user_id=user.id,
        chat_id=chat.id,
        language_code=user.language_code,
        message_id=message_id,
    )


async def deliver(
    context: BotContext, chat_id: int, reply: Reply, edit_message_id: int | None = None
) -> None:
    """Send (or edit into) the reply's text, split into pages; buttons go on the last page."""
    if not reply.text:
        return
    chunks = pages(reply.text)
    keyboard = markup(reply.buttons)
    if reply.edit and edit_message_id is not None:
        first, chunks = chunks[0], chunks[1:]
        try:
            await context.bot.edit_message_text(
                first,
                chat_id=chat_id,
                message_id=edit_message_id,
                reply_markup=None if chunks else keyboard,
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                # The message is too old or gone: say it in a new message instead.
                log.info("could not edit a message (%s); sending a new one", exc.message)
                chunks = [first, *chunks]
    for number, chunk in enumerate(chunks, 1):
        last = number == len(chunks)
        await context.bot.send_message(chat_id, chunk, reply_markup=keyboard if last else None)
    if reply.follow_up is not None:
        follow_up = reply.follow_up

        async def later() -> None:
            await deliver(context, chat_id, await follow_up())

        context.application.create_task(later(), name="bot follow-up")


async def on_command(update: Update, context: BotContext) -> None:
    """A /command: the conversation routes it (including unknown ones)."""
    message = update.effective_message
    if message is None or not message.text:
        return
    head, *args = message.text.split()
    name = head[1:].split("@", 1)[0]
    reply = await context.conversation.command(sender_of(update, message.message_id), name, args)
    await deliver(context, message.chat_id, reply)


async def on_text(update: Update, context: BotContext) -> None:
    """Typed text: a customer's name, email or phone."""
    message = update.effective_message
    if message is None or not message.text:
        return
    reply = await context.conversation.text(sender_of(update, message.message_id), message.text)
    await deliver(context, message.chat_id, reply)


async def on_button(update: Update, context: BotContext) -> None:
    """A pressed inline button; the query is always answered, even when handling fails."""
    query = update.callback_query
    assert query is not None
    toast: str | None = None
    try:
        message = query.message
        message_id = message.message_id if message is not None else None
        reply = await context.conversation.press(sender_of(update, message_id), query.data or "")
        toast = reply.toast
        if message is not None:
            await deliver(context, message.chat.id, reply, edit_message_id=message_id)
    finally:
        await _answer(query, toast)


async def _answer(query: CallbackQuery, toast: str | None) -> None:
    try:
        await query.answer(toast[:200] if toast else None)
    except BadRequest as exc:
        # Telegram forgets queries after a while; nothing is left to answer.
        log.info("could not answer a callback query: %s", exc.message)


async def on_error(update: object, context: BotContext) -> None:
    """Log first; then tell the person something went wrong, without details."""
    log.error("error while handling an update", exc_info=context.error)
    if (
        not isinstance(update, Update)
        or update.effective_chat is None
        or update.effective_user is None
    ):
        return
    conversation = context.bot_data.conversation
    if conversation is None:
        return
    t = conversation.texts(sender_of(update, None), None)
    try:
        await context.bot.send_message(
            update.effective_chat.id,
            t._("Something went wrong on our side. The team has been told."),
        )
    except Exception:
        log.exception("could not report an error to the chat")
