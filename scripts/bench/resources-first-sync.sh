#!/usr/bin/env bash
# Resources cache time to first sync after a restart of a release `sphere up` holding 100,000
# pods in 100 namespaces (named for a scheduler that does not exist, so they stay Pending).
set -euo pipefail
BIN=${BIN:-target/release/sphere}
D=$(mktemp -d /tmp/sync.XXXX)
PORT=19444
URL=https://127.0.0.1:$PORT
start_sphere() { $BIN up --data-dir "$D" --listen 127.0.0.1:$PORT >> "$D/log" 2>&1 & PID=$!; }
start_sphere
trap 'kill $PID 2>/dev/null || true' EXIT
for i in $(seq 60); do [ -f "$D/admin.kubeconfig" ] && curl -sk $URL/readyz >/dev/null && break; sleep 1; done
export KUBECONFIG=$D/admin.kubeconfig
PW=$(cat "$D/initial-admin-password")
tok() { curl -sk -X POST "$URL/oauth/token" -d grant_type=password -d username=admin --data-urlencode "password=$1" -d client_id=kubesphere | python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])'; }
TOKEN=$(tok "$PW")
curl -sk -X PUT "$URL/kapis/iam.kubesphere.io/v1beta1/users/admin/password" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d "{\"currentPassword\": \"$PW\", \"password\": \"Bench-Passw0rd-1\"}" >/dev/null
python3 - "$D" <<'PY'
import json, sys
d = sys.argv[1]
for chunk in range(10):
    items = []
    for n in range(10):
        ns = f"ns-{chunk*10+n:03d}"
        items.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        for i in range(1000):
            items.append({"apiVersion": "v1", "kind": "Pod",
              "metadata": {"name": f"web-{i:04d}", "namespace": ns, "labels": {"app": f"web-{i % 50}"}},
              "spec": {"schedulerName": "bench-none", "containers": [{"name": "c", "image": "nginx:1.27"}]}})
    json.dump({"apiVersion": "v1", "kind": "List", "items": items}, open(f"{d}/chunk{chunk}.json", "w"))
PY
t0=$(date +%s)
# Ten parallel clients. A pod created in the instant after its namespace may be refused
# (its default ServiceAccount is not there yet), as on kube-apiserver; those few are skipped.
KPIDS=()
for c in $(seq 0 9); do kubectl create -f "$D/chunk$c.json" > /dev/null 2>&1 & KPIDS+=($!); done
for p in "${KPIDS[@]}"; do wait "$p" || true; done
echo "created 100,000 pods in 100 namespaces in $(( $(date +%s) - t0 )) s; RSS $(ps -o rss= -p $PID) KiB"
kill $PID; while kill -0 $PID 2>/dev/null; do sleep 0.2; done
t1=$(date +%s.%N)
start_sphere
until curl -sk $URL/readyz >/dev/null 2>&1; do sleep 0.1; done
t2=$(date +%s.%N)
TOKEN=$(tok Bench-Passw0rd-1)
until [ "$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/kapis/resources.kubesphere.io/v1alpha3/pods?limit=1")" = 200 ]; do sleep 0.1; done
t3=$(date +%s.%N)
python3 -c "print(f'restart: ready {float($t2)-float($t1):.2f} s after start; resources API answering (first sync) {float($t3)-float($t1):.2f} s after start')"
curl -sk -H "Authorization: Bearer $TOKEN" "$URL/kapis/resources.kubesphere.io/v1alpha3/pods?limit=1" | python3 -c 'import sys,json; print("totalItems", json.load(sys.stdin)["totalItems"])'
echo "RSS after sync: $(ps -o rss= -p $PID) KiB"
