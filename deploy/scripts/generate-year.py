#!/usr/bin/env python3
"""Generates a realistic year (or N years) of Changde for Pingan's import path, from a seed.

Every figure below is a documented assumption or comes from a public source; the list, with
the reasoning, is in docs/importing.md ("The generated city"). Everything generated is
labelled: village names end in （生成）, people are 某 with （生成）, texts start with （生成）.

    python3 deploy/scripts/generate-year.py --preset demo --seed 26 --out /tmp/year
    python3 deploy/scripts/generate-year.py --preset city --seed 26 --years 1 --out /tmp/city

Writes into --out:
  divisions.csv      generated villages under the real townships (grid-service import divisions)
  grids.ndjson       grids                (grid-service import grids)
  members.ndjson     grid members         (grid-service import members)
  screening.ndjson   daily screening      (grid-service import screening)
  cases.ndjson       cases with their incidents, ladder, summons, agreement, return visits
                     (for dispute-service's import; format in docs/importing.md)
  warnings.ndjson    the cases' risk warnings with their closed loops (risk-service import warnings)
  surveys.csv        survey results per village and month (index-service import surveys)
  manifest.json      preset, seed, period and counts

Presets: demo = one county (临澧县 430724), twelve months; city = every county, 2,447 centres,
about 12,000 grids and 25,000 members, --years N years (default 1). The period ends on --end
(default: the last day of the month before the current one, China time); the same seed,
preset, years and end give byte-identical files. Warnings and surveys draw from random streams
of their own (seeded from --seed), so the other files are the same with or without them.
"""
import argparse
import bisect
import calendar
import csv
import datetime as dt
import json
import os
import random
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIVISIONS = os.path.join(ROOT, "Services/grid/Sources/Data/changde-divisions.csv")
CALENDAR = os.path.join(ROOT, "Services/dispute/Sources/Data/cn-workday-calendar.csv")
RISK_MODELS = os.path.join(ROOT, "Services/risk/Sources/Data/risk-models.json")
CHINA = dt.timezone(dt.timedelta(hours=8))

# --- Sizes (docs/importing.md: sources and assumptions) -------------------------------------
CENTRES = 2447                     # the seed article: 2,447 centres at four levels
GRIDS = 12000                      # the seed: 1.2万 grid chat groups, one per grid
CASES_PER_YEAR = 100_000           # issue 26; ~70,000 mediated (13 per 1,000 people) + grid finds
PER_GRID_VOLUNTEERS = {0: 0.35, 1: 0.45, 2: 0.20}   # tuned so members come to ~25,000 (the seed: 2.5万)

# Category shares: the mean of the national 2011 yearbook table and the rural county example of
# dispute-volumes.md, mapped onto Pingan's categories (docs/importing.md shows the arithmetic).
CATEGORIES = [
    ("neighbour", 0.27), ("land", 0.19), ("marriage_family", 0.15), ("economic_debt", 0.15),
    ("demolition_compensation", 0.05), ("property_management", 0.03), ("other", 0.16),
]
# Monthly factor per category (mean about 1): assumptions, see docs/importing.md.
SEASON = {
    "marriage_family": [1.4, 1.5, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 0.9, 1.0],
    "neighbour":       [0.85, 0.9, 0.95, 1.0, 1.05, 1.15, 1.25, 1.2, 1.0, 0.95, 0.85, 0.85],
    "land":            [0.6, 0.7, 1.4, 1.5, 1.1, 0.9, 0.9, 0.9, 1.2, 1.3, 0.8, 0.7],
    "economic_debt":   [1.4, 1.2, 0.9, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85, 0.9, 1.1, 1.5],
    "demolition_compensation": [1.0] * 12,
    "property_management": [1.0, 0.9, 1.0, 1.0, 1.0, 1.1, 1.2, 1.2, 1.0, 1.0, 0.9, 1.0],
    "other":           [1.0] * 12,
}
SOURCES = [("walk_in", 0.25), ("screening", 0.20), ("grid_report", 0.15), ("hotline", 0.15),
           ("police_transfer", 0.12), ("citizen_app", 0.08), ("department_referral", 0.05)]
RUNGS = ["finder", "village_secretary", "township_cadre", "political_legal", "township_leaders"]
# Chance a rung settles a case that reaches it; land is harder (county example: 30 of 41 unsettled).
RUNG_SETTLES = [0.55, 0.45, 0.40, 0.55, 0.60]
LAND_FACTOR = 0.8
WITHDRAWN = 0.04                   # closed without a settlement (withdrawn, no dispute found)
RETURN_VISIT_UNSETTLED = 0.05
TOWNSHIP_DEPARTMENTS = ["派出所", "司法所", "安监站", "国土所", "林业站", "民政办"]
CITY_DEPARTMENTS = ["市公安局", "市司法局", "市信访局", "市应急管理局", "市民政局", "市自然资源和规划局"]
CATEGORY_ZH = {"neighbour": "邻里", "land": "土地", "marriage_family": "婚恋家庭", "economic_debt": "经济债务",
               "demolition_compensation": "征拆补偿", "property_management": "物业", "other": "其他"}
# Warnings (docs/importing.md: assumptions). A case warns when risk-service's own catalogue
# (RISK_MODELS) scores it at or over its threshold, or finds a decisive factor, at the case's
# opening, at the end of a failed rung or at each 30 days it stays unsettled; the loop's times:
ACK_MINUTES = 30                   # risk-service's WARNING_ACK_MINUTES: later is late (it escalated)
ACK_LATE = [(0.88, 2, 30), (0.10, 31, 120), (0.02, 121, 720)]   # share, minutes after raising
WARNING_LOOP = {                   # hours after the step before: (fewest, most); feedback, evaluation
                                   # and closing in the day (08:00-21:00), else the next morning
    "assign": (0.2, 4), "feed_back": (4, 72), "evaluate": (24, 168), "close": (1, 72),
}
# Survey results (群众满意度测评), per village and month: a rolling sample by the county's survey
# office. Most villages are sampled 30-60 a month; 15% (remote or small) only 8-25, below the
# index's 30 answers; satisfaction about 90% per village, 2 points lower per warning of the
# village's cases that month (at most 10).
SURVEY_SMALL_VILLAGES = 0.15
SURVEY_SAMPLE = (30, 60)
SURVEY_SMALL_SAMPLE = (8, 25)
SURVEY_SATISFIED = (0.90, 0.04, 0.75, 0.98)   # mean, sigma, floor, ceiling per village
SURVEY_WARNING_PENALTY = (0.02, 0.10)         # per warning that month, at most
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", choices=["demo", "city"], required=True)
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument("--years", type=int, default=1, help="city only: years of history (default 1)")
    parser.add_argument("--end", help="last day, YYYY-MM-DD (default: end of last month, China time)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.preset == "demo" and args.years != 1:
        parser.error("--years is for the city preset; demo is twelve months")
    if args.years < 1 or args.years > 10:
        parser.error("--years must be 1 to 10")
    return args


def period(args):
    if args.end:
        end = dt.date.fromisoformat(args.end)
    else:
        today = dt.datetime.now(CHINA).date()
        end = today.replace(day=1) - dt.timedelta(days=1)
    months = 12 * args.years
    year, month = end.year, end.month - months + 1
    while month < 1:
        year, month = year - 1, month + 12
    return dt.date(year, month, 1), end


def holidays():
    days = set()
    with open(CALENDAR, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["kind"] == "holiday":
                days.add(dt.date.fromisoformat(row["date"]))
    return days


def pick(rng, weighted):
    x = rng.random()
    for value, weight in weighted:
        x -= weight
        if x < 0:
            return value
    return weighted[-1][0]


def ts(day, hour, minute, second=0):
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:{second:02d}+08:00"


def stem(name):
    for suffix in ("街道", "镇", "乡"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def villages(rng, townships, total):
    """Village counts per township that add up to `total`, then the villages themselves."""
    weights = []
    for code, _ in townships:
        kind = int(code[6:9])
        base = 8 if kind < 100 else 14 if kind < 200 else 12   # streets fewer, towns more
        weights.append(base * rng.uniform(0.7, 1.3))
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: -(weights[i] * scale - counts[i]))
    for i in remainders[: total - sum(counts)]:
        counts[i] += 1
    result = []
    for (code, name), count in zip(townships, counts):
        prefix, short, kind = code[:9], stem(name), int(code[6:9])
        communities = count if kind < 100 else min(count, rng.randint(1, 3)) if kind < 200 else min(count, 1 if rng.random() < 0.3 else 0)
        for index in range(count):
            if index < communities:
                label = f"{short}社区（生成）" if index == 0 else f"{short}{index + 1}社区（生成）"
                result.append((f"{prefix}{index + 1:03d}", label, code, True))
            else:
                number = index - communities + 1
                result.append((f"{prefix}{200 + number:03d}", f"{short}{number}村（生成）", code, False))
    return result


def load_models():
    with open(RISK_MODELS, encoding="utf-8") as f:
        catalogue = json.load(f)
    return catalogue, {m["category"]: m for m in catalogue["models"]}


def risk_score(model, facts):
    """The score and whether a decisive factor was present, as risk-service's RiskModel.score does."""
    total, decisive = model["base"], False
    for factor in model["factors"]:
        occurrences = facts.get(factor["name"], 0)
        if occurrences > 0:
            total += min(factor.get("cap") or 10**9, factor["points"] * occurrences)
            decisive = decisive or factor.get("decisive", False)
    return min(100, total), decisive


def risk_level(catalogue, score, decisive):
    bands = catalogue["levels"]
    level = 2 if score >= bands["major"] else 1 if score >= bands["serious"] else 0
    if decisive:
        level = max(level, {"general": 0, "serious": 1, "major": 2}[bands["decisive"]])
    return ["一般", "较大", "重大"][level]


def first_warning(catalogue, model, record, reported, end_moment):
    """When the case first warns, with the score and level, or None.

    The facts the generator knows, scored with the catalogue at each moment the score can change
    while the case is unsettled: its opening, the end of each failed rung, and every 30 days open
    (months_open). Not modelled: violence that happened (the cases carry no such fact),
    escalations above the township and overdue summons.
    """
    parse = dt.datetime.fromisoformat
    base = {
        "repeat_incident": 1 if record["repeat_incident"] else 0,
        "threat_of_violence": 1 if record["threat_of_violence"] else 0,
        "threat_of_self_harm": 1 if record["threat_of_self_harm"] else 0,
        "minors_involved": 1 if any(p["minor"] for p in record["parties"]) else 0,
        "many_parties": 1 if len(record["parties"]) > 5 else 0,
        "prior_police_calls": record["prior_police_calls"],
    }
    failed = [parse(r["ended_at"]) for r in record["rungs"] if r.get("outcome") == "failed"]
    settled = [parse(r["ended_at"]) for r in record["rungs"] if r.get("outcome") == "settled"]
    # The case raises nothing more once settled or resolved.
    until = min(settled[:1] + ([parse(record["closed_at"])] if record["status"] == "resolved" else []) + [end_moment])
    month = dt.timedelta(days=30)
    moments = [reported] + failed + [reported + month * k for k in range(1, 40) if reported + month * k < until]
    for moment in sorted(m for m in moments if m < until):
        facts = dict(base, failed_rungs=sum(1 for f in failed if f <= moment),
                     months_open=int((moment - reported) / month))
        score, decisive = risk_score(model, facts)
        if score >= catalogue["threshold"] or decisive:
            return moment, score, risk_level(catalogue, score, decisive)
    return None


def write_warnings(args, cases, members, end_moment):
    """warnings.ndjson: each warning of the cases with its loop, in the order raised."""
    rng = random.Random(f"{args.seed}/warnings")
    catalogue, models = load_models()
    names = {m["legacy_id"]: m["name"] for m in members}
    staff = {}

    def township_staff(township):
        if township not in staff:
            staff[township] = ([rng.choice(SURNAMES) + "某（生成）" for _ in range(3)], rng.choice(SURNAMES) + "某（生成）")
        return staff[township]

    raised = []
    for record, reported, grid in cases:
        found = first_warning(catalogue, models[record["category"]], record, reported, end_moment)
        if found is None:
            continue
        moment, score, level = found
        at = moment + dt.timedelta(seconds=rng.randint(20, 600))    # scored as the event arrives
        if at > end_moment:
            continue
        raised.append((at, record, grid, score, level))
    raised.sort(key=lambda w: (w[0], w[1]["legacy_id"]))

    stats = {"acknowledged_in_time": 0, "acknowledged_late": 0, "unacknowledged": 0}
    statuses = {}
    written = []
    with open(os.path.join(args.out, "warnings.ndjson"), "w", encoding="utf-8") as f:
        for seq, (at, record, grid, score, level) in enumerate(raised, 1):
            duty, leader = township_staff(grid["_township"])
            assignee = names.get(grid.get("_worker"), rng.choice(SURNAMES) + "某（生成）")
            x, minutes = rng.random(), None
            for share, low, high in ACK_LATE:
                x -= share
                if x < 0 or (share, low, high) == ACK_LATE[-1]:
                    minutes = rng.randint(low, high)
                    break
            acknowledged = at + dt.timedelta(minutes=minutes, seconds=rng.randrange(60))
            plan = []
            if minutes > ACK_MINUTES:
                # Not acknowledged in time: risk-service escalated it from the township to the
                # county, the step the index counts as not in time.
                village = record["village_code"]
                plan.append(("escalated", at + dt.timedelta(minutes=ACK_MINUTES), "risk-service",
                             f"not acknowledged in time: {village[:9]}000 → {village[:6]}000000"))
            plan.append(("acknowledge", acknowledged, rng.choice(duty), ""))
            moment = acknowledged
            notes = {
                "assign": (rng.choice(duty), f"（生成）网格员{assignee}"),
                "feed_back": (assignee, "（生成）已上门稳控，当事人情绪平稳，转入调解"),
                "evaluate": (leader, "（生成）处置及时，风险可控"),
                "close": (leader, "（生成）风险已化解"),
            }
            for kind in ("assign", "feed_back", "evaluate", "close"):
                low, high = WARNING_LOOP[kind]
                moment = moment + dt.timedelta(minutes=rng.randint(int(low * 60), int(high * 60)))
                if not 8 <= moment.hour < 21 and kind != "assign":   # the duty officer assigns at any hour
                    morning = moment.replace(hour=8, minute=0, second=0) + dt.timedelta(days=1 if moment.hour >= 21 else 0)
                    moment = morning + dt.timedelta(minutes=rng.randrange(90), seconds=rng.randrange(60))
                plan.append((kind, moment, *notes[kind]))
            steps = [{"kind": kind, "at": when.isoformat(), "by": by, "note": note}
                     for kind, when, by, note in plan if when <= end_moment]
            loop = [step for step in steps if step["kind"] != "escalated"]
            if loop:
                stats["acknowledged_in_time" if minutes <= ACK_MINUTES else "acknowledged_late"] += 1
            else:
                stats["unacknowledged"] += 1
            status = loop[-1]["kind"] if loop else "raised"
            statuses[status] = statuses.get(status, 0) + 1
            warning = {
                "legacy_id": f"YJ-{at.year}-{seq:06d}",
                "case_legacy_id": record["legacy_id"],
                "village_code": record["village_code"],
                "score": score,
                "level": level,
                "raised_at": at.isoformat(),
                "steps": steps,
            }
            f.write(json.dumps(warning, ensure_ascii=False) + "\n")
            written.append((at, record["village_code"]))
    stats["last_step"] = dict(sorted(statuses.items()))
    return written, stats


def write_surveys(args, chosen, warnings, start, end):
    """surveys.csv: each village's survey result of each month of the period (the last month's
    in proportion to its days covered)."""
    rng = random.Random(f"{args.seed}/surveys")
    per_month = {}
    for at, village in warnings:
        key = (village, f"{at.year:04d}-{at.month:02d}")
        per_month[key] = per_month.get(key, 0) + 1
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        days = calendar.monthrange(year, month)[1]
        covered = end.day if (year, month) == (end.year, end.month) else days
        months.append((f"{year:04d}-{month:02d}", covered / days))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    rows, below = 0, 0
    mean, sigma, floor, ceiling = SURVEY_SATISFIED
    per_warning, most = SURVEY_WARNING_PENALTY
    with open(os.path.join(args.out, "surveys.csv"), "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["month", "division_code", "respondents", "satisfied"])
        for code, _, _, _ in chosen:
            small = rng.random() < SURVEY_SMALL_VILLAGES
            low, high = SURVEY_SMALL_SAMPLE if small else SURVEY_SAMPLE
            rate = min(ceiling, max(floor, rng.gauss(mean, sigma)))
            below += small
            for label, share in months:
                respondents = round(rng.randint(low, high) * share)
                if respondents < 1:
                    continue
                month_rate = rate - min(most, per_warning * per_month.get((code, label), 0)) + rng.gauss(0, 0.02)
                month_rate = min(1.0, max(0.0, month_rate))
                satisfied = sum(1 for _ in range(respondents) if rng.random() < month_rate)
                out.writerow([label, code, respondents, satisfied])
                rows += 1
    return rows, {"sampled_30_or_more": len(chosen) - below, "sampled_fewer_than_30": below}


def main():
    args = parse_args()
    rng = random.Random(args.seed)
    start, end = period(args)
    off = holidays()
    os.makedirs(args.out, exist_ok=True)

    with open(DIVISIONS, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    all_townships = [(r["code"], r["name"]) for r in rows if r["level"] == "township"]
    total_villages = CENTRES - len(rows)               # 2,447 - 189 real = 2,258
    everything = villages(rng, all_townships, total_villages)
    if args.preset == "demo":
        chosen = [v for v in everything if v[0].startswith("430724")]
        scope = "430724000000"
    else:
        chosen = everything
        scope = "430700000000"
    # About 5.3; x0.96 makes up for rounding up small villages to one grid.
    grids_per_village = GRIDS / total_villages * 0.96

    # Divisions: the generated villages, in the format of changde-divisions.csv.
    with open(os.path.join(args.out, "divisions.csv"), "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["code", "name", "level", "parent_code"])
        for code, name, parent, _ in chosen:
            out.writerow([code, name, "village", parent])

    # Grids and members.
    grids, members, officers = [], [], {}
    member_seq = 0
    before = start - dt.timedelta(days=1)

    def person():
        return rng.choice(SURNAMES) + "某（生成）"

    def joined(latest):
        first = dt.date(2019, 1, 1)
        day = first + dt.timedelta(days=rng.randrange((latest - first).days + 1))
        return ts(day, rng.randint(8, 17), rng.randrange(60))

    for code, name, township, community in chosen:
        count = max(1, round(rng.gauss(grids_per_village * (1.3 if community else 0.95), 1.2)))
        short = name.removesuffix("（生成）")
        for n in range(1, count + 1):
            gid = f"WG-{code}-{n:02d}"
            # 3% of grids are set up during the period (a village split, a new estate).
            new = rng.random() < 0.03
            if new:
                setup = start + dt.timedelta(days=rng.randrange(max(1, (end - start).days)))
                created = ts(setup, rng.randint(8, 17), rng.randrange(60))
                first_day = setup
            else:
                created = joined(before)
                first_day = start
            grids.append({"legacy_id": gid, "village_code": code, "name": f"{short}第{n}网格", "created_at": created,
                          "_first": first_day, "_community": community, "_township": township})
            roles = ["grid_worker"] + ["safety_volunteer"] * pick(rng, list(PER_GRID_VOLUNTEERS.items()))
            if n == 1:
                roles.append("mediation_director")
            if township not in officers:
                officers[township] = gid
                roles.append("political_legal_officer")
            for role in roles:
                member_seq += 1
                mid = f"RY-{member_seq:06d}"
                members.append({"legacy_id": mid, "grid_legacy_id": gid, "name": person(), "role": role, "created_at": created,
                                "_grid": len(grids) - 1})
                if role == "grid_worker":
                    grids[-1]["_worker"] = mid

    def public(record):
        return {k: v for k, v in record.items() if not k.startswith("_")}

    with open(os.path.join(args.out, "grids.ndjson"), "w", encoding="utf-8") as f:
        for g in grids:
            f.write(json.dumps(public(g), ensure_ascii=False) + "\n")
    with open(os.path.join(args.out, "members.ndjson"), "w", encoding="utf-8") as f:
        for m in members:
            f.write(json.dumps(public(m), ensure_ascii=False) + "\n")

    # Cases: volume in proportion to the grids in scope, spread over days by season and weekday.
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    cases_total = round(CASES_PER_YEAR * len(grids) / GRIDS * len(days) / 365)
    day_weight = {}
    for category, _ in CATEGORIES:
        day_weight[category] = [SEASON[category][d.month - 1] * (0.65 if d.weekday() >= 5 or d in off else 1.15) for d in days]
    cumulative = {}
    for category, weights in day_weight.items():
        acc, total = [], 0.0
        for w in weights:
            total += w
            acc.append(total)
        cumulative[category] = (acc, total)
    found = {}                                         # (grid index, day) -> disputes found by screening
    cases = []
    township_departments = {}
    for seq in range(1, cases_total + 1):
        category = pick(rng, CATEGORIES)
        gi = rng.randrange(len(grids))
        grid = grids[gi]
        if category == "property_management" and not grid["_community"]:
            category = "neighbour"
        acc, total = cumulative[category]
        day = days[min(len(days) - 1, bisect.bisect_left(acc, rng.random() * total))]
        if day < grid["_first"]:
            day = grid["_first"]
        source = pick(rng, SOURCES)
        if source == "screening":
            found[(gi, day)] = found.get((gi, day), 0) + 1
        reported = dt.datetime(day.year, day.month, day.day, rng.randint(8, 20), rng.randrange(60), tzinfo=CHINA)
        cases.append((seq, category, gi, day, source, reported))

    end_moment = dt.datetime(end.year, end.month, end.day, 23, 59, tzinfo=CHINA)
    statuses = {}
    warned = []                                        # (case record, grid) of every case, for the warnings
    with open(os.path.join(args.out, "cases.ndjson"), "w", encoding="utf-8") as f:
        for seq, category, gi, day, source, reported in cases:
            grid = grids[gi]
            township = grid["_township"]
            violence = rng.random() < (0.06 if category in ("neighbour", "marriage_family") else 0.03)
            self_harm = rng.random() < (0.02 if category == "marriage_family" else 0.005)
            repeat = rng.random() < 0.15
            parties = 2 if rng.random() < 0.8 else rng.randint(3, 6)
            record = {
                "legacy_id": f"AJ-{day.year}-{seq:06d}",
                "generated": True,
                "village_code": grid["village_code"],
                "category": category,
                "source": source,
                "grid_legacy_id": grid["legacy_id"] if source in ("screening", "grid_report") else None,
                "reporter_legacy_id": grid.get("_worker") if source in ("screening", "grid_report") else None,
                "reported_at": reported.isoformat(),
                "description": f"（生成）{CATEGORY_ZH[category]}纠纷，{parties}方当事人",
                "parties": [{"name": person(), "phone": "", "minor": rng.random() < 0.03} for _ in range(parties)],
                "threat_of_violence": violence,
                "threat_of_self_harm": self_harm,
                "repeat_incident": repeat,
                "prior_police_calls": (rng.randint(1, 3) if violence or repeat else 0) if rng.random() < 0.5 else 0,
                "rungs": [],
                "summons": [],
                "agreement": None,
                "return_visits": [],
                "status": "open",
                "closed_at": None,
            }
            at = reported + dt.timedelta(hours=rng.randint(1, 30))
            status = "open"
            if rng.random() < WITHDRAWN:
                closed = at + dt.timedelta(days=rng.randint(1, 5))
                if closed <= end_moment:
                    status = "resolved"
                    record["closed_at"] = closed.isoformat()
                    record["resolution"] = "（生成）当事人撤回"
            else:
                for index, rung in enumerate(RUNGS):
                    if at > end_moment:
                        break
                    ended = at + dt.timedelta(days=rng.randint(1, 7 if index < 3 else 12), hours=rng.randint(0, 8))
                    chance = RUNG_SETTLES[index] * (LAND_FACTOR if category == "land" else 1.0)
                    settles = rng.random() < chance
                    kind = "peoples" if index < 3 else rng.choice(["peoples", "administrative", "peoples", "judicial"])
                    step = {"rung": rung, "mediation_kind": kind, "started_at": at.isoformat()}
                    if index >= 3:
                        # Deep mediation summons departments (中心吹哨、部门报到).
                        names = rng.sample(TOWNSHIP_DEPARTMENTS, rng.randint(1, 3))
                        if index == 4:
                            names += rng.sample(CITY_DEPARTMENTS, rng.randint(1, 2))
                        for dept in names:
                            centre = "430700000000" if dept.startswith("市") else township
                            key = (centre, dept)
                            if key not in township_departments:
                                township_departments[key] = f"BM-{centre}-{len(township_departments) + 1:04d}"
                            acknowledged = at + dt.timedelta(hours=rng.randint(2, 20) if rng.random() < 0.95 else rng.randint(30, 80))
                            feedback = acknowledged + dt.timedelta(days=rng.randint(2, 10))
                            record["summons"].append({
                                "legacy_id": f"ZH-{seq:06d}-{len(record['summons']) + 1}",
                                "department": {"legacy_id": township_departments[key], "name": dept, "centre_code": centre},
                                "rung": rung,
                                "summoned_at": at.isoformat(),
                                "reported_at": acknowledged.isoformat() if acknowledged <= end_moment else None,
                                "fed_back_at": feedback.isoformat() if feedback <= end_moment else None,
                                "feedback": "（生成）已到场配合调解" if feedback <= end_moment else None,
                            })
                    if ended > end_moment:
                        record["rungs"].append(step)             # still under way at the end
                        break
                    step["ended_at"] = ended.isoformat()
                    step["outcome"] = "settled" if settles else "failed"
                    record["rungs"].append(step)
                    if settles:
                        status = "settled"
                        record["agreement"] = {
                            "signed_on": ended.date().isoformat(),
                            "terms": "（生成）双方自愿达成调解协议",
                            "written": category in ("land", "economic_debt", "demolition_compensation") or rng.random() < 0.4,
                        }
                        visit = ended + dt.timedelta(days=rng.randint(7, 30))
                        if visit <= end_moment:
                            holds = rng.random() >= RETURN_VISIT_UNSETTLED
                            record["return_visits"].append({"visited_at": visit.isoformat(), "outcome": "confirmed" if holds else "unsettled",
                                                            "note": "（生成）回访，协议履行" + ("良好" if holds else "出现反复")})
                            if holds:
                                status = "closed"
                                record["closed_at"] = visit.isoformat()
                            else:
                                status = "open"   # reopened at the rung that settled it; left open
                        break
                    at = ended + dt.timedelta(hours=rng.randint(2, 48))
            record["status"] = status
            statuses[status] = statuses.get(status, 0) + 1
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            warned.append((record, reported, grid))

    warnings, warning_stats = write_warnings(args, warned, members, end_moment)
    surveys, survey_stats = write_surveys(args, chosen, warnings, start, end)

    # Daily screening (每日信息排查): every grid, every day, with realistic gaps.
    screenings = 0
    with open(os.path.join(args.out, "screening.ndjson"), "w", encoding="utf-8") as f:
        for gi, grid in enumerate(grids):
            diligence = rng.uniform(0.90, 0.995)
            worker, gid = grid["_worker"], grid["legacy_id"]
            mean = 18 if grid["_community"] else 12
            away = 0
            for day in days:
                if day < grid["_first"]:
                    continue
                disputes = found.get((gi, day), 0)
                if away > 0:
                    away -= 1
                    if not disputes:
                        continue
                elif rng.random() < 1 / 150:          # illness, training, flood duty: 2 to 6 days away
                    away = rng.randint(1, 5)
                    if not disputes:
                        continue
                chance = diligence * (0.5 if day in off else 0.92 if day.weekday() >= 5 else 1.0)
                if not disputes and rng.random() >= chance:
                    continue
                households = max(0, min(10000, int(rng.gauss(mean * (0.7 if day.weekday() >= 5 else 1.0), 4))))
                hour = rng.randint(17, 21) if rng.random() < 0.9 else 23
                recorded = f"{day.isoformat()}T{hour:02d}:{rng.randrange(60):02d}:00+08:00"
                f.write('{"legacy_id":"PC-%s-%s","grid_legacy_id":"%s","reporter_legacy_id":"%s","day":"%s",'
                        '"households_visited":%d,"disputes_found":%d,"recorded_at":"%s"}\n'
                        % (gid, day.strftime("%Y%m%d"), gid, worker, day.isoformat(), households, disputes, recorded))
                screenings += 1

    manifest = {
        "preset": args.preset, "seed": args.seed, "years": args.years, "scope": scope,
        "first_day": start.isoformat(), "last_day": end.isoformat(),
        "villages": len(chosen), "grids": len(grids), "members": len(members), "screenings": screenings,
        "cases": len(cases), "case_status": dict(sorted(statuses.items())), "departments": len(township_departments),
        "warnings": len(warnings), "warning_loop": warning_stats, "surveys": surveys, "survey_villages": survey_stats,
        "generated": "every village, person and text here is generated; see docs/importing.md",
    }
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=2)
        f.write("\n")
    json.dump(manifest, sys.stdout, ensure_ascii=False, indent=2)
    print()


if __name__ == "__main__":
    main()
