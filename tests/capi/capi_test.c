/* File: tests/capi/capi_test.c
 *
 * Exercises every function of the C ABI from strict C99 (compiled with
 * -std=c99 -pedantic -Werror): options, routers in regular and PD mode,
 * workers, selection by text, tokens and routing key, tickets, health and
 * breaker events, retries, tenant limits, buckets, limiters (blocking, async,
 * notifier), metrics, and four threads routing at once. Time comes from a
 * manual clock; nothing sleeps. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "smgcore/smgcore_c.h"

#define SECOND_NS ((int64_t)1000000000)

/* --- Event and callback recorders ------------------------------------------ */

typedef struct events {
  int breaker_opened;
  int breaker_half_open;
  int health_changes;
  uint8_t last_health_to;
} events_t;

static void on_event(void* user_data, const smg_event_t* event) {
  events_t* e = (events_t*)user_data;
  if (event->kind == SMG_EVENT_BREAKER && event->to == SMG_BREAKER_OPEN) e->breaker_opened++;
  if (event->kind == SMG_EVENT_BREAKER && event->to == SMG_BREAKER_HALF_OPEN) e->breaker_half_open++;
  if (event->kind == SMG_EVENT_HEALTH) {
    e->health_changes++;
    e->last_health_to = event->to;
  }
  CHECK(event->worker_id != 0);
  CHECK(event->url.len > 0);
}

typedef struct admission_record {
  int calls;
  uint8_t last;
} admission_record_t;

static void on_admission(void* user_data, uint8_t result) {
  admission_record_t* r = (admission_record_t*)user_data;
  r->calls++;
  r->last = result;
}

static void on_notify(void* user_data) { ++*(int*)user_data; }

/* --- Helpers ------------------------------------------------------------------ */

static uint32_t add_worker(smg_router_t* router, const char* url, const char* model, uint8_t type,
                           uint16_t bootstrap_port) {
  smg_worker_spec_t spec;
  uint32_t id = 0;
  smg_worker_spec_init(&spec);
  spec.url = smg_cstr(url);
  spec.model = smg_cstr(model);
  spec.type = type;
  spec.bootstrap_port = bootstrap_port;
  CHECK_OK(smg_router_add_worker(router, &spec, &id, NULL));
  CHECK(id != 0);
  return id;
}

static uint32_t select_text(smg_router_t* router, const char* model, const char* text,
                            int32_t outcome) {
  smg_request_t req;
  smg_ticket_t ticket = SMG_TICKET_INIT;
  smg_selection_t sel;
  uint32_t id = 0;
  smg_request_init(&req);
  req.model = smg_cstr(model);
  req.text = smg_cstr(text);
  CHECK_OK(smg_router_select(router, &req, &ticket, &sel, NULL));
  id = sel.worker_id;
  CHECK(smg_ticket_is_active(&ticket) == 1);
  CHECK_OK(smg_ticket_finish(&ticket, outcome, NULL));
  CHECK(smg_ticket_is_active(&ticket) == 0);
  return id;
}

static const smg_worker_info_t* find_info(const smg_workers_t* list, uint32_t id,
                                          smg_worker_info_t* storage) {
  size_t i;
  for (i = 0; i < smg_workers_count(list); ++i) {
    CHECK_OK(smg_workers_get(list, i, storage));
    if (storage->id == id) return storage;
  }
  return NULL;
}

/* --- Sections ------------------------------------------------------------------ */

static void test_versions_and_names(void) {
  uint8_t kind = 255;
  smg_str_t s = smg_cstr("abc");
  CHECK(smg_abi_version() == SMG_ABI_VERSION);
  CHECK(smg_version_number() == SMG_VERSION_NUMBER);
  CHECK(strcmp(smg_version_string(), "0.1.0") == 0);
  CHECK(str_eq(s, "abc"));
  CHECK(strcmp(smg_code_name(SMG_ERR_NOT_FOUND), "SMG_ERR_NOT_FOUND") == 0);
  CHECK(strcmp(smg_code_name(12345), "SMG_ERR_UNKNOWN") == 0);
  CHECK(strcmp(smg_enum_name(SMG_ENUM_WORKER_TYPE, SMG_WORKER_PREFILL), "prefill") == 0);
  CHECK(strcmp(smg_enum_name(SMG_ENUM_HEALTH, SMG_HEALTH_NOT_READY), "not_ready") == 0);
  CHECK(strcmp(smg_enum_name(SMG_ENUM_BREAKER_STATE, SMG_BREAKER_HALF_OPEN), "half_open") == 0);
  CHECK(strcmp(smg_enum_name(SMG_ENUM_POLICY, SMG_POLICY_CACHE_AWARE), "cache_aware") == 0);
  CHECK(strcmp(smg_enum_name(SMG_ENUM_ADMISSION, SMG_ADMISSION_TIMED_OUT), "timed_out") == 0);
  CHECK(strcmp(smg_enum_name(SMG_ENUM_RETRY_VERDICT, SMG_RETRY_BUDGET_EXHAUSTED),
               "budget_exhausted") == 0);
  CHECK(strcmp(smg_enum_name(SMG_ENUM_TENANT_DECISION, SMG_TENANT_RATE_LIMITED),
               "rate_limited") == 0);
  CHECK(smg_enum_name(SMG_ENUM_HEALTH, 99) == NULL);
  CHECK_OK(smg_policy_parse("cache_aware", 11, &kind));
  CHECK(kind == SMG_POLICY_CACHE_AWARE);
  CHECK_OK(smg_policy_parse("consistent_hashing", 18, &kind));
  CHECK(kind == SMG_POLICY_CONSISTENT_HASH);
  CHECK_CODE(smg_policy_parse("fastest", 7, &kind), SMG_ERR_INVALID_ARGUMENT);
}

static void test_regular_router(void) {
  smg_manual_clock_t* clock = NULL;
  smg_router_options_t* opts = NULL;
  smg_policy_config_t* cache_aware = NULL;
  smg_policy_config_t* chash = NULL;
  smg_router_t* router = NULL;
  smg_workers_t* list = NULL;
  smg_worker_info_t info;
  events_t events;
  uint32_t w1, w2, w3, chat1, chat2, first, again, replaced = 0;
  int64_t now = 0;
  uint8_t health = 255;
  uint64_t evicted = 99;
  smg_label_t labels[2];
  smg_request_t req;
  smg_ticket_t ticket = SMG_TICKET_INIT;
  smg_selection_t sel;
  uint32_t tokens[64];
  smg_header_t headers[1];
  uint32_t exclude[1];
  char* metrics = NULL;
  size_t metrics_len = 0;
  int i;

  memset(&events, 0, sizeof events);
  CHECK_OK(smg_manual_clock_create(1000, &clock));
  CHECK_OK(smg_manual_clock_now(clock, &now));
  CHECK(now == 1000);

  CHECK_OK(smg_router_options_create(&opts));
  CHECK_OK(smg_policy_config_create(SMG_POLICY_CACHE_AWARE, &cache_aware, NULL));
  CHECK_OK(smg_policy_config_set_double(cache_aware, SMG_POLICY_OPT_CACHE_THRESHOLD, 0.5, NULL));
  CHECK_OK(smg_policy_config_set_int(cache_aware, SMG_POLICY_OPT_TOKEN_PAGE_SIZE, 4, NULL));
  CHECK_OK(smg_policy_config_set_int(cache_aware, SMG_POLICY_OPT_MAX_TREE_SIZE, 1 << 20, NULL));
  CHECK_OK(smg_policy_config_set_double(cache_aware, SMG_POLICY_OPT_EVICT_HEADROOM, 0.05, NULL));
  CHECK_OK(smg_router_options_set_policy(opts, NULL, 0, SMG_WORKER_REGULAR, cache_aware, NULL));
  CHECK_OK(smg_policy_config_create(SMG_POLICY_CONSISTENT_HASH, &chash, NULL));
  CHECK_OK(smg_policy_config_set_string(chash, SMG_POLICY_OPT_KEY_HEADER, "x-session", 9, NULL));
  CHECK_OK(smg_policy_config_set_int(chash, SMG_POLICY_OPT_VIRTUAL_NODES, 64, NULL));
  CHECK_OK(smg_policy_config_set_double(chash, SMG_POLICY_OPT_LOAD_FACTOR, 0, NULL));
  CHECK_OK(smg_router_options_set_policy(opts, "chat", 4, SMG_WORKER_REGULAR, chash, NULL));
  CHECK_OK(smg_router_options_set_string(opts, SMG_ROUTER_OPT_DEFAULT_MODEL, "base", 4, NULL));
  CHECK_OK(smg_router_options_set_int(opts, SMG_ROUTER_OPT_RANDOM_SEED, 42, NULL));
  CHECK_OK(smg_router_options_set_int(opts, SMG_ROUTER_OPT_BREAKER_CONSECUTIVE_FAILURES, 2, NULL));
  CHECK_OK(smg_router_options_set_double(opts, SMG_ROUTER_OPT_BREAKER_FAILURE_RATE, 0.9, NULL));
  CHECK_OK(smg_router_options_set_int(opts, SMG_ROUTER_OPT_BREAKER_OPEN_DURATION_NS, 10 * SECOND_NS,
                                      NULL));
  CHECK_OK(smg_router_options_set_int(opts, SMG_ROUTER_OPT_HEALTH_UNHEALTHY_THRESHOLD, 2, NULL));
  CHECK_OK(smg_router_options_set_clock(opts, clock));
  CHECK_OK(smg_router_options_set_event_callback(opts, on_event, &events));
  CHECK_OK(smg_router_create(opts, &router, NULL));
  smg_policy_config_destroy(cache_aware);
  smg_policy_config_destroy(chash);
  smg_router_options_destroy(opts);

  w1 = add_worker(router, "http://10.0.0.1:30000", "", SMG_WORKER_REGULAR, 0);
  w2 = add_worker(router, "http://10.0.0.2:30000", "", SMG_WORKER_REGULAR, 0);
  w3 = add_worker(router, "http://10.0.0.3:30000", "", SMG_WORKER_REGULAR, 0);
  chat1 = add_worker(router, "http://10.0.1.1:30000", "chat", SMG_WORKER_REGULAR, 0);
  chat2 = add_worker(router, "http://10.0.1.2:30000", "chat", SMG_WORKER_REGULAR, 0);
  CHECK(w1 < w2 && w2 < w3 && w3 < chat1 && chat1 < chat2);

  /* Listings: all, by model, by type, one by id, one by URL. */
  CHECK_OK(smg_router_list_workers(router, NULL, 0, -1, &list, NULL));
  CHECK(smg_workers_count(list) == 5);
  smg_workers_destroy(list);
  CHECK_OK(smg_router_list_workers(router, "chat", 4, SMG_WORKER_REGULAR, &list, NULL));
  CHECK(smg_workers_count(list) == 2);
  smg_workers_destroy(list);
  CHECK_OK(smg_router_list_workers(router, NULL, 0, SMG_WORKER_DECODE, &list, NULL));
  CHECK(smg_workers_count(list) == 0);
  smg_workers_destroy(list);
  CHECK_OK(smg_router_get_worker(router, w2, &list, NULL));
  CHECK(smg_workers_count(list) == 1);
  CHECK_OK(smg_workers_get(list, 0, &info));
  CHECK(info.id == w2 && str_eq(info.url, "http://10.0.0.2:30000") && str_eq(info.model, "base"));
  CHECK(info.type == SMG_WORKER_REGULAR && info.health == SMG_HEALTH_READY);
  CHECK(info.breaker_state == SMG_BREAKER_CLOSED && info.weight == 1 && info.in_flight == 0);
  CHECK(str_eq(info.bootstrap_host, "10.0.0.2"));
  smg_workers_destroy(list);
  CHECK_OK(smg_router_find_worker(router, "http://10.0.0.3:30000", 21, &list, NULL));
  CHECK_OK(smg_workers_get(list, 0, &info));
  CHECK(info.id == w3);
  smg_workers_destroy(list);

  /* Labels, weight, engine load. */
  labels[0].key = smg_cstr("zone");
  labels[0].value = smg_cstr("us-east");
  labels[1].key = smg_cstr("gpu");
  labels[1].value = smg_cstr("h100");
  CHECK_OK(smg_router_set_labels(router, w1, labels, 2, NULL));
  CHECK_OK(smg_router_set_weight(router, w1, 3, NULL));
  CHECK_OK(smg_router_set_engine_load(router, w1, 0.25, NULL));
  CHECK_OK(smg_router_get_worker(router, w1, &list, NULL));
  CHECK_OK(smg_workers_get(list, 0, &info));
  CHECK(info.weight == 3 && info.labels_len == 2 && info.has_engine_load == 1 &&
        info.engine_load == 0.25);
  CHECK(str_eq(info.labels[0].key, "gpu") && str_eq(info.labels[1].value, "us-east"));
  smg_workers_destroy(list);
  CHECK_OK(smg_router_clear_engine_load(router, w1, NULL));
  CHECK_OK(smg_router_get_worker(router, w1, &list, NULL));
  CHECK_OK(smg_workers_get(list, 0, &info));
  CHECK(info.has_engine_load == 0);
  smg_workers_destroy(list);

  /* Cache-aware: the same prompt goes back to the worker that has it. */
  first = select_text(router, "", "You are a helpful assistant. Tell me about routers.", 200);
  for (i = 0; i < 5; ++i) {
    again = select_text(router, "", "You are a helpful assistant. Tell me about routers.", 200);
    CHECK(again == first);
  }
  /* Token ids. */
  for (i = 0; i < 64; ++i) tokens[i] = (uint32_t)(1000 + i);
  smg_request_init(&req);
  req.tokens = tokens;
  req.tokens_len = 64;
  CHECK_OK(smg_router_select(router, &req, &ticket, &sel, NULL));
  first = sel.worker_id;
  CHECK(sel.is_pd == 0 && sel.decode_worker_id == 0 && sel.bootstrap_room == 0);
  CHECK_OK(smg_ticket_selection(&ticket, &sel));
  CHECK(sel.worker_id == first);
  CHECK_OK(smg_ticket_settle_tokens(&ticket, 100, NULL)); /* no tenant limits: a no-op */
  CHECK_OK(smg_ticket_finish(&ticket, 200, NULL));
  CHECK_OK(smg_router_select(router, &req, &ticket, &sel, NULL));
  CHECK(sel.worker_id == first);
  CHECK_OK(smg_ticket_finish(&ticket, SMG_OUTCOME_CANCELLED, NULL));

  /* Exclusion: the excluded worker is never chosen. */
  exclude[0] = first;
  req.exclude_workers = exclude;
  req.exclude_workers_len = 1;
  CHECK_OK(smg_router_select(router, &req, &ticket, &sel, NULL));
  CHECK(sel.worker_id != first);
  CHECK_OK(smg_ticket_finish(&ticket, 200, NULL));

  /* consistent_hash on model "chat": a routing key, then the key header. */
  smg_request_init(&req);
  req.model = smg_cstr("chat");
  req.routing_key = smg_cstr("session-17");
  CHECK_OK(smg_router_select(router, &req, &ticket, &sel, NULL));
  first = sel.worker_id;
  CHECK(first == chat1 || first == chat2);
  CHECK_OK(smg_ticket_finish(&ticket, 200, NULL));
  for (i = 0; i < 5; ++i) {
    CHECK_OK(smg_router_select(router, &req, &ticket, &sel, NULL));
    CHECK(sel.worker_id == first);
    CHECK_OK(smg_ticket_finish(&ticket, 200, NULL));
  }
  smg_request_init(&req);
  req.model = smg_cstr("chat");
  headers[0].name = smg_cstr("X-Session");
  headers[0].value = smg_cstr("user-9");
  req.headers = headers;
  req.headers_len = 1;
  CHECK_OK(smg_router_select(router, &req, &ticket, &sel, NULL));
  first = sel.worker_id;
  CHECK_OK(smg_ticket_finish(&ticket, 200, NULL));
  CHECK_OK(smg_router_select(router, &req, &ticket, &sel, NULL));
  CHECK(sel.worker_id == first);
  CHECK_OK(smg_ticket_finish(&ticket, 200, NULL));

  /* Draining: no new selections; set_health brings the worker back. */
  CHECK_OK(smg_router_drain_worker(router, chat1, NULL));
  for (i = 0; i < 4; ++i) {
    char key[16];
    sprintf(key, "k%d", i);
    smg_request_init(&req);
    req.model = smg_cstr("chat");
    req.routing_key = smg_cstr(key);
    CHECK_OK(smg_router_select(router, &req, &ticket, &sel, NULL));
    CHECK(sel.worker_id == chat2);
    CHECK_OK(smg_ticket_finish(&ticket, 200, NULL));
  }
  CHECK_OK(smg_router_set_health(router, chat1, SMG_HEALTH_READY, NULL));

  /* Health probes: two failures (threshold 2) make w3 not ready, with an
   * event; two passes bring it back. */
  CHECK_OK(smg_router_report_probe(router, w3, 0, &health, NULL));
  CHECK(health == SMG_HEALTH_READY);
  CHECK_OK(smg_router_report_probe(router, w3, 0, &health, NULL));
  CHECK(health == SMG_HEALTH_NOT_READY);
  CHECK(events.last_health_to == SMG_HEALTH_NOT_READY);
  CHECK_OK(smg_router_report_probe(router, w3, 1, NULL, NULL));
  CHECK_OK(smg_router_report_probe(router, w3, 1, &health, NULL));
  CHECK(health == SMG_HEALTH_READY);
  CHECK(events.health_changes >= 4); /* drain, ready, not_ready, ready */

  /* Circuit breaker: two 503s on one worker open it (event); the open
   * duration on the manual clock turns it half-open in maintenance; a reset
   * closes it. */
  exclude[0] = 0;
  smg_request_init(&req);
  req.routing_key = smg_cstr("unused");
  for (i = 0; i < 2; ++i) {
    smg_ticket_t t = SMG_TICKET_INIT;
    smg_request_t r;
    smg_request_init(&r);
    r.text = smg_cstr("breaker test prompt, long enough to be cached by the tree");
    CHECK_OK(smg_router_select(router, &r, &t, &sel, NULL));
    first = sel.worker_id;
    CHECK_OK(smg_ticket_finish(&t, 503, NULL));
  }
  CHECK(events.breaker_opened == 1);
  CHECK_OK(smg_router_get_worker(router, first, &list, NULL));
  CHECK_OK(smg_workers_get(list, 0, &info));
  CHECK(info.breaker_state == SMG_BREAKER_OPEN && info.failures == 2);
  smg_workers_destroy(list);
  CHECK_OK(smg_manual_clock_advance(clock, 10 * SECOND_NS));
  CHECK_OK(smg_router_run_maintenance(router));
  CHECK(events.breaker_half_open == 1);
  CHECK_OK(smg_router_reset_breaker(router, first, NULL));
  CHECK_OK(smg_router_list_workers(router, NULL, 0, -1, &list, NULL));
  CHECK(find_info(list, first, &info) != NULL && info.breaker_state == SMG_BREAKER_CLOSED);
  smg_workers_destroy(list);
  CHECK_OK(smg_router_evict_now(router, &evicted));
  CHECK(evicted == 0); /* the tree is far below its budget */

  /* Replace (same URL, new id) and remove. */
  {
    smg_worker_spec_t spec;
    smg_worker_spec_init(&spec);
    spec.url = smg_cstr("http://10.0.0.3:30000");
    spec.weight = 2;
    CHECK_OK(smg_router_replace_worker(router, &spec, &replaced, NULL));
    CHECK(replaced > chat2);
  }
  CHECK_CODE(smg_router_get_worker(router, w3, &list, NULL), SMG_ERR_NOT_FOUND);
  CHECK_OK(smg_router_remove_worker(router, replaced, NULL));
  CHECK_OK(smg_router_remove_worker_by_url(router, "http://10.0.0.2:30000", 21, NULL));
  CHECK_OK(smg_router_list_workers(router, "base", 4, -1, &list, NULL));
  CHECK(smg_workers_count(list) == 1);
  smg_workers_destroy(list);

  /* Metrics: SMG-named series with our workers in them. */
  CHECK_OK(smg_router_metrics(router, &metrics, &metrics_len, NULL));
  CHECK(metrics != NULL && metrics_len == strlen(metrics));
  CHECK(contains(metrics, metrics_len, "smg_worker_selection_total"));
  CHECK(contains(metrics, metrics_len, "smg_worker_cb_transitions_total"));
  CHECK(contains(metrics, metrics_len, "http://10.0.0.1:30000"));
  smg_free(metrics);

  smg_router_destroy(router);
  smg_manual_clock_destroy(clock);
}

static void test_pd_router(void) {
  smg_router_options_t* opts = NULL;
  smg_policy_config_t* prefill = NULL;
  smg_policy_config_t* decode = NULL;
  smg_router_t* router = NULL;
  uint32_t p1, d1, d2;
  smg_request_t req;
  smg_ticket_t ticket = SMG_TICKET_INIT;
  smg_selection_t sel;
  smg_workers_t* list = NULL;
  smg_worker_info_t info;

  CHECK_OK(smg_router_options_create(&opts));
  CHECK_OK(smg_router_options_set_int(opts, SMG_ROUTER_OPT_PD_MODE, 1, NULL));
  CHECK_OK(smg_policy_config_create(SMG_POLICY_CACHE_AWARE, &prefill, NULL));
  CHECK_OK(smg_policy_config_create(SMG_POLICY_POWER_OF_TWO, &decode, NULL));
  CHECK_OK(smg_policy_config_set_int(decode, SMG_POLICY_OPT_USE_ENGINE_LOAD, 0, NULL));
  CHECK_OK(smg_router_options_set_policy(opts, NULL, 0, SMG_WORKER_PREFILL, prefill, NULL));
  CHECK_OK(smg_router_options_set_policy(opts, NULL, 0, SMG_WORKER_DECODE, decode, NULL));
  CHECK_OK(smg_router_create(opts, &router, NULL));
  smg_router_options_destroy(opts);
  smg_policy_config_destroy(prefill);
  smg_policy_config_destroy(decode);

  p1 = add_worker(router, "http://prefill-0.svc:30000", "", SMG_WORKER_PREFILL, 8998);
  d1 = add_worker(router, "http://decode-0.svc:30000", "", SMG_WORKER_DECODE, 0);
  d2 = add_worker(router, "http://decode-1.svc:30000", "", SMG_WORKER_DECODE, 0);

  smg_request_init(&req);
  req.text = smg_cstr("Summarize the following document: ...");
  CHECK_OK(smg_router_select(router, &req, &ticket, &sel, NULL));
  CHECK(sel.is_pd == 1 && sel.worker_id == p1);
  CHECK(sel.decode_worker_id == d1 || sel.decode_worker_id == d2);
  CHECK(str_eq(sel.url, "http://prefill-0.svc:30000"));
  CHECK(str_eq(sel.bootstrap_host, "prefill-0.svc") && sel.bootstrap_port == 8998);
  CHECK(sel.bootstrap_room < ((uint64_t)1 << 63));
  CHECK(contains(sel.decode_url.data, sel.decode_url.len, "decode-"));
  CHECK_OK(smg_router_get_worker(router, p1, &list, NULL));
  CHECK_OK(smg_workers_get(list, 0, &info));
  CHECK(info.in_flight == 1 && info.type == SMG_WORKER_PREFILL && info.bootstrap_port == 8998);
  smg_workers_destroy(list);
  CHECK_OK(smg_ticket_finish_pd(&ticket, 200, SMG_OUTCOME_TRANSPORT_ERROR, NULL));
  CHECK_OK(smg_router_list_workers(router, NULL, 0, SMG_WORKER_DECODE, &list, NULL));
  CHECK(smg_workers_count(list) == 2);
  CHECK_OK(smg_workers_get(list, 0, &info));
  {
    smg_worker_info_t other;
    CHECK_OK(smg_workers_get(list, 1, &other));
    CHECK(info.failures + other.failures == 1);
  }
  smg_workers_destroy(list);
  smg_router_destroy(router);
}

static void test_retries(void) {
  smg_router_options_t* opts = NULL;
  smg_router_t* router = NULL;
  smg_retry_t* retry = NULL;
  smg_request_t req;
  smg_ticket_t ticket = SMG_TICKET_INIT;
  smg_selection_t sel;
  smg_retry_decision_t decision;
  uint32_t first;
  int64_t backoff = 0;
  const int32_t retryable[] = {503};
  const int32_t failures[] = {502, 503};

  CHECK_OK(smg_router_options_create(&opts));
  CHECK_OK(smg_router_options_set_int(opts, SMG_ROUTER_OPT_RANDOM_SEED, 7, NULL));
  CHECK_OK(smg_router_options_set_int(opts, SMG_ROUTER_OPT_RETRY_MAX_ATTEMPTS, 3, NULL));
  CHECK_OK(smg_router_options_set_int(opts, SMG_ROUTER_OPT_RETRY_INITIAL_BACKOFF_NS,
                                      100 * 1000 * 1000, NULL));
  CHECK_OK(smg_router_options_set_double(opts, SMG_ROUTER_OPT_RETRY_JITTER, 0.0, NULL));
  CHECK_OK(smg_router_options_set_double(opts, SMG_ROUTER_OPT_RETRY_BACKOFF_MULTIPLIER, 2.0, NULL));
  CHECK_OK(smg_router_options_set_int(opts, SMG_ROUTER_OPT_RETRY_MAX_BACKOFF_NS, SECOND_NS, NULL));
  CHECK_OK(smg_router_options_set_double(opts, SMG_ROUTER_OPT_RETRY_BUDGET_PERCENT, 50.0, NULL));
  CHECK_OK(smg_router_options_set_int(opts, SMG_ROUTER_OPT_RETRY_BUDGET_MIN_CONCURRENCY, 2, NULL));
  CHECK_OK(smg_router_options_set_statuses(opts, SMG_STATUSES_RETRYABLE, retryable, 1, 1, NULL));
  CHECK_OK(smg_router_options_set_statuses(opts, SMG_STATUSES_FAILURE, failures, 2, 1, NULL));
  CHECK_OK(smg_router_create(opts, &router, NULL));
  smg_router_options_destroy(opts);
  add_worker(router, "http://a:1", "", SMG_WORKER_REGULAR, 0);
  add_worker(router, "http://b:1", "", SMG_WORKER_REGULAR, 0);

  CHECK_OK(smg_router_retry_backoff(router, 2, &backoff));
  CHECK(backoff == 200 * 1000 * 1000);

  CHECK_OK(smg_retry_create(router, &retry, NULL));
  smg_request_init(&req);
  CHECK_OK(smg_retry_select(retry, &req, &ticket, &sel, NULL));
  first = sel.worker_id;
  CHECK_OK(smg_retry_finish(retry, &ticket, 503, &decision, NULL));
  CHECK(decision.verdict == SMG_RETRY_RETRY && decision.attempts == 1);
  CHECK(decision.backoff_ns == 100 * 1000 * 1000);
  CHECK(smg_ticket_is_active(&ticket) == 0);
  CHECK_OK(smg_retry_select(retry, &req, &ticket, &sel, NULL));
  CHECK(sel.worker_id != first); /* the tried worker is excluded */
  /* 502 is not retryable here. */
  CHECK_OK(smg_retry_finish(retry, &ticket, 502, &decision, NULL));
  CHECK(decision.verdict == SMG_RETRY_NOT_RETRYABLE && decision.backoff_ns == 0);
  CHECK_CODE(smg_retry_select(retry, &req, &ticket, &sel, NULL), SMG_ERR_FAILED_PRECONDITION);
  smg_retry_destroy(retry);

  CHECK_OK(smg_retry_create(router, &retry, NULL));
  CHECK_OK(smg_retry_select(retry, &req, &ticket, &sel, NULL));
  CHECK_OK(smg_retry_finish(retry, &ticket, 200, &decision, NULL));
  CHECK(decision.verdict == SMG_RETRY_SUCCEEDED);
  smg_retry_destroy(retry);
  smg_router_destroy(router);
}

static void test_router_tenant_limits(void) {
  smg_manual_clock_t* clock = NULL;
  smg_tenant_limits_t* limits = NULL;
  smg_router_options_t* opts = NULL;
  smg_router_t* router = NULL;
  smg_request_t req;
  smg_ticket_t ticket = SMG_TICKET_INIT;
  smg_error_t* err = NULL;
  int i;

  CHECK_OK(smg_manual_clock_create(0, &clock));
  CHECK_OK(smg_tenant_limits_create(&limits));
  CHECK_OK(smg_tenant_limits_set(limits, SMG_LIMIT_DEFAULT_TENANT, NULL, 0, 2, 0, NULL));
  CHECK_OK(smg_tenant_limits_set(limits, SMG_LIMIT_TENANT, "batch", 5, 0, 1000, NULL));
  CHECK_OK(smg_tenant_limits_set(limits, SMG_LIMIT_GLOBAL, NULL, 0, 1000, 0, NULL));
  CHECK_OK(smg_tenant_limits_set_max_tracked(limits, 100));
  CHECK_OK(smg_router_options_create(&opts));
  CHECK_OK(smg_router_options_set_tenant_limits(opts, limits));
  CHECK_OK(smg_router_options_set_clock(opts, clock));
  CHECK_OK(smg_router_create(opts, &router, NULL));
  smg_router_options_destroy(opts);
  smg_tenant_limits_destroy(limits);
  add_worker(router, "http://a:1", "", SMG_WORKER_REGULAR, 0);

  smg_request_init(&req);
  req.tenant = smg_cstr("alice");
  for (i = 0; i < 2; ++i) {
    CHECK_OK(smg_router_select(router, &req, &ticket, NULL, NULL));
    CHECK_OK(smg_ticket_finish(&ticket, 200, NULL));
  }
  CHECK_CODE(smg_router_select(router, &req, &ticket, NULL, &err), SMG_ERR_RESOURCE_EXHAUSTED);
  CHECK(smg_error_code(err) == SMG_ERR_RESOURCE_EXHAUSTED);
  CHECK(smg_error_retry_after_ns(err) > 0);
  CHECK(smg_error_message(err).len > 0);
  CHECK(smg_ticket_is_active(&ticket) == 0);
  smg_error_destroy(err);

  /* Tokens: "batch" has 1000 tokens per minute; settling refunds. */
  req.tenant = smg_cstr("batch");
  req.estimated_tokens = 900;
  CHECK_OK(smg_router_select(router, &req, &ticket, NULL, NULL));
  CHECK_OK(smg_ticket_settle_tokens(&ticket, 100, NULL));
  CHECK_CODE(smg_ticket_settle_tokens(&ticket, 100, NULL), SMG_ERR_FAILED_PRECONDITION);
  CHECK_OK(smg_ticket_finish(&ticket, 200, NULL));
  CHECK_OK(smg_router_select(router, &req, &ticket, NULL, NULL)); /* fits after the refund */
  CHECK_OK(smg_ticket_finish(&ticket, 200, NULL));
  smg_router_destroy(router);
  smg_manual_clock_destroy(clock);
}

/* True when the router's metrics contain `needle`. */
static int metrics_contain(smg_router_t* router, const char* needle) {
  char* text = NULL;
  size_t len = 0;
  int found = 0;
  CHECK_OK(smg_router_metrics(router, &text, &len, NULL));
  found = text != NULL && contains(text, len, needle);
  smg_free(text);
  return found;
}

static void test_token_bucket(smg_router_t* router) {
  smg_manual_clock_t* clock = NULL;
  smg_token_bucket_t* bucket = NULL;
  uint8_t ok = 0;
  int64_t wait = 0;
  uint64_t available = 0;

  CHECK_OK(smg_manual_clock_create(0, &clock));
  CHECK_OK(smg_token_bucket_create(2, 1.0, -1, clock, &bucket, NULL));
  CHECK_OK(smg_token_bucket_available(bucket, &available));
  CHECK(available == 2);
  CHECK_OK(smg_token_bucket_try_acquire(bucket, 2, &ok));
  CHECK(ok == 1);
  CHECK_OK(smg_token_bucket_try_acquire(bucket, 1, &ok));
  CHECK(ok == 0);
  CHECK_OK(smg_token_bucket_time_until(bucket, 1, &wait));
  CHECK(wait == SECOND_NS);
  CHECK_OK(smg_token_bucket_time_until(bucket, 3, &wait));
  CHECK(wait == SMG_DURATION_INFINITE);
  CHECK_OK(smg_manual_clock_advance(clock, SECOND_NS));
  CHECK_OK(smg_token_bucket_try_acquire(bucket, 1, &ok));
  CHECK(ok == 1);
  CHECK_OK(smg_router_track_token_bucket(router, "api", 3, bucket, NULL));
  CHECK(metrics_contain(router, "smg_rate_limit_tokens_available{bucket=\"api\"} 0"));
  smg_token_bucket_destroy(bucket);
  smg_manual_clock_destroy(clock);
}

static void test_limiter(smg_router_t* router) {
  smg_manual_clock_t* clock = NULL;
  smg_limiter_config_t config;
  smg_limiter_t* limiter = NULL;
  smg_limiter_stats_t stats;
  admission_record_t a, b, c;
  uint64_t waiter = 0, n = 0;
  int64_t wait = 0;
  uint8_t ok = 0, result = 255;
  int notified = 0;

  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  memset(&c, 0, sizeof c);
  CHECK_OK(smg_manual_clock_create(0, &clock));
  smg_limiter_config_init(&config);
  CHECK(config.max_queue == 100 && config.queue_timeout_ns == 60 * SECOND_NS);
  config.max_in_flight = 1;
  config.max_queue = 1;
  config.queue_timeout_ns = 5 * SECOND_NS;
  CHECK_OK(smg_limiter_create(&config, clock, &limiter, NULL));

  CHECK_OK(smg_limiter_try_acquire(limiter, &ok));
  CHECK(ok == 1);
  CHECK_OK(smg_limiter_try_acquire(limiter, &ok));
  CHECK(ok == 0);
  /* A non-positive timeout never queues. */
  CHECK_OK(smg_limiter_acquire(limiter, 0, &result));
  CHECK(result == SMG_ADMISSION_TIMED_OUT);
  /* Async: queued, then the queue is full (inline rejection). */
  CHECK_OK(smg_limiter_acquire_async(limiter, on_admission, &a, &waiter));
  CHECK(waiter != 0 && a.calls == 0);
  CHECK_OK(smg_limiter_acquire_async(limiter, on_admission, &b, &n));
  CHECK(n == 0 && b.calls == 1 && b.last == SMG_ADMISSION_REJECTED_QUEUE_FULL);
  CHECK_OK(smg_limiter_next_deadline(limiter, &wait));
  CHECK(wait == 5 * SECOND_NS);
  /* Release hands the slot to the waiter (no notifier: inline). */
  CHECK_OK(smg_limiter_release(limiter));
  CHECK(a.calls == 1 && a.last == SMG_ADMISSION_ADMITTED);
  /* Another waiter times out on the manual clock. */
  CHECK_OK(smg_limiter_acquire_async(limiter, on_admission, &c, &waiter));
  CHECK_OK(smg_manual_clock_advance(clock, 5 * SECOND_NS));
  CHECK_OK(smg_limiter_expire(limiter, &n));
  CHECK(n == 1 && c.calls == 1 && c.last == SMG_ADMISSION_TIMED_OUT);
  CHECK_OK(smg_limiter_next_deadline(limiter, &wait));
  CHECK(wait == -1);
  /* Cancel a queued waiter. */
  memset(&c, 0, sizeof c);
  CHECK_OK(smg_limiter_acquire_async(limiter, on_admission, &c, &waiter));
  CHECK_OK(smg_limiter_cancel(limiter, waiter, &ok));
  CHECK(ok == 1 && c.calls == 1 && c.last == SMG_ADMISSION_CANCELLED);
  CHECK_OK(smg_limiter_cancel(limiter, waiter, &ok));
  CHECK(ok == 0);
  CHECK_OK(smg_limiter_get_stats(limiter, &stats));
  CHECK(stats.in_flight == 1 && stats.queue_depth == 0 && stats.admitted == 2 &&
        stats.admitted_after_wait == 1 && stats.timed_out == 2 && stats.cancelled == 1);
  CHECK(stats.retry_after_ns >= SECOND_NS);
  CHECK_OK(smg_router_track_limiter(router, "chat", 4, limiter, NULL));
  CHECK(metrics_contain(router, "smg_scheduler_inflight{limiter=\"chat\"} 1"));
  CHECK_OK(smg_limiter_release(limiter));
  smg_limiter_destroy(limiter);

  /* With a notifier, deferred results wait for smg_limiter_dispatch(). */
  memset(&a, 0, sizeof a);
  config.notify = on_notify;
  config.notify_user_data = &notified;
  CHECK_OK(smg_limiter_create(&config, clock, &limiter, NULL));
  CHECK_OK(smg_limiter_try_acquire(limiter, &ok));
  CHECK_OK(smg_limiter_acquire_async(limiter, on_admission, &a, &waiter));
  CHECK_OK(smg_limiter_release(limiter));
  CHECK(notified >= 1 && a.calls == 0);
  CHECK_OK(smg_limiter_dispatch(limiter, &n));
  CHECK(n == 1 && a.calls == 1 && a.last == SMG_ADMISSION_ADMITTED);
  /* cancel_all resolves the queue, destroy the rest. */
  memset(&b, 0, sizeof b);
  CHECK_OK(smg_limiter_acquire_async(limiter, on_admission, &b, &waiter));
  CHECK_OK(smg_limiter_cancel_all(limiter, &n));
  CHECK(n == 1);
  CHECK_OK(smg_limiter_dispatch(limiter, NULL));
  CHECK(b.calls == 1 && b.last == SMG_ADMISSION_CANCELLED);
  memset(&c, 0, sizeof c);
  CHECK_OK(smg_limiter_acquire_async(limiter, on_admission, &c, &waiter));
  smg_limiter_destroy(limiter);
  CHECK(c.calls == 1 && c.last == SMG_ADMISSION_CANCELLED);
  smg_manual_clock_destroy(clock);
}

static void test_tenant_limiter(void) {
  smg_tenant_limits_t* limits = NULL;
  smg_tenant_limiter_t* limiter = NULL;
  smg_tenant_reservation_t* r = NULL;
  smg_tenant_decision_t d;
  smg_manual_clock_t* clock = NULL;

  CHECK_OK(smg_manual_clock_create(0, &clock));
  CHECK_OK(smg_tenant_limits_create(&limits));
  CHECK_OK(smg_tenant_limits_set(limits, SMG_LIMIT_DEFAULT_TENANT, NULL, 0, 1, 600, NULL));
  CHECK_OK(smg_tenant_limiter_create(limits, clock, &limiter, NULL));
  smg_tenant_limits_destroy(limits);
  CHECK_OK(smg_tenant_limiter_reserve(limiter, "alice", 5, 500, &d, &r));
  CHECK(d.reason == SMG_TENANT_GRANTED && d.retry_after_ns == 0 && r != NULL);
  CHECK_OK(smg_tenant_reservation_settle(r, 100));
  CHECK_CODE(smg_tenant_reservation_settle(r, 100), SMG_ERR_FAILED_PRECONDITION);
  smg_tenant_reservation_destroy(r);
  CHECK_OK(smg_tenant_limiter_reserve(limiter, "alice", 5, 1, &d, &r));
  CHECK(d.reason == SMG_TENANT_RATE_LIMITED && d.scope == SMG_SCOPE_TENANT &&
        d.dimension == SMG_DIMENSION_REQUESTS && d.retry_after_ns == 60 * SECOND_NS && r == NULL);
  CHECK_OK(smg_tenant_limiter_reserve(limiter, "bob", 3, 601, &d, &r));
  CHECK(d.reason == SMG_TENANT_ESTIMATE_TOO_LARGE && d.retry_after_ns == SMG_DURATION_INFINITE);
  smg_tenant_limiter_destroy(limiter);
  smg_manual_clock_destroy(clock);
}

/* --- Threads ------------------------------------------------------------------- */

#define THREADS 4
#define REQUESTS_PER_THREAD 500

typedef struct thread_arg {
  smg_router_t* router;
  int index;
  int failures;
} thread_arg_t;

static void* route_many(void* p) {
  thread_arg_t* arg = (thread_arg_t*)p;
  char prompt[128];
  int i;
  for (i = 0; i < REQUESTS_PER_THREAD; ++i) {
    smg_request_t req;
    smg_ticket_t ticket = SMG_TICKET_INIT;
    smg_selection_t sel;
    sprintf(prompt, "system prompt shared by everyone; thread %d asks question %d", arg->index,
            i % 17);
    smg_request_init(&req);
    req.text = smg_cstr(prompt);
    if (smg_router_select(arg->router, &req, &ticket, &sel, NULL) != SMG_OK) {
      arg->failures++;
      continue;
    }
    if (smg_ticket_finish(&ticket, 200, NULL) != SMG_OK) arg->failures++;
  }
  return NULL;
}

static void test_threads(void) {
  smg_router_options_t* opts = NULL;
  smg_policy_config_t* policy = NULL;
  smg_router_t* router = NULL;
  smg_workers_t* list = NULL;
  smg_worker_info_t info;
  pthread_t threads[THREADS];
  thread_arg_t args[THREADS];
  uint64_t served = 0;
  size_t i;

  CHECK_OK(smg_router_options_create(&opts));
  CHECK_OK(smg_policy_config_create(SMG_POLICY_CACHE_AWARE, &policy, NULL));
  CHECK_OK(smg_router_options_set_policy(opts, NULL, 0, SMG_WORKER_REGULAR, policy, NULL));
  CHECK_OK(smg_router_create(opts, &router, NULL));
  smg_router_options_destroy(opts);
  smg_policy_config_destroy(policy);
  add_worker(router, "http://t1:1", "", SMG_WORKER_REGULAR, 0);
  add_worker(router, "http://t2:1", "", SMG_WORKER_REGULAR, 0);
  add_worker(router, "http://t3:1", "", SMG_WORKER_REGULAR, 0);
  for (i = 0; i < THREADS; ++i) {
    args[i].router = router;
    args[i].index = (int)i;
    args[i].failures = 0;
    CHECK(pthread_create(&threads[i], NULL, route_many, &args[i]) == 0);
  }
  for (i = 0; i < THREADS; ++i) {
    CHECK(pthread_join(threads[i], NULL) == 0);
    CHECK(args[i].failures == 0);
  }
  CHECK_OK(smg_router_list_workers(router, NULL, 0, -1, &list, NULL));
  for (i = 0; i < smg_workers_count(list); ++i) {
    CHECK_OK(smg_workers_get(list, i, &info));
    CHECK(info.in_flight == 0);
    served += info.successes;
  }
  CHECK(served == THREADS * REQUESTS_PER_THREAD);
  smg_workers_destroy(list);
  smg_router_destroy(router);
}

int main(void) {
  smg_router_t* metrics_router = NULL;

  test_versions_and_names();
  test_regular_router();
  test_pd_router();
  test_retries();
  test_router_tenant_limits();

  CHECK_OK(smg_router_create(NULL, &metrics_router, NULL));
  test_token_bucket(metrics_router);
  test_limiter(metrics_router);
  /* Destroyed objects leave the export. */
  CHECK(!metrics_contain(metrics_router, "limiter=\"chat\""));
  CHECK(!metrics_contain(metrics_router, "bucket=\"api\""));
  smg_router_destroy(metrics_router);

  test_tenant_limiter();
  test_threads();
  return check_finish("capi_test");
}
