// The router with circuit breakers and health: open or unready workers are
// never selected, half-open workers get a bounded number of probes, and
// transitions reach the host's callbacks.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "smgcore/router.h"

namespace smg {

// Reaches behind the router to make its snapshot stale on purpose: trips a
// worker's breaker without the republish that normally follows.
class RouterTestPeer {
 public:
  static void TripSilently(Worker& w) {
    for (uint32_t i = 0; i < 1000 && w.breaker_.state() != BreakerState::kOpen; ++i) {
      w.breaker_.Record(BreakerResult::kFailure);
    }
  }
};

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

WorkerSpec Spec(const std::string& url, WorkerType type = WorkerType::kRegular) {
  WorkerSpec s;
  s.url = url;
  s.type = type;
  return s;
}

struct Recorded {
  WorkerId worker;
  int from;
  int to;
  friend bool operator==(const Recorded&, const Recorded&) = default;
};

class RouterResilienceTest : public ::testing::Test {
 protected:
  // Random policy, a breaker opening after 3 consecutive failures for 10 s,
  // closing after 2 probe successes, 1 probe at a time.
  RouterOptions Options() {
    RouterOptions o;
    o.policies.policy.kind = PolicyKind::kRandom;
    o.circuit_breaker.consecutive_failures = 3;
    o.circuit_breaker.failure_rate_threshold = 0;
    o.circuit_breaker.open_duration = absl::Seconds(10);
    o.circuit_breaker.success_threshold = 2;
    o.circuit_breaker.half_open_max_probes = 1;
    o.on_breaker_transition = [this](const Worker& w, BreakerTransition t) {
      absl::MutexLock lock(&mu_);
      breaker_events_.push_back({w.id(), static_cast<int>(t.from), static_cast<int>(t.to)});
    };
    o.on_health_transition = [this](const Worker& w, HealthTransition t) {
      absl::MutexLock lock(&mu_);
      health_events_.push_back({w.id(), static_cast<int>(t.from), static_cast<int>(t.to)});
    };
    return o;
  }
  void Make(RouterOptions o) {
    absl::StatusOr<std::unique_ptr<Router>> r = Router::Create(std::move(o), {&clock_, &random_});
    ASSERT_TRUE(r.ok()) << r.status();
    router_ = *std::move(r);
  }
  WorkerId Add(WorkerSpec spec) {
    absl::StatusOr<WorkerId> id = router_->AddWorker(spec);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or(0);
  }
  // Routes `n` requests, finishing each with `outcome`; returns how many
  // went to `id`.
  int Route(int n, Outcome outcome, WorkerId id) {
    int hits = 0;
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<Ticket> t = router_->Select({});
      EXPECT_TRUE(t.ok()) << t.status();
      if (!t.ok()) continue;
      hits += t->worker().id() == id;
      EXPECT_TRUE(t->Finish(outcome).ok());
    }
    return hits;
  }
  // Fails requests on `id` until its breaker opens.
  void TripBreaker(WorkerId id) {
    WorkerPtr w = *router_->GetWorker(id);
    for (int i = 0; i < 1000 && w->breaker_state() != BreakerState::kOpen; ++i) {
      absl::StatusOr<Ticket> t = router_->Select({});
      ASSERT_TRUE(t.ok()) << t.status();
      ASSERT_TRUE(t->Finish(t->worker().id() == id ? Outcome::Status(503) : Outcome::Ok()).ok());
    }
    ASSERT_EQ(w->breaker_state(), BreakerState::kOpen);
  }
  std::vector<Recorded> breaker_events() {
    absl::MutexLock lock(&mu_);
    return breaker_events_;
  }
  std::vector<Recorded> health_events() {
    absl::MutexLock lock(&mu_);
    return health_events_;
  }

  ManualClock clock_{5'000'000'000};
  SeededRandom random_{11};
  std::unique_ptr<Router> router_;
  absl::Mutex mu_;
  std::vector<Recorded> breaker_events_ ABSL_GUARDED_BY(mu_);
  std::vector<Recorded> health_events_ ABSL_GUARDED_BY(mu_);
};

constexpr int kClosed = 0, kOpen = 1, kHalfOpen = 2;

TEST_F(RouterResilienceTest, AnOpenBreakerTakesTheWorkerOutOfRotation) {
  Make(Options());
  const WorkerId a = Add(Spec("http://a:1"));
  const WorkerId b = Add(Spec("http://b:1"));
  TripBreaker(a);
  EXPECT_THAT(breaker_events(), ElementsAre(Recorded{a, kClosed, kOpen}));
  EXPECT_EQ(Route(200, Outcome::Ok(), a), 0);
  EXPECT_EQ(router_->GetModelStats("default")->available[0], 1u);
  (void)b;
}

TEST_F(RouterResilienceTest, ClientErrorsNeverTripABreaker) {
  Make(Options());
  const WorkerId a = Add(Spec("http://a:1"));
  Route(500, Outcome::Status(400), a);
  Route(100, Outcome::Status(404), a);
  EXPECT_EQ((*router_->GetWorker(a))->breaker_state(), BreakerState::kClosed);
  EXPECT_EQ((*router_->GetWorker(a))->failures(), 0u);
  EXPECT_EQ((*router_->GetWorker(a))->successes(), 600u);
}

TEST_F(RouterResilienceTest, WhenEveryWorkerIsOpenTheErrorSaysSo) {
  Make(Options());
  const WorkerId a = Add(Spec("http://a:1"));
  TripBreaker(a);
  absl::Status s = router_->Select({}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("1 with an open circuit breaker"));
}

TEST_F(RouterResilienceTest, HalfOpenGetsBoundedProbesThenCloses) {
  Make(Options());
  const WorkerId a = Add(Spec("http://a:1"));
  Add(Spec("http://b:1"));
  TripBreaker(a);
  clock_.Advance(absl::Seconds(10));
  // The first selection after the deadline reopens the worker for probes;
  // while one probe is out, no other request goes to it.
  std::vector<Ticket> held;
  Ticket probe;
  for (int i = 0; i < 200; ++i) {
    absl::StatusOr<Ticket> t = router_->Select({});
    ASSERT_TRUE(t.ok());
    if (t->worker().id() == a) {
      ASSERT_TRUE(probe.finished()) << "second concurrent probe on a half-open worker";
      probe = *std::move(t);
    } else {
      held.push_back(*std::move(t));
    }
  }
  ASSERT_FALSE(probe.finished()) << "the half-open worker never got its probe";
  EXPECT_EQ((*router_->GetWorker(a))->breaker_state(), BreakerState::kHalfOpen);
  ASSERT_TRUE(probe.Finish(Outcome::Ok()).ok());
  // The slot is free again: a second probe success closes the breaker.
  for (int i = 0; i < 1000 && (*router_->GetWorker(a))->breaker_state() != BreakerState::kClosed;
       ++i) {
    absl::StatusOr<Ticket> t = router_->Select({});
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(t->Finish(Outcome::Ok()).ok());
  }
  EXPECT_THAT(breaker_events(), ElementsAre(Recorded{a, kClosed, kOpen},
                                            Recorded{a, kOpen, kHalfOpen},
                                            Recorded{a, kHalfOpen, kClosed}));
  EXPECT_GT(Route(400, Outcome::Ok(), a), 100);  // back in rotation
}

TEST_F(RouterResilienceTest, AFailedProbeReopensForLonger) {
  Make(Options());
  const WorkerId a = Add(Spec("http://a:1"));
  TripBreaker(a);
  clock_.Advance(absl::Seconds(10));
  router_->RunMaintenance();  // half-open without waiting for a request
  EXPECT_EQ((*router_->GetWorker(a))->breaker_state(), BreakerState::kHalfOpen);
  absl::StatusOr<Ticket> t = router_->Select({});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t->Finish(Outcome::TransportError()).ok());
  WorkerPtr w = *router_->GetWorker(a);
  EXPECT_EQ(w->breaker_state(), BreakerState::kOpen);
  EXPECT_EQ(w->breaker().open_until_nanos() - clock_.NowNanos(), 20'000'000'000);
  EXPECT_EQ(router_->Select({}).status().code(), absl::StatusCode::kUnavailable);
  clock_.Advance(absl::Seconds(19));
  EXPECT_EQ(router_->Select({}).status().code(), absl::StatusCode::kUnavailable);
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(router_->Select({}).ok());  // lazily half-open again
}

TEST_F(RouterResilienceTest, PerWorkerClassifierAndBreakerOverrides) {
  Make(Options());
  WorkerSpec tolerant = Spec("http://tolerant:1");
  tolerant.failure_classifier = *FailureClassifier::Create({500});  // 503 is warm-up, fine
  WorkerSpec touchy = Spec("http://touchy:1");
  touchy.circuit_breaker = Options().circuit_breaker;
  touchy.circuit_breaker->consecutive_failures = 1;
  const WorkerId t1 = Add(tolerant);
  Route(50, Outcome::Status(503), t1);
  EXPECT_EQ((*router_->GetWorker(t1))->breaker_state(), BreakerState::kClosed);
  ASSERT_TRUE(router_->RemoveWorker(t1).ok());
  const WorkerId t2 = Add(touchy);
  absl::StatusOr<Ticket> t = router_->Select({});
  ASSERT_TRUE(t->Finish(Outcome::Status(503)).ok());
  EXPECT_EQ((*router_->GetWorker(t2))->breaker_state(), BreakerState::kOpen);

  WorkerSpec bad = Spec("http://bad:1");
  bad.circuit_breaker = CircuitBreakerOptions{};
  bad.circuit_breaker->success_threshold = 0;
  absl::Status s = router_->AddWorker(bad).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("success_threshold"));
}

TEST_F(RouterResilienceTest, DisabledBreakersNeverShedWorkers) {
  RouterOptions o = Options();
  o.circuit_breaker.enabled = false;
  Make(o);
  const WorkerId a = Add(Spec("http://a:1"));
  Route(100, Outcome::Status(500), a);
  EXPECT_EQ(Route(10, Outcome::Ok(), a), 10);
}

TEST_F(RouterResilienceTest, ProbesDriveHealthAndAFailedWorkerRejoins) {
  Make(Options());
  WorkerSpec spec = Spec("http://a:1");
  spec.health = WorkerHealth::kPending;
  const WorkerId a = Add(spec);
  EXPECT_EQ(router_->Select({}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(*router_->ReportProbe(a, true), WorkerHealth::kPending);
  EXPECT_EQ(*router_->ReportProbe(a, true), WorkerHealth::kReady);
  EXPECT_TRUE(router_->Select({}).ok());
  for (int i = 0; i < 2; ++i) EXPECT_EQ(*router_->ReportProbe(a, false), WorkerHealth::kReady);
  EXPECT_EQ(*router_->ReportProbe(a, false), WorkerHealth::kNotReady);
  absl::Status s = router_->Select({}).status();
  EXPECT_THAT(s.message(), HasSubstr("1 not ready"));
  for (int i = 3; i < 9; ++i) router_->ReportProbe(a, false).IgnoreError();
  EXPECT_EQ((*router_->GetWorker(a))->health(), WorkerHealth::kFailed);
  // The pod restarts on the same address and passes again.
  router_->ReportProbe(a, true).IgnoreError();
  EXPECT_EQ(*router_->ReportProbe(a, true), WorkerHealth::kReady);
  EXPECT_TRUE(router_->Select({}).ok());
  constexpr int kPending = 0, kReady = 1, kNotReady = 2, kFailed = 3;
  EXPECT_THAT(health_events(),
              ElementsAre(Recorded{a, kPending, kReady}, Recorded{a, kReady, kNotReady},
                          Recorded{a, kNotReady, kFailed}, Recorded{a, kFailed, kReady}));
  WorkerPtr w = *router_->GetWorker(a);
  EXPECT_EQ(w->probes_passed(), 4u);
  EXPECT_EQ(w->probes_failed(), 9u);
  EXPECT_EQ(w->health_transitions_to(WorkerHealth::kReady), 2u);
  EXPECT_EQ(router_->ReportProbe(999, true).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RouterResilienceTest, ReturningToReadyResetsTheBreaker) {
  Make(Options());
  const WorkerId a = Add(Spec("http://a:1"));
  TripBreaker(a);
  ASSERT_TRUE(router_->SetHealth(a, WorkerHealth::kNotReady).ok());
  ASSERT_TRUE(router_->SetHealth(a, WorkerHealth::kReady).ok());
  EXPECT_EQ((*router_->GetWorker(a))->breaker_state(), BreakerState::kClosed);
  EXPECT_THAT(breaker_events(),
              ElementsAre(Recorded{a, kClosed, kOpen}, Recorded{a, kOpen, kClosed}));
  EXPECT_TRUE(router_->Select({}).ok());
}

TEST_F(RouterResilienceTest, DrainingWorkersGetNoNewRequestsButFinishTheirTickets) {
  Make(Options());
  const WorkerId a = Add(Spec("http://a:1"));
  const WorkerId b = Add(Spec("http://b:1"));
  std::vector<Ticket> on_a;
  for (int i = 0; i < 50; ++i) {
    absl::StatusOr<Ticket> t = router_->Select({});
    if (t->worker().id() == a) on_a.push_back(*std::move(t));
  }
  ASSERT_FALSE(on_a.empty());
  ASSERT_TRUE(router_->DrainWorker(a).ok());
  EXPECT_EQ(Route(100, Outcome::Ok(), a), 0);
  WorkerPtr w = *router_->GetWorker(a);
  EXPECT_EQ(w->in_flight(), static_cast<int64_t>(on_a.size()));
  for (Ticket& t : on_a) ASSERT_TRUE(t.Finish(Outcome::Ok()).ok());
  EXPECT_EQ(w->in_flight(), 0);
  EXPECT_EQ(w->successes(), on_a.size());
  // Probes do not bring a draining worker back.
  router_->ReportProbe(a, true).IgnoreError();
  router_->ReportProbe(a, true).IgnoreError();
  EXPECT_EQ(w->health(), WorkerHealth::kDraining);
  ASSERT_TRUE(router_->DrainWorker(b).ok());
  EXPECT_THAT(router_->Select({}).status().message(), HasSubstr("2 draining"));
  EXPECT_EQ(router_->SetHealth(a, static_cast<WorkerHealth>(9)).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RouterResilienceTest, WorkersCannotJoinDrainingOrFailed) {
  Make(Options());
  WorkerSpec s = Spec("http://a:1");
  s.health = WorkerHealth::kDraining;
  EXPECT_EQ(router_->AddWorker(s).status().code(), absl::StatusCode::kInvalidArgument);
  s.health = static_cast<WorkerHealth>(42);
  EXPECT_EQ(router_->AddWorker(s).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RouterResilienceTest, PdDecodeFailureReturnsThePrefillProbe) {
  RouterOptions o = Options();
  o.pd_mode = true;
  Make(o);
  const WorkerId p = Add(Spec("http://p:1", WorkerType::kPrefill));
  const WorkerId d = Add(Spec("http://d:1", WorkerType::kDecode));
  // Trip the prefill worker, then let it go half-open with its one probe slot.
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<Ticket> t = router_->Select({});
    ASSERT_TRUE(t->Finish(Outcome::Status(502), Outcome::Ok()).ok());
  }
  WorkerPtr pw = *router_->GetWorker(p);
  ASSERT_EQ(pw->breaker_state(), BreakerState::kOpen);
  EXPECT_EQ((*router_->GetWorker(d))->breaker_state(), BreakerState::kClosed);
  clock_.Advance(absl::Seconds(10));
  router_->RunMaintenance();
  ASSERT_TRUE(router_->DrainWorker(d).ok());
  // Prefill admits its probe, decode fails: the probe slot must come back.
  EXPECT_EQ(router_->Select({}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(pw->breaker().accepting());
  ASSERT_TRUE(router_->SetHealth(d, WorkerHealth::kReady).ok());
  absl::StatusOr<Ticket> t = router_->Select({});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->prefill().id(), p);
}

TEST_F(RouterResilienceTest, AStaleSnapshotIsCaughtAtAdmission) {
  RouterOptions o = Options();
  o.policies.policy.kind = PolicyKind::kRoundRobin;
  Make(o);
  const WorkerId a = Add(Spec("http://a:1"));
  const WorkerId b = Add(Spec("http://b:1"));
  // The published snapshot still lists a; its breaker is open.
  RouterTestPeer::TripSilently(**router_->GetWorker(a));
  EXPECT_EQ(router_->GetModelStats("default")->available[0], 2u);
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<Ticket> t = router_->Select({});
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->worker().id(), b);
  }
  EXPECT_GE((*router_->GetWorker(a))->breaker().counters().rejected, 1u);
  // With nothing else to choose, the error is Unavailable, not a crash.
  RouterTestPeer::TripSilently(**router_->GetWorker(b));
  EXPECT_EQ(router_->Select({}).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(RouterResilienceTest, TicketsMayOutliveTheRouter) {
  Make(Options());
  const WorkerId a = Add(Spec("http://a:1"));
  std::vector<Ticket> tickets;
  for (int i = 0; i < 5; ++i) tickets.push_back(*router_->Select({}));
  WorkerPtr w = *router_->GetWorker(a);
  router_.reset();
  for (Ticket& t : tickets) ASSERT_TRUE(t.Finish(Outcome::Status(503)).ok());  // trips it
  EXPECT_EQ(w->breaker_state(), BreakerState::kOpen);
  // The callback does not run for a router that is gone.
  EXPECT_TRUE(breaker_events().empty());
}

TEST_F(RouterResilienceTest, ResetCircuitBreakerRestoresTheWorker) {
  Make(Options());
  const WorkerId a = Add(Spec("http://a:1"));
  TripBreaker(a);
  ASSERT_TRUE(router_->ResetCircuitBreaker(a).ok());
  EXPECT_TRUE(router_->Select({}).ok());
  EXPECT_EQ(router_->ResetCircuitBreaker(77).code(), absl::StatusCode::kNotFound);
}

TEST_F(RouterResilienceTest, RemovedWorkersTransitionsDoNotResurrectThem) {
  Make(Options());
  const WorkerId a = Add(Spec("http://a:1"));
  Add(Spec("http://b:1"));
  absl::StatusOr<Ticket> t;
  do {
    t = router_->Select({});
  } while (t.ok() && t->worker().id() != a);
  ASSERT_TRUE(t.ok());
  std::vector<Ticket> more;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<Ticket> x;
    do {
      x = router_->Select({});
    } while (x.ok() && x->worker().id() != a);
    more.push_back(*std::move(x));
  }
  ASSERT_TRUE(router_->RemoveWorker(a).ok());
  ASSERT_TRUE(t->Finish(Outcome::Status(500)).ok());
  for (Ticket& x : more) ASSERT_TRUE(x.Finish(Outcome::Status(500)).ok());
  EXPECT_EQ(router_->worker_count(), 1u);
  EXPECT_EQ(Route(50, Outcome::Ok(), a), 0);
}

// Two threads route and fail requests while a third flips health and resets
// breakers: every error is Unavailable (never a crash or an internal error),
// and all load is returned.
TEST_F(RouterResilienceTest, ConcurrentTransitionsKeepLoadConsistent) {
  RouterOptions o = Options();
  o.on_breaker_transition = nullptr;
  o.on_health_transition = nullptr;
  Make(o);
  std::vector<WorkerId> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(Add(Spec("http://w" + std::to_string(i) + ":1")));
  std::atomic<int> finished{0};
  std::atomic<int> routed{0};
  auto route = [&](uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 5000; ++i) {
      absl::StatusOr<Ticket> t = router_->Select({});
      if (!t.ok()) {
        EXPECT_EQ(t.status().code(), absl::StatusCode::kUnavailable) << t.status();
        continue;
      }
      routed.fetch_add(1);
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      EXPECT_TRUE(t->Finish((x >> 60) < 3 ? Outcome::Status(503) : Outcome::Ok()).ok());
    }
    finished.fetch_add(1);
  };
  std::thread r1(route, 1), r2(route, 2);
  // Churn until both routing threads are done (bounded either way).
  for (int i = 0; i < 1'000'000 && finished.load() < 2; ++i) {
    const WorkerId id = ids[static_cast<size_t>(i) % ids.size()];
    router_->ReportProbe(id, i % 3 != 0).IgnoreError();
    if (i % 7 == 0) router_->ResetCircuitBreaker(id).IgnoreError();
    if (i % 50 == 0) clock_.Advance(absl::Seconds(5));
  }
  r1.join();
  r2.join();
  EXPECT_GT(routed.load(), 0);
  for (WorkerId id : ids) EXPECT_EQ((*router_->GetWorker(id))->in_flight(), 0);
}

}  // namespace
}  // namespace smg
