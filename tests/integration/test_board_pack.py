"""The board pack: the results model, its HTML and PDF, the command, and the printable questionnaire.

One synthetic demo database (SQLite) for the module. The pack must show the model's numbers (the PDF is read
back with pypdf), refer to nothing outside itself, escape user text, and show no figure the disclosure rule
hides.
"""

from __future__ import annotations

import os
import re

import pandas as pd
import pytest
from click.testing import CliRunner

from assessment import service
from assessment.cli import main
from assessment.permissions import Principal
from assessment.reports import board_pack
from assessment.scoring import blank_suppressed
from assessment.settings import load_settings

ADMIN = Principal.administrator("test")
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
ACTION_TEXT = "Agree a <b>joint</b> conveyance protocol"
HOSTILE_NAME = '<script>alert("x")</script> & <img src=http://evil.example/x.png>'


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo database of 8 partnerships; one partnership renamed with markup in its name."""
    from assessment.demo import prepare_database, seed_demo, shipped_questionnaires
    from assessment.storage import services
    from assessment.storage.db import make_engine, make_session_factory

    folder = tmp_path_factory.mktemp("pack-data")
    env = {"ASSESSMENT_DATA_DIR": str(folder), "ASSESSMENT_DEMO": "0", "ASSESSMENT_BOOTSTRAP_RESAMPLES": "200"}
    settings = load_settings(env)
    engine = make_engine(settings.database_url)
    prepare_database(engine, settings)
    found, _ = shipped_questionnaires(settings)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        seed_demo(session, found, partnerships=8, open_rounds=0)
    with factory.begin() as session:
        rounds = services.list_rounds(session)
        closed = rounds[rounds["status"] == "closed"].sort_values("period")
        latest = closed.iloc[-1]
        services.update_partnership(session, latest["partnership"], actor="test", name=HOSTILE_NAME)
        domain = services.partnership_scores(session, [latest["round"]])["domain"].iloc[0]
        services.add_action(session, latest["partnership"], domain=domain, what=ACTION_TEXT,
                            owner="Police & ambulance leads", target_level=4, due="2027-03-31", actor="test",
                            round=latest["round"])
    yield factory, settings, env, closed
    engine.dispose()


def _model(demo, round_key):
    factory, settings, _, _ = demo
    with factory() as session:
        return service.results_model(session, ADMIN, round_key, "all", settings=settings)


def _pack(demo, round_key, fmt="html") -> bytes:
    factory, settings, _, _ = demo
    with factory() as session:
        return service.board_pack(session, ADMIN, round_key, "all", settings=settings, fmt=fmt)


def _sections(document: str) -> dict[str, str]:
    """Each domain section's HTML by its aria-label (the domain title)."""
    return dict(re.findall(r'<section class="domain" aria-label="([^"]*)">(.*?)</section>', document, re.S))


def _latest(demo) -> str:
    """The round of the partnership whose name holds markup."""
    return demo[3]["round"].iloc[-1]


def _plain_named(demo) -> str:
    """A round of another partnership (its name is plain text, with no address in it)."""
    closed = demo[3]
    return closed.loc[closed["partnership"] != closed["partnership"].iloc[-1], "round"].iloc[-1]


def test_the_model_rounds_for_reading_and_matches_the_stored_scores(demo):
    round_key = _latest(demo)
    model = _model(demo, round_key)
    factory = demo[0]
    with factory() as session:
        stored = blank_suppressed(service.round_scores(session, ADMIN, round_key)["domains"]).set_index("domain")
    domains = model.domains.set_index("domain")
    expected = stored["score"].astype(float).round(2).reindex(domains.index)
    pd.testing.assert_series_equal(domains["score"], expected, check_names=False)
    assert (domains["score"].dropna() * 100).sub((domains["score"].dropna() * 100).round()).abs().max() < 1e-9
    assert model.headline.n_respondents == int(demo[3].set_index("round").loc[round_key, "respondents"])
    assert model.context.partnership_name == HOSTILE_NAME
    assert set(model.domains["dk_rate"].dropna().map(type)) <= {int}  # whole percentages


def test_the_html_pack_shows_the_headline_and_every_domain_score(demo):
    round_key = _latest(demo)
    model = _model(demo, round_key)
    document = _pack(demo, round_key).decode("utf-8")
    summary = document.split('<section class="charts"', 1)[0]
    assert f"{model.headline.score:.2f}" in summary and model.headline.level_label in summary
    sections = _sections(document)
    assert len(sections) == len(model.domains)
    for row in model.domains.itertuples():
        section = sections[row.domain_title.replace("&", "&amp;")]
        shown = f"{row.score:.2f} — level {row.level}" if pd.notna(row.score) else "not shown"
        assert shown in section, row.domain_title


def test_the_html_pack_is_self_contained(demo):
    document = _pack(demo, _plain_named(demo)).decode("utf-8")
    addresses = set(re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'<>)]*", document))
    assert addresses <= NAMESPACES, addresses - NAMESPACES
    for forbidden in ("<script", "<link", "<img", "<iframe", "@import", "url(", "src="):
        assert forbidden not in document.lower(), forbidden
    assert document.count("<svg") >= 2  # the charts are inline SVG


def test_the_pack_lists_the_partnerships_actions_with_their_review(demo):
    model = _model(demo, _latest(demo))
    ours = model.actions[model.actions["what"] == ACTION_TEXT]
    assert len(ours) == 1  # (the demo agrees actions of its own too)
    document = _pack(demo, _latest(demo)).decode("utf-8")
    section = _sections(document)[ours["domain_title"].iloc[0].replace("&", "&amp;")]
    row = section.split("Agree a &lt;b&gt;joint&lt;/b&gt; conveyance protocol", 1)[1].split("</tr>", 1)[0]
    assert "Police &amp; ambulance leads" in row
    assert "not reviewed yet" in row  # no later round has closed
    assert "Action plan" in document and document.count("<tr>") > len(model.actions)


def test_user_text_is_escaped(demo):
    document = _pack(demo, _latest(demo)).decode("utf-8")
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img" in document
    assert "evil.example" not in re.sub(r"&lt;img src=http://evil\.example/x\.png&gt;", "", document)


def _round_with_hidden_agencies(demo) -> str:
    factory = demo[0]
    with factory() as session:
        for round_key in demo[3]["round"]:
            agencies = service.round_scores(session, ADMIN, round_key)["agencies"]
            if agencies["score_hidden"].astype(bool).any():
                return round_key
    pytest.skip("no demo round with a hidden agency")


def test_a_pack_with_suppressed_agencies_shows_no_hidden_figure(demo):
    round_key = _round_with_hidden_agencies(demo)
    factory = demo[0]
    with factory() as session:
        frames = service.round_scores(session, ADMIN, round_key)
    model = _model(demo, round_key)
    document = _pack(demo, round_key).decode("utf-8")
    sections = _sections(document)
    hidden = frames["agencies"][frames["agencies"]["score_hidden"].astype(bool)]
    titles = model.titles
    for row in hidden.itertuples():
        section = sections[titles[row.domain].replace("&", "&amp;")]
        means = section.split("Agency means:", 1)[1].split("</p>", 1)[0]
        label = model.agencies.set_index(["domain", "agency"]).loc[(row.domain, row.agency), "agency_name"]
        assert label not in means, (row.domain, row.agency)
        shown = model.agencies.set_index(["domain", "agency"]).loc[(row.domain, row.agency), "score"]
        assert pd.isna(shown)
    # an agreement figure hidden with the agency (the gap between agency means) is not in its section either
    domains = frames["domains"].set_index("domain")
    for domain, row in domains[domains["hidden"].isin(["agreement", "agreement_and_mean", "all"])].iterrows():
        section = sections[titles[domain].replace("&", "&amp;")]
        assert "Agency agreement figures not shown" in section
        assert f"differ by up to {row['agency_gap']:.2f}" not in section
    assert any("not shown" in note for note in model.suppression_notes)
    assert "What is not shown, and why" in document


@pytest.mark.slow
def test_the_pdf_shows_the_headline_and_every_domain_score(demo):
    if not board_pack.pdf_available():
        if os.environ.get("CI"):
            pytest.fail("WeasyPrint is not installed in CI: .ci/run installs the [pdf] extra")
        pytest.skip(board_pack.PDF_HELP)
    from io import BytesIO

    from pypdf import PdfReader

    round_key = _latest(demo)
    model = _model(demo, round_key)
    reader = PdfReader(BytesIO(_pack(demo, round_key, "pdf")))
    first = reader.pages[0].extract_text()
    text = " ".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    assert f"{model.headline.score:.2f}" in first and model.headline.level_label in first
    assert "Board pack" in first
    # the summary is one page: its last table ends on page 1 and page 2 begins the charts
    last_agency = model.headline.responses["agency_name"].iloc[-1]
    assert last_agency in first.split("Responses by agency", 1)[1], first[-400:]
    for row in model.domains.itertuples():
        if pd.notna(row.score):
            assert f"{row.score:.2f} — level {row.level}" in flat, row.domain_title
    assert f"Page 1 of {len(reader.pages)}" in flat  # page numbers in the footer
    assert model.context.period in first  # the running header
    assert "/StructTreeRoot" in str(reader.trailer["/Root"].keys())  # tagged (PDF/UA-1)


def test_the_report_command_writes_the_pack_and_the_questionnaire(demo, tmp_path):
    _, _, env, closed = demo
    runner = CliRunner()
    out = tmp_path / "pack.html"
    result = runner.invoke(main, ["report", "--round", closed["round"].iloc[0], "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    police = tmp_path / "q-police.html"
    result = runner.invoke(main, ["report", "--questionnaire", "--version", "police-mental-health@2.0.0",
                                  "--agency", "police", "--out", str(police)], env=env)
    assert result.exit_code == 0, result.output
    everyone = tmp_path / "q.html"
    result = runner.invoke(main, ["report", "--questionnaire", "--round", closed["round"].iloc[-1], "--out",
                                  str(everyone)], env=env)
    assert result.exit_code == 0, result.output
    factory = demo[0]
    with factory() as session:
        questionnaire = service.published_questionnaire(session, ADMIN, "police-mental-health", "2.0.0")
    routed = police.read_text(encoding="utf-8")
    assert routed.count('<div class="item"') == len(questionnaire.items_for("police"))
    assert everyone.read_text(encoding="utf-8").count('<div class="item"') >= len(questionnaire.items_for("police"))
    result = runner.invoke(main, ["report", "--out", str(out)], env=env)
    assert result.exit_code == 2 and "give --round" in result.output
