"""``make cluster``: nginx spreads requests over the app servers and passes the client on."""

from __future__ import annotations

from pathlib import Path

from nuanxin.cluster import nginx_config


def test_nginx_spreads_over_every_server_and_passes_the_client_address(tmp_path: Path) -> None:
    config = nginx_config(
        listen="127.0.0.1:8000", servers=["127.0.0.1:8001", "127.0.0.1:8002"], folder=tmp_path
    )
    assert "server 127.0.0.1:8001" in config and "server 127.0.0.1:8002" in config
    assert "listen 127.0.0.1:8000;" in config
    # set, not appended: a client cannot smuggle an address of its choice past the limits
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in config
    assert str(tmp_path / "nginx.pid") in config
