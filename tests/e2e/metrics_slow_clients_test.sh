#!/usr/bin/env bash
# --metrics under idle and slow clients: /metrics and /healthz stopped answering while 10
# clients sent one header line a second, or 200 clients held idle connections (all of
# cpp-httplib's few workers were held), so a liveness probe would restart a healthy
# process; and a slow client held the shutdown forever. With 200 idle connections (reopened
# as the server closes them) and 10 slow-header clients held, /healthz and /metrics still
# answer (curl --max-time 5 is a generous deadline, not a timing claim), and SIGTERM still
# ends sluice with exit 0.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
command -v python3 >/dev/null || fail "python3 is required"

IDLE=200
SLOW=10

cat >"$T/hold.py" <<'PY'
# hold.py PORT IDLE SLOW READY: hold IDLE connections that send nothing and SLOW ones that
# send a request's header lines one at a time, never ending it; reopen any the server
# closes. READY is written once all are open. Runs until killed.
import socket, sys, time
port, n_idle, n_slow, ready = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

def connect(slow):
    s = socket.create_connection(("127.0.0.1", port))
    s.setblocking(False)
    if slow:
        s.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return s

def closed(s):
    try:
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True

idle = [connect(False) for _ in range(n_idle)]
slow = [connect(True) for _ in range(n_slow)]
open(ready, "w").write("ready\n")
while True:
    time.sleep(0.5)
    for i, s in enumerate(idle):
        if closed(s):
            s.close()
            idle[i] = connect(False)
    for i, s in enumerate(slow):
        try:
            s.send(b"X-Slow: 1\r\n")
        except OSError:
            s.close()
            slow[i] = connect(True)
PY

mkfifo "$T/in"
"$SLUICE" --metrics 0 --log-level info <"$T/in" >"$T/out" 2>"$T/err" &
pid=$!
track_pid "$pid"
exec 3>"$T/in"
wait_until 10 has_lines_matching "$T/err" 'metrics at' 1 || fail "no 'metrics at' line"
port="$(grep -o 'metrics at http://[^ ]*' "$T/err" | sed -E 's#.*:([0-9]+)/metrics#\1#' | tail -n 1)"
printf '{"n":1}\n' >&3
wait_lines "$T/out" 1 10

step "hold $IDLE idle and $SLOW slow-header connections"
python3 "$T/hold.py" "$port" "$IDLE" "$SLOW" "$T/ready" 2>"$T/hold.err" &
hpid=$!
track_pid "$hpid"
wait_until 30 test -s "$T/ready" || fail "the helper did not open its connections"
# The server has taken them: one socket each in sluice, besides the listening one.
sockets() { find "/proc/$pid/fd" -lname 'socket:*' 2>/dev/null | wc -l; }
has_sockets() { [[ "$(sockets)" -ge "$1" ]]; }
wait_until 30 has_sockets $((IDLE + SLOW)) || fail "sluice holds only $(sockets) sockets"
ok "sluice holds $(sockets) sockets"
is_dead "$hpid" && { show "$T/hold.err"; fail "the helper died"; }

step "/healthz and /metrics still answer"
for i in 1 2 3; do
  code="$(curl -s --max-time 5 -o "$T/h$i" -w '%{http_code}' "http://127.0.0.1:$port/healthz" || true)"
  assert_eq "$code" 200 "healthz status, probe $i"
  assert_eq "$(cat "$T/h$i")" "ok" "healthz body, probe $i"
done
curl -s --max-time 5 -o "$T/scrape" "http://127.0.0.1:$port/metrics" || fail "no /metrics answer"
assert_contains "$T/scrape" '^sluice_events_out_total\{stage="sink"\} 1$' "the scrape counts the event"
is_dead "$hpid" && { show "$T/hold.err"; fail "the helper died"; }
ok "the connections were still held ($(sockets) sockets)"

step "SIGTERM while they are held: sluice still ends"
kill -TERM "$pid"
wait_exit "$pid" 60
assert_eq "$EXIT_CODE" 0 "exit status"
exec 3>&-

echo "$E2E_NAME: PASS"
