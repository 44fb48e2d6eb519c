"""What known CalDAV servers do differently, and how liftrun copes: a table, not branches.

As the ``caldav`` library keeps its ``compatibility_hints``, the quirks live here as data. No
code reads this table to decide anything: liftrun never asks which server it talks to, and each
quirk is met by handling that is right for every server (an RFC read strictly, a fact learnt
from the server's own answers). The table says which server made that handling necessary and
names the test that proves it, so a quirk cannot lose its handling unnoticed:
``tests/caldav/test_quirks.py`` checks that every test named here exists, and the docs render
the table with :func:`markdown`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["QUIRKS", "Quirk", "markdown"]


@dataclass(frozen=True)
class Quirk:
    """One server's departure from what a CalDAV client may expect."""

    server: str
    versions: str  # the versions it was seen in
    behaviour: str  # what the server does
    handling: str  # what liftrun does about it, for every server alike
    proof: str  # node id of the test that proves the handling (file::function[params])


CYRUS = "Cyrus IMAP (Fastmail)"
CYRUS_SEEN = "3.6.1 (Debian 12)"

QUIRKS: tuple[Quirk, ...] = (
    Quirk(
        server=CYRUS,
        versions=CYRUS_SEEN,
        behaviour=(
            "An unauthenticated PROPFIND on its root or /dav/ answers 207 with "
            "<unauthenticated/> as the current-user-principal instead of a 401 challenge."
        ),
        handling=(
            "A 207 whose current-user-principal is <unauthenticated/> (RFC 5397) is no "
            "principal but a login prompt: the request is sent again with Basic credentials "
            "(over https or loopback only; elsewhere the walk goes on to the well-known URI's "
            "challenge), and the scheme is remembered for the account."
        ),
        proof="tests/caldav/test_quirks.py::test_unauthenticated_207_is_not_a_principal",
    ),
    Quirk(
        server=CYRUS,
        versions=CYRUS_SEEN,
        behaviour=(
            "Rewrites what it stores: one CATEGORIES line per value, RRULE parts reordered; "
            "a GET it compresses carries a weak W/ ETag."
        ),
        handling=(
            "Events are compared by the content hash liftrun wrote into them and by ETag "
            "value whether weak or strong, never by their bytes: an idle cycle after the "
            "first push writes nothing."
        ),
        proof=(
            "tests/caldav/test_quirks.py::"
            "test_a_server_rewriting_what_it_stores_gets_no_write_when_idle"
        ),
    ),
    Quirk(
        server=CYRUS,
        versions=CYRUS_SEEN,
        behaviour=(
            "An event's UID is allowed once per account, across all its calendars: a PUT of "
            "a UID another resource holds is 403 CALDAV:unique-scheduling-object-resource "
            "(naming that resource), even without an ORGANIZER."
        ),
        handling=(
            "A UID conflict (RFC 4791's no-uid-conflict or RFC 6638's "
            "unique-scheduling-object-resource) is read for the href it names: inside the "
            "Training calendar a create is AlreadyExists (read back next cycle); elsewhere "
            "(push_to changed, the old calendar kept) each refusal says which calendar holds "
            "the session and that the server allows a UID once per account, not a rights "
            "problem."
        ),
        proof="tests/caldav/test_quirks.py::test_a_uid_is_allowed_once_per_account",
    ),
    Quirk(
        server=CYRUS,
        versions=CYRUS_SEEN,
        behaviour="MKCALENDAR with an XML body but no Content-Type is refused with 415.",
        handling="Every XML body liftrun sends carries Content-Type: application/xml.",
        proof="tests/caldav/test_quirks.py::test_mkcalendar_names_its_body_type",
    ),
    Quirk(
        server=CYRUS,
        versions=CYRUS_SEEN,
        behaviour=(
            "Another account's calendar answers 301 to a share path in the user's own home, "
            "which answers 403: what a config whose username changed meets at the calendar "
            "URL liftrun remembered."
        ),
        handling=(
            "A remembered calendar that answers 404 or 403 (after any permanent redirect) is "
            "looked up again by name before a rights problem is reported; a Training calendar "
            "found or made without liftrun's events is a reset (every session pushed again, "
            "none taken for deleted by hand), and the old account's calendar is not touched."
        ),
        proof=(
            "tests/caldav/test_caldav_reset.py::"
            "test_another_username_moves_to_that_accounts_calendar_and_leaves_the_old_one"
        ),
    ),
    Quirk(
        server="SOGo",
        versions="5.8 (Debian 12), simulated by a proxy in front of Radicale",
        behaviour=(
            "Ignores If-None-Match: * and If-Match: a create over an existing resource "
            "overwrites it, a delete with a stale ETag goes through."
        ),
        handling=(
            "A scratch resource in the Training calendar at first use tests whether "
            "preconditions are enforced (the answer remembered); where not, a resource's ETag "
            "is read again before it is overwritten or deleted."
        ),
        proof=(
            "tests/caldav/test_preconditions.py::"
            "test_an_edit_on_a_server_ignoring_preconditions_is_kept"
        ),
    ),
    Quirk(
        server="Xandikos",
        versions="0.4.10",
        behaviour=(
            "A sync-collection delta may leave out a resource created and deleted since the "
            "token (RFC 6578 allows it)."
        ),
        handling=(
            "A cycle that wrote drops its sync token, so the next read compares ETags in "
            "full instead of trusting a delta: a session the athlete deleted right after "
            "liftrun created it is seen as deleted (and kept deleted)."
        ),
        proof=(
            "tests/caldav/test_caldav_sync.py::"
            "test_a_session_deleted_right_after_it_was_created_is_seen"
        ),
    ),
    Quirk(
        server="Radicale",
        versions="3.9.0",
        behaviour=(
            "Refuses a sync token it no longer knows with 403 and DAV:valid-sync-token "
            "(Xandikos with 412, Cyrus with 403)."
        ),
        handling=(
            "A refused token (RFC 6578 3.2) means read in full, not access denied: one full "
            "REPORT, then a fresh token."
        ),
        proof=(
            "tests/caldav/test_caldav_faults.py::test_rejected_sync_token_falls_back_to_a_full_read"
        ),
    ),
)


def _text(cell: str) -> str:
    """A cell as Markdown shows it: an XML element like ``<unauthenticated/>`` is text, not a
    tag a renderer would swallow, and a pipe does not end the cell."""
    return cell.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def markdown(quirks: tuple[Quirk, ...] = QUIRKS) -> str:
    """The table as the docs show it."""
    rows = [
        "| Server | Seen in | What it does | What liftrun does | Proved by |",
        "| --- | --- | --- | --- | --- |",
    ]
    for q in quirks:
        cells = (_text(q.server), _text(q.versions), _text(q.behaviour), _text(q.handling))
        rows.append("| " + " | ".join((*cells, f"`{q.proof}`")) + " |")
    return "\n".join(rows) + "\n"
