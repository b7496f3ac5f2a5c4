// Command demo routes a few requests through a prefill-decode router from
// several goroutines and prints each decision. A concurrency limiter (two
// requests at once) admits them first, its asynchronous callbacks reaching
// Go through a cgo.Handle.
//
//	CGO_CFLAGS="-I../../capi/include" \
//	CGO_LDFLAGS="-L../../build/release/capi -Wl,-rpath,$PWD/../../build/release/capi" \
//	go run ./cmd/demo
package main

import (
	"fmt"
	"log"
	"sync"

	"smgcore.example/smgcore"
)

var prompts = []string{
	"You are a helpful assistant. Summarize the attached report.",
	"You are a helpful assistant. Translate this paragraph into French.",
	"Write a haiku about load balancers.",
	"Explain prefill-decode disaggregation in one paragraph.",
}

func newRouter() (*smgcore.Router, error) {
	opts, err := smgcore.NewRouterOptions()
	if err != nil {
		return nil, err
	}
	defer opts.Close()
	if err := opts.SetPDMode(true); err != nil {
		return nil, err
	}
	// Prefill where the prompt's prefix is cached; decode in turn.
	for slot, kind := range map[smgcore.WorkerType]smgcore.PolicyKind{
		smgcore.Prefill: smgcore.CacheAware,
		smgcore.Decode:  smgcore.RoundRobin,
	} {
		cfg, err := smgcore.NewPolicyConfig(kind)
		if err != nil {
			return nil, err
		}
		err = opts.SetPolicy("", slot, cfg)
		cfg.Close()
		if err != nil {
			return nil, err
		}
	}
	r, err := smgcore.NewRouter(opts)
	if err != nil {
		return nil, err
	}
	workers := []smgcore.WorkerSpec{
		{URL: "http://prefill-0.svc:30000", Type: smgcore.Prefill, BootstrapPort: 8998},
		{URL: "http://prefill-1.svc:30000", Type: smgcore.Prefill, BootstrapPort: 8999},
		{URL: "http://decode-0.svc:30000", Type: smgcore.Decode},
		{URL: "http://decode-1.svc:30000", Type: smgcore.Decode},
	}
	for _, w := range workers {
		if _, err := r.AddWorker(w); err != nil {
			r.Close()
			return nil, err
		}
	}
	return r, nil
}

// admit waits for a limiter slot. The callback runs on whichever goroutine
// resolves the admission and must not block: it only sends on a buffered
// channel.
func admit(l *smgcore.Limiter) error {
	done := make(chan smgcore.Admission, 1)
	if _, err := l.AcquireAsync(func(a smgcore.Admission) { done <- a }); err != nil {
		return err
	}
	if a := <-done; a != smgcore.Admitted {
		return fmt.Errorf("not admitted: %v", a)
	}
	return nil
}

// route admits, selects and finishes one request.
func route(r *smgcore.Router, l *smgcore.Limiter, n, g int) (string, error) {
	if err := admit(l); err != nil {
		return "", err
	}
	defer l.Release()
	ticket, err := r.Select(smgcore.Request{Text: prompts[n%len(prompts)]})
	if err != nil {
		return "", err
	}
	defer ticket.Close() // cancels the request on an early return
	s := ticket.Selection
	line := fmt.Sprintf("request %d (goroutine %d): prefill %s -> decode %s  bootstrap %s:%d room %d",
		n, g, s.URL, s.DecodeURL, s.BootstrapHost, s.BootstrapPort, s.BootstrapRoom)
	return line, ticket.FinishPD(smgcore.Status(200), smgcore.Status(200))
}

func main() {
	log.SetFlags(0)
	if err := smgcore.CheckABI(); err != nil {
		log.Fatal(err)
	}
	r, err := newRouter()
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	limiter, err := smgcore.NewLimiter(smgcore.LimiterConfig{MaxInFlight: 2, MaxQueue: 16})
	if err != nil {
		log.Fatal(err)
	}
	defer limiter.Close()

	const goroutines, perGoroutine = 4, 2
	lines := make([]string, goroutines*perGoroutine)
	errs := make([]error, goroutines*perGoroutine)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perGoroutine; i++ {
				n := g*perGoroutine + i
				lines[n], errs[n] = route(r, limiter, n, g)
			}
		}(g)
	}
	wg.Wait()
	for n, line := range lines {
		if errs[n] != nil {
			log.Fatalf("request %d: %v", n, errs[n])
		}
		fmt.Println(line)
	}

	workers, err := r.Workers()
	if err != nil {
		log.Fatal(err)
	}
	var routed uint64
	var inFlight int64
	for _, w := range workers {
		if w.Type == smgcore.Prefill {
			routed += w.Successes
		}
		inFlight += w.InFlight
	}
	stats, err := limiter.Stats()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("go host: smgcore %s (ABI %d), %d workers, %d PD requests routed from %d goroutines, %d in flight; limiter admitted %d (%d after waiting)\n",
		smgcore.Version(), smgcore.LibraryABIVersion(), len(workers), routed, goroutines, inFlight,
		stats.Admitted, stats.AdmittedAfterWait)
}
