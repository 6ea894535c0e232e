import json
from datetime import UTC, datetime

from bot.stance_scale import Stance
from bot.stances.export import build_export, export_bytes
from bot.stances.models import Observation, StatementVote, Visibility

T = datetime(2024, 4, 2, 8, 30, tzinfo=UTC)
MEMBER = 123456789012345678
GUILD = 876543210987654321


def test_export_is_json_serialisable_and_only_holds_the_member() -> None:
    data = build_export(
        MEMBER,
        GUILD,
        declared=[Observation(MEMBER, Stance(1), T), Observation(5, Stance(-2), T)],
        observations=[
            Observation(MEMBER, Stance(-1), datetime(2024, 4, 3, tzinfo=UTC), "debate:4"),
            Observation(MEMBER, Stance(1), T),
            Observation(5, Stance(2), T),
        ],
        statement_votes=[
            StatementVote(MEMBER, 2, 0),
            StatementVote(MEMBER, 1, -1, T),
            StatementVote(5, 1, 1),
        ],
        statements={1: "Open weights should be the default", 2: "Labs should share evals"},
        visibility="private",
        generated_at=T,
    )
    decoded = json.loads(export_bytes(data))
    assert decoded == data
    assert decoded["member_id"] == str(MEMBER) and decoded["guild_id"] == str(GUILD)
    assert decoded["generated_at"] == "2024-04-02T08:30:00Z"
    assert decoded["visibility"] == Visibility.PRIVATE.value
    assert decoded["declared_positions"] == [
        {
            "topic": None,
            "value": 1,
            "label": "Lean share",
            "source": "declared",
            "at": "2024-04-02T08:30:00Z",
        }
    ]
    assert [h["source"] for h in decoded["history"]] == ["declared", "debate:4"]
    assert decoded["statement_votes"] == [
        {
            "statement_id": 1,
            "statement": "Open weights should be the default",
            "vote": "disagree",
            "value": -1,
            "at": "2024-04-02T08:30:00Z",
        },
        {
            "statement_id": 2,
            "statement": "Labs should share evals",
            "vote": "pass",
            "value": 0,
            "at": None,
        },
    ]


def test_export_of_a_member_without_data() -> None:
    data = build_export(1, 2, [], [], [], {}, Visibility.PUBLIC)
    json.dumps(data)
    assert data["history"] == [] and data["visibility"] == "public"
    assert data["format"] == "agora-stances-export" and data["version"] == 1
