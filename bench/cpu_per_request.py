#!/usr/bin/env python3
"""Requests/s and the server's own CPU time per request, for bench/requests.sh.

Two subcommands:

  measure  runs one wrk window against URL and prints one JSON line: wrk's request count and rate, and
           the CPU time (utime + stime from /proc/PID/stat, in clock ticks) the server's processes spent
           over the window, so CPU µs per request = that delta / requests completed. --pid names the
           server's process; with --with-children its children count too (nginx: master + workers).
           The process set is taken before the window and must be the same after it (a worker that
           died and was respawned would hide its CPU). wrk's own CPU comes from getrusage(CHILDREN).
           Fails (exit 1) when wrk reports socket errors or non-2xx/3xx responses.
  report   reads those lines and prints the Markdown table (medians over rounds with min-max spread;
           ratios are taken per round, nginx and Encore from the same round, then their median), and
           writes everything to a JSON file.
"""
import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def stat_fields(pid):
    """Fields 3.. of /proc/PID/stat (the command name may hold spaces and parentheses)."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    return text[text.rindex(")") + 2 :].split()


def process_set(pid, with_children):
    pids = {pid}
    if with_children:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if int(stat_fields(int(entry))[1]) == pid:  # field 4: ppid
                        pids.add(int(entry))
                except (FileNotFoundError, ProcessLookupError):
                    pass
    return pids


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        fields = stat_fields(pid)
        total += int(fields[11]) + int(fields[12])  # fields 14 and 15: utime, stime
    return total


def system_ticks():
    """(busy, softirq + irq) clock ticks of the whole machine, from /proc/stat's cpu line."""
    with open("/proc/stat") as f:
        user, nice, system, idle, iowait, irq, softirq, steal = (int(n) for n in f.readline().split()[1:9])
    return user + nice + system, irq + softirq


def parse_wrk(output):
    parsed = {}
    match = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)\b", output, re.M)
    if not match:
        raise ValueError("no request count in wrk's output")
    parsed["requests"] = int(match.group(1))
    parsed["wrk_seconds"] = float(match.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[match.group(3)]
    parsed["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    units = {"us": 1e-3, "ms": 1, "s": 1000, "m": 60000}
    for name in ("50", "99"):
        found = re.search(rf"^\s+{name}%\s+([\d.]+)(us|ms|s|m)", output, re.M)
        if found:
            parsed[f"latency_p{name}_ms"] = round(float(found.group(1)) * units[found.group(2)], 3)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    parsed["socket_errors"] = sum(int(n) for n in socket.groups()) if socket else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    parsed["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    return parsed


def machine_busy_cores(seconds=1.0):
    """Cores the whole machine kept busy over the next `seconds` (nothing of ours is running then)."""
    before = system_ticks()[0]
    time.sleep(seconds)
    return (system_ticks()[0] - before) / CLK_TCK / seconds


def wait_for_quiet(args):
    """Waits (at most --quiet-wait s) until other work leaves the cores alone; returns the last reading."""
    deadline = time.monotonic() + args.quiet_wait
    busy = machine_busy_cores()
    while busy > args.max_other and time.monotonic() < deadline:
        busy = machine_busy_cores(2.0)
    return busy


def wrk_command(args, duration):
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}", "--latency"]
    for header in args.header or []:
        command += ["-H", header]
    return command + [args.url]


def window(args):
    """One measured wrk window: the run's figures, from wrk, /proc/PID/stat, getrusage and /proc/stat."""
    pids = process_set(args.pid, args.with_children)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    system_before = system_ticks()
    before = cpu_ticks(pids)
    started = time.monotonic()
    finished = subprocess.run(wrk_command(args, args.duration), capture_output=True, text=True)
    wall = time.monotonic() - started
    after = cpu_ticks(pids)
    system_after = system_ticks()
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = finished.stdout + finished.stderr
    if process_set(args.pid, args.with_children) != pids:
        sys.exit(f"{args.target} {args.object}: the server's processes changed during the window")
    try:
        run = parse_wrk(output)
    except (ValueError, AttributeError) as error:
        sys.exit(f"{args.target} {args.object}: {error}:\n{output}")
    if finished.returncode != 0 or run["socket_errors"] or run["non_2xx"] or run["requests"] == 0:
        sys.exit(f"wrk saw errors for {args.target} {args.object}:\n{output}")
    server_seconds = (after - before) / CLK_TCK
    wrk_seconds = (children_after.ru_utime - children_before.ru_utime) + (children_after.ru_stime - children_before.ru_stime)
    # The machine is shared: CPU that neither the server nor wrk spent (another user's work) competes for
    # the cores and lowers req/s. Interrupt time (loopback TCP's softirqs) is charged to no process.
    machine_seconds = (system_after[0] - system_before[0]) / CLK_TCK
    irq_seconds = (system_after[1] - system_before[1]) / CLK_TCK
    run.update(
        target=args.target,
        object=args.object,
        round=args.round,
        pids=sorted(pids),
        window_s=round(wall, 3),
        server_cpu_s=round(server_seconds, 3),
        server_cores_busy=round(server_seconds / wall, 3),
        cpu_us_per_request=round(server_seconds * 1e6 / run["requests"], 3),
        wrk_cpu_s=round(wrk_seconds, 3),
        wrk_cpu_us_per_request=round(wrk_seconds * 1e6 / run["requests"], 3),
        other_cores_busy=round(max(0.0, machine_seconds - server_seconds - wrk_seconds) / wall, 3),
        irq_cores_busy=round(irq_seconds / wall, 3),
    )
    return run


def measure(args):
    """Waits for a quiet machine, warms up, measures; a window that other work disturbed is measured again."""
    for attempt in range(1, args.retries + 2):
        idle_before = wait_for_quiet(args)
        if args.warmup not in ("", "0", "0s"):
            subprocess.run(wrk_command(args, args.warmup), capture_output=True)
        run = window(args)
        run.update(attempt=attempt, machine_busy_before=round(idle_before, 3), disturbed=run["other_cores_busy"] > args.max_other)
        if not run["disturbed"]:
            break
        print(f"  {args.target} {args.object}: other processes kept {run['other_cores_busy']} cores busy; measuring again", file=sys.stderr)
    print(json.dumps(run))


# ---- report ----

OBJECTS = [("seg96", "segment, AAC 96 kbps"), ("seg160", "segment, AAC 160 kbps"), ("seg256", "segment, AAC 256 kbps"), ("json", "GET /api/v1/tracks/{id} JSON")]
TARGETS = [("nginx", "nginx (static file)"), ("encore-info", "Encore, log level info (default)"), ("encore-warning", "Encore, log level warning")]
# Goals from the issue: (Encore/nginx req/s at least, Encore/nginx CPU per request at most).
GOALS = {"seg96": (0.8, 1.5), "seg160": (0.8, 1.5), "seg256": (0.8, 1.5), "json": (0.5, 2.0)}
INFO_OVER_WARNING_MAX = 0.10


def spread(values):
    """{median, min, max, runs} of a list of numbers."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


def fmt_abs(s, digits=0):
    f = f"{{:,.{digits}f}}"
    return f"{f.format(s['median'])} ({f.format(s['min'])}–{f.format(s['max'])})"


def fmt_ratio(s, digits=2, percent=False):
    if percent:
        return f"{s['median'] * 100:+.1f} % ({s['min'] * 100:+.1f} to {s['max'] * 100:+.1f})"
    return f"{s['median']:.{digits}f}× ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


def mark(ok):
    return "✓" if ok else "✗"


def report(args):
    runs = [json.loads(line) for line in open(args.runs) if line.strip()]
    meta = json.load(open(args.meta))
    by = {}
    for run in runs:
        by.setdefault((run["target"], run["object"]), {})[run["round"]] = run
    rounds = sorted({run["round"] for run in runs})
    summary = {}
    for (target, obj), per_round in by.items():
        values = [per_round[r] for r in rounds if r in per_round]
        summary.setdefault(obj, {})[target] = {
            "rps": spread([v["rps"] for v in values]),
            "cpu_us_per_request": spread([v["cpu_us_per_request"] for v in values]),
            "wrk_cpu_us_per_request": spread([v["wrk_cpu_us_per_request"] for v in values]),
            "server_cores_busy": spread([v["server_cores_busy"] for v in values]),
            "other_cores_busy": spread([v["other_cores_busy"] for v in values]),
            "irq_cores_busy": spread([v["irq_cores_busy"] for v in values]),
        }

    def paired(obj, target, reference, key):
        """The per-round ratio target/reference (both measured in the same round)."""
        ratios = [by[(target, obj)][r][key] / by[(reference, obj)][r][key] for r in rounds if r in by.get((target, obj), {}) and r in by.get((reference, obj), {})]
        return spread(ratios) if ratios else None

    ratios, goals_met = {}, {}
    for obj, _ in OBJECTS:
        if obj not in summary:
            continue
        min_rps, max_cpu = GOALS[obj]
        entry = {}
        for target in ("encore-info", "encore-warning"):
            rps = paired(obj, target, "nginx", "rps")
            cpu = paired(obj, target, "nginx", "cpu_us_per_request")
            if rps and cpu:
                entry[target] = {
                    "rps_vs_nginx": rps,
                    "rps_goal_min": min_rps,
                    "rps_goal_met": rps["median"] >= min_rps,
                    "cpu_vs_nginx": cpu,
                    "cpu_goal_max": max_cpu,
                    "cpu_goal_met": cpu["median"] <= max_cpu,
                }
        overhead = paired(obj, "encore-info", "encore-warning", "cpu_us_per_request")
        if overhead:
            overhead = {k: (v - 1 if k != "runs" else [x - 1 for x in v]) for k, v in overhead.items()}
            entry["info_over_warning_cpu"] = overhead
            entry["info_over_warning_goal_max"] = INFO_OVER_WARNING_MAX
            entry["info_over_warning_goal_met"] = overhead["median"] <= INFO_OVER_WARNING_MAX
        rps_overhead = paired(obj, "encore-warning", "encore-info", "rps")
        if rps_overhead:
            entry["warning_over_info_rps"] = {k: (v - 1 if k != "runs" else [x - 1 for x in v]) for k, v in rps_overhead.items()}
        ratios[obj] = entry
        for target in ("encore-info", "encore-warning"):
            if target in entry:
                goals_met[f"{obj} {target} req/s"] = entry[target]["rps_goal_met"]
                goals_met[f"{obj} {target} CPU"] = entry[target]["cpu_goal_met"]
        if "info_over_warning_goal_met" in entry:
            goals_met[f"{obj} info over warning"] = entry["info_over_warning_goal_met"]

    lines = [
        f"Requests/s and server CPU per request, {meta['date']}, {meta['cores']} cores, loopback: median of {len(rounds)} interleaved rounds "
        f"(min–max); wrk -t{meta['wrk_threads']} -c{meta['connections']} -d{meta['duration']} on the same machine; "
        f"Encore {meta['encore_event_loop_threads']} event-loop threads, nginx {meta['nginx_workers']} workers (access_log off, sendfile on)",
        "",
        "**abs.** = absolute, this machine only; **ratio** = comparable across machines (Encore ÷ nginx from the same round; info ÷ warning).",
        "",
        "| object | server | req/s (abs.) | server CPU µs/req (abs.) | wrk CPU µs/req (abs.) | req/s ÷ nginx (ratio) | CPU/req ÷ nginx (ratio) | CPU/req info ÷ warning − 1 (ratio) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for obj, obj_label in OBJECTS:
        if obj not in summary:
            continue
        size = meta.get("object_bytes", {}).get(obj)
        label = f"{obj_label} ({size:,} B)" if size else obj_label
        min_rps, max_cpu = GOALS[obj]
        for target, target_label in TARGETS:
            s = summary[obj].get(target)
            if not s:
                continue
            cells = [label if target == "nginx" else "", target_label, fmt_abs(s["rps"]), fmt_abs(s["cpu_us_per_request"], 1), fmt_abs(s["wrk_cpu_us_per_request"], 1)]
            r = ratios[obj].get(target)
            if r:
                cells.append(f"{fmt_ratio(r['rps_vs_nginx'])} {mark(r['rps_goal_met'])} ≥ {min_rps}")
                cells.append(f"{fmt_ratio(r['cpu_vs_nginx'])} {mark(r['cpu_goal_met'])} ≤ {max_cpu}")
            else:
                cells += ["", ""]
            if target == "encore-info" and "info_over_warning_cpu" in ratios[obj]:
                o = ratios[obj]
                cells.append(f"{fmt_ratio(o['info_over_warning_cpu'], percent=True)} {mark(o['info_over_warning_goal_met'])} ≤ +{INFO_OVER_WARNING_MAX * 100:.0f} %")
            else:
                cells.append("")
            lines.append("| " + " | ".join(cells) + " |")
    met = sum(goals_met.values())
    other = [run["other_cores_busy"] for run in runs]
    disturbed = sum(1 for run in runs if run.get("disturbed"))
    retried = sum(1 for run in runs if run.get("attempt", 1) > 1)
    irq = [run["irq_cores_busy"] for run in runs]
    lines += [
        "",
        f"Goals met: {met} of {len(goals_met)}. Over the wrk windows, other processes kept {statistics.median(other):.2f} cores busy "
        f"(median; max {max(other):.2f}) and interrupts (loopback TCP, charged to no process) {statistics.median(irq):.2f} cores."
        + (f" {retried} windows were measured again because other work disturbed them." if retried else "")
        + (f" {disturbed} windows stayed disturbed: their req/s are unreliable (CPU per request much less so)." if disturbed else ""),
    ]
    table = "\n".join(lines)
    print(table)
    with open(args.json, "w") as f:
        json.dump({"meta": meta, "summary": summary, "ratios": ratios, "goals_met": goals_met, "runs": runs, "markdown": table}, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure")
    m.add_argument("url")
    m.add_argument("--pid", type=int, required=True)
    m.add_argument("--with-children", action="store_true")
    m.add_argument("--target", required=True)
    m.add_argument("--object", required=True)
    m.add_argument("--round", type=int, default=0)
    m.add_argument("--threads", type=int, default=1)
    m.add_argument("--connections", type=int, default=64)
    m.add_argument("--duration", default="5s")
    m.add_argument("--header", "-H", action="append")
    m.add_argument("--warmup", default="1s", help="wrk run before the window (0: none)")
    m.add_argument("--max-other", type=float, default=0.25, help="cores other processes may keep busy during a window")
    m.add_argument("--quiet-wait", type=float, default=60, help="seconds to wait for a quiet machine before a window")
    m.add_argument("--retries", type=int, default=2, help="windows measured again when other processes disturbed them")
    r = sub.add_parser("report")
    r.add_argument("runs")
    r.add_argument("--meta", required=True)
    r.add_argument("--json", required=True)
    args = parser.parse_args()
    measure(args) if args.command == "measure" else report(args)


if __name__ == "__main__":
    main()
