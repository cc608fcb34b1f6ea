"""The typed handler context: `context.bot_data` holds the conversation and its API client."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.conversation import Conversation
from bot.settings import BotSettings


class BotData:
    """App-wide state: settings (set when built) and the conversation (made in post_init)."""

    def __init__(self) -> None:
        self.settings: BotSettings | None = None
        self.conversation: Conversation | None = None


class BotContext(CallbackContext[ExtBot[int], dict[Any, Any], dict[Any, Any], BotData]):
    """CallbackContext with typed access to the conversation."""

    @property
    def conversation(self) -> Conversation:
        """The conversation created in post_init."""
        conversation = self.bot_data.conversation
        if conversation is None:
            raise RuntimeError("the bot was started without post_init (use bot.app.running)")
        return conversation


CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData)
BotApplication = Application[ExtBot[int], BotContext, dict[Any, Any], dict[Any, Any], BotData, None]
