"""The server that runs its own worker (the SQLite demo; EMBEDDED_WORKER=true on PostgreSQL) is
killed (SIGKILL) in the middle of a matching round: no half-written proposals, and once a
server runs again the round's job is taken up again and finishes, its proposals stored once.

On SQLite the restarted process takes back the jobs it left half done (the demo is one
process); on PostgreSQL the new server's worker finds the job of a worker whose heartbeat
stopped and queues it again."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from tests.faults.server import Database, Server, seed

HOUSEHOLDS = 4000


def wait_for(client: httpx.Client, url: str, statuses: set[str], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(url).json()
        if body["status"] in statuses:
            return dict(body)
        time.sleep(0.01)
    raise AssertionError(f"{url} never reached {statuses}: {body}")


def test_a_round_killed_midway_leaves_no_proposals_and_finishes_after_restart(
    tmp_path: Path, fault_database: Database
) -> None:
    tokens = seed(fault_database, tmp_path, HOUSEHOLDS)
    auth = {"authorization": f"Bearer {tokens['staff_token']}"}
    server = Server(fault_database, tmp_path, env={"EMBEDDED_WORKER": "true"})
    try:
        with httpx.Client(base_url=server.url, headers=auth, timeout=30) as client:
            started = client.post("/api/rounds", json={})
            assert started.status_code == 202, started.text
            round_id = started.json()["id"]
            running = wait_for(client, f"/api/rounds/{round_id}", {"running"}, timeout=30)
            # into the solve: the snapshot is taken, the proposals not yet written
            deadline = time.monotonic() + 30
            while running["progress"] < 15 and time.monotonic() < deadline:
                running = client.get(f"/api/rounds/{round_id}").json()
            assert running["status"] == "running", "the round finished before the kill"
            server.kill()
    finally:
        server.stop()
    # what the killed server left behind
    [(status,)] = fault_database.query(f"SELECT status FROM matching_round WHERE id = {round_id}")
    [(written,)] = fault_database.query(f"SELECT count(*) FROM proposal WHERE round = {round_id}")
    assert (status, written) == ("running", 0), "nothing half-written"

    restarted = Server(fault_database, tmp_path, env={"EMBEDDED_WORKER": "true"})
    try:
        with httpx.Client(base_url=restarted.url, headers=auth, timeout=60) as client:
            done = wait_for(client, f"/api/rounds/{round_id}", {"proposed", "failed"}, timeout=150)
            assert done["status"] == "proposed", done
            listed = client.get(f"/api/rounds/{round_id}/proposals", params={"limit": 1}).json()
            assert listed["total"] > 0
    finally:
        restarted.stop()
    [(stored,)] = fault_database.query(f"SELECT count(*) FROM proposal WHERE round = {round_id}")
    [(pairs,)] = fault_database.query(
        f"SELECT count(*) FROM (SELECT DISTINCT need, offer FROM proposal WHERE round = {round_id})"
        " AS pair"
    )
    assert stored == pairs == listed["total"], "every proposal stored once"
