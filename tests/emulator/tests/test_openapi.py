"""The request body validator: Discord's OpenAPI description, and a small one made here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.emulator import DiscordEmulator, openapi
from tests.emulator.openapi import OpenApi, SpecMissing, discord_api

MESSAGES = "/channels/123/messages"
CALLBACK = "/interactions/456/a-token/callback"


def problems(method: str, path: str, body: Any, *, multipart: bool = False) -> list[str]:
    return [str(v) for v in discord_api().check(method, path, body, multipart=multipart)]


def test_a_valid_message_passes() -> None:
    body = {
        "content": "hello",
        "embeds": [{"title": "t", "fields": [{"name": "a", "value": "b", "inline": True}]}],
        "components": [
            {"type": 1, "components": [{"type": 2, "style": 1, "label": "x", "custom_id": "c"}]}
        ],
        "allowed_mentions": {"parse": []},
        "nonce": "1234",
        "enforce_nonce": True,
        "flags": None,  # nullable
    }
    assert problems("POST", MESSAGES, body) == []


def test_a_wrong_type_fails() -> None:
    assert problems("POST", MESSAGES, {"content": 5}) == [
        "POST /channels/{channel_id}/messages: $.content: 5 is not of type 'string', 'null'"
    ]


def test_a_missing_required_property_fails() -> None:
    body = {"attachments": [{"filename": "chart.png"}]}
    assert problems("POST", MESSAGES, body) == [
        "POST /channels/{channel_id}/messages: $.attachments[0]: 'id' is a required property"
    ]


def test_too_long_and_too_many_fail() -> None:
    found = problems("POST", MESSAGES, {"content": "x" * 4001, "embeds": [{}] * 11})
    assert len(found) == 2
    assert found[0].startswith("POST /channels/{channel_id}/messages: $.content: 'xxx")
    assert found[0].endswith("… is too long")
    assert found[1].endswith("$.embeds: [{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}] is too long")


def test_command_definitions_are_checked_too() -> None:
    good = {
        "name": "poll",
        "description": "Polls",
        "options": [{"type": 4, "name": "n", "description": "d"}],
    }
    assert problems("PUT", "/applications/1/commands", [good]) == []
    bad = {**good, "name": "p" * 33}
    [found] = problems("PUT", "/applications/1/guilds/2/commands", [good, bad])
    assert found.endswith(f"$[1].name: {'p' * 33!r} is too long")


def test_an_enum_value_outside_the_enum_fails() -> None:
    body = {"type": 4, "data": {"content": "hi", "allowed_mentions": {"parse": ["nobody"]}}}
    [found] = problems("POST", CALLBACK, body)
    assert "$.data.allowed_mentions.parse[0]: 'nobody'" in found


def test_the_union_member_meant_reports_its_own_error() -> None:
    """The callback body is an anyOf of seven types told apart by `type`: the error shown is
    the one of the member whose `type` matches, not "valid under none"."""
    [found] = problems("POST", CALLBACK, {"type": 4, "data": {"content": 7}})
    assert found.endswith("$.data.content: 7 is not of type 'string', 'null'")
    [modal] = problems("POST", CALLBACK, {"type": 9, "data": {"title": "t", "custom_id": "c"}})
    assert modal.endswith("$.data: 'components' is a required property")


def test_snowflakes_may_be_integers_as_discord_py_sends_them() -> None:
    """The accepted deviation: an attachment id as an integer; a non-number is refused."""
    assert problems("POST", MESSAGES, {"attachments": [{"id": 0, "filename": "a.png"}]}) == []
    assert problems("POST", MESSAGES, {"attachments": [{"id": "0"}]}) == []
    [found] = problems("POST", MESSAGES, {"attachments": [{"id": "zero"}]})
    assert "$.attachments[0].id: 'zero'" in found


def test_the_most_specific_template_wins() -> None:
    api = discord_api()
    assert api.find("GET", "/users/@me").template == "/users/@me"  # type: ignore[union-attr]
    assert api.find("GET", "/users/42").template == "/users/{user_id}"  # type: ignore[union-attr]
    original = api.find("PATCH", "/webhooks/1/tok/messages/@original")
    assert original is not None
    assert original.template == "/webhooks/{webhook_id}/{webhook_token}/messages/@original"


def test_bodies_and_operations_that_do_not_exist() -> None:
    assert problems("GET", "/nope/123", None) == [
        "GET /nope/123: not an operation of Discord's API"
    ]
    assert problems("POST", "/channels/1/typing", None) == []
    assert problems("POST", "/channels/1/typing", {"x": 1}) == [
        "POST /channels/{channel_id}/typing: sends a body, but the operation takes none"
    ]
    assert problems("POST", MESSAGES, None) == [
        "POST /channels/{channel_id}/messages: the request body is missing"
    ]


def test_multipart_payload_json_is_the_json_body() -> None:
    assert (
        problems("POST", MESSAGES, {"content": "chart", "attachments": [{"id": 0}]}, multipart=True)
        == []
    )
    [found] = problems("PATCH", "/channels/1/messages/2", {"content": 1}, multipart=True)
    assert found.endswith("$.content: 1 is not of type 'string', 'null'")


def test_a_small_description_refs_and_openapi_30_nullable() -> None:
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "paths": {
            "/things/{thing_id}": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                        },
                    }
                }
            }
        },
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "maxLength": 3},
                        "note": {"type": "string", "nullable": True},
                        "kind": {"type": "integer", "enum": [1, 2]},
                        "owner": {"$ref": "#/components/schemas/Snowflake"},
                    },
                },
                "Snowflake": {"type": "string", "pattern": "^[0-9]+$", "format": "snowflake"},
            }
        },
    }
    api = OpenApi(document)

    def check(body: Any) -> list[str]:
        return [v.message for v in api.check("POST", "/things/1", body)]

    assert check({"name": "abc", "note": None, "kind": 2, "owner": 12}) == []
    assert check({"name": "abcd"}) == ["$.name: 'abcd' is too long"]
    assert check({"note": 1}) == [
        "$: 'name' is a required property",
        "$.note: 1 is not of type 'string', 'null'",
    ]
    assert check({"name": "a", "kind": 3}) == ["$.kind: 3 is not one of [1, 2]"]


def test_a_missing_description_says_where_it_should_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(openapi.SPEC_ENV, raising=False)
    monkeypatch.setattr(openapi, "REPO_ROOT", tmp_path / "repo")
    with pytest.raises(SpecMissing) as missing:
        openapi.spec_path()
    assert str(tmp_path / "shared" / "discord-api" / "openapi.json") in str(missing.value)
    assert "../shared/discord-api/openapi.json" in str(missing.value)
    monkeypatch.setenv(openapi.SPEC_ENV, str(tmp_path / "nowhere.json"))
    with pytest.raises(SpecMissing, match="nowhere.json is not a file"):
        openapi.spec_path()
    (tmp_path / "shared" / "discord-api").mkdir(parents=True)
    (tmp_path / "shared" / "discord-api" / "openapi.json").write_text("{}")
    monkeypatch.delenv(openapi.SPEC_ENV)
    assert openapi.spec_path() == tmp_path / "shared" / "discord-api" / "openapi.json"


async def test_the_emulator_records_what_the_description_refuses() -> None:
    async with DiscordEmulator() as emu:
        guild = emu.add_guild("g")
        async with aiohttp.ClientSession() as session:
            url = f"{emu.api_base}/channels/{guild.general_id}/messages"
            async with session.post(url, json={"content": "fine"}) as response:
                assert response.status == 200
            async with session.post(url, json={"content": "fine", "tts": "yes"}) as response:
                assert response.status == 200  # recorded, not refused: the test fails later
    assert emu.problems() == [
        "refused by Discord's API description: POST /channels/{channel_id}/messages: "
        "$.tts: 'yes' is not of type 'boolean', 'null'"
    ]
