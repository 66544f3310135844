"""The practice library reads only the comments that can be listed (one domain, partnerships that opted in to
share), filtered in the query: the same comments, in the same order, and so the same promising practices, as
reading every comment and filtering afterwards. On a demo database of 8 partnerships."""

from __future__ import annotations

import pandas as pd
import pytest

from assessment import peers
from assessment.settings import load_settings


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from assessment.demo import prepare_database, seed_demo, shipped_questionnaires
    from assessment.storage import services
    from assessment.storage.db import make_engine, make_session_factory

    folder = tmp_path_factory.mktemp("practice-data")
    settings = load_settings({"ASSESSMENT_DATA_DIR": str(folder), "ASSESSMENT_DEMO": "0",
                              "ASSESSMENT_BOOTSTRAP_RESAMPLES": "200"})
    engine = make_engine(settings.database_url)
    prepare_database(engine, settings)
    found, _ = shipped_questionnaires(settings)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        seed_demo(session, found, partnerships=8, open_rounds=0)
    with factory.begin() as session:  # one partnership that does not share: its comments must stay out
        places = services.list_partnerships(session)
        sharing = places[places["share_practice"].astype(bool)]["partnership"].tolist()
        services.update_partnership(session, sharing[0], actor="test", share_practice=False)
    yield factory
    engine.dispose()


def test_filtered_comments_and_practices_are_those_of_all_comments_filtered_afterwards(demo):
    from assessment.storage import services as storage

    listed = 0
    with demo() as session:
        every = storage.answer_comments(session)
        places = storage.list_partnerships(session)
        scores = storage.partnership_scores(session)
        assert not every["share_practice"].all()  # the opt-out partnership has comments to leave out
        for domain in sorted(set(every["domain"])):
            before = every[(every["domain"] == domain) & every["share_practice"]].reset_index(drop=True)
            after = storage.answer_comments(session, domain=domain, shared_only=True)
            pd.testing.assert_frame_equal(after, before)
            old = peers.promising_practices(every[every["domain"] == domain], scores, places, min_peers=1)
            new = peers.promising_practices(after, scores, places, min_peers=1)
            pd.testing.assert_frame_equal(new, old)
            listed += len(new)
    assert listed  # the demo lists practices: the comparison has something to compare
