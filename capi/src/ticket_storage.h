// File: capi/src/ticket_storage.h
//
// smg_ticket_t is caller-owned storage holding a C++ smg::Ticket, so that a
// selection allocates nothing. The first word says whether the storage holds
// a live ticket; the ticket itself is placement-constructed after it. The
// C++ Ticket is two shared_ptrs, scalars and a TenantReservation (two more
// shared_ptrs): bitwise relocatable, so hosts may move the storage with
// memcpy as the header allows.
#ifndef SMGCORE_CAPI_TICKET_STORAGE_H_
#define SMGCORE_CAPI_TICKET_STORAGE_H_

#include <cstdint>
#include <new>
#include <utility>

#include "convert.h"
#include "smgcore/smgcore_c.h"
#include "smgcore/ticket.h"

namespace smg::capi {

// kTicketLive
//
// The state word of storage holding an unfinished ticket ("SMGTICKT"); 0
// means empty, anything else is uninitialized storage.
inline constexpr uint64_t kTicketLive = 0x534d475449434b54;

// TicketStorage
//
// The layout of smg_ticket_t's opaque words.
struct TicketStorage {
  uint64_t state;
  alignas(Ticket) unsigned char bytes[sizeof(Ticket)];
};
static_assert(sizeof(TicketStorage) <= sizeof(smg_ticket_t), "smg_ticket_t is too small");
static_assert(alignof(TicketStorage) <= alignof(smg_ticket_t), "smg_ticket_t is under-aligned");

inline TicketStorage* StorageOf(smg_ticket_t* ticket) {
  return reinterpret_cast<TicketStorage*>(ticket);
}
inline const TicketStorage* StorageOf(const smg_ticket_t* ticket) {
  return reinterpret_cast<const TicketStorage*>(ticket);
}

// LiveTicket()
//
// The ticket held by live storage, else null.
inline Ticket* LiveTicket(smg_ticket_t* ticket) {
  TicketStorage* s = StorageOf(ticket);
  if (s->state != kTicketLive) return nullptr;
  return std::launder(reinterpret_cast<Ticket*>(s->bytes));
}
inline const Ticket* LiveTicket(const smg_ticket_t* ticket) {
  const TicketStorage* s = StorageOf(ticket);
  if (s->state != kTicketLive) return nullptr;
  return std::launder(reinterpret_cast<const Ticket*>(s->bytes));
}

// EmplaceTicket()
//
// Moves `t` into empty storage.
inline Ticket* EmplaceTicket(smg_ticket_t* ticket, Ticket&& t) {
  TicketStorage* s = StorageOf(ticket);
  Ticket* placed = new (s->bytes) Ticket(std::move(t));
  s->state = kTicketLive;
  return placed;
}

// ClearTicket()
//
// Destroys the ticket in live storage and marks it empty.
inline void ClearTicket(smg_ticket_t* ticket) {
  TicketStorage* s = StorageOf(ticket);
  std::launder(reinterpret_cast<Ticket*>(s->bytes))->~Ticket();
  s->state = 0;
}

// FillSelection()
inline void FillSelection(const Ticket& t, smg_selection_t* out) {
  const Worker& primary = t.worker();
  out->worker_id = primary.id();
  out->url = Str(primary.url());
  if (t.is_pd()) {
    out->decode_worker_id = t.decode().id();
    out->decode_url = Str(t.decode().url());
    out->bootstrap_host = Str(t.bootstrap_host());
    out->bootstrap_port = t.bootstrap_port().value_or(0);
    out->is_pd = 1;
    out->bootstrap_room = t.bootstrap_room();
  } else {
    out->decode_worker_id = 0;
    out->decode_url = smg_str_t{"", 0};
    out->bootstrap_host = smg_str_t{"", 0};
    out->bootstrap_port = 0;
    out->is_pd = 0;
    out->bootstrap_room = 0;
  }
}

}  // namespace smg::capi

#endif  // SMGCORE_CAPI_TICKET_STORAGE_H_
