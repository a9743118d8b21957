"""Schemathesis against the app's OpenAPI schema, driven in-process on the test's event loop.

Schemathesis' own ASGI client runs the app on another loop (STACK.md trap 5), outside the
test's transaction; here schemathesis only *generates* the cases (hypothesis, synchronously)
and *checks* the answers, and the app is called through ``httpx.ASGITransport`` in the test's
transaction.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case as AnyCase
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.schemas import APIOperation as AnyOperation

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
Case = AnyCase[Any]
APIOperation = AnyOperation[Any, Any, Any, Any]
EXAMPLES = int(os.environ.get("NUANXIN_FUZZ_EXAMPLES", "3"))


def operations(raw_schema: dict[str, Any]) -> list[APIOperation]:
    schema = schemathesis.openapi.from_dict(raw_schema)
    found = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    return sorted(found, key=lambda op: op.label)


def cases(operation: APIOperation, mode: GenerationMode, count: int) -> list[Case]:
    """Up to ``count`` cases of one operation (generated only: nothing is called here)."""
    drawn: list[Case] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy(generation_mode=mode))
    def collect(case: Case) -> None:
        drawn.append(case)

    with contextlib.suppress(Unsatisfiable):  # nothing to break: no negative cases
        collect()
    return drawn[:count]


@dataclass
class Outcome:
    calls: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


async def run(
    client: httpx.AsyncClient,
    all_cases: Iterable[tuple[Case, dict[str, str]]],
    outcome: Outcome,
) -> None:
    """Call each case with its headers; record any check that fails."""
    for case, headers in all_cases:
        kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
        kwargs.pop("cookies", None)
        kwargs.pop("timeout", None)
        kwargs.pop("follow_redirects", None)
        request_kwargs = {key: kwargs[key] for key in kwargs if key in _HTTPX_KWARGS}
        if isinstance(request_kwargs.get("data"), bytes | str):
            request_kwargs["content"] = request_kwargs.pop("data")
        if request_kwargs.get("files") is not None:
            request_kwargs["files"] = _sendable_files(request_kwargs["files"])
        response = await client.request(**request_kwargs)
        await response.request.aread()  # a multipart body is a stream: the checks read it
        outcome.calls += 1
        outcome.statuses[response.status_code] = outcome.statuses.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, FailureGroup) as failure:
            outcome.failures.append(
                f"{case.operation.label} -> {response.status_code}: {str(failure)[:600]}"
            )


def _sendable_files(files: Any) -> list[tuple[str, Any]]:
    """Negative cases may put numbers where a file goes: send them as the file's text."""
    items = files.items() if isinstance(files, dict) else files
    sendable: list[tuple[str, Any]] = []
    for name, value in items:
        if isinstance(value, tuple):
            filename, content, *rest = value
            if not isinstance(content, bytes | str):
                content = str(content)
            sendable.append((name, (filename, content, *rest)))
        elif isinstance(value, bytes | str):
            sendable.append((name, value))
        else:
            sendable.append((name, str(value)))
    return sendable


_HTTPX_KWARGS = {"method", "url", "params", "headers", "json", "content", "data", "files"}
