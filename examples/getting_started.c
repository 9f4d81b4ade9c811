/*
 * getting_started: the program of docs/getting-started.md.
 *
 * Opens a context over an SQLite file, creates (or finds) a tenant and a
 * sandbox SMS channel, sends one message, runs the engine once on this
 * thread, and reads the message's status and the tenant's events back.
 * Exits 0 when the message reached `sent`, 1 otherwise.
 *
 *   cc -o getting_started getting_started.c \
 *      $(pkg-config --cflags --libs vyomcomm)
 *   ./getting_started [database file]      (default: comm.db)
 */
#include <vyomcomm.h>

#include <stdio.h>

int main(int argc, char **argv)
{
  /* The master key seals provider credentials. A real host keeps 32
   * random bytes in its own secret store and passes the same key on every
   * run: a store refuses any other key (VC_EKEY). */
  static const uint8_t key[VC_MASTER_KEY_SIZE] = { 0 };
  const char *path = argc > 1 ? argv[1] : "comm.db";
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_ctx_options opts = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_message_spec ms = VC_MESSAGE_SPEC_INIT;
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;
  vc_tenant *acme = NULL;
  vc_message *msg = NULL;
  vc_iter *it = NULL;
  const vc_event *ev;
  char id[VC_ID_SIZE];
  int rc, ok = 0;

  /* 1. A store and a context; the context owns the store once created. */
  if (vc_store_open_sqlite(&store, path, NULL) != VC_OK)
    goto fail;
  mk.key = key;
  mk.key_len = sizeof(key);
  opts.store = store;
  opts.master_key = &mk;
  if (vc_ctx_new(&ctx, &opts) != VC_OK) {
    vc_store_free(store);
    goto fail;
  }

  /* 2. A tenant: every row belongs to one. A second run finds it. */
  ts.slug = "acme";
  ts.name = "Acme Traders";
  rc = vc_tenant_new(&acme, ctx, &ts);
  if (rc == VC_EEXISTS)
    rc = vc_tenant_lookup(&acme, ctx, "acme");
  if (rc != VC_OK)
    goto fail;

  /* 3. A channel: the sandbox SMS provider needs no account and sends
   * nothing; "twilio-sms" would take config_json and credentials_json. */
  cs.name = "sms";
  cs.provider = "sandbox-sms";
  cs.sender = "+15550001111";
  rc = vc_channel_new(NULL, acme, &cs);
  if (rc != VC_OK && rc != VC_EEXISTS)
    goto fail;

  /* 4. Send: when this returns, the message is stored as queued. The
   * idempotency key makes a retry (or a second run) return the same id. */
  ms.kind = VC_CHANNEL_SMS;
  ms.to = "+14155550123";
  ms.text = "Your order has shipped";
  ms.idempotency_key = "order-42-shipped";
  if (vc_message_send(id, acme, &ms) != VC_OK)
    goto fail;

  /* 5. Run the engine once on this thread (or vc_ctx_start(ctx, n) for
   * library threads): it claims the due job and dispatches the message. */
  if (vc_ctx_run(ctx, 0) < 0)
    goto fail;

  /* 6. Read the message back. */
  if (vc_message_lookup(&msg, acme, id) != VC_OK)
    goto fail;
  printf("message %s to %s: %s (provider id %s)\n", vc_message_id(msg),
         vc_message_to(msg), vc_message_status_name(vc_message_status(msg)),
         vc_message_provider_id(msg));
  ok = vc_message_status(msg) == VC_MSG_SENT;

  /* 7. The tenant's events, in order; a host keeps the last seq it
   * handled and passes it as the next cursor. */
  if (vc_events_since(&it, acme, 0) != VC_OK)
    goto fail;
  while ((rc = vc_event_next(&ev, it)) == VC_OK)
    printf("event %llu %s %s\n", (unsigned long long)ev->seq, ev->type,
           ev->subject_id);
  if (rc != VC_ITEROVER)
    goto fail;

  vc_iter_free(it);
  vc_message_free(msg);
  vc_tenant_free(acme);
  vc_ctx_free(ctx);
  return ok ? 0 : 1;
fail:
  fprintf(stderr, "error: %s\n", vc_error_last()->message);
  vc_iter_free(it);
  vc_message_free(msg);
  vc_tenant_free(acme);
  vc_ctx_free(ctx);
  return 1;
}
