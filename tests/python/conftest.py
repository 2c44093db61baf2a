"""Fixtures for the Python-client tests: a cluster (E2E_KUBECONFIG or our own `sphere up`)."""

import os
import pathlib
import re
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.request
import uuid

import pytest
from kubernetes import client, config

REPO = pathlib.Path(__file__).resolve().parents[2]
# `sphere up` prints "ferrosphere listening on https://127.0.0.1:PORT (ready in N ms)".
LISTENING = re.compile(r" listening on https://[^\s:]+:(\d+)")
READY_TIMEOUT_S = 120


def sphere_binary() -> pathlib.Path:
    """SPHERE_BIN, else $CARGO_TARGET_DIR/debug/sphere, else <repo>/target/debug/sphere."""
    if os.environ.get("SPHERE_BIN"):
        return pathlib.Path(os.environ["SPHERE_BIN"])
    target = os.environ.get("CARGO_TARGET_DIR")
    base = (REPO / target) if target else REPO / "target"
    return base / "debug" / "sphere"


def _ready(kubeconfig: pathlib.Path) -> bool:
    """GET /readyz with the kubeconfig's credentials; any failure means "not ready yet"."""
    try:
        cfg = client.Configuration()
        config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
        ctx = ssl.create_default_context(cafile=cfg.ssl_ca_cert)
        if cfg.cert_file:
            ctx.load_cert_chain(cfg.cert_file, cfg.key_file)
        with urllib.request.urlopen(cfg.host + "/readyz", context=ctx, timeout=5) as resp:
            return resp.status == 200
    except Exception:  # noqa: BLE001
        return False


class Sphere:
    """A `sphere up` on a temp data dir; restartable on the same port and data."""

    def __init__(self, binary: pathlib.Path):
        self.binary = binary
        self.workdir = pathlib.Path(tempfile.mkdtemp(prefix="e2e-py-sphere-"))
        self.data = self.workdir / "data"
        self.kubeconfig = self.data / "admin.kubeconfig"
        self.log_path = self.workdir / "sphere.log"
        self.port = 0
        self.proc = None

    def start(self):
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(self.binary), "up", "--data-dir", str(self.data),
             "--listen", f"127.0.0.1:{self.port}"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            text = self.log_path.read_bytes()[offset:].decode(errors="replace")
            if self.proc.poll() is not None:
                pytest.fail(f"sphere exited with {self.proc.returncode}:\n{text}")
            found = LISTENING.search(text)
            if found and self.kubeconfig.is_file() and _ready(self.kubeconfig):
                self.port = int(found.group(1))
                return
            if time.monotonic() > deadline:
                pytest.fail(f"sphere not ready after {READY_TIMEOUT_S}s:\n{text}")
            time.sleep(0.2)

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def restart(self):
        """Kill and start again on the same port and data dir: the watch window starts afresh."""
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def cluster():
    """The cluster under test: `kubeconfig` path, and `sphere` (None for E2E_KUBECONFIG)."""
    if os.environ.get("E2E_KUBECONFIG"):
        yield type("External", (), {"kubeconfig": pathlib.Path(os.environ["E2E_KUBECONFIG"]),
                                     "sphere": None})()
        return
    binary = sphere_binary()
    if not binary.is_file():
        pytest.fail(f"sphere binary not found at {binary}: run `cargo build -p sphere` or set SPHERE_BIN")
    sphere = Sphere(binary)
    try:
        sphere.start()
        yield type("Own", (), {"kubeconfig": sphere.kubeconfig, "sphere": sphere})()
    finally:
        sphere.stop()
        shutil.rmtree(sphere.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def core(cluster):
    """A CoreV1Api for the cluster under test."""
    return client.CoreV1Api(config.new_client_from_config(config_file=str(cluster.kubeconfig)))


@pytest.fixture()
def namespace(core):
    """A fresh namespace, deleted after the test."""
    name = f"e2e-py-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    try:
        core.delete_namespace(name)
    except client.ApiException:
        pass
