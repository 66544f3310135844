"""Portfolio and Trends as a commissioner uses them (issue 15): a chosen set of partnerships (a region, a saved
peer group or a hand pick), the size of each change and its interval, declined and improved domains in colour,
and several partnerships side by side."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import seeded_app_database
from tests.app.test_pages import APP, TIMEOUT, assert_no_exception, table_with


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo database with 12 partnerships, their saved peer groups and two closed rounds each."""
    from assessment.storage.catalogue import list_partnerships

    with seeded_app_database(tmp_path_factory, "commish-data", resamples=300, partnerships=12,
                             open_rounds=0) as (factory, _):
        with factory() as session:
            places = list_partnerships(session)
        yield places


def _portfolio(demo) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/portfolio.py").run()
    assert_no_exception(at)
    return at


def _specs(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def test_a_commissioner_chooses_a_saved_peer_group_or_picks_partnerships(demo):
    at = _portfolio(demo)
    names = dict(zip(demo["partnership"], demo["name"], strict=True))
    at.radio(key="portfolio_by").set_value("Saved peer group").run()
    assert_no_exception(at)
    assert "metropolitan" in at.selectbox(key="portfolio_group").options
    at.selectbox(key="portfolio_group").set_value("metropolitan").run()
    members = demo[demo["groups"].str.split(";").map(lambda g: "metropolitan" in g)]["partnership"]
    assert 0 < len(members) < len(demo)
    table = table_with(at, "partnership")
    assert sorted(table["partnership"]) == sorted(names[k] for k in members)

    picked = sorted(demo["partnership"])[:2]
    at.radio(key="portfolio_by").set_value("Partnerships I pick").run()
    at.multiselect(key="portfolio_pick").set_value(picked).run()
    assert_no_exception(at)
    assert sorted(table_with(at, "partnership")["partnership"]) == sorted(names[k] for k in picked)
    assert any("2 partnerships" in str(spec.get("title")) for spec in _specs(at))


def test_the_action_plans_on_portfolio_follow_the_chosen_set(demo):
    at = _portfolio(demo)
    names = dict(zip(demo["partnership"], demo["name"], strict=True))
    assert len(table_with(at, "actions")) == len(names)  # every partnership: the demo agrees actions in each
    picked = sorted(demo["partnership"])[:2]
    at.radio(key="portfolio_by").set_value("Partnerships I pick").run()
    at.multiselect(key="portfolio_pick").set_value(picked).run()
    assert_no_exception(at)
    assert sorted(table_with(at, "actions")["partnership"]) == sorted(names[k] for k in picked)


def test_portfolio_cells_show_the_size_of_the_change_and_its_interval(demo):
    at = _portfolio(demo)
    table = table_with(at, "partnership")
    cells = table.drop(columns="partnership").stack().astype(str)
    sized = cells[cells.str.contains("95%")]
    assert len(sized) > 0
    assert sized.str.match(r"^[a-z ]+ [+-]\d\.\d\d \(95% [+-]\d\.\d\d to [+-]\d\.\d\d\)$").all()
    tooltips = json.dumps(_specs(at))
    assert "Size of change" in tooltips and "95% interval low" in tooltips and "95% interval high" in tooltips


def _trends(demo) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/trends.py").run()
    assert_no_exception(at)
    return at


def _point_layers(spec: dict) -> list[dict]:
    return [layer for layer in spec["spec"]["layer"] if (layer.get("mark") or {}).get("type") == "point"]


def test_trends_colour_declined_and_improved_domains_in_the_chart(demo):
    at = _trends(demo)
    spec = _specs(at)[0]
    [points] = _point_layers(spec)
    colour = points["encoding"]["color"]
    assert colour["field"] == "change_shown"
    shown = dict(zip(colour["scale"]["domain"], colour["scale"]["range"], strict=True))
    assert {"improved", "declined"} & set(shown)  # the demo has changes to colour
    assert shown.get("improved", "#0072B2") == "#0072B2" and shown.get("declined", "#D55E00") == "#D55E00"
    assert len({shown.get("improved"), shown.get("declined"), shown.get("no clear change")} - {None}) == len(
        {"improved", "declined", "no clear change"} & set(shown))  # each verdict its own colour
    assert "vermillion when it declined" in spec["description"]


def test_several_partnerships_side_by_side_on_trends(demo):
    at = _trends(demo)
    names = dict(zip(demo["partnership"], demo["name"], strict=True))
    first = at.selectbox(key="trends_partnership").value
    others = at.multiselect(key="trends_compare").options
    assert names[first] not in others and len(others) == len(names) - 1
    picked = [k for k in sorted(names) if k != first][:2]
    at.multiselect(key="trends_compare").set_value(picked).run()
    assert_no_exception(at)
    subtitles = [" ".join(spec["title"]["subtitle"]) for spec in _specs(at) if "Domain scores" in
                 str(spec.get("title"))]
    assert len(subtitles) == 3
    for key, subtitle in zip([first, *picked], subtitles, strict=True):
        assert subtitle.startswith(names[key] + " · ") and "closed round(s)" in subtitle and "n = " in subtitle
