"""The board pack carries a "data quality" note where police and NHS figures of an outcome indicator disagree
by more than the tolerance in the round's period (and none when they agree)."""

from __future__ import annotations

from assessment import service
from assessment.indicators import get_catalogue
from assessment.storage.indicators import import_indicator_values
from tests.integration.test_board_pack import ADMIN, _plain_named
from tests.integration.test_board_pack import demo as demo  # noqa: F401 - the shared demo database


def _store(factory, partnership: str, period: str, police: int, nhs: int) -> None:
    rows = (f"partnership,period,indicator,agency,value\n{partnership},{period},s136-detentions,police,{police}\n"
            f"{partnership},{period},s136-detentions,mental_health_trust,{nhs}\n")
    with factory.begin() as session:
        import_indicator_values(session, rows.encode(), actor="test", catalogue=get_catalogue())


def test_the_pack_notes_a_police_nhs_mismatch_and_nothing_when_they_agree(demo):  # noqa: F811
    factory, settings, _, closed = demo
    round_key = _plain_named(demo)
    row = closed.set_index("round").loc[round_key]
    _store(factory, row["partnership"], row["period"], 200, 120)
    with factory() as session:
        model = service.results_model(session, ADMIN, round_key, "all", settings=settings)
        html = service.board_pack(session, ADMIN, round_key, "all", settings=settings).decode("utf-8")
    # hand-worked: 200 − 120 = 80, 40% of the larger (200), more than the 10% tolerance
    assert model.data_quality_notes == (
        f"{row['period']}: Police and Mental health trust figures for \"Section 136 detentions\" differ by 80 "
        "(40% of the larger; more than the 10% tolerance): 200 against 120. Check both sources count the same "
        "thing before comparing or reporting either.",)
    assert "<h3>Data quality</h3>" in html and "differ by 80 (40% of the larger" in html

    _store(factory, row["partnership"], row["period"], 200, 195)
    with factory() as session:
        model = service.results_model(session, ADMIN, round_key, "all", settings=settings)
        html = service.board_pack(session, ADMIN, round_key, "all", settings=settings).decode("utf-8")
    assert model.data_quality_notes == ()
    assert "<h3>Data quality</h3>" not in html
