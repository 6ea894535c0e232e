"""Charts draw every script members type: the fonts come with the project's own install."""

from __future__ import annotations

import warnings

import pytest

from bot.charts import PNG_MAGIC
from bot.debates.charts import render_results_chart
from bot.debates.poll import PollSpec
from bot.debates.tally import Tally
from tests.chart_examples import EXAMPLES

SPEC = PollSpec(
    question="开放模型更安全吗？ هل النماذج المفتوحة أكثر أماناً؟ 🚀🤖",
    options=("是的，开放权重 👍", "لا، ليس بعد", "オープンモデルは信頼できる", "Not sure 🤔🔥"),
)


def test_chinese_arabic_and_emoji_draw_without_a_missing_glyph() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_results_chart(Tally(counts=(4, 3, 2, 1), voters=10), SPEC)
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == []
    assert png.startswith(PNG_MAGIC)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_chart_renders_cleanly(name: str, caplog: pytest.LogCaptureFixture) -> None:
    """What ``make charts`` puts in docs/charts/: each renders, with no warning at all."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = EXAMPLES[name]()
    assert png.startswith(PNG_MAGIC)
    assert [str(w.message) for w in caught] == []
    assert [r.getMessage() for r in caplog.records if r.levelname != "DEBUG"] == []
