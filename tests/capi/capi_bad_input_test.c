/* File: tests/capi/capi_bad_input_test.c
 *
 * Bad input at the C ABI gets an error code, never a crash (this program runs
 * under AddressSanitizer and UndefinedBehaviorSanitizer in the asan preset):
 * NULL handles and pointers, destroyed handles (also after another object was
 * created), handles of the wrong kind, enum values out of range, zero and
 * absurd lengths, bytes that are not UTF-8, tickets finished twice or never
 * initialized, and objects used after the router that made them is gone. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "smgcore/smgcore_c.h"

static smg_router_t* make_router(void) {
  smg_router_t* router = NULL;
  smg_worker_spec_t spec;
  CHECK_OK(smg_router_create(NULL, &router, NULL));
  smg_worker_spec_init(&spec);
  spec.url = smg_cstr("http://127.0.0.1:30000");
  CHECK_OK(smg_router_add_worker(router, &spec, NULL, NULL));
  return router;
}

static void test_null_handles_and_pointers(void) {
  smg_request_t req;
  smg_ticket_t ticket = SMG_TICKET_INIT;
  smg_worker_spec_t spec;
  smg_workers_t* list = NULL;
  smg_error_t* err = NULL;
  smg_router_t* router = make_router();
  uint8_t b = 0;
  int64_t i64 = 0;
  uint64_t u64 = 0;
  smg_limiter_config_t config;
  smg_tenant_decision_t decision;
  smg_tenant_reservation_t* reservation = NULL;
  smg_retry_decision_t retry_decision;

  smg_request_init(&req);
  smg_worker_spec_init(&spec);
  spec.url = smg_cstr("http://127.0.0.2:1");

  /* NULL handles. */
  CHECK_CODE(smg_router_select(NULL, &req, &ticket, NULL, &err), SMG_ERR_INVALID_HANDLE);
  CHECK(smg_error_code(err) == SMG_ERR_INVALID_HANDLE);
  CHECK(contains(smg_error_message(err).data, smg_error_message(err).len, "smg_router_t"));
  smg_error_destroy(err);
  err = NULL;
  CHECK_CODE(smg_router_add_worker(NULL, &spec, NULL, NULL), SMG_ERR_INVALID_HANDLE);
  CHECK_CODE(smg_router_list_workers(NULL, NULL, 0, -1, &list, NULL), SMG_ERR_INVALID_HANDLE);
  CHECK_CODE(smg_router_metrics(NULL, NULL, NULL, NULL), SMG_ERR_INVALID_HANDLE);
  CHECK_CODE(smg_router_run_maintenance(NULL), SMG_ERR_INVALID_HANDLE);
  CHECK_CODE(smg_router_report_probe(NULL, 1, 1, NULL, NULL), SMG_ERR_INVALID_HANDLE);
  CHECK_CODE(smg_router_options_set_int(NULL, SMG_ROUTER_OPT_PD_MODE, 1, NULL),
             SMG_ERR_INVALID_HANDLE);
  CHECK_CODE(smg_policy_config_set_double(NULL, SMG_POLICY_OPT_CACHE_THRESHOLD, 0.5, NULL),
             SMG_ERR_INVALID_HANDLE);
  CHECK_CODE(smg_tenant_limits_set(NULL, SMG_LIMIT_GLOBAL, NULL, 0, 1, 1, NULL),
             SMG_ERR_INVALID_HANDLE);
  CHECK_CODE(smg_token_bucket_try_acquire(NULL, 1, &b), SMG_ERR_INVALID_HANDLE);
  CHECK_CODE(smg_limiter_release(NULL), SMG_ERR_INVALID_HANDLE);
  CHECK_CODE(smg_limiter_acquire(NULL, 0, &b), SMG_ERR_INVALID_HANDLE);
  CHECK_CODE(smg_tenant_limiter_reserve(NULL, "a", 1, 1, &decision, &reservation),
             SMG_ERR_INVALID_HANDLE);
  CHECK_CODE(smg_tenant_reservation_settle(NULL, 1), SMG_ERR_INVALID_HANDLE);
  CHECK_CODE(smg_retry_create(NULL, NULL, NULL), SMG_ERR_INVALID_HANDLE);
  CHECK_CODE(smg_retry_finish(NULL, &ticket, 200, &retry_decision, NULL), SMG_ERR_INVALID_HANDLE);
  CHECK_CODE(smg_manual_clock_advance(NULL, 1), SMG_ERR_INVALID_HANDLE);
  CHECK_CODE(smg_workers_get(NULL, 0, NULL), SMG_ERR_INVALID_HANDLE);
  CHECK(smg_workers_count(NULL) == 0);
  CHECK(smg_error_code(NULL) == SMG_ERR_INVALID_HANDLE);
  CHECK(smg_error_message(NULL).len == 0);
  CHECK(smg_error_retry_after_ns(NULL) == -1);

  /* destroy(NULL) is a no-op for every type. */
  smg_router_destroy(NULL);
  smg_router_options_destroy(NULL);
  smg_policy_config_destroy(NULL);
  smg_tenant_limits_destroy(NULL);
  smg_workers_destroy(NULL);
  smg_retry_destroy(NULL);
  smg_manual_clock_destroy(NULL);
  smg_token_bucket_destroy(NULL);
  smg_limiter_destroy(NULL);
  smg_tenant_limiter_destroy(NULL);
  smg_tenant_reservation_destroy(NULL);
  smg_error_destroy(NULL);
  smg_free(NULL);
  smg_worker_spec_init(NULL);
  smg_request_init(NULL);
  smg_limiter_config_init(NULL);

  /* NULL pointers other than handles. */
  CHECK_CODE(smg_router_select(router, NULL, &ticket, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_router_select(router, &req, NULL, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_router_add_worker(router, NULL, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_router_create(NULL, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_router_metrics(router, NULL, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_router_list_workers(router, NULL, 0, -1, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_router_retry_backoff(router, 1, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_ticket_finish(NULL, 200, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_ticket_selection(NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK(smg_ticket_is_active(NULL) == 0);
  CHECK_CODE(smg_manual_clock_create(0, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_router_options_create(NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_tenant_limits_create(NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_policy_parse(NULL, 3, &b), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_limiter_create(NULL, NULL, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  smg_limiter_config_init(&config);
  config.max_in_flight = 1;
  CHECK_CODE(smg_limiter_create(&config, NULL, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_token_bucket_create(1, 1.0, -1, NULL, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK(strcmp(smg_cstr(NULL).data, "") == 0 && smg_cstr(NULL).len == 0);
  (void)i64;
  (void)u64;
  smg_router_destroy(router);
}

static void test_destroyed_and_wrong_kind_handles(void) {
  smg_router_t* a = make_router();
  smg_router_t* b = NULL;
  smg_limiter_t* limiter = NULL;
  smg_limiter_config_t config;
  smg_request_t req;
  smg_ticket_t ticket = SMG_TICKET_INIT;
  smg_worker_spec_t spec;
  smg_workers_t* list = NULL;
  smg_retry_t* retry = NULL;
  smg_retry_decision_t decision;

  smg_request_init(&req);
  smg_router_destroy(a);
  b = make_router(); /* may reuse a's memory: the stale handle must not reach b */
  CHECK_CODE(smg_router_select(a, &req, &ticket, NULL, NULL), SMG_ERR_INVALID_HANDLE);
  smg_worker_spec_init(&spec);
  spec.url = smg_cstr("http://127.0.0.9:1");
  CHECK_CODE(smg_router_add_worker(a, &spec, NULL, NULL), SMG_ERR_INVALID_HANDLE);
  smg_router_destroy(a); /* destroying twice is harmless */
  CHECK_OK(smg_router_list_workers(b, NULL, 0, -1, &list, NULL));
  CHECK(smg_workers_count(list) == 1); /* b never saw a's calls */
  smg_workers_destroy(list);
  CHECK_CODE(smg_workers_get(list, 0, NULL), SMG_ERR_INVALID_HANDLE);

  /* A handle of another kind. */
  smg_limiter_config_init(&config);
  config.max_in_flight = 1;
  CHECK_OK(smg_limiter_create(&config, NULL, &limiter, NULL));
  CHECK_CODE(smg_router_select((smg_router_t*)(void*)limiter, &req, &ticket, NULL, NULL),
             SMG_ERR_INVALID_HANDLE);
  smg_router_destroy((smg_router_t*)(void*)limiter); /* wrong kind: ignored */
  {
    uint8_t ok = 0;
    CHECK_OK(smg_limiter_try_acquire(limiter, &ok)); /* still alive */
    CHECK(ok == 1);
  }
  smg_limiter_destroy(limiter);

  /* Tickets and retry states outlive their router. */
  CHECK_OK(smg_router_select(b, &req, &ticket, NULL, NULL));
  CHECK_OK(smg_retry_create(b, &retry, NULL));
  smg_router_destroy(b);
  CHECK_OK(smg_ticket_finish(&ticket, 200, NULL));
  CHECK_OK(smg_retry_select(retry, &req, &ticket, NULL, NULL));
  CHECK_OK(smg_retry_finish(retry, &ticket, 200, &decision, NULL));
  CHECK(decision.verdict == SMG_RETRY_SUCCEEDED);
  smg_retry_destroy(retry);
}

static void test_enums_out_of_range(void) {
  smg_router_t* router = make_router();
  smg_policy_config_t* config = NULL;
  smg_router_options_t* opts = NULL;
  smg_tenant_limits_t* limits = NULL;
  smg_worker_spec_t spec;
  smg_request_t req;
  smg_ticket_t ticket = SMG_TICKET_INIT;
  smg_error_t* err = NULL;
  smg_workers_t* list = NULL;
  const int32_t statuses[] = {503};
  const int32_t bad_statuses[] = {99};

  CHECK_CODE(smg_policy_config_create(6, &config, NULL), SMG_ERR_INVALID_ARGUMENT); /* custom */
  CHECK_CODE(smg_policy_config_create(200, &config, &err), SMG_ERR_INVALID_ARGUMENT);
  CHECK(smg_error_message(err).len > 0);
  smg_error_destroy(err);
  err = NULL;
  smg_worker_spec_init(&spec);
  spec.url = smg_cstr("http://127.0.0.3:1");
  spec.type = 3;
  CHECK_CODE(smg_router_add_worker(router, &spec, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  spec.type = SMG_WORKER_REGULAR;
  spec.health = 5;
  CHECK_CODE(smg_router_add_worker(router, &spec, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  spec.health = SMG_HEALTH_FAILED; /* in the enum, but not an initial state */
  CHECK_CODE(smg_router_add_worker(router, &spec, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_router_set_health(router, 1, 9, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_router_list_workers(router, NULL, 0, 3, &list, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK(smg_enum_name(77, 0) == NULL);

  CHECK_OK(smg_router_options_create(&opts));
  CHECK_OK(smg_policy_config_create(SMG_POLICY_ROUND_ROBIN, &config, NULL));
  CHECK_CODE(smg_router_options_set_policy(opts, NULL, 0, 3, config, NULL),
             SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_router_options_set_statuses(opts, 2, statuses, 1, 1, NULL),
             SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_router_options_set_statuses(opts, SMG_STATUSES_FAILURE, bad_statuses, 1, 1, NULL),
             SMG_ERR_INVALID_ARGUMENT);
  /* Unknown keys, keys of another policy kind, keys set with the wrong type. */
  CHECK_CODE(smg_router_options_set_int(opts, 999, 1, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_router_options_set_int(opts, SMG_ROUTER_OPT_BREAKER_FAILURE_RATE, 1, NULL),
             SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_router_options_set_string(opts, SMG_ROUTER_OPT_PD_MODE, "x", 1, NULL),
             SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_policy_config_set_double(config, SMG_POLICY_OPT_CACHE_THRESHOLD, 0.5, NULL),
             SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_policy_config_set_string(config, SMG_POLICY_OPT_KEY_HEADER, "x", 1, NULL),
             SMG_ERR_INVALID_ARGUMENT);
  /* Negative or oversized values for unsigned fields. */
  CHECK_CODE(smg_router_options_set_int(opts, SMG_ROUTER_OPT_BREAKER_CONSECUTIVE_FAILURES, -1, NULL),
             SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_router_options_set_int(opts, SMG_ROUTER_OPT_RETRY_MAX_ATTEMPTS,
                                        (int64_t)1 << 40, NULL),
             SMG_ERR_INVALID_ARGUMENT);
  /* Values the core's validators reject surface at creation, naming the field. */
  {
    smg_router_t* bad = NULL;
    CHECK_OK(smg_router_options_set_double(opts, SMG_ROUTER_OPT_BREAKER_FAILURE_RATE, 2.0, NULL));
    CHECK_CODE(smg_router_create(opts, &bad, &err), SMG_ERR_INVALID_ARGUMENT);
    CHECK(bad == NULL);
    CHECK(contains(smg_error_message(err).data, smg_error_message(err).len, "failure_rate"));
    smg_error_destroy(err);
    err = NULL;
  }
  smg_router_options_destroy(opts);
  smg_policy_config_destroy(config);
  {
    /* A policy option out of range, also named at creation. */
    smg_router_t* bad = NULL;
    CHECK_OK(smg_router_options_create(&opts));
    CHECK_OK(smg_policy_config_create(SMG_POLICY_CACHE_AWARE, &config, NULL));
    CHECK_CODE(smg_policy_config_set_int(config, SMG_POLICY_OPT_EVICT_HEADROOM, 1, NULL),
               SMG_ERR_INVALID_ARGUMENT);
    CHECK_OK(smg_policy_config_set_double(config, SMG_POLICY_OPT_EVICT_HEADROOM, 0.9, NULL));
    CHECK_OK(smg_router_options_set_policy(opts, NULL, 0, SMG_WORKER_REGULAR, config, NULL));
    CHECK_CODE(smg_router_create(opts, &bad, &err), SMG_ERR_INVALID_ARGUMENT);
    CHECK(bad == NULL);
    CHECK(contains(smg_error_message(err).data, smg_error_message(err).len, "evict_headroom"));
    smg_error_destroy(err);
    err = NULL;
    smg_router_options_destroy(opts);
    smg_policy_config_destroy(config);
  }

  CHECK_OK(smg_tenant_limits_create(&limits));
  CHECK_CODE(smg_tenant_limits_set(limits, 7, NULL, 0, 1, 1, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_tenant_limits_set(limits, SMG_LIMIT_TENANT, NULL, 0, 1, 1, NULL),
             SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_tenant_limits_set(limits, SMG_LIMIT_GLOBAL, "x", 1, 1, 1, NULL),
             SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_tenant_limits_set_max_tracked(limits, 0), SMG_ERR_INVALID_ARGUMENT);
  {
    char long_name[300];
    memset(long_name, 'a', sizeof long_name);
    CHECK_CODE(smg_tenant_limits_set(limits, SMG_LIMIT_TENANT, long_name, sizeof long_name, 1, 1,
                                     NULL),
               SMG_ERR_INVALID_ARGUMENT);
  }
  smg_tenant_limits_destroy(limits);

  /* Outcomes out of range leave the ticket active. */
  smg_request_init(&req);
  CHECK_OK(smg_router_select(router, &req, &ticket, NULL, NULL));
  CHECK_CODE(smg_ticket_finish(&ticket, 42, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_ticket_finish(&ticket, 600, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_ticket_finish(&ticket, -3, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_ticket_finish_pd(&ticket, 200, 7, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK(smg_ticket_is_active(&ticket) == 1);
  CHECK_OK(smg_ticket_finish(&ticket, 200, NULL));
  smg_router_destroy(router);
}

static void test_lengths_and_bytes(void) {
  smg_router_t* router = make_router();
  smg_request_t req;
  smg_ticket_t ticket = SMG_TICKET_INIT;
  smg_worker_spec_t spec;
  smg_label_t label;
  smg_error_t* err = NULL;
  uint32_t token = 7;
  uint32_t id = 0;
  const char not_utf8[] = "\xff\xfe\xc3\x28 prompt \xa0\xa1";
  smg_tenant_limits_t* limits = NULL;
  smg_tenant_limiter_t* tlimiter = NULL;
  smg_tenant_decision_t decision;
  smg_tenant_reservation_t* reservation = NULL;

  /* Empty prompt: routed (round robin needs none). */
  smg_request_init(&req);
  CHECK_OK(smg_router_select(router, &req, &ticket, NULL, NULL));
  CHECK_OK(smg_ticket_finish(&ticket, 200, NULL));
  /* NULL data with a length, absurd lengths. */
  req.text.data = NULL;
  req.text.len = 5;
  CHECK_CODE(smg_router_select(router, &req, &ticket, NULL, &err), SMG_ERR_INVALID_ARGUMENT);
  CHECK(contains(smg_error_message(err).data, smg_error_message(err).len, "request.text"));
  smg_error_destroy(err);
  err = NULL;
  req.text.data = "x";
  req.text.len = SMG_MAX_INPUT_BYTES + 1;
  CHECK_CODE(smg_router_select(router, &req, &ticket, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  req.text.len = (size_t)-1;
  CHECK_CODE(smg_router_select(router, &req, &ticket, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  smg_request_init(&req);
  req.tokens = &token;
  req.tokens_len = SMG_MAX_INPUT_TOKENS + 1;
  CHECK_CODE(smg_router_select(router, &req, &ticket, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  req.tokens = NULL;
  req.tokens_len = 3;
  CHECK_CODE(smg_router_select(router, &req, &ticket, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  smg_request_init(&req);
  req.exclude_workers = &id;
  req.exclude_workers_len = SMG_MAX_LIST_LENGTH + 1;
  CHECK_CODE(smg_router_select(router, &req, &ticket, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  smg_request_init(&req);
  req.headers_len = 2; /* NULL headers */
  CHECK_CODE(smg_router_select(router, &req, &ticket, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK(smg_ticket_is_active(&ticket) == 0);

  /* Bytes that are not UTF-8: prompts, models, tenants and labels are bytes. */
  smg_request_init(&req);
  req.text.data = not_utf8;
  req.text.len = sizeof not_utf8 - 1;
  req.routing_key = req.text;
  req.tenant = req.text;
  CHECK_OK(smg_router_select(router, &req, &ticket, NULL, NULL));
  CHECK_OK(smg_ticket_finish(&ticket, 200, NULL));
  req.model = req.text; /* a model without workers */
  CHECK_CODE(smg_router_select(router, &req, &ticket, NULL, NULL), SMG_ERR_NOT_FOUND);
  smg_worker_spec_init(&spec);
  spec.url = smg_cstr("http://127.0.0.5:1");
  spec.model.data = not_utf8;
  spec.model.len = sizeof not_utf8 - 1;
  label.key = spec.model;
  label.value = spec.model;
  spec.labels = &label;
  spec.labels_len = 1;
  CHECK_OK(smg_router_add_worker(router, &spec, &id, NULL));
  CHECK_OK(smg_router_select(router, &req, &ticket, NULL, NULL));
  CHECK_OK(smg_ticket_finish(&ticket, 200, NULL));
  /* A URL that is not one. */
  spec.url.data = not_utf8;
  spec.url.len = sizeof not_utf8 - 1;
  CHECK_CODE(smg_router_add_worker(router, &spec, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  spec.url = smg_cstr("");
  CHECK_CODE(smg_router_add_worker(router, &spec, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  spec.url = smg_cstr("http://127.0.0.5:1");
  CHECK_CODE(smg_router_add_worker(router, &spec, NULL, NULL), SMG_ERR_ALREADY_EXISTS);
  spec.url = smg_cstr("http://127.0.0.6:1");
  spec.weight = 0;
  CHECK_CODE(smg_router_add_worker(router, &spec, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  spec.weight = 1;
  spec.bootstrap_port = 8998; /* on a regular worker */
  CHECK_CODE(smg_router_add_worker(router, &spec, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  spec.labels_len = SMG_MAX_LIST_LENGTH + 1;
  CHECK_CODE(smg_router_add_worker(router, &spec, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);

  /* Unknown workers. */
  CHECK_CODE(smg_router_remove_worker(router, 12345, NULL), SMG_ERR_NOT_FOUND);
  CHECK_CODE(smg_router_remove_worker_by_url(router, "http://nowhere:1", 16, NULL),
             SMG_ERR_NOT_FOUND);
  CHECK_CODE(smg_router_set_weight(router, 0, 1, NULL), SMG_ERR_NOT_FOUND);
  CHECK_CODE(smg_router_set_weight(router, id, 0, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_router_set_engine_load(router, id, -1.0, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_router_set_engine_load(router, id, NAN, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_router_drain_worker(router, 999, NULL), SMG_ERR_NOT_FOUND);
  CHECK_CODE(smg_router_reset_breaker(router, 999, NULL), SMG_ERR_NOT_FOUND);
  CHECK_CODE(smg_router_report_probe(router, 999, 1, NULL, NULL), SMG_ERR_NOT_FOUND);
  CHECK_CODE(smg_router_set_labels(router, 999, NULL, 0, NULL), SMG_ERR_NOT_FOUND);
  CHECK_CODE(smg_router_set_labels(router, id, NULL, 4, NULL), SMG_ERR_INVALID_ARGUMENT);
  {
    smg_workers_t* list = NULL;
    smg_worker_info_t info;
    CHECK_CODE(smg_router_find_worker(router, not_utf8, sizeof not_utf8 - 1, &list, NULL),
               SMG_ERR_NOT_FOUND);
    CHECK_OK(smg_router_get_worker(router, id, &list, NULL));
    CHECK_CODE(smg_workers_get(list, 1, &info), SMG_ERR_INVALID_ARGUMENT);
    CHECK_CODE(smg_workers_get(list, 0, NULL), SMG_ERR_INVALID_ARGUMENT);
    smg_workers_destroy(list);
  }

  /* Admission objects with impossible settings. */
  {
    smg_token_bucket_t* bucket = NULL;
    smg_limiter_t* limiter = NULL;
    smg_limiter_config_t config;
    smg_manual_clock_t* clock = NULL;
    CHECK_CODE(smg_token_bucket_create(0, 1.0, -1, NULL, &bucket, NULL), SMG_ERR_INVALID_ARGUMENT);
    CHECK_CODE(smg_token_bucket_create(1, -1.0, -1, NULL, &bucket, NULL), SMG_ERR_INVALID_ARGUMENT);
    CHECK_CODE(smg_token_bucket_create(1, 1.0, 5, NULL, &bucket, NULL), SMG_ERR_INVALID_ARGUMENT);
    smg_limiter_config_init(&config);
    CHECK_CODE(smg_limiter_create(&config, NULL, &limiter, NULL), SMG_ERR_INVALID_ARGUMENT);
    config.max_in_flight = 1;
    config.queue_timeout_ns = -1;
    CHECK_CODE(smg_limiter_create(&config, NULL, &limiter, NULL), SMG_ERR_INVALID_ARGUMENT);
    CHECK(limiter == NULL);
    CHECK_CODE(smg_manual_clock_create(-5, &clock), SMG_ERR_INVALID_ARGUMENT);
    CHECK_OK(smg_manual_clock_create(5, &clock));
    CHECK_CODE(smg_manual_clock_advance(clock, -1), SMG_ERR_INVALID_ARGUMENT);
    CHECK_CODE(smg_limiter_acquire_async(NULL, NULL, NULL, NULL), SMG_ERR_INVALID_HANDLE);
    smg_manual_clock_destroy(clock);
    CHECK_CODE(smg_manual_clock_advance(clock, 1), SMG_ERR_INVALID_HANDLE);
  }

  /* Tenant names: empty and too long are denials, not crashes. */
  CHECK_OK(smg_tenant_limits_create(&limits));
  CHECK_OK(smg_tenant_limits_set(limits, SMG_LIMIT_DEFAULT_TENANT, NULL, 0, 10, 0, NULL));
  CHECK_OK(smg_tenant_limiter_create(limits, NULL, &tlimiter, NULL));
  CHECK_OK(smg_tenant_limiter_reserve(tlimiter, NULL, 0, 1, &decision, &reservation));
  CHECK(decision.reason == SMG_TENANT_INVALID_TENANT && reservation == NULL);
  CHECK_CODE(smg_tenant_limiter_reserve(tlimiter, NULL, 4, 1, &decision, &reservation),
             SMG_ERR_INVALID_ARGUMENT);
  CHECK_OK(smg_tenant_limiter_reserve(tlimiter, not_utf8, sizeof not_utf8 - 1, 1, &decision,
                                      &reservation));
  CHECK(decision.reason == SMG_TENANT_GRANTED);
  smg_tenant_reservation_destroy(reservation);
  smg_tenant_limiter_destroy(tlimiter);
  smg_tenant_limits_destroy(limits);
  smg_router_destroy(router);
}

static void test_tickets(void) {
  smg_router_t* router = make_router();
  smg_request_t req;
  smg_ticket_t ticket = SMG_TICKET_INIT;
  smg_ticket_t moved;
  smg_ticket_t garbage;
  smg_selection_t sel;
  smg_error_t* err = NULL;

  smg_request_init(&req);
  /* Never selected. */
  CHECK_CODE(smg_ticket_finish(&ticket, 200, NULL), SMG_ERR_FAILED_PRECONDITION);
  CHECK_CODE(smg_ticket_selection(&ticket, &sel), SMG_ERR_FAILED_PRECONDITION);
  CHECK_CODE(smg_ticket_settle_tokens(&ticket, 1, NULL), SMG_ERR_FAILED_PRECONDITION);
  /* Selecting into a live ticket. */
  CHECK_OK(smg_router_select(router, &req, &ticket, NULL, NULL));
  CHECK_CODE(smg_router_select(router, &req, &ticket, NULL, NULL), SMG_ERR_FAILED_PRECONDITION);
  /* Moved with memcpy, finished from the new place. */
  memcpy(&moved, &ticket, sizeof ticket);
  memset(&ticket, 0, sizeof ticket);
  CHECK_OK(smg_ticket_finish(&moved, 200, NULL));
  /* Finished twice. */
  CHECK_CODE(smg_ticket_finish(&moved, 200, &err), SMG_ERR_FAILED_PRECONDITION);
  CHECK(contains(smg_error_message(err).data, smg_error_message(err).len, "not active"));
  smg_error_destroy(err);
  /* Uninitialized storage. */
  memset(&garbage, 0xab, sizeof garbage);
  CHECK_CODE(smg_ticket_finish(&garbage, 200, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK_CODE(smg_router_select(router, &req, &garbage, NULL, NULL), SMG_ERR_INVALID_ARGUMENT);
  CHECK(smg_ticket_is_active(&garbage) == 0);
  /* Storage is reusable after a finish. */
  CHECK_OK(smg_router_select(router, &req, &moved, &sel, NULL));
  CHECK_OK(smg_ticket_finish(&moved, SMG_OUTCOME_TRANSPORT_ERROR, NULL));
  smg_router_destroy(router);
}

int main(void) {
  test_null_handles_and_pointers();
  test_destroyed_and_wrong_kind_handles();
  test_enums_out_of_range();
  test_lengths_and_bytes();
  test_tickets();
  return check_finish("capi_bad_input_test");
}
