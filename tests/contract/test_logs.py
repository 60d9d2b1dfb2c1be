"""Log chunks: keyed by (run, offset in characters); reads return contiguous output only."""

from __future__ import annotations

from hydra_jobs.models import Run
from hydra_jobs.status import FINISH, WORKER_LOST, RunStatus, transition
from hydra_jobs.store.base import AppendLog, Store
from tests.contract.factories import at, make_job, make_run

S = RunStatus


async def _running(store: Store, worker: str = "w1") -> Run:
    job = make_job()
    await store.create_job(job)
    run = make_run(job, S.RUNNING, worker_id=worker)
    await store.insert_runs([run])
    return run


async def _append(
    store: Store, run: Run, offset: int, data: str, *, truncated: bool = False
) -> bool:
    op = AppendLog(run.id, offset, data, worker_id="w1", truncated=truncated)
    return await store.apply([op]) == [True]


async def _finish(store: Store, run: Run) -> None:
    op = transition(FINISH, run.id, S.SUCCEEDED, {"finished_at": at(9)})
    assert await store.set_status(op) is not None


async def test_chunks_arriving_out_of_order_read_in_order(store: Store) -> None:
    run = await _running(store)
    assert await _append(store, run, 12, "three\n")
    assert await _append(store, run, 6, "two\n  ")
    page = await store.read_log("default", run.id, 0, 1000)
    assert (page.data, page.next_offset, page.complete) == ("", 0, False)  # offset 0 missing

    assert await _append(store, run, 0, "one\n  ")
    page = await store.read_log("default", run.id, 0, 1000)
    assert (page.data, page.next_offset) == ("one\n  two\n  three\n", 18)
    assert (await store.get_run("default", run.id)).log_size == 18


async def test_a_duplicate_chunk_is_stored_once(store: Store) -> None:
    run = await _running(store)
    for _ in range(3):
        assert await _append(store, run, 0, "same\n")
    assert await _append(store, run, 5, "next\n")
    assert await _append(store, run, 0, "same\n")
    await _finish(store, run)
    page = await store.read_log("default", run.id, 0, 1000)
    assert (page.data, page.next_offset, page.complete) == ("same\nnext\n", 10, True)


async def test_a_gap_stops_the_read_until_it_is_filled(store: Store) -> None:
    run = await _running(store)
    await _append(store, run, 0, "aaaa")
    await _append(store, run, 8, "cccc")
    await _finish(store, run)
    page = await store.read_log("default", run.id, 0, 1000)
    assert (page.data, page.next_offset, page.complete) == ("aaaa", 4, False)
    await _append(store, run, 4, "bbbb")
    page = await store.read_log("default", run.id, 4, 1000)
    assert (page.data, page.next_offset, page.complete) == ("bbbbcccc", 12, True)


async def test_reads_page_by_max_chars_and_start_inside_a_chunk(store: Store) -> None:
    run = await _running(store)
    for i in range(5):
        await _append(store, run, i * 6, f"line{i}\n")
    page = await store.read_log("default", run.id, 0, 13)
    assert (page.data, page.next_offset) == ("line0\nline1\n", 12)
    page = await store.read_log("default", run.id, 15, 6)
    assert (page.data, page.next_offset) == ("e2\n", 18)
    big = await store.read_log("default", run.id, 18, 2)  # one chunk is never split
    assert (big.data, big.next_offset) == ("line3\n", 24)
    end = await store.read_log("default", run.id, 30, 100)
    assert (end.data, end.next_offset, end.complete) == ("", 30, False)


async def test_the_truncation_marker_is_kept(store: Store) -> None:
    run = await _running(store)
    await _append(store, run, 0, "x" * 100)
    assert not (await store.read_log("default", run.id, 0, 10)).truncated
    await _append(store, run, 100, "", truncated=True)
    await _finish(store, run)
    page = await store.read_log("default", run.id, 0, 1000)
    assert page.truncated and page.complete and page.next_offset == 100
    assert (await store.get_run("default", run.id)).log_truncated


async def test_output_from_a_stale_worker_or_a_lost_run_is_refused(store: Store) -> None:
    run = await _running(store, worker="w1")
    stale = AppendLog(run.id, 0, "not mine", worker_id="w2")
    missing = AppendLog("0" * 32, 0, "nobody", worker_id="w1")
    assert await store.apply([stale, missing]) == [False, False]
    lost = transition(WORKER_LOST, run.id, S.LOST, {"finished_at": at(5)})
    assert await store.set_status(lost) is not None
    assert not await _append(store, run, 0, "too late")
    assert (await store.read_log("default", run.id, 0, 100)).data == ""


async def test_offsets_count_characters_not_bytes(store: Store) -> None:
    run = await _running(store)
    await _append(store, run, 0, "zürich ✓\n")
    await _append(store, run, 9, "日本\n")
    page = await store.read_log("default", run.id, 0, 1000)
    assert (page.data, page.next_offset) == ("zürich ✓\n日本\n", 12)
    assert (await store.read_log("default", run.id, 7, 1000)).data == "✓\n日本\n"


async def test_a_nul_character_keeps_the_offsets_whole(store: Store) -> None:
    """Job output may hold NUL; PostgreSQL text cannot, so it may come back as U+FFFD."""
    run = await _running(store)
    await _append(store, run, 0, "a\x00b\n")
    await _append(store, run, 4, "c\n")
    page = await store.read_log("default", run.id, 0, 1000)
    assert page.data in {"a\x00b\nc\n", "a\ufffdb\nc\n"} and page.next_offset == 6


async def test_an_end_stored_before_its_output_reads_incomplete_until_the_output_is_in(
    store: Store,
) -> None:
    """With two scheduler replicas, one can store a run's end while the other still holds its
    output: the end carries the output's length, so the log is not `complete` before that."""
    run = await _running(store)
    fields = {"finished_at": at(9), "log_size": 12}
    ended = transition(FINISH, run.id, S.SUCCEEDED, fields, worker_id="w1")
    assert await store.set_status(ended) is not None
    page = await store.read_log("default", run.id, 0, 1000)
    assert (page.data, page.complete) == ("", False)

    assert await _append(store, run, 6, "world\n")  # the last chunk first: still a gap
    assert not (await store.read_log("default", run.id, 0, 1000)).complete
    assert await _append(store, run, 0, "hello ")
    page = await store.read_log("default", run.id, 0, 1000)
    assert (page.data, page.next_offset, page.complete) == ("hello world\n", 12, True)
    assert (await store.get_run("default", run.id)).log_size == 12
