"""The official Python client lists, watches, resumes and gets 410 Gone like on kube-apiserver."""

import threading
import time

import pytest
from kubernetes import client, watch


def cm(name, **data):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data=data or None)


def events_for(core, namespace, name, resource_version, until, timeout=20):
    """Watch from resource_version and collect (type, data) for `name` until `until` is seen."""
    seen = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, namespace,
                          resource_version=resource_version, timeout_seconds=timeout,
                          _request_timeout=timeout + 10):
        obj = event["object"]
        if obj.metadata.name != name:
            continue
        seen.append((event["type"], dict(obj.data or {})))
        if event["type"] == until:
            w.stop()
    return seen


def test_list_configmaps(core, namespace):
    core.create_namespaced_config_map(namespace, cm("listed", key="value"))
    lst = core.list_namespaced_config_map(namespace)
    assert lst.metadata.resource_version, "a list must carry a resourceVersion"
    names = [i.metadata.name for i in lst.items]
    assert "listed" in names
    item = next(i for i in lst.items if i.metadata.name == "listed")
    assert item.data == {"key": "value"}
    assert item.metadata.uid and item.metadata.resource_version


def test_watch_from_list_rv_replays_changes(core, namespace):
    rv = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, cm("wcm", a="1"))
    core.patch_namespaced_config_map("wcm", namespace, {"data": {"a": "2"}})
    core.delete_namespaced_config_map("wcm", namespace)
    seen = events_for(core, namespace, "wcm", rv, "DELETED")
    assert seen == [("ADDED", {"a": "1"}), ("MODIFIED", {"a": "2"}), ("DELETED", {"a": "2"})]


def test_watch_sees_changes_made_meanwhile(core, namespace):
    rv = core.list_namespaced_config_map(namespace).metadata.resource_version

    def mutate():
        time.sleep(1)
        core.create_namespaced_config_map(namespace, cm("live", a="1"))
        core.patch_namespaced_config_map("live", namespace, {"data": {"a": "2"}})
        core.delete_namespaced_config_map("live", namespace)

    t = threading.Thread(target=mutate)
    t.start()
    seen = events_for(core, namespace, "live", rv, "DELETED")
    t.join()
    assert [s[0] for s in seen] == ["ADDED", "MODIFIED", "DELETED"]


def test_watch_resumes_from_a_later_resource_version(core, namespace):
    first = core.create_namespaced_config_map(namespace, cm("first", a="1"))
    after_first = first.metadata.resource_version
    core.create_namespaced_config_map(namespace, cm("second", b="2"))
    core.delete_namespaced_config_map("second", namespace)
    names = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, namespace,
                          resource_version=after_first, timeout_seconds=15, _request_timeout=25):
        name = event["object"].metadata.name
        # Other writers (the kube-root-ca.crt publisher) may touch the namespace meanwhile.
        if name not in ("first", "second"):
            continue
        names.append((event["type"], name))
        if event["type"] == "DELETED":
            w.stop()
    assert names == [("ADDED", "second"), ("DELETED", "second")], \
        "a watch resumed after `first` must not replay it"


def test_watch_from_a_compacted_resource_version_is_gone(cluster, core, namespace):
    for i in range(50):
        core.create_namespaced_config_map(namespace, cm(f"churn-{i}", i=str(i)))
    if cluster.sphere is not None:
        # A restarted server's watch window starts at the current revision, exactly like
        # kube-apiserver's watch cache after a restart, so everything older is gone. On an
        # external cluster, resourceVersion "1" predates the watch cache already.
        cluster.sphere.restart()
    with pytest.raises(client.ApiException) as excinfo:
        w = watch.Watch()
        for _ in w.stream(core.list_namespaced_config_map, namespace, resource_version="1",
                          timeout_seconds=10, _request_timeout=20):
            pass
    assert excinfo.value.status == 410, f"expected 410 Gone, got {excinfo.value}"
    assert "too old resource version" in str(excinfo.value) or "Gone" in str(excinfo.value)
    # The objects written before the restart are all still there.
    names = {c.metadata.name for c in core.list_namespaced_config_map(namespace).items}
    assert {f"churn-{i}" for i in range(50)} <= names


def test_bookmarks_carry_a_resource_version(core, namespace):
    rv = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, cm("bm", a="1"))
    seen_bm = False
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, namespace, resource_version=rv,
                          allow_watch_bookmarks=True, timeout_seconds=5, _request_timeout=15):
        if event["type"] == "BOOKMARK":
            assert event["raw_object"]["metadata"]["resourceVersion"]
        elif event["object"].metadata.name == "bm":
            assert event["type"] == "ADDED"
            seen_bm = True
    assert seen_bm, "the watch never delivered the ConfigMap created after the list"
