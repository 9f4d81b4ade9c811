/*
 * Recording through the hooks the call core calls: a new call's mode and
 * consent from the policy, recording updates (rows and timeline entries,
 * consent, expiry), the purge with an injected clock (at the provider
 * when its adapter can delete, else locally), the provider's answer, the
 * purge job, the compliance report and tenant isolation.
 */
#include "call_env.h"
#include "core/job.h"

#define DAY 86400000LL

static void policy(env *e, vc_tenant *t, int mode, const char *text,
                   int days)
{
  vc_recording_policy_spec p = VC_RECORDING_POLICY_SPEC_INIT;

  (void)e;
  p.mode = mode;
  p.consent_text = text;
  p.consent_language = "hi-IN";
  p.retention_days = days;
  CHECK_OK(vc_recording_policy_set(t, &p));
}

static int update(env *e, const char *call, int status, const char *rid,
                  const char *url, int duration)
{
  vc_call_update u;
  vc__db *db = env_db(e);
  int rc;

  memset(&u, 0, sizeof(u));
  u.version = VC_CALL_UPDATE_VERSION;
  u.type = VC_UPDATE_RECORDING;
  u.recording_status = status;
  u.recording_id = rid;
  u.recording_url = url;
  u.recording_duration_s = duration;
  CHECK_OK(vc__db_begin(db));
  rc = vc__recording_on_update(db, e->ctx, e->tid, call, &u);
  if (rc == 0)
    CHECK_OK(vc__db_commit(db));
  else
    vc__db_rollback(db);
  vc__db_release(db);
  return rc;
}

static void test_recording__mode_and_consent(void)
{
  char consent[1024], lang[36];
  int mode;
  vc__db *db;
  env e;

  env_open(&e, 0);
  db = env_db(&e);
  /* No policy: off, no announcement; a call asking to record gets the
   * default notice. */
  CHECK_OK(vc__recording_mode(db, e.tid, VC_RECORD_DEFAULT, &mode, consent));
  CHECK(mode == VC_RECORD_OFF && consent[0] == '\0');
  CHECK_OK(vc__recording_mode(db, e.tid, VC_RECORD_ALWAYS, &mode, consent));
  CHECK(mode == VC_RECORD_ALWAYS);
  CHECK_STR(consent, VC_RECORDING_DEFAULT_CONSENT);
  CHECK_OK(vc__recording_consent_language(db, e.tid, lang));
  CHECK_STR(lang, "en-US");
  vc__db_release(db);
  policy(&e, e.t, VC_RECORD_ON_DEMAND, "Calls are recorded.", 30);
  db = env_db(&e);
  CHECK_OK(vc__recording_mode(db, e.tid, VC_RECORD_DEFAULT, &mode, consent));
  CHECK(mode == VC_RECORD_ON_DEMAND);
  CHECK_STR(consent, "Calls are recorded.");
  CHECK_OK(vc__recording_consent_language(db, e.tid, lang));
  CHECK_STR(lang, "hi-IN");
  /* The call's own mode wins; off has no announcement. */
  CHECK_OK(vc__recording_mode(db, e.tid, VC_RECORD_OFF, &mode, consent));
  CHECK(mode == VC_RECORD_OFF && consent[0] == '\0');
  CHECK_RC(vc__recording_mode(db, e.tid, 9, &mode, consent), VC_EINVALID);
  vc__db_release(db);
  env_close(&e);
}

static void test_recording__lifecycle(void)
{
  char call[VC_ID_SIZE], type[32], detail[2048], v[64];
  vc_recording *r;
  vc_iter *it;
  env e;

  env_open(&e, VC_CAP_CALL_SCRIPT);
  policy(&e, e.t, VC_RECORD_ALWAYS, NULL, 7);
  env_call(&e, e.t, "+14155550199", VC_RECORD_ALWAYS, call);
  CHECK_OK(update(&e, call, VC_RECORDING_STARTED, "RE1", NULL, 0));
  g_now += 60000;
  CHECK_OK(update(&e, call, VC_RECORDING_STOPPED, "RE1", NULL, 60));
  CHECK_OK(update(&e, call, VC_RECORDING_AVAILABLE, "RE1",
                  "https://rec.test/RE1.mp3", 60));
  /* A replay changes nothing and logs nothing. */
  CHECK_OK(update(&e, call, VC_RECORDING_AVAILABLE, "RE1",
                  "https://rec.test/RE1.mp3", 60));
  CHECK(env_entry(&e, call, 0, type, sizeof(type), detail,
                  sizeof(detail)) == 0);
  CHECK_STR(type, "recording.started");
  CHECK(env_entry(&e, call, 1, type, sizeof(type), detail,
                  sizeof(detail)) == 0);
  CHECK_STR(type, "recording.stopped");
  CHECK(env_entry(&e, call, 2, type, sizeof(type), detail,
                  sizeof(detail)) == 0);
  CHECK_STR(type, "recording.available");
  CHECK_STR(json_field(v, sizeof(v), detail, "provider_id"), "RE1");
  CHECK(strstr(detail, "https://") == NULL); /* no URL in the timeline */
  CHECK(env_entry(&e, call, 3, type, sizeof(type), detail,
                  sizeof(detail)) < 0);
  CHECK_OK(vc_recording_list(&it, e.t, NULL));
  CHECK_OK(vc_recording_next(&r, it));
  CHECK_STR(vc_recording_call_id(r), call);
  CHECK_STR(vc_recording_provider_id(r), "RE1");
  CHECK_STR(vc_recording_url(r), "https://rec.test/RE1.mp3");
  CHECK_STR(vc_recording_channel_id(r), e.voice);
  CHECK(vc_recording_duration_s(r) == 60);
  CHECK(vc_recording_consent(r) == 1);
  CHECK(vc_recording_status_of(r) == VC_RECORDING_STATUS_AVAILABLE);
  CHECK(vc_recording_available_at(r) == T0 + 60000);
  CHECK(vc_recording_expires_at(r) == T0 + 60000 + 7 * DAY);
  vc_recording_free(r);
  CHECK_RC(vc_recording_next(&r, it), VC_ITEROVER);
  vc_iter_free(it);
  /* The purge job waits for that expiry. */
  CHECK(env_count(&e, "SELECT COUNT(*) FROM vc_job WHERE kind ="
                  " 'recording.purge'") == 1);
  CHECK(env_count(&e, "SELECT due_at FROM vc_job WHERE kind ="
                  " 'recording.purge'") == T0 + 60000 + 7 * DAY);
  /* Bad input from a provider changes nothing. */
  CHECK_RC(update(&e, call, 9, "RE1", NULL, 0), VC_EINVALID);
  CHECK_RC(update(&e, call, VC_RECORDING_STARTED, "bad id", NULL, 0),
           VC_EINVALID);
  CHECK_RC(update(&e, "01HNOSUCHCALL0000000000000", VC_RECORDING_STARTED,
                  "RE2", NULL, 0), VC_ENOTFOUND);
  CHECK(env_count(&e, "SELECT COUNT(*) FROM vc_recording") == 1);
  env_close(&e);
}

static void test_recording__consent_needs_a_script(void)
{
  char call[VC_ID_SIZE], off_call[VC_ID_SIZE];
  vc_recording *r;
  vc_iter *it;
  env e;

  /* A provider that does not follow scripts never played the notice. */
  env_open(&e, 0);
  env_call(&e, e.t, "+14155550199", VC_RECORD_ALWAYS, call);
  CHECK_OK(update(&e, call, VC_RECORDING_AVAILABLE, NULL,
                  "https://rec.test/a.mp3", 12));
  g_voice_caps = VC_CAP_CALL_SCRIPT;
  env_call(&e, e.t, "+14155550199", VC_RECORD_OFF, off_call);
  CHECK_OK(update(&e, off_call, VC_RECORDING_AVAILABLE, "RE9",
                  "https://rec.test/b.mp3", 5));
  CHECK_OK(vc_recording_list(&it, e.t, NULL));
  while (vc_recording_next(&r, it) == 0) {
    CHECK(vc_recording_consent(r) == 0);
    /* No retention policy: kept forever, no purge job. */
    CHECK(vc_recording_expires_at(r) == 0);
    vc_recording_free(r);
  }
  vc_iter_free(it);
  CHECK(env_count(&e, "SELECT COUNT(*) FROM vc_job WHERE kind ="
                  " 'recording.purge'") == 0);
  env_close(&e);
}

/* One recording available at T0 (+ the policy's retention). */
static void recorded(env *e, const char *rid, char call[VC_ID_SIZE])
{
  char url[64];

  env_call(e, e->t, "+14155550199", VC_RECORD_ALWAYS, call);
  snprintf(url, sizeof(url), "https://rec.test/%s.mp3", rid);
  CHECK_OK(update(e, call, VC_RECORDING_AVAILABLE, rid, url, 30));
}

static void test_recording__purge_at_the_provider(void)
{
  char call[VC_ID_SIZE], call2[VC_ID_SIZE], c[VC_ID_SIZE], arg[64];
  vc_recording *r;
  vc_iter *it;
  vc__db *db;
  int n, op;
  env e;

  env_open(&e, VC_CAP_CALL_SCRIPT | VC_CAP_RECORDING_DELETE);
  policy(&e, e.t, VC_RECORD_ALWAYS, NULL, 2);
  recorded(&e, "RE1", call);
  g_now = T0 + DAY;
  recorded(&e, "RE2", call2);
  /* Not yet expired. */
  g_now = T0 + 2 * DAY - 1;
  CHECK_OK(vc_recording_purge(&n, e.t));
  CHECK(n == 0);
  g_now = T0 + 2 * DAY;
  CHECK_OK(vc_recording_purge(&n, e.t));
  CHECK(n == 1);
  CHECK(env_control(&e, 0, c, &op, arg, sizeof(arg)) == 0);
  CHECK_STR(c, call);
  CHECK(op == VC_CALL_OP_DELETE_RECORDING);
  CHECK_STR(arg, "RE1");
  CHECK(env_control(&e, 1, c, &op, arg, sizeof(arg)) < 0);
  CHECK(env_count(&e, "SELECT status FROM vc_recording WHERE provider_id ="
                  " 'RE1'") == VC_RECORDING_STATUS_DELETING);
  /* Again: nothing new to ask. */
  CHECK_OK(vc_recording_purge(&n, e.t));
  CHECK(n == 0);
  /* The provider confirms; a replay is harmless. */
  db = env_db(&e);
  CHECK_OK(vc__recording_on_deleted(db, e.ctx, e.tid, "RE1", 1, g_now + 5));
  CHECK_OK(vc__recording_on_deleted(db, e.ctx, e.tid, "RE1", 1, g_now + 9));
  CHECK_RC(vc__recording_on_deleted(db, e.ctx, e.tid, "REX", 1, g_now),
           VC_ENOTFOUND);
  vc__db_release(db);
  CHECK_OK(vc_recording_list(&it, e.t, &(vc_recording_filter){
             VC_RECORDING_FILTER_VERSION, NULL, call, 0, 0, 0 }));
  CHECK_OK(vc_recording_next(&r, it));
  CHECK(vc_recording_status_of(r) == VC_RECORDING_STATUS_PURGED);
  CHECK(vc_recording_purge_kind(r) == VC_RECORDING_PURGE_PROVIDER);
  CHECK(vc_recording_purged_at(r) == g_now + 5);
  CHECK_STR(vc_recording_url(r), "");
  vc_recording_free(r);
  vc_iter_free(it);
  /* The second expires a day later; the provider refuses it. */
  g_now = T0 + 3 * DAY;
  CHECK_OK(vc_recording_purge(&n, e.t));
  CHECK(n == 1);
  db = env_db(&e);
  CHECK_OK(vc__recording_on_deleted(db, e.ctx, e.tid, "RE2", 0, g_now));
  vc__db_release(db);
  CHECK(env_count(&e, "SELECT status FROM vc_recording WHERE provider_id ="
                  " 'RE2'") == VC_RECORDING_STATUS_DELETE_FAILED);
  CHECK(env_count(&e, "SELECT COUNT(*) FROM vc_recording WHERE provider_id"
                  " = 'RE2' AND url IS NOT NULL") == 1);
  env_close(&e);
}

static void test_recording__purge_locally_and_the_job(void)
{
  char call[VC_ID_SIZE], c[VC_ID_SIZE], arg[64];
  vc_recording *r;
  vc_iter *it;
  int op;
  env e;

  /* The adapter cannot delete recordings: forgotten locally. */
  env_open(&e, VC_CAP_CALL_SCRIPT);
  policy(&e, e.t, VC_RECORD_ALWAYS, NULL, 1);
  recorded(&e, "RE1", call);
  CHECK(env_count(&e, "SELECT due_at FROM vc_job WHERE kind ="
                  " 'recording.purge'") == T0 + DAY);
  /* The engine runs the purge job once it is due. */
  g_now = T0 + DAY - 1;
  CHECK(vc_ctx_run(e.ctx, 0) >= 0);
  CHECK(env_count(&e, "SELECT status FROM vc_recording") ==
        VC_RECORDING_STATUS_AVAILABLE);
  g_now = T0 + DAY;
  CHECK(vc_ctx_run(e.ctx, 0) >= 0);
  CHECK(env_count(&e, "SELECT COUNT(*) FROM vc_job WHERE kind ="
                  " 'recording.purge'") == 0);
  CHECK(env_control(&e, 0, c, &op, arg, sizeof(arg)) < 0);
  CHECK_OK(vc_recording_list(&it, e.t, NULL));
  CHECK_OK(vc_recording_next(&r, it));
  CHECK(vc_recording_status_of(r) == VC_RECORDING_STATUS_PURGED);
  CHECK(vc_recording_purge_kind(r) == VC_RECORDING_PURGE_LOCAL);
  CHECK(vc_recording_purged_at(r) == T0 + DAY);
  CHECK_STR(vc_recording_url(r), "");
  vc_recording_free(r);
  vc_iter_free(it);
  CHECK(env_count(&e, "SELECT COUNT(*) FROM vc_event WHERE type ="
                  " 'recording.purged'") == 1);
  env_close(&e);
}

static void test_recording__report(void)
{
  char call[VC_ID_SIZE], call2[VC_ID_SIZE], line[512];
  vc_buf b = VC_BUF_INIT;
  cJSON *doc, *rows, *row, *tot;
  int n;
  env e;

  env_open(&e, VC_CAP_CALL_SCRIPT);
  policy(&e, e.t, VC_RECORD_ALWAYS, NULL, 1);
  recorded(&e, "=RE1", call);  /* a provider id a spreadsheet would run */
  g_now = T0 + 3 * DAY;
  recorded(&e, "RE2", call2);
  CHECK_OK(vc_recording_purge(&n, e.t));
  CHECK(n == 1);
  /* Day 0..1 recorded RE1; day 3 purged it and recorded RE2. */
  CHECK_OK(vc_recording_report(&b, e.t, T0 + 2 * DAY, T0 + 4 * DAY,
                               VC_RECORDING_REPORT_JSON));
  doc = cJSON_Parse(b.ptr);
  rows = cJSON_GetObjectItem(doc, "recordings");
  CHECK(cJSON_GetArraySize(rows) == 2);
  row = cJSON_GetArrayItem(rows, 0);
  CHECK_STR(cJSON_GetObjectItem(row, "call_id")->valuestring, call);
  CHECK_STR(cJSON_GetObjectItem(row, "status")->valuestring, "purged");
  CHECK_STR(cJSON_GetObjectItem(row, "purge")->valuestring, "local");
  CHECK(cJSON_IsTrue(cJSON_GetObjectItem(row, "consent")));
  CHECK(cJSON_GetObjectItem(row, "purged_at")->valuedouble ==
        (double)(T0 + 3 * DAY));
  CHECK_STR(cJSON_GetObjectItem(row, "customer_number")->valuestring,
            "+14155550199");
  row = cJSON_GetArrayItem(rows, 1);
  CHECK_STR(cJSON_GetObjectItem(row, "provider_recording_id")->valuestring,
            "RE2");
  CHECK(cJSON_GetObjectItem(row, "duration_s")->valueint == 30);
  tot = cJSON_GetObjectItem(doc, "totals");
  CHECK(cJSON_GetObjectItem(tot, "recorded")->valueint == 1);
  CHECK(cJSON_GetObjectItem(tot, "purged")->valueint == 1);
  CHECK(cJSON_GetObjectItem(tot, "with_consent")->valueint == 1);
  CHECK(cJSON_GetObjectItem(tot, "duration_s")->valueint == 30);
  cJSON_Delete(doc);
  vc_buf_dispose(&b);
  /* CSV: the header, ISO times, the formula guard. 1700000000000 ms is
   * 2023-11-14T22:13:20Z (date -u -d @1700000000). */
  CHECK_OK(vc_recording_report(&b, e.t, T0, 0, VC_RECORDING_REPORT_CSV));
  CHECK(strncmp(b.ptr, "recording_id,call_id,customer_number,consent,", 45)
        == 0);
  snprintf(line, sizeof(line), "\"%s\",\"+14155550199\",1,\"'=RE1\"", call);
  CHECK(strstr(b.ptr, line) != NULL);
  CHECK(strstr(b.ptr, ",30,purged,2023-11-14T22:13:20.000Z,"
                      "2023-11-14T22:13:20.000Z,2023-11-15T22:13:20.000Z,"
                      "2023-11-17T22:13:20.000Z,local\r\n") != NULL);
  vc_buf_dispose(&b);
  CHECK_RC(vc_recording_report(&b, e.t, T0, T0, VC_RECORDING_REPORT_CSV),
           VC_EINVALID);
  CHECK_RC(vc_recording_report(&b, e.t, T0, 0, 3), VC_EINVALID);
  env_close(&e);
}

static void test_recording__tenant_isolation(void)
{
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  char call[VC_ID_SIZE];
  vc_buf b = VC_BUF_INIT;
  vc_recording_policy *p;
  vc_recording *r;
  vc_tenant *other;
  vc_iter *it;
  vc__db *db;
  int n;
  env e;

  env_open(&e, VC_CAP_CALL_SCRIPT | VC_CAP_RECORDING_DELETE);
  policy(&e, e.t, VC_RECORD_ALWAYS, "Recorded.", 1);
  recorded(&e, "RE1", call);
  ts.slug = "other";
  CHECK_OK(vc_tenant_new(&other, e.ctx, &ts));
  CHECK_OK(vc_recording_policy_get(&p, other));
  CHECK(vc_recording_policy_mode(p) == VC_RECORD_OFF);
  CHECK_STR(vc_recording_policy_consent_text(p), "");
  vc_recording_policy_free(p);
  CHECK_OK(vc_recording_list(&it, other, NULL));
  CHECK_RC(vc_recording_next(&r, it), VC_ITEROVER);
  vc_iter_free(it);
  g_now = T0 + 5 * DAY;
  CHECK_OK(vc_recording_purge(&n, other));
  CHECK(n == 0);
  CHECK_OK(vc_recording_report(&b, other, 0, 0, VC_RECORDING_REPORT_JSON));
  CHECK(strstr(b.ptr, "\"recordings\":[]") != NULL);
  vc_buf_dispose(&b);
  db = env_db(&e);
  /* Another tenant's update about this call finds no such call. */
  {
    vc_call_update u;
    memset(&u, 0, sizeof(u));
    u.version = VC_CALL_UPDATE_VERSION;
    u.type = VC_UPDATE_RECORDING;
    u.recording_status = VC_RECORDING_STOPPED;
    u.recording_id = "RE1";
    CHECK_RC(vc__recording_on_update(db, e.ctx, vc_tenant_id(other), call,
                                     &u), VC_ENOTFOUND);
  }
  CHECK_RC(vc__recording_on_deleted(db, e.ctx, vc_tenant_id(other), "RE1",
                                    1, g_now), VC_ENOTFOUND);
  vc__db_release(db);
  CHECK(env_count(&e, "SELECT status FROM vc_recording") ==
        VC_RECORDING_STATUS_AVAILABLE);
  vc_tenant_free(other);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_recording__mode_and_consent),
  VC_TEST(test_recording__lifecycle),
  VC_TEST(test_recording__consent_needs_a_script),
  VC_TEST(test_recording__purge_at_the_provider),
  VC_TEST(test_recording__purge_locally_and_the_job),
  VC_TEST(test_recording__report),
  VC_TEST(test_recording__tenant_isolation),
)
