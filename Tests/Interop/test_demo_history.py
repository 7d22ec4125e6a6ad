"""Issue 26: the generated year `run.sh` loads on first start (lib.sh's `demo_history`: the
generator's `demo` preset for 临澧县, imported through grid-service's and dispute-service's own
import commands, then the index computed month by month), loaded into the test mesh by the
same function, and the dashboard's index page for 临澧县 showing twelve months of it."""

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
    for month in months:
        scores = mesh.ok("/pingan.index.v1.IndexService/GetRanking", {"parentCode": LINLI, "month": month})["scores"]
        assert sum(1 for s in scores if s.get("enoughData")) >= 5, (month, len(scores))

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
