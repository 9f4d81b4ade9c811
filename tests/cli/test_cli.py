#!/usr/bin/env python3
"""The vyomcomm program's subcommands, run as a user runs them.

Each test works in a directory of its own with the built program
(VYOMCOMM_CLI): a store and key from `init`, sandbox channels, the
provider simulator (`vyomcomm sim`) for a delivery report. Run by
`meson test --suite cli`; exits 77 (skipped) without pytest.
"""

import json
import os
import pty
import select
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

try:
    import pytest
except ImportError:  # pragma: no cover
    if __name__ == "__main__":
        print(f"skipped: pytest is not importable by {sys.executable} "
              "(Debian: apt-get install python3-pytest)")
        sys.exit(77)
    raise

CLI = os.environ.get("VYOMCOMM_CLI", "vyomcomm")
SID = "AC0123456789abcdef0123456789abcdef"   # the simulator's Twilio account
TOKEN = "f0e1d2c3b4a5968778695a4b3c2d1e0f"


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("VYOMCOMM_")}
    env.update(extra)
    return env


class Cli:
    """Runs the program in `cwd` and checks its exit code."""

    def __init__(self, cwd):
        self.cwd = cwd

    def run(self, *args, code=0, env=None, stdin=None, timeout=120):
        p = subprocess.run([CLI] + list(args), cwd=self.cwd,
                           env=env if env is not None else clean_env(),
                           input=stdin, capture_output=True, text=True,
                           timeout=timeout)
        assert p.returncode == code, (
            f"vyomcomm {' '.join(args)}: exit {p.returncode}, want {code}\n"
            f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def json(self, *args, code=0, env=None, stdin=None):
        return json.loads(self.run(*args, "--json", code=code, env=env,
                                   stdin=stdin).stdout)


@pytest.fixture
def cli():
    with tempfile.TemporaryDirectory(prefix="cli-") as d:
        yield Cli(d)


@pytest.fixture
def shop(cli):
    """A store with one tenant, sandbox channels, a template, contacts."""
    cli.run("init")
    cli.run("tenant", "add", "shop", "--name", "Shop", "--currency", "INR")
    cli.run("channel", "add", "sms", "--provider", "sandbox-sms",
            "--sender", "+15550001111")
    cli.run("channel", "add", "voice", "--provider", "sandbox-voice",
            "ring_s:=0", "talk_s:=1", "--sender", "+15550002222")
    cli.run("template", "add", "offer", "--kind", "sms", "--text",
            "{{shop}}: 20% off, {{name}}", "--variables", "shop,name?",
            "--category", "marketing")
    return cli


def contact(cli, phone, name, *extra):
    return cli.json("contact", "add", "--phone", phone, "--name", name,
                    *extra)["id"]


def test_init_key_file_and_refusal(cli):
    out = cli.json("init")
    key = os.path.join(cli.cwd, out["key_file"])
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert len(open(key).read().strip()) == 64
    p = cli.run("init", code=6)
    assert "already exists" in p.stderr
    first = open(key).read()
    cli.run("init", "--force")
    assert open(key).read() != first
    # a store opened with another key is refused: exit 4
    with open(os.path.join(cli.cwd, "other.key"), "w") as f:
        f.write("00" * 32)
    os.chmod(os.path.join(cli.cwd, "other.key"), 0o600)
    cli.run("tenant", "list", "--key-file", "other.key", code=4)


def test_messaging_flow(shop):
    cli = shop
    asha = contact(cli, "+919810000001", "Asha", "--tags", "festival")
    p = cli.run("contact", "consent", asha, "--kind", "sms", "--state",
                "opted_in", "--category", "marketing")
    assert "opted_in" in p.stdout
    rows = cli.json("contact", "consent", asha)
    sms = [r for r in rows if r["kind"] == "sms" and
           r["category"] == "marketing"][0]
    assert sms["state"] == "opted_in" and sms["allowed"] is True

    assert cli.run("template", "render", "offer", "--var", "shop=Acme",
                   "--var", "name=Asha").stdout == "Acme: 20% off, Asha\n"
    # a required variable missing: the library's message, exit 1
    p = cli.run("template", "render", "offer", code=1)
    assert "shop" in p.stderr

    m = cli.json("send", "--to", "+919810000001", "--template", "offer",
                 "--var", "shop=Acme", "--channel", "sms", "--wait",
                 "--timeout", "30")
    assert m["status"] == "sent" and m["provider_id"].startswith("sandbox-")
    assert m["contact_id"] == asha and m["category"] == "marketing"
    assert cli.json("send", "show", m["id"])["status"] == "sent"

    # nobody opted in: refused for consent, exit 5, nothing stored
    bela = contact(cli, "+919810000002", "Bela")
    p = cli.run("send", "--to", "+919810000002", "--template", "offer",
                "--var", "shop=Acme", "--kind", "sms", code=5)
    assert "consent" in p.stderr
    assert bela


def start_sim(cli):
    """`vyomcomm sim` in the background; (process, {key: value})."""
    sim = subprocess.Popen([CLI, "sim", "--port", "0"], cwd=cli.cwd,
                           env=clean_env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    lines = {}
    while True:
        line = sim.stdout.readline()
        assert line, "the simulator exited: " + sim.stderr.read()
        if line.strip() == "ready":
            return sim, lines
        k, _, v = line.strip().partition(" ")
        lines[k] = v


def stop_sim(sim):
    sim.send_signal(signal.SIGINT)
    assert sim.wait(timeout=30) == 0
    sim.stdout.close()
    sim.stderr.close()


def test_send_with_attachments(shop):
    cli = shop
    sim, lines = start_sim(cli)
    try:
        cli.run("channel", "add", "mail", "--provider", "sendgrid",
                "base_url=" + lines["url"], "--sender", "shop@example.com",
                "--credentials-json", "-",
                stdin=json.dumps({"api_key": lines["sendgrid.api_key"]}))
        pdf = os.path.join(cli.cwd, "invoice.pdf")
        with open(pdf, "wb") as f:
            f.write(b"%PDF-1.4 " + bytes(range(256)) * 40)
        notes = os.path.join(cli.cwd, "notes.dat")
        with open(notes, "wb") as f:
            f.write(b"a,b\n1,2\n")
        # SendGrid's simulator checks each attachment's base64 content,
        # type and name; "sent" means it took them.
        m = cli.json("send", "--to", "asha@example.com", "--channel", "mail",
                     "--subject", "Invoice", "--text", "attached",
                     "--attach", pdf, "--attach", notes + ";type=text/csv",
                     "--wait", "--timeout", "30")
        assert m["status"] == "sent", m
        # Twilio MMS: media by URL
        cli.run("channel", "add", "twilio", "--provider", "twilio-sms",
                "base_url=" + lines["url"], "account_sid=" + SID,
                "--sender", "+15005550006", "--credentials-json", "-",
                stdin=json.dumps({"auth_token": TOKEN}))
        m = cli.json("send", "--to", "+919810000004", "--channel", "twilio",
                     "--text", "photo", "--attach-url",
                     "https://example.com/p/a.png?v=2", "--wait",
                     "--timeout", "30")
        assert m["status"] == "sent" and m["provider_id"].startswith("MM"), m
    finally:
        stop_sim(sim)
    before = cli.json("send", "show", m["id"])
    # refused before anything is stored
    p = cli.run("send", "--to", "asha@example.com", "--channel", "mail",
                "--text", "x", "--attach", "missing.pdf", code=2)
    assert "missing.pdf" in p.stderr
    p = cli.run("send", "--to", "asha@example.com", "--channel", "mail",
                "--text", "x", *(["--attach", pdf] * 11), code=2)
    assert "too many attachments" in p.stderr
    p = cli.run("send", "--to", "+919810000004", "--channel", "twilio",
                "--text", "x", "--attach-url", "http://example.com/a.png",
                code=1)
    assert "https" in p.stderr
    assert cli.json("send", "show", m["id"]) == before


def test_delivery_report_from_the_simulator(shop):
    cli = shop
    sim, lines = start_sim(cli)
    try:
        assert lines["twilio.account_sid"] == SID
        url = lines["url"]
        cli.run("channel", "add", "twilio", "--provider", "twilio-sms",
                "base_url=" + url, "account_sid=" + SID, "--sender",
                "+15005550006", "--credentials-json", "-",
                stdin=json.dumps({"auth_token": TOKEN}))
        ch = cli.json("channel", "show", "twilio")
        assert ch["settings"] == {"base_url": url, "account_sid": SID}
        assert "auth_token" not in json.dumps(ch)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        m = cli.json("send", "--to", "+919810000003", "--text", "hello",
                     "--channel", "twilio", "--wait", "--timeout", "30",
                     "--listen", f"127.0.0.1:{port}",
                     "--base-url", f"http://127.0.0.1:{port}")
        assert m["status"] == "delivered", m
        assert m["provider_id"].startswith("SM")
    finally:
        stop_sim(sim)


def test_call_through_sandbox_voice(shop):
    cli = shop
    c = cli.json("call", "start", "--customer", "+919810000001",
                 "--agent-number", "+15550003333", "--wait", "--timeout",
                 "60")
    assert c["state"] == "completed" and c["cause"] == "normal"
    types = [e["type"] for e in c["timeline"]]
    assert "bridged" in types and "hangup" in types
    shown = cli.run("call", "show", c["id"]).stdout
    assert "timeline:" in shown and "bridged" in shown
    calls = cli.json("call", "list")
    assert [x["id"] for x in calls] == [c["id"]]
    # a finished call cannot be hung up: exit 6
    cli.run("call", "hangup", c["id"], code=6)


def test_campaign_run_plain_lines(shop):
    cli = shop
    ids = [contact(cli, f"+91981000001{i}", f"P{i}", "--tags", "fest")
           for i in range(3)]
    for i in ids[:2]:
        cli.run("contact", "consent", i, "--kind", "sms", "--state",
                "opted_in", "--category", "marketing")
    camp = cli.json("campaign", "create", "fest", "--template", "offer",
                    "--chain", "sms", "--tag", "fest", "--var", "shop=Acme",
                    "--rate", "50")
    assert camp["state"] == "draft"
    p = cli.run("campaign", "run", camp["id"], "--timeout", "60")
    lines = [l for l in p.stdout.splitlines() if l.startswith("progress:")]
    assert lines and "state completed" in lines[-1]
    assert "\r" not in p.stdout + p.stderr   # no bar without a terminal
    done = cli.json("campaign", "show", camp["id"])
    assert done["state"] == "completed"
    assert done["progress"]["sent"] == 2
    assert done["progress"]["skipped_consent"] == 1
    assert [x["id"] for x in cli.json("campaign", "list")] == [camp["id"]]
    cli.run("campaign", "pause", camp["id"], code=6)

    # the bar, on a terminal (stderr a pty)
    camp2 = cli.json("campaign", "create", "again", "--template", "offer",
                     "--chain", "sms", "--contacts", ids[0], "--var",
                     "shop=Acme")
    master, slave = pty.openpty()
    p = subprocess.Popen([CLI, "campaign", "run", camp2["id"]],
                         cwd=cli.cwd, env=clean_env(), stdout=subprocess.PIPE,
                         stderr=slave)
    os.close(slave)
    out = b""
    deadline = time.time() + 60
    while time.time() < deadline:
        r, _, _ = select.select([master], [], [], 1)
        if r:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif p.poll() is not None:
            break
    assert p.wait(timeout=60) == 0
    p.stdout.close()
    os.close(master)
    assert b"\r[" in out and b"100%" in out, out


def test_inbox_and_stats(shop):
    cli = shop
    assert cli.json("inbox", "list") == []
    assert "(none)" in cli.run("inbox", "list").stdout
    cli.run("inbox", "show", "01ARZ3NDEKTSV4RRFFQ69G5FAV", code=3)
    contact(cli, "+919810000001", "Asha")
    cli.run("send", "--to", "+919810000001", "--text", "hi", "--kind",
            "sms", "--wait")
    doc = cli.json("stats", "--what", "messages,calls")
    assert doc["messages"]["by_status"]["sent"] == 1
    assert "calls" in doc and "costs" not in doc
    table = cli.run("stats").stdout
    assert "messages" in table and "sandbox-sms" in table
    cli.run("stats", "--what", "bogus", code=2)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_inbox_conversation(shop):
    """An inbound Telegram message, posted to the listener a waiting send
    runs, opens a conversation: list, show, agents and assignment,
    reply, status."""
    cli = shop
    cli.run("channel", "add", "tg", "--provider", "telegram",
            "base_url=http://127.0.0.1:9", "--sender", "acme_bot",
            "--secret", "bot_token=123456:" + "A" * 32,
            "--secret", "webhook_secret=s3cret")
    ch = cli.json("channel", "show", "tg")
    port = free_port()
    # a message due in 2030 keeps --wait (and its listener) running
    waiting = subprocess.Popen(
        [CLI, "send", "--to", "555", "--text", "later", "--channel", "tg",
         "--send-at", "2030-01-01T00:00Z", "--wait", "--timeout", "30",
         "--listen", f"127.0.0.1:{port}",
         "--base-url", f"http://127.0.0.1:{port}"],
        cwd=cli.cwd, env=clean_env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    update = json.dumps({"update_id": 1, "message": {
        "message_id": 7, "from": {"id": 555, "is_bot": False,
                                  "first_name": "Asha"},
        "chat": {"id": 555, "type": "private", "first_name": "Asha"},
        "date": int(time.time()), "text": "where is my order?"}}).encode()
    try:
        status = None
        for _ in range(100):
            try:
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}" + ch["webhook_path"],
                    data=update, method="POST", headers={
                        "Content-Type": "application/json",
                        "X-Telegram-Bot-Api-Secret-Token": "s3cret"})
                status = urllib.request.urlopen(req, timeout=5).status
                break
            except (ConnectionError, urllib.error.URLError):
                time.sleep(0.1)
        assert status == 200
    finally:
        waiting.send_signal(signal.SIGINT)
        assert waiting.wait(timeout=30) == 7   # interrupted: not final
        waiting.stdout.close()
        waiting.stderr.close()
    convs = cli.json("inbox", "list", "--unread")
    assert len(convs) == 1 and convs[0]["unread"] == 1
    cid = convs[0]["id"]
    shown = cli.json("inbox", "show", cid)
    assert [i["text"] for i in shown["timeline"]] == ["where is my order?"]
    # agents: add, state, assign the conversation by name, delete
    ag = cli.json("agent", "add", "asha", "--number", "+15550004444",
                  "--display-name", "Asha K", "--wrap-up", "10")
    assert ag["state"] == "offline" and ag["wrap_up_s"] == 10
    cli.run("agent", "add", "asha", "--number", "+15550004445", code=6)
    cli.run("agent", "add", "bob", code=2)          # needs --number
    p = cli.run("agent", "state", "asha", "break", code=1)
    assert "a break needs a reason" in p.stderr
    p = cli.run("agent", "state", "asha", "sleeping", code=2)
    assert "unknown agent state" in p.stderr
    assert cli.json("agent", "state", "asha", "available")["state"] == \
        "available"
    assert [x["name"] for x in cli.json("agent", "list", "--state",
                                        "available")] == ["asha"]
    up = cli.json("agent", "update", "asha", "--display-name", "Asha")
    assert up["display_name"] == "Asha" and up["number"] == "+15550004444"
    assigned = cli.json("inbox", "assign", cid, "asha")
    assert assigned["assignee_id"] == ag["id"]
    cli.run("inbox", "assign", cid, "nobody", code=3)
    cli.run("agent", "delete", "asha", code=6)      # not offline
    cli.json("agent", "state", ag["id"], "offline")
    assert cli.json("agent", "delete", "asha") == {"id": ag["id"],
                                                   "deleted": True}
    assert cli.json("inbox", "show", cid)["assignee_id"] == ""
    cli.run("agent", "show", "asha", code=3)
    assert cli.json("inbox", "assign", cid, "--none")["assignee_id"] == ""
    r = cli.json("inbox", "reply", cid, "--text", "on its way")
    assert r["conversation_id"] == cid and len(r["message_id"]) == 26
    done = cli.json("inbox", "status", cid, "resolved")
    assert done["status"] == "resolved" and done["unread"] == 0
    assert [i["type"] for i in done["timeline"]] == ["inbound", "outbound"]
    assert cli.json("inbox", "list", "--status", "open") == []
    cli.run("inbox", "status", cid, "snoozed", code=2)   # needs --until
    table = cli.run("stats", "--what", "inbound").stdout
    assert "inbound messages 1" in table


def test_lists_as_json(shop):
    cli = shop
    contact(cli, "+919810000001", "Asha", "--field", "city=Pune",
            "--field", "vip:=true")
    for args in (["tenant", "list"], ["channel", "list"],
                 ["template", "list"], ["contact", "list"],
                 ["call", "list"], ["campaign", "list"],
                 ["inbox", "list"], ["agent", "list"]):
        v = cli.json(*args)
        assert isinstance(v, list), args
    assert [c["name"] for c in cli.json("channel", "list")] == ["sms",
                                                                "voice"]
    c = cli.json("contact", "list")[0]
    assert c["fields"] == {"city": "Pune", "vip": True}
    assert cli.json("tenant", "show")["currency"] == "INR"
    cli.run("channel", "disable", "sms")
    assert [c["name"] for c in cli.json("channel", "list")] == ["voice"]
    assert len(cli.json("channel", "list", "--all")) == 2
    r = cli.json("contact", "import", "-", code=1,
                 stdin="name,phone,tags\nCid,+919810000077,a;b\nBad,xyz,\n")
    assert r == {"rows": 2, "created": 1, "updated": 0, "rejected": 1}


def test_changes(shop):
    """update, delete, tag, variants and the campaign's life."""
    cli = shop
    t = cli.json("tenant", "update", "shop", "--quiet", "21:00-09:00",
                 "--name", "Shop Two")
    assert t["quiet_hours"] == "21:00-09:00" and t["name"] == "Shop Two"
    assert cli.json("tenant", "update", "shop",
                    "--currency", "USD")["quiet_hours"] == "21:00-09:00"
    assert cli.json("tenant", "update", "shop", "--quiet",
                    "none")["quiet_hours"] is None
    cli.run("tenant", "update", "shop", "--quiet", "25:00-09:00", code=2)
    ch = cli.json("channel", "update", "sms", "--priority", "5")
    assert ch["priority"] == 5
    v = cli.json("template", "variant", "offer", "--kind", "sms",
                 "--locale", "hi", "--text", "{{shop}}: 20% chhoot",
                 "--variables", "shop")
    assert v["version"] == 2
    assert cli.run("template", "render", "offer", "--locale", "hi",
                   "--var", "shop=Acme").stdout == "Acme: 20% chhoot\n"
    asha = contact(cli, "+919810000001", "Asha")
    assert cli.json("contact", "tag", asha, "vip")["tags"] == ["vip"]
    assert cli.json("contact", "tag", "+919810000001", "vip",
                    "--remove")["tags"] == []
    camp = cli.json("campaign", "create", "slow", "--template", "offer",
                    "--chain", "sms", "--contacts", asha, "--var",
                    "shop=A", "--start")
    assert camp["state"] == "running"
    assert cli.json("campaign", "pause", camp["id"])["state"] == "paused"
    cli.run("campaign", "run", camp["id"], "--timeout", "5", code=6)
    assert cli.json("campaign", "resume", camp["id"])["state"] == "running"
    assert cli.json("campaign", "cancel", camp["id"])["state"] == "canceled"
    cli.run("campaign", "cancel", camp["id"], code=6)
    cli.run("tenant", "add", "gone")
    assert cli.json("tenant", "delete", "gone")["deleted"] is True
    cli.run("tenant", "show", "gone", code=3)
    assert [x["slug"] for x in cli.json("tenant", "list")] == ["shop"]


def test_bad_usage_exits_2(shop):
    cli = shop
    for args in (["tenant"], ["tenant", "frob"], ["send", "--to"],
                 ["send", "--to", "+919810000001", "--kind", "sms"],
                 ["channel", "add", "x"], ["contact", "list", "--bogus"],
                 ["nosuchcommand"], ["call", "start", "--customer", "+1"],
                 ["stats", "--hours", "zero"],
                 ["channel", "add", "x", "--provider", "sandbox-sms",
                  "novalue"]):
        p = cli.run(*args, code=2)
        assert p.stderr.startswith("vyomcomm: "), (args, p.stderr)
    assert "usage: vyomcomm tenant" in cli.run("help", "tenant").stdout
    assert "usage: vyomcomm send" in cli.run("send", "--help").stdout
    h = cli.run("help").stdout
    assert "3 not found" in h and "campaign" in h
    # several tenants, none named: a usage error
    cli.run("tenant", "add", "other")
    cli.run("contact", "list", code=2)


def test_not_found_and_tenant_isolation(shop):
    cli = shop
    asha = contact(cli, "+919810000001", "Asha")
    cli.run("tenant", "add", "other")
    p = cli.run("--tenant", "nope", "contact", "list", code=3)
    assert "nope" in p.stderr
    cli.run("--tenant", "shop", "contact", "show", asha)
    # another tenant's contact, channel and template are not found
    cli.run("--tenant", "other", "contact", "show", asha, code=3)
    cli.run("--tenant", "other", "channel", "show", "sms", code=3)
    cli.run("--tenant", "other", "template", "render", "offer", code=3)
    cli.run("--tenant", "shop", "call", "show", "nosuchid", code=3)
    cli.run("--tenant", "shop", "campaign", "show",
            "01ARZ3NDEKTSV4RRFFQ69G5FAV", code=3)
    cli.run("--tenant", "shop", "tenant", "show", "ghost", code=3)
    err = cli.json("--tenant", "other", "contact", "show", asha, code=3)
    assert err["error"]["code"] == -3 and err["error"]["name"]
    # the tenant is given by its id as well
    tid = cli.json("tenant", "show", "other")["id"]
    assert cli.json("--tenant", tid, "tenant", "show")["slug"] == "other"


def test_config_precedence(cli):
    """Flags over the environment over the file."""
    for n in ("a", "b", "c"):
        cli.run("init", "--store", f"{n}.db", "--key-file", f"{n}.key")
        cli.run("tenant", "add", f"t{n}", "--store", f"{n}.db",
                "--key-file", f"{n}.key")
    with open(os.path.join(cli.cwd, "vyomcomm.conf"), "w") as f:
        f.write("# the file\nstore = c.db\nkey_file = c.key\n")
    env = clean_env(VYOMCOMM_STORE="b.db", VYOMCOMM_KEY_FILE="b.key")

    def slug(*args, env=None):
        return cli.json("tenant", "show", *args, env=env)["slug"]

    assert slug("--store", "a.db", "--key-file", "a.key", env=env) == "ta"
    assert slug(env=env) == "tb"
    assert slug() == "tc"
    # one flag over the environment, the rest from it
    assert slug("--store", "a.db", env=clean_env(
        VYOMCOMM_KEY_FILE="a.key", VYOMCOMM_STORE="b.db")) == "ta"
    # the tenant from each source
    cli.run("tenant", "add", "second", "--store", "c.db", "--key-file",
            "c.key")
    with open(os.path.join(cli.cwd, "vyomcomm.conf"), "a") as f:
        f.write("tenant = tc\n")
    assert slug() == "tc"
    assert slug(env=clean_env(VYOMCOMM_TENANT="second")) == "second"
    assert slug("--tenant", "tc",
                env=clean_env(VYOMCOMM_TENANT="second")) == "tc"
    # --config and VYOMCOMM_CONFIG name another file
    with open(os.path.join(cli.cwd, "other.conf"), "w") as f:
        f.write("store = a.db\nkey_file = a.key\n")
    assert slug("--config", "other.conf") == "ta"
    assert slug(env=clean_env(VYOMCOMM_CONFIG="other.conf")) == "ta"
    assert slug("--config", "other.conf",
                env=clean_env(VYOMCOMM_CONFIG="missing.conf")) == "ta"
    # a bad file is a usage error
    cli.run("tenant", "list", "--config", "missing.conf", code=2)
    with open(os.path.join(cli.cwd, "bad.conf"), "w") as f:
        f.write("colour = blue\n")
    p = cli.run("tenant", "list", "--config", "bad.conf", code=2)
    assert "unknown key" in p.stderr


def main():
    sys.dont_write_bytecode = True
    return int(pytest.main([__file__, "-q", "-p", "no:cacheprovider",
                            "-rs"] + sys.argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
