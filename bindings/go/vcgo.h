/*
 * Helpers shared by the cgo preambles of the Go binding.
 *
 * vc_error_last() is thread-local, and a goroutine may move to another
 * OS thread between two cgo calls; so every library call that can fail
 * goes through a vcgo_ wrapper that makes the call and, on failure,
 * copies the error detail into a caller-provided vcgo_err in the same C
 * call, on the same thread.
 */
#ifndef VCGO_H
#define VCGO_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vyomcomm.h>

typedef struct vcgo_err {
  int code;
  int klass;
  int provider_status;
  char message[512];
} vcgo_err;

static inline int vcgo_fail(vcgo_err *e, int rc)
{
  if (rc < 0 && rc != VC_ITEROVER && e != NULL) {
    const vc_error *l = vc_error_last();
    e->code = rc;
    e->klass = l->klass;
    e->provider_status = l->provider_status;
    snprintf(e->message, sizeof(e->message), "%s",
             l->code == rc && l->message != NULL ? l->message
                                                 : vc_strerror(rc));
  }
  return rc;
}

#define VCGO1(n, T1) \
  static inline int vcgo_##n(T1 a1, vcgo_err *e) \
  { return vcgo_fail(e, vc_##n(a1)); }
#define VCGO2(n, T1, T2) \
  static inline int vcgo_##n(T1 a1, T2 a2, vcgo_err *e) \
  { return vcgo_fail(e, vc_##n(a1, a2)); }
#define VCGO3(n, T1, T2, T3) \
  static inline int vcgo_##n(T1 a1, T2 a2, T3 a3, vcgo_err *e) \
  { return vcgo_fail(e, vc_##n(a1, a2, a3)); }
#define VCGO4(n, T1, T2, T3, T4) \
  static inline int vcgo_##n(T1 a1, T2 a2, T3 a3, T4 a4, vcgo_err *e) \
  { return vcgo_fail(e, vc_##n(a1, a2, a3, a4)); }
#define VCGO5(n, T1, T2, T3, T4, T5) \
  static inline int vcgo_##n(T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, \
                             vcgo_err *e) \
  { return vcgo_fail(e, vc_##n(a1, a2, a3, a4, a5)); }

/* context and store */
VCGO3(store_open_sqlite, vc_store **, const char *, const vc_sqlite_options *)
VCGO2(ctx_new, vc_ctx **, const vc_ctx_options *)
VCGO2(ctx_run, vc_ctx *, int)
VCGO2(ctx_start, vc_ctx *, unsigned int)
VCGO1(ctx_stop, vc_ctx *)
VCGO1(ctx_wakeup, vc_ctx *)
VCGO2(webhook_listen, vc_ctx *, const char *)

/* tenants */
VCGO3(tenant_new, vc_tenant **, vc_ctx *, const vc_tenant_spec *)
VCGO3(tenant_lookup, vc_tenant **, vc_ctx *, const char *)
VCGO3(tenant_list, vc_iter **, vc_ctx *, const vc_tenant_filter *)
VCGO2(tenant_next, vc_tenant **, vc_iter *)

/* channels and templates */
VCGO3(channel_new, vc_channel **, vc_tenant *, const vc_channel_spec *)
VCGO3(channel_lookup, vc_channel **, vc_tenant *, const char *)
VCGO1(channel_disable, vc_channel *)
VCGO1(channel_enable, vc_channel *)
VCGO3(template_new, vc_template **, vc_tenant *, const vc_template_spec *)
VCGO3(template_lookup, vc_template **, vc_tenant *, const char *)
VCGO2(template_add_variant, vc_template *, const vc_template_spec *)
VCGO3(template_render, vc_buf *, vc_template *,
      const vc_template_render_spec *)

/* messages */
VCGO3(message_send, char *, vc_tenant *, const vc_message_spec *)
VCGO3(message_lookup, vc_message **, vc_tenant *, const char *)
VCGO2(message_cancel, vc_tenant *, const char *)
VCGO3(message_list, vc_iter **, vc_tenant *, const vc_message_filter *)
VCGO2(message_next, vc_message **, vc_iter *)

static inline int vcgo_message_send_many(vc_tenant *t,
                                         const vc_message_spec *specs,
                                         size_t n, char *ids, int *results,
                                         vcgo_err *e)
{
  return vcgo_fail(e, vc_message_send_many(t, specs, n,
                                           (char (*)[VC_ID_SIZE])ids,
                                           results));
}

/* calls */
VCGO3(call_start, vc_call **, vc_tenant *, const vc_call_spec *)
VCGO3(call_lookup, vc_call **, vc_tenant *, const char *)
VCGO1(call_hangup, vc_call *)
VCGO2(call_hold, vc_call *, int)
VCGO2(call_transfer, vc_call *, const char *)
VCGO1(call_refresh, vc_call *)
VCGO3(call_list, vc_iter **, vc_tenant *, const vc_call_filter *)
VCGO2(call_next, vc_call **, vc_iter *)
VCGO3(call_timeline, vc_iter **, vc_tenant *, const char *)
VCGO2(call_entry_next, vc_call_entry **, vc_iter *)

/* campaigns */
VCGO3(campaign_new, vc_campaign **, vc_tenant *, const vc_campaign_spec *)
VCGO3(campaign_lookup, vc_campaign **, vc_tenant *, const char *)
VCGO1(campaign_start, vc_campaign *)
VCGO1(campaign_pause, vc_campaign *)
VCGO1(campaign_resume, vc_campaign *)
VCGO1(campaign_cancel, vc_campaign *)
VCGO2(campaign_counters_get, vc_campaign_counters *, vc_campaign *)

/* contacts and consent */
VCGO3(contact_upsert, char *, vc_tenant *, const vc_contact_spec *)
VCGO3(contact_update, vc_tenant *, const char *, const vc_contact_spec *)
VCGO3(contact_lookup, vc_contact **, vc_tenant *, const char *)
VCGO4(contact_find_by_address, vc_contact **, vc_tenant *, int,
      const char *)
VCGO3(contact_tag_add, vc_tenant *, const char *, const char *)
VCGO3(contact_tag_remove, vc_tenant *, const char *, const char *)
VCGO3(contact_list, vc_iter **, vc_tenant *, const vc_contact_filter *)
VCGO2(contact_next, vc_contact **, vc_iter *)
VCGO2(consent_set, vc_tenant *, const vc_consent_spec *)
VCGO5(consent_get, vc_consent_info *, vc_tenant *, const char *, int, int)
VCGO4(consent_policy_set, vc_tenant *, int, int, int)
VCGO3(dnc_add, vc_tenant *, const char *, const char *)
VCGO2(dnc_remove, vc_tenant *, const char *)
VCGO2(dnc_contains, vc_tenant *, const char *)

/* agents */
VCGO3(agent_new, vc_agent **, vc_tenant *, const vc_agent_spec *)
VCGO3(agent_lookup, vc_agent **, vc_tenant *, const char *)
VCGO2(agent_update, vc_agent *, const vc_agent_spec *)
VCGO3(agent_set_state, vc_agent *, int, const char *)
VCGO1(agent_refresh, vc_agent *)
VCGO1(agent_delete, vc_agent *)
VCGO3(agent_list, vc_iter **, vc_tenant *, const vc_agent_filter *)
VCGO2(agent_next, vc_agent **, vc_iter *)
VCGO3(agent_activity, vc_iter **, const vc_agent *,
      const vc_agent_activity_filter *)
VCGO2(agent_change_next, vc_agent_change **, vc_iter *)
VCGO4(agent_stats, vc_agent_totals *, vc_agent *, int64_t, int64_t)

/* queues */
VCGO3(queue_new, vc_queue **, vc_tenant *, const vc_queue_spec *)
VCGO3(queue_lookup, vc_queue **, vc_tenant *, const char *)
VCGO2(queue_update, vc_queue *, const vc_queue_spec *)
VCGO1(queue_delete, vc_queue *)
VCGO3(queue_list, vc_iter **, vc_tenant *, const vc_queue_filter *)
VCGO2(queue_next, vc_queue **, vc_iter *)
VCGO3(queue_member_add, vc_queue *, const char *, const char *)
VCGO2(queue_member_remove, vc_queue *, const char *)
VCGO3(queue_members, vc_iter **, const vc_queue *,
      const vc_queue_member_filter *)
VCGO2(queue_member_next, vc_queue_member **, vc_iter *)

/* inbound numbers */
VCGO3(number_new, vc_number **, vc_tenant *, const vc_number_spec *)
VCGO3(number_lookup, vc_number **, vc_tenant *, const char *)
VCGO3(number_find, vc_number **, vc_tenant *, const char *)
VCGO2(number_update, vc_number *, const vc_number_spec *)
VCGO1(number_delete, vc_number *)
VCGO3(number_list, vc_iter **, vc_tenant *, const vc_number_filter *)
VCGO2(number_next, vc_number **, vc_iter *)

/* the unified inbox */
VCGO3(conversation_lookup, vc_conversation **, vc_tenant *, const char *)
VCGO3(conversation_lookup_contact, vc_conversation **, vc_tenant *,
      const char *)
VCGO3(conversation_list, vc_iter **, vc_tenant *,
      const vc_conversation_filter *)
VCGO2(conversation_next, vc_conversation **, vc_iter *)
VCGO4(conversation_set_status, vc_tenant *, const char *, int, int64_t)
VCGO3(conversation_assign, vc_tenant *, const char *, const char *)
VCGO2(conversation_unassign, vc_tenant *, const char *)
VCGO2(conversation_mark_read, vc_tenant *, const char *)
VCGO4(conversation_reply, char *, vc_tenant *, const char *,
      const vc_message_spec *)
VCGO3(conversation_items, vc_iter **, vc_tenant *,
      const vc_conversation_item_filter *)
VCGO2(conversation_item_next, vc_conversation_item **, vc_iter *)

/* analytics */
VCGO3(stats_query, vc_buf *, vc_tenant *, const vc_stats_spec *)

/* webhooks in the host's own HTTP server */
VCGO3(webhook_handle, vc_http_response *, vc_ctx *, const vc_http_request *)

/* events */
VCGO3(events_since, vc_iter **, vc_tenant *, uint64_t)

static inline int vcgo_event_next(const vc_event **out, vc_iter *it,
                                  vcgo_err *e)
{
  return vcgo_fail(e, vc_event_next(out, it));
}

/* callbacks.c: the trampolines into the Go callbacks; `h` is a
 * runtime/cgo.Handle, never a Go pointer. */
void vcgo_set_clock(vc_ctx_options *o, uintptr_t h);
void vcgo_set_log(vc_ctx_options *o, uintptr_t h, int level);
int vcgo_set_event_cb(vc_ctx *ctx, uintptr_t h);

#endif
