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


def _shared_icb(demo) -> tuple[str, list[str]]:
    """An ICB of the demo with two or more member partnerships, and their keys."""
    members = demo.assign(icb=demo["icbs"].str.split(";")).explode("icb")
    sizes = members[members["icb"] != ""].groupby("icb")["partnership"].agg(sorted)
    shared = sizes[sizes.map(len) >= 2]
    assert len(shared), "the demo gives an ICB to two or three partnerships of a region"
    return shared.index[0], shared.iloc[0]


def test_a_commissioner_chooses_an_icb_footprint_or_a_police_force_area(demo):
    at = _portfolio(demo)
    names = dict(zip(demo["partnership"], demo["name"], strict=True))
    assert {"ICB footprint", "Police force area (PCC)"} <= set(at.radio(key="portfolio_by").options)
    icb, members = _shared_icb(demo)
    at.radio(key="portfolio_by").set_value("ICB footprint").run()
    at.selectbox(key="portfolio_icb").set_value(icb).run()
    assert_no_exception(at)
    assert sorted(table_with(at, "partnership")["partnership"]) == sorted(names[k] for k in members)
    assert at.query_params == {"set": "icb", "of": icb}  # in the address bar: a bookmark keeps it

    force, key = demo["police_forces"].iloc[0], demo["partnership"].iloc[0]
    at.radio(key="portfolio_by").set_value("Police force area (PCC)").run()
    at.selectbox(key="portfolio_force").set_value(force).run()
    assert_no_exception(at)
    assert list(table_with(at, "partnership")["partnership"]) == [names[key]]
    assert at.query_params == {"set": "police", "of": force}


def test_a_bookmark_restores_the_chosen_set_and_ignores_what_it_may_not_show(demo):
    names = dict(zip(demo["partnership"], demo["name"], strict=True))
    icb, members = _shared_icb(demo)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.query_params = {"set": "icb", "of": icb}
    at.switch_page("app_pages/portfolio.py").run()
    assert_no_exception(at)
    assert at.radio(key="portfolio_by").value == "ICB footprint"
    assert sorted(table_with(at, "partnership")["partnership"]) == sorted(names[k] for k in members)

    picked = sorted(demo["partnership"])[:2]
    for params, expected in (({"set": "pick", "p": [*picked, "no-such-partnership"]}, picked),
                             ({"set": "icb", "of": "NHS Nowhere Integrated Care Board"}, None),
                             ({"set": "nonsense"}, None)):
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.run()
        at.query_params = params
        at.switch_page("app_pages/portfolio.py").run()
        assert_no_exception(at)
        assert not at.error
        shown = sorted(table_with(at, "partnership")["partnership"])
        if expected is None:  # unknown choices are ignored: every partnership, nothing said about it
            assert at.radio(key="portfolio_by").value == "All my partnerships" and len(shown) == len(names)
        else:
            assert shown == sorted(names[k] for k in expected) and at.query_params["p"] == expected


def test_the_set_chosen_on_portfolio_is_shown_side_by_side_on_trends(demo):
    icb, members = _shared_icb(demo)
    at = _portfolio(demo)
    at.radio(key="portfolio_by").set_value("ICB footprint").run()
    at.selectbox(key="portfolio_icb").set_value(icb).run()
    at.switch_page("app_pages/trends.py").run()
    assert_no_exception(at)
    first = at.selectbox(key="trends_partnership").value
    assert at.multiselect(key="trends_compare").value == [k for k in members if k != first]
    subtitles = [spec for spec in _specs(at) if "Domain scores" in str(spec.get("title"))]
    assert len(subtitles) == 1 + len([k for k in members if k != first])
    assert at.query_params["p"] == [k for k in members if k != first]  # a bookmark of Trends keeps them
    at.selectbox(key="trends_partnership").set_value(members[-1]).run()  # another first: the rest of the set
    assert_no_exception(at)
    assert at.multiselect(key="trends_compare").value == members[:-1]

    bookmarked = AppTest.from_file(APP, default_timeout=TIMEOUT)
    bookmarked.run()
    bookmarked.query_params = {"p": [*members, "no-such-partnership"]}
    bookmarked.switch_page("app_pages/trends.py").run()
    assert_no_exception(bookmarked)
    first = bookmarked.selectbox(key="trends_partnership").value
    assert bookmarked.multiselect(key="trends_compare").value == [k for k in members if k != first]
