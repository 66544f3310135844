"""The synthetic demo generator: deterministic, realistic in shape, valid for scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assessment.demo import AGENCY_TURNOUT, DEMO_PERIODS, demo_partnership_name, generate_demo

FORCES = pd.DataFrame(
    [
        ("cleveland", "Cleveland Police", "England", "North East"),
        ("durham", "Durham Constabulary", "England", "North East"),
        ("northumbria", "Northumbria Police", "England", "North East"),
        ("cheshire", "Cheshire Constabulary", "England", "North West"),
        ("cumbria", "Cumbria Constabulary", "England", "North West"),
        ("greater-manchester", "Greater Manchester Police", "England", "North West"),
        ("lancashire", "Lancashire Constabulary", "England", "North West"),
        ("merseyside", "Merseyside Police", "England", "North West"),
        ("city-of-london", "City of London Police", "England", "London"),
        ("metropolitan", "Metropolitan Police Service", "England", "London"),
        ("dyfed-powys", "Dyfed-Powys Police", "Wales", "Wales"),
        ("gwent", "Gwent Police", "Wales", "Wales"),
        ("north-wales", "North Wales Police", "Wales", "Wales"),
        ("south-wales", "South Wales Police", "Wales", "Wales"),
        ("btp", "British Transport Police", "GB", "National"),
    ],
    columns=["key", "name", "nation", "region"],
)


@pytest.fixture
def demo(mini_v1, mini_v2):
    return generate_demo([mini_v1, mini_v2], FORCES, partnerships=12, open_rounds=2)


def test_same_seed_gives_the_same_data(mini_v1, mini_v2, demo):
    again = generate_demo([mini_v2, mini_v1], FORCES, partnerships=12, open_rounds=2)
    pd.testing.assert_frame_equal(demo.answers, again.answers)
    pd.testing.assert_frame_equal(demo.rounds, again.rounds)
    other = generate_demo([mini_v1, mini_v2], FORCES, partnerships=12, open_rounds=2, seed=7)
    assert not other.answers["value"].equals(demo.answers["value"])


def test_partnerships_are_named_after_territorial_force_areas(demo):
    assert len(demo.partnerships) == 12
    assert "btp" not in set(demo.partnerships["partnership"])  # not a territorial force area
    assert demo.partnerships["name"].str.endswith("crisis care partnership").all()
    # Two of the 14 territorial forces were left out, from the largest regions (North West 5, then North
    # West or Wales at 4), so the small regions keep every partnership.
    counts = demo.partnerships["region"].value_counts()
    assert (counts["North East"], counts["London"]) == (3, 2)
    assert counts["North West"] + counts["Wales"] == 7 and min(counts["North West"], counts["Wales"]) == 3


def test_partnership_names_read_like_places():
    assert demo_partnership_name("Cumbria Constabulary") == "Cumbria crisis care partnership"
    assert demo_partnership_name("Metropolitan Police Service") == "London (Metropolitan) crisis care partnership"
    assert demo_partnership_name("Dyfed-Powys Police") == "Dyfed-Powys crisis care partnership"


def test_each_partnership_has_two_or_three_rounds_on_both_versions(demo):
    per = demo.rounds.groupby("partnership").size()
    assert set(per) <= {2, 3}
    assert set(demo.rounds["period"]) <= set(DEMO_PERIODS)
    assert set(demo.rounds["version"]) == {"1.0.0", "1.1.0"}
    assert (demo.rounds.loc[demo.rounds["version"] == "1.1.0", "period"] == "2026-H1").all()
    assert demo.rounds["round"].is_unique
    assert (demo.rounds["status"] == "open").sum() == 2


def test_answers_use_only_the_items_and_values_of_their_round_version(mini_v1, mini_v2, demo):
    versions = {"1.0.0": {i.id for i in mini_v1.items}, "1.1.0": {i.id for i in mini_v2.items}}
    for version, items in versions.items():
        assert set(demo.answers.loc[demo.answers["version"] == version, "item"]) == items
    assert set(demo.answers["value"]) == {"1", "2", "3", "4", "5", "NA", "DK"}
    assert not demo.answers.duplicated(["round", "respondent", "item"]).any()
    rounds = demo.answers.merge(demo.rounds, on="round", suffixes=("", "_round"))
    assert (rounds["version"] == rounds["version_round"]).all()


def test_agency_mix_is_police_heavy_and_every_round_hears_police_and_the_trust(demo):
    respondents = demo.answers.drop_duplicates("respondent")
    shares = respondents["agency"].value_counts(normalize=True)
    assert shares.index[0] == "police"
    assert shares["lived_experience"] < shares["mental_health_trust"]
    assert set(respondents["agency"]) <= set(AGENCY_TURNOUT)
    per_round = respondents.groupby("round")["agency"].unique()
    assert all({"police", "mental_health_trust"} <= set(heard) for heard in per_round)
    assert respondents["respondent"].is_unique


def test_some_answers_are_dont_know_or_not_applicable_and_a_few_carry_evidence(demo):
    shares = demo.answers["value"].value_counts(normalize=True)
    assert 0.02 < shares["DK"] < 0.15
    assert 0 < shares.get("NA", 0) < 0.05
    comments = demo.answers[demo.answers["comment"] != ""]
    assert 0 < len(comments) < 0.05 * len(demo.answers)
    assert comments["value"].isin(["4", "5"]).all()  # evidence of good practice


def test_open_rounds_get_more_invitations_than_answers(demo):
    open_rounds = set(demo.rounds.loc[demo.rounds["status"] == "open", "round"])
    assert set(demo.invitations["round"]) == open_rounds
    answered = demo.answers[demo.answers["round"].isin(open_rounds)].drop_duplicates("respondent")
    counts = answered.groupby(["round", "agency"]).size().rename("answered").reset_index()
    both = counts.merge(demo.invitations, on=["round", "agency"])
    assert len(both) == len(counts) and (both["count"] > both["answered"]).all()


def test_bad_arguments_are_refused(mini_v1):
    with pytest.raises(ValueError, match="at least one questionnaire"):
        generate_demo([], FORCES)
    with pytest.raises(ValueError, match="open_rounds"):
        generate_demo([mini_v1], FORCES, partnerships=3, open_rounds=-1)


# -- loading the demo into a database (SQLite file in a temporary folder) ----------------------------------
def _settings(tmp_path, demo: str):
    from assessment.settings import load_settings
    from tests.conftest import TEST_QUESTIONNAIRES

    return load_settings({"ASSESSMENT_DATA_DIR": str(tmp_path), "ASSESSMENT_DEMO": demo,
                          "ASSESSMENT_QUESTIONNAIRES_DIR": str(TEST_QUESTIONNAIRES)})


def test_seed_demo_loads_rounds_scores_and_invitations_through_the_services(tmp_path, mini_v1, mini_v2):
    from assessment.demo import is_demo_loaded, prepare_database, seed_demo
    from assessment.storage import services
    from assessment.storage.db import make_engine, make_session_factory

    settings = _settings(tmp_path, "0")
    engine = make_engine(settings.database_url)
    start = prepare_database(engine, settings)
    assert start.seeded is None and set(start.published) == {mini_v1.key, mini_v2.key}
    factory = make_session_factory(engine)
    with factory.begin() as session:
        assert not is_demo_loaded(session)
        summary = seed_demo(session, [mini_v1, mini_v2], partnerships=6, open_rounds=2)
    with factory() as session:
        rounds = services.list_rounds(session)
        assert len(rounds) == summary.rounds and summary.partnerships == 6
        assert (rounds["status"] == "open").sum() == 2
        assert rounds["submitted"].sum() == summary.respondents
        scores = services.partnership_scores(session)
        assert set(scores["round"]) == set(rounds.loc[rounds["status"] == "closed", "round"])
        open_round = rounds.loc[rounds["status"] == "open", "round"].iloc[0]
        counts = services.response_counts(session, open_round)
        assert (counts["invited"] > counts["submitted"]).all()
        assert is_demo_loaded(session)
        places = services.list_partnerships(session)
        assert (places["police_forces"] != "").all()  # each partnership's force is a member
        english = places[places["nation"] == "England"]
        assert len(english) and (english["icbs"].str.endswith("Integrated Care Board")).all()


def test_demo_icbs_share_an_icb_between_two_or_three_partnerships_of_a_region():
    import numpy as np

    from assessment.demo import _demo_partnerships, demo_icbs
    from assessment.storage.reference import forces

    places = _demo_partnerships(forces(), 43, np.random.default_rng(7))
    icbs = demo_icbs(places).merge(places, on="partnership")
    assert set(icbs["partnership"]) == set(places.loc[places["nation"] == "England", "partnership"])
    sizes = icbs.groupby("icb").size()
    assert sizes.between(1, 3).all() and (sizes >= 2).sum() > len(sizes) / 2
    assert (icbs.groupby("icb")["region"].nunique() == 1).all()  # a footprint within one region
    assert icbs.groupby("icb")["icb_name"].nunique().eq(1).all() and icbs["icb_name"].is_unique is False


@pytest.mark.slow
def test_first_start_seeds_the_demo_once_and_an_empty_start_stays_empty(tmp_path):
    from assessment.demo import prepare_database
    from assessment.storage.catalogue import count_partnerships
    from assessment.storage.db import make_engine, make_session_factory

    settings = _settings(tmp_path / "empty", "0")
    engine = make_engine(settings.database_url)
    prepare_database(engine, settings)
    with make_session_factory(engine)() as session:
        assert count_partnerships(session) == 0

    settings = _settings(tmp_path / "demo", "1")
    engine = make_engine(settings.database_url)
    first = prepare_database(engine, settings)
    assert first.seeded is not None and first.seeded.partnerships == 40
    again = prepare_database(engine, settings)
    assert again.seeded is None and again.published == ()


def test_demo_command_refuses_to_overwrite_and_reset_rebuilds(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from assessment.cli import main
    from tests.conftest import TEST_QUESTIONNAIRES

    monkeypatch.setenv("ASSESSMENT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ASSESSMENT_QUESTIONNAIRES_DIR", str(TEST_QUESTIONNAIRES))
    runner = CliRunner()
    first = runner.invoke(main, ["demo", "--partnerships", "3"])
    assert first.exit_code == 0, first.output
    assert "3 partnerships" in first.output
    again = runner.invoke(main, ["demo", "--partnerships", "3"])
    assert again.exit_code == 1 and "use --reset" in again.output
    reset = runner.invoke(main, ["demo", "--reset", "--partnerships", "4"])
    assert reset.exit_code == 0, reset.output
    assert "4 partnerships" in reset.output


def test_the_scored_demo_has_weak_and_strong_areas_splits_and_a_few_suppressed_groups():
    from assessment.questionnaire import load_directory
    from assessment.scoring import score_responses
    from assessment.settings import default_questionnaires_dir
    from assessment.storage.reference import forces

    shipped = load_directory(default_questionnaires_dir())
    data = generate_demo(list(shipped.values()), forces())
    closed = data.answers[data.answers["round"].isin(data.rounds.loc[data.rounds["status"] == "closed", "round"])]
    scored = [score_responses(q, closed[closed["version"] == q.version].drop(columns=["comment"]))
              for q in shipped.values()]
    domains = pd.concat([s.partnerships for s in scored], ignore_index=True)
    agencies = pd.concat([s.agencies for s in scored], ignore_index=True)
    assert domains["level_label"].nunique() == 5  # every maturity level occurs somewhere
    spread = domains.groupby("round")["score"].agg(lambda s: s.max() - s.min())
    assert spread.median() > 1.0  # a typical round has clearly weak and clearly strong domains
    assert 0.01 < domains["split"].astype(bool).mean() < 0.3
    hidden = agencies["suppression_reason"] == "small_group"
    assert 0 < hidden.mean() < 0.1  # suppression happens, as the exception


def test_demo_respondents_answer_only_the_items_asked_of_their_agency():
    """With a routed version (2.0.0 uses answered_by), no demo answer is to an item not asked of its agency."""
    from pathlib import Path

    from assessment.questionnaire import load_questionnaire

    folder = Path(__file__).resolve().parents[2] / "questionnaires" / "police-mental-health"
    old, new = (load_questionnaire(folder / f"{v}.yaml") for v in ("1.1.0", "2.0.0"))
    data = generate_demo([old, new], FORCES, partnerships=10, open_rounds=2)

    routed = data.answers[data.answers["version"] == "2.0.0"]
    assert len(routed) > 0
    asked = [new.item(item).asked_of(agency) for item, agency in zip(routed["item"], routed["agency"], strict=True)]
    assert all(asked)
    # the mental health trust is not asked conveyance to the place of safety, the ambulance service is
    assert not ((routed["agency"] == "mental_health_trust") & (routed["item"] == "places_of_safety.conveyance")).any()
    assert ((routed["agency"] == "ambulance") & (routed["item"] == "places_of_safety.conveyance")).any()


def test_synthetic_indicator_values_are_labelled_plausible_and_include_police_nhs_mismatches():
    from assessment.demo import DEMO_PERIODS, SYNTHETIC_NOTE, generate_indicator_values
    from assessment.indicators import get_catalogue
    from assessment.indicators.tables import reconciliation_table

    keys = [f"p{i}" for i in range(20)]
    scores = pd.DataFrame({"partnership": keys, "domain": "places_of_safety", "score": np.linspace(1.5, 4.5, 20)})
    values = generate_indicator_values(keys, scores)
    assert values.equals(generate_indicator_values(keys, scores))  # seeded
    assert set(values["note"]) == {SYNTHETIC_NOTE}
    assert set(values["period"]) == set(DEMO_PERIODS) and set(values["partnership"]) == set(keys)
    catalogue = get_catalogue()
    entered = {i.id for i in catalogue.indicators if not i.computed}
    assert set(values["indicator"]) <= entered
    assert (values["value"] >= 0).all()
    wide = values.pivot_table(index=["partnership", "period"], columns="indicator", values="value", aggfunc="max")
    parts = ["s136-pos-police-station", "s136-pos-emergency-department", "s136-pos-health-based"]
    assert (wide[parts].sum(axis=1) <= wide["s136-detentions"]).all()
    flagged = reconciliation_table(catalogue, values, tolerance=0.10)["flagged"]
    assert 0.05 < flagged.astype(bool).mean() < 0.5  # some mismatches, not all


def test_the_demo_has_actions_agreed_from_its_last_two_closed_rounds_and_reviewed_by_the_later(tmp_path, mini_v1,
                                                                                                  mini_v2):
    from assessment.demo import DEMO_ACTOR, prepare_database, seed_demo
    from assessment.storage import services
    from assessment.storage.actions import stored_actions
    from assessment.storage.db import make_engine, make_session_factory

    settings = _settings(tmp_path, "0")
    engine = make_engine(settings.database_url)
    prepare_database(engine, settings)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        seed_demo(session, [mini_v1, mini_v2], partnerships=4, open_rounds=1)
    with factory() as session:
        stored = stored_actions(session)
        closed = services.list_rounds(session).query("status == 'closed'")
        two = stored["partnership"].value_counts()
        reviewed = services.list_actions(session, two[two == 2].index[0], resamples=200)
    assert set(stored["created_by"]) == {DEMO_ACTOR}
    expected = closed.groupby("partnership")["round"].apply(lambda r: sorted(r)[-2:]).to_dict()
    assert stored.groupby("partnership")["round"].apply(sorted).to_dict() == expected
    assert set(stored["status"]) <= {"planned", "done", "in progress"}
    earlier, later = reviewed.sort_values("period").to_dict(orient="records")
    assert earlier["review_round"] == later["round"] and earlier["verdict"] != ""
    assert pd.isna(later["review_round"]) and later["status"] == "planned"
