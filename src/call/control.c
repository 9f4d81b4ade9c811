/*
 * Hold, transfer, hangup and recording of live calls. See control.h.
 *
 * The public functions check what they can at once (the call's state,
 * the channel adapter's VC_CAP_CALL_* bits) and queue the request; the
 * call.control job sends it, one request per job on a transport of its
 * own (as placing.c does), or hands it to a session adapter's session
 * and waits for its answer (session.h). The timeline gets `hold`, `unhold`,
 * `transfer`, `recording.started` or `recording.stopped` once the
 * provider took the request; a hangup ends the call when the provider
 * reports the end (a local adapter's at once).
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/job.h"
#include "msg/adapter.h"
#include "msg/route.h"
#include "net/transport.h"
#include "call_internal.h"
#include "control.h"
#include "hooks.h"
#include "machine.h"
#include "placing.h"
#include "ratecard.h"
#include "session.h"

#include <cJSON.h>
#include <stdio.h>

static const char SQL_INSERT[] =
  "INSERT INTO vc_call_control (tenant_id, id, call_id, op, arg,"
  " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_LOAD[] =
  "SELECT call_id, op, COALESCE(arg, ''), status, attempts"
  " FROM vc_call_control WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_ATTEMPT[] =
  "UPDATE vc_call_control SET attempts = attempts + 1"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_DONE[] =
  "UPDATE vc_call_control SET status = ?3, error_message = ?4,"
  " done_at = ?5 WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_CHANNEL[] =
  "SELECT id, provider, COALESCE(sender, ''), rate_per_second, updated_at"
  " FROM vc_channel WHERE tenant_id = ?1 AND id = ?2";
/* The argument of the second HANGUP of a call whose customer is on a leg
 * of its own. */
#define HANGUP_CUSTOMER_LEG "customer-leg"

static const char SQL_HANGUP_ASKED[] =
  "UPDATE vc_call SET hangup_requested = 1 WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_TRANSFERRED[] =
  "UPDATE vc_call SET transferred = 1, updated_at = ?3"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_RECORDING[] =
  "UPDATE vc_call SET recording = ?3, updated_at = ?4"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_PRICED_BY[] =
  "SELECT COALESCE(c.provider_call_id, ''), ch.provider FROM vc_call c"
  " JOIN vc_channel ch ON ch.tenant_id = c.tenant_id AND ch.id = c.channel_id"
  " WHERE c.tenant_id = ?1 AND c.id = ?2";
static const char SQL_DROP_START[] =
  "DELETE FROM vc_job WHERE tenant_id = ?1 AND subject_id = ?2"
  " AND kind = 'call.start'";

const char *vc__call_op_name(int op)
{
  static const char *const names[] = {
    "unknown", "hangup", "hold", "unhold", "transfer", "record_start",
    "record_stop", "delete_recording", "fetch_price"
  };

  return op >= VC_CALL_OP_HANGUP && op <= VC_CALL_OP_FETCH_PRICE
           ? names[op] : names[0];
}

void vc__call_webhook_url(char *out, size_t size, vc_ctx *ctx,
                          const char *channel_id, const char *call_id)
{
  if (ctx->public_base_url == NULL)
    out[0] = '\0';
  else
    snprintf(out, size, "%s/webhooks/%s?vc_call=%s", ctx->public_base_url,
             channel_id, call_id);
}

static int enqueue_at(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                      const char *call_id, int op, const char *arg,
                      int64_t due)
{
  char id[VC_ID_SIZE];
  int rc;

  if (op < VC_CALL_OP_HANGUP || op > VC_CALL_OP_FETCH_PRICE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown call operation %d", op);
  if ((rc = vc__new_id(ctx, id)) < 0 ||
      (rc = vc__db_run(db, SQL_INSERT, "tttiti", tenant_id, id, call_id,
                       (int64_t)op, arg, vc__now(ctx))) < 0)
    return rc;
  return vc__job_enqueue(db, ctx, tenant_id, VC__JOB_CALL_CONTROL, id, due,
                         NULL);
}

int vc__call_control_enqueue(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                             const char *call_id, int op, const char *arg)
{
  return enqueue_at(db, ctx, tenant_id, call_id, op, arg, vc__now(ctx));
}

int vc__call_price_schedule(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                            const char *call_id)
{
  char provider_call_id[VC__CALL_PROVIDER_ID_MAX] = "";
  char provider[128] = "";
  vc_adapter a;
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_PRICED_BY, "tt", tenant_id,
                         call_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    snprintf(provider_call_id, sizeof(provider_call_id), "%s",
             vc__stmt_text(s, 0));
    snprintf(provider, sizeof(provider), "%s", vc__stmt_text(s, 1));
    rc = 0;
  }
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  /* Never placed, or no channel: nobody charged for it. */
  if (provider_call_id[0] == '\0' || provider[0] == '\0')
    return 0;
  if (vc__adapter_find(&a, ctx, provider) < 0) {
    vc_error_clear(); /* an adapter gone since: nothing to ask */
    return 0;
  }
  if (a.version < 2 || (a.capabilities & VC_CAP_CALL_PRICE) == 0 ||
      (a.capabilities & VC_CAP_LOCAL) != 0 || a.build_control == NULL ||
      a.parse_control == NULL)
    return 0;
  return enqueue_at(db, ctx, tenant_id, call_id, VC_CALL_OP_FETCH_PRICE,
                    NULL, vc__now(ctx) + VC__CALL_PRICE_DELAY_MS);
}

/* A channel of the tenant, enabled or not: a live call stays on it. */
static int channel_target(vc__route_target *t, vc__db *db,
                          const char *tenant_id, const char *id)
{
  vc__stmt *s;
  int rc;

  memset(t, 0, sizeof(*t));
  if ((rc = vc__db_query(&s, db, SQL_CHANNEL, "tt", tenant_id, id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    snprintf(t->id, sizeof(t->id), "%s", vc__stmt_text(s, 0));
    snprintf(t->provider, sizeof(t->provider), "%s", vc__stmt_text(s, 1));
    snprintf(t->sender, sizeof(t->sender), "%s", vc__stmt_text(s, 2));
    t->rate_per_second = vc__stmt_double(s, 3);
    t->updated_at = vc__stmt_int64(s, 4);
    rc = 0;
  } else if (rc == VC_STORAGE_DONE) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "the call's channel is gone");
  }
  vc__stmt_done(s);
  return rc;
}

/* ---- the public operations ------------------------------------------------ */

static uint64_t capability_of(int op)
{
  switch (op) {
  case VC_CALL_OP_HOLD:
  case VC_CALL_OP_UNHOLD: return VC_CAP_CALL_HOLD;
  case VC_CALL_OP_TRANSFER: return VC_CAP_CALL_TRANSFER;
  case VC_CALL_OP_HANGUP: return VC_CAP_CALL_HANGUP;
  case VC_CALL_OP_DELETE_RECORDING: return VC_CAP_RECORDING_DELETE;
  case VC_CALL_OP_FETCH_PRICE: return VC_CAP_CALL_PRICE;
  default: return VC_CAP_CALL_RECORD;
  }
}

/* Check and queue `op` on the call, in one transaction. */
static int request(vc_call *call, int op, const char *arg)
{
  char action[32];
  vc_ctx *ctx = vc__call_ctx(call);
  const char *tenant_id = vc__call_tenant_id(call);
  vc__route_target target;
  vc_adapter adapter;
  vc__call_row r;
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = vc__call_row_load(&r, db, tenant_id, vc_call_id(call))) < 0)
    goto fail;
  if (!vc__call_state_live(r.state)) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE, "the call is %s",
                       vc_call_state_name(r.state));
    goto fail;
  }
  if (op == VC_CALL_OP_HANGUP && r.state == VC_CALL_INITIATED &&
      r.provider_call_id[0] == '\0') {
    /* Not placed yet (or its request is in flight: placing.c hangs it
     * up once the provider answers): it ends here. */
    vc__call_ending e;
    memset(&e, 0, sizeof(e));
    e.state = VC_CALL_CANCELED;
    e.cause = VC_CAUSE_API_HANGUP;
    e.at = vc__now(ctx);
    if ((rc = vc__db_run(db, SQL_HANGUP_ASKED, "tt", tenant_id, r.id)) < 0 ||
        (rc = vc__db_run(db, SQL_DROP_START, "tt", tenant_id, r.id)) < 0 ||
        (rc = vc__call_end(db, ctx, tenant_id, r.id, &e)) < 0)
      goto fail;
    goto commit;
  }
  if (op != VC_CALL_OP_HANGUP && r.state != VC_CALL_BRIDGED) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                       "the call is %s, not bridged",
                       vc_call_state_name(r.state));
    goto fail;
  }
  if ((rc = channel_target(&target, db, tenant_id, r.channel_id)) < 0 ||
      (rc = vc__adapter_find(&adapter, ctx, target.provider)) < 0)
    goto fail;
  if ((adapter.capabilities & capability_of(op)) == 0 ||
      adapter.version < 2) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED,
                       "provider '%s' cannot %s a call", adapter.name,
                       op == VC_CALL_OP_RECORD_START ||
                       op == VC_CALL_OP_RECORD_STOP ? "record"
                       : op == VC_CALL_OP_UNHOLD ? "hold"
                       : vc__call_op_name(op));
    goto fail;
  }
  switch (op) {
  case VC_CALL_OP_HOLD:
  case VC_CALL_OP_UNHOLD:
    if (r.on_hold == (op == VC_CALL_OP_HOLD)) {
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "the customer is %s on hold",
                         r.on_hold ? "already" : "not");
      goto fail;
    }
    break;
  case VC_CALL_OP_RECORD_START:
  case VC_CALL_OP_RECORD_STOP:
    if (r.record_mode != VC_RECORD_ON_DEMAND) {
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "the call's recording is not on demand");
      goto fail;
    }
    if (r.recording == (op == VC_CALL_OP_RECORD_START)) {
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "the call is %s recorded",
                         r.recording ? "already" : "not");
      goto fail;
    }
    break;
  case VC_CALL_OP_HANGUP:
    if ((rc = vc__db_run(db, SQL_HANGUP_ASKED, "tt", tenant_id, r.id)) < 0)
      goto fail;
    /* A customer held or transferred is on a leg of its own, which the
     * agent's hangup does not end. */
    if ((r.on_hold || r.transferred) && r.customer_leg_id[0] != '\0' &&
        (rc = vc__call_control_enqueue(db, ctx, tenant_id, r.id, op,
                                       HANGUP_CUSTOMER_LEG)) < 0)
      goto fail;
    break;
  default:
    break;
  }
  if ((rc = vc__call_control_enqueue(db, ctx, tenant_id, r.id, op, arg)) < 0)
    goto fail;
commit:
  /* "call.hold", "call.hangup", ...: the call's own id, never a number. */
  snprintf(action, sizeof(action), "call.%s", vc__call_op_name(op));
  if ((rc = vc__audit(db, ctx, tenant_id, action, r.id, NULL)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  vc__db_release(db);
  vc_ctx_wakeup(ctx);
  vc_call_refresh(call); /* the snapshot shows what changed, if anything */
  return 0;
fail:
  vc__db_rollback(db);
release:
  vc__db_release(db);
  return rc;
}

int vc_call_hold(vc_call *call, int on)
{
  VC_ASSERT_ARG(call);
  return request(call, on ? VC_CALL_OP_HOLD : VC_CALL_OP_UNHOLD, NULL);
}

int vc_call_hangup(vc_call *call)
{
  VC_ASSERT_ARG(call);
  return request(call, VC_CALL_OP_HANGUP, NULL);
}

int vc_call_record(vc_call *call, int on)
{
  VC_ASSERT_ARG(call);
  return request(call, on ? VC_CALL_OP_RECORD_START : VC_CALL_OP_RECORD_STOP,
                 NULL);
}

int vc_call_transfer(vc_call *call, const char *to)
{
  char target[VC_CALL_ADDRESS_MAX + 1], agent_id[VC_ID_SIZE];
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(call);
  if (to == NULL || to[0] == '\0')
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a transfer needs a target");
  if (vc__call_check_address(target, "transfer target", to, 1) < 0) {
    /* Not a number or URI: an agent of the tenant? */
    char number[VC_CALL_ADDRESS_MAX + 1] = "";
    ctx = vc__call_ctx(call);
    if (strlen(to) > 255)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "transfer target is too long");
    if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
      return rc;
    rc = vc__agent_resolve(db, vc__call_tenant_id(call), to, agent_id,
                           number);
    vc__db_release(db);
    if (rc < 0 ||
        vc__call_check_address(target, "agent's number", number, 1) < 0)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "transfer target is not a number, a sip: URI "
                           "or an agent of the tenant");
  }
  return request(call, VC_CALL_OP_TRANSFER, target);
}

/* ---- the job ----------------------------------------------------------- */

typedef struct ctl {
  vc_ctx *ctx;
  const char *owner;
  const vc__job *job;
  vc__job_outcome *out;
  char call_id[VC_ID_SIZE];
  int op, status, attempts;
  char arg[VC_CALL_ADDRESS_MAX + 1];
  vc__call_row row;
  vc__route_target target;
  vc__route_instance *inst;
  char webhook_url[1024];
  vc_call_control c;
  vc__transfer xfer;
  int local;
  vc__session_wait *wait;           /* a session's answer, until recorded */
  vc_send_result result;
  int later;                        /* started on a session: await it */
} ctl;

static int load_control(ctl *k, vc__db *db)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_LOAD, "tt", k->job->tenant_id,
                         k->job->subject_id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    snprintf(k->call_id, sizeof(k->call_id), "%s", vc__stmt_text(s, 0));
    k->op = (int)vc__stmt_int64(s, 1);
    snprintf(k->arg, sizeof(k->arg), "%s", vc__stmt_text(s, 2));
    k->status = (int)vc__stmt_int64(s, 3);
    k->attempts = (int)vc__stmt_int64(s, 4);
    rc = 0;
  } else if (rc == VC_STORAGE_DONE) {
    rc = VC_ENOTFOUND;
  }
  vc__stmt_done(s);
  return rc;
}

static void fail_with(ctl *k, int error, const char *why)
{
  k->result.outcome = VC_SEND_REJECTED;
  k->result.error = error;
  snprintf(k->result.error_message, sizeof(k->result.error_message), "%s",
           why);
}

/* Load and decide what to send. 1: a request (or a local answer) to
 * make; 0: the outcome is decided (k->result or k->out). */
static int plan(ctl *k, vc__db *db)
{
  int rc;

  if ((rc = load_control(k, db)) == VC_ENOTFOUND || k->status != 0) {
    k->out->result = VC__JOB_DONE;
    return 0;
  }
  if (rc < 0)
    return rc;
  if ((rc = vc__call_row_load(&k->row, db, k->job->tenant_id,
                              k->call_id)) == VC_ENOTFOUND) {
    vc_error_clear();
    k->out->result = VC__JOB_DONE;
    return 0;
  }
  if (rc < 0)
    return rc;
  if (k->op == VC_CALL_OP_FETCH_PRICE) {
    if (vc__call_state_live(k->row.state) ||
        k->row.provider_call_id[0] == '\0') {
      fail_with(k, VC_ESTATE, "only an ended call the provider named has "
                "a price");
      return 0;
    }
  } else if (k->op != VC_CALL_OP_DELETE_RECORDING) {
    /* A hangup still goes out for a call canceled while the provider
     * was taking it (placing.c queues it then). */
    if (!vc__call_state_live(k->row.state) &&
        (k->op != VC_CALL_OP_HANGUP || k->row.provider_call_id[0] == '\0')) {
      fail_with(k, VC_ESTATE, "the call ended first");
      return 0;
    }
    if (k->row.provider_call_id[0] == '\0') {
      /* The provider has not said the call's id yet: wait for it. */
      if (k->attempts + 1 >= VC__CALL_CONTROL_ATTEMPTS * 4) {
        fail_with(k, VC_ESTATE, "the provider never named the call");
        return 0;
      }
      k->result.outcome = VC_SEND_RETRY;
      k->result.retry_after_ms = 1000;
      snprintf(k->result.error_message, sizeof(k->result.error_message),
               "waiting for the provider's id of the call");
      return 0;
    }
  }
  if ((rc = channel_target(&k->target, db, k->job->tenant_id,
                           k->row.channel_id)) < 0) {
    fail_with(k, rc, vc_error_last()->message);
    return 0;
  }
  return 1;
}

static void exchange(ctl *k, const vc_adapter *a);
static void price_legs(ctl *k, const vc_adapter *a);

static void session_checked(ctl *k)
{
  if (k->result.outcome < VC_SEND_ACCEPTED ||
      k->result.outcome > VC_SEND_FAILOVER) {
    k->result.outcome = VC_SEND_RETRY;
    k->result.error = VC_EPROVIDER;
    snprintf(k->result.error_message, sizeof(k->result.error_message),
             "the session answered an unknown outcome");
  }
}

/* With `start_only`, an operation for a session is only prepared
 * (k->later set): start_one() hands it over, vc__session_await() waits. */
static void build_and_run(ctl *k, int start_only)
{
  const vc_adapter *a;
  int rc;

  if ((rc = vc__route_instance_get(&k->inst, k->ctx, k->job->tenant_id,
                                   &k->target)) < 0) {
    k->result.outcome = VC_SEND_RETRY;
    k->result.error = rc;
    snprintf(k->result.error_message, sizeof(k->result.error_message),
             "channel unusable: %s", vc_error_last()->message);
    return;
  }
  a = &k->inst->adapter;
  if (a->version < 2 ||
      (vc__session_adapter(a) ? a->session->operation == NULL
                              : a->parse_control == NULL) ||
      (a->capabilities & capability_of(k->op)) == 0) {
    fail_with(k, VC_ENOTSUPPORTED, "the provider cannot do this");
    return;
  }
  vc__call_webhook_url(k->webhook_url, sizeof(k->webhook_url), k->ctx,
                       k->target.id, k->call_id);
  k->c.version = VC_CALL_CONTROL_VERSION;
  k->c.op = k->op;
  k->c.call_id = k->call_id;
  k->c.provider_call_id = k->row.provider_call_id[0]
                            ? k->row.provider_call_id : NULL;
  if (k->op == VC_CALL_OP_HANGUP &&
      strcmp(k->arg, HANGUP_CUSTOMER_LEG) == 0)
    k->c.provider_call_id = k->row.customer_leg_id;
  k->c.customer_leg_id = k->row.customer_leg_id[0]
                           ? k->row.customer_leg_id : NULL;
  k->c.target = k->op == VC_CALL_OP_TRANSFER ? k->arg : NULL;
  k->c.caller_id = k->row.caller_id[0] ? k->row.caller_id : NULL;
  k->c.recording_id = k->op == VC_CALL_OP_DELETE_RECORDING ? k->arg : NULL;
  k->c.webhook_url = k->webhook_url[0] ? k->webhook_url : NULL;
  k->c.now_ms = vc__now(k->ctx);
  if (vc__session_adapter(a)) {
    /* The session runs it; its answer is what parse_control would say. */
    if (start_only) {
      k->later = 1; /* start_one() hands it over */
      return;
    }
    vc__session_operate(&k->wait, k->ctx, k->job->tenant_id, k->inst,
                        &k->c, k->c.now_ms + VC__SESSION_OP_WAIT_MS,
                        &k->result);
    session_checked(k);
    return;
  }
  k->local = (a->capabilities & VC_CAP_LOCAL) != 0;
  exchange(k, a);
  if (k->op == VC_CALL_OP_FETCH_PRICE)
    price_legs(k, a);
}

/* A price read from an adapter must be one the ledger can take. */
static void check_price(ctl *k)
{
  if (k->result.outcome == VC_SEND_ACCEPTED &&
      (k->result.cost_micros < 0 ||
       k->result.cost_micros > VC__CALL_PRICE_MAX_MICROS ||
       !vc__currency_valid(k->result.currency))) {
    k->result.outcome = VC_SEND_RETRY;
    k->result.error = VC_EPROVIDER;
    snprintf(k->result.error_message, sizeof(k->result.error_message),
             "the adapter's price is out of bounds or has no ISO 4217 "
             "currency");
  }
}

/* A customer's leg with an id of its own (a Twilio <Dial> child) is a
 * call of its own at the provider, priced apart: the call costs both. */
static void price_legs(ctl *k, const vc_adapter *a)
{
  vc_send_result first;

  check_price(k);
  if (k->result.outcome != VC_SEND_ACCEPTED ||
      k->c.customer_leg_id == NULL ||
      strcmp(k->c.customer_leg_id, k->row.provider_call_id) == 0)
    return;
  first = k->result;
  k->c.provider_call_id = k->c.customer_leg_id;
  vc__transfer_reset(&k->xfer);
  vc__transfer_init(&k->xfer);
  memset(&k->result, 0, sizeof(k->result));
  exchange(k, a);
  check_price(k);
  if (k->result.outcome != VC_SEND_ACCEPTED)
    return;
  if (strcmp(k->result.currency, first.currency) != 0 ||
      k->result.cost_micros >
        VC__CALL_PRICE_MAX_MICROS - first.cost_micros) {
    k->result.outcome = VC_SEND_RETRY;
    k->result.error = VC_EPROVIDER;
    snprintf(k->result.error_message, sizeof(k->result.error_message),
             "the call's legs are priced in %s and %s, or too high",
             first.currency, k->result.currency);
    return;
  }
  k->result.cost_micros += first.cost_micros;
}

/* Build, send and parse the request k->c describes, into k->result. */
static void exchange(ctl *k, const vc_adapter *a)
{
  const vc_http_response *res = NULL;
  vc__transport_opts o;
  vc__transport *t = NULL;
  vc__transfer *x = &k->xfer;
  int rc;

  if (!k->local) {
    if (a->build_control == NULL) {
      fail_with(k, VC_ENOTSUPPORTED, "the provider cannot do this");
      return;
    }
    if ((rc = a->build_control(k->inst->state, &k->c, &x->req)) < 0) {
      fail_with(k, rc, vc_error_last()->message);
      return;
    }
    memset(&o, 0, sizeof(o));
    o.allow_private = k->ctx->allow_private_network;
    o.max_connections = 1;
    if ((rc = vc__transport_new(&t, &o)) == 0)
      rc = vc__transport_run(t, &x, 1);
    vc__transport_free(t);
    if (rc < 0 || x->error != 0) {
      k->result.outcome = VC_SEND_RETRY;
      k->result.error = rc < 0 ? rc : x->error;
      snprintf(k->result.error_message, sizeof(k->result.error_message),
               "%s", rc < 0 ? vc_error_last()->message : x->error_text);
      return;
    }
    res = &x->res;
  }
  memset(&k->result, 0, sizeof(k->result));
  k->result.version = VC_SEND_RESULT_VERSION;
  rc = a->parse_control(k->inst->state, &k->c, res, &k->result);
  if (rc < 0 || k->result.outcome < VC_SEND_ACCEPTED ||
      k->result.outcome > VC_SEND_FAILOVER) {
    k->result.outcome = VC_SEND_RETRY;
    k->result.error = VC_EPROVIDER;
    snprintf(k->result.error_message, sizeof(k->result.error_message),
             "unreadable provider response (HTTP %d)", x->res.status);
  }
}

/* What a request the provider took does to the call. */
static int took(ctl *k, vc__db *db, int64_t now)
{
  const char *tenant_id = k->job->tenant_id;
  cJSON *d;
  char *text;
  int rc;

  switch (k->op) {
  case VC_CALL_OP_HOLD:
  case VC_CALL_OP_UNHOLD:
    return vc__call_set_hold(db, k->ctx, tenant_id, k->call_id,
                             k->op == VC_CALL_OP_HOLD, now);
  case VC_CALL_OP_TRANSFER:
    if ((rc = vc__db_run(db, SQL_TRANSFERRED, "tti", tenant_id, k->call_id,
                         now)) < 0)
      return rc;
    if ((d = cJSON_CreateObject()) == NULL)
      return vc_error_set_oom();
    cJSON_AddStringToObject(d, "to", k->arg);
    text = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    if (text == NULL)
      return vc_error_set_oom();
    rc = vc__call_entry_add(db, k->ctx, tenant_id, k->call_id, "transfer",
                            VC_LEG_CUSTOMER, text, now);
    cJSON_free(text);
    return rc;
  case VC_CALL_OP_RECORD_START:
  case VC_CALL_OP_RECORD_STOP: {
    int on = k->op == VC_CALL_OP_RECORD_START;
    if (k->row.recording == on)
      return 0;
    /* The timeline entry comes with the provider's report of the
     * recording (recording.c), which names it. */
    return vc__db_run(db, SQL_RECORDING, "ttii", tenant_id, k->call_id,
                      (int64_t)on, now);
  }
  case VC_CALL_OP_DELETE_RECORDING:
    return vc__recording_on_deleted(db, k->ctx, tenant_id, k->arg, 1, now);
  case VC_CALL_OP_FETCH_PRICE: {
    /* As if the provider had reported it (VC_UPDATE_PRICE). */
    vc_call_update u;
    memset(&u, 0, sizeof(u));
    u.version = VC_CALL_UPDATE_VERSION;
    u.type = VC_UPDATE_PRICE;
    u.leg = VC_LEG_NONE;
    u.occurred_at = now;
    u.price_micros = k->result.cost_micros;
    memcpy(u.currency, k->result.currency, sizeof(u.currency));
    u.currency[3] = '\0';
    return vc__call_apply(db, k->ctx, tenant_id, k->call_id, &u, now, NULL);
  }
  default: /* HANGUP */
    if (k->local) {
      /* No webhook will say so: the call ends now. */
      vc__call_ending e;
      memset(&e, 0, sizeof(e));
      e.state = k->row.state == VC_CALL_BRIDGED ? VC_CALL_COMPLETED
                                                 : VC_CALL_CANCELED;
      e.cause = VC_CAUSE_API_HANGUP;
      e.at = now;
      return vc__call_end(db, k->ctx, tenant_id, k->call_id, &e);
    }
    return 0;
  }
}

static int refused(ctl *k, vc__db *db, int64_t now)
{
  char payload[512];
  cJSON *d;
  char *text;
  int rc;

  if ((rc = vc__db_run(db, SQL_DONE, "ttiti", k->job->tenant_id,
                       k->job->subject_id, (int64_t)2,
                       k->result.error_message, now)) < 0)
    return rc;
  if (k->op == VC_CALL_OP_DELETE_RECORDING)
    return vc__recording_on_deleted(db, k->ctx, k->job->tenant_id, k->arg,
                                    0, now);
  if ((d = cJSON_CreateObject()) == NULL)
    return vc_error_set_oom();
  cJSON_AddStringToObject(d, "control_id", k->job->subject_id);
  cJSON_AddStringToObject(d, "op", vc__call_op_name(k->op));
  cJSON_AddNumberToObject(d, "error", k->result.error);
  cJSON_AddStringToObject(d, "message", k->result.error_message);
  text = cJSON_PrintUnformatted(d);
  cJSON_Delete(d);
  if (text == NULL)
    return vc_error_set_oom();
  snprintf(payload, sizeof(payload), "%s", text);
  cJSON_free(text);
  return vc__event_append(db, k->ctx, k->job->tenant_id,
                          "call.control_failed", k->call_id, payload);
}

static int64_t pause_ms(ctl *k)
{
  int64_t ms = 1000, cap = 30000;

  if (k->op == VC_CALL_OP_FETCH_PRICE) {
    /* Providers price a call minutes after it ended. */
    ms = 60000;
    cap = 16 * 60000;
  }
  for (int i = 0; i < k->attempts && ms < cap; i++)
    ms *= 2;
  if (k->result.retry_after_ms > ms)
    ms = k->result.retry_after_ms;
  return ms;
}

/* The outcome and the job's, inside the caller's transaction. */
static int record_in(ctl *k, vc__db *db, int64_t now)
{
  int rc;

  k->out->result = VC__JOB_DONE;
  switch (k->result.outcome) {
  case VC_SEND_ACCEPTED:
    if ((rc = vc__db_run(db, SQL_DONE, "ttini", k->job->tenant_id,
                         k->job->subject_id, (int64_t)1, now)) == 0)
      rc = took(k, db, now);
    break;
  case VC_SEND_RETRY:
    if ((rc = vc__db_run(db, SQL_ATTEMPT, "tt", k->job->tenant_id,
                         k->job->subject_id)) < 0)
      break;
    if (k->op == VC_CALL_OP_FETCH_PRICE) {
      if (k->attempts + 1 < VC__CALL_PRICE_TRIES &&
          now + pause_ms(k) <= k->row.at[0] + VC__CALL_PRICE_WINDOW_MS) {
        k->out->result = VC__JOB_RETRY;
        k->out->retry_at = now + pause_ms(k);
        snprintf(k->out->error, sizeof(k->out->error), "%s",
                 k->result.error_message);
        break;
      }
      /* Given up: the estimate stands. */
      {
        char why[sizeof(k->result.error_message)];
        snprintf(why, sizeof(why), "no price from the provider after %d "
                 "tries, the estimate stands: %s", k->attempts + 1,
                 k->result.error_message);
        memcpy(k->result.error_message, why, sizeof(why));
      }
      if (k->result.error == 0)
        k->result.error = VC_ETIMEOUT;
      rc = refused(k, db, now);
      break;
    }
    if (k->attempts + 1 < VC__CALL_CONTROL_ATTEMPTS ||
        k->row.provider_call_id[0] == '\0') {
      k->out->result = VC__JOB_RETRY;
      k->out->retry_at = now + pause_ms(k);
      snprintf(k->out->error, sizeof(k->out->error), "%s",
               k->result.error_message);
      break;
    }
    rc = refused(k, db, now);
    break;
  default:
    rc = refused(k, db, now);
    break;
  }
  if (rc == 0)
    rc = vc__job_record(db, k->owner, k->job, k->out);
  return rc;
}

static int record_outcome(ctl *k)
{
  int64_t now = vc__now(k->ctx);
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, k->ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) == 0) {
    if ((rc = record_in(k, db, now)) == 0)
      rc = vc__db_commit(db);
    if (rc < 0) {
      vc__db_rollback(db);
      k->out->recorded = 0;
    }
  }
  vc__db_release(db);
  return rc;
}

static ctl *ctl_new(vc_ctx *ctx, const char *owner, const vc__job *job,
                    vc__job_outcome *out)
{
  ctl *k = vc__calloc(1, sizeof(*k));

  if (k == NULL)
    return NULL;
  k->ctx = ctx;
  k->owner = owner;
  k->job = job;
  k->out = out;
  vc__transfer_init(&k->xfer);
  return k;
}

static void ctl_free(ctl *k)
{
  if (k == NULL)
    return;
  vc__session_release(k->wait);
  if (k->inst != NULL)
    vc__route_instance_put(k->ctx, k->inst);
  vc__transfer_reset(&k->xfer);
  vc__free(k);
}

/* Plan and, with `start_only`, start (k->later) or run the operation.
 * 1: an outcome to record; 0: decided, nothing to record but the job. */
static int prepare_run(ctl *k, int start_only)
{
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, k->ctx->store)) < 0)
    return rc;
  rc = plan(k, db);
  vc__db_release(db);
  if (rc < 0)
    return rc;
  if (rc == 0 && k->result.outcome == 0)
    return 0;
  if (rc == 1)
    build_and_run(k, start_only);
  return 1;
}

static int call_control(vc_ctx *ctx, const char *owner, const vc__job *job,
                        vc__job_outcome *out)
{
  ctl *k = ctl_new(ctx, owner, job, out);
  int rc;

  if (k == NULL)
    return vc_error_set_oom();
  if ((rc = prepare_run(k, 0)) == 1)
    rc = record_outcome(k);
  ctl_free(k);
  return rc;
}

static void start_one(ctl *k)
{
  vc__session_operate_start(&k->wait, k->ctx, k->job->tenant_id, k->inst,
                            &k->c, &k->result);
  if (k->wait == NULL) {
    k->later = 0; /* k->result says why */
    session_checked(k);
  }
}

/* This job's machinery failed: again a little later. */
static void control_retry(vc_ctx *ctx, const vc__job *job,
                          vc__job_outcome *out)
{
  vc__job_retry_machinery(ctx, job, out, vc__now(ctx) + 1000);
}

/* Record the outcomes of the operations sessions ran, in one
 * transaction; should it fail, each in its own. */
typedef struct record_batch {
  ctl **ks;
  int64_t now;
} record_batch;

static int record_step(vc__db *db, size_t i, void *arg)
{
  record_batch *b = arg;

  return record_in(b->ks[i], db, b->now);
}

static void record_many(ctl **ks, size_t n)
{
  vc_ctx *ctx = ks[0]->ctx;
  record_batch b = { ks, vc__now(ctx) };

  if (vc__db_batch(ctx->store, n, record_step, &b) == 0)
    return;
  vc_error_clear();
  for (size_t i = 0; i < n; i++) {
    ks[i]->out->recorded = 0;
    if (record_outcome(ks[i]) < 0)
      control_retry(ctx, ks[i]->job, ks[i]->out);
  }
}

/* Operations run by sessions go out a few at a time and their outcomes
 * are recorded together (as placements do: placing.c); the others run
 * one by one. */
#define SESSION_WINDOW 4

static int control_batch(vc_ctx *ctx, vc__engine *engine,
                         const vc__job *jobs, size_t n,
                         vc__job_outcome *out)
{
  ctl **ks = vc__calloc(n, sizeof(*ks));
  size_t m = 0, next = 0;
  int rc;

  if (ks == NULL) {
    vc__call_jobs_each(ctx, engine, jobs, n, out, call_control);
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    ctl *k = ctl_new(ctx, engine->owner, &jobs[i], &out[i]);
    if (k == NULL) {
      (void)vc_error_set_oom();
      control_retry(ctx, &jobs[i], &out[i]);
      continue;
    }
    /* A session's operation is started later, with the others; one per
     * call: the call's next waits for this one's outcome, recorded. */
    if ((rc = prepare_run(k, 1)) == 1 && k->later) {
      size_t j = 0;
      while (j < m && strcmp(ks[j]->call_id, k->call_id) != 0)
        j++;
      if (j == m) {
        ks[m++] = k;
        continue;
      }
      out[i].result = VC__JOB_RETRY;
      out[i].retry_at = vc__now(ctx);
      snprintf(out[i].error, sizeof(out[i].error),
               "after the call's operation before it");
      rc = 0;
      ctl_free(k);
      continue;
    }
    if (rc == 1)
      rc = record_outcome(k);
    if (rc < 0)
      control_retry(ctx, &jobs[i], &out[i]);
    ctl_free(k);
  }
  for (size_t i = 0; i < m; i++) {
    ctl *k = ks[i];
    for (; next < m && next < i + SESSION_WINDOW; next++)
      start_one(ks[next]);
    if (k->later) {
      (void)vc__session_await(k->wait, ctx,
                              k->c.now_ms + VC__SESSION_OP_WAIT_MS, 1,
                              &k->result);
      session_checked(k);
    }
  }
  if (m > 0)
    record_many(ks, m);
  for (size_t i = 0; i < m; i++)
    ctl_free(ks[i]);
  vc__free(ks);
  return 0;
}

int vc__call_control_register(vc_ctx *ctx)
{
  return vc__job_register_batch(ctx, VC__JOB_CALL_CONTROL, control_batch);
}
