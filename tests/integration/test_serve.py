#!/usr/bin/env python3
"""`vyomcomm serve` end to end over real HTTP.

Starts the provider simulator and the built `vyomcomm serve` in a
temporary directory (the key file and two tenants made here, API keys
with `vyomcomm apikey`), then drives the REST API: channels, a message
delivered through the simulator's signed webhooks, attachments, a click-to-call and
its timeline, agents, queues and numbers (lookups, updates, deletes),
bulk send, templates, the webhook route with ?channel=,
statistics, contacts and campaigns; authentication failures, another
tenant's ids, malformed and oversized bodies, unknown routes; that the
routes and docs/openapi.json list the same operations; and a clean stop
on SIGTERM.

usage: test_serve.py VYOMCOMM_PROGRAM SERVE_SETUP_PROGRAM SIM_PROGRAM
(VC_SOURCE_ROOT and TMPDIR come from meson.)
"""
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.environ.get("VC_SOURCE_ROOT",
                      os.path.join(os.path.dirname(__file__), "..", ".."))

TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_TOKEN = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
SENDGRID_KEY = ("SG.c2ltdWxhdG9yLWtleS0w."
                "c2ltdWxhdG9yLXNlY3JldC1mb3ItdGVzdHMtb25seS0w")  # sim.h
FAILURES = []


def check(cond, what):
    print(("ok     " if cond else "FAILED ") + what, flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Api:
    def __init__(self, port):
        self.port = port

    def call(self, method, path, body=None, key=None, raw=None,
             headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        h = dict(headers or {})
        if key is not None:
            h["Authorization"] = "Bearer " + key
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            text = r.read()
        finally:
            conn.close()
        ctype = r.getheader("Content-Type", "")
        doc = None
        if ctype.startswith("application/json") and text:
            try:
                doc = json.loads(text.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                doc = None      # not JSON in UTF-8: the checks fail
        return r.status, doc, text


def wait_for(fn, what, timeout=20.0):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        last = fn()
        if last:
            return last
        time.sleep(0.1)
    check(False, what + " (timed out)")
    return last


def is_error(status, doc, want_status, want_name):
    return (status == want_status and isinstance(doc, dict) and
            "error" in doc and doc["error"].get("name") == want_name and
            isinstance(doc["error"].get("code"), int) and
            isinstance(doc["error"].get("message"), str))


def main():
    prog, setup_prog, sim_prog = (os.path.abspath(p) for p in sys.argv[1:4])
    work = tempfile.mkdtemp(prefix="serve.", dir=os.environ.get("TMPDIR"))
    env = dict(os.environ)
    for k in ("VYOMCOMM_STORE", "VYOMCOMM_KEY_FILE", "VYOMCOMM_TENANT",
              "VYOMCOMM_BASE_URL", "VYOMCOMM_CONFIG"):
        env.pop(k, None)
    procs = []
    try:
        run(prog, setup_prog, sim_prog, work, env, procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if not FAILURES:
            shutil.rmtree(work, ignore_errors=True)
    if FAILURES:
        print("%d failed:" % len(FAILURES))
        for f in FAILURES:
            print("  " + f)
        return 1
    return 0


def cli(prog, work, env, *args):
    out = subprocess.run([prog] + list(args), cwd=work, env=env,
                         capture_output=True, text=True, timeout=60)
    return out.returncode, out.stdout, out.stderr


def run(prog, setup_prog, sim_prog, work, env, procs):
    # The key file and the store, as `vyomcomm init` would leave them.
    key = os.urandom(32)
    with open(os.path.join(work, "vyomcomm.key"), "w") as f:
        f.write(key.hex() + "\n")
    out = subprocess.run([setup_prog, "vyomcomm.db", "vyomcomm.key", "acme",
                          "globex"], cwd=work, env=env, capture_output=True,
                         text=True, timeout=60)
    check(out.returncode == 0, "store and tenants made " + out.stderr)

    keys = {}
    for slug in ("acme", "globex", "acme"):
        rc, out, err = cli(prog, work, env, "apikey", "add", "--tenant", slug,
                           "--label", "test", "--json")
        check(rc == 0, "apikey add " + slug + " " + err)
        doc = json.loads(out)
        keys.setdefault(slug, []).append(doc)
    ka, kb = keys["acme"][0]["secret"], keys["globex"][0]["secret"]
    revoked = keys["acme"][1]

    # The simulator, then the server with its public URL.
    sim = subprocess.Popen([sim_prog, "--port", "0"], stdout=subprocess.PIPE,
                           text=True, env=env)
    procs.append(sim)
    sim_url = None
    for line in sim.stdout:
        if line.startswith("url "):
            sim_url = line.split()[1]
            break
    check(sim_url is not None, "simulator started")
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    srv = subprocess.Popen([prog, "serve", "--listen", "127.0.0.1:%d" % port,
                            "--threads", "2", "--base-url", base],
                           cwd=work, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    procs.append(srv)
    line = srv.stdout.readline()
    check("serving http://127.0.0.1:%d/api/v1/" % port in line,
          "server started: " + line.strip())
    api = Api(port)
    V = "/api/v1"

    # ---- the document and the routes ---------------------------------
    st, doc, text = api.call("GET", V + "/openapi.json")
    with open(os.path.join(ROOT, "docs", "openapi.json"), "rb") as f:
        check(st == 200 and text == f.read(),
              "GET /api/v1/openapi.json serves docs/openapi.json")
    documented = set((m.upper(), p) for p, ops in doc["paths"].items()
                     for m in ops)
    rc, out, _ = cli(prog, work, env, "serve", "--routes")
    routed = set(tuple(x.split(" ", 1)) for x in out.splitlines() if x)
    check(rc == 0 and routed == documented,
          "every route is in openapi.json and vice versa (%s / %s)"
          % (sorted(routed - documented), sorted(documented - routed)))
    for p, ops in doc["paths"].items():
        for m, o in ops.items():
            check("responses" in o and any(c.startswith("2")
                                           for c in o["responses"]),
                  "documented answer of %s %s" % (m, p))

    # ---- unknown routes, methods, authentication ---------------------
    st, doc, _ = api.call("GET", "/nope", key=ka)
    check(is_error(st, doc, 404, "VC_ENOTFOUND"), "unknown route: 404 JSON")
    st, doc, _ = api.call("GET", V + "/communication/nope", key=ka)
    check(is_error(st, doc, 404, "VC_ENOTFOUND"), "unknown /api/v1 route")
    st, doc, _ = api.call("DELETE", V + "/communication/channels", key=ka)
    check(st == 405 and doc["error"]["name"] == "VC_EINVALID",
          "wrong method: 405 JSON")
    st, doc, _ = api.call("GET", V + "/communication/channels")
    check(is_error(st, doc, 401, "VC_EAUTH"), "no key: 401")
    st, doc, _ = api.call("GET", V + "/communication/channels",
                          key=ka[:-1] + ("0" if ka[-1] != "0" else "1"))
    check(is_error(st, doc, 401, "VC_EAUTH"), "wrong key: 401")
    st, doc, _ = api.call("GET", V + "/communication/channels",
                          headers={"Authorization": "Basic " + ka})
    check(is_error(st, doc, 401, "VC_EAUTH"), "not a Bearer key: 401")
    st, _, _ = api.call("GET", V + "/communication/channels",
                        key=revoked["secret"])
    check(st == 200, "second key works before it is revoked")
    rc, _, err = cli(prog, work, env, "apikey", "revoke", revoked["id"],
                     "--tenant", "acme")
    check(rc == 0, "apikey revoke " + err)
    st, doc, _ = api.call("GET", V + "/communication/channels",
                          key=revoked["secret"])
    check(is_error(st, doc, 401, "VC_EAUTH"), "revoked key: 401")
    rc, out, _ = cli(prog, work, env, "apikey", "list", "--tenant", "acme",
                     "--json")
    check(rc == 0 and len(out.splitlines()) == 1, "apikey list hides the "
          "revoked key")

    # ---- channels and pagination --------------------------------------
    twilio = {"name": "sms-twilio", "provider": "twilio-sms",
              "config_json": {"account_sid": TWILIO_SID, "base_url": sim_url},
              "credentials_json": {"auth_token": TWILIO_TOKEN},
              "sender": "+15005550006"}
    st, ch_tw, _ = api.call("POST", V + "/communication/channels", twilio,
                            key=ka)
    check(st == 201 and ch_tw["kind"] == "sms" and
          "credentials_json" not in ch_tw and
          TWILIO_TOKEN not in json.dumps(ch_tw), "twilio channel, no secret")
    st, ch_sb, _ = api.call("POST", V + "/communication/channels",
                            {"name": "sms-sandbox", "provider": "sandbox-sms",
                             "sender": "+15550001111", "priority": 200},
                            key=ka)
    check(st == 201, "sandbox sms channel")
    st, doc, _ = api.call("POST", V + "/communication/channels",
                          {"name": "sms-sandbox", "provider": "sandbox-sms"},
                          key=ka)
    check(is_error(st, doc, 409, "VC_EEXISTS"), "duplicate name: 409")
    st, voice, _ = api.call("POST", V + "/voip-providers",
                            {"name": "voice-sandbox",
                             "provider": "sandbox-voice",
                             "sender": "+15550002222",
                             "config_json": {"ring_s": 1, "talk_s": -1}},
                            key=ka)
    check(st == 201 and voice["kind"] == "voice", "voice provider")
    st, doc, _ = api.call("POST", V + "/voip-providers",
                          {"name": "x", "provider": "sandbox-sms"}, key=ka)
    check(st == 400, "a messaging provider is not a voip provider")
    st, doc, _ = api.call("GET", V + "/voip-providers", key=ka)
    check(st == 200 and [c["id"] for c in doc["items"]] == [voice["id"]],
          "GET /voip-providers lists the voice channel only")
    st, p1, _ = api.call("GET", V + "/communication/channels?limit=2",
                         key=ka)
    check(st == 200 and len(p1["items"]) == 2 and p1["next"],
          "first page of 2 with a cursor")
    st, p2, _ = api.call("GET", V + "/communication/channels?limit=2&after="
                         + p1["next"], key=ka)
    ids = [c["id"] for c in p1["items"] + p2["items"]]
    check(st == 200 and len(p2["items"]) == 1 and p2["next"] is None and
          len(set(ids)) == 3, "second page ends the list")
    st, doc, _ = api.call("GET", V + "/communication/channels?limit=0",
                          key=ka)
    check(is_error(st, doc, 400, "VC_EINVALID"), "limit=0: 400")

    # ---- a message delivered through the simulator's webhooks --------
    st, sent, _ = api.call("POST", V + "/communication/messages",
                           {"channel": "sms-twilio", "to": "+14155550123",
                            "text": "hello over REST"}, key=ka)
    check(st == 202 and sent["status"] == "queued", "message accepted")

    def delivered():
        s, m, _ = api.call("GET", V + "/communication/messages/" + sent["id"],
                           key=ka)
        return m if s == 200 and m["status"] == "delivered" else None
    m = wait_for(delivered, "message delivered")
    check(m is not None and m["provider_id"], "message delivered by twilio")
    st, doc, _ = api.call("GET", V + "/communication/sessions?status="
                          "delivered", key=ka)
    check(st == 200 and sent["id"] in [x["id"] for x in doc["items"]],
          "GET /communication/sessions lists it")

    # ---- attachments: bytes as base64, or a URL --------------------------
    st, ch_sg, _ = api.call("POST", V + "/communication/channels", {
        "name": "mail-sendgrid", "provider": "sendgrid",
        "config_json": {"base_url": sim_url},
        "credentials_json": {"api_key": SENDGRID_KEY},
        "sender": "billing@example.com"}, key=ka)
    check(st == 201 and ch_sg["kind"] == "email", "sendgrid channel")
    pdf = b"%PDF-1.4 invoice 42\n" + bytes(range(256))
    att = {"filename": "invoice.pdf", "content_type": "application/pdf",
           "data_base64": base64.b64encode(pdf).decode()}
    st, mail, _ = api.call("POST", V + "/communication/messages",
                           {"channel": "mail-sendgrid",
                            "to": "ravi@example.com", "subject": "Invoice",
                            "text": "attached", "attachments": [att]},
                           key=ka)
    check(st == 202, "email with a base64 attachment accepted")
    st, mms, _ = api.call("POST", V + "/communication/messages", {
        "channel": "sms-twilio", "to": "+14155550124", "text": "photo",
        "attachments": [{"filename": "a.png", "content_type": "image/png",
                         "url": "https://example.com/a.png"}]}, key=ka)
    check(st == 202, "MMS with a media URL accepted")

    def is_sent(mid):
        s, m, _ = api.call("GET", V + "/communication/messages/" + mid,
                           key=ka)
        return m if s == 200 and m["status"] in ("sent", "delivered") \
            else None
    check(wait_for(lambda: is_sent(mail["id"]), "email sent") is not None,
          "the simulator took SendGrid's attachment")
    check(wait_for(lambda: is_sent(mms["id"]), "MMS sent") is not None,
          "the simulator took Twilio's MediaUrl")
    bad = [
        ([dict(att, data_base64="not base64!")], "attachments[0]"),
        ([dict(att, url="https://example.com/x.pdf")], "one of"),
        ([{"filename": "x", "content_type": "text/plain"}], "one of"),
        ([{"content_type": "text/plain", "url": "https://e.com/x"}],
         "'filename'"),
        ([att] * 11, "at most 10"),
        ([att, "x"], "attachments[1]"),
        ({"x": 1}, "'attachments'"),
        ([{"filename": "x.pdf", "content_type": "application/pdf",
           "url": "http://example.com/x.pdf"}], "https"),
    ]
    for atts, words in bad:
        st, doc, _ = api.call("POST", V + "/communication/messages",
                              {"channel": "mail-sendgrid",
                               "to": "ravi@example.com", "subject": "s",
                               "text": "t", "attachments": atts}, key=ka)
        check(is_error(st, doc, 400, "VC_EINVALID") and
              words in doc["error"]["message"],
              "bad attachments %.60s: 400 (%s)" % (atts, doc))
    st, doc, _ = api.call("GET", V + "/communication/sessions?channel="
                          + ch_sg["id"], key=ka)
    check(st == 200 and [x["id"] for x in doc["items"]] == [mail["id"]],
          "no message stored for a refused attachment")

    # ---- templates and bulk send ---------------------------------------
    st, tpl, _ = api.call("POST", V + "/communication/templates",
                          {"name": "otp", "kind": "sms",
                           "text_body": "code {{code}}",
                           "category": "otp"}, key=ka)
    check(st == 201 and tpl["name"] == "otp", "template created " + str(tpl))
    st, doc, _ = api.call("GET", V + "/communication/templates", key=ka)
    check(st == 200 and len(doc["items"]) == 1, "templates listed")
    st, doc, _ = api.call("POST", V + "/communication/bulk-send", {
        "messages": [
            {"channel": "sms-sandbox", "to": "+14155550101",
             "template_name": "otp", "vars_json": {"code": "1234"}},
            {"channel": "sms-sandbox", "to": "+14155550102", "text": "b"},
            {"channel": "sms-sandbox", "to": "not-a-number", "text": "c"}]},
        key=ka)
    check(st == 202 and doc["accepted"] == 2 and doc["rejected"] == 1 and
          doc["results"][2]["id"] is None and
          doc["results"][2]["error"]["code"] == -5, "bulk send: 2 of 3 " + str(doc))

    # ---- click-to-call --------------------------------------------------
    st, agent, _ = api.call("POST", V + "/agents",
                            {"name": "asha", "number": "+14155550190"},
                            key=ka)
    check(st == 201, "agent created")
    api.call("PATCH", V + "/agents/" + agent["id"] + "/state",
             {"state": "available"}, key=ka)
    st, call, _ = api.call("POST", V + "/click-to-call/initiate",
                           {"agent": "asha", "customer_number": "+14155550191",
                            "metadata_json": {"order": 42}}, key=ka)
    check(st == 202 and call["state"] == "initiated", "call initiated")

    def bridged():
        s, c, _ = api.call("GET", V + "/click-to-call/sessions/" + call["id"],
                           key=ka)
        return c if s == 200 and c["state"] == "bridged" else None
    c = wait_for(bridged, "call bridged")
    check(c is not None and c["metadata_json"] == {"order": 42} and
          any(e["type"] == "bridged" or e.get("state") == "bridged"
              for e in c["timeline"]), "session with its timeline")

    # The webhook route with ?channel=: a sandbox DTMF event.
    ev = {"type": "dtmf", "leg": "customer", "digits": "7",
          "event_id": "ev-dtmf-1", "provider_call_id": c["provider_id"]}
    st, _, _ = api.call("POST", V + "/communication/webhooks/voice?channel="
                        + voice["id"], ev)
    check(st == 200, "webhook through /communication/webhooks/{type}")
    st, _, _ = api.call("POST", V + "/communication/webhooks/voice?channel="
                        "01HZZZZZZZZZZZZZZZZZZZZZZZ", ev)
    check(st == 404, "webhook for an unknown channel: 404")
    st, _, _ = api.call("POST", V + "/communication/webhooks/sms?channel="
                        + ch_tw["id"], raw=b"MessageSid=SM1&MessageStatus="
                        b"delivered", headers={"Content-Type":
                                               "application/x-www-form-"
                                               "urlencoded"})
    check(st == 401, "an unsigned twilio webhook: 401")
    st, c2, _ = api.call("GET", V + "/click-to-call/sessions/" + call["id"],
                         key=ka)
    check(any(e["type"] == "dtmf" for e in c2["timeline"]),
          "the DTMF is on the timeline")

    # Another tenant's ids are unknown and stay unchanged.
    st, doc, _ = api.call("GET", V + "/click-to-call/sessions/" + call["id"],
                          key=kb)
    check(is_error(st, doc, 404, "VC_ENOTFOUND"), "B reads A's call: 404")
    st, doc, _ = api.call("PATCH", V + "/click-to-call/sessions/" + call["id"]
                          + "/status", {"status": "hangup"}, key=kb)
    check(is_error(st, doc, 404, "VC_ENOTFOUND"), "B hangs up A's call: 404")
    st, c3, _ = api.call("GET", V + "/click-to-call/sessions/" + call["id"],
                         key=ka)
    check(c3["state"] == "bridged", "A's call still bridged")
    st, doc, _ = api.call("GET", V + "/communication/messages/" + sent["id"],
                          key=kb)
    check(is_error(st, doc, 404, "VC_ENOTFOUND"), "B reads A's message: 404")
    st, doc, _ = api.call("POST", V + "/communication/messages",
                          {"channel": ch_tw["id"], "to": "+14155550123",
                           "text": "x"}, key=kb)
    check(st == 404, "B sends on A's channel: 404 (" + str(st) + ")")
    st, doc, _ = api.call("GET", V + "/communication/channels", key=kb)
    check(st == 200 and doc["items"] == [], "B sees no channels")
    st, doc, _ = api.call("GET", V + "/communication/sessions", key=kb)
    check(st == 200 and doc["items"] == [], "B sees no messages")

    st, c4, _ = api.call("PATCH", V + "/click-to-call/sessions/" + call["id"]
                         + "/status", {"status": "hangup"}, key=ka)
    check(st == 202, "hangup accepted")

    def ended():
        s, c, _ = api.call("GET", V + "/click-to-call/sessions/" + call["id"],
                           key=ka)
        return c if s == 200 and c["state"] == "completed" else None
    check(wait_for(ended, "call completed") is not None, "call completed")
    st, doc, _ = api.call("GET", V + "/click-to-call/sessions?state="
                          "completed", key=ka)
    check(st == 200 and [x["id"] for x in doc["items"]] == [call["id"]],
          "GET /click-to-call/sessions by state")

    # ---- agents, queues and numbers: lookups and deletes ----------------
    st, ravi, _ = api.call("POST", V + "/agents",
                           {"name": "ravi", "number": "+14155550192"}, key=ka)
    api.call("PATCH", V + "/agents/ravi/state", {"state": "available"},
             key=ka)
    st, q, _ = api.call("POST", V + "/queues", {"name": "sales"}, key=ka)
    check(st == 201, "queue created")
    st, _, _ = api.call("POST", V + "/queues/sales/members",
                        {"agent": "ravi"}, key=ka)
    check(st == 201, "ravi joins the queue")
    st, doc, _ = api.call("GET", V + "/queues/sales", key=ka)
    check(st == 200 and doc["id"] == q["id"], "GET /queues/{name}")
    st, num, _ = api.call("POST", V + "/numbers",
                          {"number": "+14155550170", "channel": voice["id"],
                           "entry_kind": "queue", "entry": q["id"]}, key=ka)
    check(st == 201, "number routed to the queue")
    st, doc, _ = api.call("GET", V + "/numbers/" + num["id"], key=ka)
    check(st == 200 and doc["entry_id"] == q["id"], "GET /numbers/{id}")
    st, doc, _ = api.call("PATCH", V + "/numbers/" + num["id"],
                          {"label": "Sales line"}, key=ka)
    check(st == 200 and doc["label"] == "Sales line" and
          doc["entry_id"] == q["id"], "PATCH a number's label, the rest kept")
    st, doc, _ = api.call("PATCH", V + "/queues/sales",
                          {"max_wait_s": 90, "strategy": "round_robin"},
                          key=ka)
    check(st == 200 and doc["max_wait_s"] == 90 and
          doc["strategy"] == "round_robin" and doc["name"] == "sales",
          "PATCH a queue")
    st, doc, _ = api.call("PATCH", V + "/queues/sales", {"max_wait_s": -5},
                          key=ka)
    check(is_error(st, doc, 400, "VC_EINVALID"), "PATCH a bad max wait: 400")
    st, doc, _ = api.call("PATCH", V + "/agents/ravi",
                          {"display_name": "Ravi K", "wrap_up_s": 10},
                          key=ka)
    check(st == 200 and doc["display_name"] == "Ravi K" and
          doc["number"] == "+14155550192", "PATCH an agent, the rest kept")
    st, doc, _ = api.call("PATCH", V + "/agents/ravi", {"name": "asha"},
                          key=ka)
    check(is_error(st, doc, 409, "VC_EEXISTS"), "PATCH to a taken name: 409")
    st, doc, _ = api.call("PATCH", V + "/agents/ravi", {"name": "x"},
                          key=kb)
    check(is_error(st, doc, 404, "VC_ENOTFOUND"), "B patches A's agent: 404")
    for path in ("/agents/ravi", "/queues/sales", "/numbers/" + num["id"],
                 "/queues/sales/members/ravi"):
        st, doc, _ = api.call("DELETE", V + path, key=kb)
        check(is_error(st, doc, 404, "VC_ENOTFOUND"),
              "B deletes A's " + path + ": 404")
    st, doc, _ = api.call("DELETE", V + "/agents/ravi", key=ka)
    check(is_error(st, doc, 409, "VC_ESTATE"),
          "DELETE an available agent: 409")
    st, doc, _ = api.call("DELETE", V + "/queues/sales", key=ka)
    check(is_error(st, doc, 409, "VC_ESTATE"),
          "DELETE a queue a number routes to: 409")
    st, doc, _ = api.call("DELETE", V + "/queues/sales/members/ravi", key=ka)
    check(st == 200 and doc["deleted"] is True and
          doc["queue_id"] == q["id"], "DELETE a queue member")
    st, doc, _ = api.call("DELETE", V + "/queues/sales/members/ravi", key=ka)
    check(is_error(st, doc, 404, "VC_ENOTFOUND"), "not a member any more: 404")
    st, doc, _ = api.call("DELETE", V + "/numbers/" + num["id"], key=ka)
    check(st == 200 and doc == {"id": num["id"], "deleted": True},
          "DELETE a number")
    st, doc, _ = api.call("GET", V + "/numbers/" + num["id"], key=ka)
    check(is_error(st, doc, 404, "VC_ENOTFOUND"), "the number is gone")
    st, doc, _ = api.call("DELETE", V + "/queues/sales", key=ka)
    check(st == 200 and doc["id"] == q["id"], "DELETE the queue by name")
    api.call("PATCH", V + "/agents/ravi/state", {"state": "offline"}, key=ka)
    st, doc, _ = api.call("DELETE", V + "/agents/ravi", key=ka)
    check(st == 200 and doc == {"id": ravi["id"], "deleted": True},
          "DELETE an offline agent")
    st, doc, _ = api.call("GET", V + "/agents/" + ravi["id"], key=ka)
    check(is_error(st, doc, 404, "VC_ENOTFOUND"), "the agent is gone")
    st, doc, _ = api.call("GET", V + "/agents/asha", key=ka)
    check(st == 200, "the other agent stays")

    # ---- statistics -------------------------------------------------------
    st, doc, _ = api.call("GET", V + "/communication/stats", key=ka)
    check(st == 200 and isinstance(doc, dict) and "messages" in doc,
          "GET /communication/stats")
    st, doc, _ = api.call("POST", V + "/click-to-call/stats",
                          {"granularity": "hour"}, key=ka)
    check(st == 200 and isinstance(doc, dict) and "calls" in doc,
          "POST /click-to-call/stats")
    st, doc, _ = api.call("POST", V + "/click-to-call/stats",
                          {"granularity": "week"}, key=ka)
    check(st == 400, "stats with a bad granularity: 400")

    # ---- contacts, consent, campaigns, privacy, ledger -----------------
    st, ct, _ = api.call("POST", V + "/contacts",
                         {"name": "Ravi", "phone": "+14155550150",
                          "tags": "vip"}, key=ka)
    check(st == 200 and ct["addresses"][0]["address"] == "+14155550150",
          "contact upserted")
    st, doc, _ = api.call("POST", V + "/contacts/" + ct["id"] + "/consent",
                          {"kind": "sms", "category": "marketing",
                           "state": "opted_in", "source": "api"}, key=ka)
    check(st == 200 and doc["state"] == "opted_in", "consent set")
    st, doc, _ = api.call("POST", V + "/contacts/" + ct["id"] + "/consent",
                          {"kind": "sms", "state": "opted_in"}, key=kb)
    check(st == 404, "B sets consent on A's contact: 404")
    st, camp, _ = api.call("POST", V + "/campaigns",
                           {"name": "promo", "template_name": "otp",
                            "chain": ["sms"], "audience": "tag",
                            "tag": "vip", "vars_json": {"code": "9"}},
                           key=ka)
    check(st == 201 and camp["state"] == "draft", "campaign created " +
          str(camp))
    st, doc, _ = api.call("POST", V + "/campaigns/" + camp["id"] + "/start",
                          key=ka)
    check(st == 200 and doc["state"] in ("running", "completed"),
          "campaign started")
    st, doc, _ = api.call("GET", V + "/campaigns/" + camp["id"] + "/progress",
                          key=ka)
    check(st == 200 and "progress" in doc, "campaign progress")
    st, doc, _ = api.call("GET", V + "/campaigns/" + camp["id"], key=kb)
    check(st == 404, "B reads A's campaign: 404")
    st, doc, _ = api.call("GET", V + "/contacts/" + ct["id"] + "/export",
                          key=ka)
    check(st == 200 and isinstance(doc, dict), "GDPR export")
    st, doc, _ = api.call("GET", V + "/gl-export?from=0&to=%d"
                          % (int(time.time() * 1000) + 1), key=ka)
    check(st == 200, "GL export")
    # An inbound Telegram update opens a conversation; assign it by name.
    st, tg, _ = api.call("POST", V + "/communication/channels", {
        "name": "tg", "provider": "telegram", "sender": "acme_bot",
        "config_json": {"base_url": "http://127.0.0.1:9"},
        "credentials_json": {"bot_token": "123456:" + "A" * 32,
                             "webhook_secret": "s3cret"}}, key=ka)
    check(st == 201, "telegram channel")
    update = {"update_id": 1, "message": {
        "message_id": 7, "from": {"id": 555, "is_bot": False,
                                  "first_name": "Asha"},
        "chat": {"id": 555, "type": "private", "first_name": "Asha"},
        "date": int(time.time()), "text": "where is my order?"}}
    st, _, _ = api.call("POST", tg["webhook_path"], update,
                        headers={"X-Telegram-Bot-Api-Secret-Token":
                                 "s3cret"})
    check(st == 200, "a signed telegram update taken")
    st, doc, _ = api.call("GET", V + "/inbox/conversations", key=ka)
    check(st == 200 and len(doc["items"]) == 1, "inbox conversations")
    conv = V + "/inbox/conversations/" + doc["items"][0]["id"]
    st, doc, _ = api.call("PUT", conv + "/assignee", {"agent": "asha"},
                          key=ka)
    check(st == 200 and doc["assignee_id"] == agent["id"],
          "PUT the assignee by name")
    st, doc, _ = api.call("PUT", conv + "/assignee", {"agent": "nobody"},
                          key=ka)
    check(is_error(st, doc, 404, "VC_ENOTFOUND"), "an unknown agent: 404")
    st, doc, _ = api.call("PUT", conv + "/assignee", {"agent": "asha"},
                          key=kb)
    check(is_error(st, doc, 404, "VC_ENOTFOUND"), "B assigns A's: 404")
    st, doc, _ = api.call("DELETE", conv + "/assignee", key=ka)
    check(st == 200 and doc["assignee_id"] is None, "DELETE the assignee")

    # ---- malformed bodies ------------------------------------------------
    M = V + "/communication/messages"
    st, doc, _ = api.call("POST", M, raw=b'{"to": ', key=ka)
    check(is_error(st, doc, 400, "VC_EINVALID"), "bad JSON: 400")
    st, doc, _ = api.call("POST", M, raw=b'[1, 2]', key=ka)
    check(is_error(st, doc, 400, "VC_EINVALID"), "not an object: 400")
    st, doc, _ = api.call("POST", M, {"kind": "sms", "to": 5}, key=ka)
    check(is_error(st, doc, 400, "VC_EINVALID") and
          "'to'" in doc["error"]["message"], "wrong type: 400 naming it")
    st, doc, _ = api.call("POST", M, {"kind": "sms", "text": "x"}, key=ka)
    check(is_error(st, doc, 400, "VC_EINVALID") and
          "'to'" in doc["error"]["message"], "missing field: 400")
    st, doc, _ = api.call("POST", M, {"kind": "fax", "to": "+14155550123"},
                          key=ka)
    check(is_error(st, doc, 400, "VC_EINVALID"), "unknown enum value: 400")
    st, doc, _ = api.call("POST", M, key=ka)
    check(is_error(st, doc, 400, "VC_EINVALID"), "no body: 400")
    st, doc, _ = api.call("POST", V + "/click-to-call/initiate",
                          {"customer_number": "+14155550191",
                           "ring_timeout_s": 1.5}, key=ka)
    check(is_error(st, doc, 400, "VC_EINVALID"), "non-integer: 400")
    big = b'{"to": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    st, doc, _ = api.call("POST", M, raw=big, key=ka,
                          headers={"Content-Type": "application/json"})
    check(is_error(st, doc, 413, "VC_ETOOBIG"), "2 MiB body: 413")
    st, doc, _ = api.call("POST", M, raw=b"x" * (300 * 1024), key=ka)
    check(is_error(st, doc, 413, "VC_ETOOBIG"), "300 KiB body: 413")
    st, _, _ = api.call("GET", V + "/communication/channels", key=ka)
    check(st == 200, "the server still answers")
    st, doc, _ = api.call("GET", V + "/click-to-call/sessions/not-an-id",
                          key=ka)
    check(is_error(st, doc, 404, "VC_ENOTFOUND"), "malformed id: 404")
    st, doc, _ = api.call("GET", V + "/communication/sessions?limit=1&x=%zz",
                          key=ka)
    check(is_error(st, doc, 400, "VC_EINVALID"), "bad query escape: 400")

    # Answers are one JSON document in UTF-8 whatever the request holds,
    # and an error message is one line.
    st, doc = api.call("POST", M, {"kind": "fa\nx", "to": "+14155550123"},
                       key=ka)[:2]
    check(is_error(st, doc, 400, "VC_EINVALID") and
          "\n" not in doc["error"]["message"], "a quoted newline: one line")
    st, doc = api.call("POST", M, {"kind": "a" + "\u00e9" * 40,
                                   "to": "+14155550123"}, key=ka)[:2]
    check(is_error(st, doc, 400, "VC_EINVALID"),
          "a quote cut inside a character: UTF-8 (%s)" % doc)
    st, doc = api.call("POST", M, raw=b'{"kind": "a\xffb"}', key=ka)[:2]
    check(is_error(st, doc, 400, "VC_EENCODING"), "a body not in UTF-8: 400")
    st, doc = api.call("GET", V + "/click-to-call/sessions?state=%C3",
                       key=ka)[:2]
    check(is_error(st, doc, 400, "VC_EINVALID"),
          "a query value not in UTF-8: 400")
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(b"GET " + V.encode() + b"/click-to-call/sessions?state="
                     b"init\xc3\x96\xc3 HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer " + ka.encode() +
                     b"\r\n\r\n")
        # The server keeps the connection: read one answer.
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = sock.recv(65536)
            if not chunk:
                break
            raw += chunk
        head, _, body = raw.partition(b"\r\n\r\n")
        clen = 0
        for h in head.split(b"\r\n")[1:]:
            name, _, value = h.partition(b":")
            if name.strip().lower() == b"content-length":
                clen = int(value)
        while len(body) < clen:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        doc = None
    check(head.startswith(b"HTTP/1.1 400") and
          is_error(400, doc, 400, "VC_EINVALID"),
          "a request target with bytes outside ASCII: 400 %r" % raw[:200])

    # ---- a clean stop ------------------------------------------------------
    srv.send_signal(signal.SIGTERM)
    try:
        rc = srv.wait(timeout=20)
    except subprocess.TimeoutExpired:
        rc = None
    err = srv.stderr.read()
    check(rc == 0, "SIGTERM: exit 0 (%s) %s" % (rc, err.strip()[-300:]))

    # ---- a rate limit per tenant ------------------------------------------
    port2 = free_port()
    srv2 = subprocess.Popen([prog, "serve", "--listen",
                             "127.0.0.1:%d" % port2, "--threads", "1",
                             "--rate", "3"], cwd=work, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    procs.append(srv2)
    srv2.stdout.readline()
    api2 = Api(port2)
    codes = [api2.call("GET", V + "/voip-providers", key=ka)[0]
             for _ in range(8)]
    st, doc, _ = api2.call("GET", V + "/voip-providers", key=ka)
    check(codes.count(200) >= 3 and 429 in codes + [st],
          "--rate 3: over 3 requests a second get 429 %s" % codes)
    st, doc, _ = api2.call("GET", V + "/voip-providers", key=kb)
    check(st == 200, "another tenant has its own budget")
    srv2.send_signal(signal.SIGINT)
    check(srv2.wait(timeout=20) == 0, "SIGINT: exit 0")
    sim.terminate()
    sim.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
