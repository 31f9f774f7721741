"""Serve the generated feeds over real HTTP on 250 loopback addresses, as the web would.

nginx (a child process with a generated config, listening on 127.0.1.N:PORT only) does
conditional GET (ETag from mtime and size, Last-Modified → 304) and gzip. When nginx is
missing it is installed with apt-get (`nginx-light`, else `nginx`) if we are root; when
that is impossible a small asyncio server in this file does the same job, and the table
says so.

    python -m benchmarks.serve ROOT PORT     # the fallback server, run as a child process
"""

from __future__ import annotations

import asyncio
import gzip
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from benchmarks.feeds import HOSTS

HOST_ADDRS = tuple(f"127.0.1.{n}" for n in range(1, HOSTS + 1))


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def _find_nginx() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def ensure_nginx() -> str | None:
    """The nginx binary, installed with apt-get when missing and we are root; else None."""
    found = _find_nginx()
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    for package in ("nginx-light", "nginx"):
        log(f"nginx is missing: apt-get install -y {package}")
        if subprocess.run(["apt-get", "install", "-y", "-q", package], **quiet).returncode:
            subprocess.run(["apt-get", "update", "-q"], **quiet)
            subprocess.run(["apt-get", "install", "-y", "-q", package], **quiet)
        if found := _find_nginx():
            return found
    return None


def free_port(addrs: tuple[str, ...] = HOST_ADDRS) -> int:
    """A TCP port that is free on every one of `addrs`."""
    rng = random.Random()
    for _ in range(50):
        port = rng.randrange(20_000, 60_000)
        socks = []
        try:
            for addr in addrs:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind((addr, port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no TCP port free on all 250 loopback addresses")


NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
{user}
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    types {{ application/xml xml; text/plain txt; }}
    default_type application/octet-stream;
    sendfile on;
    keepalive_requests 100000;
    keepalive_timeout 60s;
    etag on;
    if_modified_since exact;
    gzip on;
    gzip_comp_level 1;
    gzip_min_length 256;
    gzip_types application/xml application/rss+xml application/atom+xml;
    server {{
{listens}
        server_name _;
        root {www}/$server_addr;
    }}
}}
"""


class Server:
    """A running feed server: `kind` says which, `port` where (on every 127.0.1.N)."""

    def __init__(self, www: Path, workdir: Path, *, prefer_nginx: bool = True) -> None:
        self.www, self.workdir = www, workdir
        self.port = 0
        self.kind = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._prefer_nginx = prefer_nginx

    def __enter__(self) -> Server:
        nginx = ensure_nginx() if self._prefer_nginx else None
        if nginx:
            try:
                self._start_nginx(nginx)
            except RuntimeError as e:
                log(f"nginx did not start ({e}); using the Python fallback server")
                self._stop()
        if self._proc is None:
            self._start_python()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _start_nginx(self, nginx: str) -> None:
        workdir = self.workdir / "nginx"
        (workdir / "tmp").mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        # nginx workers run as an unprivileged user when started by root: let them read.
        for path in (self.workdir, self.www):
            path.chmod(0o755)
        user = "user root;" if os.geteuid() == 0 else ""
        listens = "\n".join(f"        listen {addr}:{self.port};" for addr in HOST_ADDRS)
        conf = workdir / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=workdir, user=user, listens=listens, www=self.www))
        self._proc = subprocess.Popen(
            [nginx, "-p", str(workdir), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr.strip()
        self.kind = version.replace("nginx version: ", "") or "nginx"
        self._wait_ready(lambda: (workdir / "error.log").read_text(errors="replace")[-500:])

    def _start_python(self) -> None:
        self.port = free_port()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.serve", str(self.www), str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.kind = "Python asyncio fallback (nginx unavailable)"
        self._wait_ready(lambda: "")

    def _wait_ready(self, why: object) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                raise RuntimeError(f"server exited: {err.strip()[-500:]} {why()}")  # type: ignore[operator]
            try:
                for addr in (HOST_ADDRS[0], HOST_ADDRS[-1]):
                    socket.create_connection((addr, self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server not listening after 20 s")

    def _stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGQUIT if "nginx" in self.kind else signal.SIGTERM)
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None


# --- the fallback server ---------------------------------------------------------------


class _Files:
    """Bodies and their gzip, cached by (path, mtime, size)."""

    def __init__(self, www: Path) -> None:
        self.www = www
        self._gz: dict[tuple[str, float, int], bytes] = {}

    def get(self, host: str, path: str) -> tuple[Path, os.stat_result] | None:
        rel = path.split("?", 1)[0].lstrip("/")
        if ".." in rel.split("/"):
            return None
        file = self.www / host / rel
        try:
            st = file.stat()
        except OSError:
            return None
        return (file, st) if file.is_file() else None

    def gzipped(self, file: Path, st: os.stat_result) -> bytes:
        key = (str(file), st.st_mtime, st.st_size)
        if key not in self._gz:
            self._gz[key] = gzip.compress(file.read_bytes(), compresslevel=1)
        return self._gz[key]


async def _handle(
    files: _Files, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    host = writer.get_extra_info("sockname")[0]
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            method, target, _ = line.decode("latin-1").split(" ", 2)
            headers = {}
            while (h := await reader.readline()) not in (b"\r\n", b"\n", b""):
                k, _, v = h.decode("latin-1").partition(":")
                headers[k.strip().lower()] = v.strip()
            found = files.get(host, target)
            if found is None:
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                continue
            file, st = found
            etag = f'"{int(st.st_mtime):x}-{st.st_size:x}"'
            modified = formatdate(st.st_mtime, usegmt=True)
            inm, ims = headers.get("if-none-match"), headers.get("if-modified-since")
            fresh = inm is not None and etag in (
                t.strip().removeprefix("W/") for t in inm.split(",")
            )
            if inm is None and ims:
                try:
                    fresh = parsedate_to_datetime(ims).timestamp() >= int(st.st_mtime)
                except (TypeError, ValueError):
                    fresh = False
            head = f"ETag: {etag}\r\nLast-Modified: {modified}\r\n"
            if fresh:
                writer.write(f"HTTP/1.1 304 Not Modified\r\n{head}\r\n".encode())
            else:
                gz = "gzip" in headers.get("accept-encoding", "")
                body = files.gzipped(file, st) if gz else file.read_bytes()
                enc = "Content-Encoding: gzip\r\n" if gz else ""
                writer.write(
                    f"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n{head}{enc}"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + (body if method != "HEAD" else b"")
                )
            await writer.drain()
    except (ConnectionError, ValueError):
        return
    finally:
        writer.close()


async def _serve(www: Path, port: int) -> None:
    files = _Files(www)
    servers = [
        await asyncio.start_server(lambda r, w: _handle(files, r, w), addr, port, backlog=512)
        for addr in HOST_ADDRS
    ]
    await asyncio.gather(*(s.serve_forever() for s in servers))


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    asyncio.run(_serve(Path(argv[0]), int(argv[1])))


if __name__ == "__main__":
    main(sys.argv[1:])
