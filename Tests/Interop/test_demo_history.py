"""Issue 26: the generated year `run.sh` loads on first start (lib.sh's `demo_history`: the
generator's `demo` preset for 临澧县, imported through grid-, dispute-, risk- and index-service's
own import commands, then the index computed month by month), loaded into the test mesh by the
same function, the warnings' and surveys' indicators scored from it, and the dashboard's index
page for 临澧县 showing twelve months of it."""

from __future__ import annotations

import datetime
import json
import re
import subprocess

from conftest import REPO_ROOT, _bin_dir
from mesh import Mesh
from test_dashboard import browser  # noqa: F401 - `browser` is the module's fixture
from test_workbench_stories import add_user, sign_in

LINLI = "430724000000"  # 临澧县
CHINA = datetime.timezone(datetime.timedelta(hours=8))


def test_the_demo_year_run_sh_loads_shows_twelve_months_on_the_dashboard(browser, mesh: Mesh, tmp_path) -> None:  # noqa: F811
    script = f'source "{REPO_ROOT}/deploy/scripts/lib.sh"; demo_history "$1" "$2" "$3" "$4"'
    loaded = subprocess.run(
        ["bash", "-c", script, "demo", str(_bin_dir()), mesh.url("gateway"), mesh.tokens["city-admin"], str(tmp_path / "year")],
        env=mesh.command_env, capture_output=True, text=True, timeout=900,
    )
    assert loaded.returncode == 0, loaded.stdout[-2000:] + loaded.stderr[-2000:]
    manifest = json.loads((tmp_path / "year" / "manifest.json").read_text())
    assert manifest["preset"] == "demo" and manifest["scope"] == LINLI and manifest["cases"] > 1000

    # Every one of the twelve months is scored from the imported facts.
    today = datetime.datetime.now(CHINA).date()
    months = []
    year, month = today.year, today.month
    for _ in range(12):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    rankings = {}
    for month in months:
        scores = mesh.ok("/pingan.index.v1.IndexService/GetRanking", {"parentCode": LINLI, "month": month})["scores"]
        assert sum(1 for s in scores if s.get("enoughData")) >= 5, (month, len(scores))
        rankings[month] = scores

    # The imported warnings and survey results count in every past month: 预警按时签收率 from the
    # cases' warnings (acknowledged, loop taken), 群众满意度 from the villages' samples.
    assert manifest["warnings"] > 100 and manifest["surveys"] >= 11 * manifest["villages"], manifest
    on_time = []
    for month in months[1:]:
        measured = {name: [] for name in ("warnings_acknowledged_in_time", "survey_satisfaction")}
        for score in rankings[month]:
            for indicator in score.get("indicators", []):
                if indicator["indicator"] in measured and indicator.get("enoughData"):
                    measured[indicator["indicator"]].append(indicator.get("value", 0))
        # 临澧县's eleven townships: warnings in most of them each month, a survey in every one.
        assert len(measured["warnings_acknowledged_in_time"]) >= 6, (month, measured)
        assert len(measured["survey_satisfaction"]) >= 10, (month, measured)
        assert all(0.5 < value <= 1 for value in measured["survey_satisfaction"]), (month, measured)
        assert all(0 <= value <= 1 for value in measured["warnings_acknowledged_in_time"]), (month, measured)
        on_time += measured["warnings_acknowledged_in_time"]
    # A late acknowledgement arrives with its escalation and counts late: most, not all, in time.
    assert 0.75 < sum(on_time) / len(on_time) < 0.97, on_time

    # Villages: most are sampled enough (30 answers) for 群众满意度 to count, a few are not.
    last_month = months[1]
    townships = [s["code"] for s in rankings[last_month]]
    enough = {True: 0, False: 0}
    for township in townships:
        for score in mesh.ok("/pingan.index.v1.IndexService/GetRanking", {"parentCode": township, "month": last_month})["scores"]:
            survey = next((i for i in score.get("indicators", []) if i["indicator"] == "survey_satisfaction"), None)
            if survey is not None:
                enough[bool(survey.get("enoughData"))] += 1
    assert enough[True] > 3 * enough[False] > 0, enough

    # The county's leader sees the twelve months as the trend on the index page.
    add_user(mesh, "linli", LINLI, "staff,leader")
    context, page = sign_in(browser, mesh.url("gateway"), "linli")
    page.goto(f"{mesh.url('gateway')}/ui/index?centre={LINLI}")
    titles = page.locator("#trend svg circle title").evaluate_all("titles => titles.map(t => t.textContent)")
    by_unit: dict[str, set[str]] = {}
    for title in titles:
        found = re.match(r"(.+) (\d{4}-\d{2})：", title)
        assert found, title
        by_unit.setdefault(found.group(1), set()).add(found.group(2))
    assert by_unit and max(len(m) for m in by_unit.values()) == 12, {unit: len(m) for unit, m in by_unit.items()}
    context.close()
