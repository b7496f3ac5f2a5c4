package smgcore

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

var (
	prefillPorts = map[string]uint16{
		"http://prefill-0.svc:30000": 8998,
		"http://prefill-1.svc:30000": 8999,
	}
	decodeURLs = []string{"http://decode-0.svc:30000", "http://decode-1.svc:30000"}
)

// must fails the test on an error.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newPDRouter builds the demo's router: PD mode, cache_aware prefill,
// round_robin decode, two workers of each.
func newPDRouter(t *testing.T) *Router {
	t.Helper()
	opts, err := NewRouterOptions()
	must(t, err)
	defer opts.Close()
	must(t, opts.SetPDMode(true))
	must(t, opts.SetRandomSeed(7))
	for slot, kind := range map[WorkerType]PolicyKind{Prefill: CacheAware, Decode: RoundRobin} {
		cfg, err := NewPolicyConfig(kind)
		must(t, err)
		must(t, opts.SetPolicy("", slot, cfg))
		cfg.Close()
	}
	r, err := NewRouter(opts)
	must(t, err)
	t.Cleanup(r.Close)
	for _, url := range []string{"http://prefill-0.svc:30000", "http://prefill-1.svc:30000"} {
		_, err := r.AddWorker(WorkerSpec{URL: url, Type: Prefill, BootstrapPort: prefillPorts[url]})
		must(t, err)
	}
	for _, url := range decodeURLs {
		_, err := r.AddWorker(WorkerSpec{URL: url, Type: Decode})
		must(t, err)
	}
	return r
}

func TestABIAndNames(t *testing.T) {
	must(t, CheckABI())
	if got := strings.Count(Version(), "."); got != 2 {
		t.Errorf("Version() = %q", Version())
	}
	if CacheAware.String() != "cache_aware" || Prefill.String() != "prefill" || Admitted.String() != "admitted" {
		t.Errorf("names: %v %v %v", CacheAware, Prefill, Admitted)
	}
	kind, err := ParsePolicy("power_of_two")
	must(t, err)
	if kind != PowerOfTwo {
		t.Errorf("ParsePolicy = %v", kind)
	}
}

func TestPDSelectionPairsPrefillAndDecode(t *testing.T) {
	r := newPDRouter(t)
	ticket, err := r.Select(Request{Text: "Summarize the following document: ..."})
	must(t, err)
	defer ticket.Close()
	s := ticket.Selection
	port, ok := prefillPorts[s.URL]
	if !s.PD || !ok {
		t.Fatalf("selection %+v: want a PD pair with a prefill URL", s)
	}
	if s.DecodeURL != decodeURLs[0] && s.DecodeURL != decodeURLs[1] {
		t.Errorf("decode URL %q", s.DecodeURL)
	}
	if s.BootstrapPort != port || !strings.Contains(s.URL, s.BootstrapHost) || s.BootstrapRoom >= 1<<63 {
		t.Errorf("bootstrap %s:%d room %d for prefill %s", s.BootstrapHost, s.BootstrapPort, s.BootstrapRoom, s.URL)
	}
	prefill, err := r.Worker(s.WorkerID)
	must(t, err)
	if prefill.Type != Prefill || prefill.InFlight != 1 || prefill.BootstrapPort != port {
		t.Errorf("prefill worker %+v", prefill)
	}

	must(t, ticket.FinishPD(Status(200), TransportError))
	prefill, _ = r.Worker(s.WorkerID)
	decode, _ := r.Worker(s.DecodeWorkerID)
	if prefill.InFlight != 0 || prefill.Successes != 1 || decode.InFlight != 0 || decode.Failures != 1 {
		t.Errorf("after finish: prefill %+v decode %+v", prefill, decode)
	}
	// Finishing twice is refused; the selection's strings are Go copies.
	if err := ticket.Finish(Status(200)); !errors.Is(err, ErrFailedPrecondition) {
		t.Errorf("second finish: %v", err)
	}
	if s.URL != ticket.Selection.URL || s.URL == "" {
		t.Errorf("selection changed after finish")
	}
}

func TestSamePromptReturnsToTheSamePrefillWorker(t *testing.T) {
	r := newPDRouter(t)
	const prompt = "You are a helpful assistant. Here is a long shared system prompt about routing."
	first := -1
	for i := 0; i < 6; i++ {
		ticket, err := r.Select(Request{Text: prompt})
		must(t, err)
		if first < 0 {
			first = int(ticket.Selection.WorkerID)
		} else if int(ticket.Selection.WorkerID) != first {
			t.Errorf("request %d went to prefill %d, the first to %d", i, ticket.Selection.WorkerID, first)
		}
		must(t, ticket.Finish(Status(200)))
	}
}

func TestErrorsCarryCodeAndMessage(t *testing.T) {
	r := newPDRouter(t)

	_, err := r.Select(Request{Model: "no-such-model", Text: "hi"})
	var e *Error
	if !errors.As(err, &e) || e.Code != NotFound || e.Message == "" || !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown model: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "smgcore: SMG_ERR_NOT_FOUND: ") {
		t.Errorf("Error() = %q", err.Error())
	}
	if _, err := r.AddWorker(WorkerSpec{URL: decodeURLs[0], Type: Decode}); !errors.Is(err, ErrAlreadyExists) {
		t.Errorf("duplicate URL: %v", err)
	}
	if _, err := r.AddWorker(WorkerSpec{URL: "not a url"}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("bad URL: %v", err)
	}
	if _, err := r.AddWorker(WorkerSpec{URL: "http://d.svc:1", Type: Decode, BootstrapPort: 1}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("bootstrap port on a decode worker: %v", err)
	}
	if err := r.RemoveWorker(999); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown worker: %v", err)
	}
	if _, err := r.Select(Request{Text: "hi"}); err != nil {
		t.Errorf("the router still routes after the errors: %v", err)
	}

	// Option ranges are checked when the router is built.
	opts, _ := NewRouterOptions()
	defer opts.Close()
	cfg, _ := NewPolicyConfig(CacheAware)
	defer cfg.Close()
	must(t, cfg.SetFloat(OptCacheThreshold, 7.5))
	must(t, opts.SetPolicy("", Regular, cfg))
	if _, err := NewRouter(opts); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "cache_threshold") {
		t.Errorf("threshold out of range: %v", err)
	}
	// A closed router is an invalid handle, not a crash.
	closed, err := NewRouter(nil)
	must(t, err)
	closed.Close()
	if _, err := closed.Workers(); !errors.Is(err, ErrInvalidHandle) {
		t.Errorf("closed router: %v", err)
	}
}

func TestUnavailableWhenNoWorkerIsReady(t *testing.T) {
	r, err := NewRouter(nil)
	must(t, err)
	defer r.Close()
	id, err := r.AddWorker(WorkerSpec{URL: "http://10.0.0.1:30000"})
	must(t, err)
	must(t, r.SetHealth(id, HealthNotReady))
	if _, err := r.Select(Request{Text: "hi"}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("no ready worker: %v", err)
	}
}

func TestTicketCloseCancelsAnActiveTicket(t *testing.T) {
	r, err := NewRouter(nil)
	must(t, err)
	defer r.Close()
	id, err := r.AddWorker(WorkerSpec{URL: "http://10.0.0.1:30000"})
	must(t, err)

	ticket, err := r.Select(Request{Text: "hi"})
	must(t, err)
	if w, _ := r.Worker(id); w.InFlight != 1 {
		t.Fatalf("in flight %d", w.InFlight)
	}
	ticket.Close()
	ticket.Close() // a no-op the second time
	if w, _ := r.Worker(id); w.InFlight != 0 || w.Cancelled != 1 {
		t.Errorf("after Close: %+v", w)
	}
	// A rejected outcome leaves the ticket active, and Close then cancels it.
	ticket, err = r.Select(Request{Text: "hi"})
	must(t, err)
	if err := ticket.Finish(Status(42)); !errors.Is(err, ErrInvalidArgument) || !ticket.Active() {
		t.Errorf("status 42: %v, active %v", err, ticket.Active())
	}
	ticket.Close()
	// Tickets outlive their router.
	ticket, err = r.Select(Request{Text: "hi", Tokens: []uint32{1, 2, 3}})
	must(t, err)
	r.Close()
	must(t, ticket.Finish(Status(200)))
}

func TestManyGoroutinesRouteThroughOneRouter(t *testing.T) {
	const goroutines, perGoroutine = 8, 50
	r := newPDRouter(t)
	tickets := make(chan *Ticket, goroutines*perGoroutine)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perGoroutine; i++ {
				ticket, err := r.Select(Request{Text: fmt.Sprintf("goroutine %d request %d", g, i)})
				if err != nil {
					t.Error(err)
					return
				}
				tickets <- ticket
			}
		}(g)
	}
	wg.Wait()
	close(tickets)
	// Tickets finish on another goroutine than the one that selected them.
	for ticket := range tickets {
		must(t, ticket.Finish(Status(200)))
	}
	workers, err := r.Workers()
	must(t, err)
	done := map[WorkerType]uint64{}
	for _, w := range workers {
		if w.InFlight != 0 {
			t.Errorf("worker %s still has %d in flight", w.URL, w.InFlight)
		}
		done[w.Type] += w.Successes
	}
	if done[Prefill] != goroutines*perGoroutine || done[Decode] != goroutines*perGoroutine {
		t.Errorf("successes by type: %v", done)
	}
}

func TestLimiterCallbackThroughCgoHandle(t *testing.T) {
	l, err := NewLimiter(LimiterConfig{MaxInFlight: 1, MaxQueue: 1})
	must(t, err)
	defer l.Close()

	// Occupy the only slot.
	ok, err := l.TryAcquire()
	must(t, err)
	if !ok {
		t.Fatal("the first TryAcquire must succeed")
	}

	// Queued: the callback waits for a Release.
	results := make(chan Admission, 4)
	deliver := func(a Admission) { results <- a }
	waiter, err := l.AcquireAsync(deliver)
	must(t, err)
	if waiter == 0 || len(results) != 0 {
		t.Fatalf("waiter %d, %d results: want a queued request", waiter, len(results))
	}
	// The queue (one place) is full: rejected inline, before AcquireAsync returns.
	w2, err := l.AcquireAsync(deliver)
	must(t, err)
	if w2 != 0 || len(results) != 1 || <-results != RejectedQueueFull {
		t.Fatalf("second waiter %d: want an inline rejection", w2)
	}

	// Release hands the slot to the waiter: its Go callback gets Admitted.
	must(t, l.Release())
	if got := <-results; got != Admitted {
		t.Fatalf("callback got %v, want admitted", got)
	}
	if s, _ := l.Stats(); s.InFlight != 1 || s.AdmittedAfterWait != 1 || s.Rejected != 1 {
		t.Errorf("stats %+v", s)
	}

	// Cancel and Close resolve queued requests as cancelled.
	waiter, err = l.AcquireAsync(deliver)
	must(t, err)
	cancelled, err := l.Cancel(waiter)
	must(t, err)
	if !cancelled || <-results != AdmissionCancelled {
		t.Errorf("Cancel: %v", cancelled)
	}
	_, err = l.AcquireAsync(deliver)
	must(t, err)
	l.Close()
	if got := <-results; got != AdmissionCancelled {
		t.Errorf("Close resolved the waiter as %v", got)
	}

	// Every callback ran once and deleted its handle.
	if n := pendingCallbacks.Load(); n != 0 {
		t.Errorf("%d callbacks still pending", n)
	}
}
