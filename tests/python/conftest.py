"""Fixtures for the Python-client tests: a cluster (E2E_KUBECONFIG or our own `sphere up`)."""

import os
import pathlib
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest
from kubernetes import client, config

REPO = pathlib.Path(__file__).resolve().parents[2]
LISTENING = " listening on https://"  # "ferrosphere listening on https://..."
READY_TIMEOUT_S = 120


def sphere_binary() -> pathlib.Path:
    """SPHERE_BIN, else $CARGO_TARGET_DIR/debug/sphere, else <repo>/target/debug/sphere."""
    if os.environ.get("SPHERE_BIN"):
        return pathlib.Path(os.environ["SPHERE_BIN"])
    target = os.environ.get("CARGO_TARGET_DIR")
    base = (REPO / target) if target else REPO / "target"
    return base / "debug" / "sphere"


def _ready(kubeconfig: pathlib.Path) -> bool:
    try:
        api = config.new_client_from_config(config_file=str(kubeconfig))
        _, status, _ = api.call_api("/readyz", "GET", auth_settings=["BearerToken"],
                                    response_type="str", _return_http_data_only=False,
                                    _preload_content=True, _request_timeout=5)
        return status == 200
    except Exception:  # noqa: BLE001 - any failure just means "not ready yet"
        return False


@pytest.fixture(scope="session")
def kubeconfig():
    """Path of an admin kubeconfig for the cluster under test."""
    if os.environ.get("E2E_KUBECONFIG"):
        yield pathlib.Path(os.environ["E2E_KUBECONFIG"])
        return
    binary = sphere_binary()
    if not binary.is_file():
        pytest.fail(f"sphere binary not found at {binary}: run `cargo build -p sphere` or set SPHERE_BIN")
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="e2e-py-sphere-"))
    data = workdir / "data"
    log_path = workdir / "sphere.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [str(binary), "up", "--data-dir", str(data), "--listen", "127.0.0.1:0"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    kubeconfig_path = data / "admin.kubeconfig"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"sphere exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
            text = log_path.read_text(errors="replace")
            if LISTENING in text and kubeconfig_path.is_file() and _ready(kubeconfig_path):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"sphere not ready after {READY_TIMEOUT_S}s:\n{text}")
            time.sleep(0.2)
        yield kubeconfig_path
    finally:
        proc.kill()
        proc.wait()
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def core(kubeconfig):
    """A CoreV1Api for the cluster under test."""
    return client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))


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
