// File: smgcore/ticket.h
//
// A ticket is what a successful selection returns: the chosen worker (or, in
// PD mode, the prefill and decode pair with the bootstrap fields SGLang
// needs), with the request already counted as in flight on it. Finishing the
// ticket, exactly once, takes the request off the worker's load and records
// its outcome. A ticket that is destroyed unfinished finishes as cancelled,
// so load never leaks (RAII).
//
//   absl::StatusOr<smg::Ticket> t = router->Select(req);
//   if (!t.ok()) return t.status();
//   Forward(t->worker().url(), ...);
//   t->Finish(smg::Outcome::Status(200)).IgnoreError();
//
// A ticket keeps its workers alive: finishing one whose worker was removed in
// the meantime is harmless.
#ifndef SMGCORE_TICKET_H_
#define SMGCORE_TICKET_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "smgcore/outcome.h"
#include "smgcore/tenant_limiter.h"
#include "smgcore/worker.h"

namespace smg {

// Ticket
//
// Move-only. Not thread-safe: one thread at a time may use a ticket (hand it
// over between threads with a move and the host's own synchronization).
class Ticket {
 public:
  // Ticket::Ticket()
  //
  // An empty ticket: finished, no worker. Useful as a placeholder.
  Ticket() = default;
  Ticket(Ticket&& other) noexcept;
  Ticket& operator=(Ticket&& other) noexcept;
  Ticket(const Ticket&) = delete;
  Ticket& operator=(const Ticket&) = delete;
  // Ticket::~Ticket()
  //
  // Finishes an unfinished ticket as Outcome::Cancelled().
  ~Ticket();

  // Ticket::is_pd()
  //
  // True when the ticket holds a prefill/decode pair.
  bool is_pd() const { return decode_ != nullptr; }
  // Ticket::finished()
  //
  // True once Finish() ran (or for an empty or moved-from ticket).
  bool finished() const { return primary_ == nullptr || finished_; }

  // Ticket::worker()
  //
  // The chosen worker; in PD mode, the prefill worker. Requires a non-empty
  // ticket (it stays valid after Finish()).
  const Worker& worker() const { return *primary_; }
  // Ticket::worker_ptr()
  //
  // The chosen worker as a shared pointer (null for an empty ticket).
  const WorkerPtr& worker_ptr() const { return primary_; }
  // Ticket::prefill() / Ticket::decode()
  //
  // The PD pair. Require is_pd().
  const Worker& prefill() const { return *primary_; }
  const Worker& decode() const { return *decode_; }
  const WorkerPtr& decode_ptr() const { return decode_; }

  // Ticket::bootstrap_host()
  //
  // PD only: the prefill worker's host, for SGLang's `bootstrap_host`.
  const std::string& bootstrap_host() const { return primary_->bootstrap_host(); }
  // Ticket::bootstrap_port()
  //
  // PD only: the prefill worker's bootstrap port, if it declared one.
  std::optional<uint16_t> bootstrap_port() const { return primary_->bootstrap_port(); }
  // Ticket::bootstrap_room()
  //
  // PD only: a random id in [0, 2^63) that pairs the prefill and decode
  // halves of this request. 0 for regular tickets.
  uint64_t bootstrap_room() const { return bootstrap_room_; }

  // Ticket::Finish()
  //
  // Ends the request with `outcome` on every worker of the ticket: takes it
  // off their load and records it in their circuit breakers (classified by
  // each worker's FailureClassifier). Returns
  // FailedPrecondition if the ticket was already finished (nothing changes).
  absl::Status Finish(Outcome outcome);
  // Ticket::Finish(prefill, decode)
  //
  // PD form: separate outcomes for the two legs. On a regular ticket
  // `decode_outcome` is ignored.
  absl::Status Finish(Outcome prefill_outcome, Outcome decode_outcome);

  // Ticket::SettleTokens()
  //
  // With tenant limits on: charges the tenant (and the global scope) the
  // tokens the request actually consumed instead of its estimate, refunding
  // or adding the difference. May be called before or after Finish(), once;
  // a second call is FailedPrecondition, and a ticket without a tenant
  // reservation (limits off) returns OK and does nothing. Unsettled, the
  // estimate stays charged.
  absl::Status SettleTokens(uint64_t actual_tokens);

 private:
  friend class Router;
  // Takes over the admissions the router obtained (load already counted by
  // AcquireLoad() here, breaker probe slots from `*_probe`).
  Ticket(WorkerPtr primary, uint32_t primary_probe, WorkerPtr decode, uint32_t decode_probe,
         uint64_t room, TenantReservation reservation);
  void Release(Outcome primary, Outcome decode);

  WorkerPtr primary_;
  WorkerPtr decode_;
  uint64_t bootstrap_room_ = 0;
  // Breaker probe slots held (0: none), freed when the ticket finishes.
  uint32_t primary_probe_ = 0;
  uint32_t decode_probe_ = 0;
  bool finished_ = false;
  bool settled_ = false;
  // The tenant charge, when tenant limits are on.
  TenantReservation reservation_;
};

}  // namespace smg

#endif  // SMGCORE_TICKET_H_
