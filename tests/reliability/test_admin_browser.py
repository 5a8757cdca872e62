"""The admin in a real browser: Debian's Chromium driven by Playwright against a live server.

Logs in, finds a creator, sees its thumbnails load, runs the repair action, adjusts a
wallet's credits with a reason and finds it in the ledger, then walks the other admin pages.
Every page must load without a Content-Security-Policy violation or a JavaScript error.
A screenshot of each page lands in ``$ADMIN_SCREENSHOTS`` (default ``tests/.screenshots/admin``),
printed at the end. Skipped, saying why, without ``/usr/bin/chromium`` or Playwright
(``apt-get install -y chromium``; ``pip install playwright`` — no browser download).
"""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.utils import timezone

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(os.environ.get("ADMIN_SCREENSHOTS") or Path(__file__).resolve().parents[1] / ".screenshots" / "admin")
PASSWORD = "correct-horse-battery-9"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is absent: apt-get install -y chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


class _Images:
    """Serves one small PNG for every path: the creator's thumbnails on their 'CDN'."""

    def __init__(self) -> None:
        from tests.cdn.conftest import png_bytes

        body = png_bytes(64, 64, color=(30, 120, 200))

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def images(settings):
    host = _Images()
    policy = settings.CONTENT_SECURITY_POLICY
    directives = {**policy["DIRECTIVES"], "img-src": [*policy["DIRECTIVES"]["img-src"], host.origin]}
    settings.CONTENT_SECURITY_POLICY = {**policy, "DIRECTIVES": directives}
    yield host
    host.close()


@pytest.fixture
def browser_page(monkeypatch):
    # Playwright's sync API keeps an event loop running in this thread; the test's own ORM
    # calls are plain synchronous ones (Django's documented switch for this case).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(20_000)
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"{page.url}: javascript error: {error}"))

        def console(message) -> None:
            if "Content Security Policy" in message.text or (
                message.type == "error" and "Failed to load resource" not in message.text  # (see response)
            ):
                problems.append(f"{page.url}: {message.text[:300]}")

        def response(answer) -> None:
            if answer.status >= 400 and not answer.url.endswith("/favicon.ico"):
                problems.append(f"{page.url}: {answer.status} {answer.url}")

        page.on("console", console)
        page.on("response", response)
        page.problems = problems
        yield page
        browser.close()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_the_admin_in_chromium(live_server, images, browser_page, settings):
    from credits.models import CreditTransaction
    from credits.services import wallet_get_or_create
    from profiles.models import Profile
    from tests.factories import PostFactory, ProfileFactory, StaffUserFactory, UserFactory, account_of

    settings.PIPELINE_EAGER_THREAD = False
    staff = StaffUserFactory(email="boss@example.com")
    customer = UserFactory(email="customer@example.com")
    wallet_get_or_create(account_id=account_of(customer))
    creator = ProfileFactory(username="browser_creator", last_scraped_at=timezone.now())
    for index in range(3):
        PostFactory(profile=creator, cdn_thumbnail_url=f"{images.origin}/thumb-{index}.png")
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    crontab = CrontabSchedule.objects.create(minute="0", hour="3")
    PeriodicTask.objects.create(name="browser nightly", task="analysis.tasks.fail_stale_jobs", crontab=crontab)
    page, base = browser_page, live_server.url

    # log in
    page.goto(f"{base}/admin/login/")
    _shot(page, "01-login")
    page.fill("input[name=username]", staff.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    _shot(page, "02-index")

    # find the creator, open it, see its thumbnails
    page.goto(f"{base}/admin/profiles/profile/?q=browser_creator")
    assert page.locator("#result_list").inner_text().count("browser_creator") == 1
    _shot(page, "03-creators-search")
    page.click("#result_list tbody tr th a")  # the row's link (its first column)
    page.wait_for_selector(f"img[src^='{images.origin}']")
    loaded = page.eval_on_selector_all(
        f"img[src^='{images.origin}']", "imgs => imgs.map(img => img.complete && img.naturalWidth > 0)"
    )
    assert loaded and all(loaded), loaded
    _shot(page, "04-creator-thumbnails")

    # run the repair action on it
    page.goto(f"{base}/admin/profiles/profile/?q=browser_creator")
    page.check("#result_list input[name=_selected_action]")
    page.select_option("select[name=action]", "repair_selected")
    page.click("button[name=index]")
    page.wait_for_selector("ul.messagelist")
    assert "Queued 1 repair job(s)" in page.inner_text("ul.messagelist")
    _shot(page, "05-repair-queued")
    from analysis.models import AnalysisJob

    assert AnalysisJob.objects.filter(username="browser_creator", trigger="repair").exists()

    # adjust credits with a reason, then find it in the ledger
    page.goto(f"{base}/admin/credits/wallet/?q={account_of(customer)}")
    page.check("#result_list input[name=_selected_action]")
    page.select_option("select[name=action]", "adjust_credits")
    page.click("button[name=index]")
    page.wait_for_selector("input[name=amount]")
    page.fill("input[name=amount]", "42")
    page.fill("textarea[name=reason]", "Goodwill after the outage (browser test)")
    _shot(page, "06-adjust-form")
    page.click("input[type=submit][value='Apply adjustment']")
    page.wait_for_selector("ul.messagelist")
    assert "Adjusted 1 wallet(s)" in page.inner_text("ul.messagelist")
    page.goto(f"{base}/admin/credits/credittransaction/?q=Goodwill")
    ledger = page.inner_text("#result_list")  # found by its reason
    assert "Adjustment\t42" in ledger and staff.email in ledger
    _shot(page, "07-ledger")
    page.click("#result_list tbody tr th a")
    page.wait_for_load_state()
    assert "Goodwill after the outage (browser test)" in page.inner_text("#content")
    _shot(page, "08-ledger-row")
    row = CreditTransaction.objects.get(reason__startswith="Goodwill")
    assert row.amount == 42 and row.actor_id == staff.pk

    # browse the other pages: every admin list, and a change page of each that has a row
    page.goto(f"{base}/admin/")
    links = sorted(set(page.eval_on_selector_all("#content-main a[href$='/']", "as => as.map(a => a.pathname)")))
    visited = 0
    for path in links:
        if not path.startswith("/admin/") or path.endswith("/add/"):
            continue
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        visited += 1
        _shot(page, "list-" + path.strip("/").replace("/", "-"))
        first = page.locator("#result_list tbody tr th a").first
        if first.count():
            first.click()
            page.wait_for_load_state()
            _shot(page, "change-" + path.strip("/").replace("/", "-"))
    assert visited >= 8, links
    assert Profile.objects.filter(username="browser_creator").exists()
    assert page.problems == [], page.problems
    print(f"\nadmin browser walk: {visited} admin lists, screenshots in {SHOTS}")
