#!/usr/bin/env bash
# Smoke test of the benchmark harness (ctest case bench_smoke): runs every bench
# program at tiny N through deploy/bench.sh --smoke --json on this build dir,
# then checks that the JSON parses, holds exactly the expected figure keys,
# and that each figure is a number or null with a reason that says why
# (not built yet / mosquitto missing). Asserts no timing.
#   smoke_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=${1:?source dir}
build=${2:?build dir}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# the programs reject bad arguments and a missing broker binary cleanly
bin=$build/tools/bench
rc=0; "$bin/raw_lmdb" -c 0 >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "raw_lmdb -c 0 exited $rc, expected 2"
rc=0; "$bin/raw_curve" -n 12x >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "raw_curve -n 12x exited $rc, expected 2"
if [ -x "$bin/peer_mqtt_bridge" ]; then
  rc=0; "$bin/peer_mqtt_bridge" -m "$tmp/no-such-mosquitto" >/dev/null 2>"$tmp/err" || rc=$?
  [ "$rc" -eq 77 ] || fail "peer_mqtt_bridge without broker exited $rc, expected 77"
  grep -q "mosquitto broker not installed" "$tmp/err" || fail "peer_mqtt_bridge gave no reason"
fi

"$src/deploy/bench.sh" --smoke --build-dir "$build" --json >"$tmp/out.json" 2>"$tmp/log" \
  || { cat "$tmp/log" >&2; fail "bench.sh --smoke exited non-zero"; }
python3 -m json.tool "$tmp/out.json" >/dev/null || { cat "$tmp/out.json" >&2; fail "JSON does not parse"; }
if command -v jq >/dev/null; then
  jq -e 'type == "object"' "$tmp/out.json" >/dev/null || fail "jq: not an object"
fi

mosquitto_found=0
if command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || [ -x /usr/local/sbin/mosquitto ]; then
  mosquitto_found=1
fi

python3 - "$tmp/out.json" "$bin" "$mosquitto_found" <<'PY' || { cat "$tmp/log" >&2; exit 1; }
import json, os, sys
path, bindir, mosq = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
obj = json.load(open(path))
expected = """raw_curve_msgs_per_s raw_verify_per_s raw_sign_per_s raw_commit_per_s
raw_batch_puts_per_s peer_mqtt_bridge_msgs_per_s catchup_entries_per_s
federation_catchup_entries_per_s federation_catchup_vs_catchup
live_entries_per_s latency_p50_us latency_p99_us node_rss_idle_kib
broker_rss_per_site_kib store_bytes_per_entry catchup_vs_raw_curve
live_vs_raw_sign catchup_vs_peer_bridge live_vs_peer_bridge latency_p99_vs_floor
http_agenda_req_per_s nginx_static_req_per_s http_agenda_vs_nginx_static
event_show_us event_list_page_us event_window_us node_anon_kib fanout_deliveries_per_s fanout_vs_raw_curve""".split()
errors = []
if sorted(obj) != sorted(expected):
    errors.append("keys differ: missing %s, extra %s" % (
        sorted(set(expected) - set(obj)), sorted(set(obj) - set(expected))))
def num(k):
    v = obj.get(k) or {}
    return v.get("median")
def need_number(k, why):
    v = obj.get(k)
    if not isinstance(v, dict):
        errors.append("%s: not an object" % k)
        return
    m = v.get("median")
    # a difference of two RSS readings may be 0 or below at tiny N
    positive = k != "broker_rss_per_site_kib"
    if not isinstance(m, (int, float)) or (positive and m <= 0):
        errors.append("%s: expected a positive number (%s), got %r, reason %r" % (k, why, m, v.get("reason")))
    elif not (v["min"] <= m <= v["max"]) or len(v["runs"]) < 3:
        errors.append("%s: median %r outside [min %r, max %r] or fewer than 3 runs" % (k, m, v["min"], v["max"]))
def need_null(k, words):
    v = obj.get(k)
    if not isinstance(v, dict):
        errors.append("%s: not an object" % k)
        return
    if v.get("median") is not None:
        errors.append("%s: expected null (%s), got %r" % (k, words, v.get("median")))
    elif not v.get("reason") or words not in v["reason"]:
        errors.append("%s: null without the reason %r: %r" % (k, words, v.get("reason")))
def built(prog):
    return os.access(os.path.join(bindir, prog), os.X_OK)

for k in "raw_curve_msgs_per_s raw_verify_per_s raw_sign_per_s raw_commit_per_s raw_batch_puts_per_s".split():
    need_number(k, "baseline programs are always built")
if not built("peer_mqtt_bridge"):
    need_null("peer_mqtt_bridge_msgs_per_s", "libmosquitto")
elif not mosq:
    need_null("peer_mqtt_bridge_msgs_per_s", "mosquitto broker not installed")
else:
    need_number("peer_mqtt_bridge_msgs_per_s", "mosquitto is installed")
nginx = any(os.access(p, os.X_OK) for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx",
                                             "/usr/bin/nginx"))
if nginx:
    need_number("nginx_static_req_per_s", "nginx is installed")
else:
    need_null("nginx_static_req_per_s", "nginx not installed")
for prog, keys in [("el_bench_http", ["http_agenda_req_per_s"]),
                   ("el_bench_query", ["event_show_us", "event_list_page_us", "event_window_us"]),
                   ("el_bench_catchup", ["catchup_entries_per_s", "federation_catchup_entries_per_s"]),
                   ("el_bench_live", ["live_entries_per_s"]),
                   ("el_bench_latency", ["latency_p50_us", "latency_p99_us"]),
                   ("el_bench_rss", ["node_rss_idle_kib", "node_anon_kib", "broker_rss_per_site_kib",
                                     "store_bytes_per_entry", "fanout_deliveries_per_s"])]:
    for k in keys:
        if built(prog):
            need_number(k, prog + " is built")
        else:
            need_null(k, "not built yet")
for k, a, b in [("catchup_vs_raw_curve", "catchup_entries_per_s", "raw_curve_msgs_per_s"),
                ("federation_catchup_vs_catchup", "federation_catchup_entries_per_s",
                 "catchup_entries_per_s"),
                ("live_vs_raw_sign", "live_entries_per_s", "raw_sign_per_s"),
                ("catchup_vs_peer_bridge", "catchup_entries_per_s", "peer_mqtt_bridge_msgs_per_s"),
                ("live_vs_peer_bridge", "live_entries_per_s", "peer_mqtt_bridge_msgs_per_s"),
                ("http_agenda_vs_nginx_static", "http_agenda_req_per_s",
                 "nginx_static_req_per_s"),
                ("fanout_vs_raw_curve", "fanout_deliveries_per_s", "raw_curve_msgs_per_s")]:
    v = obj.get(k) or {}
    if num(a) is not None and num(b) is not None:
        if v.get("median") is None or abs(v["median"] - num(a) / num(b)) > 1e-9 * max(1, v["median"]):
            errors.append("%s: %r is not %s / %s" % (k, v.get("median"), a, b))
    elif v.get("median") is not None or not v.get("reason"):
        errors.append("%s: should be null with a reason, got %r" % (k, v))
v = obj.get("latency_p99_vs_floor") or {}
if num("latency_p99_us") is None and (v.get("median") is not None or not v.get("reason")):
    errors.append("latency_p99_vs_floor: should be null with a reason, got %r" % v)
if num("latency_p99_us") is not None and v.get("median") is None:
    errors.append("latency_p99_vs_floor: null although latency_p99_us is measured: %r" % v.get("reason"))
for e in errors:
    print("FAIL:", e, file=sys.stderr)
if errors:
    sys.exit(1)
nulls = sorted(k for k in expected if obj[k]["median"] is None)
print("bench smoke: %d figures, %d measured, null: %s" % (
    len(expected), len(expected) - len(nulls), ", ".join(nulls) or "none"))
PY
