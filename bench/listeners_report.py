"""The Markdown table of bench/load.sh, from its JSON (bench/results/load-DATE.json): one row per level.

Usage: listeners_report.py RESULTS_JSON  (prints the table)

The JSON is {date, cores, binary, settings: {...}, levels: [listeners.py's report + {server_log_lines,
server_log_tail, max_connections}, ...]}. Figures marked "abs." hold for this machine only (2 shared
cores here); counts, goals and the ratios between levels are what carries across machines.
"""
import json
import sys

GOAL_LISTENERS = 10_000
GOAL_START_P99_MS = 50
GOAL_RSS_MB = 300
GOAL_RSS_SLOPE_MB_PER_MIN = 1.0  # "flat": under 1 MB/min (5 MB over a 5-minute window)
CLIENT_LAG_OK_MS = 20  # the client's timers fire within this at p99: its figures are the server's


def num(value, digits=1):
    if value is None:
        return "–"
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 100:
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def check(ok):
    return "✓" if ok else "✗"


def main():
    data = json.load(open(sys.argv[1]))
    settings, levels = data["settings"], data["levels"]
    out = []
    out.append(
        f"Listener load, {data['date']}, {data['cores']} cores, loopback; {settings['server']}, log level warning; "
        f"{settings['tracks']} tracks of {settings['track_seconds']} s (AAC 96/160/256 kbps HLS, ~6 s segments); "
        f"per level: ramp {num(settings['ramp_s'], 0)} s, settle {num(settings['settle_s'], 0)} s, then a steady window of "
        f"{num(settings['steady_s'], 0)} s (the measured one); listeners share {settings['accounts']} accounts signed in "
        f"before the ramp; one keep-alive connection per listener; client: {settings['client']}.\n")
    out.append("**abs.** = absolute, this machine only (shared with other work: noisy). Latencies, plays and segments "
               "are over the steady window; errors and stalls over the whole run (sign-in, ramp, window). "
               "Server RSS is sampled every "
               f"{num(settings['sample_every_s'], 0)} s; slope = least-squares fit over the window. Client CPU = all "
               "simulator processes (user+sys). Client lag = how late the simulator's own 100 ms probe timers fired "
               f"(p99 / max): under {CLIENT_LAG_OK_MS} ms the latencies are the server's, not the client's. "
               "Other work = the machine's busy cores less the server, the client and interrupts.\n")
    out.append("| listeners (client procs) | starts/s in ramp | plays / segments | errors / stalls | stream start p50 / p95 / p99 ms (abs.) "
               "| ramp: start p99 ms; client lag p99 ms (abs.) | segment p50 / p99 ms (abs.) | server CPU cores (abs.) "
               "| server CPU per 1,000 listeners (abs.) | server RSS MB: window start → end, min–max (abs.) "
               "| RSS slope MB/min, max−min MB | server fds max (limit) | client CPU cores (abs.) | client lag p99 / max ms "
               "| other work on the machine, cores (abs.) |")
    out.append("|" + "---|" * 15)
    for level in levels:
        st, rp, sv, cl = level.get("steady") or {}, level.get("ramp") or {}, level.get("server") or {}, level.get("client") or {}
        n = level["listeners"]
        cpu = sv.get("cpu_cores_steady")
        lag = (st.get("client_lag") or {})
        limit = (sv.get("fd_limit") or {}).get("soft", "?")
        out.append("| " + " | ".join([
            f"{n:,} ({cl.get('processes', '?')})",
            num(level["settings"].get("starts_per_s")),
            f"{num(st.get('plays'))} / {num(st.get('segments'))}",
            f"{level['errors']} / {level['stalls']}",
            f"{num(st.get('start_p50_ms'), 2)} / {num(st.get('start_p95_ms'), 2)} / {num(st.get('start_p99_ms'), 2)}",
            f"{num(rp.get('start_p99_ms'), 2)}; {num((rp.get('client_lag') or {}).get('p99_ms'), 1)}",
            f"{num(st.get('segment_p50_ms'), 2)} / {num(st.get('segment_p99_ms'), 2)}",
            num(cpu, 3),
            num(None if cpu is None else cpu / n * 1000, 3),
            f"{num(sv.get('rss_steady_start_mb'))} → {num(sv.get('rss_steady_end_mb'))}, "
            f"{num(sv.get('rss_steady_min_mb'))}–{num(sv.get('rss_steady_max_mb'))}",
            f"{num(sv.get('rss_steady_slope_mb_per_min'), 2)}, {num(sv.get('rss_steady_range_mb'))}",
            f"{num(sv.get('fds_max'))} ({limit})",
            num(cl.get("cpu_cores_steady"), 3),
            f"{num(lag.get('p99_ms'), 1)} / {num(lag.get('max_ms'), 1)}",
            num((level.get("machine") or {}).get("other_cores_steady"), 2),
        ]) + " |")

    # Growth from the smallest level to the largest.
    if len(levels) >= 2:
        lo, hi = levels[0], levels[-1]
        def ratio(get):
            a, b = get(lo), get(hi)
            return "–" if not a or b is None else f"×{b / a:.2f}"
        out.append(
            f"\nFrom {lo['listeners']:,} to {hi['listeners']:,} listeners (×{hi['listeners'] / lo['listeners']:.1f}): "
            f"server CPU {ratio(lambda l: (l['server'] or {}).get('cpu_cores_steady'))}, "
            f"stream start p50 {ratio(lambda l: (l['steady'] or {}).get('start_p50_ms'))}, "
            f"p99 {ratio(lambda l: (l['steady'] or {}).get('start_p99_ms'))}, "
            f"segment p99 {ratio(lambda l: (l['steady'] or {}).get('segment_p99_ms'))}, "
            f"client CPU {ratio(lambda l: (l['client'] or {}).get('cpu_cores_steady'))}.")

    # Goals, at 10,000 listeners (or the largest level run, said so).
    target = next((l for l in levels if l["listeners"] >= GOAL_LISTENERS), None)
    note = ""
    if target is None:
        target = max(levels, key=lambda l: l["listeners"])
        note = f" (no level reached {GOAL_LISTENERS:,}: checked at {target['listeners']:,}, which does not settle them)"
    st, sv, cl = target.get("steady") or {}, target.get("server") or {}, target.get("client") or {}
    p99, p99_where = st.get("start_p99_ms"), ""
    if p99 is None:  # a window shorter than a track has no new plays: the ramp's starts are all there is
        p99, p99_where = (target.get("ramp") or {}).get("start_p99_ms"), " (no plays started in the window: the ramp's starts)"
    slope = sv.get("rss_steady_slope_mb_per_min")
    lag99 = (st.get("client_lag") or {}).get("p99_ms")
    goals = [
        (target["errors"] == 0 and target["stalls"] == 0, f"zero errors and stalls: {target['errors']} / {target['stalls']}"),
        (p99 is not None and p99 <= GOAL_START_P99_MS, f"stream start p99 ≤ {GOAL_START_P99_MS} ms: {num(p99, 2)} ms{p99_where}"),
        (sv.get("rss_max_mb") is not None and sv["rss_max_mb"] <= GOAL_RSS_MB, f"server RSS ≤ {GOAL_RSS_MB} MB over the whole run: max {num(sv.get('rss_max_mb'))} MB"),
        (slope is not None and abs(slope) <= GOAL_RSS_SLOPE_MB_PER_MIN,
         f"RSS flat over the window (|slope| ≤ {GOAL_RSS_SLOPE_MB_PER_MIN:g} MB/min): {num(slope, 2)} MB/min, max−min {num(sv.get('rss_steady_range_mb'))} MB"),
    ]
    out.append(f"\nGoals at {GOAL_LISTENERS:,} listeners{note}:")
    for ok, text in goals:
        out.append(f"- {check(ok)} {text}")
    kept_up = lag99 is not None and lag99 < CLIENT_LAG_OK_MS
    ramp_lag = ((target.get("ramp") or {}).get("client_lag") or {}).get("p99_ms")
    out.append(f"- client kept up (not a goal, a validity check): lag p99 {num(lag99, 1)} ms "
               f"{'<' if kept_up else '≥'} {CLIENT_LAG_OK_MS} ms, client CPU {num(cl.get('cpu_cores_steady'), 2)} cores "
               f"on {data['cores']}{'' if kept_up else ': latencies include the client’s own delay'}; "
               f"in the ramp, lag p99 {num(ramp_lag, 1)} ms")

    # What went wrong, if anything.
    for level in levels:
        samples = level.get("error_samples") or []
        stalls = level.get("stall_samples") or []
        failures = level.get("worker_failures") or []
        log = level.get("server_log_lines") or 0
        if samples or stalls or failures or log:
            out.append(f"\nAt {level['listeners']:,} listeners: errors by kind {json.dumps(level.get('errors_by_kind'))}, "
                       f"stalls {level['stalls']} (client-late {level.get('stalls_client', 0)}, server-slow "
                       f"{level.get('stalls_server', 0)}), server log lines (warning and up) {log}.")
            for failure in failures[:3]:
                out.append(f"- worker failure: `{failure[-300:]}`")
            for sample in samples[:5]:
                out.append(f"- error at t={sample['t']} s ({sample['kind']}): `{sample['error'][:200]}`")
            for sample in stalls[:3]:
                out.append(f"- stall at t={sample['t']} s: {json.dumps({k: v for k, v in sample.items() if k != 't'})}")
            for line in (level.get("server_log_tail") or [])[:3]:
                out.append(f"- server log: `{line[:200]}`")
    out.append(f"\nJSON (every level, with the RSS/fd/CPU timeline): {data.get('json', 'bench/results/load-DATE.json')}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
