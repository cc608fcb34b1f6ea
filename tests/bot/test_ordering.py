"""Updates of one chat are handled in order; updates of different chats at the same time."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update

from bot.ordering import ChatOrderedProcessor


def update_in(chat_id: int, update_id: int) -> Update:
    chat = Chat(chat_id, "private")
    return Update(update_id, message=Message(update_id, None, chat))  # type: ignore[arg-type]


async def test_one_chats_updates_wait_for_each_other_and_other_chats_do_not() -> None:
    processor = ChatOrderedProcessor(8)
    release = asyncio.Event()
    log: list[str] = []

    async def handle(name: str, wait: bool) -> None:
        log.append(f"{name} start")
        if wait:
            await release.wait()
        log.append(f"{name} end")

    first = asyncio.create_task(processor.process_update(update_in(1, 1), handle("a1", True)))
    second = asyncio.create_task(processor.process_update(update_in(1, 2), handle("a2", False)))
    other = asyncio.create_task(processor.process_update(update_in(2, 3), handle("b1", False)))
    await other
    log_while_blocked = list(log)
    release.set()
    await asyncio.gather(first, second)

    assert log_while_blocked == ["a1 start", "b1 start", "b1 end"]
    assert log == ["a1 start", "b1 start", "b1 end", "a1 end", "a2 start", "a2 end"]
    assert processor._locks == {}
