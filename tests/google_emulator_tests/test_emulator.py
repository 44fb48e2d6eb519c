"""The emulator exercised through the real googleapiclient, as the sync adapter will use it."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import httplib2  # type: ignore[import-untyped]
import pytest
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from tests.google_emulator import RunningEmulator, running_emulator
from tests.google_emulator.dispatch import Emulator
from tests.google_emulator.server import google_emulator_fixture

Json = dict[str, Any]
T0 = "2024-03-04T00:00:00Z"


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    with running_emulator() as running:
        yield running


@pytest.fixture
def svc(emu: RunningEmulator) -> Any:
    return build(
        "calendar",
        "v3",
        http=httplib2.Http(timeout=10),
        static_discovery=True,
        client_options={"api_endpoint": emu.api_endpoint},
    )


def test_service_helper_and_fixture_body() -> None:
    gen = google_emulator_fixture()
    running = next(gen)
    assert running.service().calendarList().list().execute()["items"][0]["primary"] is True
    gen.close()


def reason(exc: HttpError) -> str:
    return str(json.loads(exc.content)["error"]["errors"][0]["reason"])


def timed(start: str, end: str, **extra: Any) -> Json:
    return {"summary": "Run", "start": {"dateTime": start}, "end": {"dateTime": end}, **extra}


def insert(svc: Any, body: Json, cal: str = "primary") -> Json:
    result: Json = svc.events().insert(calendarId=cal, body=body).execute()
    return result


def fails(call: Any) -> HttpError:
    with pytest.raises(HttpError) as info:
        call.execute()
    return info.value


# -- calendars -------------------------------------------------------------------------------------
def test_client_paths_land_under_calendar_v3(emu: RunningEmulator, svc: Any) -> None:
    svc.calendars().get(calendarId="primary").execute()
    assert emu.log.entries[-1].path == "/calendar/v3/calendars/primary"
    assert emu.log.entries[-1].query == {"alt": ["json"]}


def test_primary_alias_and_calendar_lifecycle(svc: Any) -> None:
    primary = svc.calendars().get(calendarId="primary").execute()
    assert primary["id"] == "athlete@example.com"
    created = svc.calendars().insert(body={"summary": "Training"}).execute()
    assert created["id"].endswith("@group.calendar.google.com")
    assert created["timeZone"] == "Europe/Berlin"
    assert svc.calendars().get(calendarId=created["id"]).execute()["summary"] == "Training"
    svc.calendars().delete(calendarId=created["id"]).execute()
    assert fails(svc.calendars().get(calendarId=created["id"])).status_code == 404
    err = fails(svc.events().list(calendarId=created["id"]))
    assert (err.status_code, reason(err)) == (404, "notFound")
    assert fails(svc.calendars().delete(calendarId="primary")).status_code == 400


def test_calendar_insert_requires_summary_and_known_fields(svc: Any) -> None:
    assert reason(fails(svc.calendars().insert(body={"timeZone": "UTC"}))) == "required"
    assert fails(svc.calendars().insert(body={"summary": "x", "colour": "red"})).status_code == 400


def test_calendar_list_paginates(svc: Any) -> None:
    for name in ("A", "B", "C"):
        svc.calendars().insert(body={"summary": name}).execute()
    request = svc.calendarList().list(maxResults=2)
    pages = []
    while request is not None:
        page = request.execute()
        pages.append(page)
        request = svc.calendarList().list_next(request, page)
    assert [len(p["items"]) for p in pages] == [2, 2]
    items = [i for p in pages for i in p["items"]]
    assert [i["summary"] for i in items] == ["athlete@example.com", "A", "B", "C"]
    assert items[0]["primary"] is True and items[1]["accessRole"] == "owner"
    assert "nextSyncToken" in pages[-1]


# -- events: insert, ids, get ----------------------------------------------------------------------
def test_insert_with_client_id_and_server_fields(svc: Any) -> None:
    body = timed(
        "2024-03-05T07:00:00",
        "2024-03-05T08:00:00+01:00",
        id="lr0abc12345",
        extendedProperties={"private": {"liftrun": "w1d1"}},
        transparency="transparent",
    )
    body["start"]["timeZone"] = "Europe/Berlin"
    event = insert(svc, body)
    assert event["id"] == "lr0abc12345"
    assert event["iCalUID"] == "lr0abc12345@google.com"
    assert event["etag"].startswith('"') and event["etag"].endswith('"')
    assert event["status"] == "confirmed" and event["sequence"] == 0
    assert event["start"] == {"dateTime": "2024-03-05T07:00:00+01:00", "timeZone": "Europe/Berlin"}
    assert event["created"].endswith("Z") and event["updated"].endswith("Z")
    fetched = svc.events().get(calendarId="primary", eventId="lr0abc12345").execute()
    assert fetched == event


@pytest.mark.parametrize("bad_id", ["abcd", "ABCDE12345", "abcdw12345", "abc-de-123", "a" * 1025])
def test_invalid_client_ids_are_rejected(svc: Any, bad_id: str) -> None:
    err = fails(svc.events().insert(calendarId="primary", body=timed(T0, T0, id=bad_id)))
    assert err.status_code == 400
    assert "Invalid resource id value." in str(err)


def test_reusing_a_deleted_id_is_409_forever(svc: Any) -> None:
    insert(svc, timed(T0, "2024-03-04T01:00:00Z", id="reused01"))
    assert (
        reason(fails(svc.events().insert(calendarId="primary", body=timed(T0, T0, id="reused01"))))
        == "duplicate"
    )
    svc.events().delete(calendarId="primary", eventId="reused01").execute()
    err = fails(svc.events().insert(calendarId="primary", body=timed(T0, T0, id="reused01")))
    assert (err.status_code, reason(err)) == (409, "duplicate")


def test_delete_cancels_and_second_delete_is_410(svc: Any) -> None:
    event = insert(svc, timed(T0, "2024-03-04T01:00:00Z"))
    svc.events().delete(calendarId="primary", eventId=event["id"]).execute()
    gone = svc.events().get(calendarId="primary", eventId=event["id"]).execute()
    assert gone["status"] == "cancelled" and gone["etag"] != event["etag"]
    err = fails(svc.events().delete(calendarId="primary", eventId=event["id"]))
    assert (err.status_code, reason(err)) == (410, "deleted")
    assert fails(svc.events().get(calendarId="primary", eventId="nosuch1")).status_code == 404


# -- validation ------------------------------------------------------------------------------------
def test_body_validation_matches_google(svc: Any) -> None:
    def err_of(body: Json) -> HttpError:
        return fails(svc.events().insert(calendarId="primary", body=body))

    assert err_of(timed(T0, T0, summry="typo")).status_code == 400
    assert err_of(timed(T0, T0, extendedProperties={"private": {"k": 5}})).status_code == 400
    assert err_of(timed(T0, T0, transparency="see-through")).status_code == 400
    assert reason(err_of({"summary": "x", "start": {"dateTime": T0}})) == "required"
    assert reason(err_of(timed("2024-03-04T10:00:00Z", "2024-03-04T09:00:00Z"))) == "timeRangeEmpty"
    no_zone = err_of(timed("2024-03-04T10:00:00", "2024-03-04T11:00:00"))
    assert "Missing time zone definition" in str(no_zone)
    mixed = {"summary": "x", "start": {"date": "2024-03-04"}, "end": {"dateTime": T0}}
    assert err_of(mixed).status_code == 400
    recurring = timed(T0, "2024-03-04T01:00:00Z", recurrence=["RRULE:FREQ=DAILY;COUNT=2"])
    assert "Missing time zone definition" in str(err_of(recurring))


# -- patch, update, conditional requests -----------------------------------------------------------
def test_patch_merges_and_tracks_etag_and_sequence(svc: Any) -> None:
    event = insert(
        svc, timed(T0, "2024-03-04T01:00:00Z", extendedProperties={"private": {"a": "1"}})
    )
    patched = (
        svc.events()
        .patch(
            calendarId="primary",
            eventId=event["id"],
            body={"description": "easy", "extendedProperties": {"private": {"b": "2"}}},
        )
        .execute()
    )
    assert patched["extendedProperties"]["private"] == {"a": "1", "b": "2"}
    assert patched["etag"] != event["etag"] and patched["sequence"] == 0
    moved = (
        svc.events()
        .patch(
            calendarId="primary",
            eventId=event["id"],
            body={"start": {"dateTime": "2024-03-03T23:00:00Z"}},
        )
        .execute()
    )
    assert moved["sequence"] == 1 and moved["summary"] == "Run"
    low = svc.events().patch(calendarId="primary", eventId=event["id"], body={"sequence": 0})
    assert fails(low).status_code == 400


def test_update_replaces_whole_event(svc: Any) -> None:
    event = insert(svc, timed(T0, "2024-03-04T01:00:00Z", description="keep?"))
    body = timed(T0, "2024-03-04T02:00:00Z", summary="Long run")
    updated = svc.events().update(calendarId="primary", eventId=event["id"], body=body).execute()
    assert "description" not in updated and updated["summary"] == "Long run"
    assert updated["created"] == event["created"] and updated["iCalUID"] == event["iCalUID"]
    missing = svc.events().update(calendarId="primary", eventId=event["id"], body={"summary": "x"})
    assert reason(fails(missing)) == "required"


def test_if_match_mismatch_is_412(svc: Any) -> None:
    event = insert(svc, timed(T0, "2024-03-04T01:00:00Z"))
    stale = event["etag"]
    svc.events().patch(calendarId="primary", eventId=event["id"], body={"summary": "v2"}).execute()
    for request in (
        svc.events().patch(calendarId="primary", eventId=event["id"], body={"summary": "v3"}),
        svc.events().update(calendarId="primary", eventId=event["id"], body=timed(T0, T0)),
        svc.events().delete(calendarId="primary", eventId=event["id"]),
    ):
        request.headers["If-Match"] = stale
        err = fails(request)
        assert (err.status_code, reason(err)) == (412, "conditionNotMet")
    current = svc.events().get(calendarId="primary", eventId=event["id"]).execute()
    ok = svc.events().patch(calendarId="primary", eventId=event["id"], body={"summary": "v3"})
    ok.headers["If-Match"] = current["etag"]
    assert ok.execute()["summary"] == "v3"


def test_if_none_match_gives_304(svc: Any) -> None:
    event = insert(svc, timed(T0, "2024-03-04T01:00:00Z"))
    request = svc.events().get(calendarId="primary", eventId=event["id"])
    request.headers["If-None-Match"] = event["etag"]
    assert fails(request).status_code == 304


# -- list ------------------------------------------------------------------------------------------
def test_list_window_uses_overlap_semantics(svc: Any) -> None:
    insert(svc, timed("2024-03-04T08:00:00Z", "2024-03-04T09:00:00Z", summary="ends-at-min"))
    insert(svc, timed("2024-03-04T08:30:00Z", "2024-03-04T10:30:00Z", summary="spans"))
    insert(svc, timed("2024-03-04T11:00:00Z", "2024-03-04T12:00:00Z", summary="starts-at-max"))
    insert(
        svc, {"summary": "all-day", "start": {"date": "2024-03-04"}, "end": {"date": "2024-03-05"}}
    )
    page = (
        svc.events()
        .list(calendarId="primary", timeMin="2024-03-04T09:00:00Z", timeMax="2024-03-04T11:00:00Z")
        .execute()
    )
    assert sorted(i["summary"] for i in page["items"]) == ["all-day", "spans"]
    err = fails(svc.events().list(calendarId="primary", timeMin="2024-03-04T09:00:00"))
    assert err.status_code == 400


def test_single_events_expands_recurrence_and_orders(svc: Any) -> None:
    weekly = {
        "summary": "Intervals",
        "start": {"dateTime": "2024-03-05T07:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2024-03-05T08:00:00", "timeZone": "Europe/Berlin"},
        "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4"],
    }
    master = insert(svc, weekly)
    insert(svc, timed("2024-03-06T06:00:00Z", "2024-03-06T07:00:00Z", summary="Single"))
    unexpanded = svc.events().list(calendarId="primary").execute()["items"]
    assert [i["summary"] for i in unexpanded].count("Intervals") == 1
    items = (
        svc.events()
        .list(calendarId="primary", singleEvents=True, orderBy="startTime", timeMin=T0)
        .execute()["items"]
    )
    starts = [i["start"]["dateTime"] for i in items]
    assert starts == [
        "2024-03-05T07:00:00+01:00",
        "2024-03-06T07:00:00+01:00",  # shown in the calendar zone, as Google does
        "2024-03-07T07:00:00+01:00",
        "2024-03-12T07:00:00+01:00",
        "2024-03-14T07:00:00+01:00",
    ]
    assert items[0]["id"] == f"{master['id']}_20240305T060000Z"
    assert items[0]["recurringEventId"] == master["id"] and "recurrence" not in items[0]
    err = fails(svc.events().list(calendarId="primary", orderBy="startTime"))
    assert err.status_code == 400


def test_list_paginates_with_default_and_custom_page_size(emu: RunningEmulator, svc: Any) -> None:
    batch_insert(emu, svc, 260)
    first = svc.events().list(calendarId="primary").execute()
    assert len(first["items"]) == 250 and "nextSyncToken" not in first
    request = svc.events().list(calendarId="primary", maxResults=100)
    seen: list[str] = []
    last: Json = {}
    while request is not None:
        last = request.execute()
        seen.extend(i["id"] for i in last["items"])
        request = svc.events().list_next(request, last)
    assert len(seen) == len(set(seen)) == 260
    assert "nextSyncToken" in last


def test_show_deleted_and_extended_property_filters(svc: Any) -> None:
    a = insert(
        svc,
        timed(
            T0,
            "2024-03-04T01:00:00Z",
            extendedProperties={"private": {"app": "liftrun", "wk": "1"}},
        ),
    )
    insert(
        svc,
        timed(
            T0,
            "2024-03-04T01:00:00Z",
            extendedProperties={"private": {"app": "liftrun", "wk": "2"}},
        ),
    )
    insert(svc, timed(T0, "2024-03-04T01:00:00Z"))
    ours = svc.events().list(calendarId="primary", privateExtendedProperty="app=liftrun").execute()
    assert len(ours["items"]) == 2
    both = (
        svc.events()
        .list(calendarId="primary", privateExtendedProperty=["app=liftrun", "wk=1"])
        .execute()
    )
    assert [i["id"] for i in both["items"]] == [a["id"]]
    svc.events().delete(calendarId="primary", eventId=a["id"]).execute()
    assert len(svc.events().list(calendarId="primary").execute()["items"]) == 2
    shown = svc.events().list(calendarId="primary", showDeleted=True).execute()["items"]
    assert {i["status"] for i in shown} == {"confirmed", "cancelled"}


# -- incremental sync ------------------------------------------------------------------------------
def test_sync_token_reports_changes_and_deletions(svc: Any) -> None:
    keep = insert(svc, timed(T0, "2024-03-04T01:00:00Z"))
    doomed = insert(svc, timed(T0, "2024-03-04T01:00:00Z"))
    token = svc.events().list(calendarId="primary").execute()["nextSyncToken"]
    svc.events().patch(
        calendarId="primary", eventId=keep["id"], body={"summary": "moved"}
    ).execute()
    svc.events().delete(calendarId="primary", eventId=doomed["id"]).execute()
    added = insert(svc, timed(T0, "2024-03-04T01:00:00Z"))
    delta = svc.events().list(calendarId="primary", syncToken=token).execute()
    by_id = {i["id"]: i for i in delta["items"]}
    assert set(by_id) == {keep["id"], doomed["id"], added["id"]}
    assert by_id[keep["id"]]["summary"] == "moved"
    assert set(by_id[doomed["id"]]) <= {"kind", "etag", "id", "status"}
    assert by_id[doomed["id"]]["status"] == "cancelled"
    quiet = svc.events().list(calendarId="primary", syncToken=delta["nextSyncToken"]).execute()
    assert quiet["items"] == [] and quiet["nextSyncToken"]


def test_sync_token_paginates(svc: Any, emu: RunningEmulator) -> None:
    token = svc.events().list(calendarId="primary").execute()["nextSyncToken"]
    batch_insert(emu, svc, 5)
    request = svc.events().list(calendarId="primary", syncToken=token, maxResults=2)
    ids: list[str] = []
    page: Json = {}
    while request is not None:
        page = request.execute()
        ids.extend(i["id"] for i in page["items"])
        request = svc.events().list_next(request, page)
    assert len(ids) == 5 and "nextSyncToken" in page


def test_sync_token_rejects_restrictions_and_expires(emu: RunningEmulator, svc: Any) -> None:
    token = svc.events().list(calendarId="primary").execute()["nextSyncToken"]
    err = fails(svc.events().list(calendarId="primary", syncToken=token, timeMin=T0))
    assert err.status_code == 400
    err = fails(
        svc.events().list(calendarId="primary", syncToken=token, privateExtendedProperty="a=b")
    )
    assert err.status_code == 400
    emu.store.invalidate_sync_tokens("primary")
    err = fails(svc.events().list(calendarId="primary", syncToken=token))
    assert (err.status_code, reason(err)) == (410, "fullSyncRequired")


# -- free/busy -------------------------------------------------------------------------------------
def test_freebusy_merges_busy_and_skips_free_time(svc: Any) -> None:
    insert(svc, timed("2024-03-04T08:00:00Z", "2024-03-04T09:00:00Z"))
    insert(svc, timed("2024-03-04T08:30:00Z", "2024-03-04T09:30:00Z"))
    insert(svc, timed("2024-03-04T12:00:00Z", "2024-03-04T13:00:00Z", transparency="transparent"))
    gone = insert(svc, timed("2024-03-04T14:00:00Z", "2024-03-04T15:00:00Z"))
    svc.events().delete(calendarId="primary", eventId=gone["id"]).execute()
    answer = (
        svc.freebusy()
        .query(
            body={
                "timeMin": "2024-03-04T00:00:00Z",
                "timeMax": "2024-03-05T00:00:00Z",
                "items": [{"id": "primary"}, {"id": "nobody@example.com"}],
            }
        )
        .execute()
    )
    assert answer["calendars"]["primary"]["busy"] == [
        {"start": "2024-03-04T08:00:00Z", "end": "2024-03-04T09:30:00Z"}
    ]
    assert answer["calendars"]["nobody@example.com"]["errors"] == [
        {"domain": "global", "reason": "notFound"}
    ]


def test_freebusy_limits(svc: Any) -> None:
    def query(body: Json) -> HttpError:
        return fails(svc.freebusy().query(body=body))

    many = {
        "timeMin": T0,
        "timeMax": "2024-03-05T00:00:00Z",
        "items": [{"id": f"c{i}"} for i in range(51)],
    }
    assert reason(query(many)) == "tooManyCalendarsRequested"
    long = {"timeMin": T0, "timeMax": "2024-07-01T00:00:00Z", "items": [{"id": "primary"}]}
    assert reason(query(long)) == "timeRangeTooLong"
    empty = {"timeMin": T0, "timeMax": T0, "items": [{"id": "primary"}]}
    assert reason(query(empty)) == "timeRangeEmpty"


# -- batch -----------------------------------------------------------------------------------------
def batch_insert(emu: RunningEmulator, svc: Any, count: int) -> list[Any]:
    outcomes: list[Any] = []
    for start in range(0, count, 50):
        batch = BatchHttpRequest(batch_uri=emu.batch_uri)
        for n in range(start, min(count, start + 50)):
            body = timed(T0, "2024-03-04T01:00:00Z", summary=f"Séance {n}")
            batch.add(
                svc.events().insert(calendarId="primary", body=body),
                callback=lambda _id, resp, exc: outcomes.append(exc or resp),
            )
        batch.execute()
    return outcomes


def test_batch_of_fifty_inserts(emu: RunningEmulator, svc: Any) -> None:
    outcomes = batch_insert(emu, svc, 50)
    assert len(outcomes) == 50 and all(isinstance(o, dict) for o in outcomes)
    assert {o["summary"] for o in outcomes} == {f"Séance {n}" for n in range(50)}
    assert emu.log.count("POST", "/events", in_batch=True) == 50
    assert emu.log.count(in_batch=False) == 0


def test_batch_over_fifty_is_rejected(emu: RunningEmulator, svc: Any) -> None:
    batch = BatchHttpRequest(batch_uri=emu.batch_uri)
    for _ in range(51):
        batch.add(svc.events().insert(calendarId="primary", body=timed(T0, T0)))
    with pytest.raises(HttpError) as info:
        batch.execute()
    assert info.value.status_code == 400
    assert emu.store.live_events("primary") == []


def test_batch_parts_fail_individually(emu: RunningEmulator, svc: Any) -> None:
    event = insert(svc, timed(T0, "2024-03-04T01:00:00Z", id="batch0001"))
    emu.faults.server_error(503, method="GET", target="batch_part")
    results: dict[str, Any] = {}
    batch = BatchHttpRequest(batch_uri=emu.batch_uri)
    batch.add(svc.events().get(calendarId="primary", eventId=event["id"]), request_id="get")
    batch.add(svc.events().delete(calendarId="primary", eventId=event["id"]), request_id="del")
    batch.add(
        svc.events().insert(calendarId="primary", body=timed(T0, T0, id="batch0001")),
        request_id="dup",
    )
    batch.execute()
    batch2 = BatchHttpRequest(
        batch_uri=emu.batch_uri, callback=lambda i, r, e: results.__setitem__(i, e or r)
    )
    batch2.add(svc.events().get(calendarId="primary", eventId=event["id"]), request_id="get2")
    batch2.execute()
    assert results["get2"]["status"] == "cancelled"
    outcomes: dict[str, Any] = {}
    batch3 = BatchHttpRequest(
        batch_uri=emu.batch_uri, callback=lambda i, r, e: outcomes.__setitem__(i, e or r)
    )
    emu.faults.server_error(503, method="GET", target="batch_part")
    batch3.add(svc.events().get(calendarId="primary", eventId=event["id"]), request_id="get")
    batch3.add(
        svc.events().insert(calendarId="primary", body=timed(T0, T0, id="batch0001")),
        request_id="dup",
    )
    batch3.add(svc.events().delete(calendarId="primary", eventId=event["id"]), request_id="del")
    batch3.execute()
    assert outcomes["get"].status_code == 503
    assert (outcomes["dup"].status_code, reason(outcomes["dup"])) == (409, "duplicate")
    assert (outcomes["del"].status_code, reason(outcomes["del"])) == (410, "deleted")


# -- faults and auth -------------------------------------------------------------------------------
def test_429_with_retry_after_then_recovers(emu: RunningEmulator, svc: Any) -> None:
    emu.faults.too_many_requests(times=1, retry_after=1, path=r"/events$")
    err = fails(svc.events().list(calendarId="primary"))
    assert err.status_code == 429 and err.resp["retry-after"] == "1"
    body = json.loads(err.content)["error"]
    assert body["errors"][0] == {
        "domain": "usageLimits",
        "reason": "rateLimitExceeded",
        "message": "Rate Limit Exceeded",
    }
    assert svc.events().list(calendarId="primary").execute()["items"] == []


def test_403_rate_limit_is_retried_by_the_client(emu: RunningEmulator, svc: Any) -> None:
    emu.faults.rate_limited_403("userRateLimitExceeded", times=2)
    request = svc.calendars().get(calendarId="primary")
    request._sleep = lambda _seconds: None
    assert request.execute(num_retries=3)["id"] == "athlete@example.com"
    assert emu.log.count("GET") == 3
    emu.faults.server_error(500)
    assert fails(svc.calendars().get(calendarId="primary")).status_code == 500


def test_dropped_connection_is_a_transport_error(emu: RunningEmulator, svc: Any) -> None:
    emu.faults.drop_connection(times=2)
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        svc.calendars().get(calendarId="primary").execute()
    assert [e.status for e in emu.log.entries] == [0, 0]
    assert svc.calendars().get(calendarId="primary").execute()["id"] == "athlete@example.com"


def test_required_token_gives_invalid_credentials() -> None:
    with running_emulator(Emulator(required_token="good")) as emu:
        svc = build(
            "calendar",
            "v3",
            http=httplib2.Http(),
            static_discovery=True,
            client_options={"api_endpoint": emu.api_endpoint},
        )
        request = svc.calendars().get(calendarId="primary")
        request.headers["authorization"] = "Bearer revoked"
        err = fails(request)
        assert (err.status_code, reason(err)) == (401, "authError")
        assert "Invalid Credentials" in str(err)
        request = svc.calendars().get(calendarId="primary")
        request.headers["authorization"] = "Bearer good"
        assert request.execute()["id"] == "athlete@example.com"
