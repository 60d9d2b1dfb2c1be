"""Every change of a run's status goes through `status.transition` (see `status.py`'s docstring).

At run time a `SetStatus` refuses to be made elsewhere (`test_lifecycle.py`). This test scans the
source so no code writes a run status by another route:
- outside `status.py`, nothing constructs a `SetStatus`;
- in the stores, a status is written (a `["status"] =` assignment, a `"status"` under `$set`, a
  `"status"` row or keyword in a function that writes with `.values(...)`/`set_=` or a MongoDB
  write) only by the functions in `STORE_WRITERS`: the compare-and-set that applies a `SetStatus`,
  and the encoders of a new run, inserted whole;
- elsewhere, a `Run` gets a status (`Run(status=...)`, `model_copy(update={"status": ...})`) only
  in the functions in `BIRTHS`, which make runs before they are first stored, or a view of one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import hydra_jobs

SRC = Path(hydra_jobs.__file__).parent

STORE_WRITERS = {
    "_status_statement": "SQL: the compare-and-set UPDATE that applies a SetStatus",
    "_apply_status": "MongoDB: the find_one_and_update that applies a SetStatus",
    "run_row": "SQL: a new run's row, inserted whole",
    "run_doc": "MongoDB: a new run's document, inserted whole",
    "_apply_worker": "a worker's status, not a run's",
    "claim_deliveries": "a notification delivery's attempt (notify outbox), not a run's status",
    "finish_attempt": "a notification delivery's status (notify outbox), not a run's",
}
BIRTHS = {
    "new_run": "the one constructor of a run, born pending or skipped",
    "submit_runs": "a new run with nothing to wait for is stored queued",
    "running_view": "a merged quick run as live clients see it between its halves; never stored",
}
MONGO_WRITES = {
    "update_one",
    "update_many",
    "find_one_and_update",
    "replace_one",
    "insert_one",
    "insert_many",
}


def _is_status(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value == "status"


def _is_filter(node: ast.AST) -> bool:
    """A MongoDB query operator (`{"$in": [...]}`): a filter on the status, not a write."""
    return (
        isinstance(node, ast.Dict)
        and bool(node.keys)
        and all(isinstance(k, ast.Constant) and str(k.value).startswith("$") for k in node.keys)
    )


def _functions(tree: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """(name, node) of every function, innermost first for nested ones; module level as ''."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, node
    yield "", tree


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function (or module) that are not inside a function nested in it."""
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _callee(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _store_write(nodes: list[ast.AST]) -> bool:
    writes = any(
        isinstance(n, ast.Call)
        and (
            _callee(n) in MONGO_WRITES
            or _callee(n) == "values"
            or any(k.arg == "set_" for k in n.keywords)
        )
        for n in nodes
    )
    for node in nodes:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and _is_status(target.slice):
                    if not _is_filter(node.value):
                        return True
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if key is not None and isinstance(key, ast.Constant):
                    if key.value in ("$set", "$setOnInsert") and isinstance(value, ast.Dict):
                        if any(_is_status(k) for k in value.keys):
                            return True
                    if writes and _is_status(key) and not _is_filter(value):
                        return True
        if isinstance(node, ast.Call) and _callee(node) == "values":
            if any(k.arg == "status" for k in node.keywords):
                return True
    return False


def _worker_status(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "WorkerStatus"
    )


def _run_status_given(nodes: list[ast.AST]) -> bool:
    calls = [n for n in nodes if isinstance(n, ast.Call)]
    for call in calls:
        if _callee(call) in ("Run", "RunSummary") and any(k.arg == "status" for k in call.keywords):
            return True
    if not any(_callee(call) == "model_copy" for call in calls):
        return False
    # The update of a model_copy, written in the call or built before it.
    for node in nodes:
        if isinstance(node, ast.Dict):
            pairs = zip(node.keys, node.values, strict=True)
            if any(_is_status(k) and not _worker_status(v) for k, v in pairs):
                return True
        if isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Subscript) and _is_status(t.slice) for t in node.targets):
                return True
    return False


def status_writes(source: str, path: str) -> list[str]:
    """Where `source` (the module at `path`, relative to the package) writes a run status
    other than through `status.transition`: 'path::function: what' for each."""
    if path == "status.py":
        return []
    tree = ast.parse(source)
    found: list[str] = []
    in_store = path.startswith("store/")
    for name, scope in _functions(tree):
        nodes = list(_own_nodes(scope))
        where = f"{path}::{name or '<module>'}"
        if any(isinstance(n, ast.Call) and _callee(n) == "SetStatus" for n in nodes):
            found.append(f"{where}: makes a SetStatus (use status.transition)")
        if in_store and name not in STORE_WRITERS and _store_write(nodes):
            found.append(f"{where}: writes a run status in the store")
        if not in_store and name not in BIRTHS and _run_status_given(nodes):
            found.append(f"{where}: gives a run a status")
    return found


def _modules() -> Iterator[tuple[str, str]]:
    for file in sorted(SRC.rglob("*.py")):
        yield file.relative_to(SRC).as_posix(), file.read_text(encoding="utf-8")


def test_no_status_is_written_outside_the_one_helper() -> None:
    found = [hit for path, source in _modules() for hit in status_writes(source, path)]
    assert found == [], "run statuses written outside status.transition:\n" + "\n".join(found)


def test_every_allowed_writer_still_exists() -> None:
    """A name left in the allow lists after its function went would let a new one in."""
    defined = {
        node.name
        for _, source in _modules()
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    assert set(STORE_WRITERS) | set(BIRTHS) <= defined


def test_the_scan_finds_each_kind_of_write() -> None:
    """The scan can fail: each route around the helper is caught, filters and reads are not."""
    hits = {
        "scheduler/x.py": [
            "def f(store, run_id):\n"
            "    return store.apply([SetStatus(run_id, {S.RUNNING}, S.FAILED)])\n",
            "def f(run):\n    return run.model_copy(update={'status': RunStatus.FAILED})\n",
            "def f(job):\n    return Run(id='x', status=RunStatus.RUNNING)\n",
            "def f(run):\n    new = {'status': S.LOST}\n    return run.model_copy(update=new)\n",
            "def f(run):\n"
            "    new = {}\n"
            "    new['status'] = S.LOST\n"
            "    return run.model_copy(update=new)\n",
            "op = status.SetStatus('r', frozenset(), S.LOST)\n",
        ],
        "store/sql.py": [
            "def mark(c, run_id):\n"
            "    c.execute(runs.update().where(runs.c.id == run_id).values(status='failed'))\n",
            "def mark(c, run_id):\n"
            "    row = {'status': 'failed', 'error': 'x'}\n"
            "    c.execute(runs.update().values(**row))\n",
        ],
        "store/mongo.py": [
            "async def mark(self, run_id):\n"
            "    await self.runs.update_one({'_id': run_id}, {'$set': {'status': 'lost'}})\n",
            "def encode(run):\n    doc = {}\n    doc['status'] = 'lost'\n    return doc\n",
        ],
    }
    for path, sources in hits.items():
        for source in sources:
            assert status_writes(source, path), (path, source)
    clean = {
        "store/mongo.py": [
            "def q(flt):\n    query = {}\n    query['status'] = {'$in': ['a']}\n    return query\n",
            "async def due(self):\n    return self.runs.find({'status': 'pending'})\n",
        ],
        "store/sql.py": [
            "def q(c):\n    return c.execute(sa.select(runs).where(runs.c.status == 'queued'))\n",
        ],
        "scheduler/reaper.py": [
            "def off(w):\n    return w.model_copy(update={'status': WorkerStatus.OFFLINE})\n",
            "def f(rt, run):\n    return rt.store.set_status(transition(START, run.id))\n",
        ],
        "status.py": ["op = SetStatus('r', frozenset(), S.LOST)\n"],
    }
    for path, sources in clean.items():
        for source in sources:
            assert status_writes(source, path) == [], (path, source)
