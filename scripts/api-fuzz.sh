#!/usr/bin/env bash
# Property-based API test generated from the OpenAPI document (schemathesis, pinned in .ci/run)
# against a real `stratus serve` on loopback with a fresh SQLite file. Fails on any 5xx, on a
# response that violates its documented schema, status code or content type, and on a server log
# that shows a panic. Bounded: schemathesis's own time budget plus a hard `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."

budget=${API_FUZZ_SECONDS:-150}
command -v schemathesis >/dev/null || { echo "schemathesis not installed (pip install schemathesis==4.32.5)" >&2; exit 1; }

cargo build -q -p stratus-gateway --bin stratus
bin="$PWD/target/debug/stratus"
dir=$(mktemp -d /tmp/stratus-fuzz.XXXXXX)
port=$(( 20000 + RANDOM % 20000 ))
base="http://127.0.0.1:$port"
export STRATUS_SERVER__LISTEN="127.0.0.1:$port"
export STRATUS_DATABASE__URL="sqlite://$dir/fuzz.db"
export STRATUS_AUTH__HS256_SECRET="fuzz-secret-0123456789abcdef0123456789"
export STRATUS_AUTH__OPERATOR_TENANTS='["system"]'
export RUST_LOG="${RUST_LOG:-warn}"

"$bin" serve >"$dir/serve.log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fs "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "$base/readyz" >/dev/null || { cat "$dir/serve.log"; echo "stratus did not become ready" >&2; exit 1; }

# A tenant to act in, created by a system admin; the fuzzer then acts as that tenant's admin.
tenant=5a7e0000-0000-4000-8000-000000000001
m365=5a7e0000-0000-4000-8000-000000000002
admin_user=5a7e0000-0000-4000-8000-0000000000aa
sys=$("$bin" token --tenant system --user "$admin_user" --role SystemAdmin)
curl -fs -X POST "$base/api/v1/tenants" -H "Authorization: Bearer $sys" \
  -H 'content-type: application/json' \
  -d "{\"id\":\"$tenant\",\"name\":\"fuzz\",\"m365_tenant\":\"$m365\"}" >/dev/null
token=$("$bin" token --tenant "$tenant" --user "$admin_user" --role TenantAdmin --role Supervisor)

status=0
timeout $(( budget + 120 )) schemathesis run "$base/api/v1/openapi.json" \
  --url "$base" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${API_FUZZ_EXAMPLES:-25}" \
  --max-time "$budget" \
  --request-timeout 10 \
  --generation-allow-x00 false \
  --seed "${API_FUZZ_SEED:-1}" \
  --workers 2 \
  --output-truncate true || status=$?

if grep -q "panicked" "$dir/serve.log"; then
  grep -B2 -A10 "panicked" "$dir/serve.log" | head -40
  echo "stratus panicked during the API fuzz run" >&2
  status=1
fi
[ "$status" = 0 ] && echo "api-fuzz: no 5xx, no schema violation"
exit "$status"
