// Router: registry, routing, health, maintenance and metrics
// (smgcore/router.h).
//
// The GIL is released around calls that can take time or wait for the
// registry lock: registry writes (each rebuilds a model's snapshot, removal
// also purges trees), maintenance, eviction, metrics export, and selections
// on long prompts (request.h). Short selections keep it: they cost less than
// a GIL hand-off.
#include "router.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "admission.h"
#include "callbacks.h"
#include "convert.h"
#include "decision.h"
#include "errors.h"
#include "module.h"
#include "options.h"
#include "request.h"
#include "smgcore/token_bucket.h"

namespace py = pybind11;

namespace smg::python {
namespace {

// Wraps a Python transition callback for RouterOptions. It receives the
// Worker (looked up again by id: the core passes a reference, and Python
// needs shared ownership) and the states' names. Transitions of a worker no
// longer registered, or after the router is gone, are not reported.
template <typename Transition, typename NameFn>
std::function<void(const Worker&, Transition)> TransitionCallback(
    py::object fn, std::weak_ptr<PyRouter> router, NameFn name, const char* where) {
  if (fn.is_none()) return nullptr;
  if (!PyCallable_Check(fn.ptr())) {
    throw py::type_error(absl::StrCat(where, " must be callable"));
  }
  auto callable = std::make_shared<PyObjectRef>(std::move(fn));
  return [callable, router, name, where](const Worker& w, Transition t) {
    py::gil_scoped_acquire gil;
    const std::shared_ptr<PyRouter> self = router.lock();
    if (self == nullptr) return;
    absl::StatusOr<WorkerPtr> worker = self->router().GetWorker(w.id());
    if (!worker.ok() || worker->get() != &w) return;
    CallPythonNoThrow(where, [&] {
      callable->get()(*worker, Name(name(t.from)), Name(name(t.to)));
    });
  };
}

WorkerSpec MakeSpec(const Text& url, const std::optional<Text>& model, const Text& type,
                    const std::optional<py::int_>& bootstrap_port,
                    const std::optional<LabelsArg>& labels, const py::int_& weight,
                    const Text& health, const std::optional<CircuitBreakerOptions>& breaker,
                    const std::optional<FailureClassifier>& classifier) {
  WorkerSpec spec;
  spec.url = url.str();
  if (model) spec.model = model->str();
  spec.type = ParseWorkerType(type.view);
  if (bootstrap_port) {
    spec.bootstrap_port = CheckedInt<uint16_t>(*bootstrap_port, "bootstrap_port", 1, 65535);
  }
  if (labels) spec.labels = ToLabels(labels->obj, "labels");
  spec.weight = CheckedInt<uint32_t>(weight, "weight", 1);
  spec.health = ParseHealth(health.view);
  spec.circuit_breaker = breaker;
  spec.failure_classifier = classifier;
  return spec;
}

// Defines add_worker / replace_worker: `f` maps (router, spec) to an id.
template <typename Class, typename F>
void DefWorkerSpecMethod(Class& cls, const char* name, F f, const char* doc) {
  cls.def(
      name,
      [f](PyRouter& self, const Text& url, const std::optional<Text>& model, const Text& type,
          const std::optional<py::int_>& bootstrap_port, const std::optional<LabelsArg>& labels,
          const py::int_& weight, const Text& health,
          const std::optional<CircuitBreakerOptions>& circuit_breaker,
          const std::optional<FailureClassifier>& failure_classifier) {
        const WorkerSpec spec = MakeSpec(url, model, type, bootstrap_port, labels, weight, health,
                                         circuit_breaker, failure_classifier);
        absl::StatusOr<WorkerPtr> worker;
        {
          py::gil_scoped_release nogil;
          absl::StatusOr<WorkerId> id = f(self.router(), spec);
          worker = id.ok() ? self.router().GetWorker(*id) : absl::StatusOr<WorkerPtr>(id.status());
        }
        return ValueOrThrow(std::move(worker));
      },
      py::arg("url"), py::kw_only(), py::arg("model") = py::none(),
      py::arg("type") = "regular", py::arg("bootstrap_port") = py::none(),
      py::arg("labels") = py::none(), py::arg("weight") = 1, py::arg("health") = "ready",
      py::arg("circuit_breaker") = py::none(), py::arg("failure_classifier") = py::none(), doc);
}

py::dict ModelStatsDict(const ModelStats& s) {
  py::dict workers, available, policy;
  for (int i = 0; i < kWorkerTypeCount; ++i) {
    const py::str type = Name(WorkerTypeName(static_cast<WorkerType>(i)));
    workers[type] = s.workers[i];
    available[type] = s.available[i];
    const PolicyStats& p = s.policy[i];
    py::dict stats;
    stats["tree_units"] = p.tree_units;
    stats["tree_bytes"] = p.tree_bytes;
    stats["evicted_units"] = p.evicted_units;
    stats["imbalanced_selections"] = p.imbalanced_selections;
    stats["cache_hits"] = p.cache_hits;
    stats["cache_misses"] = p.cache_misses;
    stats["bounded_load_skips"] = p.bounded_load_skips;
    policy[type] = stats;
  }
  py::dict d;
  d["model"] = s.model;
  d["workers"] = workers;
  d["available"] = available;
  d["policy"] = policy;
  return d;
}

// Runs `f` on the router without the GIL and raises its status.
template <typename F>
void RunWithoutGil(F&& f) {
  absl::Status status;
  {
    py::gil_scoped_release nogil;
    status = std::forward<F>(f)();
  }
  ThrowIfError(status);
}

// Router.select().
py::object RouterSelect(PyRouter& self, py::handle, const py::handle* args) {
  const PreparedRequest prepared(ToSelectArgs(args));
  absl::StatusOr<Ticket> ticket;
  if (prepared.ReleasesGil()) {
    py::gil_scoped_release nogil;
    ticket = self.router().Select(prepared.request());
  } else {
    ticket = self.router().Select(prepared.request());
  }
  if (!ticket.ok()) throw StatusError(ticket.status());
  return py::cast(PyDecision(*std::move(ticket), self.clock()));
}

}  // namespace

std::shared_ptr<PyRouter> PyRouter::Create(RouterOptions options,
                                           std::shared_ptr<ManualClock> clock,
                                           std::optional<uint64_t> seed,
                                           py::object on_breaker_transition,
                                           py::object on_health_transition) {
  std::shared_ptr<PyRouter> self(new PyRouter());
  self->clock_ = clock;
  if (seed) self->random_ = std::make_unique<SeededRandom>(*seed);
  const std::weak_ptr<PyRouter> weak = self;
  options.on_breaker_transition = TransitionCallback<BreakerTransition>(
      std::move(on_breaker_transition), weak, &BreakerStateName, "on_breaker_transition");
  options.on_health_transition = TransitionCallback<HealthTransition>(
      std::move(on_health_transition), weak, &WorkerHealthName, "on_health_transition");
  self->router_ = ValueOrThrow(
      Router::Create(std::move(options), RouterDeps{.clock = clock.get(), .random = self->random_.get()}));
  return self;
}

WorkerId PyRouter::Resolve(py::handle ref) const {
  if (py::isinstance<Worker>(ref)) {
    const Worker& w = ref.cast<const Worker&>();
    absl::StatusOr<WorkerPtr> registered = router_->GetWorker(w.id());
    if (!registered.ok() || registered->get() != &w) {
      throw StatusError(absl::NotFoundError(
          absl::StrCat("worker ", w.id(), " (", w.url(), ") is not registered with this router")));
    }
    return w.id();
  }
  if (PyLong_Check(ref.ptr()) && !PyBool_Check(ref.ptr())) {
    return CheckedInt<uint32_t>(py::reinterpret_borrow<py::int_>(ref), "worker id");
  }
  if (PyUnicode_Check(ref.ptr())) {
    return ValueOrThrow(router_->FindWorkerByUrl(Utf8View(ref, "worker URL")))->id();
  }
  throw py::type_error(absl::StrCat("a worker is named by its id (int), URL (str) or Worker, not ",
                                    Py_TYPE(ref.ptr())->tp_name));
}

AdmissionMetrics& PyRouter::admission_metrics() {
  if (!admission_metrics_) admission_metrics_.emplace(router_->metrics());
  return *admission_metrics_;
}

void RegisterRouter(py::module_& m) {
  py::class_<PyRouter, std::shared_ptr<PyRouter>> cls(
      m, "Router",
      "The worker registry and the policies that route requests to workers. Every method "
      "is thread-safe. Options default to the C++ defaults (README: Policies, Resilience).");
  cls.def(py::init([](const PolicyArg& policy, bool pd_mode,
                      const std::optional<PolicyArg>& prefill_policy,
                      const std::optional<PolicyArg>& decode_policy,
                      const std::optional<py::dict>& model_policies, const Text& default_model,
                      const std::optional<CircuitBreakerOptions>& circuit_breaker,
                      const std::optional<FailureClassifier>& failure_classifier,
                      const std::optional<HealthOptions>& health,
                      const std::optional<RetryOptions>& retry,
                      const std::optional<TenantLimiterOptions>& tenant_limits,
                      std::shared_ptr<ManualClock> clock, const std::optional<py::int_>& seed,
                      py::object on_breaker_transition, py::object on_health_transition) {
            RouterOptions o;
            o.policies.policy = ToPolicyConfig(policy.obj, "policy");
            if (prefill_policy) o.policies.prefill = ToPolicyConfig(prefill_policy->obj, "prefill_policy");
            if (decode_policy) o.policies.decode = ToPolicyConfig(decode_policy->obj, "decode_policy");
            o.pd_mode = pd_mode;
            if (model_policies) {
              for (auto [model, set] : *model_policies) {
                if (!PyUnicode_Check(model.ptr())) {
                  throw py::type_error("model_policies keys must be model names (str)");
                }
                const std::string name(Utf8View(model, "model_policies key"));
                o.model_policies[name] = ToPolicySet(set, absl::StrCat("model_policies['", name, "']"));
              }
            }
            o.default_model = default_model.str();
            if (circuit_breaker) o.circuit_breaker = *circuit_breaker;
            if (failure_classifier) o.failure_classifier = *failure_classifier;
            if (health) o.health = *health;
            if (retry) o.retry = *retry;
            o.tenant_limits = tenant_limits;
            std::optional<uint64_t> seed_value;
            if (seed) seed_value = CheckedInt<uint64_t>(*seed, "seed");
            return PyRouter::Create(std::move(o), std::move(clock), seed_value,
                                    std::move(on_breaker_transition),
                                    std::move(on_health_transition));
          }),
          py::arg("policy") = "round_robin", py::kw_only(), py::arg("pd_mode") = false,
          py::arg("prefill_policy") = py::none(), py::arg("decode_policy") = py::none(),
          py::arg("model_policies") = py::none(), py::arg("default_model") = "default",
          py::arg("circuit_breaker") = py::none(), py::arg("failure_classifier") = py::none(),
          py::arg("health") = py::none(), py::arg("retry") = py::none(),
          py::arg("tenant_limits") = py::none(), py::arg("clock") = py::none(),
          py::arg("seed") = py::none(), py::arg("on_breaker_transition") = py::none(),
          py::arg("on_health_transition") = py::none(),
          "`policy` routes every model without an entry in `model_policies` (a policy name, "
          "Policy or PolicySet per model). In PD mode (`pd_mode=True`) select() pairs a "
          "prefill and a decode worker chosen by `prefill_policy` and `decode_policy` "
          "(default: `policy`). `clock` (a ManualClock) and `seed` make time and randomness "
          "deterministic. The transition callbacks are called as callback(worker, old, new) "
          "on the thread that caused the change; their exceptions go to sys.unraisablehook.");

  // --- Registry ---------------------------------------------------------
  DefWorkerSpecMethod(
      cls, "add_worker",
      [](Router& r, const WorkerSpec& spec) { return r.AddWorker(spec); },
      "Registers a worker and returns it. `type`: \"regular\", \"prefill\" (may declare "
      "`bootstrap_port`) or \"decode\"; `health`: \"ready\", \"pending\" or \"not_ready\"; "
      "`model` None means the router's default model. AlreadyExists for a registered URL, "
      "InvalidArgument for a malformed one.");
  DefWorkerSpecMethod(
      cls, "replace_worker",
      [](Router& r, const WorkerSpec& spec) { return r.ReplaceWorker(spec); },
      "Atomically replaces the worker registered under `url` (if any) with this one, with a "
      "new id, so that no selection sees the URL missing. Returns the new worker.");
  cls.def(
      "remove_worker",
      [](PyRouter& self, const WorkerRef& worker) {
        if (PyUnicode_Check(worker.obj.ptr())) {
          const std::string url(Utf8View(worker.obj, "worker URL"));
          return RunWithoutGil([&] { return self.router().RemoveWorkerByUrl(url); });
        }
        const WorkerId id = self.Resolve(worker.obj);
        RunWithoutGil([&] { return self.router().RemoveWorker(id); });
      },
      py::arg("worker"),
      "Unregisters a worker (by id, URL or Worker) and purges it from its policies. "
      "NotFound if unknown. Outstanding decisions stay valid and finish harmlessly.");
  cls.def(
      "get_worker",
      [](PyRouter& self, const WorkerRef& worker) {
        return ValueOrThrow(self.router().GetWorker(self.Resolve(worker.obj)));
      },
      py::arg("worker"), "The registered worker with this id or URL; NotFound otherwise.");
  cls.def(
      "list_workers",
      [](PyRouter& self, const std::optional<Text>& model, const std::optional<Text>& type) {
        std::optional<WorkerType> t;
        if (type) t = ParseWorkerType(type->view);
        std::optional<absl::string_view> mv;
        if (model) mv = model->view;
        return self.router().ListWorkers(mv, t);
      },
      py::kw_only(), py::arg("model") = py::none(), py::arg("type") = py::none(),
      "Registered workers ordered by id, optionally only those of `model` and `type`.");
  cls.def(
      "list_models", [](PyRouter& self) { return self.router().ListModels(); },
      "Models with at least one worker, sorted.");
  cls.def_property_readonly(
      "worker_count", [](PyRouter& self) { return self.router().worker_count(); });
  cls.def_property_readonly(
      "pd_mode", [](PyRouter& self) { return self.router().options().pd_mode; });
  cls.def_property_readonly(
      "default_model", [](PyRouter& self) { return self.router().options().default_model; });

  // --- Worker state -----------------------------------------------------
  cls.def(
      "report_probe",
      [](PyRouter& self, const WorkerRef& worker, bool passed) {
        const WorkerId id = self.Resolve(worker.obj);
        absl::StatusOr<WorkerHealth> health;
        {
          py::gil_scoped_release nogil;
          health = self.router().ReportProbe(id, passed);
        }
        return Name(WorkerHealthName(ValueOrThrow(std::move(health))));
      },
      py::arg("worker"), py::arg("passed"),
      "Feeds one health probe result into the worker's health state machine; returns its "
      "health afterwards.");
  cls.def(
      "set_health",
      [](PyRouter& self, const WorkerRef& worker, const Text& health) {
        const WorkerId id = self.Resolve(worker.obj);
        const WorkerHealth h = ParseHealth(health.view);
        RunWithoutGil([&] { return self.router().SetHealth(id, h); });
      },
      py::arg("worker"), py::arg("health"),
      "Forces a health state (an operator's override); only \"ready\" workers are selected.");
  cls.def(
      "drain_worker",
      [](PyRouter& self, const WorkerRef& worker) {
        const WorkerId id = self.Resolve(worker.obj);
        RunWithoutGil([&] { return self.router().DrainWorker(id); });
      },
      py::arg("worker"),
      "No new requests for the worker; outstanding decisions finish normally. Remove it "
      "once its in_flight reaches 0.");
  cls.def(
      "reset_circuit_breaker",
      [](PyRouter& self, const WorkerRef& worker) {
        const WorkerId id = self.Resolve(worker.obj);
        RunWithoutGil([&] { return self.router().ResetCircuitBreaker(id); });
      },
      py::arg("worker"), "Forces the worker's breaker closed and forgets its history.");
  cls.def(
      "set_labels",
      [](PyRouter& self, const WorkerRef& worker, const LabelsArg& labels) {
        const WorkerId id = self.Resolve(worker.obj);
        Labels l = ToLabels(labels.obj, "labels");
        RunWithoutGil([&] { return self.router().SetLabels(id, std::move(l)); });
      },
      py::arg("worker"), py::arg("labels"), "Replaces the worker's labels.");
  cls.def(
      "set_weight",
      [](PyRouter& self, const WorkerRef& worker, const py::int_& weight) {
        const WorkerId id = self.Resolve(worker.obj);
        const auto w = CheckedInt<uint32_t>(weight, "weight", 1);
        RunWithoutGil([&] { return self.router().SetWeight(id, w); });
      },
      py::arg("worker"), py::arg("weight"), "Sets the weight (>= 1) used by round_robin.");
  cls.def(
      "set_engine_load",
      [](PyRouter& self, const WorkerRef& worker, std::optional<double> load) {
        ThrowIfError(self.router().SetEngineLoad(self.Resolve(worker.obj), load));
      },
      py::arg("worker"), py::arg("load"),
      "Records the load the engine reported (power_of_two compares it); None forgets it. "
      "InvalidArgument for a negative or NaN load.");

  // --- Routing ----------------------------------------------------------
  DefFast<PyRouter, &RouterSelect, &SelectSignature>(
      cls,
      "Chooses the worker(s) for a request and returns a Decision that counts it in flight "
      "until finished. `text`: the prompt (str, or bytes in any encoding); `tokens`: token "
      "ids (a sequence of ints, or a uint32 buffer such as array('I'), borrowed without "
      "copying); `model` None means the default model; `routing_key` and `headers` feed "
      "consistent_hash; `tenant` and `estimated_tokens` feed tenant limits; "
      "`exclude_workers` (ids or Workers) are not chosen unless nothing else is left. "
      "NotFound: no worker for the model; Unavailable: none available (the message says "
      "why); ResourceExhausted: tenant limit (see retry_after). The GIL is released for "
      "long prompts.");

  // --- Maintenance and introspection ------------------------------------
  cls.def(
      "run_maintenance",
      [](PyRouter& self) {
        py::gil_scoped_release nogil;
        self.router().RunMaintenance();
      },
      "Periodic housekeeping (tree eviction at each policy's eviction_interval, breakers "
      "due to turn half-open). Call it every few seconds.");
  cls.def(
      "evict_now",
      [](PyRouter& self) {
        py::gil_scoped_release nogil;
        return self.router().EvictNow();
      },
      "Evicts every prefix tree that is over its budget now, down to the budget less the "
      "policy's evict_headroom; returns the units evicted.");
  cls.def(
      "model_stats",
      [](PyRouter& self, const Text& model) {
        return ModelStatsDict(ValueOrThrow(self.router().GetModelStats(model.view)));
      },
      py::arg("model"),
      "Workers and available workers per type, and each leg's policy counters, as a dict. "
      "NotFound for a model without workers.");
  cls.def(
      "export_metrics",
      [](PyRouter& self) {
        std::string text;
        {
          py::gil_scoped_release nogil;
          text = self.router().ExportMetrics();
        }
        return text;
      },
      "Every metric in Prometheus text format 0.0.4 (serve with Content-Type "
      "`text/plain; version=0.0.4`), including tracked limiters and buckets.");
  cls.def(
      "track_admission",
      [](PyRouter& self, const Text& name, const py::object& target) {
        if (py::isinstance<PyConcurrencyLimiter>(target)) {
          self.admission_metrics().Track(name.view,
                                         target.cast<const PyConcurrencyLimiter&>().limiter);
        } else if (py::isinstance<TokenBucket>(target)) {
          self.admission_metrics().Track(name.view, target.cast<std::shared_ptr<TokenBucket>>());
        } else {
          throw py::type_error("track_admission() takes a ConcurrencyLimiter or a TokenBucket");
        }
      },
      py::arg("name"), py::arg("limiter"),
      "Adds a ConcurrencyLimiter (label limiter=name) or TokenBucket (bucket=name) to "
      "export_metrics(). Tracked weakly: a destroyed one stops being exported.");
  cls.def("__repr__", [](PyRouter& self) {
    const Router& r = self.router();
    return absl::StrCat("Router(pd_mode=", r.options().pd_mode ? "True" : "False",
                        ", workers=", r.worker_count(), ", models=[",
                        absl::StrJoin(r.ListModels(), ", "), "])");
  });
}

}  // namespace smg::python
