"""Issue 11, defect 5 in a real browser: a partnership named like a phishing message shows no live link and
fetches no image, on the pages and on the respondent's invite page (Chromium against ``streamlit run``)."""

from __future__ import annotations

import pytest

from tests.e2e.test_browser import (  # noqa: F401  (the browser fixture, found by pytest by name)
    ARTIFACTS,
    browser,
    pytestmark,  # noqa: F401 - the e2e mark and the Chromium skip, one rule for every browser test
    screenshot,
    seed_demo_folder,
    serve_app,
    wait_until_idle,
)

EVIL = "Lancs [phish](https://evil.example/p) ![b](https://evil.example/b2.png)"


@pytest.fixture(scope="module")
def evil_app(tmp_path_factory):
    """The demo with every partnership renamed to the phishing name, an invite link, and `streamlit run`."""
    from assessment.storage import services

    demo = seed_demo_folder(tmp_path_factory, "e2e-evil", resamples=300, partnerships=6, open_rounds=1)
    folder, env, settings, engine, factory = demo.folder, demo.env, demo.settings, demo.engine, demo.factory
    with factory.begin() as session:
        for key in services.list_partnerships(session)["partnership"]:
            services.update_partnership(session, key, actor="e2e", name=f"{EVIL} {key}")
        rounds = services.list_rounds(session)
        open_round = rounds.loc[rounds["status"] == "open", "round"].iloc[0]
        link = services.create_invitations(session, open_round, "police", 1, actor="e2e",
                                           base_url=settings.base_url)[0]
    engine.dispose()
    with serve_app(folder, env) as url:
        yield url, link.rsplit("invite=", 1)[1]


LINKS_AND_IMAGES_JS = """() => ({
    anchors: Array.from(document.querySelectorAll('a')).filter(a => (a.href || '').includes('evil.example')
        || (a.textContent || '').includes('phish')).map(a => a.outerHTML),
    images: Array.from(document.querySelectorAll('img')).filter(i => (i.src || '').includes('evil.example'))
        .map(i => i.outerHTML),
})"""


def test_a_phishing_name_shows_no_link_and_fetches_no_image(evil_app, browser):  # noqa: F811
    url, token = evil_app
    context = browser.new_context(viewport={"width": 1400, "height": 2400})
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        found = {}
        for path, waits_for in (("", "Your partnership"), ("results", "Gap to peers"),
                                ("regions", "Promising practices"), ("trends", "Change verdicts")):
            page.goto(f"{url}/{path}")
            wait_until_idle(page)
            page.get_by_text(waits_for, exact=True).first.wait_for()
            page.wait_for_timeout(1500)  # let images (if any) be requested
            found[path or "home"] = page.evaluate(LINKS_AND_IMAGES_JS)
            screenshot(page, f"user-text-{path or 'home'}")
        page.goto(f"{url}/?invite={token}")
        wait_until_idle(page)
        page.get_by_role("button", name="Yes, this is my agency: start").wait_for()
        page.wait_for_timeout(1500)
        found["invite"] = page.evaluate(LINKS_AND_IMAGES_JS)
        screenshot(page, "user-text-invite")
        named = page.get_by_text("Lancs [phish](https:", exact=False).count()
    finally:
        context.close()
    assert {where: f for where, f in found.items() if f["anchors"] or f["images"]} == {}
    assert [r for r in requests if "evil.example" in r] == []
    assert named >= 1  # the name is on the invite page, as text
    assert ARTIFACTS.exists()
