"""Median /ping -> reply round trip via emulator + PTB: python -m tests.e2e.telegram.roundtrip."""

import asyncio
import statistics
import sys
import time

from telegram import Update
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from tests.e2e.telegram.harness import TelegramClient, run_emulator, running_bot


async def pong(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer /ping at once, so the figure is transport plus PTB overhead only."""
    assert update.effective_message
    await update.effective_message.reply_text("pong")


async def measure(client: TelegramClient, count: int) -> list[float]:
    """Return ``count`` round trips in milliseconds, after a few warm-up ones."""
    application = (
        ApplicationBuilder()
        .token(client.token)
        .base_url(client.base_url)
        .base_file_url(client.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("ping", pong))
    user = client.user(1001, "Ann")
    timings: list[float] = []
    async with running_bot(application):
        for i in range(count + 5):
            started = time.perf_counter()
            await user.send("/ping")
            await user.next_reply()
            if i >= 5:  # the first ones pay for connection set-up
                timings.append((time.perf_counter() - started) * 1000)
    return timings


async def main(count: int) -> None:
    """Start the emulator, measure, print median and spread."""
    with run_emulator() as emulator:
        async with TelegramClient(emulator) as client:
            timings = await measure(client, count)
    quantiles = statistics.quantiles(timings, n=10)
    print(
        f"/ping -> reply over {count} round trips: median {statistics.median(timings):.1f} ms, "
        f"p10 {quantiles[0]:.1f} ms, p90 {quantiles[-1]:.1f} ms, max {max(timings):.1f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
