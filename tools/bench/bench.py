#!/usr/bin/python3
"""Benchmark of the case service against etcd, in one run on one machine.

Starts receptiond (durable default: every group fsynced) and etcd (Debian's
etcd-server, durable by default) on 127.0.0.1 in temp dirs, then runs
tools/loadgen against: a no-op method on our server (grpc.health.v1 Check),
GetCase, durable CreateCase, and etcd's KV/Put with a 1 KB value, at each
concurrency, interleaved so machine noise hits all four alike. Writes the
results and their ratios to BENCHMARKS.md (replacing the section between the
markers) and prints the table.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BEGIN = "<!-- bench:case-vs-etcd:begin -->"
END = "<!-- bench:case-vs-etcd:end -->"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def start_receptiond(build, tmp, name="receptiond", pki=None):
    config = os.path.join(tmp, f"{name}.yaml")
    auth = ""
    if pki:
        # mTLS mode as in production: loadgen calls over TLS as a person
        # with a bearer token, verified (signature, claims) on every call.
        auth = (f"auth: {{mode: mtls, tls: {{ca_file: {pki}/ca.crt, "
                f"cert_file: {pki}/48/node.crt, key_file: {pki}/48/node.key}}, "
                f"jwt: {{jwks_file: {pki}/tokens/jwks.json, issuer: \"https://id.bench.reception\", "
                f"audience: reception}}}}\n")
    with open(config, "w") as f:
        f.write(f"""unit_code: "48"
listen_address: 127.0.0.1:0
admin_address: 127.0.0.1:0
data_dir: {tmp}/{name}
topology_file: {ROOT}/deploy/topology/da-nang-2025.yaml
rules_file: {ROOT}/deploy/rules/vn.yaml
calendar_file: {ROOT}/deploy/calendars/vn-2025-2026.yaml
logging: {{level: warn}}
{auth}""")
    ready = os.path.join(tmp, f"{name}.ready")
    log = open(os.path.join(tmp, f"{name}.log"), "w")
    proc = subprocess.Popen([f"{build}/services/node/receptiond", "--config", config, "--ready_file", ready],
                            stdout=log, stderr=subprocess.STDOUT)
    if not wait_for(lambda: os.path.exists(ready), 30):
        sys.exit("receptiond did not start; see " + log.name)
    with open(ready) as f:
        values = dict(line.split("=", 1) for line in f.read().split())
    return proc, f"127.0.0.1:{values['grpc_port']}"


def start_etcd(tmp):
    client, peer = free_port(), free_port()
    log = open(os.path.join(tmp, "etcd.log"), "w")
    proc = subprocess.Popen(
        ["etcd", "--name", "bench", "--data-dir", os.path.join(tmp, "etcd"),
         "--listen-client-urls", f"http://127.0.0.1:{client}",
         "--advertise-client-urls", f"http://127.0.0.1:{client}",
         "--listen-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-cluster", f"bench=http://127.0.0.1:{peer}",
         "--log-level", "warn"],
        stdout=log, stderr=subprocess.STDOUT)
    ok = wait_for(lambda: subprocess.run(
        ["etcdctl", f"--endpoints=127.0.0.1:{client}", "endpoint", "health"],
        capture_output=True, env=dict(os.environ, ETCDCTL_API="3")).returncode == 0, 30)
    if not ok:
        sys.exit("etcd did not start; see " + log.name)
    return proc, f"127.0.0.1:{client}"


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(pids, idle_share=0.05, window=0.5, timeout=30):
    """Waits until the servers' background work (etcd snapshots, RocksDB
    flushes and compactions) has stopped: each uses under `idle_share` of a
    core over `window` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = [cpu_seconds(p) for p in pids]
        time.sleep(window)
        after = [cpu_seconds(p) for p in pids]
        if all(b - a < idle_share * window for a, b in zip(before, after)):
            return
    print("warning: servers still busy before a measurement", file=sys.stderr)


def loadgen(build, args, server_pid=None, **flags):
    """One loadgen run; with `server_pid`, also the server's CPU per
    completed call over the measured seconds (user + system, from /proc)."""
    cmd = [f"{build}/tools/loadgen/loadgen", f"--duration={args.duration}", f"--warmup={args.warmup}"]
    cmd += [f"--{k}={v}" for k, v in flags.items()]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    cpu0 = None
    if server_pid:
        time.sleep(args.warmup)
        cpu0 = cpu_seconds(server_pid)
    out = proc.communicate()[0]
    if proc.returncode != 0:
        sys.exit(f"loadgen failed: {out}")
    r = json.loads(out)
    if cpu0 is not None and r["ok"]:
        r["cpu_us"] = (cpu_seconds(server_pid) - cpu0) / r["ok"] * 1e6
    return r


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved rounds per point; the median round is reported")
    parser.add_argument("--concurrency", default="16,64,256")
    parser.add_argument("--output", default=os.path.join(ROOT, "BENCHMARKS.md"))
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]

    tmp = tempfile.mkdtemp(prefix="reception-bench-")
    node, node_addr = start_receptiond(args.build, tmp)
    pki = os.path.join(tmp, "pki")
    subprocess.run([os.path.join(ROOT, "tools/pki/dev_pki.sh"), pki, "48"], check=True)
    # A development identity provider: an ES256 key, its JWKS, an officer's token.
    os.makedirs(f"{pki}/tokens", exist_ok=True)
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-out", f"{pki}/tokens/issuer.key"], check=True, capture_output=True)
    ctl = f"{args.build}/tools/receptionctl"
    with open(f"{pki}/tokens/jwks.json", "w") as f:
        subprocess.run([ctl, "token", "jwks", "--key", f"{pki}/tokens/issuer.key", "--kid", "bench-1"],
                       stdout=f, check=True)
    with open(f"{pki}/tokens/officer.jwt", "w") as f:
        subprocess.run([ctl, "token", "issue", "--key", f"{pki}/tokens/issuer.key", "--kid", "bench-1",
                        "--issuer", "https://id.bench.reception", "--audience", "reception",
                        "--subject", "loadgen", "--role", "officer", "--unit", "48"], stdout=f, check=True)
    tls_node, tls_addr = start_receptiond(args.build, tmp, "receptiond-mtls", pki)
    tls = {"ca": f"{pki}/ca.crt", "token_file": f"{pki}/tokens/officer.jwt"}
    etcd, etcd_addr = start_etcd(tmp)
    try:
        today = (datetime.datetime.utcnow() + datetime.timedelta(hours=7)).date().isoformat()
        created = subprocess.run(
            [f"{args.build}/tools/receptionctl", "--server", node_addr, "--unit", "48", "--json", "create",
             "--kind", "petition", "--channel", "portal", "--petitioner", "Nguyễn Văn Đo|049201000001",
             "--respondent-official", "Phòng Tài nguyên", "--content", "x" * 1024, "--received", today],
            capture_output=True, text=True, check=True).stdout
        case_name = json.loads(created)["name"]
        tls_created = subprocess.run(
            [ctl, "--server", tls_addr, "--ca", tls["ca"], "--token-file", tls["token_file"], "--json",
             "create", "--kind", "petition", "--channel", "portal", "--petitioner", "Nguyễn Văn Đo|049201000001",
             "--respondent-official", "Phòng Tài nguyên", "--content", "x" * 1024, "--received", today],
            capture_output=True, text=True, check=True).stdout
        tls_case = json.loads(tls_created)["name"]
        rounds = {}
        base_plan = [("noop", node_addr, {}), ("get", node_addr, {"case_name": case_name}),
                     ("create", node_addr, {}), ("etcd-put", etcd_addr, {})]
        # The same node in mTLS mode, at 64 only: what TLS costs per call.
        tls_plan = [("get-mtls", tls_addr, dict(tls, case_name=tls_case)), ("create-mtls", tls_addr, tls)]
        for c in levels:
            plan = base_plan + (tls_plan if c == 64 else [])
            # Interleaved rounds: noise from the shared machine hits every
            # method alike; the median round of each is reported.
            for i in range(args.rounds):
                for method, target, extra in plan:
                    settle([node.pid, tls_node.pid, etcd.pid])
                    pid = (etcd.pid if method == "etcd-put" else
                           tls_node.pid if method.endswith("-mtls") else node.pid)
                    r = loadgen(args.build, args, server_pid=pid, target=target,
                                method=method.replace("-mtls", ""), concurrency=c, **extra)
                    rounds.setdefault((method, c), []).append(r)
                    print(f"c={c:<4} round {i + 1} {method:<9} {r['qps']:>9.0f} QPS  p50 {r['p50_ms']:6.2f} ms  "
                          f"p99 {r['p99_ms']:6.2f} ms  server CPU {r.get('cpu_us', 0):5.0f} us/call  "
                          f"errors {r['errors']}", flush=True)
        results = {}
        for key, runs in rounds.items():
            runs = sorted(runs, key=lambda r: r["qps"])
            results[key] = dict(runs[len(runs) // 2])
            results[key]["qps_range"] = (runs[0]["qps"], runs[-1]["qps"])
            results[key]["errors"] = sum(r["errors"] for r in runs)
    finally:
        for p in (node, tls_node, etcd):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    cpu = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    lines = [BEGIN,
             f"## Case service vs etcd ({datetime.date.today().isoformat()}, commit {commit}{' + local changes' if dirty else ''})",
             "",
             f"One run of `tools/bench/bench.py` on {os.cpu_count()} cores ({cpu}), {platform.system()} "
             f"{platform.release()}; loadgen, receptiond and etcd {subprocess.run(['etcd', '--version'], capture_output=True, text=True).stdout.split()[2]} "
             f"share the machine. Each point: {args.rounds} interleaved rounds of {args.warmup:g} s warm-up + "
             f"{args.duration:g} s measured, 4 channels, closed loop; the median round (by QPS) is shown with "
             "the range of QPS over the rounds. Durable means fsync before the reply (receptiond: group "
             "commit; etcd: its default). CreateCase carries a 1 KB content, etcd Put a 1 KB value.",
             "",
             "| concurrency | method | QPS (median) | QPS range | p50 ms | p90 ms | p99 ms | server CPU us/call | errors |",
             "|---|---|---|---|---|---|---|---|---|"]
    names = {"noop": "no-op (health Check)", "get": "GetCase", "create": "CreateCase (durable)",
             "etcd-put": "etcd KV/Put (durable)"}
    for c in levels:
        for m in ["noop", "get", "create", "etcd-put"]:
            r = results[(m, c)]
            lo, hi = r["qps_range"]
            lines.append(f"| {c} | {names[m]} | {r['qps']:.0f} | {lo:.0f}-{hi:.0f} | {r['p50_ms']:.2f} | "
                         f"{r['p90_ms']:.2f} | {r['p99_ms']:.2f} | {r.get('cpu_us', 0):.0f} | {r['errors']} |")
    lines += ["", "Ratios from the same run, median of the per-round ratios (targets from issue 2):", "",
              "| concurrency | CreateCase / etcd Put (target >= 1.0 at 64, 256) | CreateCase p99 (target < 15 ms at 64) | GetCase / no-op (target >= 0.8) | server CPU per CreateCase / per etcd Put (target < 1) | CreateCase / no-op (the ceiling) |",
              "|---|---|---|---|---|---|"]
    def paired(a, b, c, field="qps"):
        # Each round ran both methods back to back: compare them round by
        # round and take the median ratio.
        ratios = sorted(x.get(field, 0) / max(1e-9, y.get(field, 0))
                        for x, y in zip(rounds[(a, c)], rounds[(b, c)]))
        return ratios[len(ratios) // 2]

    for c in levels:
        cr = paired("create", "etcd-put", c)
        gr = paired("get", "noop", c)
        cpu = paired("create", "etcd-put", c, "cpu_us")
        ceiling = paired("create", "noop", c)
        lines.append(f"| {c} | {cr:.2f} | {results[('create', c)]['p99_ms']:.2f} ms | {gr:.2f} | "
                     f"{cpu:.2f} | {ceiling:.2f} |")
    if ("get-mtls", 64) in rounds:
        lines += ["", "The same node in mTLS mode (`auth.mode: mtls`, certificates from `tools/pki/dev_pki.sh`, "
                  "loadgen calling over TLS as an officer presenting an ES256 bearer token on every call, "
                  "checked against the access table) against plaintext, c=64, same rounds "
                  "(target from issue 11: >= 0.85):", "",
                  "| method | mTLS QPS (median) | range | p99 ms | mTLS / plaintext (median of per-round ratios) |",
                  "|---|---|---|---|---|"]
        for m, plain in (("get-mtls", "get"), ("create-mtls", "create")):
            r = results[(m, 64)]
            lo, hi = r["qps_range"]
            lines.append(f"| {names[plain]} | {r['qps']:.0f} | {lo:.0f}-{hi:.0f} | {r['p99_ms']:.2f} | "
                         f"{paired(m, plain, 64):.2f} |")
    lines.append(END)
    section = "\n".join(lines) + "\n"

    existing = open(args.output).read() if os.path.exists(args.output) else "# Benchmarks\n\n"
    if BEGIN in existing and END in existing:
        before, rest = existing.split(BEGIN, 1)
        after = rest.split(END, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = existing.rstrip("\n") + "\n\n" + section
    with open(args.output, "w") as f:
        f.write(text)
    print(section)


if __name__ == "__main__":
    main()
