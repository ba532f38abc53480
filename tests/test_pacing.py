"""Newest-pose-wins pacing without gRPC (worldbridge.serving.gateway.pacing)."""

from __future__ import annotations

import asyncio

import pytest

from worldbridge.serving.gateway.pacing import NewestWinsPacer, PacerClosedError


def run(coro):
    return asyncio.run(coro)


def test_an_item_passes_through_with_nothing_skipped():
    async def scenario():
        pacer = NewestWinsPacer()
        pacer.submit(0, "a")
        paced = await pacer.next()
        assert (paced.item, paced.sequence, paced.skipped) == ("a", 0, [])
        assert not pacer.waiting

    run(scenario())


def test_the_newest_item_wins_and_reports_what_it_replaced():
    async def scenario():
        pacer = NewestWinsPacer()
        for seq in range(5):
            pacer.submit(seq, f"pose {seq}")
        paced = await pacer.next()
        assert (paced.item, paced.skipped) == ("pose 4", [0, 1, 2, 3])
        pacer.submit(7, "pose 7")
        pacer.submit(9, "pose 9")
        paced = await pacer.next()
        assert (paced.sequence, paced.skipped) == (9, [7])  # only what was skipped since

    run(scenario())


def test_next_waits_for_a_submission():
    async def scenario():
        pacer = NewestWinsPacer()
        consumer = asyncio.create_task(pacer.next())
        await asyncio.sleep(0.01)
        assert not consumer.done()
        pacer.submit(3, "late")
        paced = await asyncio.wait_for(consumer, 1.0)
        assert paced.sequence == 3

    run(scenario())


def test_close_hands_out_the_waiting_item_then_ends():
    async def scenario():
        pacer = NewestWinsPacer()
        pacer.submit(1, "x")
        pacer.submit(2, "y")
        pacer.close()
        paced = await pacer.next()
        assert (paced.item, paced.skipped) == ("y", [1])
        assert await pacer.next() is None
        assert await pacer.next() is None
        with pytest.raises(PacerClosedError):
            pacer.submit(3, "z")

    run(scenario())


def test_close_wakes_a_waiting_consumer():
    async def scenario():
        pacer = NewestWinsPacer()
        consumer = asyncio.create_task(pacer.next())
        await asyncio.sleep(0.01)
        pacer.close()
        assert await asyncio.wait_for(consumer, 1.0) is None

    run(scenario())


def test_a_slow_consumer_never_sees_a_backlog():
    async def scenario():
        pacer = NewestWinsPacer()
        handed_out = []

        async def consumer():
            while (paced := await pacer.next()) is not None:
                handed_out.append((paced.sequence, paced.skipped))
                await asyncio.sleep(0.02)  # rendering is slower than poses arrive

        task = asyncio.create_task(consumer())
        for seq in range(40):
            pacer.submit(seq, seq)
            await asyncio.sleep(0.002)
        pacer.close()
        await task
        sequences = [s for s, _ in handed_out]
        assert sequences == sorted(sequences) and sequences[-1] == 39
        assert len(handed_out) < 40
        # every submitted sequence is either handed out or reported skipped, exactly once
        reported = sequences + [s for _, skipped in handed_out for s in skipped]
        assert sorted(reported) == list(range(40))

    run(scenario())
