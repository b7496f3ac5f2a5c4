#include "smgcore/ticket.h"

#include <utility>

namespace smg {

Ticket::Ticket(WorkerPtr primary, uint32_t primary_probe, WorkerPtr decode,
               uint32_t decode_probe, uint64_t room, TenantReservation reservation)
    : primary_(std::move(primary)),
      decode_(std::move(decode)),
      bootstrap_room_(room),
      primary_probe_(primary_probe),
      decode_probe_(decode_probe),
      reservation_(std::move(reservation)) {
  primary_->AcquireLoad();
  if (decode_) decode_->AcquireLoad();
}

Ticket::Ticket(Ticket&& other) noexcept
    : primary_(std::move(other.primary_)),
      decode_(std::move(other.decode_)),
      bootstrap_room_(other.bootstrap_room_),
      primary_probe_(other.primary_probe_),
      decode_probe_(other.decode_probe_),
      finished_(other.finished_),
      settled_(other.settled_),
      reservation_(std::move(other.reservation_)) {
  other.finished_ = true;
}

Ticket& Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    if (!finished()) Release(Outcome::Cancelled(), Outcome::Cancelled());
    primary_ = std::move(other.primary_);
    decode_ = std::move(other.decode_);
    bootstrap_room_ = other.bootstrap_room_;
    primary_probe_ = other.primary_probe_;
    decode_probe_ = other.decode_probe_;
    finished_ = other.finished_;
    settled_ = other.settled_;
    reservation_ = std::move(other.reservation_);
    other.finished_ = true;
  }
  return *this;
}

Ticket::~Ticket() {
  if (!finished()) Release(Outcome::Cancelled(), Outcome::Cancelled());
}

absl::Status Ticket::Finish(Outcome outcome) { return Finish(outcome, outcome); }

absl::Status Ticket::Finish(Outcome prefill_outcome, Outcome decode_outcome) {
  if (finished()) {
    return absl::FailedPreconditionError(primary_ == nullptr ? "ticket is empty"
                                                             : "ticket already finished");
  }
  Release(prefill_outcome, decode_outcome);
  return absl::OkStatus();
}

absl::Status Ticket::SettleTokens(uint64_t actual_tokens) {
  if (settled_) return absl::FailedPreconditionError("ticket's tokens already settled");
  settled_ = true;
  if (!reservation_.active()) return absl::OkStatus();
  return reservation_.Settle(actual_tokens);
}

void Ticket::Release(Outcome primary, Outcome decode) {
  finished_ = true;
  primary_->ReleaseLoad(primary, primary_probe_);
  if (decode_) decode_->ReleaseLoad(decode, decode_probe_);
}

}  // namespace smg
