"""Draw the pictures of the README and docs/ with Agora's own code, on small made-up data.

Run from the repository root:  .venv/bin/python docs/images/make_pictures.py
(``--charts-only``: the charts, without the announcement's screenshot).

- the charts come from the functions the bot renders in its chart worker
  (``bot/stances/charts.py``, ``bot/debates/charts.py``), fed by the same domain code the
  commands use (statistics, trend, tally, Oxford rule, opinion map);
- the announcement is the card ``bot/releases/card.py`` builds for a Hub model, laid out as an
  HTML mock-up of a Discord message (dark theme) and photographed with headless Chromium
  (``apt-get install chromium``). Discord draws the real embed; the words and figures are the
  card's.

Every name, model and vote below is invented.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.debates.charts import render_oxford_chart, render_results_chart  # noqa: E402
from bot.debates.oxford import oxford_result  # noqa: E402
from bot.debates.poll import PollSpec  # noqa: E402
from bot.debates.tally import Tally  # noqa: E402
from bot.releases.card import AnnouncementCard, build_card  # noqa: E402
from bot.releases.models import ModelFacts, ReleaseItem  # noqa: E402
from bot.stance_scale import Stance  # noqa: E402
from bot.stances.charts import render_community_chart  # noqa: E402
from bot.stances.map_chart import render_opinion_map  # noqa: E402
from bot.stances.opinion_map import build_opinion_map  # noqa: E402
from bot.stances.statistics import distribution, latest_positions, summarise  # noqa: E402
from bot.stances.trend import compute_trend  # noqa: E402

OUT = Path(__file__).resolve().parent
NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
rng = np.random.default_rng(7)


def community_chart() -> bytes:
    """/stance community period:90d for 48 members whose positions drift towards sharing."""
    members, values, times = [], [], []
    for member in range(48):
        start = int(rng.choice([-2, -1, 0, 1, 2], p=[0.15, 0.2, 0.25, 0.25, 0.15]))
        moments = sorted(rng.uniform(0, 110, size=rng.integers(1, 4)))
        value = start
        for days_ago in moments[::-1]:
            members.append(member)
            values.append(value)
            times.append((NOW - timedelta(days=float(days_ago))).timestamp())
            value = int(min(2, value + rng.choice([0, 1], p=[0.6, 0.4])))
    order = np.argsort(times, kind="stable")
    ids, vals, ts = (np.asarray(a)[order] for a in (members, values, times))
    _, current = latest_positions(ids, vals)
    summary = summarise(distribution(current), members_known=70)
    trend = compute_trend(ids, vals, ts, "90d", NOW)
    return render_community_chart(summary.buckets, trend.points)


def poll_chart() -> bytes:
    """/poll create question:Which licence for open weights? options:MIT | Apache-2.0 | OpenRAIL."""
    spec = PollSpec(
        question="Which licence should open weights use?",
        options=("MIT", "Apache-2.0", "OpenRAIL", "A custom licence"),
        anonymous=True,
    )
    counts = (9, 17, 6, 2)
    options = [option for option, n in enumerate(counts) for _ in range(n)]
    votes = list(enumerate(options))  # (member, option): one vote each
    return render_results_chart(Tally.from_votes(votes, len(counts)), spec)


def oxford_chart() -> bytes:
    """An Oxford debate: the safeguard side is smaller at the end but grew the most."""
    pre = {m: Stance.LEAN_SHARE for m in range(0, 20)}
    pre |= {m: Stance.UNDECIDED for m in range(20, 32)}
    pre |= {m: Stance.STRONGLY_SAFEGUARD for m in range(32, 40)}
    post = {m: Stance.STRONGLY_SHARE for m in range(0, 18)}
    post |= {m: Stance.UNDECIDED for m in range(18, 23)}
    post |= {m: Stance.LEAN_SAFEGUARD for m in range(23, 40)}
    return render_oxford_chart(oxford_result(pre, post), "Open weights build more trust than APIs")


def opinion_map_chart() -> bytes:
    """/stance map: 60 members in three camps voting on 12 statements (NaN: not voted)."""
    camps = np.repeat([0, 1, 2], [28, 20, 12])
    leanings = np.full((3, 12), -1.0)
    for camp, agreed in enumerate((range(2, 6), range(6, 9), range(9, 12))):
        leanings[camp, list(agreed)] = 1.0
    agree = np.clip(0.5 + 0.4 * leanings[camps], 0.05, 0.95)
    votes = np.where(rng.random((60, 12)) < agree, 1.0, -1.0)
    votes[:, :2] = np.where(rng.random((60, 2)) < 0.85, 1.0, -1.0)  # two consensus statements
    votes[rng.random((60, 12)) < 0.15] = np.nan
    return render_opinion_map(build_opinion_map(votes, statement_ids=list(range(1, 13))))


def small_community_chart() -> bytes:
    """/stance community with 11 members: two positions held by 1-2 members each."""
    counts = {
        Stance.STRONGLY_SHARE: 2,
        Stance.LEAN_SHARE: 5,
        Stance.UNDECIDED: 3,
        Stance.LEAN_SAFEGUARD: 0,
        Stance.STRONGLY_SAFEGUARD: 1,
    }
    summary = summarise(counts, members_known=30)
    return render_community_chart(summary.buckets, title="A small community: hidden buckets")


def announcement_card() -> AnnouncementCard:
    item = ReleaseItem(
        source_key="hf:example-lab",
        item_id="example-lab/Example-7B-Instruct",
        kind="model",
        title="example-lab/Example-7B-Instruct",
        url="https://huggingface.co/example-lab/Example-7B-Instruct",
        published=datetime(2025, 6, 30, 9, 41, tzinfo=UTC),
        author="example-lab",
        facts=ModelFacts(
            licenses=("apache-2.0",),
            gated=False,
            params=7_241_732_096,
            base_models=("example-lab/Example-7B",),
            base_relation="finetune",
            datasets=("example-lab/open-instructions",),
            pipeline_tag="text-generation",
        ),
    )
    return build_card(item)


def _markdown(text: str) -> str:
    """The little Markdown a card uses: bold, links, backslash escapes."""
    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)
    out = re.sub(r"\[(.+?)\]\((.+?)\)", r'<a href="\2">\1</a>', out)
    return re.sub(r"\\(.)", r"\1", out)


def announcement_html(card: AnnouncementCard) -> str:
    colour = f"#{card.color:06x}"
    rows: list[list[str]] = []
    for field in card.fields:
        kind = "field inline" if field.inline else "field"
        cell = (
            f'<div class="{kind}"><div class="fname">{_markdown(field.name)}</div>'
            f'<div class="fvalue">{_markdown(field.value)}</div></div>'
        )
        if field.inline and rows and len(rows[-1]) < 3 and 'class="field inline"' in rows[-1][0]:
            rows[-1].append(cell)
        else:
            rows.append([cell])
    fields = "".join(f'<div class="row">{"".join(row)}</div>' for row in rows)
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>
body {{ margin:0; background:#313338; font-family:"DejaVu Sans",sans-serif; color:#dbdee1; }}
.msg {{ display:flex; padding:16px 20px 18px 16px; width:640px; }}
.avatar {{ width:40px; height:40px; border-radius:50%; background:#5865f2; color:white;
  font-weight:bold; display:flex; align-items:center; justify-content:center; margin-right:16px; }}
.name {{ color:#f2f3f5; font-weight:600; }}
.tag {{ background:#5865f2; color:white; font-size:10px; padding:1px 4px; border-radius:3px;
  margin-left:4px; vertical-align:2px; }}
.time {{ color:#949ba4; font-size:12px; margin-left:6px; }}
.embed {{ margin-top:6px; background:#2b2d31; border-left:4px solid {colour}; border-radius:4px;
  padding:10px 16px 14px 12px; max-width:520px; font-size:14px; }}
.title a {{ color:#00a8fc; font-weight:600; text-decoration:none; }}
.desc {{ margin-top:6px; }}
.row {{ display:flex; gap:12px; margin-top:8px; }}
.field {{ flex:1; min-width:0; }} .inline {{ flex:0 0 31%; }}
.fname {{ font-weight:600; color:#f2f3f5; font-size:13px; }}
.fvalue {{ font-size:13px; }}
a {{ color:#00a8fc; text-decoration:none; }}
.footer {{ margin-top:10px; font-size:12px; color:#b5bac1; }}
.buttons {{ margin-top:8px; display:flex; gap:8px; }}
.button {{ font-size:14px; padding:6px 14px; border-radius:4px; color:white; }}
.secondary {{ background:#4e5058; }} .primary {{ background:#5865f2; }}
</style></head><body><div class="msg"><div class="avatar">A</div><div>
<span class="name">Agora</span><span class="tag">APP</span><span class="time">Today at 09:45</span>
<div class="embed">
<div class="title"><a href="{html.escape(card.url or "")}">{_markdown(card.title)}</a></div>
<div class="desc">{_markdown(card.description)}</div>{fields}
<div class="footer">{_markdown(card.footer)}</div></div>
<div class="buttons"><span class="button secondary">&#x1F4AC; Discuss</span>
<span class="button primary">&#x2696;&#xFE0F; Debate this release</span></div>
</div></div></body></html>"""


def screenshot(page: str, target: Path, size: str) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("needs Chromium for the announcement picture: apt-get install chromium")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "announcement.html"
        source.write_text(page, encoding="utf-8")
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--force-device-scale-factor=2",
                f"--window-size={size}",
                f"--screenshot={target}",
                source.as_uri(),
            ],
            check=True,
            capture_output=True,
        )


def main() -> None:
    pictures = {
        "stance-community.png": community_chart,
        "poll-results.png": poll_chart,
        "oxford-result.png": oxford_chart,
        "opinion-map.png": opinion_map_chart,
        "stance-small-buckets.png": small_community_chart,
    }
    for name, draw in pictures.items():
        (OUT / name).write_bytes(draw())
        print("wrote", OUT / name)
    if "--charts-only" in sys.argv:
        return
    screenshot(announcement_html(announcement_card()), OUT / "announcement.png", "680,385")
    print("wrote", OUT / "announcement.png")


if __name__ == "__main__":
    main()
