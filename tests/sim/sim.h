/*
 * vyomcomm-sim: a provider simulator for tests, benchmarks and demos.
 *
 * One HTTP/1.1 server on loopback that speaks each provider's real API
 * (Twilio Messaging, SendGrid Mail Send): the same paths, authentication,
 * parameter checks, error bodies and success bodies. It records what it
 * received, injects faults on request, and posts signed webhooks back.
 *
 * The server runs libre's loop on a thread of its own; webhooks are posted
 * with libcurl from worker threads. Every function here is safe to call
 * from any thread, except vc_sim_stop() on a handle still in use.
 *
 * Errors are 0 or a negative errno value (-EINVAL, -ENOMEM, -ENOENT, ...).
 * Providers are named by string: "twilio", "sendgrid", "mailgun",
 * "telegram", "whatsapp", "twilio-voice" (Calls resource), "exotel",
 * "mcube", "ari" (Asterisk REST Interface).
 */
#ifndef VC_SIM_H
#define VC_SIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vc_sim vc_sim;

/* Defaults of the per-provider settings (vc_sim_set() changes them). */
#define VC_SIM_TWILIO_ACCOUNT_SID "AC0123456789abcdef0123456789abcdef"
#define VC_SIM_TWILIO_AUTH_TOKEN "f0e1d2c3b4a5968778695a4b3c2d1e0f"
#define VC_SIM_SENDGRID_API_KEY \
  "SG.c2ltdWxhdG9yLWtleS0w.c2ltdWxhdG9yLXNlY3JldC1mb3ItdGVzdHMtb25seS0w"
#define VC_SIM_SNS_ACCESS_KEY_ID "AKIAVCSIMULATOR00001"
#define VC_SIM_SNS_SECRET_ACCESS_KEY "c2ltdWxhdG9yL3NlY3JldCtrZXkvZm9yL3Rlc3Rz"
#define VC_SIM_SNS_REGION "us-east-1"
#define VC_SIM_SNS_TOPIC_ARN \
  "arn:aws:sns:us-east-1:123456789012:vc-sim-inbound"
#define VC_SIM_VONAGE_API_KEY "a1b2c3d4"
#define VC_SIM_VONAGE_API_SECRET "S1mulat0rSecret0"
#define VC_SIM_VONAGE_SIGNATURE_SECRET "simulator-signature-secret-0123456789"
#define VC_SIM_MAILGUN_API_KEY "0123456789abcdef0123456789abcdef-0a1b2c3d-4e5f6a7b"
#define VC_SIM_MAILGUN_DOMAIN "mg.sim.example"
#define VC_SIM_MAILGUN_SIGNING_KEY "a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define VC_SIM_TELEGRAM_BOT_TOKEN \
  "8123456789:AAEsimulatorBotTokenForTests_only-0"
#define VC_SIM_WHATSAPP_ACCESS_TOKEN \
  "EAAGsimulatorAccessTokenForTestsOnly0ZDZD"
#define VC_SIM_WHATSAPP_APP_SECRET "5eb63bbbe01eeed093cb22bb8f5acdc3"
#define VC_SIM_WHATSAPP_PHONE_NUMBER_ID "109876543210987"
/* Voice: ring and talk time of a simulated call leg, in milliseconds. */
#define VC_SIM_VOICE_RING_MS "50"
#define VC_SIM_VOICE_TALK_MS "50"
#define VC_SIM_EXOTEL_ACCOUNT_SID "vyomsim1"
#define VC_SIM_EXOTEL_API_KEY "0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f50617"
#define VC_SIM_EXOTEL_API_TOKEN "f1e2d3c4b5a697887766554433221100ffeeddccbbaa9988"
#define VC_SIM_EXOTEL_CALLER_ID "08047112345"
#define VC_SIM_MCUBE_API_KEY "mcubesimkey0123456789abcdef"
#define VC_SIM_MCUBE_TOKEN \
  "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ2eW9tY29tbS1zaW0ifQ.c2ltdWxhdG9y"
#define VC_SIM_MCUBE_DID "8047112000"
#define VC_SIM_ARI_USERNAME "vyomcomm"
#define VC_SIM_ARI_PASSWORD "s1m-ari-Passw0rd"
#define VC_SIM_ARI_ASTERISK_ID "02:42:ac:11:00:02"

typedef struct vc_sim_options {
  const char *host;             /* listen address; NULL: "127.0.0.1" */
  unsigned short port;          /* 0: any free port */
  /* NULL-terminated "provider.key=value" strings, as vc_sim_set(). */
  const char *const *settings;
  unsigned webhook_workers;     /* threads posting webhooks; 0: 1 */
  int verbose;                  /* one line per request on stderr */
} vc_sim_options;

#define VC_SIM_OPTIONS_INIT { NULL, 0, NULL, 0, 0 }

/*
 * Start a simulator: bind, start the libre thread and the webhook workers,
 * and generate the SendGrid signing key. `o` may be NULL.
 */
int vc_sim_start(vc_sim **out, const vc_sim_options *o);

/* Stop the threads, close every connection, free everything. NULL is ok. */
void vc_sim_stop(vc_sim *s);

unsigned short vc_sim_port(const vc_sim *s);

/* "http://127.0.0.1:<port>": the base URL of every provider API. */
const char *vc_sim_base_url(const vc_sim *s);

/*
 * Settings, named "provider.key":
 *   twilio.account_sid   the only account accepted (Basic user, path)
 *   twilio.auth_token    Basic password; also the webhook signing key
 *   sendgrid.api_key     the only Bearer token accepted
 *   sendgrid.public_key  read-only: base64 DER SPKI of the P-256 key that
 *                        signs event webhooks
 *   vonage.*             api_key, api_secret, signature_secret,
 *                        signature_method, webhook_format, barred, price,
 *                        network (tests/sim/README.md)
 *   mailgun.api_key      the only Basic password accepted (user "api")
 *   mailgun.domain       the only sending domain; others are 404
 *   mailgun.signing_key  HMAC-SHA256 key of webhooks and inbound posts
 *   telegram.bot_token   the only bot token accepted in /bot{token}/
 *   telegram.secret_token  sent as X-Telegram-Bot-Api-Secret-Token ("":
 *                        no header)
 *   telegram.chats       "*" (any chat exists) or a comma-separated list
 *   telegram.blocked     chats whose user blocked the bot (403)
 *   whatsapp.access_token  the only Bearer token accepted
 *   whatsapp.app_secret  the X-Hub-Signature-256 key
 *   whatsapp.phone_number_id  the only {phone_number_id} served
 *   whatsapp.templates   approved template names, comma-separated
 *   whatsapp.window      "enforce" the 24-hour window (131047) or "off"
 *   twilio-voice.ring_ms, twilio-voice.talk_ms  a call's ring and talk
 *                        time when its plan says 0 (default 50 ms)
 *   twilio-voice.unverified_from  caller ids refused with 21210
 *   twilio-voice.blocked_prefixes destinations refused with 21215
 *                        (comma-separated prefixes)
 *   twilio-voice.action_first  "1": when a bridged <Dial><Number> leg
 *                        ends, its <Dial> action is posted before the
 *                        leg's own "completed" (Twilio sends both at
 *                        once, in no set order); else after it
 *   twilio-voice.pause_ms, exotel.pause_ms  inbound calls: how long a
 *                        second of a pause, gather timeout or recording
 *                        lasts (default 10 ms)
 *   twilio-voice.say_ms, exotel.say_ms  inbound: a Say or Play (0)
 *   twilio-voice.max_fetches, exotel.max_fetches  inbound: documents or
 *                        flow turns before the caller gives up (200)
 *   exotel.wait_s        inbound: the flow's wait between Connects (5)
 *   exotel.account_sid, exotel.api_key, exotel.api_token  the only
 *                        account and Basic credentials
 *   exotel.caller_ids    the account's ExoPhones (comma-separated)
 *   exotel.ring_ms, exotel.talk_ms  as for twilio-voice
 *   mcube.api_key, mcube.token  the classic apikey and the cloud token
 *   mcube.did            clicktocalldid of calls that name no did
 *   mcube.record         "1": calls are recorded (filename); else "0"
 *   mcube.callback_format  "json" or "form"
 *   mcube.error_status   "http" (refusals as 400/401) or "200"
 *   mcube.ring_ms, mcube.talk_ms  as for twilio-voice
 *   ari.username, ari.password  the only ARI user (Basic or api_key)
 *   ari.asterisk_id      asterisk_id of every event
 *   ari.ring_ms, ari.talk_ms  as for twilio-voice
 *   ari.record_fail      "1": bridge recordings fail (RecordingFailed)
 */
int vc_sim_set(vc_sim *s, const char *key, const char *value);

/* Copy a setting into buf; returns its length or a negative error. */
int vc_sim_get(vc_sim *s, const char *key, char *buf, size_t size);

/* The SendGrid event-webhook verification key (base64 DER SPKI). */
const char *vc_sim_sendgrid_public_key(vc_sim *s);

/*
 * Post an inbound SMS the way Vonage does, to `url` (NULL: the Vonage
 * webhook URL): msisdn = from, to, text, type, keyword, messageId and
 * message-timestamp, signed per vonage.signature_method. Numbers may
 * have a '+', which is dropped. Subject to the webhook delay and
 * duplicates. 0, or -EINVAL (no URL), -ENOMEM.
 */
int vc_sim_vonage_inbound(vc_sim *s, const char *url, const char *from,
                          const char *to, const char *text);

/*
 * Post an inbound SMS the way Twilio does to a number's messaging
 * webhook, to `url` (NULL: the Twilio webhook URL): MessageSid (also
 * SmsMessageSid, SmsSid), AccountSid, From, To, Body, NumMedia=0,
 * SmsStatus=received, ApiVersion, signed with twilio.auth_token. The
 * sid is copied to sid_out when not NULL (35 bytes). Subject to the
 * webhook delay and duplicates. 0, or -EINVAL (no URL), -ENOMEM, -EIO.
 */
int vc_sim_twilio_inbound(vc_sim *s, const char *url, const char *from,
                          const char *to, const char *text, char *sid_out);

/*
 * Mailgun: post a message received by a route (the forward() action) to
 * the webhook URL set with vc_sim_webhooks_set(s, "mailgun", ...), signed
 * with mailgun.signing_key: form-encoded, or multipart/form-data with one
 * text attachment when `attachment` is set. The Message-Id it carries
 * (without angle brackets) is copied to message_id when not NULL.
 * 0, -EINVAL, -ENOENT (no webhook URL), -ENOMEM.
 */
typedef struct vc_sim_mailgun_mail {
  const char *from;        /* "Asha <asha@example.com>" or an address */
  const char *to;          /* the route's recipient */
  const char *subject;
  const char *text;        /* body-plain */
  const char *html;        /* body-html, or NULL */
  const char *attachment;  /* a text attachment's content, or NULL */
} vc_sim_mailgun_mail;

int vc_sim_mailgun_inbound(vc_sim *s, const vc_sim_mailgun_mail *m,
                           char *message_id, size_t size);

/*
 * CPU time used so far by the simulator's server thread, in seconds: what
 * answering costs, independent of how busy the machine is (benchmarks).
 */
double vc_sim_cpu_seconds(vc_sim *s);

/* ---- fault injection ------------------------------------------------ */

typedef enum vc_sim_fault_kind {
  VC_SIM_FAULT_NONE = 0,
  VC_SIM_FAULT_5XX,       /* `status` (default 500), provider error body */
  VC_SIM_FAULT_429,       /* Twilio: Retry-After; SendGrid: X-RateLimit-* */
  VC_SIM_FAULT_TIMEOUT,   /* no answer; close after hold_ms (0: never) */
  VC_SIM_FAULT_RESET,     /* close with a TCP RST, no answer */
  VC_SIM_FAULT_SLOW_BODY  /* normal answer, written in slow chunks */
} vc_sim_fault_kind;

typedef struct vc_sim_fault {
  vc_sim_fault_kind kind;
  unsigned count;          /* applies to the next `count` requests (0: 1) */
  int status;              /* 5XX: 500, 502, 503, ... */
  unsigned retry_after_s;  /* 429: seconds to wait (default 1) */
  unsigned hold_ms;        /* TIMEOUT */
  unsigned chunk_bytes;    /* SLOW_BODY: bytes per write (default 16) */
  unsigned chunk_delay_ms; /* SLOW_BODY: pause between writes (default 20) */
  /*
   * Process the request first (accept the message, schedule its
   * webhooks), then fail the answer: the "sent but the reply was lost"
   * case that makes a client send twice. Not used by SLOW_BODY, which
   * always processes.
   */
  int accept_first;
} vc_sim_fault;

#define VC_SIM_FAULT_INIT { VC_SIM_FAULT_NONE, 0, 0, 0, 0, 0, 0, 0 }

/*
 * Queue a fault for a provider's next requests. Faults queue up in order:
 * a second call takes effect once the first one's count is used up.
 */
int vc_sim_fault_add(vc_sim *s, const char *provider, const vc_sim_fault *f);

/* Drop the queued faults of one provider, or of all when NULL. */
void vc_sim_fault_clear(vc_sim *s, const char *provider);

/* ---- webhooks back to the client ------------------------------------ */

typedef struct vc_sim_webhooks {
  int off;                  /* post nothing */
  /*
   * Where to post when the request names no URL. Twilio posts to each
   * message's StatusCallback; SendGrid to its event-webhook URL, which
   * is this one (no URL: no events).
   */
  const char *url;
  unsigned delay_ms;        /* before a message's first callback */
  unsigned gap_ms;          /* between a message's callbacks */
  int reorder;              /* the final status before sent/processed */
  unsigned duplicates;      /* extra copies of each callback */
  /*
   * The final status, in the provider's words. Twilio: "delivered"
   * (default), "undelivered", "failed". SendGrid: "delivered" (default),
   * "bounce", "dropped", "deferred". Mailgun: "delivered" (default),
   * "permanent_fail" (a bounce), "suppress" (a permanent failure for a
   * suppressed address), "temporary_fail", "opened" (after delivered),
   * "accepted" (no receipt).
   * WhatsApp: "read" (default), "delivered", "sent", "failed".
   */
  const char *final_status;
} vc_sim_webhooks;

#define VC_SIM_WEBHOOKS_INIT { 0, NULL, 0, 0, 0, 0, NULL }

/* Replace a provider's webhook behaviour (strings are copied). */
int vc_sim_webhooks_set(vc_sim *s, const char *provider,
                        const vc_sim_webhooks *w);

/*
 * Wait until no webhook is queued or being posted. Returns 0, or -ETIMEDOUT
 * after timeout_ms (negative: wait forever).
 */
int vc_sim_webhooks_wait(vc_sim *s, int timeout_ms);

typedef struct vc_sim_webhook_stats {
  uint64_t posted;   /* answered 2xx */
  uint64_t failed;   /* other answer or no answer */
  uint64_t pending;  /* queued or in flight */
} vc_sim_webhook_stats;

void vc_sim_webhooks_stats(vc_sim *s, vc_sim_webhook_stats *out);

/* ---- what the simulator received ------------------------------------ */

typedef struct vc_sim_request {
  const char *provider;       /* "twilio", "sendgrid"; "" for other paths */
  const char *method;
  const char *path;           /* with the query string, as received */
  const char *authorization;  /* "" when absent */
  const char *content_type;   /* "" when absent */
  const char *headers;        /* every header, "Name: value\r\n" each */
  const char *body;           /* NUL-terminated copy of the body */
  size_t body_len;
  uint64_t content_length;    /* as declared (bodies over a limit unread) */
  int status;                 /* answered status; 0: none (timeout, reset) */
  vc_sim_fault_kind fault;    /* the fault applied, if any */
  const char *message_id;     /* provider id when accepted, else "" */
  int64_t received_ms;        /* Unix time in milliseconds */
} vc_sim_request;

/* Requests received so far (every path, including rejected ones). */
size_t vc_sim_received_count(vc_sim *s);

/*
 * The i-th request, oldest first. The strings stay valid until
 * vc_sim_received_clear() or vc_sim_stop(). Returns -ENOENT past the end.
 */
int vc_sim_received_get(vc_sim *s, size_t i, vc_sim_request *out);

/* A header of a recorded request (case-insensitive name): its length, or
 * -ENOENT. */
int vc_sim_request_header(const vc_sim_request *r, const char *name,
                          char *buf, size_t size);

/* Forget the recorded requests and the send counts. */
void vc_sim_received_clear(vc_sim *s);

/* Messages accepted by a provider (NULL: all providers). */
size_t vc_sim_accepted_count(vc_sim *s, const char *provider);

/*
 * How many accepted messages match `key`: a recipient (Twilio To, any
 * SendGrid to/cc/bcc email), a provider message id (Twilio sid, SendGrid
 * X-Message-Id), or a SendGrid custom_args value.
 */
size_t vc_sim_sent_count(vc_sim *s, const char *key);

/*
 * Accepted messages that repeat an earlier one of the same provider
 * (NULL: all): same To, sender and content for Twilio; the same request
 * body for SendGrid. What a client's retry after a lost answer produces.
 */
size_t vc_sim_duplicate_count(vc_sim *s, const char *provider);

/* ---- AWS SNS topic messages ------------------------------------------ */

/*
 * A message SNS posts to a subscribed HTTP(S) endpoint, signed with the
 * simulator's RSA key; its SigningCertURL is
 * https://<cert_host>/SimpleNotificationService-<hex>.pem, which the
 * simulator serves at that path.
 */
typedef struct vc_sim_sns_message {
  /* "Notification" (NULL), "SubscriptionConfirmation" or
   * "UnsubscribeConfirmation" */
  const char *type;
  const char *topic_arn;     /* NULL: setting sns.topic_arn */
  const char *subject;       /* Notification only; NULL: none */
  const char *message;       /* NULL: SNS's text for confirmations */
  int signature_version;     /* 1 or 2; 0: setting sns.signature_version */
  /* Host of SigningCertURL and SubscribeURL; NULL:
   * sns.<region>.amazonaws.com (the client maps it to the simulator) */
  const char *cert_host;
  int64_t timestamp_ms;      /* Timestamp; 0: now */
} vc_sim_sns_message;

#define VC_SIM_SNS_MESSAGE_INIT { NULL, NULL, NULL, NULL, 0, NULL, 0 }

/*
 * The JSON body of a signed message (free() it), for tests that post it
 * themselves. A SubscriptionConfirmation issues a token that the
 * SubscribeURL then accepts.
 */
int vc_sim_sns_build(vc_sim *s, const vc_sim_sns_message *m, char **body);

/* Post a message to `url` (NULL: the "sns" webhook URL) with SNS's
 * headers, through the webhook workers (delay and duplicates apply). */
int vc_sim_sns_post(vc_sim *s, const char *url, const vc_sim_sns_message *m);

/* Post a two-way SMS: a Notification whose Message is AWS's inbound
 * payload (originationNumber, destinationNumber, messageBody, ...). */
int vc_sim_sns_inbound(vc_sim *s, const char *url, const char *from,
                       const char *to, const char *text);

/* Subscriptions of a topic (NULL: any) confirmed through SubscribeURL. */
size_t vc_sim_sns_confirmed(vc_sim *s, const char *topic_arn);

/* The PEM certificate of the key that signs SNS messages. */
const char *vc_sim_sns_cert_pem(vc_sim *s);

/* ---- inbound messages and handshakes (chat providers) ---------------- */

/*
 * Telegram: post an Update with a text message from the private chat
 * `chat_id` to the webhook URL (vc_sim_webhooks.url of "telegram"), with
 * X-Telegram-Bot-Api-Secret-Token when telegram.secret_token is set. The
 * chat becomes one the bot may write to. Returns the update_id (> 0), or
 * -ENOTCONN without a webhook URL.
 */
long long vc_sim_telegram_inbound(vc_sim *s, long long chat_id,
                                  const char *text);

/*
 * WhatsApp: post a signed messages webhook with a text message from
 * `from` (digits, '+' allowed) and open that user's 24-hour customer
 * service window. 0, -EINVAL, or -ENOTCONN without a webhook URL.
 */
int vc_sim_whatsapp_inbound(vc_sim *s, const char *from, const char *text);

/*
 * WhatsApp: Meta's subscription handshake, a GET of `url` with
 * hub.mode=subscribe, a random hub.challenge and hub.verify_token.
 * Returns the HTTP status (negative errno when nothing answered); *echoed
 * (may be NULL) is 1 when the answer was 200 with exactly the challenge.
 */
int vc_sim_whatsapp_verify(vc_sim *s, const char *url,
                           const char *verify_token, int *echoed);

/* ---- voice calls (twilio-voice, exotel, mcube) ------------------------ */

/* How a called number behaves. */
typedef enum vc_sim_call_outcome {
  VC_SIM_CALL_ANSWER = 0,   /* rings ring_ms, answers, talks talk_ms */
  VC_SIM_CALL_BUSY,         /* rings ring_ms, then busy */
  VC_SIM_CALL_NO_ANSWER,    /* rings ring_ms, then no-answer */
  VC_SIM_CALL_FAILED,       /* fails at once (unreachable), never rings */
  VC_SIM_CALL_CANCELED      /* rings ring_ms, then the caller hangs up */
} vc_sim_call_outcome;

typedef struct vc_sim_call_plan {
  vc_sim_call_outcome outcome;
  unsigned ring_ms;   /* 0: setting "<provider>.ring_ms" (default 50) */
  unsigned talk_ms;   /* 0: setting "<provider>.talk_ms" (default 50) */
} vc_sim_call_plan;

#define VC_SIM_CALL_PLAN_INIT { VC_SIM_CALL_ANSWER, 0, 0 }

/*
 * How calls to `number` go from now on, for one voice provider
 * ("twilio-voice", "exotel", "mcube"). Numbers compare by their digits
 * alone ("+91 98765-43210" is "919876543210"). `number` NULL sets the
 * plan of every number without its own; `p` NULL removes a plan. A call
 * that is already ringing keeps the plan it started with. 0, -EINVAL,
 * -ENOENT (not a voice provider), -ENOMEM.
 */
int vc_sim_call_plan_set(vc_sim *s, const char *provider, const char *number,
                         const vc_sim_call_plan *p);

/*
 * A call's status now, in the provider's words (Twilio "queued",
 * "ringing", "in-progress", "completed", "busy", ...; Exotel the same
 * words; mCube its dialstatus, "ANSWER", "Busy", ...). Returns the
 * length, -ENOENT for an unknown call, -ENOSPC.
 */
int vc_sim_call_status(vc_sim *s, const char *provider, const char *call_id,
                       char *buf, size_t size);

/*
 * Twilio: the i-th TwiML document the call received (oldest first): the
 * answer of its Url when it was answered, of a redirect, of a <Gather>
 * action, or its Twiml parameter. Returns the length (the copy is
 * truncated to size - 1), -ENOENT past the end or for an unknown call.
 */
int vc_sim_twilio_voice_twiml(vc_sim *s, const char *call_sid, size_t i,
                              char *buf, size_t size);

/*
 * Twilio: the callee presses `digits` (0-9 * #, at most 32) during the
 * <Gather> of the call's latest TwiML: Digits and the call's parameters
 * are posted, signed, to the Gather's action (default: the document's
 * own URL), and the answer becomes the call's next TwiML document.
 * 0, -ENOENT (unknown call), -EINVAL (bad digits), -EAGAIN (the call is
 * not in progress or its latest TwiML has no <Gather>), -ENOMEM.
 */
int vc_sim_twilio_voice_press(vc_sim *s, const char *call_sid,
                              const char *digits);

/* ---- inbound calls (twilio-voice, exotel) ----------------------------- */

/*
 * A customer calls one of the account's numbers: what the simulator
 * knows of the number (its URLs) and what the caller will do.
 */
typedef struct vc_sim_incoming {
  /* Twilio: the number's Voice URL, the call's first request (required).
   * Exotel: the URL of the flow's first Passthru applet. */
  const char *voice_url;
  /* The number's status callback URL (the parent call's completed
   * callback), or NULL for none. */
  const char *status_url;
  const char *from;           /* the caller (E.164 or the provider's form) */
  const char *to;             /* the number called */
  /*
   * Keys pressed at successive gathers, in groups separated by ','
   * ("1,2": 1 at the first gather, 2 at the second). An empty group,
   * and every gather past the last group, times out. NULL: none.
   */
  const char *digits;
  /*
   * Where the caller hangs up: at the hangup_count-th (0: first)
   * occurrence of a verb ("Redirect", "Pause", "Play", "Say", "Gather",
   * "Record", or "Dial": while the dialed number rings). NULL: never.
   */
  const char *hangup_verb;
  unsigned hangup_count;
  /* The caller hangs up this long after the call arrived (0: never). */
  unsigned hangup_after_ms;
  /* Seconds a record verb records (0: 5). */
  unsigned record_s;
} vc_sim_incoming;

#define VC_SIM_INCOMING_INIT { NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0 }

/*
 * Twilio: a call arrives at a number whose Voice URL is in->voice_url.
 * A thread of the simulator posts Twilio's incoming-call webhook there
 * (signed, CallStatus=ringing, Direction=inbound) and executes the TwiML
 * answered as Twilio would (tests/sim/README.md, "Inbound calls"); the
 * call is also a Calls resource (GET and POST .../Calls/{sid}.json). Its
 * sid goes to sid_out (35 bytes) when not NULL. 0, -EINVAL, -ENOMEM.
 */
int vc_sim_twilio_incoming(vc_sim *s, const vc_sim_incoming *in,
                           char *sid_out);

/*
 * Exotel: a call arrives at an ExoPhone whose flow starts with a
 * Passthru applet at in->voice_url; the simulator plays the flow of
 * applets the answers lead to (README, "Exotel inbound"). Its CallSid
 * goes to sid_out (33 bytes). 0, -EINVAL, -ENOMEM.
 */
int vc_sim_exotel_incoming(vc_sim *s, const vc_sim_incoming *in,
                           char *sid_out);

/* Wait until an inbound call of `provider` ended: 0, -ENOENT (unknown),
 * -ETIMEDOUT after timeout_ms (negative: for ever). */
int vc_sim_incoming_wait(vc_sim *s, const char *provider, const char *sid,
                         int timeout_ms);

/*
 * What the simulator did on an inbound call, one line each ("incoming
 * 200", "say Welcome", "gather 1", "gather timeout", "pause 1",
 * "redirect <url>", "dial <number> <status>", "record 5", "hangup",
 * "caller-hangup", "api-hangup", "end", "error <status>", "skip <verb>",
 * and last "completed"). Returns the full length (the copy is truncated
 * to size - 1), -ENOENT.
 */
int vc_sim_incoming_log(vc_sim *s, const char *provider, const char *sid,
                        char *buf, size_t size);

/* ---- Asterisk ARI ("ari") ---------------------------------------------- */

/*
 * The callee of an ARI channel presses `digits` (0-9 * # A-D, at most
 * 32): one ChannelDtmfReceived each, in order, to the channel's app.
 * 0, -ENOENT (no live channel), -EAGAIN (not answered), -EINVAL.
 */
int vc_sim_ari_dtmf(vc_sim *s, const char *channel_id, const char *digits);

/*
 * The far end hangs a channel up with Q.850 `cause` (0: 16, normal
 * clearing): while it rings, the callee declines (Dial BUSY for 17, else
 * CANCEL) and the channel is destroyed; once answered,
 * ChannelHangupRequest, ChannelLeftBridge (when bridged), StasisEnd and
 * ChannelDestroyed. 0, -ENOENT, -EINVAL.
 */
int vc_sim_ari_hangup(vc_sim *s, const char *channel_id, int cause);

/*
 * Drop every events WebSocket: `graceful` sends a Close frame (1001)
 * first, otherwise the TCP connection just closes, as when Asterisk
 * restarts. Returns how many were open, or a negative error.
 */
int vc_sim_ari_drop(vc_sim *s, int graceful);

/*
 * Send `text` (len bytes, as it is: any JSON or none) as one text
 * message to every events WebSocket, for clients' handling of malformed
 * and unknown events. Returns to how many it went, or a negative error.
 */
int vc_sim_ari_send(vc_sim *s, const char *text, size_t len);

/* REST requests received under /ari (every one after authentication,
 * the events WebSocket excepted), or a negative error. */
long vc_sim_ari_requests(vc_sim *s);

/* Events WebSockets open now, or a negative error. */
int vc_sim_ari_sockets(vc_sim *s);

/* What the simulator knows of one channel. */
typedef struct vc_sim_ari_channel {
  char id[64];
  char endpoint[128];       /* as originated: "PJSIP/agent100" */
  char state[16];           /* "Down", "Ringing", "Up" */
  char bridge[64];          /* the bridge it is in, or "" */
  char dtmf_sent[128];      /* digits sent with POST .../dtmf */
  char redirect[128];       /* the endpoint of POST .../redirect */
  int in_stasis, held, moh, ended;
  int cause;                /* ChannelDestroyed's cause once ended */
  int inbound;              /* made by vc_sim_ari_incoming() */
  char played[512];         /* media URIs played, ',' between them */
  char recording[128];      /* the name of its latest channel recording */
} vc_sim_ari_channel;

/*
 * The channel whose id or endpoint is `key` (the newest such; NULL: the
 * newest channel), live or ended. 0, -ENOENT, -EINVAL.
 */
int vc_sim_ari_channel_get(vc_sim *s, const char *key,
                           vc_sim_ari_channel *out);

/* A call arriving from the trunk, and what its caller does. */
typedef struct vc_sim_ari_inbound {
  const char *app;          /* the Stasis application (NULL: "vyomcomm") */
  const char *from;         /* channel.caller.number (NULL: withheld) */
  const char *to;           /* channel.dialplan.exten: the number called */
  /* Key groups separated by ',': group i is pressed (one
   * ChannelDtmfReceived a key) press_ms after the i-th playback on the
   * channel starts; "" or NULL: none. At most 127 bytes. */
  const char *keys;
  unsigned press_ms;        /* 0: 100 */
  unsigned hangup_ms;       /* the caller hangs up this long after it
                               arrives (0: never) */
  unsigned hangup_moh_ms;   /* ... after music on hold starts (0: never) */
  unsigned hangup_record_ms;/* ... after a recording of the channel
                               starts: a voicemail (0: never) */
} vc_sim_ari_inbound;

/*
 * A call arrives: a channel (state Ring, id like Asterisk's
 * "<seconds>.<n>", endpoint PJSIP/trunk, context from-trunk, exten `to`)
 * enters the application, which gets StasisStart with no args. It does
 * what the plan says and what the application asks (answer, play,
 * record, moh, hangup); its far end hangs up with cause 16. The id into
 * `id` (64 bytes). 0, -EINVAL (no `to`, or a field too long), -ENOMEM.
 */
int vc_sim_ari_incoming(vc_sim *s, const vc_sim_ari_inbound *in,
                        char id[64]);

#ifdef __cplusplus
}
#endif

#endif
