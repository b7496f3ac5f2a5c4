package smgcore

/*
#include <smgcore/smgcore_c.h>

// cgo forbids passing C a Go pointer to memory that itself holds Go pointers,
// so smg_worker_spec_t and smg_request_t, whose strings would point at Go
// memory, cannot be filled on the Go side. These helpers take the pieces as
// separate arguments (each a pointer to plain bytes, which is allowed) and
// build the structs on the C stack.

static smg_code_t smg_go_add_worker(smg_router_t* router, const char* url, size_t url_len,
                                    const char* model, size_t model_len, uint8_t type,
                                    uint16_t bootstrap_port, uint32_t weight, uint32_t* id_out,
                                    smg_error_t** err) {
  smg_worker_spec_t spec;
  smg_worker_spec_init(&spec);
  spec.url.data = url;
  spec.url.len = url_len;
  spec.model.data = model;
  spec.model.len = model_len;
  spec.type = type;
  spec.bootstrap_port = bootstrap_port;
  if (weight != 0) spec.weight = weight;
  return smg_router_add_worker(router, &spec, id_out, err);
}

static smg_code_t smg_go_select(smg_router_t* router, const char* model, size_t model_len,
                                const char* text, size_t text_len, const uint32_t* tokens,
                                size_t tokens_len, const char* routing_key, size_t routing_key_len,
                                const uint32_t* exclude, size_t exclude_len, const char* tenant,
                                size_t tenant_len, uint64_t estimated_tokens, smg_ticket_t* ticket,
                                smg_selection_t* selection_out, smg_error_t** err) {
  smg_request_t req;
  smg_request_init(&req);
  req.model.data = model;
  req.model.len = model_len;
  req.text.data = text;
  req.text.len = text_len;
  req.tokens = tokens;
  req.tokens_len = tokens_len;
  req.routing_key.data = routing_key;
  req.routing_key.len = routing_key_len;
  req.exclude_workers = exclude;
  req.exclude_workers_len = exclude_len;
  req.tenant.data = tenant;
  req.tenant.len = tenant_len;
  req.estimated_tokens = estimated_tokens;
  return smg_router_select(router, &req, ticket, selection_out, err);
}
*/
import "C"

import "unsafe"

// WorkerType is a worker's role, and a policy slot of RouterOptions.SetPolicy.
type WorkerType uint8

const (
	Regular WorkerType = C.SMG_WORKER_REGULAR
	Prefill WorkerType = C.SMG_WORKER_PREFILL
	Decode  WorkerType = C.SMG_WORKER_DECODE
)

func (t WorkerType) String() string { return enumName(C.SMG_ENUM_WORKER_TYPE, uint32(t)) }

// Health is a worker's health state; only ready workers are selected.
type Health uint8

const (
	HealthPending  Health = C.SMG_HEALTH_PENDING
	HealthReady    Health = C.SMG_HEALTH_READY
	HealthNotReady Health = C.SMG_HEALTH_NOT_READY
	HealthFailed   Health = C.SMG_HEALTH_FAILED
	HealthDraining Health = C.SMG_HEALTH_DRAINING
)

func (h Health) String() string { return enumName(C.SMG_ENUM_HEALTH, uint32(h)) }

// PolicyKind names a built-in load-balancing policy.
type PolicyKind uint8

const (
	Random         PolicyKind = C.SMG_POLICY_RANDOM
	RoundRobin     PolicyKind = C.SMG_POLICY_ROUND_ROBIN
	PowerOfTwo     PolicyKind = C.SMG_POLICY_POWER_OF_TWO
	CacheAware     PolicyKind = C.SMG_POLICY_CACHE_AWARE
	ConsistentHash PolicyKind = C.SMG_POLICY_CONSISTENT_HASH
	PrefixHash     PolicyKind = C.SMG_POLICY_PREFIX_HASH
)

func (k PolicyKind) String() string { return enumName(C.SMG_ENUM_POLICY, uint32(k)) }

// ParsePolicy returns the policy named e.g. "cache_aware".
func ParsePolicy(name string) (PolicyKind, error) {
	var kind C.uint8_t
	if err := takeError(C.smg_policy_parse(strData(name), C.size_t(len(name)), &kind), nil); err != nil {
		return 0, err
	}
	return PolicyKind(kind), nil
}

// enumName is the library's stable name of an enumeration value.
func enumName(which C.uint32_t, value uint32) string {
	if name := C.smg_enum_name(which, C.uint32_t(value)); name != nil {
		return C.GoString(name)
	}
	return "unknown"
}

// PolicyOption is a policy option key (SMG_POLICY_OPT_*); the header says
// which policy kinds each belongs to and which setter it takes.
type PolicyOption uint32

const (
	OptCacheThreshold          PolicyOption = C.SMG_POLICY_OPT_CACHE_THRESHOLD
	OptBalanceAbsThreshold     PolicyOption = C.SMG_POLICY_OPT_BALANCE_ABS_THRESHOLD
	OptBalanceRelThreshold     PolicyOption = C.SMG_POLICY_OPT_BALANCE_REL_THRESHOLD
	OptEvictionIntervalNs      PolicyOption = C.SMG_POLICY_OPT_EVICTION_INTERVAL_NS
	OptMaxTreeSize             PolicyOption = C.SMG_POLICY_OPT_MAX_TREE_SIZE
	OptTokenPageSize           PolicyOption = C.SMG_POLICY_OPT_TOKEN_PAGE_SIZE
	OptEvictInline             PolicyOption = C.SMG_POLICY_OPT_EVICT_INLINE
	OptImbalanceLocalityWindow PolicyOption = C.SMG_POLICY_OPT_IMBALANCE_LOCALITY_WINDOW
	OptLoadSampleSize          PolicyOption = C.SMG_POLICY_OPT_LOAD_SAMPLE_SIZE
	OptUseEngineLoad           PolicyOption = C.SMG_POLICY_OPT_USE_ENGINE_LOAD
	OptVirtualNodes            PolicyOption = C.SMG_POLICY_OPT_VIRTUAL_NODES
	OptLoadFactor              PolicyOption = C.SMG_POLICY_OPT_LOAD_FACTOR
	OptKeyHeader               PolicyOption = C.SMG_POLICY_OPT_KEY_HEADER
	OptUseImplicitKeys         PolicyOption = C.SMG_POLICY_OPT_USE_IMPLICIT_KEYS
	OptPrefixTokens            PolicyOption = C.SMG_POLICY_OPT_PREFIX_TOKENS
	OptPrefixBytes             PolicyOption = C.SMG_POLICY_OPT_PREFIX_BYTES
	OptEvictHeadroom           PolicyOption = C.SMG_POLICY_OPT_EVICT_HEADROOM
)

// PolicyConfig is a policy and its options. One goroutine at a time.
type PolicyConfig struct{ raw *C.smg_policy_config_t }

// NewPolicyConfig returns kind with its default options.
func NewPolicyConfig(kind PolicyKind) (*PolicyConfig, error) {
	var raw *C.smg_policy_config_t
	var cerr *C.smg_error_t
	code := C.smg_policy_config_create(C.uint8_t(kind), &raw, &cerr)
	if err := takeError(code, cerr); err != nil {
		return nil, err
	}
	return &PolicyConfig{raw}, nil
}

// SetInt sets an integer or boolean (0/1) option.
func (p *PolicyConfig) SetInt(key PolicyOption, value int64) error {
	var cerr *C.smg_error_t
	code := C.smg_policy_config_set_int(p.raw, C.uint32_t(key), C.int64_t(value), &cerr)
	return takeError(code, cerr)
}

// SetFloat sets a floating-point option.
func (p *PolicyConfig) SetFloat(key PolicyOption, value float64) error {
	var cerr *C.smg_error_t
	code := C.smg_policy_config_set_double(p.raw, C.uint32_t(key), C.double(value), &cerr)
	return takeError(code, cerr)
}

// SetString sets a string option.
func (p *PolicyConfig) SetString(key PolicyOption, value string) error {
	var cerr *C.smg_error_t
	code := C.smg_policy_config_set_string(p.raw, C.uint32_t(key), strData(value), C.size_t(len(value)), &cerr)
	return takeError(code, cerr)
}

// Close frees the configuration (routers built from it keep their copy).
func (p *PolicyConfig) Close() {
	C.smg_policy_config_destroy(p.raw)
	p.raw = nil
}

// RouterOptions are a router's options, defaults as in router.h. One
// goroutine at a time.
type RouterOptions struct{ raw *C.smg_router_options_t }

func NewRouterOptions() (*RouterOptions, error) {
	var raw *C.smg_router_options_t
	if err := takeError(C.smg_router_options_create(&raw), nil); err != nil {
		return nil, err
	}
	return &RouterOptions{raw}, nil
}

func (o *RouterOptions) setInt(key C.uint32_t, value int64) error {
	var cerr *C.smg_error_t
	code := C.smg_router_options_set_int(o.raw, key, C.int64_t(value), &cerr)
	return takeError(code, cerr)
}

// SetPDMode turns prefill-decode disaggregation on: each selection picks a
// prefill and a decode worker.
func (o *RouterOptions) SetPDMode(on bool) error {
	var v int64
	if on {
		v = 1
	}
	return o.setInt(C.SMG_ROUTER_OPT_PD_MODE, v)
}

// SetRandomSeed seeds the router's random source (random picks, bootstrap
// rooms, backoff jitter).
func (o *RouterOptions) SetRandomSeed(seed uint64) error {
	// The C side stores the int64's bit pattern as the uint64 seed.
	return o.setInt(C.SMG_ROUTER_OPT_RANDOM_SEED, int64(seed))
}

// SetDefaultModel sets the model of workers and requests that name none.
func (o *RouterOptions) SetDefaultModel(model string) error {
	var cerr *C.smg_error_t
	code := C.smg_router_options_set_string(o.raw, C.SMG_ROUTER_OPT_DEFAULT_MODEL, strData(model), C.size_t(len(model)), &cerr)
	return takeError(code, cerr)
}

// SetPolicy sets the policy of model's slot ("" = every model without its
// own); the configuration is copied.
func (o *RouterOptions) SetPolicy(model string, slot WorkerType, config *PolicyConfig) error {
	var cerr *C.smg_error_t
	code := C.smg_router_options_set_policy(o.raw, strData(model), C.size_t(len(model)), C.uint32_t(slot), config.raw, &cerr)
	return takeError(code, cerr)
}

// Close frees the options (routers built from them keep their copy).
func (o *RouterOptions) Close() {
	C.smg_router_options_destroy(o.raw)
	o.raw = nil
}

// WorkerSpec is a worker to register. It starts ready.
type WorkerSpec struct {
	// URL is the worker's base URL, e.g. "http://10.0.0.7:30000".
	URL string
	// Model is the model served; "" means the router's default model.
	Model string
	Type  WorkerType
	// BootstrapPort is a prefill worker's KV bootstrap port (0: none).
	BootstrapPort uint16
	// Weight is the relative capacity for weighted policies; 0 means 1.
	Weight uint32
}

// WorkerInfo is a snapshot of one worker.
type WorkerInfo struct {
	ID            uint32
	Type          WorkerType
	Health        Health
	URL           string
	Model         string
	BootstrapHost string
	BootstrapPort uint16
	Weight        uint32
	InFlight      int64
	Successes     uint64
	Failures      uint64
	Cancelled     uint64
}

// Request is what a policy may look at; every field is optional.
type Request struct {
	// Model is the model requested; "" means the router's default model.
	Model string
	// Text is the prompt, used when Tokens is empty.
	Text string
	// Tokens is the prompt as token ids, preferred by cache_aware.
	Tokens []uint32
	// RoutingKey is an affinity key for consistent_hash.
	RoutingKey string
	// ExcludeWorkers lists worker ids not to choose (e.g. already tried).
	ExcludeWorkers []uint32
	// Tenant is charged by tenant limits; "" means anonymous.
	Tenant string
	// EstimatedTokens is the tokens expected; 0 means estimated.
	EstimatedTokens uint64
}

// Selection says where to send a selected request. Its strings are copies,
// valid after the ticket is finished.
type Selection struct {
	// WorkerID and URL name the chosen worker; in PD mode the prefill one.
	WorkerID uint32
	URL      string
	// PD is true for a prefill-decode pair; the fields below are set then.
	PD             bool
	DecodeWorkerID uint32
	DecodeURL      string
	// BootstrapHost, BootstrapPort and BootstrapRoom are SGLang's KV
	// bootstrap parameters (port 0: the prefill worker declared none).
	BootstrapHost string
	BootstrapPort uint16
	BootstrapRoom uint64
}

// Outcome is how a request ended: an HTTP status (100 to 599), or
// TransportError or Cancelled.
type Outcome int32

const (
	TransportError Outcome = C.SMG_OUTCOME_TRANSPORT_ERROR
	Cancelled      Outcome = C.SMG_OUTCOME_CANCELLED
)

// Status is the outcome of an HTTP answer.
func Status(code int) Outcome { return Outcome(code) }

// Router is a worker registry with one policy per model and leg. Every
// method may be called from any number of goroutines at once, except Close,
// which must be the last call.
type Router struct{ raw *C.smg_router_t }

// NewRouter validates options (nil: defaults) and builds a router with no
// workers.
func NewRouter(options *RouterOptions) (*Router, error) {
	var opts *C.smg_router_options_t
	if options != nil {
		opts = options.raw
	}
	var raw *C.smg_router_t
	var cerr *C.smg_error_t
	code := C.smg_router_create(opts, &raw, &cerr)
	if err := takeError(code, cerr); err != nil {
		return nil, err
	}
	return &Router{raw}, nil
}

// Close destroys the router. Outstanding tickets stay valid.
func (r *Router) Close() {
	C.smg_router_destroy(r.raw)
	r.raw = nil
}

// AddWorker registers a worker and returns its id (1, 2, 3, ...).
func (r *Router) AddWorker(spec WorkerSpec) (uint32, error) {
	var id C.uint32_t
	var cerr *C.smg_error_t
	code := C.smg_go_add_worker(r.raw, strData(spec.URL), C.size_t(len(spec.URL)),
		strData(spec.Model), C.size_t(len(spec.Model)), C.uint8_t(spec.Type),
		C.uint16_t(spec.BootstrapPort), C.uint32_t(spec.Weight), &id, &cerr)
	if err := takeError(code, cerr); err != nil {
		return 0, err
	}
	return uint32(id), nil
}

// RemoveWorker unregisters a worker; its outstanding tickets stay valid.
func (r *Router) RemoveWorker(id uint32) error {
	var cerr *C.smg_error_t
	code := C.smg_router_remove_worker(r.raw, C.uint32_t(id), &cerr)
	return takeError(code, cerr)
}

// SetHealth forces a worker's health (an operator override).
func (r *Router) SetHealth(id uint32, health Health) error {
	var cerr *C.smg_error_t
	code := C.smg_router_set_health(r.raw, C.uint32_t(id), C.uint8_t(health), &cerr)
	return takeError(code, cerr)
}

// Worker returns a snapshot of one worker.
func (r *Router) Worker(id uint32) (WorkerInfo, error) {
	var list *C.smg_workers_t
	var cerr *C.smg_error_t
	code := C.smg_router_get_worker(r.raw, C.uint32_t(id), &list, &cerr)
	if err := takeError(code, cerr); err != nil {
		return WorkerInfo{}, err
	}
	return copyWorkers(list)[0], nil
}

// Workers returns snapshots of every worker, ordered by id.
func (r *Router) Workers() ([]WorkerInfo, error) {
	var list *C.smg_workers_t
	var cerr *C.smg_error_t
	code := C.smg_router_list_workers(r.raw, nil, 0, -1, &list, &cerr)
	if err := takeError(code, cerr); err != nil {
		return nil, err
	}
	return copyWorkers(list), nil
}

// copyWorkers copies a worker list into Go memory and frees it.
func copyWorkers(list *C.smg_workers_t) []WorkerInfo {
	defer C.smg_workers_destroy(list)
	out := make([]WorkerInfo, C.smg_workers_count(list))
	for i := range out {
		var info C.smg_worker_info_t
		C.smg_workers_get(list, C.size_t(i), &info)
		out[i] = WorkerInfo{
			ID:            uint32(info.id),
			Type:          WorkerType(info._type),
			Health:        Health(info.health),
			URL:           goString(info.url),
			Model:         goString(info.model),
			BootstrapHost: goString(info.bootstrap_host),
			BootstrapPort: uint16(info.bootstrap_port),
			Weight:        uint32(info.weight),
			InFlight:      int64(info.in_flight),
			Successes:     uint64(info.successes),
			Failures:      uint64(info.failures),
			Cancelled:     uint64(info.cancelled),
		}
	}
	return out
}

// u32Data points at a []uint32's elements (nil when empty); like strData,
// plain numbers, so cgo allows passing it.
func u32Data(s []uint32) *C.uint32_t {
	if len(s) == 0 {
		return nil
	}
	return (*C.uint32_t)(unsafe.Pointer(&s[0]))
}

// Select chooses the worker(s) for req. The ticket counts the request as in
// flight until it is finished: call Finish (or FinishPD) on every path, or
// defer Close, which cancels a ticket that was not finished.
func (r *Router) Select(req Request) (*Ticket, error) {
	t := new(Ticket)
	var sel C.smg_selection_t
	var cerr *C.smg_error_t
	// &t.raw is Go memory holding no Go pointers (the ticket is opaque
	// words), which cgo allows C to fill.
	code := C.smg_go_select(r.raw,
		strData(req.Model), C.size_t(len(req.Model)),
		strData(req.Text), C.size_t(len(req.Text)),
		u32Data(req.Tokens), C.size_t(len(req.Tokens)),
		strData(req.RoutingKey), C.size_t(len(req.RoutingKey)),
		u32Data(req.ExcludeWorkers), C.size_t(len(req.ExcludeWorkers)),
		strData(req.Tenant), C.size_t(len(req.Tenant)),
		C.uint64_t(req.EstimatedTokens), &t.raw, &sel, &cerr)
	if err := takeError(code, cerr); err != nil {
		return nil, err
	}
	t.Selection = Selection{
		WorkerID:       uint32(sel.worker_id),
		URL:            goString(sel.url),
		PD:             sel.is_pd != 0,
		DecodeWorkerID: uint32(sel.decode_worker_id),
		DecodeURL:      goString(sel.decode_url),
		BootstrapHost:  goString(sel.bootstrap_host),
		BootstrapPort:  uint16(sel.bootstrap_port),
		BootstrapRoom:  uint64(sel.bootstrap_room),
	}
	return t, nil
}

// Ticket is one selected request. One goroutine at a time; it may be handed
// to another goroutine, and it may outlive its router.
// Use it through the *Ticket that Select returns: a copy of the value would
// be a second copy of the C ticket, which the header forbids (go vet's
// copylocks check flags one).
type Ticket struct {
	_ noCopy
	// raw is the C ticket, stored inline in Go memory: it holds no Go
	// pointers, and the header allows the library's storage to live anywhere.
	raw C.smg_ticket_t
	// Selection says where to send the request.
	Selection Selection
}

// noCopy makes go vet report copies of the struct that holds it.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// Active reports whether the ticket still holds an unfinished request.
func (t *Ticket) Active() bool { return C.smg_ticket_is_active(&t.raw) != 0 }

// Finish ends the request with outcome on every worker of the ticket.
// Finishing twice is a FailedPrecondition error; a rejected outcome leaves
// the ticket active.
func (t *Ticket) Finish(outcome Outcome) error {
	var cerr *C.smg_error_t
	code := C.smg_ticket_finish(&t.raw, C.int32_t(outcome), &cerr)
	return takeError(code, cerr)
}

// FinishPD is Finish with separate outcomes for the prefill and decode legs.
func (t *Ticket) FinishPD(prefill, decode Outcome) error {
	var cerr *C.smg_error_t
	code := C.smg_ticket_finish_pd(&t.raw, C.int32_t(prefill), C.int32_t(decode), &cerr)
	return takeError(code, cerr)
}

// Close finishes the ticket as Cancelled if it is still active, and does
// nothing otherwise; `defer ticket.Close()` after Select covers every path.
func (t *Ticket) Close() {
	if t.Active() {
		C.smg_ticket_finish(&t.raw, C.SMG_OUTCOME_CANCELLED, nil)
	}
}
