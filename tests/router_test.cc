// Registry, tickets and PD selection through the public Router API.
#include "smgcore/router.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "smgcore/version.h"
#include "url.h"

namespace smg {
namespace {

using ::testing::HasSubstr;

WorkerSpec Spec(std::string url, WorkerType type = WorkerType::kRegular, std::string model = "") {
  WorkerSpec s;
  s.url = std::move(url);
  s.type = type;
  s.model = std::move(model);
  return s;
}

class RouterTest : public ::testing::Test {
 protected:
  std::unique_ptr<Router> Make(RouterOptions options = {}) {
    absl::StatusOr<std::unique_ptr<Router>> r = Router::Create(std::move(options), {&clock_, &random_});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *std::move(r) : nullptr;
  }
  WorkerId Add(Router& r, WorkerSpec spec) {
    absl::StatusOr<WorkerId> id = r.AddWorker(spec);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or(kInvalidWorkerId);
  }

  ManualClock clock_;
  SeededRandom random_{42};
};

// --- Registry ---------------------------------------------------------------

TEST_F(RouterTest, AddAssignsSequentialIdsAndLooksUp) {
  auto r = Make();
  const WorkerId a = Add(*r, Spec("http://10.0.0.1:8000"));
  const WorkerId b = Add(*r, Spec("http://10.0.0.2:8000"));
  EXPECT_EQ(a, 1u);
  EXPECT_EQ(b, 2u);
  absl::StatusOr<WorkerPtr> wa = r->GetWorker(a);
  ASSERT_TRUE(wa.ok());
  EXPECT_EQ((*wa)->url(), "http://10.0.0.1:8000");
  EXPECT_EQ((*wa)->model(), "default");
  EXPECT_EQ((*wa)->bootstrap_host(), "10.0.0.1");
  absl::StatusOr<WorkerPtr> wb = r->FindWorkerByUrl("http://10.0.0.2:8000");
  ASSERT_TRUE(wb.ok());
  EXPECT_EQ((*wb)->id(), b);
  EXPECT_EQ(r->worker_count(), 2u);
}

TEST_F(RouterTest, DuplicateUrlIsAClearError) {
  auto r = Make();
  Add(*r, Spec("http://10.0.0.1:8000"));
  absl::StatusOr<WorkerId> again = r->AddWorker(Spec("http://10.0.0.1:8000", WorkerType::kDecode));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(again.status().message(), HasSubstr("http://10.0.0.1:8000"));
  EXPECT_EQ(r->worker_count(), 1u);
}

TEST_F(RouterTest, InvalidSpecsAreRejected) {
  auto r = Make();
  for (const char* url : {"", "10.0.0.1:8000", "http://", "http://:80", "http://a b",
                          "http://[::1", "://host"}) {
    EXPECT_EQ(r->AddWorker(Spec(url)).status().code(), absl::StatusCode::kInvalidArgument) << url;
  }
  WorkerSpec zero = Spec("http://w:1");
  zero.weight = 0;
  EXPECT_EQ(r->AddWorker(zero).status().code(), absl::StatusCode::kInvalidArgument);
  WorkerSpec port_on_decode = Spec("http://w:1", WorkerType::kDecode);
  port_on_decode.bootstrap_port = 8998;
  EXPECT_THAT(r->AddWorker(port_on_decode).status().message(), HasSubstr("bootstrap_port"));
  WorkerSpec bad_type = Spec("http://w:1");
  bad_type.type = static_cast<WorkerType>(7);
  EXPECT_EQ(r->AddWorker(bad_type).status().code(), absl::StatusCode::kInvalidArgument);
  WorkerSpec bad_health = Spec("http://w:1");
  bad_health.health = static_cast<WorkerHealth>(9);
  EXPECT_EQ(r->AddWorker(bad_health).status().code(), absl::StatusCode::kInvalidArgument);
  WorkerSpec long_model = Spec("http://w:1");
  long_model.model = std::string(5000, 'm');
  EXPECT_EQ(r->AddWorker(long_model).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r->worker_count(), 0u);
}

TEST_F(RouterTest, RemoveUnknownIsNotFound) {
  auto r = Make();
  EXPECT_EQ(r->RemoveWorker(17).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r->RemoveWorkerByUrl("http://nope:1").code(), absl::StatusCode::kNotFound);
  const WorkerId id = Add(*r, Spec("http://w:1"));
  EXPECT_TRUE(r->RemoveWorker(id).ok());
  EXPECT_EQ(r->RemoveWorker(id).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r->GetWorker(id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r->SetHealth(id, WorkerHealth::kNotReady).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r->SetLabels(id, {}).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r->SetWeight(id, 2).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r->SetEngineLoad(id, 0.5).code(), absl::StatusCode::kNotFound);
}

TEST_F(RouterTest, IdsAreNeverReused) {
  auto r = Make();
  const WorkerId a = Add(*r, Spec("http://w:1"));
  ASSERT_TRUE(r->RemoveWorkerByUrl("http://w:1").ok());
  const WorkerId b = Add(*r, Spec("http://w:1"));
  EXPECT_GT(b, a);
}

TEST_F(RouterTest, ListsByModelAndType) {
  auto r = Make();
  Add(*r, Spec("http://p:1", WorkerType::kPrefill, "m1"));
  Add(*r, Spec("http://d:1", WorkerType::kDecode, "m1"));
  Add(*r, Spec("http://r:1", WorkerType::kRegular, "m2"));
  Add(*r, Spec("http://r:2", WorkerType::kRegular));
  EXPECT_EQ(r->ListWorkers().size(), 4u);
  EXPECT_EQ(r->ListWorkers("m1").size(), 2u);
  ASSERT_EQ(r->ListWorkers("m1", WorkerType::kDecode).size(), 1u);
  EXPECT_EQ(r->ListWorkers("m1", WorkerType::kDecode)[0]->url(), "http://d:1");
  EXPECT_EQ(r->ListWorkers(std::nullopt, WorkerType::kRegular).size(), 2u);
  EXPECT_THAT(r->ListModels(), ::testing::ElementsAre("default", "m1", "m2"));
  ASSERT_TRUE(r->RemoveWorkerByUrl("http://r:1").ok());
  EXPECT_THAT(r->ListModels(), ::testing::ElementsAre("default", "m1"));
  EXPECT_EQ(r->GetModelStats("m2").status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<ModelStats> m1 = r->GetModelStats("m1");
  ASSERT_TRUE(m1.ok());
  EXPECT_EQ(m1->workers[static_cast<int>(WorkerType::kPrefill)], 1u);
  EXPECT_EQ(m1->workers[static_cast<int>(WorkerType::kRegular)], 0u);
}

TEST_F(RouterTest, LabelsWeightAndEngineLoadUpdate) {
  auto r = Make();
  WorkerSpec s = Spec("http://w:1");
  s.labels = {{"zone", "a"}};
  const WorkerId id = Add(*r, s);
  ASSERT_TRUE(r->SetLabels(id, {{"zone", "b"}, {"rack", "7"}}).ok());
  WorkerPtr w = *r->GetWorker(id);
  EXPECT_EQ(w->labels().at("zone"), "b");
  EXPECT_EQ(w->labels().size(), 2u);
  EXPECT_EQ(r->SetWeight(id, 0).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(r->SetWeight(id, 5).ok());
  EXPECT_EQ(w->weight(), 5u);
  EXPECT_FALSE(w->engine_load().has_value());
  ASSERT_TRUE(r->SetEngineLoad(id, 0.75).ok());
  EXPECT_EQ(w->engine_load(), 0.75);
  EXPECT_EQ(r->SetEngineLoad(id, -1.0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r->SetEngineLoad(id, std::nan("")).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(r->SetEngineLoad(id, std::nullopt).ok());
  EXPECT_FALSE(w->engine_load().has_value());
}

TEST_F(RouterTest, ReplaceWorkerSwapsInOnePublication) {
  auto r = Make();
  const WorkerId old_id = Add(*r, Spec("http://w:1"));
  WorkerPtr old = *r->GetWorker(old_id);
  WorkerSpec bad = Spec("http://w:1");
  bad.weight = 0;
  EXPECT_FALSE(r->ReplaceWorker(bad).ok());
  EXPECT_FALSE(old->removed()) << "a rejected replacement must not remove the old worker";
  WorkerSpec next = Spec("http://w:1");
  next.weight = 3;
  absl::StatusOr<WorkerId> new_id = r->ReplaceWorker(next);
  ASSERT_TRUE(new_id.ok());
  EXPECT_NE(*new_id, old_id);
  EXPECT_TRUE(old->removed());
  EXPECT_EQ((*r->FindWorkerByUrl("http://w:1"))->weight(), 3u);
  EXPECT_EQ(r->worker_count(), 1u);
  // Replacing an unknown URL simply adds it.
  EXPECT_TRUE(r->ReplaceWorker(Spec("http://w:2")).ok());
  EXPECT_EQ(r->worker_count(), 2u);
}

// --- Selection and health ---------------------------------------------------

TEST_F(RouterTest, SelectErrorsSayWhatIsMissing) {
  auto r = Make();
  RouteRequest req;
  EXPECT_EQ(r->Select(req).status().code(), absl::StatusCode::kNotFound);
  req.model = "other";
  Add(*r, Spec("http://w:1"));
  absl::Status s = r->Select(req).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("other"));
  req.model = "";
  const WorkerId id = (*r->FindWorkerByUrl("http://w:1"))->id();
  ASSERT_TRUE(r->SetHealth(id, WorkerHealth::kNotReady).ok());
  s = r->Select(req).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("1 not ready"));
  ASSERT_TRUE(r->SetHealth(id, WorkerHealth::kReady).ok());
  EXPECT_TRUE(r->Select(req).ok());
}

TEST_F(RouterTest, UnhealthyWorkersAreNeverSelected) {
  auto r = Make();
  std::vector<WorkerId> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(Add(*r, Spec("http://w:" + std::to_string(i + 1))));
  ASSERT_TRUE(r->SetHealth(ids[1], WorkerHealth::kNotReady).ok());
  ASSERT_TRUE(r->SetHealth(ids[3], WorkerHealth::kNotReady).ok());
  absl::flat_hash_set<WorkerId> seen;
  for (int i = 0; i < 40; ++i) {
    absl::StatusOr<Ticket> t = r->Select({});
    ASSERT_TRUE(t.ok());
    seen.insert(t->worker().id());
  }
  EXPECT_EQ(seen, (absl::flat_hash_set<WorkerId>{ids[0], ids[2]}));
  WorkerSpec starts_down = Spec("http://w:9");
  starts_down.health = WorkerHealth::kNotReady;
  const WorkerId down = Add(*r, starts_down);
  for (int i = 0; i < 20; ++i) EXPECT_NE(r->Select({})->worker().id(), down);
}

// --- Tickets ----------------------------------------------------------------

TEST(OutcomeTest, ClassifiesLikeSmg) {
  for (int status : {408, 429, 500, 502, 503, 504}) {
    EXPECT_TRUE(Outcome::Status(status).IsFailure()) << status;
  }
  for (int status : {200, 201, 204, 301, 400, 401, 403, 404, 413, 422, 501}) {
    EXPECT_TRUE(Outcome::Status(status).IsSuccess()) << status;
  }
  EXPECT_TRUE(Outcome::TransportError().IsFailure());
  EXPECT_FALSE(Outcome::Cancelled().IsFailure());
  EXPECT_FALSE(Outcome::Cancelled().IsSuccess());
}

TEST_F(RouterTest, TicketCountsLoadUntilFinished) {
  auto r = Make();
  const WorkerId id = Add(*r, Spec("http://w:1"));
  WorkerPtr w = *r->GetWorker(id);
  absl::StatusOr<Ticket> t1 = r->Select({});
  absl::StatusOr<Ticket> t2 = r->Select({});
  ASSERT_TRUE(t1.ok() && t2.ok());
  EXPECT_EQ(w->in_flight(), 2);
  EXPECT_FALSE(t1->finished());
  EXPECT_TRUE(t1->Finish(Outcome::Status(200)).ok());
  EXPECT_TRUE(t1->finished());
  EXPECT_EQ(t1->Finish(Outcome::Status(200)).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(t2->Finish(Outcome::Status(503)).ok());
  EXPECT_EQ(w->in_flight(), 0);
  EXPECT_EQ(w->requests_served(), 2u);
  EXPECT_EQ(w->successes(), 1u);
  EXPECT_EQ(w->failures(), 1u);
  // A client error is not the worker's failure.
  ASSERT_TRUE(r->Select({})->Finish(Outcome::Status(400)).ok());
  EXPECT_EQ(w->failures(), 1u);
  EXPECT_EQ(w->successes(), 2u);
}

TEST_F(RouterTest, UnfinishedTicketFinishesAsCancelledOnDestruction) {
  auto r = Make();
  WorkerPtr w = *r->GetWorker(Add(*r, Spec("http://w:1")));
  {
    absl::StatusOr<Ticket> t = r->Select({});
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(w->in_flight(), 1);
    Ticket moved = *std::move(t);
    EXPECT_TRUE(t->finished()) << "a moved-from ticket is empty";
    EXPECT_EQ(t->Finish(Outcome::Ok()).code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(w->in_flight(), 1);
    Ticket assigned;
    assigned = std::move(moved);
    EXPECT_EQ(w->in_flight(), 1);
  }
  EXPECT_EQ(w->in_flight(), 0);
  EXPECT_EQ(w->requests_served(), 1u);
  EXPECT_EQ(w->successes() + w->failures(), 0u);
}

TEST_F(RouterTest, TicketOfRemovedWorkerFinishesHarmlessly) {
  auto r = Make();
  const WorkerId id = Add(*r, Spec("http://w:1"));
  absl::StatusOr<Ticket> t = r->Select({});
  ASSERT_TRUE(t.ok());
  WorkerPtr w = t->worker_ptr();
  ASSERT_TRUE(r->RemoveWorker(id).ok());
  EXPECT_TRUE(w->removed());
  EXPECT_EQ(t->worker().url(), "http://w:1");
  EXPECT_TRUE(t->Finish(Outcome::Ok()).ok());
  EXPECT_EQ(w->in_flight(), 0);
}

TEST(TicketTest, EmptyTicketIsFinished) {
  Ticket t;
  EXPECT_TRUE(t.finished());
  EXPECT_EQ(t.Finish(Outcome::Ok()).code(), absl::StatusCode::kFailedPrecondition);
}

// --- Prefill-decode ---------------------------------------------------------

class PdRouterTest : public RouterTest {
 protected:
  std::unique_ptr<Router> MakePd() {
    RouterOptions o;
    o.pd_mode = true;
    o.policies.prefill = PolicyConfig{.kind = PolicyKind::kRoundRobin};
    o.policies.decode = PolicyConfig{.kind = PolicyKind::kPowerOfTwo};
    return Make(std::move(o));
  }
  WorkerSpec Prefill(std::string url, std::optional<uint16_t> port) {
    WorkerSpec s = Spec(std::move(url), WorkerType::kPrefill);
    s.bootstrap_port = port;
    return s;
  }
};

TEST_F(PdRouterTest, SelectsAPairWithBootstrapFields) {
  auto r = MakePd();
  Add(*r, Prefill("http://10.1.0.1:30000", 8998));
  Add(*r, Prefill("http://[fd00::2]:30000", std::nullopt));
  Add(*r, Spec("http://10.2.0.1:30000", WorkerType::kDecode));
  Add(*r, Spec("http://10.2.0.2:30000", WorkerType::kDecode));
  Add(*r, Spec("http://10.3.0.1:30000", WorkerType::kRegular));
  absl::flat_hash_set<std::string> prefill_hosts;
  absl::flat_hash_set<uint64_t> rooms;
  for (int i = 0; i < 16; ++i) {
    absl::StatusOr<Ticket> t = r->Select({.text = "hello"});
    ASSERT_TRUE(t.ok()) << t.status();
    ASSERT_TRUE(t->is_pd());
    EXPECT_EQ(t->prefill().type(), WorkerType::kPrefill);
    EXPECT_EQ(t->decode().type(), WorkerType::kDecode);
    EXPECT_EQ(t->bootstrap_host(), t->prefill().bootstrap_host());
    if (t->bootstrap_host() == "10.1.0.1") {
      EXPECT_EQ(t->bootstrap_port(), 8998);
    } else {
      EXPECT_EQ(t->bootstrap_host(), "fd00::2");
      EXPECT_FALSE(t->bootstrap_port().has_value());
    }
    EXPECT_LT(t->bootstrap_room(), uint64_t{1} << 63);
    prefill_hosts.insert(t->bootstrap_host());
    rooms.insert(t->bootstrap_room());
    EXPECT_EQ(t->prefill().in_flight(), 1);
    EXPECT_EQ(t->decode().in_flight(), 1);
    ASSERT_TRUE(t->Finish(Outcome::Ok(), Outcome::Status(502)).ok());
  }
  EXPECT_EQ(prefill_hosts.size(), 2u) << "round robin alternates the prefill workers";
  EXPECT_EQ(rooms.size(), 16u);
  const WorkerPtr regular = *r->FindWorkerByUrl("http://10.3.0.1:30000");
  EXPECT_EQ(regular->requests_served(), 0u) << "PD mode never routes to regular workers";
  uint64_t decode_failures = 0;
  for (const WorkerPtr& d : r->ListWorkers(std::nullopt, WorkerType::kDecode)) {
    decode_failures += d->failures();
  }
  EXPECT_EQ(decode_failures, 16u);
}

TEST_F(PdRouterTest, RoomsAreDeterministicWithASeededSource) {
  auto first = MakePd();
  Add(*first, Prefill("http://p:1", 1));
  Add(*first, Spec("http://d:1", WorkerType::kDecode));
  const uint64_t room = first->Select({})->bootstrap_room();
  SeededRandom again(42);
  auto second = *Router::Create(first->options(), {&clock_, &again});
  Add(*second, Prefill("http://p:1", 1));
  Add(*second, Spec("http://d:1", WorkerType::kDecode));
  EXPECT_EQ(second->Select({})->bootstrap_room(), room);
}

TEST_F(PdRouterTest, ErrorsNameTheMissingLeg) {
  auto r = MakePd();
  Add(*r, Spec("http://d:1", WorkerType::kDecode));
  absl::Status s = r->Select({}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("prefill"));
  const WorkerId p = Add(*r, Prefill("http://p:1", 8998));
  ASSERT_TRUE(r->SetHealth(p, WorkerHealth::kNotReady).ok());
  s = r->Select({}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("no available prefill worker"));
  ASSERT_TRUE(r->SetHealth(p, WorkerHealth::kReady).ok());
  ASSERT_TRUE(r->RemoveWorkerByUrl("http://d:1").ok());
  s = r->Select({}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("decode"));
  // A failed selection leaves no load behind.
  EXPECT_EQ((*r->GetWorker(p))->in_flight(), 0);
}

// --- Concurrency ------------------------------------------------------------

// Two threads route while a third adds and removes workers. A selection that
// starts after RemoveWorker() returned must never return the removed worker.
TEST_F(RouterTest, RemovedWorkersAreNeverSelectedAfterRemoval) {
  for (PolicyKind kind : {PolicyKind::kRoundRobin, PolicyKind::kCacheAware,
                          PolicyKind::kConsistentHash, PolicyKind::kPowerOfTwo}) {
    RouterOptions o;
    o.policies.policy.kind = kind;
    auto r = Make(o);
    constexpr int kStable = 3;
    constexpr int kChurn = 200;
    for (int i = 0; i < kStable; ++i) Add(*r, Spec("http://stable:" + std::to_string(i + 1)));
    // removed[id] becomes true once RemoveWorker(id) has returned.
    std::vector<std::atomic<bool>> removed(kStable + kChurn + 2);
    std::atomic<bool> done{false};
    std::atomic<int> violations{0};
    std::atomic<int> selections{0};

    auto route = [&](int thread) {
      const std::string prompt = "shared system prompt for thread " + std::to_string(thread);
      while (!done.load(std::memory_order_acquire)) {
        std::vector<WorkerId> gone;
        for (size_t id = 0; id < removed.size(); ++id) {
          if (removed[id].load(std::memory_order_acquire)) gone.push_back(static_cast<WorkerId>(id));
        }
        absl::StatusOr<Ticket> t = r->Select({.text = prompt, .routing_key = prompt});
        if (!t.ok()) continue;
        for (WorkerId id : gone) {
          if (t->worker().id() == id) violations.fetch_add(1);
        }
        selections.fetch_add(1);
      }
    };
    std::thread a(route, 0), b(route, 1);
    // Churn only once routing runs: on a loaded machine the churn could
    // otherwise finish before either routing thread is scheduled.
    while (selections.load() < 2) std::this_thread::yield();
    for (int i = 0; i < kChurn; ++i) {
      const WorkerId id = Add(*r, Spec("http://churn:" + std::to_string(i + 1)));
      // No ASSERT here: returning early would leave the routing threads running.
      if (id >= removed.size() || !r->RemoveWorker(id).ok()) {
        ADD_FAILURE() << "churn worker " << id << " could not be added and removed";
        break;
      }
      removed[id].store(true, std::memory_order_release);
    }
    done.store(true, std::memory_order_release);
    a.join();
    b.join();
    EXPECT_EQ(violations.load(), 0) << PolicyKindName(kind);
    EXPECT_GT(selections.load(), 0);
    EXPECT_EQ(r->worker_count(), static_cast<size_t>(kStable));
  }
}

// --- Helpers ----------------------------------------------------------------

TEST(UrlTest, HostOfUrl) {
  EXPECT_EQ(*HostOfUrl("http://10.0.0.7:30000"), "10.0.0.7");
  EXPECT_EQ(*HostOfUrl("http://10.0.0.7:30000/v1/x?y#z"), "10.0.0.7");
  EXPECT_EQ(*HostOfUrl("https://prefill-0.svc"), "prefill-0.svc");
  EXPECT_EQ(*HostOfUrl("grpc://[::1]:8000"), "::1");
  EXPECT_EQ(*HostOfUrl("http://user:pw@host:1/"), "host");
  EXPECT_FALSE(HostOfUrl("http://host\x01:1").ok());
  EXPECT_FALSE(HostOfUrl(std::string(5000, 'a')).ok());
}

TEST(VersionTest, MacrosAgree) {
  EXPECT_EQ(SMGCORE_VERSION_NUMBER,
            SMGCORE_VERSION_MAJOR * 10000 + SMGCORE_VERSION_MINOR * 100 + SMGCORE_VERSION_PATCH);
  EXPECT_GE(SMGCORE_ABI_VERSION, 1);
}

TEST(OptionsTest, RouterOptionsAreValidated) {
  RouterOptions o;
  o.default_model = "";
  EXPECT_EQ(Router::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  RouterOptions bad_model;
  bad_model.model_policies["m"].decode = PolicyConfig{.kind = PolicyKind::kCacheAware};
  bad_model.model_policies["m"].decode->cache_aware.cache_threshold = -0.1;
  absl::Status s = Router::Create(bad_model).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("model_policies[m].decode"));
  EXPECT_THAT(s.message(), HasSubstr("cache_threshold"));
  EXPECT_EQ(ParsePolicyKind("consistent_hashing").value(), PolicyKind::kConsistentHash);
  EXPECT_EQ(ParsePolicyKind("bogus").status().code(), absl::StatusCode::kInvalidArgument);
  for (PolicyKind k : {PolicyKind::kRandom, PolicyKind::kRoundRobin, PolicyKind::kPowerOfTwo,
                       PolicyKind::kCacheAware, PolicyKind::kConsistentHash, PolicyKind::kPrefixHash}) {
    EXPECT_EQ(ParsePolicyKind(PolicyKindName(k)).value(), k);
  }
}

}  // namespace
}  // namespace smg
