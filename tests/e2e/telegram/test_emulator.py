"""Proof that an unmodified PTB Application, polling as usual, works against the emulator."""

import asyncio
import datetime as dtm
import time
from pathlib import Path

import pytest
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.e2e.telegram.harness import (
    AnyApplication,
    EmulatorError,
    TelegramClient,
    run_emulator,
    running_bot,
)

OFFER = InlineKeyboardMarkup([[InlineKeyboardButton("Show offer", callback_data="offer")]])
BUY = InlineKeyboardMarkup([[InlineKeyboardButton("Buy", callback_data="buy")]])


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet the user in their language and offer a button."""
    assert update.effective_user and update.effective_message
    hello = "Hallo" if update.effective_user.language_code == "de" else "Hello"
    name = update.effective_user.first_name
    await update.effective_message.reply_text(f"{hello}, {name}!", reply_markup=OFFER)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the offer (edit text and keyboard), then thank and drop the keyboard on purchase."""
    query = update.callback_query
    assert query
    if query.data == "offer":
        await query.answer()
        await query.edit_message_text("Premium plan: 10 EUR/month", reply_markup=BUY)
    else:
        await query.answer("Thank you!", show_alert=True)
        await query.edit_message_reply_markup(None)


def build_bot(telegram: TelegramClient) -> AnyApplication:
    """Build the demo sales bot the way production does, but pointed at the emulator."""
    application = (
        ApplicationBuilder()
        .token(telegram.token)
        .base_url(telegram.base_url)
        .base_file_url(telegram.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(button))
    return application


async def test_start_command_gets_a_reply_with_an_inline_keyboard(
    telegram: TelegramClient,
) -> None:
    async with running_bot(build_bot(telegram)):
        ann = telegram.user(1001, "Ann")
        await ann.send("/start")
        reply = await ann.next_reply()

    assert reply.text == "Hello, Ann!"
    assert reply.reply_markup == OFFER
    assert reply.chat.id == ann.chat_id
    assert reply.from_user is not None and reply.from_user.is_bot


async def test_pressing_buttons_edits_the_message_and_every_callback_is_answered(
    telegram: TelegramClient,
) -> None:
    async with running_bot(build_bot(telegram)):
        ann = telegram.user(1001, "Ann")
        await ann.send("/start")
        greeting = await ann.next_reply()

        offer_query = await ann.press(greeting, "offer")
        offer = await ann.next_edit(greeting.message_id)
        buy_query = await ann.press(offer, text="Buy")
        bought = await ann.next_edit(greeting.message_id)
        buy_answer = await ann.callback_answer(buy_query)

    assert (offer.text, offer.reply_markup) == ("Premium plan: 10 EUR/month", BUY)
    assert offer.edit_date is not None
    assert (bought.text, bought.reply_markup) == (offer.text, None)
    assert buy_answer == {"callback_query_id": buy_query, "text": "Thank you!", "show_alert": True}
    answered = [answer["callback_query_id"] for answer in await telegram.callback_answers()]
    assert answered == [offer_query, buy_query]
    assert await telegram.unanswered_callbacks() == []
    assert [message.message_id for message in await ann.messages()] == [greeting.message_id]


async def test_set_my_commands_round_trips_per_language(telegram: TelegramClient) -> None:
    commands = [BotCommand("start", "Start over"), BotCommand("offer", "See the offer")]
    german = [BotCommand("start", "Neu beginnen")]
    application = build_bot(telegram)
    async with running_bot(application):
        bot = application.bot
        assert await bot.set_my_commands(commands)
        assert await bot.set_my_commands(german, language_code="de")

        assert await bot.get_my_commands() == tuple(commands)
        assert await telegram.commands() == commands
        assert await telegram.commands(language_code="de") == german

        assert await bot.delete_my_commands()
        assert await bot.get_my_commands() == ()


async def test_two_users_each_get_their_own_reply(telegram: TelegramClient) -> None:
    async with running_bot(build_bot(telegram)):
        ann = telegram.user(1001, "Ann")
        bob = telegram.user(1002, "Bob", language_code="de")
        await asyncio.gather(ann.send("/start"), bob.send("/start"))
        ann_reply, bob_reply = await asyncio.gather(ann.next_reply(), bob.next_reply())

    assert (ann_reply.chat.id, ann_reply.text) == (1001, "Hello, Ann!")
    assert (bob_reply.chat.id, bob_reply.text) == (1002, "Hallo, Bob!")
    assert await ann.messages() == [ann_reply]
    assert await bob.messages() == [bob_reply]


async def test_bot_message_dates_are_unix_seconds(telegram: TelegramClient) -> None:
    application = build_bot(telegram)
    async with running_bot(application):
        ann = telegram.user(1001, "Ann")
        await ann.send("hi")  # Telegram refuses to message a chat the user never wrote to.
        sent = await application.bot.send_message(ann.chat_id, "ping")
        seen = await ann.next_reply()

    now = dtm.datetime.now(dtm.UTC)
    assert abs(sent.date - now) < dtm.timedelta(minutes=1)
    assert seen.date == sent.date
    bot_sends = [e for e in telegram.events if (e.actor, e.method) == ("bot", "sendMessage")]
    raw_date = bot_sends[0].result["date"]
    assert abs(raw_date - time.time()) < 60


def test_missing_node_modules_fails_with_the_install_command(tmp_path: Path) -> None:
    with (
        pytest.raises(EmulatorError, match=r"npm ci --prefix tests/e2e/telegram"),
        run_emulator(package_dir=tmp_path),
    ):
        pass
