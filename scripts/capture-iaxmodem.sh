#!/usr/bin/env bash
# capture-iaxmodem.sh records real IAX2 calls between two unmodified iaxmodem
# instances, for the codec and call-tracker tests in iax/.
#
# It creates two network namespaces joined by a veth pair (10.77.0.1/24 and
# 10.77.0.2/24), runs one iaxmodem in each (port 4569, no registration, the
# peer's address as "server"), and records with dumpcap on A's veth:
#
#   fax-call.pcap     A faxes a one-page TIFF G3 to B with efax; the script
#                     fails unless B's efax reports the page with 0 errors.
#   busy-reject.pcap  A calls B while B's modem is off-hook (ATH1); B's
#                     iaxmodem rejects the call ("Busy").
#   short-call.pcap   A calls B, B answers, A hangs up about 2 s after connect.
#
# Everything it creates (namespaces, processes, temp files) is removed on exit.
# Run as root: scripts/capture-iaxmodem.sh [output-dir]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-$here/../iax/testdata/captures}
out=$(mkdir -p "$out" && cd "$out" && pwd)

if [[ $EUID -ne 0 ]]; then
	echo "capture-iaxmodem.sh: must run as root (network namespaces, iaxmodem)" >&2
	exit 1
fi
for bin in ip iaxmodem efax efix dumpcap tshark chrt stdbuf; do
	command -v "$bin" >/dev/null || { echo "capture-iaxmodem.sh: $bin not found" >&2; exit 1; }
done

# Names carry our pid so that a parallel or crashed run never collides.
ns_a=iaxcap-a-$$
ns_b=iaxcap-b-$$
addr_a=10.77.0.1
addr_b=10.77.0.2
port=4569
work=$(mktemp -d /tmp/iaxcap.XXXXXX)
pids=()

cleanup() {
	local rc=$?
	set +e
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${pids[@]}"; do
		# Bounded wait: 50 x 0.1 s, then force.
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
	done
	ip netns del "$ns_a" 2>/dev/null
	ip netns del "$ns_b" 2>/dev/null
	if [[ $rc -ne 0 ]]; then
		echo "capture-iaxmodem.sh: failed (exit $rc); logs:" >&2
		for f in "$work"/*.log; do [[ -f $f ]] && { echo "== $f" >&2; tail -40 "$f" >&2; }; done
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT

# Remove namespaces left by an earlier run whose process is gone.
for ns in $(ip netns list | awk '{print $1}' | grep -E '^iaxcap-[ab]-[0-9]+$' || true); do
	pid=${ns##*-}
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "removing stale namespace $ns"
		ip netns del "$ns" || true
	fi
done

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND every 0.1 s.
wait_for() {
	local what=$1 secs=$2
	shift 2
	local deadline=$((SECONDS + secs))
	until "$@" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			echo "timed out after ${secs}s waiting for $what" >&2
			return 1
		fi
		sleep 0.1
	done
}

ip netns add "$ns_a"
ip netns add "$ns_b"
# The veth is created directly inside the namespaces: the host's own namespace
# never sees an interface of ours.
ip link add name veth0 netns "$ns_a" type veth peer name veth0 netns "$ns_b"
ip -n "$ns_a" addr add "$addr_a/24" dev veth0
ip -n "$ns_b" addr add "$addr_b/24" dev veth0
for ns in "$ns_a" "$ns_b"; do
	ip -n "$ns" link set lo up
	ip -n "$ns" link set veth0 up
done

# iaxmodem reads "/etc/iaxmodem/<name>"; a relative name climbing back to / lets
# each instance use its own config file in our temp dir.
write_config() { # name peer-addr
	cat >"$work/$1.cfg" <<EOF
device $work/tty$1
owner root:root
mode 660
port $port
refresh 0
server $2:$port
peername
secret
cidname iaxcap $1
cidnumber 10$1
codec slinear
EOF
}
write_config A "$addr_b"
write_config B "$addr_a"

# Real-time priority keeps the 20 ms audio clock and efax's Class 1 timing
# (55 ms) on time when the machine is busy; without it faxes fail under load.
rt=(chrt -f 20)

start_modem() { # ns name
	ip netns exec "$1" "${rt[@]}" stdbuf -oL -eL iaxmodem "../..$work/$2.cfg" >"$work/iaxmodem-$2.log" 2>&1 &
	pids+=($!)
}
start_modem "$ns_a" A
start_modem "$ns_b" B
wait_for "iaxmodem A" 10 grep -q "Created .* symbolic link" "$work/iaxmodem-A.log"
wait_for "iaxmodem B" 10 grep -q "Created .* symbolic link" "$work/iaxmodem-B.log"

# A short page keeps the call (and the pcap) short.
printf 'iaxcrypt capture test page\n\nThe quick brown fox jumps over the lazy dog.\n' >"$work/page.txt"
efix -p 8.5x2in -n "$work/page.%03d" "$work/page.txt" 2>/dev/null
page=$work/page.001

capture_pid=
start_capture() { # file
	ip netns exec "$ns_a" dumpcap -q -P -i veth0 -f udp -w "$1" >"$work/dumpcap.log" 2>&1 &
	capture_pid=$!
	pids+=("$capture_pid")
	wait_for "dumpcap" 10 grep -q "Capturing on" "$work/dumpcap.log"
}
stop_capture() {
	kill -INT "$capture_pid"
	wait "$capture_pid" || true
}

modem_busy_until=0
# wait_idle waits out iaxmodem's post-hangup busy-out (5 s) plus a margin.
wait_idle() {
	while ((SECONDS < modem_busy_until)); do sleep 0.2; done
}
mark_hangup() { modem_busy_until=$((SECONDS + 7)); }

# hangups LOG: how many hangups (local or remote) iaxmodem has logged so far.
hangups() { grep -c "Hanging Up\|Remote hangup" "$1" || true; }
more_hangups() { (($(hangups "$1") > $2)); }

start_receiver() { # log-name
	ip netns exec "$ns_b" timeout 120 "${rt[@]}" efax -d "$work/ttyB" -o1 -jS0=1 -w -kH0 -kS0=0 \
		-r "$work/recv" -v ewinr >"$work/$1.log" 2>&1 &
	rx_pid=$!
	pids+=("$rx_pid")
	wait_for "efax receiver" 10 grep -q "waiting for activity" "$work/$1.log"
}

# 1. The fax call.
echo "capturing fax-call.pcap"
start_capture "$work/fax-call.pcap"
start_receiver efax-rx
before=$(hangups "$work/iaxmodem-B.log")
rc=0
ip netns exec "$ns_a" timeout 120 "${rt[@]}" efax -d "$work/ttyA" -o1 -v ewinr -t 100 "$page" \
	>"$work/efax-tx.log" 2>&1 || rc=$?
rx_rc=0
wait "$rx_pid" || rx_rc=$?
mark_hangup
# Let the last HANGUP/ACK exchange reach the wire before stopping dumpcap.
wait_for "hangup at B" 10 more_hangups "$work/iaxmodem-B.log" "$before"
sleep 1
stop_capture
if [[ $rc -ne 0 || $rx_rc -ne 0 ]]; then
	echo "fax failed: sender exit $rc, receiver exit $rx_rc" >&2
	exit 1
fi
if ! grep -Eq "received [0-9]+ lines, 0 errors" "$work/efax-rx.log" ||
	grep -Eq "received [0-9]+ lines, [1-9][0-9]* errors" "$work/efax-rx.log"; then
	echo "fax page arrived with errors" >&2
	exit 1
fi
grep -E "received [0-9]+ lines" "$work/efax-rx.log"

# 2. A call rejected by B: "ATH1" takes B's modem off-hook (busy-out), and
# iaxmodem rejects incoming calls while it is not on-hook.
wait_idle
echo "capturing busy-reject.pcap"
printf 'ATH1\r' >"$work/ttyB"
wait_for "B off-hook" 10 grep -q "Taking receiver off-hook" "$work/iaxmodem-B.log"
start_capture "$work/busy-reject.pcap"
rc=0
ip netns exec "$ns_a" timeout 30 "${rt[@]}" efax -d "$work/ttyA" -o1 -v ewinr -t 100 "$page" \
	>"$work/efax-tx-busy.log" 2>&1 || rc=$?
sleep 1
stop_capture
# iaxmodem turns the REJECT into a failed dial: efax exits 2 ("dial command
# failed"), so the proof of the rejection is iaxmodem's own log.
if [[ $rc -eq 0 ]] || ! grep -q "Rejected call" "$work/iaxmodem-A.log"; then
	echo "expected B to reject the call while off-hook (efax exit $rc)" >&2
	exit 1
fi
printf 'ATH0\r' >"$work/ttyB"
mark_hangup

# 3. A short answered call: A hangs up about 2 s after connect.
wait_idle
echo "capturing short-call.pcap"
start_capture "$work/short-call.pcap"
start_receiver efax-rx-short
before=$(hangups "$work/iaxmodem-B.log")
ip netns exec "$ns_a" timeout 60 "${rt[@]}" efax -d "$work/ttyA" -o1 -v ewinr -t 100 "$page" \
	>"$work/efax-tx-short.log" 2>&1 &
tx_pid=$!
pids+=("$tx_pid")
wait_for "connect" 30 grep -q "connected" "$work/efax-tx-short.log"
sleep 2
# efax hangs up (ATH) on SIGTERM, after a few seconds of resetting the modem.
kill -TERM "$tx_pid"
wait_for "hangup at B" 30 more_hangups "$work/iaxmodem-B.log" "$before"
sleep 1
stop_capture
wait "$tx_pid" || true
wait "$rx_pid" || true

for f in fax-call short-call busy-reject; do
	install -m 0644 "$work/$f.pcap" "$out/$f.pcap"
	echo "$out/$f.pcap: $(stat -c %s "$out/$f.pcap") bytes"
done
