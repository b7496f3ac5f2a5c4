// File: capi/src/select_api.cc
//
// The per-request calls: selection, tickets and retry states.
#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "boxes.h"
#include "convert.h"
#include "errors.h"
#include "ticket_storage.h"

using smg::capi::FailStatus;
using smg::capi::Get;
using smg::capi::Guarded;
using smg::capi::InvalidArgument;
using smg::capi::InvalidHandle;

namespace {

// Checks that `ticket` is storage a selection may fill.
smg_code_t CheckEmptyTicket(smg_ticket_t* ticket, smg_error_t** err) {
  if (ticket == nullptr) return InvalidArgument(err, "ticket is NULL");
  const uint64_t state = smg::capi::StorageOf(ticket)->state;
  if (state == smg::capi::kTicketLive) {
    return smg::capi::Fail(err, SMG_ERR_FAILED_PRECONDITION,
                           "ticket already holds an active request: finish it first");
  }
  if (state != 0) {
    return InvalidArgument(err, "ticket storage is not initialized (use SMG_TICKET_INIT)");
  }
  return SMG_OK;
}

// Stores a selection's result in the caller's ticket and selection.
smg_code_t Deliver(absl::StatusOr<smg::Ticket> selected, smg_ticket_t* ticket,
                   smg_selection_t* selection_out, smg_error_t** err) {
  if (!selected.ok()) return FailStatus(err, selected.status());
  const smg::Ticket* placed = smg::capi::EmplaceTicket(ticket, std::move(*selected));
  if (selection_out != nullptr) smg::capi::FillSelection(*placed, selection_out);
  return SMG_OK;
}

// The body of both select calls: checks the ticket storage, converts the
// request (its views and headers live for this call) and delivers what
// `select(const RouteRequest&)` returns.
template <typename SelectFn>
smg_code_t ConvertAndSelect(const smg_request_t* request, smg_ticket_t* ticket,
                            smg_selection_t* selection_out, smg_error_t** err,
                            SelectFn&& select) {
  if (smg_code_t c = CheckEmptyTicket(ticket, err); c != SMG_OK) return c;
  smg::RouteRequest converted;
  smg::capi::HeaderBuffer headers;
  if (smg_code_t c = smg::capi::ToRouteRequest(request, &converted, &headers, err);
      c != SMG_OK) {
    return c;
  }
  return Deliver(select(converted), ticket, selection_out, err);
}

// Checks a ticket that is being finished.
smg::Ticket* ActiveTicket(smg_ticket_t* ticket, smg_code_t* code, smg_error_t** err) {
  if (ticket == nullptr) {
    *code = InvalidArgument(err, "ticket is NULL");
    return nullptr;
  }
  smg::Ticket* t = smg::capi::LiveTicket(ticket);
  if (t == nullptr) {
    *code = smg::capi::StorageOf(ticket)->state == 0
                ? smg::capi::Fail(err, SMG_ERR_FAILED_PRECONDITION,
                                  "ticket is not active (already finished, or never selected)")
                : InvalidArgument(err, "ticket storage is not initialized (use SMG_TICKET_INIT)");
  }
  return t;
}

}  // namespace

extern "C" {

void smg_request_init(smg_request_t* request) {
  if (request != nullptr) *request = smg_request_t{};
}

smg_code_t smg_router_select(smg_router_t* router, const smg_request_t* request,
                             smg_ticket_t* ticket, smg_selection_t* selection_out,
                             smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg::capi::RouterBox* box = Get(router);
    if (box == nullptr) return InvalidHandle(err, "smg_router_t");
    return ConvertAndSelect(request, ticket, selection_out, err,
                            [box](const smg::RouteRequest& r) { return box->router->Select(r); });
  });
}

uint8_t smg_ticket_is_active(const smg_ticket_t* ticket) {
  return ticket != nullptr && smg::capi::LiveTicket(ticket) != nullptr ? 1 : 0;
}

smg_code_t smg_ticket_selection(const smg_ticket_t* ticket, smg_selection_t* selection_out) {
  if (ticket == nullptr || selection_out == nullptr) return SMG_ERR_INVALID_ARGUMENT;
  const smg::Ticket* t = smg::capi::LiveTicket(ticket);
  if (t == nullptr) return SMG_ERR_FAILED_PRECONDITION;
  smg::capi::FillSelection(*t, selection_out);
  return SMG_OK;
}

smg_code_t smg_ticket_settle_tokens(smg_ticket_t* ticket, uint64_t actual_tokens,
                                    smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg_code_t code = SMG_OK;
    smg::Ticket* t = ActiveTicket(ticket, &code, err);
    if (t == nullptr) return code;
    absl::Status s = t->SettleTokens(actual_tokens);
    return s.ok() ? SMG_OK : FailStatus(err, s);
  });
}

smg_code_t smg_ticket_finish(smg_ticket_t* ticket, int32_t outcome, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg_code_t code = SMG_OK;
    smg::Ticket* t = ActiveTicket(ticket, &code, err);
    if (t == nullptr) return code;
    smg::Outcome o = smg::Outcome::Cancelled();
    if (smg_code_t c = smg::capi::ToOutcome(outcome, "outcome", &o, err); c != SMG_OK) return c;
    // Finish() fails only on a finished ticket, which live storage never
    // holds; the storage is emptied either way.
    absl::Status s = t->Finish(o);
    smg::capi::ClearTicket(ticket);
    return s.ok() ? SMG_OK : FailStatus(err, s);
  });
}

smg_code_t smg_ticket_finish_pd(smg_ticket_t* ticket, int32_t prefill_outcome,
                                int32_t decode_outcome, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg_code_t code = SMG_OK;
    smg::Ticket* t = ActiveTicket(ticket, &code, err);
    if (t == nullptr) return code;
    smg::Outcome prefill = smg::Outcome::Cancelled();
    smg::Outcome decode = smg::Outcome::Cancelled();
    if (smg_code_t c = smg::capi::ToOutcome(prefill_outcome, "outcome", &prefill, err);
        c != SMG_OK) {
      return c;
    }
    if (smg_code_t c = smg::capi::ToOutcome(decode_outcome, "decode outcome", &decode, err);
        c != SMG_OK) {
      return c;
    }
    // Finish() fails only on a finished ticket, which live storage never
    // holds; the storage is emptied either way.
    absl::Status s = t->Finish(prefill, decode);
    smg::capi::ClearTicket(ticket);
    return s.ok() ? SMG_OK : FailStatus(err, s);
  });
}

smg_code_t smg_retry_create(smg_router_t* router, smg_retry_t** retry_out, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg::capi::RouterBox* box = Get(router);
    if (box == nullptr) return InvalidHandle(err, "smg_router_t");
    if (retry_out == nullptr) return InvalidArgument(err, "retry_out is NULL");
    *retry_out = smg::capi::Publish<smg_retry_t>(
        std::make_unique<smg::capi::RetryBox>(box->self));
    return SMG_OK;
  });
}

void smg_retry_destroy(smg_retry_t* retry) {
  smg::capi::GuardedVoid([&] { smg::capi::Take(retry).reset(); });
}

smg_code_t smg_retry_select(smg_retry_t* retry, const smg_request_t* request,
                            smg_ticket_t* ticket, smg_selection_t* selection_out,
                            smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg::capi::RetryBox* box = Get(retry);
    if (box == nullptr) return InvalidHandle(err, "smg_retry_t");
    return ConvertAndSelect(request, ticket, selection_out, err,
                            [box](const smg::RouteRequest& r) { return box->state.Select(r); });
  });
}

smg_code_t smg_retry_finish(smg_retry_t* retry, smg_ticket_t* ticket, int32_t outcome,
                            smg_retry_decision_t* decision_out, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg::capi::RetryBox* box = Get(retry);
    if (box == nullptr) return InvalidHandle(err, "smg_retry_t");
    if (ticket == nullptr) return InvalidArgument(err, "ticket is NULL");
    if (decision_out == nullptr) return InvalidArgument(err, "decision_out is NULL");
    smg::Outcome o = smg::Outcome::Cancelled();
    if (smg_code_t c = smg::capi::ToOutcome(outcome, "outcome", &o, err); c != SMG_OK) return c;
    smg::RetryDecision decision;
    if (smg::Ticket* t = smg::capi::LiveTicket(ticket); t != nullptr) {
      decision = box->state.Finish(*t, o);
      smg::capi::ClearTicket(ticket);
    } else if (smg::capi::StorageOf(ticket)->state == 0) {
      smg::Ticket finished;  // the attempt was finished already
      decision = box->state.Finish(finished, o);
    } else {
      return InvalidArgument(err, "ticket storage is not initialized (use SMG_TICKET_INIT)");
    }
    decision_out->verdict = static_cast<uint8_t>(decision.verdict);
    decision_out->attempts = decision.attempts;
    decision_out->backoff_ns = absl::ToInt64Nanoseconds(decision.backoff);
    return SMG_OK;
  });
}

smg_code_t smg_router_retry_backoff(smg_router_t* router, uint32_t retry,
                                    int64_t* backoff_ns_out) {
  return Guarded(nullptr, [&]() -> smg_code_t {
    smg::capi::RouterBox* box = Get(router);
    if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
    if (backoff_ns_out == nullptr) return SMG_ERR_INVALID_ARGUMENT;
    const absl::Duration d = box->router->retry_policy().Backoff(retry, box->router->random());
    *backoff_ns_out = absl::ToInt64Nanoseconds(d);
    return SMG_OK;
  });
}

}  // extern "C"
