"""Storage on SQLite and PostgreSQL: schema, reference data, partnerships, rounds, invitations, answers."""

from __future__ import annotations

import datetime as dt
import threading
import warnings

import pytest
from sqlalchemy import func, select, text, update

from assessment.errors import ErrorCode, ValidationFailed
from assessment.storage import services as s
from assessment.storage.models import AuditEvent, Base, InvitationRow, OrganisationRow

ADMIN = "board.secretary@example.org"


@pytest.fixture
def kent_round(db, mini_v1):
    """Kent's crisis care partnership with an open round on the mini questionnaire."""
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        s.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent"],
                          groups=["coastal"], share_practice=True, actor=ADMIN)
        s.create_round(session, "kent", "2026-H1", questionnaire=mini_v1.id, version=mini_v1.version, actor=ADMIN)
        s.open_round(session, "kent-2026-h1", actor=ADMIN)
    return "kent-2026-h1"


def _token(link: str) -> str:
    return link.split("invite=", 1)[1]


# -- schema and reference data ------------------------------------------------------------------------------

def test_models_and_migrations_do_not_drift(db):
    from alembic import command

    from assessment.storage.db import alembic_config

    with db.engine.connect() as connection:
        command.check(alembic_config(connection))  # raises if autogenerate would emit anything


def test_upgrade_is_safe_to_run_again_and_records_the_head(db):
    from assessment.storage.db import current_revision, head_revision, upgrade

    upgrade(db.engine)
    assert current_revision(db.engine) == head_revision()
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OrganisationRow)) == 44


def test_the_forces_of_england_and_wales_are_loaded_with_nation_and_region(db):
    with db.sessions() as session:
        orgs = s.list_organisations(session)
    police = orgs[orgs["kind"] == "police"]
    assert len(police) == 44
    territorial = police[police["nation"] != "GB"]
    assert len(territorial) == 43
    assert set(territorial["nation"]) == {"England", "Wales"}
    assert (territorial[territorial["nation"] == "Wales"]["region"] == "Wales").all()
    assert territorial[territorial["nation"] == "Wales"].shape[0] == 4
    per_region = territorial[territorial["nation"] == "England"].groupby("region").size()
    assert per_region.to_dict() == {
        "East Midlands": 5, "East of England": 6, "London": 2, "North East": 3, "North West": 5,
        "South East": 5, "South West": 5, "West Midlands": 4, "Yorkshire and the Humber": 4}
    btp = police[police["name"] == "British Transport Police"].iloc[0]
    assert (btp["nation"], btp["region"]) == ("GB", "National")


# -- questionnaires and partnerships ------------------------------------------------------------------------

def test_publishing_the_same_file_twice_is_harmless_but_changed_content_is_refused(db, mini_v1):
    with db.sessions.begin() as session:
        first = s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        again = s.publish_questionnaire(session, mini_v1, actor=ADMIN)
    assert first.newly_published and not again.newly_published
    changed = mini_v1.model_copy(update={"title": "A quietly edited title"})
    with db.sessions.begin() as session, pytest.raises(s.Conflict, match="publish the change as a new version"):
        s.publish_questionnaire(session, changed, actor=ADMIN)
    with db.sessions() as session:
        assert s.published_questionnaire(session, mini_v1.id, mini_v1.version) == mini_v1


def test_partnerships_frame_has_the_columns_peers_read(db):
    with db.sessions.begin() as session:
        s.add_organisation(session, "kmpt", "Kent and Medway Mental Health NHS Trust", kind="mental_health_trust",
                           nation="England", region="South East", actor=ADMIN)
        s.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent", "kmpt"],
                          groups=["coastal", "rcrp-pilot"], share_practice=True, actor=ADMIN)
        s.add_partnership(session, "gwent", "Gwent crisis care partnership", members=["Gwent Police"],
                          named_to_peers=True, actor=ADMIN)
    with db.sessions() as session:
        frame = s.list_partnerships(session)
    assert list(frame.columns) == ["partnership", "name", "nation", "region", "groups", "share_practice",
                                   "named_to_peers", "icbs", "police_forces"]
    rows = frame.set_index("partnership")
    assert rows.loc["kent", "police_forces"] == "Kent Police" and rows.loc["kent", "icbs"] == ""
    assert rows.loc["kent", "groups"] == "coastal;rcrp-pilot"
    assert rows.loc["gwent", "groups"] == ""
    assert (rows.loc["gwent", "nation"], rows.loc["gwent", "region"]) == ("Wales", "Wales")
    assert bool(rows.loc["kent", "share_practice"]) and not bool(rows.loc["kent", "named_to_peers"])


def test_partnerships_frame_without_any_peer_group_has_empty_groups_and_no_warning(db):
    # No group at all used to fill an all-NaN float column with "" (a pandas warning, an error in a later pandas).
    with db.sessions.begin() as session:
        s.add_partnership(session, "gwent", "Gwent crisis care partnership", members=["Gwent Police"], actor=ADMIN)
    with db.sessions() as session, warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = s.list_partnerships(session)
    assert frame["groups"].tolist() == [""]


def test_a_partnership_of_unknown_organisations_is_refused(db):
    with db.sessions.begin() as session, pytest.raises(s.NotFound, match="Kent Fire"):
        s.add_partnership(session, "kent", "Kent", members=["Kent Fire"], nation="England", region="South East",
                          actor=ADMIN)


# -- rounds ------------------------------------------------------------------------------------------------

def test_a_round_goes_draft_open_closed_and_reopening_is_audited(db, kent_round):
    with db.sessions.begin() as session:
        assert s.round_info(session, kent_round).status == "open"
        with pytest.raises(s.StateError, match="only a draft round"):
            s.open_round(session, kent_round, actor=ADMIN)
    with db.sessions.begin() as session:
        s.close_round(session, kent_round, actor=ADMIN)
    with db.sessions.begin() as session, pytest.raises(s.InvalidInput, match="needs a reason"):
        s.reopen_round(session, kent_round, actor="national.admin@example.org", reason=" ")
    with db.sessions.begin() as session:
        s.reopen_round(session, kent_round, actor="national.admin@example.org", reason="late police returns")
    with db.sessions() as session:
        rounds = s.list_rounds(session)
        events = session.execute(select(AuditEvent.actor, AuditEvent.action, AuditEvent.detail)
                                 .where(AuditEvent.entity == "round").order_by(AuditEvent.id)).all()
    assert rounds.loc[0, "status"] == "open"
    assert [e.action for e in events] == ["create", "opened", "closed", "reopened"]
    assert events[-1].actor == "national.admin@example.org"
    assert events[-1].detail["reason"] == "late police returns"


def test_one_round_per_partnership_and_period(db, kent_round, mini_v1):
    with db.sessions.begin() as session, pytest.raises(s.Conflict, match="already"):
        s.create_round(session, "kent", "2026-H1", questionnaire=mini_v1.id, version=mini_v1.version,
                       key="kent-again", actor=ADMIN)


# -- invitations -------------------------------------------------------------------------------------------

def test_forged_expired_revoked_and_used_up_tokens_are_refused_the_same_way(db, kent_round):
    with db.sessions.begin() as session:
        links = s.create_invitations(session, kent_round, "police", 4, actor=ADMIN, base_url="https://x.example")
    used, expired, revoked, good = (_token(link) for link in links)
    with db.sessions.begin() as session:
        who = s.start_respondent(session, used)
        s.save_answer(session, kent_round, who.respondent, "governance.joint_board", "3")
        s.submit_respondent(session, kent_round, who.respondent)
        session.execute(update(InvitationRow).where(InvitationRow.token_hash == s_hash(expired))
                        .values(expires_at=dt.datetime(2020, 1, 1)))
        s.revoke_invitation(session, revoked, actor=ADMIN)
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    messages = set()
    for token in (used, expired, revoked, forged, "", "x" * 500):
        with db.sessions() as session, pytest.raises(s.InvalidInvitation) as refused:
            s.resolve_invitation(session, token)
        messages.add(str(refused.value))
    assert len(messages) == 1
    with db.sessions() as session:
        assert s.resolve_invitation(session, good).agency == "police"


def s_hash(token: str) -> str:
    from assessment.storage.invitations import hash_token

    return hash_token(token)


def test_tokens_are_not_stored_in_clear(db, kent_round):
    with db.sessions.begin() as session:
        links = s.create_invitations(session, kent_round, "icb", 3, actor=ADMIN, base_url="https://x.example")
    tokens = [_token(link) for link in links]
    dump = _dump_everything(db)
    assert not any(token in dump for token in tokens)
    assert all(s_hash(token) in dump for token in tokens)


def _dump_everything(db) -> str:
    with db.engine.connect() as connection:
        return "\n".join(repr(row) for table in Base.metadata.sorted_tables
                         for row in connection.execute(table.select()))


def test_a_single_use_link_resumes_and_a_multi_use_link_starts_afresh(db, kent_round):
    with db.sessions.begin() as session:
        single = _token(s.create_invitations(session, kent_round, "police", 1, actor=ADMIN, base_url="https://x")[0])
        workshop = _token(s.create_invitations(session, kent_round, "vcse", 1, max_uses=3, actor=ADMIN,
                                               base_url="https://x")[0])
    with db.sessions.begin() as session:
        first = s.start_respondent(session, single)
        s.save_answer(session, kent_round, first.respondent, "triage.clinician", "DK", "no rota seen")
    with db.sessions.begin() as session:
        again = s.start_respondent(session, single)
        assert (again.respondent, again.resumed) == (first.respondent, True)
        assert s.respondent_answers(session, kent_round, again.respondent)["value"].tolist() == ["DK"]
        a = s.start_respondent(session, workshop)
        b = s.start_respondent(session, workshop)
        assert a.respondent != b.respondent and not a.resumed and not b.resumed
        assert s.resolve_invitation(session, workshop).uses_left == 1  # a place is reserved at the start
        s.save_answer(session, kent_round, a.respondent, "governance.joint_board", "2")
        s.submit_respondent(session, kent_round, a.respondent)
        assert s.resolve_invitation(session, workshop).uses_left == 1  # and kept by the submission
    with db.sessions() as session:
        counts = s.response_counts(session, kent_round).set_index("agency")
    assert counts.loc["vcse", "invited"] == 3 and counts.loc["vcse", "started"] == 2
    assert counts.loc["vcse", "submitted"] == 1
    assert counts.loc["police", "submitted"] == 0 and counts.loc["police", "started"] == 1


# -- answers -----------------------------------------------------------------------------------------------

def test_saving_is_an_idempotent_upsert_refused_after_submission_and_after_close(db, kent_round):
    with db.sessions.begin() as session:
        links = s.create_invitations(session, kent_round, "ambulance", 2, actor=ADMIN, base_url="https://x")
        one = s.start_respondent(session, _token(links[0]))
        two = s.start_respondent(session, _token(links[1]))
    for _ in range(2):
        with db.sessions.begin() as session:
            s.save_answer(session, kent_round, one.respondent, "governance.joint_board", "4", "minutes seen")
            s.save_answer(session, kent_round, two.respondent, "governance.joint_board", "na")
    with db.sessions.begin() as session:
        answers = s.respondent_answers(session, kent_round, one.respondent)
        assert answers[["item", "value", "comment"]].values.tolist() == [["governance.joint_board", "4", "minutes seen"]]
        assert s.respondent_answers(session, kent_round, two.respondent)["value"].tolist() == ["NA"]
        with pytest.raises(ValidationFailed, match="value '7' is not on the scale") as refused:
            s.save_answer(session, kent_round, one.respondent, "governance.joint_board", "7")
        assert [(p.code, p.path) for p in refused.value.problems] == [
            (ErrorCode.VALUE_OFF_SCALE, "item governance.joint_board, value")]
        with pytest.raises(ValidationFailed, match="item 'governance.budget' is not in questionnaire") as refused:
            s.save_answer(session, kent_round, one.respondent, "governance.budget", "3")
        assert refused.value.problems[0].code is ErrorCode.UNKNOWN_ITEM
        s.submit_respondent(session, kent_round, one.respondent)
    with db.sessions.begin() as session, pytest.raises(s.StateError, match="already submitted"):
        s.save_answer(session, kent_round, one.respondent, "governance.joint_board", "5")
    with db.sessions.begin() as session:
        s.close_round(session, kent_round, actor=ADMIN)
    with db.sessions.begin() as session, pytest.raises(s.StateError, match="closed"):
        s.save_answer(session, kent_round, two.respondent, "governance.joint_board", "5")


def test_twenty_respondents_saving_at_once_lose_nothing(db, kent_round, mini_v1):
    with db.sessions.begin() as session:
        links = s.create_invitations(session, kent_round, "police", 20, actor=ADMIN, base_url="https://x")
        respondents = [s.start_respondent(session, _token(link)).respondent for link in links]
    items = [item.id for item in mini_v1.items]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(respondents))

    def answer(respondent: str, offset: int) -> None:
        try:
            barrier.wait()
            for i, item in enumerate(items):
                with db.sessions.begin() as session:
                    s.save_answer(session, kent_round, respondent, item, str((offset + i) % 5 + 1),
                                  f"evidence from respondent {offset}")
        except BaseException as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=answer, args=(r, n)) for n, r in enumerate(respondents)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.sessions() as session:
        stored = session.execute(text("SELECT count(*) FROM answers")).scalar_one()
        for n, respondent in enumerate(respondents):
            values = s.respondent_answers(session, kent_round, respondent).set_index("item")["value"]
            assert values.to_dict() == {item: str((n + i) % 5 + 1) for i, item in enumerate(items)}
    assert stored == 20 * len(items)


@pytest.mark.postgres
@pytest.mark.slow
def test_replicas_starting_together_upgrade_once(empty_postgres, tmp_path):
    import os
    import subprocess
    import sys

    from assessment.storage.db import current_revision, head_revision

    env = os.environ | {"ASSESSMENT_DATABASE_URL": empty_postgres.url.render_as_string(hide_password=False),
                        "ASSESSMENT_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-c", "from assessment.cli import main; main(['db', 'upgrade'])"]
    replicas = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(4)]
    outcomes = [replica.communicate(timeout=120) for replica in replicas]
    assert [replica.returncode for replica in replicas] == [0, 0, 0, 0], outcomes
    assert current_revision(empty_postgres) == head_revision()
    with empty_postgres.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM organisations")).scalar_one() == 44


def test_withdrawing_a_link_stops_a_respondent_part_way_through(db, kent_round):
    with db.sessions.begin() as session:
        token = _token(s.create_invitations(session, kent_round, "icb", 1, actor=ADMIN, base_url="https://x")[0])
        who = s.start_respondent(session, token)
        s.save_answer(session, kent_round, who.respondent, "governance.joint_board", "3")
        s.revoke_invitation(session, token, actor=ADMIN)
    with db.sessions.begin() as session, pytest.raises(s.InvalidInvitation):
        s.save_answer(session, kent_round, who.respondent, "governance.escalation", "2")
    with db.sessions.begin() as session, pytest.raises(s.InvalidInvitation):
        s.submit_respondent(session, kent_round, who.respondent)


def test_the_data_version_changes_with_every_kind_of_write(db, kent_round):
    with db.sessions() as session:
        versions = [s.data_version(session)]
    with db.sessions.begin() as session:
        token = _token(s.create_invitations(session, kent_round, "police", 1, actor=ADMIN, base_url="https://x")[0])
    with db.sessions.begin() as session:
        versions.append(s.data_version(session))
        who = s.start_respondent(session, token)
    with db.sessions.begin() as session:
        versions.append(s.data_version(session))
        s.save_answer(session, kent_round, who.respondent, "governance.joint_board", "3")
        s.submit_respondent(session, kent_round, who.respondent)
    with db.sessions.begin() as session:
        versions.append(s.data_version(session))
        s.close_round(session, kent_round, actor=ADMIN)
    with db.sessions() as session:
        versions.append(s.data_version(session))
    assert len(set(versions)) == len(versions)
