"""Named entity recognition in worker processes, for large batches.

spaCy's NER holds the GIL, so threads do not help; on a machine with several cores a large batch (a
table's free-text column, a long document) is split between the server process and `workers` child
processes that each load the same pipeline (`python -m mcp_server.masking.ner_workers`). A worker gets
texts and returns only character offsets and labels, one JSON line each way; the server rebuilds the
spans on its own tokenization of the same texts (same tokenizer, same offsets), so what follows NER is
unchanged. Workers are plain subprocesses (no fork of a threaded server, no re-import of the caller's
main module), write nothing to the server's stdout (the MCP stream over stdio), and load in the
background. A worker that fails is dropped and the server runs NER on that share itself.
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import IO

log = logging.getLogger(__name__)

# Entities per text: (start character, end character, label).
Entities = list[tuple[int, int, str]]
READY = "ready"


class Worker:
    """One child process; `send` a share, then `receive` its entities (one request at a time)."""

    def __init__(self, model: str, exclude: Sequence[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mcp_server.masking.ner_workers", model, json.dumps(list(exclude))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # the server's log stream
        )
        self.ready = threading.Event()
        self.broken = False
        self.closing = False
        threading.Thread(target=self._wait_ready, name="maskwire-ner-worker-start", daemon=True).start()

    def _wait_ready(self) -> None:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.decode("ascii", "replace").strip() == READY:
            self.ready.set()
        else:
            self.broken = True
            if not self.closing:  # killed at shutdown while loading is no failure
                log.warning("an NER worker did not start (exit code %s)", self.process.poll())

    def send(self, texts: list[str], batch_size: int) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps([texts, batch_size]).encode("ascii") + b"\n")
        self.process.stdin.flush()

    def receive(self) -> list[Entities]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise EOFError("the NER worker exited")
        answer = json.loads(line)
        if isinstance(answer, dict):  # {"error": "TypeName"}
            raise ValueError(f"the NER worker failed ({answer.get('error')})")
        return [[(int(a), int(b), str(label)) for a, b, label in found] for found in answer]

    def close(self) -> None:
        self.closing = True
        if not self.ready.is_set():  # still loading the pipeline: nothing to finish
            self.process.kill()
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()  # the worker ends at the end of its input
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class NerWorkers:
    """`workers` child processes running the pipeline's NER (and only what NER needs)."""

    def __init__(self, model: str, exclude: Sequence[str], workers: int) -> None:
        self.model = model
        self.exclude = tuple(exclude)
        self.workers = workers
        self._pool: list[Worker] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the processes; each loads the pipeline in the background (`ready` says when all have)."""
        with self._lock:
            if not self._pool:
                self._pool = [Worker(self.model, self.exclude) for _ in range(self.workers)]

    @property
    def ready(self) -> bool:
        """Every worker has loaded the pipeline and none has failed."""
        with self._lock:
            pool = list(self._pool)
        return bool(pool) and all(w.ready.is_set() and not w.broken for w in pool)

    def wait_until_ready(self, timeout: float) -> bool:
        with self._lock:
            pool = list(self._pool)
        for worker in pool:
            worker.ready.wait(timeout)
        return self.ready

    def send(self, shares: list[list[str]], batch_size: int) -> list[Worker | None]:
        """Give one share to each worker; None where a worker could not take it."""
        with self._lock:
            pool = list(self._pool)
        sent: list[Worker | None] = []
        for worker, texts in zip(pool, shares, strict=False):
            try:
                worker.send(texts, batch_size)
                sent.append(worker)
            except OSError:
                self._drop(worker)
                sent.append(None)
        return sent

    def receive(self, worker: Worker | None) -> list[Entities] | None:
        """A worker's answer to what `send` gave it; None if it failed (its share runs in the server)."""
        if worker is None:
            return None
        try:
            return worker.receive()
        except (OSError, EOFError, ValueError) as exc:
            log.warning("an NER worker failed (%s); NER runs in the server process", type(exc).__name__)
            self._drop(worker)
            return None

    def _drop(self, worker: Worker) -> None:
        worker.broken = True
        with self._lock:
            if worker in self._pool:
                self._pool.remove(worker)
        worker.close()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, []
        for worker in pool:
            worker.close()


def _serve(model: str, exclude: list[str], requests: IO[bytes], answers: IO[bytes]) -> None:
    import spacy

    nlp = spacy.load(model, exclude=exclude)
    answers.write(READY.encode("ascii") + b"\n")
    answers.flush()
    for line in requests:
        try:
            texts, batch_size = json.loads(line)
            docs = nlp.pipe(texts, batch_size=batch_size)
            found: object = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs]
        except Exception as exc:  # the server runs NER itself; an exception's text could quote a value
            found = {"error": type(exc).__name__}
        answers.write(json.dumps(found).encode("ascii") + b"\n")
        answers.flush()


if __name__ == "__main__":
    answers = sys.stdout.buffer
    sys.stdout = sys.stderr  # anything else printed goes to the log, never into the answers
    try:
        _serve(sys.argv[1], json.loads(sys.argv[2]), sys.stdin.buffer, answers)
    except Exception as exc:  # no traceback: it could quote a text
        print(f"maskwire NER worker stopped ({type(exc).__name__})", file=sys.stderr)
        sys.exit(1)
