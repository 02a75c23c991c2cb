"""The agent desktop in a real browser: headless Chromium against a real parleyd (with the
carrier simulator) and a real parley-web, driven with selenium.

Run by `make test` through tools/browser-test (which uses the virtual environment tools/setup
makes). Every wait is for a condition with a generous timeout, never for a time window.
PARLEY_UPDATE_SCREENSHOTS=1 writes the screenshots the README shows into docs/screenshots/.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

os.environ["SE_OFFLINE"] = "true"  # selenium's driver manager must never reach the internet

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("PARLEY_BIN", os.path.join(ROOT, ".build", "debug"))
PATIENCE = 120  # seconds: only a stuck test reaches it
SERVICE_NUMBER = "+15550100100"  # the demo directory's support line
ALICE_DID = "+15550100201"
PASSWORDS = {"alice": "alice-demo-pw", "bob": "bob-demo-pw"}
SHOTS = os.path.join(ROOT, "docs", "screenshots") if os.environ.get("PARLEY_UPDATE_SCREENSHOTS") else None


class System:
    """parleyd, parley-web and the parley tool, on a private directory."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="parley-browser-")
        self.data = os.path.join(self.directory, "data")
        self.socket = os.path.join(self.data, "parleyd.sock")
        self.credentials = os.path.join(self.directory, "web-credentials")
        self.daemon_log = open(os.path.join(self.directory, "parleyd.log"), "wb")
        self.daemon = subprocess.Popen(
            [os.path.join(BIN, "parleyd"), "--data", self.data, "--demo", "--carrier-sim", "--sim-delay", "50",
             "--sim-reply", "Thanks, that works for me!"],
            stderr=self.daemon_log)
        wait_for(lambda: os.path.exists(self.socket) and self.tool("info").returncode == 0, "parleyd to answer")
        for agent, password in PASSWORDS.items():
            subprocess.run([os.path.join(BIN, "parley-web"), "password", agent, "--credentials", self.credentials,
                            "--cost", "4"], input=password + "\n", text=True, check=True, capture_output=True)
        self.web_log_path = os.path.join(self.directory, "parley-web.log")
        self.web_log = open(self.web_log_path, "wb")
        self.web = subprocess.Popen(
            [os.path.join(BIN, "parley-web"), "serve", "--socket", self.socket, "--credentials", self.credentials,
             "--listen", "127.0.0.1:0", "--log-level", "notice"],
            stderr=self.web_log)
        self.url = None

        def listening():
            with open(self.web_log_path, encoding="utf-8", errors="replace") as log:
                match = re.search(r"url=(http://127\.0\.0\.1:\d+/)", log.read())
            if match:
                self.url = match.group(1)
            assert self.web.poll() is None, "parley-web exited: " + open(self.web_log_path).read()
            return self.url is not None
        wait_for(listening, "parley-web to listen")

    def tool(self, *arguments):
        return subprocess.run([os.path.join(BIN, "parley"), *arguments, "--socket", self.socket],
                              capture_output=True, text=True)

    def call(self, method, params=None):
        done = self.tool("call", method, json.dumps(params or {}))
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def inbound(self, sender, to, text):
        done = self.tool("inbound", "--from", sender, "--to", to, text)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def stop(self):
        for process in (self.web, self.daemon):
            process.send_signal(signal.SIGTERM)
        for process in (self.web, self.daemon):
            try:
                process.wait(timeout=PATIENCE)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


def wait_for(condition, what, timeout=PATIENCE):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except (AssertionError, WebDriverException):  # the page may be mid-reload
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.05)


def browser(width=1280, height=800):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--disable-default-apps"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


class Desk:
    """One browser with the page, and the steps an agent takes."""

    def __init__(self, system, width=1280, height=800):
        self.system = system
        self.driver = browser(width, height)
        self.wait = WebDriverWait(self.driver, PATIENCE)

    def quit(self):
        self.driver.quit()

    def find(self, selector):
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def all(self, selector):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def until(self, condition, what):
        wait_for(lambda: condition(self), what)

    def open(self):
        self.driver.get(self.system.url)
        self.until(lambda d: d.find("#agent-id").is_displayed() or d.find("#desk").is_displayed(), "the page")

    def sign_in(self, agent, password=None):
        self.open()
        self.until(lambda d: d.find("#agent-id").is_displayed(), "the sign-in form")
        self.find("#agent-id").clear()
        self.find("#agent-id").send_keys(agent)
        self.find("#password").send_keys((password or PASSWORDS[agent]) + Keys.ENTER)

    def signed_in(self, agent):
        self.sign_in(agent)
        self.until(lambda d: d.find("#connection").text == "Connected" and d.find("#state-select").get_attribute("value") in ("NotReady", "Ready", "Busy", "AfterCallWork"),
                   "the desk, connected")

    def set_state(self, label):
        Select(self.find("#state-select")).select_by_visible_text(label)
        value = {"Ready": "Ready", "Not Ready": "NotReady"}[label]
        self.until(lambda d: d.find("#state-select").get_attribute("value") == value, f"state {label}")

    def start_sms(self, number):
        self.find("#customer-number").clear()
        self.find("#customer-number").send_keys(number + Keys.ENTER)

    def active(self, selector=""):
        return self.find(".conversation:not([hidden]) " + selector)

    def type(self, text):
        area = self.active("textarea")
        area.clear()
        # send_keys cannot type characters outside the BMP (emoji); set the value and fire input.
        self.driver.execute_script(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));", area, text)

    def counter(self):
        return self.active(".counter").text

    def send(self, text):
        self.type(text)
        self.active("textarea").send_keys(Keys.ENTER)

    def messages(self):
        return [(li.get_attribute("class"), li.find_element(By.CSS_SELECTOR, "p").text, li.get_attribute("data-message-id"))
                for li in self.all(".conversation:not([hidden]) .transcript li")]

    def badge(self):
        badge = self.find("#recent-badge")
        return int(badge.text) if badge.is_displayed() else 0

    def request_call(self, method, params):
        """Sends a raw request over the page's own socket, as an agent editing requests would."""
        return self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "call(arguments[0], arguments[1]).then((r) => done({result: r}), (e) => done({error: e.type, message: e.message}));",
            method, params)

    def axe(self, screen):
        axe = Axe(self.driver)
        axe.inject()
        results = axe.run()
        bad = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
        assert not bad, f"{screen}: " + "; ".join(
            f"{v['id']}: {v['help']} ({', '.join(n['html'][:120] + ' ' + n.get('failureSummary', '') for n in v['nodes'])})" for v in bad)

    def shot(self, name):
        path = os.path.join(SHOTS or os.path.join(ROOT, ".build", "browser-test"), name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.driver.save_screenshot(path)


class AgentDesktopTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.system = System()

    @classmethod
    def tearDownClass(cls):
        cls.system.stop()

    def desk(self, **size):
        desk = Desk(self.system, **size)
        self.addCleanup(desk.quit)
        return desk

    def test_1_sign_in_refuses_a_wrong_password(self):
        desk = self.desk()
        desk.open()
        desk.axe("sign-in")
        desk.shot("sign-in.png")
        desk.sign_in("alice", "not-her-password")
        desk.until(lambda d: "wrong" in d.find("#sign-in-error").text, "the refusal")
        self.assertFalse(desk.find("#desk").is_displayed())
        # Nothing unauthenticated gets a WebSocket: the page's own attempt without a cookie is refused.
        status = desk.driver.execute_async_script(
            "const done = arguments[0]; const ws = new WebSocket('ws://' + location.host + '/ws');"
            "ws.onopen = () => done('open'); ws.onclose = (e) => done('closed ' + e.code);")
        self.assertTrue(status.startswith("closed"), status)
        desk.sign_in("alice")
        desk.until(lambda d: d.find("#connection").text == "Connected", "the desk after signing in")
        cookie = desk.driver.get_cookie("parley_session")
        self.assertTrue(cookie["httpOnly"])
        self.assertEqual(cookie["sameSite"], "Strict")
        self.assertIsNone(desk.driver.execute_script("return document.cookie.includes('parley_session') ? 'visible' : null"))

    def test_2_send_from_ready_counter_delivery_reply_end_chat(self):
        desk = self.desk()
        desk.signed_in("alice")
        desk.set_state("Ready")
        # A number that is not E.164 is refused before anything is sent.
        desk.start_sms("555-12")
        desk.until(lambda d: "international format" in d.find("#number-error").text, "the number refusal")
        self.assertEqual(desk.all(".conversation:not([hidden])"), [])
        desk.start_sms("+1 555 700 0001")
        desk.until(lambda d: d.all(".conversation:not([hidden]) textarea"), "the conversation to open")
        self.assertEqual(desk.active(".conversation-title").text, "+15557000001")
        # The counter is the daemon's: 160 GSM characters are one message, 161 are two; an emoji
        # makes it UCS-2, 70 to a message, and the page names the character that did it.
        for text in ("a" * 45, "a" * 160, "a" * 161, "a" * 190, "😀" + "a" * 68, "😀" + "a" * 69, "é€[]", "Ω" * 70 + "ш"):
            desk.type(text)
            expected = self.system.call("sms.count", {"text": text})
            desk.until(lambda d: d.counter() == expected["display"], f"the counter {expected['display']!r} for {text[:12]!r}…")
            if expected["nonGsm"]:
                desk.until(lambda d: all(c in d.active(".counter-note").text for c in expected["nonGsm"]), "the UCS-2 note")
        self.assertEqual(self.system.call("sms.count", {"text": "a" * 160})["display"], "160")
        self.assertEqual(self.system.call("sms.count", {"text": "a" * 161})["display"], "161 (2 messages)")
        self.assertEqual(self.system.call("sms.count", {"text": "a" * 45})["display"], "45")
        # Predefined messages, filtered by the conversation's service.
        picker = Select(desk.active(".template-picker"))
        self.assertIn("Confirmation number", [o.text for o in picker.options])
        desk.type("")
        picker.select_by_visible_text("Greeting")
        desk.until(lambda d: d.active("textarea").get_attribute("value").startswith("Hello! This is your support team."), "the template text")
        desk.active("textarea").send_keys(Keys.ENTER)
        desk.until(lambda d: any(c == "message outbound" for c, _, _ in d.messages()), "the message in the transcript")
        desk.until(lambda d: "Delivered" in d.active(".transcript .message.outbound .status").text, "Delivered")
        desk.until(lambda d: any(c == "message inbound" and t == "Thanks, that works for me!" for c, t, _ in d.messages()), "the reply")
        self.assertNotEqual(desk.active(".message.outbound").value_of_css_property("background-color"),
                            desk.active(".message.inbound").value_of_css_property("background-color"))
        self.assertRegex(desk.active(".message.outbound time").text, r"\d")
        desk.axe("conversation")
        desk.shot("conversation.png")
        conversation = desk.active().get_attribute("data-conversation-id")
        conversation = desk.active().get_attribute("data-conversation-id")
        desk.active(".end-chat").click()
        desk.until(lambda d: self.system.call("conversation.get", {"conversationId": conversation})["conversation"]["status"] == "ended",
                   "the chat to end")
        self.assertEqual(self.system.call("conversation.get", {"conversationId": conversation})["conversation"]["status"], "ended")

    def test_3_send_from_a_call(self):
        desk = self.desk()
        desk.signed_in("bob")
        done = self.system.tool("state", "bob", "Busy", "--call-id", "call-7", "--service", "support", "--customer", "+15557000099")
        self.assertEqual(done.returncode, 0, done.stderr)
        desk.until(lambda d: d.find("#call-panel").is_displayed() and d.find("#call-customer").text == "+15557000099", "the call panel")
        self.assertIn("Busy", desk.find("#call-service").text)
        desk.find("#call-sms").click()
        desk.until(lambda d: d.all(".conversation:not([hidden]) textarea"), "the conversation with the caller")
        self.assertEqual(desk.active(".conversation-title").text, "+15557000099")
        desk.send("Here is the link we talked about.")
        desk.until(lambda d: "Delivered" in d.active(".message.outbound .status").text, "Delivered")
        done = self.system.tool("state", "bob", "AfterCallWork", "--call-id", "call-7", "--service", "support", "--customer", "+15557000099")
        desk.until(lambda d: "After Call Work" in d.find("#call-service").text, "After Call Work")
        conversation = desk.active().get_attribute("data-conversation-id")
        desk.active(".end-chat").click()
        desk.until(lambda d: self.system.call("conversation.get", {"conversationId": conversation})["conversation"]["status"] == "ended",
                   "the chat to end")
        self.system.tool("state", "bob", "NotReady")

    def test_4_chat_request_accepted_in_one_browser_is_gone_from_the_other(self):
        alice, bob = self.desk(), self.desk()
        alice.signed_in("alice")
        bob.signed_in("bob")
        self.system.inbound("+15557000123", SERVICE_NUMBER, "Hello, is anyone there?")
        for desk in (alice, bob):
            desk.until(lambda d: any("+15557000123" in li.text for li in d.all("#request-list li")), "the chat request")
        bob.axe("chat request")
        bob.shot("chat-request.png")
        request = next(li for li in alice.all("#request-list li") if "+15557000123" in li.text)
        self.assertIn("Hello, is anyone there?", request.text)
        request.find_element(By.CSS_SELECTOR, "button.accept").click()
        alice.until(lambda d: d.all(".conversation:not([hidden])") and d.active(".conversation-title").text == "+15557000123", "alice's conversation")
        alice.until(lambda d: any(t == "Hello, is anyone there?" for _, t, _ in d.messages()), "the customer's first message")
        bob.until(lambda d: not any("+15557000123" in li.text for li in d.all("#request-list li")), "the request gone from bob's desk")
        alice.active(".end-chat").click()
        alice.until(lambda d: not d.all(".conversation:not([hidden])"),
                    "the conversation to close (" + " ".join(e.text for e in alice.all(".composer-error")) + ")")

    def test_5_recent_badge_counts_while_logged_out_stays_after_reload_and_resets(self):
        desk = self.desk()
        desk.signed_in("alice")
        desk.find("#sign-out").click()
        desk.until(lambda d: d.find("#agent-id").is_displayed(), "the sign-in form after signing out")
        self.assertEqual(self.system.call("agent.view", {"agentId": "alice"})["agent"]["state"], "LoggedOut")
        before = self.system.call("recent.get", {"agentId": "alice"})["unread"]
        self.system.inbound("+15557000200", ALICE_DID, "Call me back please")
        self.system.inbound("+15557000201", ALICE_DID, "Are you free tomorrow?")
        desk.signed_in("alice")
        desk.until(lambda d: d.badge() == before + 2, f"the badge at {before + 2}")
        desk.driver.refresh()
        desk.until(lambda d: d.find("#connection").text == "Connected" and d.badge() == before + 2, "the badge after a reload")
        desk.shot("recent-badge.png")
        desk.find("#recent-button").click()
        desk.until(lambda d: d.find("#recent-panel").is_displayed() and d.badge() == 0, "Recent open, the badge reset")
        self.assertIn("Are you free tomorrow?", desk.find("#recent-list").text)
        desk.axe("recent")
        desk.shot("recent.png")
        self.assertEqual(self.system.call("recent.get", {"agentId": "alice"})["unread"], 0)
        desk.find("#recent-close").click()
        self.system.inbound("+15557000202", ALICE_DID, "One more thing")
        desk.until(lambda d: d.badge() == 1, "the badge counting again")

    def test_6_a_dropped_websocket_resumes_with_nothing_missed_or_doubled(self):
        desk = self.desk()
        desk.signed_in("alice")
        desk.start_sms("+15557000300")
        desk.until(lambda d: d.all(".conversation:not([hidden]) textarea"), "the conversation")
        desk.send("Before the drop")
        desk.until(lambda d: "Delivered" in d.active(".message.outbound .status").text and len(d.messages()) == 2, "delivered and replied")
        conversation = desk.active().get_attribute("data-conversation-id")
        # The network goes away: the socket drops and no new one can be opened.
        desk.driver.execute_cdp_cmd("Network.enable", {})
        desk.driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                                    {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        desk.driver.execute_script("rpc.socket.close();")
        desk.until(lambda d: d.find("#connection").text == "Reconnecting…", "the page to notice")
        for i in range(3):
            self.system.inbound("+15557000300", SERVICE_NUMBER, f"While you were away {i}")
        desk.driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                                    {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        desk.until(lambda d: d.find("#connection").text == "Connected", "the page to reconnect")
        expected = [m["messageId"] for m in self.system.call("conversation.get", {"conversationId": conversation})["messages"]]
        self.assertEqual(len(expected), 5)
        desk.until(lambda d: [i for _, _, i in d.messages()] == expected, "every message once, in order")
        # A send while the socket is down is sent once when it is back (one idempotency key).
        desk.driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                                    {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        desk.driver.execute_script("rpc.socket.close();")
        desk.until(lambda d: d.find("#connection").text == "Reconnecting…", "the page to notice again")
        desk.send("Sent on a weak connection")
        desk.driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                                    {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        desk.until(lambda d: sum(t == "Sent on a weak connection" for _, t, _ in d.messages()) == 1
                   and "Delivered" in d.all(".conversation:not([hidden]) .message.outbound .status")[-1].text, "the send, once")
        texts = [m["text"] for m in self.system.call("conversation.get", {"conversationId": conversation})["messages"]]
        self.assertEqual(texts.count("Sent on a weak connection"), 1)
        ids = [i for _, _, i in desk.messages()]
        self.assertEqual(len(ids), len(set(ids)), "no message shown twice")

    def test_7_an_agent_cannot_act_as_another(self):
        desk = self.desk()
        desk.signed_in("alice")
        for method, params, field in (
            ("agent.view", {"agentId": "bob"}, "agentId"),
            ("sms.send", {"agentId": "bob", "serviceId": "support", "customerNumber": "+15557000400", "text": "hi"}, "agentId"),
            ("agent.setState", {"agentId": "bob", "state": "Ready"}, "agentId"),
            ("events.subscribe", {"filter": {"agentId": "bob"}}, None),
            ("log.read", {"after": 0}, None),
            ("directory.putAgent", {"agentId": "alice", "displayName": "x"}, None),
        ):
            answer = desk.request_call(method, params)
            self.assertEqual(answer.get("error"), "PermissionDenied", f"{method}: {answer}")
        # Another agent's conversation cannot be read either.
        sent = self.system.call("sms.send", {"agentId": "bob", "serviceId": "support", "customerNumber": "+15557000401", "text": "bob's"})
        answer = desk.request_call("conversation.get", {"conversationId": sent["conversationId"]})
        self.assertEqual(answer.get("error"), "PermissionDenied", answer)
        self.assertEqual(desk.request_call("agent.view", {})["result"]["agent"]["agentId"], "alice")

    def test_8_keyboard_only_and_phone_sized(self):
        desk = self.desk(width=390, height=844)
        desk.open()
        actions = desk.driver.switch_to.active_element
        # Sign in with the keyboard alone: the focus starts in the agent field.
        desk.until(lambda d: d.driver.switch_to.active_element.get_attribute("id") == "agent-id", "focus in the agent field")
        actions = desk.driver.switch_to.active_element
        actions.send_keys("bob" + Keys.TAB + PASSWORDS["bob"] + Keys.ENTER)
        desk.until(lambda d: d.find("#connection").text == "Connected", "the desk")
        self.assertLessEqual(desk.driver.execute_script("return document.documentElement.scrollWidth"),
                             desk.driver.execute_script("return window.innerWidth"), "no sideways scrolling on a phone")
        # Tab to the number field, type, Enter opens the conversation; type and Enter sends.
        def tab_to(element_id):
            for _ in range(40):
                if desk.driver.switch_to.active_element.get_attribute("id") == element_id:
                    return
                desk.driver.switch_to.active_element.send_keys(Keys.TAB)
            self.fail(f"Tab never reached #{element_id}")
        tab_to("customer-number")
        desk.driver.switch_to.active_element.send_keys("+15557000500" + Keys.ENTER)
        desk.until(lambda d: (d.driver.switch_to.active_element.tag_name == "textarea"), "the focus in the message field")
        desk.driver.switch_to.active_element.send_keys("Typed without a mouse" + Keys.ENTER)
        desk.until(lambda d: any(t == "Typed without a mouse" for _, t, _ in d.messages()), "the message sent")
        outline = desk.driver.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
        self.assertNotEqual(outline, "none", "the focus is visible")
        desk.axe("phone")
        desk.shot("phone.png")

    def test_8b_the_counter_is_hidden_when_the_directory_turns_it_off(self):
        desk = self.desk()
        desk.signed_in("bob")
        desk.start_sms("+15557000600")
        desk.until(lambda d: d.all(".conversation:not([hidden]) textarea"), "the conversation")
        desk.type("counted")
        desk.until(lambda d: d.counter() == "7", "the counter")
        self.system.call("directory.putSettings", {"smsCounterEnabled": False, "maxSegments": 10})
        try:
            desk.type("not counted")
            desk.until(lambda d: not d.active(".counter").is_displayed(), "the counter hidden")
        finally:
            self.system.call("directory.putSettings", {"smsCounterEnabled": True, "maxSegments": 10})
        desk.type("counted again")
        desk.until(lambda d: d.active(".counter").is_displayed() and d.counter() == "13", "the counter back")

    def test_9_first_load_is_small_and_stays_on_the_gateway(self):
        desk = self.desk()
        desk.open()
        entries = desk.driver.execute_script(
            "return performance.getEntries().filter(e => e.entryType === 'navigation' || e.entryType === 'resource')"
            ".map(e => ({name: e.name, size: e.transferSize || e.encodedBodySize || 0}))")
        total = sum(e["size"] for e in entries)
        self.assertLess(total, 300_000, entries)
        for entry in entries:
            self.assertTrue(entry["name"].startswith(self.system.url), entry)
        print(f"\nfirst load: {total} bytes in {len(entries)} requests", flush=True)

    def test_9b_help_is_answered_automatically_and_stop_disables_the_composer_until_start(self):
        desk = self.desk()
        desk.signed_in("alice")
        desk.set_state("Ready")
        desk.start_sms("+15557000700")
        desk.until(lambda d: d.all(".conversation:not([hidden]) textarea"), "the conversation to open")
        desk.send("Your order shipped today.")
        desk.until(lambda d: "Delivered" in d.active(".transcript .message.outbound .status").text, "Delivered")
        service_number = "+15550100100"
        # HELP: the daemon itself answers with the number's help text, shown as an automatic reply.
        help_text = self.system.call("directory.list")["optOut"]["helpText"]
        self.system.inbound("+15557000700", service_number, "HELP")
        desk.until(lambda d: any("automatic" in c and t == help_text for c, t, _ in d.messages()), "the automatic reply")
        # STOP: a banner says why, and the composer is disabled.
        self.system.inbound("+15557000700", service_number, "stop")
        desk.until(lambda d: d.active(".opted-out").is_displayed(), "the opt-out banner")
        self.assertIn("texted STOP", desk.active(".opted-out").text)
        self.assertFalse(desk.active("textarea").is_enabled())
        self.assertFalse(desk.active(".send").is_enabled())
        desk.axe("opted-out")
        # It survives a reload (from conversation.get), and START lifts it live.
        desk.driver.refresh()
        desk.until(lambda d: d.find("#connection").text == "Connected"
                   and any("+15557000700" in b.text for b in d.all("#conversation-list button")), "the desk after a reload")
        next(b for b in desk.all("#conversation-list button") if "+15557000700" in b.text).click()
        desk.until(lambda d: d.active(".opted-out").is_displayed(), "the banner after the reload")
        self.system.inbound("+15557000700", service_number, "START")
        desk.until(lambda d: not d.active(".opted-out").is_displayed(), "the banner to go")
        desk.until(lambda d: d.active("textarea").is_enabled(), "the composer to come back")
        conversation = desk.active().get_attribute("data-conversation-id")
        desk.active(".end-chat").click()
        desk.until(lambda d: self.system.call("conversation.get", {"conversationId": conversation})["conversation"]["status"] == "ended",
                   "the chat to end")


if __name__ == "__main__":
    unittest.main(verbosity=2)
