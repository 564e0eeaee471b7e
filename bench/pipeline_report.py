"""The pipeline benchmark's targets and its section of docs/benchmarks.md, from the measured results."""

from __future__ import annotations

from typing import Any

CORES_NOTE = "2 workers, 20 connections, 4 per host"


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    cold, warm, full, soak = r["cold"], r["warm"], r["fulltext"], r["soak"]
    net = r.get("cold_network") or {"naive_s": None, "wall_s": None, "latency_s": 0.1}
    cold_floor = cold["download_floor_s"] + cold["parse_floor_s"]
    full_floor = full["download_floor_s"] + full["parse_floor_s"] + full["extraction_floor_s"]
    main, mid, top = r["main"], r["scale_sizes"][-2], r["scale_sizes"][-1]
    unmeasured = {"wall_s": None, "peak_pss_mb": None, "peak_rss_mb": None}
    big = r["scale"].get(str(top), unmeasured)
    mid_wall = r["scale"].get(str(mid), unmeasured)["wall_s"]
    scale = mid_wall / r["scale"][str(main)]["wall_s"] if mid_wall else None
    after_poll = [row["after_poll_s"] for row in r["latency"]]
    worst = max((x for x in after_poll if x is not None), default=None)
    cold_ratio = cold["wall_s"] / cold_floor
    cold_cpu_ratio = cold["cpu_s"] / (cold["download_cpu_s"] + cold["parse_cpu_s"])
    naive_ratio = cold["naive_s"] / cold["wall_s"]
    naive_net_ratio = net["naive_s"] / net["wall_s"] if net["wall_s"] else None
    warm_ratio = warm["wall_s"] / warm["download_floor_s"]
    full_ratio = full["wall_s"] / full_floor
    return [
        _target("cold cycle / (download + parse floor)", cold_ratio, "<= 1.5", cold_ratio <= 1.5),
        _target(
            "cold cycle CPU / (download + parse CPU), for information",
            cold_cpu_ratio,
            "",
            None,
        ),
        _target("naive baseline / cold cycle", naive_ratio, ">= 5", naive_ratio >= 5),
        _target(
            f"naive baseline / cold cycle, {net['latency_s'] * 1000:.0f} ms a response",
            naive_net_ratio,
            ">= 5",
            naive_net_ratio is not None and naive_net_ratio >= 5,
        ),
        _target("warm cycle, seconds", warm["wall_s"], "<= 3", warm["wall_s"] <= 3),
        _target("warm cycle / its download floor", warm_ratio, "<= 2", warm_ratio <= 2),
        _target(
            "full-text cycle / (download + parse + extraction floors)",
            full_ratio,
            "<= 1.3",
            full_ratio <= 1.3,
        ),
        _target(
            f"{mid:,} feeds / {main:,} feeds, wall time", scale, "<= 5.5", scale is not None and scale <= 5.5
        ),
        _target(
            f"{top:,} feeds cold, full text off, seconds",
            big["wall_s"],
            "< 60",
            big["wall_s"] is not None and big["wall_s"] < 60,
        ),
        _target(
            f"{top:,} feeds cold, MB (peak PSS, all processes)",
            big["peak_pss_mb"],
            "< 400",
            big["peak_pss_mb"] is not None and big["peak_pss_mb"] < 400,
        ),
        _target(
            f"{top:,} feeds cold, MB (sum of each process's peak resident set)", big["peak_rss_mb"], "", None
        ),
        _target(
            "daemon peak memory, MB (PSS, all processes)",
            soak["peak_pss_mb"],
            "< 250",
            soak["peak_pss_mb"] < 250,
        ),
        _target(
            "daemon memory growth after warm-up, %",
            soak["growth_pct"],
            "<= 10",
            soak["growth_pct"] is not None and soak["growth_pct"] <= 10,
        ),
        _target(
            "alert latency after the poll that saw the entry, worst, s",
            worst,
            "< 10",
            worst is not None and worst < 10 and None not in after_poll,
        ),
    ]


def _target(name: str, value: float | None, goal: str, passed: bool | None) -> dict[str, Any]:
    """A target's line; one whose value was not measured (its scenario skipped) neither passes nor fails."""
    outcome = None if value is None or not goal else passed
    return {
        "target": name,
        "value": None if value is None else round(value, 2),
        "goal": goal,
        "pass": outcome,
    }


def verdict(target: dict[str, Any]) -> str:
    if target["value"] is None:
        return "not measured"
    return "-" if target["pass"] is None else "pass" if target["pass"] else "FAIL"


def markdown(r: dict[str, Any]) -> str:
    cold, warm, full, soak = r["cold"], r["warm"], r["fulltext"], r["soak"]
    net = r.get("cold_network")
    full_floor = full["download_floor_s"] + full["parse_floor_s"] + full["extraction_floor_s"]
    rows = [
        ("cold cycle, 1,000 feeds, full text off", cold, cold["download_floor_s"] + cold["parse_floor_s"],
         "download + parse floor"),
        ("cold cycle: naive baseline", None, cold["naive_s"], f"naive (timed on {cold['naive_sample_feeds']} feeds)"),
        *([(f"cold cycle, {net['latency_s'] * 1000:.0f} ms a response", net, net["naive_s"],
            f"naive, same latency (timed on {net['naive_sample_feeds']} feeds)")] if net else []),
        ("warm cycle, 1,000 feeds, all 304", warm, warm["download_floor_s"], "download floor"),
        (f"full-text cycle, {full['pages']:,} new pages", full, full_floor, "download + parse + extraction floors"),
    ]  # fmt: skip
    farm = r["farm"]
    lines = [
        "## Pipeline",
        "",
        f"`python -m bench pipeline`: poll cycles through the real code (`open_runtime` + `poll_many`, one "
        f"process per cycle, default settings: {CORES_NOTE}) against a loopback farm replaying every file of "
        f"the corpus's feeds folder in turn ({farm['files']} files: {farm['rewritten']} served with their entries "
        f"rewritten to the farm's pages, {farm['files'] - farm['rewritten']} byte for byte: malformed, other "
        f"encodings, JSON Feeds, gzip bodies, HTML pages; every size, up to "
        f"{farm['largest_kb']} KB). Half the feeds send an ETag, all send Last-Modified; half gzip their body. "
        f"1,000 feeds = {r['corpus']['feed_mb']} MB, {r['corpus']['entries']:,} new entries, on {r['ports']} ports. "
        f"Machine: {r['machine']}; run {r['date']}; load average {r['load_before']} before, {r['load_after']} "
        f"after (other work shared the 2 cores, so wall times carry its weight; CPU ratios are given beside "
        f"them). Floors were measured in the same run on the same bytes; CPU is summed over the cycle's "
        f"processes; memory is the sum of each process's peak resident set.",
        "",
        "| scenario | wall (s) | CPU (s) | peak MB | floor or baseline (s) | which | ratio |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for name, res, floor, which in rows:
        if res is None:
            lines.append(
                f"| {name} | - | - | - | {floor:.2f} | {which} | {floor / cold['wall_s']:.2f} faster |"
            )
            continue
        ratio = (
            f"{floor / res['wall_s']:.2f} faster"
            if which.startswith("naive")
            else f"{res['wall_s'] / floor:.2f}"
        )
        lines.append(
            f"| {name} | {res['wall_s']:.2f} | {res['cpu_s']:.2f} | {res['peak_rss_mb']} | {floor:.2f} | "
            f"{which} | {ratio} |"
        )
    lines += [
        "",
        f"Floors: cold download {cold['download_floor_s']} s ({cold['download_cpu_s']} s CPU); parsing with our "
        f"parser (fast path, feedparser where it falls back) {cold['parse_cpu_s']} s CPU (/{r['cores']} cores = "
        f"{cold['parse_floor_s']} s), feedparser alone {cold['feedparser_cpu_s']} s CPU on the same bodies; the "
        f"naive loop (`feedparser.parse(url)`, one feed after another) took {cold['naive_sample_s']} s for "
        f"{cold['naive_sample_feeds']} feeds. Warm download {warm['download_floor_s']} s. Full text: download of "
        f"the changed feeds and {full['pages']:,} pages {full['download_floor_s']} s, parsing the changed feeds "
        f"{full['parse_cpu_s']} s CPU (/{r['cores']} = {full['parse_floor_s']} s), trafilatura "
        f"{full['extract_cpu_s']} s CPU (/{r['cores']} = {full['extraction_floor_s']} s).",
        "",
        "| feeds | cold wall (s) | CPU (s) | of which main process (s) | s per 1,000 feeds | download floor (s) "
        "| peak PSS MB, all processes | sum of peak RSS MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, res in r["scale"].items():
        floor = res.get("download_floor_s", cold["download_floor_s"])
        per = res["wall_s"] / int(size) * 1000
        lines.append(
            f"| {int(size):,} | {res['wall_s']:.2f} | {res['cpu_s']:.2f} | {res['cpu_main_s']:.2f} | {per:.2f} | "
            f"{floor} | {res['peak_pss_mb']} | {res['peak_rss_mb']} |"
        )
    each = ", ".join(f"{role} {mb} MB" for role, mb in soak["peak_each"])
    role_peaks = ", ".join(f"{role} {mb} MB" for role, mb in sorted(soak["role_peak_pss_mb"].items()))
    lines += [
        "",
        f"Soak: `monitor run` for {soak['seconds']:.0f} s on the 1,000 feeds (database from the cycles above), "
        f"interval {soak['interval_s']} s, full text on, {soak['new_entries_per_s']:g} new entries a second. "
        f"Memory of the daemon and its worker processes (proportional set, so shared pages count once): peak "
        f"{soak['peak_pss_mb']} MB ({each}; resident sum {soak['peak_rss_sum_mb']} MB); each role's own peak: "
        f"{role_peaks}; {soak['after_warmup_pss_mb']} MB after warm-up (the median over the poll interval after "
        f"the first two polls, the second being the first to read pages), {soak['end_pss_mb']} MB at the end "
        f"({soak['growth_pct']} %).{_kept_up(soak)}",
        "",
        "| marked entry | appeared -> served to the daemon (s) | served -> email (s) | total (s) "
        "| stored (s) | its alert when the daemon stopped |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in r["latency"]:
        lines.append(
            f"| {row['entry']} | {row['wait_for_poll_s']} | {row['after_poll_s']} | {row['total_s']} "
            f"| {row.get('stored_s')} | {row.get('delivery', 'not recorded')} |"
        )
    lines += _changed(r.get("changed"))
    lines += ["", "| target | measured | goal | result |", "|---|---:|---:|---|"]
    for target in r["targets"]:
        lines.append(f"| {target['target']} | {target['value']} | {target['goal']} | {verdict(target)} |")
    lines += ["", NOTES, ""]
    return "\n".join(lines)


def _changed(changed: dict[str, Any] | None) -> list[str]:
    """The changed-feeds cycle, told and forgotten, when the run measured it."""
    if not changed:
        return []
    told, forgotten = changed["told"], changed["forgotten"]
    return [
        "",
        f"Changed feeds, the steady state: after a cold cycle the farm adds a new entry to each feed it rewrites, "
        f"and a second cycle on the same database reads the {told['statuses'].get('ok', 0)} feeds that changed "
        f"({told['new_entries']:,} new entries). Each read is given the digests of the feed's last read and tells "
        f"the language and fingerprint of its new entries only; the baseline is the same cycle in a pipeline that "
        f"forgot them, as a daemon just started (the run of each with the least CPU of two, alternated):",
        "",
        "| second cycle | wall (s) | CPU (s) | of which main process (s) |",
        "|---|---:|---:|---:|",
        f"| told only the unseen entries | {told['wall_s']:.2f} | {told['cpu_s']:.2f} | {told['cpu_main_s']:.2f} |",
        f"| every entry told (forgotten) | {forgotten['wall_s']:.2f} | {forgotten['cpu_s']:.2f} "
        f"| {forgotten['cpu_main_s']:.2f} |",
        f"| ratio | {told['wall_s'] / forgotten['wall_s']:.2f} | {told['cpu_s'] / forgotten['cpu_s']:.2f} "
        f"| {told['cpu_main_s'] / forgotten['cpu_main_s']:.2f} |",
    ]


def _kept_up(soak: dict[str, Any]) -> str:
    """How far the daemon kept up with its feeds during the soak, when the run recorded it."""
    if "polls_made_pct" not in soak:
        return ""
    load = soak["load_average"]
    warnings = "; ".join(f"{text} ({n})" for text, n in soak["log_warnings"].items()) or "none"
    return (
        f" The daemon made {soak['polls_made_pct']} % of the polls due in the soak (load average {load[0]} "
        f"before, {load[3]} at its end); its warnings: {warnings}."
    )


NOTES = """Notes:

- The farm serves many ports of 127.0.0.1 so that, as on the web, feeds sit on many hosts. Feeds served
  byte for byte share their entries with the other feeds replaying the same file: only the first poll to
  store an entry counts it as new.
- The alert latency is measured from the moment an entry appears in a feed; the poll that sees it comes up to
  one interval later, and the rest (store, the 5 s grouping window, the 1 s delivery tick, SMTP) is the
  "served -> email" column, which the target bounds. "Served" is when the farm sent the feed; a daemon that
  has fallen behind (fewer polls made than due) may hold the body a long time before it stores the entry.
  "Stored" is the start of the poll that stored it. An alert not received when the soak ends is looked up in
  the daemon's database: "pending" is late, not lost (it goes out at the next start)."""
