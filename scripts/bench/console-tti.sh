#!/usr/bin/env bash
# Console time-to-interactive against a real release `sphere up` with 10,000 pods in one project.
# The pods name a scheduler that does not exist, so they stay Pending without the built-in
# scheduler retrying them; the list is what is measured. Needs kubectl, curl, python3 and
# the console's npm packages (Playwright with /usr/bin/chromium).
set -euo pipefail
BIN=${BIN:-target/release/sphere}
D=$(mktemp -d /tmp/tti.XXXX)
PORT=19443
$BIN up --data-dir "$D" --listen 127.0.0.1:$PORT > "$D/log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for i in $(seq 60); do [ -f "$D/admin.kubeconfig" ] && curl -sk https://127.0.0.1:$PORT/readyz >/dev/null && break; sleep 1; done
export KUBECONFIG=$D/admin.kubeconfig
PW=$(cat "$D/initial-admin-password")
URL=https://127.0.0.1:$PORT
TOKEN=$(curl -sk -X POST "$URL/oauth/token" -d grant_type=password -d username=admin --data-urlencode "password=$PW" -d client_id=kubesphere | python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])')
curl -sk -X PUT "$URL/kapis/iam.kubesphere.io/v1beta1/users/admin/password" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d "{\"currentPassword\": \"$PW\", \"password\": \"Bench-Passw0rd-1\"}" >/dev/null
cat <<YAML | kubectl apply -f -
apiVersion: tenant.kubesphere.io/v1beta1
kind: WorkspaceTemplate
metadata: {name: bench}
spec: {template: {spec: {manager: admin}}}
---
apiVersion: v1
kind: Namespace
metadata: {name: demo, labels: {kubesphere.io/workspace: bench}}
YAML
python3 - "$D/pods.json" <<'PY'
import json, sys
items = [{"apiVersion": "v1", "kind": "Pod",
          "metadata": {"name": f"web-{i:05d}", "namespace": "demo", "labels": {"app": f"web-{i % 50}"}},
          "spec": {"schedulerName": "bench-none", "containers": [{"name": "c", "image": "nginx:1.27"}]}}
         for i in range(10000)]
json.dump({"apiVersion": "v1", "kind": "List", "items": items}, open(sys.argv[1], "w"))
PY
start=$(date +%s)
kubectl create -f "$D/pods.json" >/dev/null
echo "created 10,000 pods in $(( $(date +%s) - start )) s"
kubectl get pods -n demo --no-headers | wc -l
echo "RSS of sphere: $(ps -o rss= -p $PID) KiB"
cd "$(dirname "$0")/../../console"
BENCH_URL=$URL BENCH_USER=admin BENCH_PASSWORD=Bench-Passw0rd-1 BENCH_PROJECT=demo BENCH_KINDS=pods npx playwright test --config playwright.bench.config.ts 2>&1 | tail -12
echo "RSS of sphere after: $(ps -o rss= -p $PID) KiB"
